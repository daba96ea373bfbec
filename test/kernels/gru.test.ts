// test/kernels/gru.test.ts: assembly/gru.ts's gruForward and gruBackward against src/reference/gru.ts, on every
// build.
//
// Same scheme as lstm.test.ts (read its header), in the frame of cell-scaffold.ts: random dims (H up to 37), reverse, biases on/off, reset after
// (PyTorch) and reset before (the original GRU), variable lengths or not, several weight and input scales;
// keepGates = 1. Per step, in the kernel's order: (1) one reference step from the kernel's own h_{t-1} with a
// worst-case rounding bound, (2) for PyTorch-scale weights, the float64 run of the whole sequence. The gates
// buffer holds, per step, r, z, n, hn and, for reset before only, rh = r * h_{t-1} (gruGateWidth blocks; the
// fifth is unused with reset after, so it is not compared there). Padding lanes of hs stay 0, the initial slot
// is untouched, keepGates = 0 gives the same hs and the last step's gates. Backward: gruBackward on the
// kernel's own tape against the reference's on the same tape, per step dxz_t, dzh_t and the total dL/dh_t,
// then dL/dh_0; the kernel gets W_hhᵀ (3Hp, H) as the copy the build's own packTransposed makes (as the engine).
import fc from "fast-check";
import { gruBackward as refGruBackward, gruForward as refGru, gruGateWidth as refGruGateWidth } from "../../src/reference/gru.js";
import type { Build } from "../../src/runtime.js";
import { expectClose, expectSameBits, maxAbs, U, type ErrorLog } from "../helpers/compare.js";
import {
  BUILDS, EPS_ACT, f64, gamma, gateLane, magnitudes, maxRowAbsSum, padBlocks, rowLane, roundUp4, stepLengths, unpadBlocks,
  withWasm, type Runtimes,
} from "./harness.js";
import {
  cellCaseArb, cellData, checkBackwardSteps, checkInitialGradient, checkStateBuffer, describeCellKernels, firstSlot,
  forwardSteps, putInputs, slot, wholeSequence, type CellCase, type CellData,
} from "./cell-scaffold.js";

// Whole-sequence tolerance, |kernel - reference| <= TOL_SEQ * max(1, max |reference| in that slot). The same
// reasoning as lstm.test.ts's: sums of K = H + 2 <= 39 terms rounded in f32 (worst case gamma(39) ~ 2.3e-6
// times sum|terms|, typically sqrt(K) u sum|terms|), activation error <= EPS_ACT, slopes <= 1, no growth over
// T <= 9 steps at these weight scales; measured max ~1e-6 (printed after the run), so 2e-5 is a 20x margin.
const TOL_SEQ = 2e-5;

// Backward tolerance, relative to max(1, max |reference| in that step's block), both passes on the kernel's
// own tape: the reasoning of lstm.test.ts's TOL_BWD (linear in the gradients, so errors stay relative; the
// longest sum is W_hᵀ (dz_r, dz_z, dhn) over 3H <= 111 terms). Measured max printed after the run.
const TOL_BWD = 2e-5;

const GATES = ["r", "z", "n", "hn", "rh"] as const;
// gate blocks per step, in both layouts (the kernel's block is Hp wide, the reference's H)
const BLOCKS = refGruGateWidth(1);

interface GruCase extends CellCase {
  resetAfter: boolean;
}

const gruCase = cellCaseArb<{ resetAfter: boolean }>(() => ({ resetAfter: fc.boolean() }));

interface KernelRun {
  hs: Float32Array;     // (T+1,B,Hp)
  gates: Float32Array;  // (T,B,BLOCKS*Hp)
  hs1: Float32Array;    // keepGates = 0
  gates1: Float32Array; // (1,B,BLOCKS*Hp)
  dxz: Float32Array;    // gruBackward on the keepGates = 1 tape: (T,B,3Hp) input side
  dzh: Float32Array;    // (T,B,3Hp) recurrent side
  dhsTotal: Float32Array; // (T,B,Hp) the total dL/dh_t
  dh0: Float32Array;    // (B,Hp)
}

