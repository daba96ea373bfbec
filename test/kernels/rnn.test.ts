// test/kernels/rnn.test.ts: assembly/rnn.ts's rnnForward and rnnBackward against src/reference/rnn.ts, on every
// build.
//
// Same scheme as lstm.test.ts (read its header), in the frame of cell-scaffold.ts: random dims (H up to 37), reverse, biases on/off, tanh and relu,
// variable lengths or not, several weight and input scales. Per step, in the kernel's order: (1) one reference
// step from the kernel's own h_{t-1} with a worst-case rounding bound, (2) for PyTorch-scale weights, the float64
// run of the whole sequence. The RNN keeps no gates: hs is its only intermediate, and every slot is compared.
// Padding lanes of hs stay 0 and the initial slot is untouched. Backward: rnnBackward on the kernel's own hs
// against the reference's on the same hs, per step dxz_t and the total dL/dh_t, then dL/dh_0; the kernel gets
// W_hhᵀ (Hp, H) as the copy the build's own packTransposed makes (as the engine).
import fc from "fast-check";
import { rnnBackward as refRnnBackward, rnnForward as refRnn } from "../../src/reference/rnn.js";
import { expectClose, maxAbs, type ErrorLog } from "../helpers/compare.js";
import type { Build } from "../../src/runtime.js";
import {
  BUILDS, EPS_ACT, f64, gamma, magnitudes, padBlocks, rowLane, roundUp4, stepLengths, unpadBlocks, withWasm, type Runtimes,
} from "./harness.js";
import {
  cellCaseArb, cellData, checkBackwardSteps, checkInitialGradient, checkStateBuffer, describeCellKernels, firstSlot,
  forwardSteps, putInputs, slot, wholeSequence, type CellCase, type CellData,
} from "./cell-scaffold.js";

// Whole-sequence tolerance, |kernel - reference| <= TOL_SEQ * max(1, max |reference| in that slot). As in
// lstm.test.ts: sums of K = H + 2 <= 39 terms in f32, tanh error <= EPS_ACT (relu is exact), slopes <= 1;
// the scale term matters for relu, whose h is unbounded (xScale 16 gives |h| ~ 20), and rounding errors are
// relative to the size of the terms. Measured max ~1e-6 relative (printed after the run): a 20x margin.
const TOL_SEQ = 2e-5;

// Backward tolerance, relative to max(1, max |reference| in that step's block), both passes on the kernel's
// own hs: the reasoning of lstm.test.ts's TOL_BWD (linear in the gradients, so errors stay relative; the
// longest sum is W_hhᵀ dz over H <= 37 terms). Measured max printed after the run.
const TOL_BWD = 2e-5;

interface RnnCase extends CellCase {
  relu: boolean;
}

const rnnCase = cellCaseArb<{ relu: boolean }>(() => ({ relu: fc.boolean() }));

interface KernelRun {
  hs: Float32Array;       // (T+1,B,Hp)
  dxz: Float32Array;      // rnnBackward on hs: (T,B,Hp)
  dhsTotal: Float32Array; // (T,B,Hp) the total dL/dh_t
  dh0: Float32Array;      // (B,Hp)
}

