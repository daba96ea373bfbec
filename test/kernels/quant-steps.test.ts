// test/kernels/quant-steps.test.ts: the quantized step kernels (assembly/lstm.ts lstmForwardQ16 / lstmForwardQ8,
// gru.ts gruForwardQ16 / Q8, rnn.ts rnnForwardQ16 / Q8) against their mirror (src/reference/ lstmForward, gruForward,
// rnnForward with src/reference/product.ts's quantized weights), on every build, step by step.
//
// What is exact and what is not. Each step quantizes a row block of activations and multiplies it by the quantized
// weights: integers, then a fixed chain of f32 roundings (quant.test.ts), so a product of the same f32 activations
// gives the same bits in every build and in the mirror. The gate maths around it is the float32 kernels' (f32, the
// kernels' sigmoid/tanh within EPS_ACT of exact), while the mirror computes it in float64 and rounds to f32. So:
//   - every product whose input the kernel keeps is checked BIT FOR BIT against the mirror's product of the kernel's
//     own input: GRU's hn block (W_hn h_{t-1} + b_hn reset after, W_hn (r h_{t-1}) + b_hn reset before), and an LSTM
//     projection's h_t = W_hr r_t;
//   - every step is run by the mirror from the kernel's own state before it (so errors do not compound, and the
//     products of h_{t-1} see the same bits), and the gates and states it writes are held to the gate maths' f32
//     error: |got - want| <= 1e-6 (1 + |want|) (a sigmoid or tanh within EPS_ACT = 1.2e-7, a handful of f32
//     roundings of values of size |want|; the largest seen over the property's cases is 1.4e-7 (1 + |want|));
//   - values computed from a product of values the kernel computes in f32 (an LSTM projection's r_t, GRU reset
//     before's r h_{t-1}) are one quantization level apart now and then, so what follows them is checked from the
//     kernel's own input (the exact products above), not from the mirror's.
// Sizes: H 1..37, P 1..H (projection), B 1..5, T 1..6, both directions, with and without biases, lengths (0 for
// ended rows), random initial states; int8 and int12 levels for Q16, and Q8 (skipped in the relaxed build on V8 < 12,
// whose baseline compiler computes the relaxed dot wrongly: quant.test.ts).
import { beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { lstmForward, lstmGateWidth } from "../../src/reference/lstm.js";
import { gruForward } from "../../src/reference/gru.js";
import { rnnForward } from "../../src/reference/rnn.js";
import { product, rowsOf, type QuantMatrix } from "../../src/reference/product.js";
import { quantizeRows, QMAX_INT12, QMAX_INT8 } from "../../src/reference/quant.js";
import { quantMatrixLayout, quantRowStride, type QuantForm } from "../../src/quant-layout.js";
import { roundUp4 } from "../../src/layout.js";
import { BUILDS, loadRuntimes, padBlocks, unpadBlocks, withWasm, type WasmScope } from "./harness.js";
import { randomF32, randomLengths, rng } from "../helpers/random.js";
import type { Runtimes } from "../helpers/runtimes.js";
import type { Build } from "../../src/runtime.js";

const RELAXED_DOT_SOUND = Number(process.versions.v8.split(".")[0]) >= 12;
const buildsFor = (form: QuantForm): Build[] => BUILDS.filter((b) => form === "q16" || b !== "relaxed" || RELAXED_DOT_SOUND);

type Kind = "lstm" | "gru" | "rnn";
interface StepCase {
  kind: Kind;
  H: number;
  P: number; // LSTM projection size (H: none)
  B: number;
  T: number;
  reverse: boolean;
  bias: boolean;
  lengths: boolean;
  flag: boolean; // GRU resetAfter, RNN relu
  form: QuantForm;
  qmax: number;
  seed: number;
}

const caseArb: fc.Arbitrary<StepCase> = fc.record({
  kind: fc.constantFrom<Kind>("lstm", "gru", "rnn"),
  H: fc.integer({ min: 1, max: 37 }),
  P: fc.integer({ min: 1, max: 37 }),
  proj: fc.boolean(),
  B: fc.integer({ min: 1, max: 5 }),
  T: fc.integer({ min: 1, max: 6 }),
  reverse: fc.boolean(),
  bias: fc.boolean(),
  lengths: fc.boolean(),
  flag: fc.boolean(),
  form: fc.constantFrom<QuantForm>("q16", "q8"),
  int12: fc.boolean(),
  seed: fc.integer(),
}).map(({ proj, int12, ...c }) => ({
  ...c, P: c.kind === "lstm" && proj ? Math.min(c.P, c.H) : c.H, qmax: c.form === "q16" && int12 ? QMAX_INT12 : QMAX_INT8,
}));

const gatesOf = (k: Kind) => (k === "lstm" ? 4 : k === "gru" ? 3 : 1);

/** The mirror's matrix: W (G*R, C) quantized per row as the packers do (Q8 weights have 127 levels). */
function quantMatrix(form: QuantForm, W: Float32Array, N: number, C: number, qmax: number): QuantMatrix {
  const q = form === "q16" ? new Int16Array(N * C) : new Int8Array(N * C);
  const scale = new Float32Array(N);
  quantizeRows(q, C, scale, W, C, N, C, form === "q16" ? qmax : QMAX_INT8);
  return { form, q, scale, qmax };
}

/** The kernel's matrix block, packed by the build's own packer; its three pointers. */
function putQuant(w: WasmScope, form: QuantForm, W: Float32Array, G: number, R: number, C: number, qmax: number) {
  const L = quantMatrixLayout(form, G, R, C);
  const ptr = w.alloc(L.totalBytes / 4, NaN, `quantized ${G}x${R}x${C}`);
  const src = w.put(W, "float weights");
  if (form === "q16") w.k.packQ16(ptr + L.weights, ptr + L.scales, src, G, R, C, qmax);
  else w.k.packQ8(ptr + L.weights, ptr + L.scales, ptr + L.corr, src, G, R, C);
  return { w: ptr + L.weights, sw: ptr + L.scales, corr: form === "q8" ? ptr + L.corr : 0 };
}

/** Holds got to want within the gate maths' f32 error (header). */
function expectNear(what: string, got: ArrayLike<number>, want: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    const tol = 1e-6 * (1 + Math.abs(want[i]));
    if (!(err <= tol)) throw new Error(`${what}: element ${i}: got ${got[i]}, want ${want[i]} (|err| ${err} > ${tol})`);
    worst = Math.max(worst, err / (1 + Math.abs(want[i])));
  }
  return worst;
}

