// test/kernels/rnn.test.ts: assembly/rnn.ts's rnnForward and rnnBackward against src/reference/rnn.ts, on every
// build.
//
// Same scheme as lstm.test.ts (read its header): random dims (H up to 37), reverse, biases on/off, tanh and relu,
// variable lengths or not, several weight and input scales. Per step, in the kernel's order: (1) one reference
// step from the kernel's own h_{t-1} with a worst-case rounding bound, (2) for PyTorch-scale weights, the float64
// run of the whole sequence. The RNN keeps no gates: hs is its only intermediate, and every slot is compared.
// Padding lanes of hs stay 0 and the initial slot is untouched. Backward: rnnBackward on the kernel's own hs
// against the reference's on the same hs, per step dxz_t and the total dL/dh_t, then dL/dh_0; the kernel gets
// W_hhᵀ (Hp, H) as the copy the build's own packTransposed makes (as the engine).
import { afterAll, beforeAll, describe, it } from "vitest";
import fc from "fast-check";
import { rnnBackward as refRnnBackward, rnnForward as refRnn } from "../../src/reference/rnn.js";
import { gemm as refGemm } from "../../src/reference/gemm.js";
import {
  BUILDS, EPS_ACT, ErrorLog, expectClose, expectSameBits, expectZeroPadding, f64, gamma, loadRuntimes, magnitudes,
  maxAbs, packed, padBlocks, randomLengths, rng, rowLane, roundUp4, stepLengths, uniform, unpadBlocks, withWasm,
  type Runtimes,
} from "./harness.js";

// Whole-sequence tolerance, |kernel - reference| <= TOL_SEQ * max(1, max |reference| in that slot). As in
// lstm.test.ts: sums of K = H + 2 <= 39 terms in f32, tanh error <= EPS_ACT (relu is exact), slopes <= 1;
// the scale term matters for relu, whose h is unbounded (xScale 16 gives |h| ~ 20), and rounding errors are
// relative to the size of the terms. Measured max ~1e-6 relative (printed after the run): a 20x margin.
const TOL_SEQ = 2e-5;

// Backward tolerance, relative to max(1, max |reference| in that step's block), both passes on the kernel's
// own hs: the reasoning of lstm.test.ts's TOL_BWD (linear in the gradients, so errors stay relative; the
// longest sum is W_hhᵀ dz over H <= 37 terms). Measured max printed after the run.
const TOL_BWD = 2e-5;

type Weights = "init" | "init2" | "unit" | "big";
const weightScale = (w: Weights, fanIn: number) =>
  w === "init" ? 1 / Math.sqrt(fanIn) : w === "init2" ? 2 / Math.sqrt(fanIn) : w === "unit" ? 1 : 3;

interface RnnCase {
  H: number;
  I: number;
  B: number;
  T: number;
  relu: boolean;
  reverse: boolean;
  bias: boolean;
  weights: Weights;
  xScale: number;
  lengths: boolean; // a length in 0..T per row (the kernels' variable-length batches), or all T
  seed: number;
}

const rnnCase: fc.Arbitrary<RnnCase> = fc.record({
  H: fc.integer({ min: 1, max: 37 }),
  I: fc.integer({ min: 1, max: 23 }),
  B: fc.integer({ min: 1, max: 6 }),
  T: fc.integer({ min: 1, max: 9 }),
  relu: fc.boolean(),
  reverse: fc.boolean(),
  bias: fc.boolean(),
  weights: fc.constantFrom<Weights>("init", "init2", "unit", "big"),
  xScale: fc.constantFrom(1, 4, 16),
  lengths: fc.boolean(),
  seed: fc.integer(),
});

interface RnnData {
  xz: Float32Array;         // (T,B,H) = x W_ihᵀ + b_ih in f32
  Wh: Float32Array;         // (H,H) weight_hh
  bh: Float32Array | null;  // (H)
  h0: Float32Array;         // (B,H)
  dhs: Float32Array;        // (T,B,H) dL/dh_t from above, for the backward pass
  dhT: Float32Array;        // (B,H) dL/dh of the final state
  lengths: Int32Array | null; // (B) or null
}

function makeData(c: RnnCase): RnnData {
  const next = rng(c.seed);
  const { H, I, B, T } = c;
  const x = uniform(T * B * I, c.xScale, next);
  const Wih = uniform(H * I, 1 / Math.sqrt(I), next);
  const bih = c.bias ? uniform(H, 1, next) : null;
  const xz = new Float32Array(T * B * H);
  refGemm(xz, H, x, I, Wih, I, bih, T * B, I, H, false);
  return {
    xz,
    Wh: uniform(H * H, weightScale(c.weights, H), next),
    bh: c.bias ? uniform(H, 1, next) : null,
    h0: uniform(B * H, 1, next),
    dhs: uniform(T * B * H, 1, next),
    dhT: uniform(B * H, 1, next),
    lengths: c.lengths ? randomLengths(B, T, next) : null,
  };
}

