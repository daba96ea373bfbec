// test/kernels/quant-error.test.ts: the error quantization itself makes, against the float64 product of the
// unquantized weights and activations: y[m,n] = sum_k W[n,k] x[m,k] + b[n], and ŷ what gemmQ16 / gemmQ8 give
// (quantize.test.ts shows every build gives the mirror's bits, so one build stands for all; this file uses simd).
//
// Two things are checked. First, a bound that holds element by element whatever the data: weights rounded to the
// nearest of their row's levels are within sw[n]/2 of W, activations within sa[m]/2 of x, and
// y - ŷ = sum_k (W - Ŵ) x + Ŵ (x - x̂) exactly, so
//   |ŷ - y| <= sw[n]/2 sum_k |x[m,k]| + sa[m]/2 sum_k |Ŵ[n,k]| + (the f32 rounding of ŷ, quant.test.ts's bound).
// Second, the size of the error on the shape that matters (W_hh of an LSTM with H = 256: 1024 x 256, PyTorch's
// U(±1/16) init) for three kinds of activations: a hidden state (tanh of a normal: in (-1, 1), many near ±1), an
// input (normal: heavier tails, so the row's max sets a coarser step), and uniform values. The relative error
// ||ŷ - y|| / ||y - b|| over all elements is printed for docs/quantization.md and held below the stated limits.
import { beforeAll, describe, expect, it } from "vitest";
import { quantizeRows, QCHUNK, QMAX_INT12, QMAX_INT8 } from "../../src/reference/quant.js";
import { packQuantized, quantMatrixLayout, quantRowStride, type QuantForm } from "../../src/quant-layout.js";
import { gamma, loadRuntimes, withWasm } from "./harness.js";
import { rng, type Rng } from "../helpers/random.js";
import { type Runtimes } from "../helpers/runtimes.js";

const N = 1024, K = 256, M = 16;

/** A standard normal (Box-Muller) from a uniform generator. */
const normal = (next: Rng) => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());

const DISTRIBUTIONS = {
  "hidden state tanh(N(0,1.5²))": (next: Rng) => Math.tanh(1.5 * normal(next)),
  "input N(0,1)": (next: Rng) => normal(next),
  "uniform U(-1,1)": (next: Rng) => 2 * next() - 1,
} as const;
type Dist = keyof typeof DISTRIBUTIONS;

const FORMS = [
  { name: "int8  (Q16, 8-bit activations)", form: "q16" as QuantForm, qmax: QMAX_INT8, aqmax: QMAX_INT8 },
  { name: "int12 (Q16, 12-bit activations)", form: "q16" as QuantForm, qmax: QMAX_INT12, aqmax: QMAX_INT12 },
  { name: "int8  (Q8, 7-bit activations)", form: "q8" as QuantForm, qmax: QMAX_INT8, aqmax: 63 },
];

/** The limits on ||ŷ - y|| / ||y - b|| this file holds each form to (about 1.5x the largest measured here). */
const LIMIT: Record<string, number> = { q16_127: 0.012, q16_2047: 0.00075, q8_127: 0.022 };

