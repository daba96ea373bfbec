// src/quant-layout.ts: how the quantized kernels (assembly/quant.ts) see a weight matrix and a row of activations:
// every size, offset and stride of the two packed forms is a named function here, as src/layout.ts is for float32.
//
// A PyTorch matrix (G*R, C) of weights quantized per row (src/reference/quant.ts quantizeRows) becomes N = G*Rp
// output rows, each gate block padded to Rp = roundUp4(R) rows of zeros as in the float layout (so the product
// writes the same (B, G*Hp) gate rows the float gemm does), by K = C inputs. Rows go in panels of 8 (N padded to
// roundUp8(N) with zero rows), K is padded with zero weights to the form's depth:
//   Q16 (int16 values, "int8" or "int12"): depth roundUp2(K); element (n, k) at int16 index
//       (n >> 3) * depth*8 + (k >> 1) * 16 + (n & 7) * 2 + (k & 1)
//     so one v128 holds rows 4j..4j+3 of a panel at inputs k, k+1 (i32x4.dot_i16x8_s against a broadcast pair).
//   Q8 (int8 values): depth roundUp4(K); element (n, k) at byte
//       (n >> 3) * depth*8 + (k >> 2) * 32 + (n & 7) * 4 + (k & 3)
//     so one v128 holds rows 4j..4j+3 at inputs k..k+3 (the relaxed dot's quads).
// A quantized matrix's block: the packed weights, then roundUp8(N) f32 scales (zero for padding rows), then for Q8
// roundUp8(N) i32 corrections (64 * the row's weight sum: assembly/quant.ts gemmQ8); each part 16-byte aligned.
// Activation rows (quantizeQ16 / quantizeQ8 output) have a stride of roundUp8(K) int16 / roundUp16(K) bytes.
import { directions, gateCount, layerInputSize, outputSize, type Spec } from "./architecture.js";
import { roundUp4, roundUp8 } from "./layout.js";
import { Q8_OFFSET } from "./reference/quant.js";

export type QuantForm = "q16" | "q8";

/** Rows per panel of a packed quantized matrix. */
const QPANEL = 8;

const roundUp = (n: number, m: number) => Math.ceil(n / m) * m;

/** Elements of K a packed row holds: K padded with zero weights to whole pairs (Q16) or quads (Q8). */
export function quantDepth(form: QuantForm, K: number): number {
  return form === "q16" ? roundUp(K, 2) : roundUp(K, 4);
}

/** Bytes of one packed element. */
export function quantElementBytes(form: QuantForm): number {
  return form === "q16" ? 2 : 1;
}

/** Elements (int16 or int8) from one panel to the next: the kernels' wps. */
export function quantPanelStride(form: QuantForm, K: number): number {
  return quantDepth(form, K) * QPANEL;
}

/** Elements of a packed (N rows, K inputs) matrix. */
export function quantPackedSize(form: QuantForm, K: number, N: number): number {
  return (roundUp8(N) / QPANEL) * quantPanelStride(form, K);
}

/** Element index of (row n, input k) in a packed matrix of K inputs. */
export function quantPackedIndex(form: QuantForm, n: number, k: number, K: number): number {
  const panel = Math.floor(n / QPANEL) * quantPanelStride(form, K), j = n % QPANEL;
  return form === "q16"
    ? panel + Math.floor(k / 2) * 2 * QPANEL + j * 2 + (k % 2)
    : panel + Math.floor(k / 4) * 4 * QPANEL + j * 4 + (k % 4);
}

/**
 * Element offset of rows n0.. (n0 a multiple of 8) of a packed matrix of K inputs: whole panels in, as for GRU's n
 * block (rows 2·Hp.. of W_hh). Its scales and corrections start n0 entries in.
 */
export function quantPanelOffset(form: QuantForm, n0: number, K: number): number {
  if (n0 % QPANEL !== 0) throw new Error(`quantPanelOffset: row ${n0} does not start a panel of ${QPANEL}`);
  return (n0 / QPANEL) * quantPanelStride(form, K);
}

