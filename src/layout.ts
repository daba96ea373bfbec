// src/layout.ts: the one place that knows how the wasm kernels see parameters and scratch memory: every size,
// offset and panel stride is a named function here, so no other file multiplies by an element or panel size.
//
// Packed parameters. PyTorch stores a gate matrix as (G*R, C): G gate blocks of R rows, C inputs per row.
// The kernels want it transposed, (C, N) with N = G*Rp, every gate block padded to Rp = roundUp4(R) columns
// of zeros, so SIMD runs along the outputs with no tails and padding lanes stay exactly zero (see
// assembly/lstm.ts); and stored in panels of 8 columns (assembly/gemm.ts): element (c, n) at
// (n >> 3) * C*8 + c*8 + (n & 7), C*roundUp8(N) floats in all. Biases (G*R) are the case C = 1: plain
// (G*Rp) vectors padded to a multiple of 8. weight_hr (P, H) is the case G = 1, R = P.
// All parameters of a model live in one block, each tensor at a float offset that is a multiple of 8
// (32 bytes), in PyTorch's state_dict order; gradients and optimizer moments are blocks of the same layout.
//
// Scratch. Kernel buffers are time-major: a (T,B,width) buffer holds step t's B rows at float t*B*width
// (stepOffset); a state buffer (T+1,B,width) holds slots 0..T the same way (slot rules in src/sequence.ts).
// Layouts give float offsets from a block's start; ptrAt turns one into a byte address.
import type { ParamInfo, ParamRole, Spec } from "./architecture.js";
import { directions, gateCount, layerInputSize, outputSize, paramList } from "./architecture.js";

// Sizes here are computed in exact double arithmetic, never with 32-bit operations (`(n + 3) & ~3` wraps at 2^31
// and would let a huge workspace look small). A size beyond 2^53 is no longer exact, but it is then far beyond any
// block wasm memory can hold, which is all the checks need to know (runtime.ts checkBlockSize).

/** Bytes of one f32: wasm memory is addressed in bytes, the layouts count floats. */
const F32_BYTES = 4;
/** Columns per panel of a packed matrix (assembly/gemm.ts). */
const PANEL = 8;

/** Bytes of `floats` f32 values. */
export function bytesOf(floats: number): number {
  return floats * F32_BYTES;
}

/** Byte address of the float `floats` f32 values past byte address `ptr`. */
export function ptrAt(ptr: number, floats: number): number {
  return ptr + floats * F32_BYTES;
}

/** Index, in a Float32Array over all of wasm memory (Runtime.heap()), of the float at byte address `ptr`. */
export function heapIndex(ptr: number): number {
  return ptr >>> 2;
}

/** n rounded up to a multiple of 4, exactly for every n up to 2^53. */
export function roundUp4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

/** n rounded up to a multiple of 8, exactly for every n up to 2^53. */
export function roundUp8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

/** Floats of a (K, N) matrix packed in panels of 8 columns. */
export function packedSize(K: number, N: number): number {
  return K * roundUp8(N);
}

/** Panel stride of a packed matrix of K rows (assembly/gemm.ts's wps): floats from one panel to the next. */
export function panelStride(K: number): number {
  return K * PANEL;
}

/** Float offset of rows k0.. of a packed matrix: the same panels, k0*8 floats in (gemm.ts, a block of rows). */
export function packedRowOffset(k0: number): number {
  return k0 * PANEL;
}

/** Float offset of columns n0.. (n0 a multiple of 8) of a packed matrix of K rows: whole panels in. */
export function packedColumnOffset(n0: number, K: number): number {
  return (n0 / PANEL) * panelStride(K);
}

/** Where element (c, n) of a packed matrix with C rows sits. */
export function packedIndex(c: number, n: number, C: number): number {
  return packedColumnOffset(n - (n % PANEL), C) + packedRowOffset(c) + (n % PANEL);
}

/** Float offset of step (or state slot) t of a time-major (.., B, width) buffer. */
export function stepOffset(t: number, B: number, width: number): number {
  return t * B * width;
}