function expectBits(what: string, got: ArrayLike<number>, want: ArrayLike<number>): void {
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(Math.fround(got[i]), Math.fround(want[i]))) throw new Error(`${what}: element ${i}: got ${got[i]}, want ${want[i]} (bit for bit)`);
  }
}

const sub = (a: ArrayLike<number>, from: number, n: number) => Float32Array.from({ length: n }, (_, i) => a[from + i]);

/** Runs one case on one build and checks every step; returns the worst relative error seen. */
function checkCase(rts: Runtimes, c: StepCase, build: Build): number {
  const { kind, H, P, B, T, form, qmax } = c;
  const G = gatesOf(kind);
  const next = rng(c.seed);
  const Hp = roundUp4(H), Pp = roundUp4(P);
  const xz = randomF32(T * B * G * H, next, 2);
  const Wh = randomF32(G * H * P, next, 1 / Math.sqrt(P));
  const bh = c.bias ? randomF32(G * H, next, 1) : null;
  const Wr = kind === "lstm" && P < H ? randomF32(P * H, next, 1 / Math.sqrt(H)) : null;
  const h0 = randomF32(B * P, next, 1);
  const c0 = randomF32(B * H, next, 1);
  const lengths = c.lengths ? randomLengths(B, T, next) : null;
  const qWh = quantMatrix(form, Wh, G * H, P, qmax);
  const qWr = Wr && quantMatrix(form, Wr, P, H, qmax);
  const width = kind === "lstm" ? 4 * Hp + (Wr ? Hp : 0) : kind === "gru" ? 5 * Hp : 0;
  const first = c.reverse ? T : 0;
  const run = withWasm(rts[build], (w) => {
    const xzP = w.put(padBlocks(xz, T * B, G, H), "xz");
    const wh = putQuant(w, form, Wh, G, H, P, qmax);
    const wr = Wr ? putQuant(w, form, Wr, 1, P, H, qmax) : { w: 0, sw: 0, corr: 0 };
    const bhP = bh ? w.put(padBlocks(bh, 1, G, H), "bh") : 0;
    const lenP = lengths ? w.putI32(lengths, "lengths") : 0;
    const hs = w.alloc((T + 1) * B * Pp, 0, "hs");
    w.write(hs, first * B * Pp, padBlocks(h0, B, 1, P));
    const cs = w.alloc((T + 1) * B * Hp, 0, "cs");
    w.write(cs, first * B * Hp, padBlocks(c0, B, 1, H));
    const gates = width ? w.alloc(T * B * width, NaN, "gates") : 0;
    const aq = w.alloc(Math.ceil((B * quantRowStride(form, Math.max(P, H)) * (form === "q16" ? 2 : 1)) / 4), NaN, "aq");
    const sa = w.alloc(B, NaN, "sa");
    const rev = c.reverse ? 1 : 0;
    const k = w.k;
    if (kind === "lstm") {
      if (form === "q16") k.lstmForwardQ16(hs, cs, gates, xzP, wh.w, wh.sw, bhP, wr.w, wr.sw, aq, sa, T, B, H, P, rev, 1, lenP, qmax);
      else k.lstmForwardQ8(hs, cs, gates, xzP, wh.w, wh.sw, wh.corr, bhP, wr.w, wr.sw, wr.corr, aq, sa, T, B, H, P, rev, 1, lenP);
    } else if (kind === "gru") {
      const ra = c.flag ? 1 : 0;
      if (form === "q16") k.gruForwardQ16(hs, gates, xzP, wh.w, wh.sw, bhP, aq, sa, T, B, H, ra, rev, 1, lenP, qmax);
      else k.gruForwardQ8(hs, gates, xzP, wh.w, wh.sw, wh.corr, bhP, aq, sa, T, B, H, ra, rev, 1, lenP);
    } else {
      const relu = c.flag ? 1 : 0;
      if (form === "q16") k.rnnForwardQ16(hs, xzP, wh.w, wh.sw, bhP, aq, sa, T, B, H, relu, rev, lenP, qmax);
      else k.rnnForwardQ8(hs, xzP, wh.w, wh.sw, wh.corr, bhP, aq, sa, T, B, H, relu, rev, lenP);
    }
    w.checkGuards(`${kind} ${form}`);
    return {
      hs: unpadBlocks(w.read(hs, (T + 1) * B * Pp), (T + 1) * B, 1, P),
      cs: unpadBlocks(w.read(cs, (T + 1) * B * Hp), (T + 1) * B, 1, H),
      gates: width ? unpadBlocks(w.read(gates, T * B * width), T * B, width / Hp, H) : null,
      hsPadded: w.read(hs, (T + 1) * B * Pp),
    };
  });
  // padding lanes of every state slot stay zero
  for (let i = 0; i < run.hsPadded.length; i++) if (i % Pp >= P) expect(run.hsPadded[i], `${build}: hs padding lane ${i}`).toBe(0);
  let worst = 0;
  const wG = width / Hp; // gate blocks kept per row
  for (let step = 0; step < T; step++) {
    const t = c.reverse ? T - 1 - step : step;
    const prev = c.reverse ? t + 1 : t, nxt = c.reverse ? t : t + 1;
    const at = `${kind} ${JSON.stringify(c)} ${build}, step ${step} (t=${t})`;
    const hPrev = sub(run.hs, prev * B * P, B * P);
    const cPrev = sub(run.cs, prev * B * H, B * H);
    const xzt = sub(xz, t * B * G * H, B * G * H);
    const len1 = lengths && lengths.map((n) => (t >= n ? 0 : 1));
    const hGot = sub(run.hs, nxt * B * P, B * P);
    const gGot = run.gates && sub(run.gates, t * B * wG * H, B * wG * H);
    // the mirror's step from the kernel's state
    const hs1 = new Float32Array(2 * B * P);
    hs1.set(hPrev);
    if (kind === "lstm") {
      const cs1 = new Float32Array(2 * B * H);
      cs1.set(cPrev);
      const g1 = new Float32Array(B * lstmGateWidth(H, Wr !== null));
      lstmForward(hs1, cs1, g1, xzt, qWh, bh, qWr, 1, B, H, P, false, len1);
      worst = Math.max(worst, expectNear(`${at}: gates`, gGot!, g1));
      worst = Math.max(worst, expectNear(`${at}: c`, sub(run.cs, nxt * B * H, B * H), cs1.subarray(B * H)));
      if (!Wr) worst = Math.max(worst, expectNear(`${at}: h`, hGot, hs1.subarray(B * P)));
      else {
        // h_t = W_hr r_t from the kernel's own r, bit for bit (ended rows keep h_{t-1})
        const want = new Float32Array(B * P);
        product(want, P, gGot!.subarray(4 * H), 5 * H, qWr!, H, null, B, H, P);
        for (let b = 0; b < B; b++) if (len1 && len1[b] === 0) want.set(hPrev.subarray(b * P, (b + 1) * P), b * P);
        expectBits(`${at}: h = W_hr r`, hGot, want);
      }
    } else if (kind === "gru") {
      const g1 = new Float32Array(B * 5 * H);
      gruForward(hs1, g1, xzt, qWh, bh, 1, B, H, c.flag, false, len1);
      // hn from the kernel's own input, bit for bit: h_{t-1} (reset after) or r h_{t-1} (reset before)
      const hn = new Float32Array(B * 5 * H);
      const input = c.flag ? hPrev : gGot!.subarray(4 * H);
      product(hn.subarray(3 * H), 5 * H, input, c.flag ? H : 5 * H, rowsOf(qWh, 2 * H, H), H, bh && bh.subarray(2 * H), B, H, H);
      for (let b = 0; b < B; b++) {
        if (len1 && len1[b] === 0) continue;
        expectBits(`${at}: hn row ${b}`, gGot!.subarray(b * 5 * H + 3 * H, b * 5 * H + 4 * H), hn.subarray(b * 5 * H + 3 * H, b * 5 * H + 4 * H));
      }
      if (c.flag) {
        worst = Math.max(worst, expectNear(`${at}: gates`, gGot!.filter((_, i) => i % (5 * H) < 4 * H), g1.filter((_, i) => i % (5 * H) < 4 * H)));
        worst = Math.max(worst, expectNear(`${at}: h`, hGot, hs1.subarray(B * H)));
      } else {
        // r, z, r h_{t-1} from the mirror; n and h from the kernel's hn
        const rz = (g: ArrayLike<number>) => Array.from(g).filter((_, i) => i % (5 * H) < 2 * H || i % (5 * H) >= 4 * H);
        worst = Math.max(worst, expectNear(`${at}: r, z, r h`, rz(gGot!), rz(g1)));
        const nWant = new Float64Array(B * H), hWant = new Float64Array(B * H);
        for (let b = 0; b < B; b++) {
          for (let j = 0; j < H; j++) {
            const ended = len1 && len1[b] === 0;
            const z = gGot![b * 5 * H + H + j];
            const n = Math.tanh(xzt[b * 3 * H + 2 * H + j] + gGot![b * 5 * H + 3 * H + j]);
            nWant[b * H + j] = ended ? 0 : n;
            hWant[b * H + j] = ended ? hPrev[b * H + j] : (1 - z) * n + z * hPrev[b * H + j];
          }
        }
        worst = Math.max(worst, expectNear(`${at}: n`, Array.from(gGot!).filter((_, i) => i % (5 * H) >= 2 * H && i % (5 * H) < 3 * H), nWant));
        worst = Math.max(worst, expectNear(`${at}: h`, hGot, hWant));
      }
    } else {
      rnnForward(hs1, xzt, qWh, bh, 1, B, H, c.flag, false, len1);
      worst = Math.max(worst, expectNear(`${at}: h`, hGot, hs1.subarray(B * H)));
    }
  }
  return worst;
}

describe("quantized step kernels (wasm) vs the mirror, all builds: exact products, gate maths to f32", () => {
  let rts: Runtimes;
  beforeAll(async () => {
    rts = await loadRuntimes();
  });

  it("LSTM (projection), GRU (both forms), RNN (tanh, relu) in Q16 int8/int12 and Q8, step by step", () => {
    let worst = 0;
    fc.assert(
      fc.property(caseArb, (c) => {
        for (const build of buildsFor(c.form)) worst = Math.max(worst, checkCase(rts, c, build));
      }),
      { numRuns: 150 },
    );
    expect(worst).toBeLessThan(1e-6);
  });

  it("every kind and form at sizes that are not multiples of 4, 8 or 16, both directions, with lengths", () => {
    for (const kind of ["lstm", "gru", "rnn"] as const) {
      for (const form of ["q16", "q8"] as const) {
        for (const flag of [false, true]) {
          const c: StepCase = { kind, H: 19, P: kind === "lstm" && flag ? 13 : 19, B: 3, T: 5, reverse: flag, bias: true,
            lengths: true, flag, form, qmax: QMAX_INT8, seed: 7 };
          for (const build of buildsFor(form)) checkCase(rts, c, build);
        }
      }
    }
  });
});