function runKernel(rts: Runtimes, build: Build, c: RnnCase, d: CellData): KernelRun {
  const { H, B, T } = c;
  const Hp = roundUp4(H);
  return withWasm(rts[build], (w) => {
    const { xz, Wh, bh, lengths } = putInputs(w, c, d);
    const hs = w.alloc((T + 1) * B * Hp, NaN, "hs");
    w.write(hs, firstSlot(c) * B * Hp, padBlocks(d.h0, B, 1, H));
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
  const d = cellData(c, 1);
  const xz = f64(d.xz), Wh = f64(d.Wh), bh = d.bh && f64(d.bh);
  const name = `rnn ${JSON.stringify(c)} (${[c.relu ? "relu" : "tanh", reverse ? "reverse" : "forward", c.bias ? "bias" : "no bias"].join(", ")})`;

  const hsR = new Float64Array((T + 1) * B * H);
  hsR.set(d.h0, firstSlot(c) * B * H);
  refRnn(hsR, xz, Wh, bh, T, B, H, c.relu, reverse, d.lengths);

  for (const build of BUILDS) {
    const k = runKernel(rts, build, c, d);
    for (const { t, prev, next, at } of forwardSteps(c, build)) {
      const hK = slot(k.hs, next, B, H);

      // 1. one reference step from the kernel's own h_{t-1}. z = xz + W_hh h + b_hh is a sum of H + 2 terms:
      // |dz| <= gamma(H+2) sum|terms|; tanh adds EPS_ACT and has slope <= 1; relu is exact with slope <= 1.
      const hPrev = slot(k.hs, prev, B, H);
      const xzT = xz.subarray(t * B * H, (t + 1) * B * H);
      const hs1 = new Float64Array(2 * B * H);
      hs1.set(hPrev);
      refRnn(hs1, xzT, Wh, bh, 1, B, H, c.relu, false, stepLengths(d.lengths, t));
      const Mz = magnitudes(hPrev, H, Wh, H, bh, B, H, H, xzT, H);
      const tol = (i: number) => gamma(H + 2) * Mz[i] + (c.relu ? 0 : EPS_ACT);
      expectClose(`${name}\n  ${at}: h vs one reference step`, hK, hs1.subarray(B * H), tol, rowLane(H), { log, key: `${build} step h` });

      // 2. against the float64 run of the whole sequence
      if (wholeSequence(c)) {
        const hR = hsR.subarray(next * B * H, (next + 1) * B * H);
        expectClose(`${name}\n  ${at}: h vs whole reference run`, hK, hR, TOL_SEQ * Math.max(1, maxAbs(hR)), rowLane(H), { log, key: `${build} seq h` });
      }
    }
    checkStateBuffer(`${name}\n  ${build}: hs`, k.hs, d.h0, c, H);
    checkBackward(c, d, k, Wh, `${name}\n  ${build}`, build, log);
  }
}

/**
 * rnnBackward against the reference's, both on the kernel's own hs (unpadded to float64): per step in the
 * kernel's order dxz_t and the total dL/dh_t; then dL/dh_0; padding lanes stay 0. Tolerance as lstm.test.ts's
 * TOL_BWD (K = H <= 37 here).
 */
function checkBackward(c: RnnCase, d: CellData, k: KernelRun, Wh: Float64Array, name: string, build: string, log: ErrorLog): void {
  const { H, B, T, reverse } = c;
  const hs = unpadBlocks(k.hs, (T + 1) * B, 1, H);
  const dxz = new Float64Array(T * B * H), dhs = f64(d.dhs), dh = f64(d.dhT);
  refRnnBackward(dxz, dhs, dh, hs, Wh, T, B, H, c.relu, reverse, d.lengths);
  const key = (what: string) => `${build} bwd ${what} (${c.weights})`;
  checkBackwardSteps(name, c, [
    { what: "dxz", kernel: k.dxz, ref: dxz, G: 1, n: H, lanes: rowLane(H) },
    { what: "total dL/dh_t (dhs)", kernel: k.dhsTotal, ref: dhs, G: 1, n: H, lanes: rowLane(H) },
  ], TOL_BWD, log, key);
  checkInitialGradient(name, "dL/dh_0", k.dh0, dh, c, H, TOL_BWD, rowLane(H), log, key("dh0"));
}

describeCellKernels("rnnForward, rnnBackward", "reference/rnn.ts", {
  property: "matches the reference step by step, over the sequence, and backward (H 1..37, B 1..6, T 1..9, I 1..23, tanh and relu)",
  arbitrary: rnnCase, numRuns: 600, seed: 0x2a1,
  edges: "covers the edges: H = 1, 4, 5, 37, T = 1 and 9, every flag",
  edgeCases: () => {
    const cases: RnnCase[] = [];
    for (const [H, B, T] of [[1, 1, 1], [4, 2, 9], [5, 6, 1], [37, 6, 9], [3, 1, 4]]) {
      for (const relu of [false, true]) {
        for (const reverse of [false, true]) {
          for (const bias of [false, true]) cases.push({ H, I: 23, B, T, relu, reverse, bias, weights: "init2", xScale: 16, lengths: bias, seed: H * 131 + T });
        }
      }
    }
    return cases;
  },
  check: checkRnn,
});
