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

// gemm's backward products, on the same (N,K) weight layout as gemm above:
//   gemmBackwardInput:  da[m, k] (+)= sum_n dout[m, n] * w[n, k]
//   gemmBackwardWeight: dw[n, k]  += sum_m dout[m, n] * a[m, k]
//   biasBackward:       db[n]     += sum_m dout[m, n]

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

export function biasBackward(db: Vec, dout: Vec, ldo: number, M: number, N: number): void {
  for (let n = 0; n < N; n++) {
    let acc = 0;
    for (let m = 0; m < M; m++) acc += dout[m * ldo + n];
    db[n] += acc;
  }
}

export function addInto(dst: Vec, src: Vec, n: number): void {
  for (let i = 0; i < n; i++) dst[i] += src[i];
}

/** Whether row b's sequence has ended before step t (lengths null: every row runs all steps). */
export function ended(lengths: Int32Array | null, b: number, t: number): boolean {
  return lengths !== null && t >= lengths[b];
}