function runKernel(rts: Runtimes, build: Build, c: GruCase, d: CellData): KernelRun {
  const { H, B, T } = c;
  const Hp = roundUp4(H);
  const width = BLOCKS * Hp;
  return withWasm(rts[build], (w) => {
    const { xz, Wh, bh, lengths } = putInputs(w, c, d);
    const run = (keepGates: number) => {
      const hs = w.alloc((T + 1) * B * Hp, NaN, "hs");
      const gates = w.alloc((keepGates ? T : 1) * B * width, NaN, "gates");
      w.write(hs, firstSlot(c) * B * Hp, padBlocks(d.h0, B, 1, H));
      w.k.gruForward(hs, gates, xz, Wh, bh, T, B, H, c.resetAfter ? 1 : 0, c.reverse ? 1 : 0, keepGates, lengths);
      w.checkGuards(`gruForward (keepGates = ${keepGates})`);
      return { hs, gates, out: [w.read(hs, (T + 1) * B * Hp), w.read(gates, (keepGates ? T : 1) * B * width)] };
    };
    const tape = run(1);
    const [hs, gates] = tape.out;
    const [hs1, gates1] = run(0).out;
    // backward through the keepGates = 1 tape
    const dxz = w.alloc(T * B * 3 * Hp, NaN, "dxz");
    const dzh = w.alloc(T * B * 3 * Hp, NaN, "dzh");
    const dhs = w.put(padBlocks(d.dhs, T * B, 1, H), "dhs");
    const dh = w.put(padBlocks(d.dhT, B, 1, H), "dh");
    const drh = w.alloc(B * Hp, NaN, "drh");
    const WhT = w.transposed(Wh, H * 8, H, 3 * Hp, "WhT"); // W_hhᵀ (3Hp, H), as src/wasm-engine.ts transposeWeights
    w.k.gruBackward(dxz, dzh, dhs, dh, drh, tape.hs, tape.gates, WhT, T, B, H, c.resetAfter ? 1 : 0, c.reverse ? 1 : 0, lengths);
    w.checkGuards("gruBackward");
    return {
      hs, gates, hs1, gates1,
      dxz: w.read(dxz, T * B * 3 * Hp), dzh: w.read(dzh, T * B * 3 * Hp), dhsTotal: w.read(dhs, T * B * Hp), dh0: w.read(dh, B * Hp),
    };
  });
}

/**
 * Worst-case error bounds of one GRU step from hPrev, to first order in u (|r|, |z|, |n| <= 1).
 * r, z: sums of H + 2 terms, then sigmoid:  erz = gamma(H+2) Mrz + EPS_ACT.
 * reset after:  hn = W_hn h + b_hn (H + 1 terms):  ehn = gamma(H+1) Mhn;
 *   n = tanh(xz_n + r hn):  en = erz |hn| + ehn + 2u (|xz_n| + |hn|) + EPS_ACT.
 * reset before: rh = r h_{t-1} carries erh = (erz + u) |h|max; hn = W_hn rh + b_hn:
 *   ehn = max_j sum_k |W_hn[j,k]| erh + gamma(H+1) Mhn;  n = tanh(xz_n + hn):
 *   en = ehn + u (|xz_n| + |hn|) + EPS_ACT.
 * h = (1 - z) n + z h_{t-1} (four roundings):  eh = erz (1 + |h|max) + en + 4u (1 + |h|max).
 */
function stepBounds(c: GruCase, hPrev: Float64Array, xzT: Float64Array, g1: Float64Array,
  Wh: Float64Array, bh: Float64Array | null) {
  const { H, B } = c;
  const width = BLOCKS * H;
  const Mrz = maxAbs(magnitudes(hPrev, H, Wh, H, bh, B, H, 2 * H, xzT, 3 * H));
  const erz = gamma(H + 2) * Mrz + EPS_ACT;
  const hmax = maxAbs(hPrev);
  const WhN = Wh.subarray(2 * H * H), bhN = bh ? bh.subarray(2 * H) : null;
  const xzN = new Float64Array(B * H), hn = new Float64Array(B * H);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < H; j++) {
      xzN[b * H + j] = xzT[b * 3 * H + 2 * H + j];
      hn[b * H + j] = g1[b * width + 3 * H + j];
    }
  }
  const xzNmax = maxAbs(xzN), hnmax = maxAbs(hn);
  const erh = (erz + U) * hmax;
  let ehn: number, en: number;
  if (c.resetAfter) {
    ehn = gamma(H + 1) * maxAbs(magnitudes(hPrev, H, WhN, H, bhN, B, H, H));
    en = erz * hnmax + ehn + 2 * U * (xzNmax + hnmax) + EPS_ACT;
  } else {
    const rh = new Float64Array(B * H);
    for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) rh[b * H + j] = g1[b * width + j] * hPrev[b * H + j];
    ehn = maxRowAbsSum(WhN, H, H) * erh + gamma(H + 1) * maxAbs(magnitudes(rh, H, WhN, H, bhN, B, H, H));
    en = ehn + U * (xzNmax + hnmax) + EPS_ACT;
  }
  const eh = erz * (1 + hmax) + en + 4 * U * (1 + hmax);
  return { erz, en, ehn, erh, eh };
}

