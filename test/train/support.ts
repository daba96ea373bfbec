// test/train/support.ts: what the training tests share: runtimes per build, seeded data, the float32 unit
// roundoff that every tolerance here is stated in, comparisons that report the worst element, error checks.
// (Kept apart from test/api/helpers.ts so these tests do not move when the API tests change.)
import v8 from "node:v8";
import { expect } from "vitest";
import { createRuntime, type Build, type ParamBuffer, type Runtime, type Tensor } from "../../src/index.js";
import { mulberry32 } from "../../src/random.js";

/** The three wasm builds every numeric property runs on. */
export const TEST_BUILDS: readonly Build[] = ["simd", "scalar", "relaxed"];

/** Unit roundoff of float32 (round to nearest): one rounding changes a value by at most U times its size. */
export const U = 2 ** -24;

/**
 * A fresh runtime of one build (its own memory, so the counters see only one test's blocks). Node 20 compiles
 * relaxed SIMD only behind a V8 flag, which must be set before the module is compiled.
 */
export async function runtimeFor(build: Build): Promise<Runtime> {
  if (build === "relaxed") v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
  return createRuntime(undefined, { build });
}

/** A seeded generator of uniform [0, 1) values (src/random.ts's mulberry32; each seed is its own stream). */
export const rng: (seed: number) => () => number = mulberry32;

/** n float32 values uniform in [-scale, scale). */
export function randomF32(n: number, next: () => number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (2 * next() - 1) * scale;
  return out;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function randomTensor(shape: number[], next: () => number, scale = 1): Tensor {
  return { shape: [...shape], data: randomF32(numel(shape), next, scale) };
}

export function copyTensor(t: Tensor): Tensor {
  return { shape: [...t.shape], data: t.data.slice() };
}

/** Same value: NaN equals NaN, and +0 differs from -0 (what a bitwise comparison of results would say). */
export function sameValue(a: number, b: number): boolean {
  return Object.is(a, b);
}

/** Every element the same value (NaN = NaN); reports the first difference. */
export function expectSame(what: string, got: ArrayLike<number>, want: ArrayLike<number>): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  for (let i = 0; i < got.length; i++) {
    if (!sameValue(got[i], want[i])) {
      expect.fail(`${what}: first difference at ${i}: ${got[i]} vs ${want[i]}`);
    }
  }
}

/**
 * |got[i] - want[i]| <= tol(i) for every i, where tol is a per-element bound (or one number); reports the
 * element whose error is the largest fraction of its bound. NaN anywhere fails unless both are NaN.
 */
export function expectWithin(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: number | ((i: number) => number)): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  let worst = 0, at = -1, worstErr = 0, worstTol = 0;
  for (let i = 0; i < got.length; i++) {
    if (Number.isNaN(got[i]) && Number.isNaN(want[i])) continue;
    const t = typeof tol === "number" ? tol : tol(i);
    const e = Math.abs(got[i] - want[i]);
    const r = e === 0 ? 0 : e / t; // 0 / 0 when the bound is 0 and the values agree exactly
    if (!(r <= worst)) {
      worst = r; at = i; worstErr = e; worstTol = t;
    }
  }
  if (!(worst <= 1)) {
    expect.fail(`${what}: |error| ${worstErr} exceeds its bound ${worstTol} at ${at} (${got[at]} vs ${want[at]})`);
  }
}

/** The API tests' check that a call throws an RnnError with a code and message parts. */
export { expectRnnError } from "../api/helpers.js";

/** Flattens a record of tensors (toTorch() or grads()) in key order. */
export function flatValues(r: Record<string, Tensor>): number[] {
  return Object.keys(r).sort().flatMap((k) => Array.from(r[k].data));
}

/**
 * Which floats of each of a wasm model's parameter buffers are real parameters (1) and which are padding (0),
 * without knowing the layout: `ones` must build a twin of the model with every parameter set to 1, and since
 * padding is zero by construction, the twin's nonzero floats are exactly the real ones.
 */
export function realLanes(ones: () => { parameterBuffers(): ParamBuffer[]; dispose(): void }): Uint8Array[] {
  const twin = ones();
  try {
    return twin.parameterBuffers().map((b) => Uint8Array.from(b.params(), (v) => (v === 0 ? 0 : 1)));
  } finally {
    twin.dispose();
  }
}

/** The tensors of a state dict with every value replaced by 1. */
export function onesLike(r: Record<string, Tensor>): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(r).map(([k, t]) => [k, { shape: [...t.shape], data: new Float32Array(t.data.length).fill(1) }]));
}

/** The padding floats of a buffer's parameters or gradients, given realLanes' mask. */
export function paddingOf(b: ParamBuffer, mask: Uint8Array, which: "params" | "grads"): number[] {
  const data = which === "params" ? b.params() : b.grads();
  expect(data.length, "mask and buffer sizes").toBe(mask.length);
  return Array.from(data).filter((_, i) => mask[i] === 0);
}
