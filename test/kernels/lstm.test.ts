// test/kernels/lstm.test.ts: assembly/lstm.ts's lstmForward and lstmBackward against src/reference/lstm.ts, on
// every build.
//
// One fast-check case is dims (H up to 37 and P < H for a projection, so SIMD tails and padding lanes occur),
// flags (reverse, biases, projection, variable lengths), a weight scale and an input scale, and a seed for the
// values. With lengths, each batch row gets a length in 0..T and carries its state through the steps past it
// (the one-step reference below gets length 0 or 1 per row: stepLengths in harness.ts). The same f32 values go
// to the kernel (packed and padded as src/layout.ts does) and to the reference (in Float64, on PyTorch's
// unpadded layout). Every build runs with keepGates = 1, and the comparisons go step by step in the order the
// kernel takes the steps, so the first failure names the step that broke:
//
// 1. Step by step (every weight scale): the reference takes ONE step from the kernel's own state (slot prev of
//    hs and cs) and must give the kernel's gates (i, f, g, o, and r with a projection) of step t and its slot
//    next of cs and hs. The tolerance is the worst-case rounding bound of that one step (stepBounds below), so
//    it stays tight even where the recurrence is chaotic and two correct f32 runs drift apart.
// 2. Whole sequence (PyTorch-scale recurrent weights, |w| <= gain/sqrt(fan_in), gain <= 2): the kernel's
//    gates and every slot of hs and cs against one float64 reference run from h0, c0.
// 3. Backward (checkBackward): lstmBackward on the kernel's own keepGates = 1 tape against the reference's on
//    the same tape, per step in the kernel's order: dxz_t, the total dL/dh_t; then dL/dh_0, dL/dc_0. As in the
//    engine, the kernel gets W_hhᵀ and W_hrᵀ as copies the build's own packTransposed made from the packed
//    weights it ran forward with (gemm.test.ts checks packTransposed exactly).
// Also: padding lanes of every hs, cs (and gradient) row are exactly 0, the initial slot is left as written,
// and a run with keepGates = 0 gives the same bits in hs and cs, and the last step's gates in its one block.
// gru.test.ts and rnn.test.ts do the same for their cells, in the frame all three share: cell-scaffold.ts.
import fc from "fast-check";
import { lstmBackward as refLstmBackward, lstmForward as refLstm } from "../../src/reference/lstm.js";
import type { Build } from "../../src/runtime.js";
import { expectClose, expectSameBits, maxAbs, U, type ErrorLog } from "../helpers/compare.js";
import { randomF32 } from "../helpers/random.js";
import {
  BUILDS, EPS_ACT, f64, gamma, gateLane, magnitudes, maxRowAbsSum, packed, padBlocks, rowLane, roundUp4, stepLengths,
  unpadBlocks, withWasm, type Runtimes,
} from "./harness.js";
import {
  cellCaseArb, cellData, checkBackwardSteps, checkInitialGradient, checkStateBuffer, describeCellKernels, firstSlot,
  forwardSteps, putInputs, slot, weightScale, wholeSequence, type CellCase, type CellData,
} from "./cell-scaffold.js";

// Whole-sequence tolerance, |kernel - reference| <= TOL_SEQ * max(1, max |reference| in that slot).
// Why 2e-5: one step's pre-activation is a sum of K = P + 2 <= 39 terms (P products, b_hh, xz); f32 rounds it
// to within gamma(39) * sum|terms| ~ 2.3e-6 * sum|terms| at worst, and in practice (errors of random sign)
// ~ sqrt(K) u sum|terms| ~ 4e-7 * sum|terms|, with sum|terms| ~ 1..10 here. The gates add <= EPS_ACT = 1.2e-7
// each and pass errors on with slope <= 1 (sigmoid' <= 1/4, tanh' <= 1); saturated gates (large |z|) damp them.
// With these weight scales the recurrence does not amplify errors over T <= 9 steps: measured max ~1e-6 on all
// builds (printed after the run). The relaxed build's fused multiply-add changes last bits, not this scale. A
// wrong slot, gate, lane or sign gives errors of 1e-3 and up; 2e-5 leaves a 20x margin over what was measured.
const TOL_SEQ = 2e-5;

// Backward tolerance, |kernel - reference| <= TOL_BWD * max(1, max |reference| in that step's block), both run
// on the kernel's own forward tape. Given the tape the backward pass is linear in the gradients, so rounding
// errors stay relative to the gradients' size instead of compounding as a chaotic forward pass can; every
// weight scale is tested. Per step the longest sum is dh_{t-1} = W_hhᵀ dz over 4Hp terms, of which K = 4H <= 148
// round (the padding lanes' terms are exact zeros): gamma(150) ~ 9e-6 worst case, ~sqrt(K) u ~ 7e-7 in practice,
// plus tanh(c_t) recomputed (EPS_ACT). Measured max 1.8e-6 relative (all builds, all weight scales): 2e-5 is a
// 10x margin.
const TOL_BWD = 2e-5;