/** Row stride, in elements (int16 for Q16, bytes for Q8), of quantized activations with K inputs. */
export function quantRowStride(form: QuantForm, K: number): number {
  return form === "q16" ? roundUp8(K) : roundUp(K, 16);
}

/** Output rows of a (G*R, C) matrix in the kernels' padded order: gate block g's row j is n = g * Rp + j. */
export function quantRows(G: number, R: number): number {
  return G * roundUp4(R);
}

/** Where each part of a quantized matrix's block sits, in bytes from its start. */
export interface QuantMatrixLayout {
  form: QuantForm;
  N: number; // output rows, gate blocks padded: G * roundUp4(R)
  K: number;
  weights: number; // byte offset of the packed weights
  scales: number; // byte offset of roundUp8(N) f32 scales
  corr: number; // byte offset of roundUp8(N) i32 corrections (Q8), -1 for Q16
  panelStride: number; // the kernels' wps, in elements
  totalBytes: number;
}

export function quantMatrixLayout(form: QuantForm, G: number, R: number, C: number): QuantMatrixLayout {
  const N = quantRows(G, R);
  const aligned = (bytes: number) => roundUp(bytes, 16);
  const weights = 0;
  const scales = aligned(quantPackedSize(form, C, N) * quantElementBytes(form));
  const corr = form === "q8" ? scales + roundUp8(N) * 4 : -1;
  const end = form === "q8" ? corr + roundUp8(N) * 4 : scales + roundUp8(N) * 4;
  return { form, N, K: C, weights, scales, corr, panelStride: quantPanelStride(form, C), totalBytes: aligned(end) };
}

/**
 * Writes the quantized (G*R, C) matrix `q` (row scales `scale`, G*R of them) into `block` (a view of the matrix's
 * block, quantMatrixLayout's totalBytes long): packed weights with zero padding, scales (0 for padding rows), and for
 * Q8 the corrections.
 */
export function packQuantized(block: Uint8Array, q: Int8Array | Int16Array, scale: Float32Array, form: QuantForm, G: number, R: number, C: number): QuantMatrixLayout {
  const L = quantMatrixLayout(form, G, R, C);
  block.fill(0, 0, L.totalBytes);
  const Rp = roundUp4(R);
  const buf = block.buffer, at = block.byteOffset;
  const w = form === "q16"
    ? new Int16Array(buf, at + L.weights, quantPackedSize(form, C, L.N))
    : new Int8Array(buf, at + L.weights, quantPackedSize(form, C, L.N));
  const sw = new Float32Array(buf, at + L.scales, roundUp8(L.N));
  const corr = form === "q8" ? new Int32Array(buf, at + L.corr, roundUp8(L.N)) : null;
  // quantPackedIndex(form, n, k, C), walked along k: a pair (Q16) or quad (Q8) of inputs per 8-row step
  const lanes = form === "q16" ? 2 : 4, step = lanes * QPANEL;
  for (let g = 0; g < G; g++) {
    for (let j = 0; j < R; j++) {
      const row = g * R + j, n = g * Rp + j;
      const rowStart = (n >> 3) * L.panelStride + (n & 7) * lanes;
      let sum = 0;
      for (let k = 0, src = row * C; k < C; k++, src++) {
        const v = q[src];
        w[rowStart + ((k / lanes) | 0) * step + (k % lanes)] = v;
        sum += v;
      }
      sw[n] = scale[row];
      if (corr) corr[n] = Q8_OFFSET * sum;
    }
  }
  return L;
}

/**
 * The inverse of packQuantized: the (G*R, C) integers (unpadded, row-major; Int16Array for Q16, Int8Array for Q8) and
 * the G*R row scales of a packed matrix's block.
 */