/** Float offset of gate block g (of Hp floats each) inside a gates, xz or dz row. */
export function gateBlockOffset(g: number, Hp: number): number {
  return g * Hp;
}

/** The LSTM's gate rows: i, f, g, o, then r = o * tanh(c) with a projection (assembly/lstm.ts). */
export const LSTM_R_BLOCK = 4;
/** The GRU's gate rows: r, z, n, hn, then r * h_{t-1} for reset before (assembly/gru.ts). */
export const GRU_N_BLOCK = 2;
export const GRU_RH_BLOCK = 4;

/** The sizes the engine uses everywhere, padded ones included. */
export interface ModelDims {
  D: number; // directions
  L: number; // layers
  H: number; // hidden size
  Hp: number; // roundUp4(H): a padded gate block or cell state row
  P: number; // output size (projSize or H)
  Pp: number; // roundUp4(P): a padded hidden state row
  GHp: number; // gates * Hp: a row of xz and dz
  I: number; // layer 0's input size
  width: number; // a row of the gates buffer (gateWidth)
}

export function modelDims(spec: Spec): ModelDims {
  const H = spec.hiddenSize, P = outputSize(spec);
  return {
    D: directions(spec), L: spec.numLayers,
    H, Hp: roundUp4(H), P, Pp: roundUp4(P),
    GHp: gateCount(spec.kind) * roundUp4(H), I: layerInputSize(spec, 0), width: gateWidth(spec),
  };
}

/** Hands out consecutive float offsets in one block: the layouts below are lists of take() calls. */
class Bump {
  total = 0;

  take(floats: number): number {
    const start = this.total;
    this.total += floats;
    return start;
  }
}

/** How one matrix of PyTorch's shape (G*R, C) (or a vector (G*R), C = 1) sits packed in a block. */
export interface PackedTensor {
  offset: number; // floats from the block start
  G: number;
  R: number;
  C: number;
  size: number; // floats, packedSize(C, G * roundUp4(R))
}

/** A PackedTensor that is one of a recurrent model's parameters. */
export interface PackedParam extends ParamInfo, PackedTensor {}

export interface ParamLayout {
  params: PackedParam[];
  byName: Map<string, PackedParam>;
  /** Float offset of parameter `role` of layer l, direction d: offsets[l][d][role], -1 when the model has none. */
  offsets: Record<ParamRole, number>[][];
  totalFloats: number;
}

export function paramLayout(spec: Spec): ParamLayout {
  const G = gateCount(spec.kind);
  const block = new Bump();
  const params: PackedParam[] = [];
  const none = (): Record<ParamRole, number> => ({ weight_ih: -1, weight_hh: -1, bias_ih: -1, bias_hh: -1, weight_hr: -1 });
  const offsets = Array.from({ length: spec.numLayers }, () => Array.from({ length: directions(spec) }, none));
  for (const p of paramList(spec)) {
    const isProj = p.role === "weight_hr";
    const g = isProj ? 1 : G;
    const R = isProj ? spec.projSize : spec.hiddenSize;
    const C = p.shape.length === 2 ? p.shape[1] : 1;
    const size = packedSize(C, g * roundUp4(R));
    const offset = block.take(size);
    params.push({ ...p, offset, G: g, R, C, size });
    offsets[p.layer][p.dir][p.role] = offset;
  }
  return { params, byName: new Map(params.map((p) => [p.name, p])), offsets, totalFloats: block.total };
}

/**
 * Floats of the packed parameter block of `spec` (paramLayout(spec).totalFloats), in closed form: the size of a
 * model with a million layers or hidden units is known before a single parameter is listed or drawn.
 */
export function paramBlockFloats(spec: Spec): number {
  const GHp = gateCount(spec.kind) * roundUp4(spec.hiddenSize);
  const P = outputSize(spec);
  const perDirection = (inputs: number) => packedSize(inputs, GHp) + packedSize(P, GHp) +
    (spec.bias ? 2 * packedSize(1, GHp) : 0) + (spec.projSize > 0 ? packedSize(spec.hiddenSize, roundUp4(P)) : 0);
  const D = directions(spec);
  return D * (perDirection(layerInputSize(spec, 0)) + (spec.numLayers - 1) * perDirection(layerInputSize(spec, 1)));
}

