// src/reference/quant.ts: the plain-TypeScript mirror of assembly/quant.ts, written for clarity, not speed. It computes
// the same integers and the same f32 roundings in the same order, so its results equal the kernels' bit for bit on
// every build. Weights are in PyTorch's own layout, (N,K) with row stride ldw, not the kernels' packed one
// (src/quant-layout.ts packs them); so gemmQ8 here takes no `corr`: it subtracts the activations' offset of 64
// itself, where the kernel subtracts 64 * the weight row sums the packer stored.
//
//   quantizeRows: q[m,k] = nearest(x[m,k] * (qmax / amax_m)), scale[m] = amax_m / qmax   (weights and activations)
//   quantizeQ16 / quantizeQ8: the activations' forms (int16 lanes; uint8 lanes of 7 bits + 64)
//   gemmQ16: out[m,n] (+)= f32(sum over chunks of QCHUNK k of the int32 sum aq·wq) * sw[n] * sa[m] + bias[n]
//   gemmQ8:  out[m,n] (+)= f32(sum_k (aq[m,k] - 64) wq[n,k]) * sw[n] * sa[m] + bias[n]
import type { Vec } from "./math.js";

/** k per int32 chunk of gemmQ16 (assembly/quant.ts QCHUNK): |sum| <= 2047 * 2047 * 512 < 2^31. */
export const QCHUNK = 512;
/** Rows whose max |x| is below this (rounded to f32) quantize to zeros with scale 0. */
export const QUANT_TINY = Math.fround(1e-30);
/** The quantization levels: int8 and int12 (weights and Q16 activations), 7 bits (Q8 activations). */
export const QMAX_INT8 = 127;
export const QMAX_INT12 = 2047;
export const Q8_QMAX = 63;
export const Q8_OFFSET = 64;

const f32 = Math.fround;

/** wasm's f32.nearest: round half to even. */
export function nearest(x: number): number {
  const r = Math.round(x); // half up
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** wasm's i32.trunc_sat_f32_s on an integral value: NaN is 0, values beyond int32 saturate. */
function truncSat(x: number): number {
  if (Number.isNaN(x)) return 0;
  return Math.max(-2147483648, Math.min(2147483647, Math.trunc(x)));
}

/** max |x[k]| for k < K from `at`, as wasm's f32.max does it (NaN wins). */
function rowAmax(x: Vec, at: number, K: number): number {
  let amax = 0;
  for (let k = 0; k < K; k++) {
    const v = Math.abs(x[at + k]);
    amax = Number.isNaN(v) || Number.isNaN(amax) ? NaN : Math.max(amax, v);
  }
  return amax;
}

/**
 * Symmetric per-row quantization: q (M, ldq) gets nearest(x * f32(qmax / amax)) for k < K, zeros after; scale (M)
 * gets f32(amax / qmax). The kernels quantize activations with it (quantizeQ16, quantizeQ8), and the weights are
 * quantized with it once per output row.
 */
export function quantizeRows(
  q: Int8Array | Int16Array, ldq: number, scale: Float32Array,
  x: Vec, ldx: number, M: number, K: number, qmax: number,
): void {
  for (let m = 0; m < M; m++) {
    const amax = rowAmax(x, m * ldx, K);
    const tiny = amax < QUANT_TINY;
    const inv = tiny ? 0 : f32(qmax / amax);
    scale[m] = tiny ? 0 : f32(amax / qmax);
    for (let k = 0; k < K; k++) q[m * ldq + k] = truncSat(nearest(f32(x[m * ldx + k] * inv)));
    q.fill(0, m * ldq + K, (m + 1) * ldq);
  }
}

/** The Q16 form's activations: int16 lanes (qmax 127 for int8, 2047 for int12); lanes K..ldq-1 are 0. */
export function quantizeQ16(q: Int16Array, ldq: number, sa: Float32Array, x: Vec, ldx: number, M: number, K: number, qmax: number): void {
  quantizeRows(q, ldq, sa, x, ldx, M, K, qmax);
}

/** The Q8 form's activations: 7 bits (qmax 63) plus 64 in uint8 lanes, 1..127; lanes K..ldq-1 are 64 (zero). */
export function quantizeQ8(q: Uint8Array, ldq: number, sa: Float32Array, x: Vec, ldx: number, M: number, K: number): void {
  const signed = new Int8Array(M * ldq);
  quantizeRows(signed, ldq, sa, x, ldx, M, K, Q8_QMAX);
  for (let i = 0; i < M * ldq; i++) q[i] = signed[i] + Q8_OFFSET;
}

/** out = f * sw * sa (+ bias) (+ old), one f32 rounding per operation, in the kernels' order. */
function finish(out: Vec, o: number, f: number, sw: number, sa: number, bias: Vec | null, n: number, accumulate: boolean): void {
  let v = f32(f32(f * sw) * sa);
  if (bias) v = f32(v + bias[n]);
  out[o] = accumulate ? f32(out[o] + v) : v;
}

/**
 * out[m, n] (+)= (the int32 sums of aq[m, k] * w[n, k] over chunks of QCHUNK k, each rounded to f32 and added in
 * order) * sw[n] * sa[m] + bias[n]. aq is (M,K) int16 with row stride lda, w (N,K) int16 with row stride ldw.
 */
export function gemmQ16(
  out: Vec, ldo: number,
  aq: Int16Array, lda: number, sa: Float32Array, w: Int16Array, ldw: number, sw: Float32Array, bias: Vec | null,
  M: number, K: number, N: number, accumulate: boolean,
): void {
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let f = 0;
      for (let k0 = 0; k0 < K; k0 += QCHUNK) {
        let c = 0; // exact: |c| < 2^31
        for (let k = k0; k < Math.min(K, k0 + QCHUNK); k++) c += aq[m * lda + k] * w[n * ldw + k];
        f = f32(f + f32(c));
      }
      finish(out, m * ldo + n, f, sw[n], sa[m], bias, n, accumulate);
    }
  }
}

/**
 * out[m, n] (+)= f32(sum_k (aq[m, k] - 64) * w[n, k]) * sw[n] * sa[m] + bias[n]. aq is (M,K) uint8 (7-bit
 * activations + 64) with row stride lda, w (N,K) int8 with row stride ldw.
 */
export function gemmQ8(
  out: Vec, ldo: number,
  aq: Uint8Array, lda: number, sa: Float32Array, w: Int8Array, ldw: number, sw: Float32Array, bias: Vec | null,
  M: number, K: number, N: number, accumulate: boolean,
): void {
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let c = 0;
      for (let k = 0; k < K; k++) c += (aq[m * lda + k] - Q8_OFFSET) * w[n * ldw + k];
      finish(out, m * ldo + n, f32(c), sw[n], sa[m], bias, n, accumulate);
    }
  }
}
