// src/reference/math.ts: the plain-TypeScript mirror of assembly/math.ts, written for clarity, not speed.
// Arrays are Float32Array (values rounded to f32 on every store, as the kernels do) or Float64Array (for an
// oracle with float64 rounding). Weights are in PyTorch's own layout, not the kernels' packed one:
// where assembly/math.ts's gemm reads w as (K,N), this one reads w as (N,K) with row stride ldw.

export type Vec = Float32Array | Float64Array;

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export function tanh(x: number): number {
  return Math.tanh(x);
}

export function sigmoidForward(out: Vec, x: Vec, n: number): void {
  for (let i = 0; i < n; i++) out[i] = sigmoid(x[i]);
}

export function tanhForward(out: Vec, x: Vec, n: number): void {
  for (let i = 0; i < n; i++) out[i] = tanh(x[i]);
}

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