/**
 * A Linear's block: weight (out, in) packed as (in, roundUp4(out)) (G = 1), then room for the bias padded to a
 * multiple of 8, kept also without a bias so the block's size depends on the features alone.
 */
export interface LinearLayout {
  weight: PackedTensor;
  bias: PackedTensor;
  totalFloats: number;
}

export function linearLayout(inFeatures: number, outFeatures: number): LinearLayout {
  const block = new Bump();
  const tensor = (C: number): PackedTensor => {
    const size = packedSize(C, roundUp4(outFeatures));
    return { offset: block.take(size), G: 1, R: outFeatures, C, size };
  };
  const weight = tensor(inFeatures);
  const bias = tensor(1);
  return { weight, bias, totalFloats: block.total };
}

/** Writes PyTorch's (G*R, C) `src` into `dst`, packed (C, G*Rp), zero padding included. */
export function pack(dst: Float32Array, src: Float32Array, G: number, R: number, C: number): void {
  const Rp = roundUp4(R);
  dst.fill(0, 0, packedSize(C, G * Rp));
  for (let g = 0; g < G; g++) {
    for (let j = 0; j < R; j++) {
      const row = (g * R + j) * C;
      const n = g * Rp + j;
      for (let c = 0; c < C; c++) dst[packedIndex(c, n, C)] = src[row + c];
    }
  }
}

/** The inverse of pack: PyTorch's (G*R, C) layout from the packed (C, G*Rp). */
export function unpack(src: Float32Array, G: number, R: number, C: number): Float32Array {
  const Rp = roundUp4(R);
  const out = new Float32Array(G * R * C);
  for (let g = 0; g < G; g++) {
    for (let j = 0; j < R; j++) {
      const row = (g * R + j) * C;
      const n = g * Rp + j;
      for (let c = 0; c < C; c++) out[row + c] = src[packedIndex(c, n, C)];
    }
  }
  return out;
}

/** The tensor `t` of a packed block (a view of the whole block), unpacked to PyTorch's layout. */
export function unpackTensor(block: Float32Array, t: PackedTensor): Float32Array {
  return unpack(block.subarray(t.offset, t.offset + t.size), t.G, t.R, t.C);
}

/**
 * The padding rule of rows: copies B rows of n values from src (from index `offset`) into wasm memory at byte
 * address `ptr`, rows of stride np with the padding lanes zeroed; zeros when src is null. `heap` is the runtime's
 * whole-memory view (Runtime.heap()).
 */
export function writeRows(heap: Float32Array, ptr: number, src: Float32Array | null, offset: number, B: number, n: number, np: number): void {
  const base = heapIndex(ptr);
  if (!src) {
    heap.fill(0, base, base + B * np);
  } else if (n === np) { // unpadded rows are one block: a memcpy rather than an element loop (a streaming step's state)
    heap.set(src.subarray(offset, offset + B * n), base);
  } else {
    heap.fill(0, base, base + B * np);
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < n; j++) heap[base + b * np + j] = src[offset + b * n + j];
    }
  }
}

/** The inverse: B rows of n values from wasm memory at byte address `ptr` (rows of stride np) into dst from `offset`. */
export function readRows(dst: Float32Array, offset: number, heap: Float32Array, ptr: number, B: number, n: number, np: number): void {
  const base = heapIndex(ptr);
  if (n === np) {
    dst.set(heap.subarray(base, base + B * n), offset);
    return;
  }
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < n; j++) dst[offset + b * n + j] = heap[base + b * np + j];
  }
}

/**
 * Transposed copies of the weights, for the backward products (dh = dz · W_hh etc. is a gemm against W_hhᵀ),
 * rebuilt by assembly/gemm.ts's packTransposed at every backward pass, as float offsets into one block:
 *   whh (G*Hp, P) per layer and direction;  whr (Pp, H) with a projection;  wih[e] (G*Hp, I_e) per input block
 *   (one for layer 0, one per direction of the layer below after it).
 */