interface KernelRun {
  hs: Float32Array;       // (T+1,B,Hp)
  dxz: Float32Array;      // rnnBackward on hs: (T,B,Hp)
  dhsTotal: Float32Array; // (T,B,Hp) the total dL/dh_t
  dh0: Float32Array;      // (B,Hp)
}

function runKernel(rts: Runtimes, build: (typeof BUILDS)[number], c: RnnCase, d: RnnData): KernelRun {
  const { H, B, T } = c;
  const Hp = roundUp4(H);
  const first = c.reverse ? T : 0;
  return withWasm(rts[build], (w) => {
    const xz = w.put(padBlocks(d.xz, T * B, 1, H), "xz");
    const Wh = w.put(packed(d.Wh, 1, H, H), "Wh");
    const bh = d.bh ? w.put(padBlocks(d.bh, 1, 1, H), "bh") : 0;
    const lengths = d.lengths ? w.putI32(d.lengths, "lengths") : 0;
    const hs = w.alloc((T + 1) * B * Hp, NaN, "hs");
    w.write(hs, first * B * Hp, padBlocks(d.h0, B, 1, H));
    w.k.rnnForward(hs, xz, Wh, bh, T, B, H, c.relu ? 1 : 0, c.reverse ? 1 : 0, lengths);
    w.checkGuards("rnnForward");
    const dxz = w.alloc(T * B * Hp, NaN, "dxz");
    const dhs = w.put(padBlocks(d.dhs, T * B, 1, H), "dhs");
    const dh = w.put(padBlocks(d.dhT, B, 1, H), "dh");
    const WhT = w.transposed(Wh, H * 8, H, Hp, "WhT"); // W_hhᵀ (Hp, H), as src/wasm-engine.ts transposeWeights
    w.k.rnnBackward(dxz, dhs, dh, hs, WhT, T, B, H, c.relu ? 1 : 0, c.reverse ? 1 : 0, lengths);
    w.checkGuards("rnnBackward");
    return {
      hs: w.read(hs, (T + 1) * B * Hp),
      dxz: w.read(dxz, T * B * Hp), dhsTotal: w.read(dhs, T * B * Hp), dh0: w.read(dh, B * Hp),
    };
  });
}

function checkRnn(rts: Runtimes, c: RnnCase, log: ErrorLog): void {
  const { H, B, T, reverse } = c;
  const d = makeData(c);
  const Hp = roundUp4(H);
  const first = reverse ? T : 0;
  const xz = f64(d.xz), Wh = f64(d.Wh), bh = d.bh && f64(d.bh);
  const name = `rnn ${JSON.stringify(c)} (${[c.relu ? "relu" : "tanh", reverse ? "reverse" : "forward", c.bias ? "bias" : "no bias"].join(", ")})`;

  const hsR = new Float64Array((T + 1) * B * H);
  hsR.set(d.h0, first * B * H);
  refRnn(hsR, xz, Wh, bh, T, B, H, c.relu, reverse, d.lengths);
  const wholeSequence = c.weights === "init" || c.weights === "init2";

  for (const build of BUILDS) {
    const k = runKernel(rts, build, c, d);
    const hs = k.hs;
    const hsSlot = (s: number) => unpadBlocks(hs.subarray(s * B * Hp, (s + 1) * B * Hp), B, 1, H);
    for (let step = 0; step < T; step++) {
      const t = reverse ? T - 1 - step : step;
      const prev = reverse ? t + 1 : t;
      const next = reverse ? t : t + 1;
      const at = `${build}, step ${step} (t=${t}, slot ${prev} -> ${next})`;
      const hK = hsSlot(next);

      // 1. one reference step from the kernel's own h_{t-1}. z = xz + W_hh h + b_hh is a sum of H + 2 terms:
      // |dz| <= gamma(H+2) sum|terms|; tanh adds EPS_ACT and has slope <= 1; relu is exact with slope <= 1.
      const hPrev = hsSlot(prev);
      const xzT = xz.subarray(t * B * H, (t + 1) * B * H);
      const hs1 = new Float64Array(2 * B * H);
      hs1.set(hPrev);
      refRnn(hs1, xzT, Wh, bh, 1, B, H, c.relu, false, stepLengths(d.lengths, t));
      const Mz = magnitudes(hPrev, H, Wh, H, bh, B, H, H, xzT, H);
      const tol = (i: number) => gamma(H + 2) * Mz[i] + (c.relu ? 0 : EPS_ACT);
      expectClose(`${name}\n  ${at}: h vs one reference step`, hK, hs1.subarray(B * H), tol, rowLane(H), { log, key: `${build} step h` });

      // 2. against the float64 run of the whole sequence
      if (wholeSequence) {
        const hR = hsR.subarray(next * B * H, (next + 1) * B * H);
        expectClose(`${name}\n  ${at}: h vs whole reference run`, hK, hR, TOL_SEQ * Math.max(1, maxAbs(hR)), rowLane(H), { log, key: `${build} seq h` });
      }
    }
    expectZeroPadding(`${name}\n  ${build}: hs`, hs, (T + 1) * B, 1, H, (r) => `slot ${Math.floor(r / B)} b=${r % B}`);
    expectSameBits(`${name}\n  ${build}: initial slot ${first} of hs`, hs.subarray(first * B * Hp, (first + 1) * B * Hp), padBlocks(d.h0, B, 1, H));
    checkBackward(c, d, k, Wh, `${name}\n  ${build}`, build, log);
  }
}