const GATES = ["i", "f", "g", "o"] as const;
const GATES_PROJ = ["i", "f", "g", "o", "r"] as const;

interface LstmCase extends CellCase {
  P: number;       // projection size, 0 for none (then the state width is H)
}

const lstmCase = cellCaseArb<{ P: number }>((H) => ({
  P: H > 1 ? fc.oneof(fc.constant(0), fc.integer({ min: 1, max: H - 1 })) : fc.constant(0),
}));

/** cellData with the state width P, and what only the LSTM has. */
interface LstmData extends CellData {
  Wr: Float32Array | null; // (P,H) weight_hr
  c0: Float32Array;   // (B,H)
  dcT: Float32Array;  // (B,H) dL/dc of the final state
}

function makeData(c: LstmCase): LstmData {
  const d = cellData(c, 4, c.P || c.H);
  const { H, B } = c;
  return {
    ...d,
    Wr: c.P ? randomF32(d.P * H, d.next, weightScale(c.weights, H)) : null,
    c0: randomF32(B * H, d.next, 2),
    dcT: randomF32(B * H, d.next),
  };
}

interface KernelRun {
  hs: Float32Array;     // (T+1,B,Pp)
  cs: Float32Array;     // (T+1,B,Hp)
  gates: Float32Array;  // (T,B,width)
  hs1: Float32Array;    // the same with keepGates = 0
  cs1: Float32Array;
  gates1: Float32Array; // (1,B,width)
  dxz: Float32Array;    // lstmBackward on the keepGates = 1 tape: (T,B,4Hp)
  dhsTotal: Float32Array; // (T,B,Pp) the total dL/dh_t
  dh0: Float32Array;    // (B,Pp)
  dc0: Float32Array;    // (B,Hp)
}

function runKernel(rts: Runtimes, build: Build, c: LstmCase, d: LstmData): KernelRun {
  const { H, B, T } = c;
  const { P } = d;
  const Hp = roundUp4(H), Pp = roundUp4(P);
  const width = (d.Wr ? 5 : 4) * Hp;
  const first = firstSlot(c);
  return withWasm(rts[build], (w) => {
    const { xz, Wh, bh, lengths } = putInputs(w, c, d);
    const Wr = d.Wr ? w.put(packed(d.Wr, 1, P, H), "Wr") : 0;
    const run = (keepGates: number) => {
      const hs = w.alloc((T + 1) * B * Pp, NaN, "hs");
      const cs = w.alloc((T + 1) * B * Hp, NaN, "cs");
      const gates = w.alloc((keepGates ? T : 1) * B * width, NaN, "gates");
      w.write(hs, first * B * Pp, padBlocks(d.h0, B, 1, P));
      w.write(cs, first * B * Hp, padBlocks(d.c0, B, 1, H));
      w.k.lstmForward(hs, cs, gates, xz, Wh, bh, Wr, T, B, H, P, c.reverse ? 1 : 0, keepGates, lengths);
      w.checkGuards(`lstmForward (keepGates = ${keepGates})`);
      return { hs, cs, gates, out: [w.read(hs, (T + 1) * B * Pp), w.read(cs, (T + 1) * B * Hp), w.read(gates, (keepGates ? T : 1) * B * width)] };
    };
    const tape = run(1);
    const [hs, cs, gates] = tape.out;
    const [hs1, cs1, gates1] = run(0).out;
    // backward through the keepGates = 1 tape
    const dxz = w.alloc(T * B * 4 * Hp, NaN, "dxz");
    const dhs = w.put(padBlocks(d.dhs, T * B, 1, P), "dhs");
    const dh = w.put(padBlocks(d.dhT, B, 1, P), "dh");
    const dc = w.put(padBlocks(d.dcT, B, 1, H), "dc");
    const dr = w.alloc(B * Hp, NaN, "dr");
    // W_hhᵀ (4Hp, P) and W_hrᵀ (Pp, H), as src/wasm-engine.ts transposeWeights builds them
    const WhT = w.transposed(Wh, P * 8, P, 4 * Hp, "WhT");
    const WrT = Wr ? w.transposed(Wr, H * 8, H, Pp, "WrT") : 0;
    w.k.lstmBackward(dxz, dhs, dh, dc, dr, tape.cs, tape.gates, WhT, WrT, T, B, H, P, c.reverse ? 1 : 0, lengths);
    w.checkGuards("lstmBackward");
    return {
      hs, cs, gates, hs1, cs1, gates1,
      dxz: w.read(dxz, T * B * 4 * Hp), dhsTotal: w.read(dhs, T * B * Pp), dh0: w.read(dh, B * Pp), dc0: w.read(dc, B * Hp),
    };
  });
}