export function unpackQuantized(block: Uint8Array, form: QuantForm, G: number, R: number, C: number): { q: Int8Array | Int16Array; scale: Float32Array } {
  const L = quantMatrixLayout(form, G, R, C);
  const Rp = roundUp4(R);
  const buf = block.buffer, at = block.byteOffset;
  const w = form === "q16"
    ? new Int16Array(buf, at + L.weights, quantPackedSize(form, C, L.N))
    : new Int8Array(buf, at + L.weights, quantPackedSize(form, C, L.N));
  const sw = new Float32Array(buf, at + L.scales, roundUp8(L.N));
  const q = form === "q16" ? new Int16Array(G * R * C) : new Int8Array(G * R * C);
  const scale = new Float32Array(G * R);
  for (let g = 0; g < G; g++) {
    for (let j = 0; j < R; j++) {
      const row = g * R + j, n = g * Rp + j;
      for (let k = 0; k < C; k++) q[row * C + k] = w[quantPackedIndex(form, n, k, C)];
      scale[row] = sw[n];
    }
  }
  return { q, scale };
}

// ---------------------------------------------------------------------------------------------------------
// A model file's packed order (src/quantized-file.ts, format version 2): every matrix's integers in the Q16 order
// above, padding included (zeros), as int8 for an int8 model and int16 for int12. The Q16 form, what init() picks on
// plain SIMD and what the relaxed build runs where Q8 does not win, copies them into its block with one byte copy
// (int8 then widened to int16 in place: assembly/quant-load.ts widenI8); the Q8 form reorders pairs into quads in
// wasm (pairsToQ8); the reference backend unpacks them (fromFileOrder).

/** A matrix read from a version-2 file: its integers as the file holds them, in the packed order. */
export interface FileOrderMatrix {
  /** The Q16 order's elements (quantPackedSize("q16", C, N)), int8 for an int8 model, int16 for int12. */
  packed: Int8Array | Int16Array;
}

/** The shape a file stores a (G*R, C) matrix's packed integers under: [panels, pairs, 8 rows, 2 inputs]. */
export function fileOrderShape(G: number, R: number, C: number): number[] {
  return [roundUp8(quantRows(G, R)) / QPANEL, quantDepth("q16", C) / 2, QPANEL, 2];
}

/** The (G*R, C) row-major integers `q` in the file's packed order (zeros in the padding), of q's element type. */
export function toFileOrder(q: Int8Array | Int16Array, G: number, R: number, C: number): Int8Array | Int16Array {
  const size = quantPackedSize("q16", C, quantRows(G, R));
  const out = q instanceof Int8Array ? new Int8Array(size) : new Int16Array(size);
  const Rp = roundUp4(R);
  for (let g = 0; g < G; g++) {
    for (let j = 0; j < R; j++) {
      for (let k = 0, src = (g * R + j) * C; k < C; k++, src++) out[quantPackedIndex("q16", g * Rp + j, k, C)] = q[src];
    }
  }
  return out;
}

/** The inverse of toFileOrder: the (G*R, C) row-major integers of a matrix in the file's packed order. */
export function fromFileOrder(packed: Int8Array | Int16Array, G: number, R: number, C: number): Int8Array | Int16Array {
  const out = packed instanceof Int8Array ? new Int8Array(G * R * C) : new Int16Array(G * R * C);
  const Rp = roundUp4(R);
  for (let g = 0; g < G; g++) {
    for (let j = 0; j < R; j++) {
      for (let k = 0, dst = (g * R + j) * C; k < C; k++, dst++) out[dst] = packed[quantPackedIndex("q16", g * Rp + j, k, C)];
    }
  }
  return out;
}

/**
 * The index (in the packed order) of the first non-zero padding element of a matrix in the file's packed order, or -1:
 * the rows that pad each gate block to Rp and the matrix to whole panels, and input C of every row when C is odd. The
 * work is the padding's size, none for the usual shapes (R a multiple of 4, G*R of 8, C even).
 */