/** The first `count` gate blocks of each row of a (B, BLOCKS*H) buffer. */
function firstBlocks(g: Float64Array, B: number, H: number, count: number): Float64Array {
  const out = new Float64Array(B * count * H);
  for (let b = 0; b < B; b++) out.set(g.subarray(b * BLOCKS * H, (b * BLOCKS + count) * H), b * count * H);
  return out;
}

function checkGru(rts: Runtimes, c: GruCase, log: ErrorLog): void {
  const { H, B, T, reverse } = c;
  const d = cellData(c, 3);
  const Hp = roundUp4(H);
  const widthR = BLOCKS * H, widthK = BLOCKS * Hp;
  const compared = c.resetAfter ? 4 : 5; // gate blocks with a value: r, z, n, hn (, rh)
  const names = GATES.slice(0, compared);
  const xz = f64(d.xz), Wh = f64(d.Wh), bh = d.bh && f64(d.bh);
  const name = `gru ${JSON.stringify(c)} (${[c.resetAfter ? "reset after" : "reset before", reverse ? "reverse" : "forward", c.bias ? "bias" : "no bias"].join(", ")})`;

  const hsR = new Float64Array((T + 1) * B * H), gatesR = new Float64Array(T * B * widthR);
  hsR.set(d.h0, firstSlot(c) * B * H);
  refGru(hsR, gatesR, xz, Wh, bh, T, B, H, c.resetAfter, reverse, d.lengths);

  for (const build of BUILDS) {
    const k = runKernel(rts, build, c, d);
    for (const { t, prev, next, at } of forwardSteps(c, build)) {
      const gK = firstBlocks(unpadBlocks(k.gates.subarray(t * B * widthK, (t + 1) * B * widthK), B, BLOCKS, H), B, H, compared);
      const hK = slot(k.hs, next, B, H);

      // 1. one reference step from the kernel's own h_{t-1}
      const hPrev = slot(k.hs, prev, B, H);
      const xzT = xz.subarray(t * B * 3 * H, (t + 1) * B * 3 * H);
      const hs1 = new Float64Array(2 * B * H), g1 = new Float64Array(B * widthR);
      hs1.set(hPrev);
      refGru(hs1, g1, xzT, Wh, bh, 1, B, H, c.resetAfter, false, stepLengths(d.lengths, t));
      const e = stepBounds(c, hPrev, xzT, g1, Wh, bh);
      const gateTol = (i: number) => [e.erz, e.erz, e.en, e.ehn, e.erh][Math.floor(i / H) % compared];
      expectClose(`${name}\n  ${at}: gates vs one reference step`, gK, firstBlocks(g1, B, H, compared), gateTol, gateLane(names, H), { log, key: `${build} step gates` });
      expectClose(`${name}\n  ${at}: h vs one reference step`, hK, hs1.subarray(B * H), e.eh, rowLane(H), { log, key: `${build} step h` });

      // 2. against the float64 run of the whole sequence
      if (wholeSequence(c)) {
        const gR = firstBlocks(gatesR.subarray(t * B * widthR, (t + 1) * B * widthR), B, H, compared);
        const hR = hsR.subarray(next * B * H, (next + 1) * B * H);
        expectClose(`${name}\n  ${at}: gates vs whole reference run`, gK, gR, TOL_SEQ * Math.max(1, maxAbs(gR)), gateLane(names, H), { log, key: `${build} seq gates` });
        expectClose(`${name}\n  ${at}: h vs whole reference run`, hK, hR, TOL_SEQ * Math.max(1, maxAbs(hR)), rowLane(H), { log, key: `${build} seq h` });
      }
    }
    checkStateBuffer(`${name}\n  ${build}: hs`, k.hs, d.h0, c, H);
    expectSameBits(`${name}\n  ${build}: hs with keepGates = 0`, k.hs1, k.hs);
    const last = reverse ? 0 : T - 1;
    // (the blocks after `compared` hold nothing: with reset after the fifth is never written, or zeroed for a
    // row whose sequence has ended, so the one reused block may keep an earlier step's zeros there)
    const usedBlocks = (g: Float32Array) => {
      const out = g.slice();
      for (let b = 0; b < B; b++) out.fill(0, (b * BLOCKS + compared) * Hp, (b + 1) * BLOCKS * Hp);
      return out;
    };
    expectSameBits(`${name}\n  ${build}: the one gates block with keepGates = 0 vs step t=${last}`, usedBlocks(k.gates1),
      usedBlocks(k.gates.subarray(last * B * widthK, (last + 1) * B * widthK)));
    checkBackward(c, d, k, Wh, `${name}\n  ${build}`, build, log);
  }
}

