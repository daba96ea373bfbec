// src/cli/option-values.ts: parsers for numeric option values (commander passes strings). Each throws commander's
// InvalidArgumentError, which commander reports as "option '--x <n>' argument 'v' is invalid. <why>" (exit 2).
// positiveInt lives in common.ts with the other shared helpers.
import { InvalidArgumentError } from "commander";

/** 0, 1, 2, ... */
export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected a whole number, 0 or more.");
  return n;
}

/** A finite number above 0 (learning rates, norms). */
export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("expected a number above 0.");
  return n;
}

/** A fraction in [0, 0.5]: a validation part larger than the training part would leave too little to learn from. */
export function validationFraction(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0 || n > 0.5) throw new InvalidArgumentError("expected a fraction from 0 to 0.5 (e.g. 0.1 for the last 10%).");
  return n;
}