describe("quantization error against float64 (1024 x 256, per-row weights, per-row activations)", () => {
  let rts: Runtimes;
  beforeAll(async () => {
    rts = await loadRuntimes();
  });
  const table: string[] = [];

  for (const dist of Object.keys(DISTRIBUTIONS) as Dist[]) {
    it(`${dist}: within the rounding bound element by element, and the relative error below the stated limit`, () => {
      const next = rng(0x5eed + dist.length);
      const W = Float32Array.from({ length: N * K }, () => (2 * next() - 1) / 16);
      const b = Float32Array.from({ length: N }, () => (2 * next() - 1) / 16);
      const x = Float32Array.from({ length: M * K }, () => DISTRIBUTIONS[dist](next));
      // y in float64, and the activations' row sums of |x| the bound needs
      const y = new Float64Array(M * N);
      const xAbs = new Float64Array(M);
      for (let m = 0; m < M; m++) {
        for (let k = 0; k < K; k++) xAbs[m] += Math.abs(x[m * K + k]);
        for (let n = 0; n < N; n++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += W[n * K + k] * x[m * K + k];
          y[m * N + n] = s + b[n];
        }
      }
      for (const f of FORMS) {
        const wq = f.form === "q16" ? new Int16Array(N * K) : new Int8Array(N * K);
        const sw = new Float32Array(N);
        quantizeRows(wq, K, sw, W, K, N, K, f.qmax);
        const L = quantMatrixLayout(f.form, 1, N, K);
        const block = new Uint8Array(L.totalBytes);
        packQuantized(block, wq, sw, f.form, 1, N, K);
        const lda = quantRowStride(f.form, K);
        const { got, sa, aqv } = withWasm(rts.simd, (w) => {
          const bp = w.alloc(L.totalBytes / 4, 0, "weights");
          new Uint8Array(w.k.memory.buffer, bp, L.totalBytes).set(block);
          const xp = w.put(x, "x"), bias = w.put(b, "bias");
          const aq = w.alloc(Math.ceil((M * lda * (f.form === "q16" ? 2 : 1)) / 4), NaN, "aq");
          const sa = w.alloc(M, NaN, "sa"), out = w.alloc(M * N, NaN, "out");
          if (f.form === "q16") {
            w.k.quantizeQ16(aq, lda, sa, xp, K, M, K, f.aqmax);
            w.k.gemmQ16(out, N, aq, lda, sa, bp + L.weights, L.panelStride, bp + L.scales, bias, M, K, N, 0);
          } else {
            w.k.quantizeQ8(aq, lda, sa, xp, K, M, K);
            w.k.gemmQ8(out, N, aq, lda, sa, bp + L.weights, L.panelStride, bp + L.scales, bp + L.corr, bias, M, K, N, 0);
          }
          const aqv = f.form === "q16" ? new Int16Array(w.k.memory.buffer, aq, M * lda).slice() : new Uint8Array(w.k.memory.buffer, aq, M * lda).slice();
          return { got: w.read(out, M * N), sa: w.read(sa, M), aqv };
        });
        const wAbs = new Float64Array(N); // sum_k |Ŵ[n,k]|
        for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) wAbs[n] += Math.abs(wq[n * K + k] * sw[n]);
        let num = 0, den = 0;
        for (let m = 0; m < M; m++) {
          for (let n = 0; n < N; n++) {
            const i = m * N + n;
            const err = Math.abs(got[i] - y[i]);
            const rounding = gamma(Math.ceil(K / QCHUNK) + 3) * (wAbs[n] * (xAbs[m] + (K * sa[m]) / 2) + Math.abs(b[n])); // sum |Ŵ x̂| >= sum |S| sw sa
            const bound = (sw[n] / 2) * xAbs[m] + (sa[m] / 2) * wAbs[n] + rounding;
            if (!(err <= bound)) throw new Error(`${f.name}, ${dist}: out[${m}, ${n}] = ${got[i]}, float64 ${y[i]}, bound ${bound}`);
            num += err ** 2;
            den += (y[i] - b[n]) ** 2;
          }
        }
        const rel = Math.sqrt(num / den);
        // for the record: the part of the error each quantization makes alone, ||Ŵx - Wx|| and ||Wx̂ - Wx|| (over ||Wx||)
        const offset = f.form === "q8" ? 64 : 0;
        let ew = 0, ea = 0;
        for (let m = 0; m < M; m++) {
          for (let n = 0; n < N; n++) {
            let dw = 0, da = 0;
            for (let k = 0; k < K; k++) {
              const xv = x[m * K + k], wv = W[n * K + k];
              dw += (wq[n * K + k] * sw[n] - wv) * xv;
              da += wv * ((aqv[m * lda + k] - offset) * sa[m] - xv);
            }
            ew += dw ** 2;
            ea += da ** 2;
          }
        }
        const pct = (v: number) => `${(100 * v).toFixed(3)}%`.padStart(7);
        table.push(`  ${dist.padEnd(30)} ${f.name.padEnd(34)} ${pct(rel)}   weights alone ${pct(Math.sqrt(ew / den))}, activations alone ${pct(Math.sqrt(ea / den))}`);
        expect(rel, `${f.name}, ${dist}`).toBeLessThan(LIMIT[`${f.form}_${f.qmax}`]);
      }
      if (dist === "uniform U(-1,1)") console.log(`Quantization error ||ŷ - y|| / ||Wx||, ${N} x ${K}, ${M} rows:\n${table.join("\n")}`);
    });
  }
});
