// test/helpers/compare.ts: how the tests compare results. Every comparison names what it compared and, when it
// fails, the element that broke, its two values and the bound it broke; the toleranced ones return the largest
// error seen so a file can print its record (ErrorLog). Tolerances are stated by each test beside its reasoning;
// relToMax and relToEach spell the two shapes they take.
import { expect } from "vitest";
import type { Tensor } from "../../src/index.js";

export { maxAbsDiff } from "../../src/compare.js";

/** Unit roundoff of float32 (round to nearest): one rounding changes a value by at most U times its size. */
export const U = 2 ** -24;

/** max |a[i]| over [from, to). */
export function maxAbs(a: ArrayLike<number>, from = 0, to = a.length): number {
  let m = 0;
  for (let i = from; i < to; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** A bound for every element, or one per element. */
export type Tol = number | ((i: number) => number);

/** `rel` of the largest |want| (at least `floor`): for errors that scale with the biggest value of a tensor. */
export function relToMax(rel: number, want: ArrayLike<number>, floor = 1): number {
  return rel * Math.max(floor, maxAbs(want));
}

/** `rel` of each |want[i]| (at least 1): absolute for values within ±1, relative beyond. */
export function relToEach(rel: number, want: ArrayLike<number>): (i: number) => number {
  return (i) => rel * Math.max(1, Math.abs(want[i]));
}

/** The largest error (and error / tolerance) seen per key, printed at the end of a file for the record. */
export class ErrorLog {
  private readonly worst = new Map<string, { err: number; ratio: number; checks: number }>();

  note(key: string, err: number, tol: number): void {
    const w = this.worst.get(key) ?? { err: 0, ratio: 0, checks: 0 };
    w.err = Math.max(w.err, err);
    w.ratio = Math.max(w.ratio, tol > 0 ? err / tol : err > 0 ? Infinity : 0);
    w.checks++;
    this.worst.set(key, w);
  }

  print(title: string): void {
    const lines = [...this.worst].sort(([a], [b]) => a.localeCompare(b))
      .map(([k, w]) => `  ${k.padEnd(40)} max |err| ${w.err.toExponential(2)}  max err/tol ${w.ratio.toPrecision(3)}  (${w.checks} checks)`);
    console.log(`${title}\n${lines.join("\n")}`);
  }
}

/**
 * Throws unless |got[i] - want[i]| <= tol(i) for every i (NaN in got or want fails). The message names the first
 * element that fails, where(i) saying where it sits, and how many fail. Returns the max |diff|.
 */
export function expectClose(
  what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: Tol,
  where: (i: number) => string = (i) => `[${i}]`, log?: { log: ErrorLog; key: string },
): number {
  if (got.length !== want.length) throw new Error(`${what}: ${got.length} values, expected ${want.length}`);
  let max = 0, maxTol = 0, bad = 0, first = -1;
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    const t = typeof tol === "number" ? tol : tol(i);
    if (!(d <= t)) {
      bad++;
      if (first < 0) first = i;
    }
    if (d > max || d !== d) {
      max = d !== d ? Infinity : d;
      maxTol = t;
    }
  }
  if (log) log.log.note(log.key, max, maxTol);
  if (bad) {
    const t = typeof tol === "number" ? tol : tol(first);
    const d = Math.abs(got[first] - want[first]);
    throw new Error(`${what} ${where(first)}: got ${got[first]}, want ${want[first]}, |diff| ${d.toExponential(3)} ` +
      `> tol ${t.toExponential(3)} (${bad} of ${got.length} values fail, max |diff| ${max.toExponential(3)})`);
  }
  return max;
}

/** expectClose within `rel` of the largest |want| (at least 1), relToMax's bound; returns the max |diff|. */
export function expectCloseToMax(what: string, got: ArrayLike<number>, want: ArrayLike<number>, rel: number): number {
  return expectClose(what, got, want, relToMax(rel, want));
}

/**
 * Both present, the same shape, and every value within `tol`: a number, or the bound made from want's data
 * (`(w) => relToEach(1e-5, w)`). expectClose on the data; returns the max |diff|.
 */
export function expectTensorClose(what: string, got: Tensor | undefined, want: Tensor | undefined,
  tol: number | ((want: Float32Array) => Tol), log?: { log: ErrorLog; key: string }): number {
  expect(got, `${what}: missing`).toBeDefined();
  expect(want, `${what}: missing from the oracle`).toBeDefined();
  expect([...got!.shape], `${what}: shape`).toEqual([...want!.shape]);
  return expectClose(what, got!.data, want!.data, typeof tol === "number" ? tol : tol(want!.data), undefined, log);
}

/** The first index where two arrays differ in bits (NaN payloads included), or -1. */
export function firstBitDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return i;
  return -1;
}

/** Throws unless got and want hold the same bits (NaN payloads included) everywhere. */
export function expectSameBits(what: string, got: Float32Array, want: Float32Array,
  where: (i: number) => string = (i) => `[${i}]`): void {
  if (got.length !== want.length) throw new Error(`${what}: ${got.length} values, expected ${want.length}`);
  const a = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const b = new Uint32Array(want.buffer, want.byteOffset, want.length);
  let bad = 0, first = -1;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      bad++;
      if (first < 0) first = i;
    }
  }
  if (bad) {
    throw new Error(`${what} ${where(first)}: ${got[first]} (0x${a[first].toString(16)}) is not bitwise ` +
      `${want[first]} (0x${b[first].toString(16)}) (${bad} of ${a.length} values differ)`);
  }
}

/** Both present, the same shape, and bitwise the same data. */
export function expectBitwise(what: string, got: Tensor | undefined, want: Tensor | undefined): void {
  expect(got, `${what}: missing`).toBeDefined();
  expect(want, `${what}: missing from the oracle`).toBeDefined();
  expect([...got!.shape], `${what}: shape`).toEqual([...want!.shape]);
  expectSameBits(what, got!.data, want!.data);
}

/** Every element the same value (Object.is: NaN equals NaN, +0 differs from -0), for plain number arrays too. */
export function expectSame(what: string, got: ArrayLike<number>, want: ArrayLike<number>): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  for (let i = 0; i < got.length; i++) {
    if (!Object.is(got[i], want[i])) expect.fail(`${what}: first difference at ${i}: ${got[i]} vs ${want[i]}`);
  }
}
