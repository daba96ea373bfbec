// test/kernels/activations.test.ts: assembly/math.ts's sigmoidForward and tanhForward against Math in float64.
//
// Inputs: special values (±0, ±Inf, NaN, tiny and subnormal, the exp clamps near ±88, the tanh branch point
// 0.625, ±1e30, ±FLT_MAX), a dense sweep of [-20, 20], and every 4099th float32 bit pattern (about a million
// values over the whole range). The error of an output is |f64(kernel f32) - f(x)| with f in float64 at the
// same f32 x, so it includes the final rounding to f32. Bounds checked:
//   - max abs error <= 1e-6 (the issue's bound) and <= EPS_ACT (what the kernel tests' tolerances assume;
//     scripts/measure-activations.ts measures it over all 2^32 inputs);
//   - NaN in gives NaN out; sigmoid stays in [0, 1] and tanh in [-1, 1]; tanh(x) is exactly ±1 for |x| >= 10
//     and sigmoid(x) exactly 1 for x >= 20;
//   - one algorithm written twice: v128 lanes, the scalar tail of a SIMD build and the scalar build give the
//     same bits for every input (math.ts says so; the kernel tests rely on it no more than on EPS_ACT).
import { beforeAll, describe, expect, it } from "vitest";
import { BUILDS, EPS_ACT, loadRuntimes, withWasm, type Runtimes } from "./harness.js";

const ISSUE_BOUND = 1e-6;

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const tanh = Math.tanh;

function bits(x: number): number {
  const u = new Uint32Array(1);
  new Float32Array(u.buffer)[0] = x;
  return u[0];
}

function fromBits(b: number): number {
  return new Float32Array(new Uint32Array([b]).buffer)[0];
}

const FLT_MAX = fromBits(0x7f7fffff);
const MIN_SUBNORMAL = fromBits(0x00000001);
const MAX_SUBNORMAL = fromBits(0x007fffff);
const MIN_NORMAL = fromBits(0x00800000);
const nextUp = (x: number) => fromBits(bits(x) + (x >= 0 ? 1 : -1));
const nextDown = (x: number) => fromBits(bits(x) - (x > 0 ? 1 : -1));

const SPECIAL = Float32Array.from([
  0, -0, Infinity, -Infinity, NaN, fromBits(0x7fc00001), fromBits(0xffc00000),
  1e-30, -1e-30, 1e-38, -1e-38, MIN_SUBNORMAL, -MIN_SUBNORMAL, MAX_SUBNORMAL, -MAX_SUBNORMAL, MIN_NORMAL, -MIN_NORMAL,
  88, -88, 89, -89, 87.3365478515625, -87.3365478515625, 88.3762588500976563, -88.3762588500976563, 44, -44, 43.6, -43.6,
  1e30, -1e30, FLT_MAX, -FLT_MAX, 0.625, -0.625, nextUp(0.625), nextDown(0.625), -nextUp(0.625), -nextDown(0.625),
  0.5, -0.5, 1, -1, 2, -2, 9, -9, 10, -10, 17, -17, 20, -20, 1e-7, -1e-7, 3e-4, -3e-4,
]);

/** [-20, 20] in steps of 2^-13: 327 681 values. */
function denseSweep(): Float32Array {
  const n = 40 * 8192 + 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = -20 + i / 8192;
  return out;
}

/** Every 4099th float32 bit pattern from 0 to 2^32 - 1 (NaN patterns included; they are checked apart). */
function strided(step = 4099): Float32Array {
  const n = Math.ceil(2 ** 32 / step);
  const u = new Uint32Array(n);
  for (let i = 0; i < n; i++) u[i] = i * step;
  return new Float32Array(u.buffer);
}

interface Outputs {
  sigmoid: Float32Array;
  tanh: Float32Array;
}

/** Both activations on one build, in one call over the whole array (SIMD lanes, then a scalar tail). */
function evaluate(rts: Runtimes, build: (typeof BUILDS)[number], x: Float32Array): Outputs {
  return withWasm(rts[build], (w) => {
    const xp = w.put(x, "x"), out = w.alloc(x.length, NaN, "out");
    w.k.sigmoidForward(out, xp, x.length);
    w.checkGuards("sigmoidForward");
    const s = w.read(out, x.length);
    w.k.tanhForward(out, xp, x.length);
    w.checkGuards("tanhForward");
    return { sigmoid: s, tanh: w.read(out, x.length) };
  });
}

/** Each value alone (n = 1): the scalar tail path of a SIMD build. */
function evaluateOneByOne(rts: Runtimes, build: (typeof BUILDS)[number], x: Float32Array): Outputs {
  return withWasm(rts[build], (w) => {
    const xp = w.put(x, "x"), out = w.alloc(2 * x.length, NaN, "out");
    for (let i = 0; i < x.length; i++) {
      w.k.sigmoidForward(out + 4 * i, xp + 4 * i, 1);
      w.k.tanhForward(out + 4 * (x.length + i), xp + 4 * i, 1);
    }
    w.checkGuards("sigmoidForward / tanhForward, n = 1");
    const all = w.read(out, 2 * x.length);
    return { sigmoid: all.slice(0, x.length), tanh: all.slice(x.length) };
  });
}