/**
 * Worst-case error bounds of one LSTM step taken from state (hPrev, cPrev), to first order in u (the products
 * of two errors are below 1e-12). z = xz + W_hh h + b_hh is a sum of P + 2 terms: |dz| <= gamma(P+2) Mz.
 * A gate adds its own error and passes dz on with slope <= 1:  eg = gamma(P+2) Mz + EPS_ACT.
 * c = f c_prev + i g (|i|, |g| <= 1, two products and a sum rounded):  ec = eg (|c_prev| + 2) + 3u (|c_prev| + 1).
 * r = o tanh(c) (|o|, |tanh| <= 1):  er = eg + ec + EPS_ACT + u.
 * h = r, or h = W_hr r, a sum of H products:  eh = max_q sum_j |W_hr[q,j]| er + gamma(H+1) max sum|W_hr r|.
 */
function stepBounds(c: LstmCase, d: LstmData, hPrev: Float64Array, cPrev: Float64Array, xzT: Float64Array,
  ref: { gates: Float64Array; Wh: Float64Array; bh: Float64Array | null; Wr: Float64Array | null }) {
  const { H, B } = c;
  const { P } = d;
  const Mz = maxAbs(magnitudes(hPrev, P, ref.Wh, P, ref.bh, B, P, 4 * H, xzT, 4 * H));
  const eg = gamma(P + 2) * Mz + EPS_ACT;
  const cmax = maxAbs(cPrev);
  const ec = eg * (cmax + 2) + 3 * U * (cmax + 1);
  const er = eg + ec + EPS_ACT + U;
  let eh = er;
  if (ref.Wr) {
    const width = 5 * H;
    const Mh = maxAbs(magnitudes(ref.gates.subarray(4 * H), width, ref.Wr, H, null, B, H, P));
    eh = maxRowAbsSum(ref.Wr, P, H) * er + gamma(H + 1) * Mh;
  }
  return { eg, ec, er, eh };
}

function checkLstm(rts: Runtimes, c: LstmCase, log: ErrorLog): void {
  const { H, B, T, reverse } = c;
  const d = makeData(c);
  const { P } = d;
  const Hp = roundUp4(H);
  const nG = d.Wr ? 5 : 4;
  const names = d.Wr ? GATES_PROJ : GATES;
  const widthR = nG * H, widthK = nG * Hp;
  const xz = f64(d.xz), Wh = f64(d.Wh), bh = d.bh && f64(d.bh), Wr = d.Wr && f64(d.Wr);
  const name = `lstm ${JSON.stringify(c)} (${[d.Wr ? `P=${P}` : "no projection", reverse ? "reverse" : "forward", c.bias ? "bias" : "no bias"].join(", ")})`;

  // The whole sequence in float64 from h0, c0.
  const hsR = new Float64Array((T + 1) * B * P), csR = new Float64Array((T + 1) * B * H);
  const gatesR = new Float64Array(T * B * widthR);
  hsR.set(d.h0, firstSlot(c) * B * P);
  csR.set(d.c0, firstSlot(c) * B * H);
  refLstm(hsR, csR, gatesR, xz, Wh, bh, Wr, T, B, H, P, reverse, d.lengths);

  for (const build of BUILDS) {
    const k = runKernel(rts, build, c, d);
    const gatesAt = (t: number) => unpadBlocks(k.gates.subarray(t * B * widthK, (t + 1) * B * widthK), B, nG, H);
    for (const { t, prev, next, at } of forwardSteps(c, build)) {
      const gK = gatesAt(t), cK = slot(k.cs, next, B, H), hK = slot(k.hs, next, B, P);

      // 1. one reference step from the kernel's own state
      const hPrev = slot(k.hs, prev, B, P), cPrev = slot(k.cs, prev, B, H);
      const xzT = xz.subarray(t * B * 4 * H, (t + 1) * B * 4 * H);
      const hs1 = new Float64Array(2 * B * P), cs1 = new Float64Array(2 * B * H), g1 = new Float64Array(B * widthR);
      hs1.set(hPrev);
      cs1.set(cPrev);
      refLstm(hs1, cs1, g1, xzT, Wh, bh, Wr, 1, B, H, P, false, stepLengths(d.lengths, t));
      const e = stepBounds(c, d, hPrev, cPrev, xzT, { gates: g1, Wh, bh, Wr });
      const gateTol = (i: number) => (i % widthR < 4 * H ? e.eg : e.er);
      expectClose(`${name}\n  ${at}: gates vs one reference step`, gK, g1, gateTol, gateLane(names, H), { log, key: `${build} step gates` });
      expectClose(`${name}\n  ${at}: c vs one reference step`, cK, cs1.subarray(B * H), e.ec, rowLane(H), { log, key: `${build} step c` });
      expectClose(`${name}\n  ${at}: h vs one reference step`, hK, hs1.subarray(B * P), e.eh, rowLane(P), { log, key: `${build} step h` });

      // 2. against the float64 run of the whole sequence
      if (wholeSequence(c)) {
        const gR = gatesR.subarray(t * B * widthR, (t + 1) * B * widthR);
        const cR = csR.subarray(next * B * H, (next + 1) * B * H);
        const hR = hsR.subarray(next * B * P, (next + 1) * B * P);
        expectClose(`${name}\n  ${at}: gates vs whole reference run`, gK, gR, TOL_SEQ * Math.max(1, maxAbs(gR)), gateLane(names, H), { log, key: `${build} seq gates` });
        expectClose(`${name}\n  ${at}: c vs whole reference run`, cK, cR, TOL_SEQ * Math.max(1, maxAbs(cR)), rowLane(H), { log, key: `${build} seq c` });
        expectClose(`${name}\n  ${at}: h vs whole reference run`, hK, hR, TOL_SEQ * Math.max(1, maxAbs(hR)), rowLane(P), { log, key: `${build} seq h` });
      }
    }
    checkStateBuffer(`${name}\n  ${build}: hs`, k.hs, d.h0, c, P);
    checkStateBuffer(`${name}\n  ${build}: cs`, k.cs, d.c0, c, H);
    expectSameBits(`${name}\n  ${build}: hs with keepGates = 0`, k.hs1, k.hs);
    expectSameBits(`${name}\n  ${build}: cs with keepGates = 0`, k.cs1, k.cs);
    const last = reverse ? 0 : T - 1;
    expectSameBits(`${name}\n  ${build}: the one gates block with keepGates = 0 vs step t=${last}`, k.gates1,
      k.gates.subarray(last * B * widthK, (last + 1) * B * widthK));
    checkBackward(c, d, k, { Wh, Wr }, `${name}\n  ${build}`, build, log);
  }
}

