// src/options.ts: checks for the option objects and enum values every public entry point takes, so a misspelt
// value is an RnnError naming the option and what it may be, never a silent default (a nanPolicy of 'eror' must
// not turn NaN checks off) nor a TypeError from deep inside.
import { RnnError } from "./errors.js";
import type { NanPolicy } from "./tensor.js";

/** `options` itself: undefined and null mean none; anything but a plain object is an error naming `what`. */
export function optionsObject<T extends object>(what: string, options: T | null | undefined): Partial<T> {
  if (options === undefined || options === null) return {};
  if (typeof options !== "object" || Array.isArray(options)) {
    throw new RnnError("unexpected", `${what} must be an object of options, got ${describeValue(options)}`);
  }
  return options;
}

/** One of `allowed`, or `fallback` when undefined. */
export function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) {
    throw new RnnError("unexpected", `${name} must be ${allowed.map((a) => `'${a}'`).join(" or ")}, got ${describeValue(value)}`);
  }
  return value as T;
}

/** A boolean option, or `fallback` when undefined. */
export function flag(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw new RnnError("unexpected", `${name} must be true or false, got ${describeValue(value)}`);
  return value;
}

/** NaN policies: 'error' refuses NaN and Infinity, 'propagate' computes on. */
export const NAN_POLICIES: readonly NanPolicy[] = ["error", "propagate"];

export function nanPolicyOption(value: unknown): NanPolicy {
  return oneOf("nanPolicy", value, NAN_POLICIES, "error");
}

/** A seed: any finite number (it is reduced to 32 bits), or undefined for a random one. */
export function seedOption(value: unknown): number | undefined {
  if (value !== undefined && (typeof value !== "number" || !Number.isFinite(value))) {
    throw new RnnError("unexpected", `seed must be a finite number, got ${describeValue(value)}`);
  }
  return value;
}

/** A short description of a value for messages: `'eror'`, `12`, `an Array`, `null`. */
export function describeValue(v: unknown): string {
  if (typeof v === "string") return `'${v.length > 40 ? v.slice(0, 40) + "..." : v}'`;
  if (v === null || typeof v !== "object") return typeof v === "function" ? "a function" : String(v);
  const name = (v as object).constructor?.name;
  return name ? `a${/^[AEIOU]/.test(name) ? "n" : ""} ${name}` : "an object";
}

/** Refuses keys of `o` outside `allowed` (a misspelt option must not be silently ignored). */
export function knownKeys(what: string, o: object, allowed: readonly string[]): void {
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key)) {
      throw new RnnError("unexpected", `unknown option '${key}' of ${what}; expected ${allowed.join(", ")}`);
    }
  }
}

/** The `{ train? }` options of a module's forward, checked: its `train` flag (false when absent). */
export function trainOption(what: string, options: unknown): boolean {
  const o = optionsObject(`${what} options`, options as object | null | undefined) as { train?: unknown };
  knownKeys(what, o, ["train"]);
  return flag("train", o.train, false);
}