export interface TransposedLayout {
  runs: { whh: number; whr: number; wih: number[] }[][];
  totalFloats: number;
}

export function transposedLayout(spec: Spec): TransposedLayout {
  const D = directions(spec);
  const GHp = gateCount(spec.kind) * roundUp4(spec.hiddenSize);
  const P = outputSize(spec);
  const block = new Bump();
  const take = (K: number, N: number) => block.take(packedSize(K, N));
  const runs: TransposedLayout["runs"] = [];
  for (let l = 0; l < spec.numLayers; l++) {
    runs.push([]);
    for (let d = 0; d < D; d++) {
      const whh = take(GHp, P);
      const whr = spec.projSize > 0 ? take(roundUp4(P), spec.hiddenSize) : 0;
      const wih = l === 0 ? [take(GHp, spec.inputSize)] : Array.from({ length: D }, () => take(GHp, P));
      runs[l].push({ whh, whr, wih });
    }
  }
  return { runs, totalFloats: block.total };
}

/** Floats per step and batch row of a kernel's gates buffer (assembly/lstm.ts, gru.ts; 0 for the RNN). */
export function gateWidth(spec: Spec): number {
  const Hp = roundUp4(spec.hiddenSize);
  if (spec.kind === "lstm") return spec.projSize > 0 ? 5 * Hp : 4 * Hp;
  if (spec.kind === "gru") return 5 * Hp;
  return 0;
}

/**
 * Rows of the input projection an inference call computes at a time. The recurrence needs xz one step at a time, so
 * inference projects the input in chunks of whole timesteps (about this many rows each) rather than all T*B rows at
 * once: the workspace then holds a chunk of x and xz, not the whole sequence's (an LSTM with I = 128, H = 256 at
 * B = 64, T = 64 holds 1 MB of xz rather than 16 MB), and 256 rows are still 64 of gemm's 4-row blocks per weight
 * panel. At batch 1 a chunk is up to 256 steps, so most such sequences are one chunk.
 */
export const INFERENCE_CHUNK_ROWS = 256;

/** Timesteps per input-projection chunk of an inference call (at least 1, at most T). */
export function chunkSteps(T: number, B: number): number {
  return Math.max(1, Math.min(T, Math.ceil(INFERENCE_CHUNK_ROWS / B)));
}

/** One layer and direction's buffers in a workspace, as float offsets (cs is 0 but for the LSTM). */
export interface RunOffsets {
  hs: number; // (T+1,B,Pp) hidden states; slot rules in src/sequence.ts
  cs: number; // (C+1,B,Hp) LSTM cell states of the chunk being run
  gates: number; // (B,width) one step's gates (inference) or (T,B,width), the tape (training)
}

/**
 * What a forward call needs of its workspace, as float offsets into one block. The inference and training
 * layouts below both provide it: a forward reads only these fields, whichever it runs.
 *   chunk                      C, timesteps whose input projection is computed at a time (T when training)
 *   lengths (B)                i32 sequence lengths of a variable-length batch, shifted to the chunk's first step
 *   x      (C,B,I)             a chunk of layer 0's input, time-major
 *   xz     (C,B,G*Hp)          the chunk's input projection for the layer and direction being run
 *   runs   [layer][direction] the run's buffers; inference ping-pongs hs between consecutive layers (layer l
 *                             reads layer l-1's in place) and shares one cs and one step's gates among all runs
 */
export interface ForwardWorkspace {
  chunk: number;
  lengths: number;
  x: number;
  xz: number;
  runs: RunOffsets[][];
  totalFloats: number;
}