/**
 * gruBackward against the reference's, both on the kernel's own forward tape (hs, gates, unpadded to
 * float64): per step in the kernel's order dxz_t, dzh_t and the total dL/dh_t; then dL/dh_0; padding lanes
 * stay 0. Tolerance as lstm.test.ts's TOL_BWD (K = 3H <= 111 here).
 */
function checkBackward(c: GruCase, d: CellData, k: KernelRun, Wh: Float64Array, name: string, build: string, log: ErrorLog): void {
  const { H, B, T, reverse } = c;
  const hs = unpadBlocks(k.hs, (T + 1) * B, 1, H);
  // the fifth block is not written with reset after: give the reference zeros there, not the kernel's NaN fill
  const gates = unpadBlocks(k.gates, T * B, BLOCKS, H).map((v) => (v !== v ? 0 : v));
  const dxz = new Float64Array(T * B * 3 * H), dzh = new Float64Array(T * B * 3 * H);
  const dhs = f64(d.dhs), dh = f64(d.dhT);
  refGruBackward(dxz, dzh, dhs, dh, new Float64Array(B * H), hs, gates, Wh, T, B, H, c.resetAfter, reverse, d.lengths);
  const lanes = gateLane(["r", "z", "n"], H);
  const key = (what: string) => `${build} bwd ${what} (${c.weights})`;
  checkBackwardSteps(name, c, [
    { what: "dxz", kernel: k.dxz, ref: dxz, G: 3, n: H, lanes },
    { what: "dzh", kernel: k.dzh, ref: dzh, G: 3, n: H, lanes },
    { what: "total dL/dh_t (dhs)", kernel: k.dhsTotal, ref: dhs, G: 1, n: H, lanes: rowLane(H) },
  ], TOL_BWD, log, key);
  checkInitialGradient(name, "dL/dh_0", k.dh0, dh, c, H, TOL_BWD, rowLane(H), log, key("dh0"));
}

describeCellKernels("gruForward, gruBackward", "reference/gru.ts", {
  property: "matches the reference step by step, over the sequence, and backward (H 1..37, B 1..6, T 1..9, I 1..23, both resets)",
  arbitrary: gruCase, numRuns: 500, seed: 0x6e0,
  edges: "covers the edges: H = 1, 4, 5, 37, T = 1 and 9, every flag",
  edgeCases: () => {
    const cases: GruCase[] = [];
    for (const [H, B, T] of [[1, 1, 1], [4, 2, 9], [5, 6, 1], [37, 6, 9], [3, 1, 4]]) {
      for (const resetAfter of [false, true]) {
        for (const reverse of [false, true]) {
          for (const bias of [false, true]) {
            cases.push({ H, I: 23, B, T, resetAfter, reverse, bias, weights: "init2", xScale: 16, lengths: reverse, seed: H * 131 + T });
          }
        }
      }
    }
    return cases;
  },
  check: checkGru,
});