/**
 * lstmBackward against the reference's, both on the kernel's own forward tape (cs, gates, unpadded to
 * float64), so the forward pass's rounding does not enter: per step in the kernel's order (t = T-1..0
 * forward, 0..T-1 reverse) dxz_t and the total dL/dh_t; then dL/dh_0, dL/dc_0; padding lanes stay 0.
 */
function checkBackward(c: LstmCase, d: LstmData, k: KernelRun, w: { Wh: Float64Array; Wr: Float64Array | null },
  name: string, build: string, log: ErrorLog): void {
  const { H, B, T, reverse } = c;
  const { P } = d;
  const nG = d.Wr ? 5 : 4;
  const cs = unpadBlocks(k.cs, (T + 1) * B, 1, H);
  const gates = unpadBlocks(k.gates, T * B, nG, H);
  const dxz = new Float64Array(T * B * 4 * H), dhs = f64(d.dhs), dh = f64(d.dhT), dc = f64(d.dcT);
  refLstmBackward(dxz, dhs, dh, dc, new Float64Array(B * H), cs, gates, w.Wh, w.Wr, T, B, H, P, reverse, d.lengths);
  const key = (what: string) => `${build} bwd ${what} (${c.weights})`;
  checkBackwardSteps(name, c, [
    { what: "dxz", kernel: k.dxz, ref: dxz, G: 4, n: H, lanes: gateLane(GATES, H) },
    { what: "total dL/dh_t (dhs)", kernel: k.dhsTotal, ref: dhs, G: 1, n: P, lanes: rowLane(P) },
  ], TOL_BWD, log, key);
  checkInitialGradient(name, "dL/dh_0", k.dh0, dh, c, P, TOL_BWD, rowLane(P), log, key("dh0"));
  checkInitialGradient(name, "dL/dc_0", k.dc0, dc, c, H, TOL_BWD, rowLane(H), log, key("dc0"));
}

describeCellKernels("lstmForward, lstmBackward", "reference/lstm.ts", {
  property: "matches the reference step by step, over the sequence, and backward (H 1..37, P < H, B 1..6, T 1..9, I 1..23)",
  arbitrary: lstmCase, numRuns: 500, seed: 0x157f,
  edges: "covers the edges: H = 1, P = H - 1, T = 1 and a long sequence, reverse and bias both ways",
  edgeCases: () => {
    const cases: LstmCase[] = [];
    for (const [H, P, B, T] of [[1, 0, 1, 1], [2, 1, 1, 9], [5, 4, 3, 1], [37, 36, 6, 9], [36, 0, 5, 9], [4, 3, 4, 2]]) {
      for (const reverse of [false, true]) {
        for (const bias of [false, true]) {
          cases.push({ H, P, I: 23, B, T, reverse, bias, weights: "init2", xScale: 16, lengths: bias, seed: H * 131 + T });
        }
      }
    }
    return cases;
  },
  check: checkLstm,
});
