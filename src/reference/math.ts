// src/reference/math.ts: the plain-TypeScript mirror of assembly/math.ts, written for clarity, not speed:
// activations, the whole-buffer helpers of the backward pass, and the variable-length rule. Arrays are
// Float32Array (values rounded to f32 on every store, as the kernels do) or Float64Array (for an oracle with
// float64 rounding).

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

// gemm's bias gradient (gemm and its other backward products are in gemm.ts):
//   biasBackward: db[n] += sum_m dout[m, n]
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
