// src/tensor.ts: the tensor type of the public API (a shape and float32 data, row-major) and its checks.
import { RnnError } from "./errors.js";

/** A dense row-major float32 tensor: `data.length` equals the product of `shape`. */
export interface Tensor {
  /** Sizes of the axes, outermost first (PyTorch's `tensor.shape`). */
  shape: number[];
  /** The values, row-major (the last axis varies fastest). */
  data: Float32Array;
}

/** What to do with NaN or Infinity in an input: `'error'` (default) refuses it, `'propagate'` lets IEEE rules run. */
export type NanPolicy = "error" | "propagate";

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Makes a {@link Tensor}: zeros when `data` is omitted, otherwise `data` itself (not copied), after checking that
 * its length is the product of `shape`.
 *
 * @param shape sizes of the axes, outermost first (copied)
 * @param data row-major values; default zeros
 * @returns `{ shape, data }`
 * @throws RnnError `shape` when `data.length` does not match `shape`
 * @example
 * ```ts
 * const x = tensor([2, 3], Float32Array.of(1, 2, 3, 4, 5, 6)); // x[1][0] is x.data[1 * 3 + 0] = 4
 * const zeros = tensor([10, 1, 8]); // 80 zeros
 * ```
 */
export function tensor(shape: number[], data?: Float32Array): Tensor {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new RnnError("shape", `tensor shape must be an array of non-negative integers, got ${Array.isArray(shape) ? `[${shape.map(String).join(", ")}]` : String(shape)}`);
  }
  const n = numel(shape);
  if (data !== undefined) {
    if (!(data instanceof Float32Array)) throw new RnnError("dtype", `tensor data must be a Float32Array, got ${(data as object)?.constructor?.name ?? String(data)}`);
    if (data.length !== n) throw new RnnError("shape", `tensor data has ${data.length} values but shape [${shape}] needs ${n}`);
    return { shape: [...shape], data };
  }
  return { shape: [...shape], data: zeros(n, `a tensor of shape [${shape}]`) };
}

/** Most floats we put in one Float32Array: within every engine's typed-array limit (2^31 - 1 elements or more). */
const MAX_ARRAY_FLOATS = 2 ** 31 - 1;

/** `new Float32Array(n)`, or RnnError('memory') naming `what` when n is beyond what one array (or the host) holds. */
export function zeros(n: number, what: string): Float32Array {
  if (!(n <= MAX_ARRAY_FLOATS)) {
    throw new RnnError("memory", `${what} would hold ${n} floats, more than one Float32Array may (${MAX_ARRAY_FLOATS})`);
  }
  try {
    return new Float32Array(n);
  } catch (e) {
    throw new RnnError("memory", `${what} (${n} floats) could not be allocated: ${(e as Error).message}`);
  }
}

/**
 * Zeroed arrays of the given lengths, all views of one allocation: a Float32Array of more than 64 bytes lives off
 * the V8 heap, and allocating one costs about as much as a small layer's whole step.
 */
export function carve(lengths: number[]): Float32Array[] {
  const all = zeros(lengths.reduce((s, n) => s + n, 0), "the results");
  let at = 0;
  return lengths.map((n) => all.subarray(at, (at += n)));
}

/** Checks that `t` is a well-formed Tensor: float32 data whose length matches its shape (any rank). */
function shapeText(expected: readonly (number | null)[]): string {
  return `[${expected.map((d) => (d === null ? "*" : d)).join(", ")}]`;
}

/** `want` describes the expected shape for messages: text, or the dims (null for any size). */
export function checkTensorData(name: string, t: unknown, want: string | readonly (number | null)[] = "the documented shape"): Tensor {
  if (t !== null && typeof t === "object" && (t as Tensor).data instanceof Float32Array && Array.isArray((t as Tensor).shape)) {
    const { shape, data } = t as Tensor;
    let n = 1;
    let ok = true;
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) ok = false;
      n *= d;
    }
    if (ok && data.length === n) return t as Tensor; // the common case, without building any message
  }
  if (typeof want !== "string") want = shapeText(want);
  if (t === null || typeof t !== "object" || !("shape" in t) || !("data" in t)) {
    throw new RnnError("dtype", `${name} must be a tensor { shape, data: Float32Array } of shape ${want}`);
  }
  const { shape, data } = t as Tensor;
  if (!(data instanceof Float32Array)) {
    const got = data === null ? "null" : (data as object)?.constructor?.name ?? typeof data;
    throw new RnnError("dtype", `${name}.data must be a Float32Array, got ${got}`);
  }
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new RnnError("shape", `${name}.shape must be an array of non-negative integers, expected ${want}`);
  }
  if (data.length !== numel(shape)) {
    throw new RnnError("shape", `${name}.data has ${data.length} values but its shape [${shape.join(", ")}] needs ${numel(shape)}`);
  }
  return t as Tensor;
}

/**
 * Refuses NaN and ±Infinity under the 'error' policy, naming the tensor and the first bad flat index.
 * Large arrays are scanned by three TypedArray builtins (`includes` finds NaN, as it compares with SameValueZero)
 * rather than a JavaScript loop: a model's first load checks every weight while this code is still cold, where a
 * loop costs about 30 ns a value (10 ms for the 330k weights of an LSTM(64, 256)) and the builtins about 1 ns.
 * Small arrays (a streaming step's input and state) take the loop, which is faster than three calls once hot.
 */
export function checkFinite(name: string, data: Float32Array, nan: NanPolicy): void {
  if (nan !== "error") return;
  let bad = -1;
  if (data.length > SCAN_WITH_BUILTINS) {
    if (data.includes(NaN) || data.includes(Infinity) || data.includes(-Infinity)) bad = data.findIndex((v) => !Number.isFinite(v));
  } else {
    for (let i = 0; i < data.length && bad < 0; i++) if (!Number.isFinite(data[i])) bad = i;
  }
  if (bad >= 0) {
    throw new RnnError("nonfinite", `${name} holds ${data[bad]} at flat index ${bad}; pass nanPolicy: 'propagate' to allow NaN/Infinity`);
  }
}
const SCAN_WITH_BUILTINS = 4096;

/** Checks that `t` is a Tensor of float32 data whose shape is `expected` (null entries match any size). */
export function checkTensor(name: string, t: unknown, expected: readonly (number | null)[], nan: NanPolicy = "error"): Tensor {
  // the message is only built when there is something to say: this runs on every call of the API
  const { shape, data } = checkTensorData(name, t, expected);
  let bad = shape.length !== expected.length;
  for (let k = 0; !bad && k < expected.length; k++) bad = expected[k] !== null && expected[k] !== shape[k];
  if (bad) throw new RnnError("shape", `${name} has shape [${shape.join(", ")}], expected ${shapeText(expected)}`);
  checkFinite(name, data, nan);
  return t as Tensor;
}