export function workspaceLayout(spec: Spec, T: number, B: number): ForwardWorkspace {
  const D = directions(spec);
  const Hp = roundUp4(spec.hiddenSize);
  const Pp = roundUp4(outputSize(spec));
  const G = gateCount(spec.kind);
  const C = chunkSteps(T, B);
  const block = new Bump();
  const take = (floats: number) => block.take(roundUp4(floats));
  const lengths = take(B);
  const x = take(C * B * layerInputSize(spec, 0));
  const xz = take(C * B * G * Hp);
  const parities = spec.numLayers > 1 ? 2 : 1;
  const hs = Array.from({ length: parities }, () => Array.from({ length: D }, () => take((T + 1) * B * Pp)));
  const cs = spec.kind === "lstm" ? take((C + 1) * B * Hp) : 0;
  const gates = take(B * gateWidth(spec));
  const runs = Array.from({ length: spec.numLayers }, (_, l) => hs[l % parities].map((h) => ({ hs: h, cs, gates })));
  return { chunk: C, lengths, x, xz, runs, totalFloats: block.total };
}

/**
 * Scratch for one training call (forward with a tape, then backward), as float offsets into the workspace:
 *   lengths, x, xz                as in ForwardWorkspace, with chunk = T (x (T,B,I), xz (T,B,G*Hp))
 *   runs    [layer][direction]    hs (T+1,B,Pp), cs (T+1,B,Hp) (LSTM), gates (T,B,width): the tape
 *   dxz     (T,B,G*Hp)            d of the input-side pre-activations of the run being differentiated
 *   dzh     (T,B,G*Hp)            GRU: d of the recurrent side (the same as dxz for LSTM and RNN)
 *   dhs     [layer][direction]    (T,B,Pp) dL/dh of each direction's outputs, ping-ponged between layers
 *   dx      (T,B,I)               dL/d input
 *   dh, dc  (B,Pp) (B,Hp)         the state gradients carried through time
 *   scratch (B,Hp)                dr (LSTM projection) or d(r h) (GRU reset before)
 */
export interface TrainWorkspace extends ForwardWorkspace {
  dxz: number;
  dzh: number;
  dhs: number[][];
  dx: number;
  dh: number;
  dc: number;
  scratch: number;
}

export function trainWorkspaceLayout(spec: Spec, T: number, B: number): TrainWorkspace {
  const D = directions(spec);
  const Hp = roundUp4(spec.hiddenSize);
  const Pp = roundUp4(outputSize(spec));
  const G = gateCount(spec.kind);
  const I = layerInputSize(spec, 0);
  const block = new Bump();
  const take = (floats: number) => block.take(roundUp4(floats));
  const lengths = take(B);
  const x = take(T * B * I);
  const xz = take(T * B * G * Hp);
  const runs = Array.from({ length: spec.numLayers }, () => Array.from({ length: D }, () => ({
    hs: take((T + 1) * B * Pp),
    cs: spec.kind === "lstm" ? take((T + 1) * B * Hp) : 0,
    gates: take(T * B * gateWidth(spec)),
  })));
  const dxz = take(T * B * G * Hp);
  const dzh = spec.kind === "gru" ? take(T * B * G * Hp) : dxz;
  const parities = spec.numLayers > 1 ? 2 : 1;
  const dhsByParity = Array.from({ length: parities }, () => Array.from({ length: D }, () => take(T * B * Pp)));
  const dhs = Array.from({ length: spec.numLayers }, (_, l) => dhsByParity[l % parities]);
  const dx = take(T * B * I);
  const dh = take(B * Pp);
  const dc = take(B * Hp);
  const scratch = take(B * Hp);
  return { chunk: T, lengths, x, xz, runs, dxz, dzh, dhs, dx, dh, dc, scratch, totalFloats: block.total };
}

/** A Linear's forward scratch for M rows: x (M,I), y (M,N). */
export function linearForwardLayout(M: number, I: number, N: number) {
  const block = new Bump();
  return { x: block.take(M * I), y: block.take(M * N), totalFloats: block.total };
}

/** A Linear's backward scratch for M rows: x (M,I), dy (M,Np) padded, dx (M,I), Wᵀ packed (Np, I). */
export function linearBackwardLayout(M: number, I: number, Np: number) {
  const block = new Bump();
  return { x: block.take(M * I), dy: block.take(M * Np), dx: block.take(M * I), wt: block.take(packedSize(Np, I)), totalFloats: block.total };
}
