// src/reference/gemm.ts: the plain-TypeScript mirror of assembly/gemm.ts, written for clarity, not speed.
// Weights are in PyTorch's own layout, not the kernels' packed one: where assembly/gemm.ts's gemm reads w as (K,N)
// in panels, this one reads w as (N,K) with row stride ldw; so the kernels' packTransposed has no mirror here (a
// product with Wᵀ is gemmBackwardInput) and their packWeights is src/layout.ts's pack.
import type { Vec } from "./math.js";

/**
 * out[m, n] (+)= sum_k a[m, k] * w[n, k] + bias[n]  (a is (M,K) with row stride lda, w is (N,K) with row
 * stride ldw, out is (M,N) with row stride ldo; bias may be null). With `accumulate` the old out is kept.
 */
export function gemm(
  out: Vec, ldo: number,
  a: Vec, lda: number, w: Vec, ldw: number, bias: Vec | null,
  M: number, K: number, N: number, accumulate: boolean,
): void {
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += a[m * lda + k] * w[n * ldw + k];
      if (bias) acc += bias[n];
      out[m * ldo + n] = accumulate ? out[m * ldo + n] + acc : acc;
    }
  }
}

// gemm's backward products, on the same (N,K) weight layout as gemm above:
//   gemmBackwardInput:  da[m, k] (+)= sum_n dout[m, n] * w[n, k]   (the kernels' gemm against packTransposed's Wᵀ)
//   gemmBackwardWeight: dw[n, k]  += sum_m dout[m, n] * a[m, k]

export function gemmBackwardInput(
  da: Vec, lda: number,
  dout: Vec, ldo: number, w: Vec, ldw: number,
  M: number, K: number, N: number, accumulate: boolean,
): void {
  for (let m = 0; m < M; m++) {
    for (let k = 0; k < K; k++) {
      let acc = 0;
      for (let n = 0; n < N; n++) acc += dout[m * ldo + n] * w[n * ldw + k];
      da[m * lda + k] = accumulate ? da[m * lda + k] + acc : acc;
    }
  }
}

export function gemmBackwardWeight(
  dw: Vec, ldw: number,
  a: Vec, lda: number, dout: Vec, ldo: number,
  M: number, K: number, N: number,
): void {
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      let acc = 0;
      for (let m = 0; m < M; m++) acc += dout[m * ldo + n] * a[m * lda + k];
      dw[n * ldw + k] += acc;
    }
  }
}