/**
 * rnnBackward against the reference's, both on the kernel's own hs (unpadded to float64): per step in the
 * kernel's order (t = T-1..0 forward, 0..T-1 reverse) dxz_t and the total dL/dh_t; then dL/dh_0; padding
 * lanes stay 0. Tolerance as lstm.test.ts's TOL_BWD (K = H <= 37 here).
 */
function checkBackward(c: RnnCase, d: RnnData, k: KernelRun, Wh: Float64Array, name: string, build: string, log: ErrorLog): void {
  const { H, B, T, reverse } = c;
  const Hp = roundUp4(H);
  const hs = unpadBlocks(k.hs, (T + 1) * B, 1, H);
  const dxz = new Float64Array(T * B * H), dhs = f64(d.dhs), dh = f64(d.dhT);
  refRnnBackward(dxz, dhs, dh, hs, Wh, T, B, H, c.relu, reverse, d.lengths);
  const key = (what: string) => ({ log, key: `${build} bwd ${what} (${c.weights})` });
  for (let step = 0; step < T; step++) {
    const t = reverse ? step : T - 1 - step;
    const at = `${name}, backward step ${step} (t=${t})`;
    const slot = (buf: Float32Array) => unpadBlocks(buf.subarray(t * B * Hp, (t + 1) * B * Hp), B, 1, H);
    const dzR = dxz.subarray(t * B * H, (t + 1) * B * H);
    const dhR = dhs.subarray(t * B * H, (t + 1) * B * H);
    expectClose(`${at}: dxz`, slot(k.dxz), dzR, TOL_BWD * Math.max(1, maxAbs(dzR)), rowLane(H), key("dxz"));
    expectClose(`${at}: total dL/dh_t (dhs)`, slot(k.dhsTotal), dhR, TOL_BWD * Math.max(1, maxAbs(dhR)), rowLane(H), key("dhs"));
  }
  expectClose(`${name}, backward: dL/dh_0`, unpadBlocks(k.dh0, B, 1, H), dh, TOL_BWD * Math.max(1, maxAbs(dh)), rowLane(H), key("dh0"));
  const stepRow = (r: number) => `t=${Math.floor(r / B)} b=${r % B}`;
  expectZeroPadding(`${name}, backward: dxz`, k.dxz, T * B, 1, H, stepRow);
  expectZeroPadding(`${name}, backward: dhs`, k.dhsTotal, T * B, 1, H, stepRow);
  expectZeroPadding(`${name}, backward: dh`, k.dh0, B, 1, H);
}

describe("rnnForward, rnnBackward (wasm) vs reference/rnn.ts, all builds", () => {
  let rts: Runtimes;
  const log = new ErrorLog();
  beforeAll(async () => {
    rts = await loadRuntimes();
  });
  afterAll(() => log.print("rnnForward, rnnBackward: largest |wasm - reference| (and error / tolerance) per build"));

  it("matches the reference step by step, over the sequence, and backward (H 1..37, B 1..6, T 1..9, I 1..23, tanh and relu)", () => {
    fc.assert(fc.property(rnnCase, (c) => checkRnn(rts, c, log)), { numRuns: 600, seed: 0x2a1 });
  });

  it("covers the edges: H = 1, 4, 5, 37, T = 1 and 9, every flag", () => {
    for (const [H, B, T] of [[1, 1, 1], [4, 2, 9], [5, 6, 1], [37, 6, 9], [3, 1, 4]]) {
      for (const relu of [false, true]) {
        for (const reverse of [false, true]) {
          for (const bias of [false, true]) {
            checkRnn(rts, { H, I: 23, B, T, relu, reverse, bias, weights: "init2", xScale: 16, lengths: bias, seed: H * 131 + T }, log);
          }
        }
      }
    }
  });

  it("leaves no block allocated", () => {
    for (const build of BUILDS) if (rts[build].blocksInUse !== 0) throw new Error(`${build}: ${rts[build].blocksInUse} blocks in use`);
  });
});