export function fileOrderPadding(packed: Int8Array | Int16Array, G: number, R: number, C: number): number {
  const Rp = roundUp4(R), N8 = roundUp8(quantRows(G, R)), depth = quantDepth("q16", C);
  for (let n = 0; n < N8; n++) {
    const real = n < G * Rp && n % Rp < R;
    if (real && depth === C) continue;
    for (let k = real ? C : 0; k < depth; k++) {
      const at = quantPackedIndex("q16", n, k, C);
      if (packed[at] !== 0) return at;
    }
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------------------
// A whole quantized model (src/quantized-engine.ts): one block of every layer and direction's matrices and biases,
// and the scratch of a call's quantized activations.

/** One matrix's place in the model block: its layout and its byte offset. */
export interface PlacedQuantMatrix extends QuantMatrixLayout {
  offset: number;
}

/**
 * Layer l, direction d of a quantized model. W_ih is split by column blocks of its input: layer 0's one block (I
 * columns), a deeper layer's one per direction of the layer below (P columns each), each quantized per row on its
 * own, so each block multiplies one direction's outputs quantized on their own (the float32 engine also runs one
 * product per block). Biases stay float32, padded to G*Hp (byte offsets, -1 without bias).
 */
export interface QuantRunLayout {
  wih: PlacedQuantMatrix[];
  whh: PlacedQuantMatrix;
  whr: PlacedQuantMatrix | null;
  bih: number;
  bhh: number;
}

export interface QuantModelLayout {
  form: QuantForm;
  runs: QuantRunLayout[][]; // [layer][direction]
  totalBytes: number;
}

/** Where every quantized matrix and bias of `spec` goes in the model block. */
export function quantModelLayout(spec: Spec, form: QuantForm): QuantModelLayout {
  const G = gateCount(spec.kind), H = spec.hiddenSize, P = outputSize(spec), D = directions(spec);
  let at = 0;
  const place = (g: number, r: number, c: number): PlacedQuantMatrix => {
    const L = quantMatrixLayout(form, g, r, c);
    const offset = at;
    at += L.totalBytes;
    return { ...L, offset };
  };
  const vector = (n: number) => {
    const offset = at;
    at += roundUp(n * 4, 16);
    return offset;
  };
  const runs = Array.from({ length: spec.numLayers }, (_, l) => Array.from({ length: D }, () => {
    const wih = l === 0 ? [place(G, H, layerInputSize(spec, 0))] : Array.from({ length: D }, () => place(G, H, P));
    const whh = place(G, H, P);
    const whr = spec.projSize > 0 ? place(1, P, H) : null;
    const bih = spec.bias ? vector(G * roundUp4(H)) : -1;
    const bhh = spec.bias ? vector(G * roundUp4(H)) : -1;
    return { wih, whh, whr, bih, bhh };
  }));
  return { form, runs, totalBytes: Math.max(at, 16) };
}

/**
 * The quantized activations of one call, as byte offsets into one scratch block:
 *   aqIn, saIn   (C*B rows) a chunk's layer input quantized (the input projection's activations; C = chunk steps)
 *   aqH, saH     (B rows) one step's h_{t-1} (or r_t, r h_{t-1}) quantized, for the step kernels
 */
export interface QuantScratchLayout {
  aqIn: number;
  saIn: number;
  aqH: number;
  saH: number;
  totalBytes: number;
}

export function quantScratchLayout(spec: Spec, form: QuantForm, chunk: number, B: number): QuantScratchLayout {
  const H = spec.hiddenSize, P = outputSize(spec);
  const bytesPer = quantElementBytes(form);
  const widest = Math.max(layerInputSize(spec, 0), P);
  let at = 0;
  const take = (bytes: number) => {
    const offset = at;
    at += roundUp(bytes, 16);
    return offset;
  };
  const aqIn = take(chunk * B * quantRowStride(form, widest) * bytesPer);
  const saIn = take(chunk * B * 4);
  const aqH = take(B * quantRowStride(form, Math.max(P, H)) * bytesPer);
  const saH = take(B * 4);
  return { aqIn, saIn, aqH, saH, totalBytes: at };
}
