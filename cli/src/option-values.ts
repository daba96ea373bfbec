// cli/src/option-values.ts: parsers for numeric option values (commander passes strings). Each throws commander's
// InvalidArgumentError, which commander reports as "option '--x <n>' argument 'v' is invalid. <why>" (exit 2).
// positiveInt lives in common.ts with the other shared helpers. Whole numbers stop at Number.MAX_SAFE_INTEGER
// (2^53 - 1), above which a double no longer holds every integer; sizes that cost memory or time have their own,
// lower, documented limits (positiveIntUpTo).
import { InvalidArgumentError } from "commander";

/** 0, 1, 2, ... */
export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError("expected a whole number, 0 or more.");
  return n;
}

/** 1 .. `max`: a parser for an option whose size costs memory or time; the message names the limit. */
export function positiveIntUpTo(max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a positive integer.");
    if (n > max) throw new InvalidArgumentError(`expected a positive integer up to ${max.toLocaleString("en-US")}.`);
    return n;
  };
}

/**
 * Most timed runs (demo --runs, bench --quick --runs): 1000 runs of the slowest backend take about a minute; every
 * run's time is kept for the median, so a billion would also need gigabytes.
 */
export const MAX_TIMED_RUNS = 1000;

/** Largest seed: the generator (mulberry32) takes 32 bits, so a larger one would silently repeat a smaller one's weights. */
export const MAX_SEED = 2 ** 32 - 1;

/** 0 .. MAX_SEED. */
export function seedValue(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isInteger(n) || n < 0 || n > MAX_SEED) throw new InvalidArgumentError(`expected a whole number from 0 to ${MAX_SEED}.`);
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