interface Worst {
  err: number;
  x: number;
}

/** Checks every output of one function; returns the max abs error over non-NaN inputs and where it is. */
function check(fn: "sigmoid" | "tanh", build: string, x: Float32Array, y: Float32Array): Worst {
  const ref = fn === "sigmoid" ? sigmoid : tanh;
  const worst: Worst = { err: 0, x: NaN };
  const fail = (i: number, why: string) => {
    throw new Error(`${build} ${fn}(${x[i]}) [bits 0x${bits(x[i]).toString(16)}] = ${y[i]}: ${why}`);
  };
  for (let i = 0; i < x.length; i++) {
    const v = x[i], out = y[i];
    if (v !== v) {
      if (out === out) fail(i, "NaN in, not NaN out");
      continue;
    }
    const err = Math.abs(out - ref(v));
    if (!(err <= worst.err)) {
      worst.err = err !== err ? Infinity : err;
      worst.x = v;
    }
    if (!(err <= ISSUE_BOUND)) fail(i, `error ${err} > ${ISSUE_BOUND} (the issue's bound); reference ${ref(v)}`);
    if (!(err <= EPS_ACT)) fail(i, `error ${err} > EPS_ACT = ${EPS_ACT} (the kernel tests' assumption); reference ${ref(v)}`);
    if (fn === "sigmoid") {
      if (!(out >= 0 && out <= 1)) fail(i, "outside [0, 1]");
      if (v >= 20 && out !== 1) fail(i, "not exactly 1 for x >= 20");
    } else {
      if (!(out >= -1 && out <= 1)) fail(i, "outside [-1, 1]");
      if (Math.abs(v) >= 10 && out !== Math.sign(v)) fail(i, "not exactly ±1 for |x| >= 10");
    }
  }
  return worst;
}

function sameBits(what: string, got: Float32Array, want: Float32Array, x: Float32Array): void {
  const a = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const b = new Uint32Array(want.buffer, want.byteOffset, want.length);
  for (let i = 0; i < a.length; i++) {
    if (x[i] !== x[i]) continue; // NaN payloads may differ
    if (a[i] !== b[i]) {
      throw new Error(`${what}: at x = ${x[i]} (0x${bits(x[i]).toString(16)}) ${got[i]} (0x${a[i].toString(16)}) vs ${want[i]} (0x${b[i].toString(16)})`);
    }
  }
}

describe("sigmoidForward / tanhForward (wasm) vs Math in float64, all builds", () => {
  let rts: Runtimes;
  beforeAll(async () => {
    rts = await loadRuntimes();
  });

  const sets: [string, () => Float32Array][] = [
    ["special values", () => SPECIAL],
    ["a dense sweep of [-20, 20] (step 2^-13)", denseSweep],
    ["every 4099th float32 bit pattern", () => strided()],
  ];

  for (const [what, make] of sets) {
    it(`${what}: max abs error <= ${ISSUE_BOUND} and <= EPS_ACT, NaN -> NaN, ranges and saturation`, () => {
      const x = make();
      const lines: string[] = [];
      for (const build of BUILDS) {
        const y = evaluate(rts, build, x);
        const s = check("sigmoid", build, x, y.sigmoid);
        const t = check("tanh", build, x, y.tanh);
        lines.push(`  ${build.padEnd(7)} sigmoid max abs err ${s.err.toExponential(3)} at x = ${s.x}; tanh ${t.err.toExponential(3)} at x = ${t.x}`);
      }
      console.log(`activations on ${what} (${x.length} values):\n${lines.join("\n")}`);
    });
  }

  it("the same bits from v128 lanes, the scalar tail and the scalar build, for every tested input", () => {
    for (const [what, make] of sets) {
      const x = make();
      const simd = evaluate(rts, "simd", x);
      for (const build of BUILDS) {
        if (build === "simd") continue;
        const y = evaluate(rts, build, x);
        sameBits(`${what}: sigmoid, ${build} vs simd`, y.sigmoid, simd.sigmoid, x);
        sameBits(`${what}: tanh, ${build} vs simd`, y.tanh, simd.tanh, x);
      }
      // the scalar tail of the SIMD builds, value by value (a sample of the big sets keeps this fast)
      const sample = x.length > 20000 ? x.filter((_, i) => i % 97 === 0) : x;
      const lanes = evaluate(rts, "simd", sample);
      for (const build of ["simd", "relaxed"] as const) {
        const tail = evaluateOneByOne(rts, build, sample);
        sameBits(`${what}: sigmoid, ${build} scalar tail vs v128 lanes`, tail.sigmoid, lanes.sigmoid, sample);
        sameBits(`${what}: tanh, ${build} scalar tail vs v128 lanes`, tail.tanh, lanes.tanh, sample);
      }
    }
  });

  it("leaves no block allocated", () => {
    for (const build of BUILDS) expect(rts[build].blocksInUse).toBe(0);
  });
});
