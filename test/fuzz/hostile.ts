// test/fuzz/hostile.ts: what the fuzz tests share: hostile values for options and sizes, the rule every call must
// follow (return, or throw an RnnError with a known code; never another error), and the run's size and time.
import fc from "fast-check";
import { expect } from "vitest";
import { RnnError, type RnnErrorCode } from "../../src/index.js";

/** FUZZ_SCALE=20 npx vitest run test/fuzz runs 20x as many cases, with 20x the time (a long local run). */
export const SCALE = Math.max(1, Number(process.env.FUZZ_SCALE ?? 1));

/** fast-check parameters: `runs` cases at most, and at most `seconds` of them (scaled). */
export function budget(runs: number, seconds: number): fc.Parameters<unknown> {
  return { numRuns: Math.round(runs * SCALE), interruptAfterTimeLimit: seconds * 1000 * SCALE, seed: Number(process.env.FUZZ_SEED ?? 20261204) };
}

/** Numbers that have broken size arithmetic somewhere: 32-bit edges, beyond-safe integers, non-integers, non-finite. */
export const HOSTILE_NUMBERS = [0, -1, -0, 1.5, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 32 + 4, 2 ** 53, 2 ** 53 + 2, 1e308, NaN, Infinity, -Infinity];
/** Values of the wrong type. */
export const WRONG_TYPES: unknown[] = ["3", "", null, {}, [], [3], true, () => 1, Symbol("s"), 3n];
/** Small valid sizes, so that a call that is accepted stays cheap. */
export const SMALL_SIZES = [1, 2, 3, 5, 8];

/** A size option: mostly small valid sizes, often hostile numbers, sometimes the wrong type. */
export const sizeArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...SMALL_SIZES) },
  { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_NUMBERS) },
  { weight: 1, arbitrary: fc.constantFrom(...WRONG_TYPES) },
);

/** An enum or flag option: a valid value, a near miss, or the wrong type. */
export function choiceArb<T>(valid: readonly T[], nearMisses: unknown[]): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...valid) },
    { weight: 1, arbitrary: fc.constantFrom(...nearMisses, ...WRONG_TYPES.slice(0, 4)) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

const CODES: RnnErrorCode[] = ["shape", "dtype", "nonfinite", "missing", "unexpected", "format", "disposed", "state", "memory", "init"];

/** Runs `call`; it may return or throw an RnnError with a known code, nothing else. Returns what it returned, or null. */
export function survives<T>(call: () => T): T | null {
  try {
    return call();
  } catch (e) {
    if (!(e instanceof RnnError)) throw new Error(`not an RnnError: ${(e as Error)?.stack ?? String(e)}`);
    expect(CODES).toContain(e.code);
    return null;
  }
}

/** Counts what a fuzz property saw, for the line it prints: cases that were accepted and ran, and cases refused. */
export class Tally {
  ran = 0;
  refused = 0;

  record<T>(result: T | null): T | null {
    if (result === null) this.refused++;
    else this.ran++;
    return result;
  }

  line(what: string, details: fc.RunDetails<unknown>): string {
    return `fuzz ${what}: ${details.numRuns} cases (${this.ran} accepted and ran, ${this.refused} refused with an RnnError)` +
      `${details.interrupted ? ", stopped by its time limit" : ""}, seed ${details.seed}`;
  }
}

/** Asserts a fast-check run found nothing and prints its size. */
export function report(what: string, tally: Tally, details: fc.RunDetails<unknown>): void {
  console.log(tally.line(what, details));
  if (details.failed) throw new Error(fc.defaultReportMessage(details) ?? `fuzz ${what} failed`);
  expect(details.numRuns).toBeGreaterThan(0);
}
