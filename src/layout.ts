// src/layout.ts: the one place that knows how the wasm kernels see parameters and scratch memory.
//
// Packed parameters. PyTorch stores a gate matrix as (G*R, C): G gate blocks of R rows, C inputs per row.
// The kernels want it transposed, (C, N) with N = G*Rp, every gate block padded to Rp = roundUp4(R) columns
// of zeros, so SIMD runs along the outputs with no tails and padding lanes stay exactly zero (see
// assembly/lstm.ts); and stored in panels of 8 columns (assembly/gemm.ts): element (c, n) at
// (n >> 3) * C*8 + c*8 + (n & 7), C*roundUp8(N) floats in all. Biases (G*R) are the case C = 1: plain
// (G*Rp) vectors padded to a multiple of 8. weight_hr (P, H) is the case G = 1, R = P.
// All parameters of a model live in one block, each tensor at a float offset that is a multiple of 8
// (32 bytes), in PyTorch's state_dict order.
import type { ParamInfo, Spec } from "./architecture.js";
import { directions, gateCount, layerInputSize, outputSize, paramList } from "./architecture.js";

// Sizes here are computed in exact double arithmetic, never with 32-bit operations (`(n + 3) & ~3` wraps at 2^31
// and would let a huge workspace look small). A size beyond 2^53 is no longer exact, but it is then far beyond any
// block wasm memory can hold, which is all the checks need to know (runtime.ts checkBlockSize).

/** n rounded up to a multiple of 4, exactly for every n up to 2^53. */
export function roundUp4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

/** n rounded up to a multiple of 8, exactly for every n up to 2^53. */
export function roundUp8(n: number): number {
  return Math.ceil(n / 8) * 8;
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

/** Floats of a (K, N) matrix packed in panels of 8 columns. */
export function packedSize(K: number, N: number): number {
  return K * roundUp8(N);
}

/** How one PyTorch tensor of shape (G*R, C) (or (G*R) with C = 1) sits in the packed block. */
export interface PackedParam extends ParamInfo {
  offset: number; // floats from the block start
  G: number;
  R: number;
  C: number;
  size: number; // floats, packedSize(C, G * roundUp4(R))
}

export interface ParamLayout {
  params: PackedParam[];
  byName: Map<string, PackedParam>;
  totalFloats: number;
}

export function paramLayout(spec: Spec): ParamLayout {
  const G = gateCount(spec.kind);
  let offset = 0;
  const params: PackedParam[] = [];
  for (const p of paramList(spec)) {
    const isProj = p.role === "weight_hr";
    const g = isProj ? 1 : G;
    const R = isProj ? spec.projSize : spec.hiddenSize;
    const C = p.shape.length === 2 ? p.shape[1] : 1;
    const size = packedSize(C, g * roundUp4(R));
    params.push({ ...p, offset, G: g, R, C, size });
    offset += size;
  }
  return { params, byName: new Map(params.map((p) => [p.name, p])), totalFloats: offset };
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

/** Where element (c, n) of a packed matrix with C rows sits. */
export function packedIndex(c: number, n: number, C: number): number {
  return (n >> 3) * C * 8 + c * 8 + (n & 7);
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
 * once: the workspace then holds a chunk of x and xz, not the whole sequence's (for W-batch, LSTM I=128 H=256
 * B=64 T=64, 16 MB of xz down to 1 MB), and 256 rows are still 64 of gemm's 4-row blocks per weight panel. At batch
 * 1 a chunk is up to 256 steps: most sequences are one chunk, as before.
 */
export const INFERENCE_CHUNK_ROWS = 256;

/** Timesteps per input-projection chunk of an inference call (at least 1, at most T). */
export function chunkSteps(T: number, B: number): number {
  return Math.max(1, Math.min(T, Math.ceil(INFERENCE_CHUNK_ROWS / B)));
}

/**
 * Scratch for one inference call of T steps and B rows, as float offsets into one workspace block; C is
 * chunkSteps(T, B), the steps whose input projection is computed at a time:
 *   lengths (B)               i32 sequence lengths of a variable-length batch, shifted to the chunk's first step
 *   x      (C,B,I)            a chunk of layer 0's input, time-major
 *   xz     (C,B,G*Hp)         the chunk's input projection for the layer and direction being run
 *   hs     2 x D x (T+1,B,Pp) per direction, ping-ponged between consecutive layers (the next layer's input)
 *   cs     (C+1,B,Hp)         LSTM cell states of the chunk being run; its last state is carried to the next
 *   gates  (B,width)          one step's gates, reused every step
 */
export interface Workspace {
  chunk: number; // C, timesteps per chunk
  lengths: number; // (B) i32 sequence lengths
  x: number;
  xz: number;
  hs: number[][]; // [parity][direction]
  cs: number;
  gates: number;
  totalFloats: number;
}

export function workspaceLayout(spec: Spec, T: number, B: number): Workspace {
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
  const hs: number[][] = [];
  for (let p = 0; p < parities; p++) {
    hs.push([]);
    for (let d = 0; d < D; d++) hs[p].push(take((T + 1) * B * Pp));
  }
  const cs = spec.kind === "lstm" ? take((C + 1) * B * Hp) : 0;
  const gates = take(B * gateWidth(spec));
  return { chunk: C, lengths, x, xz, hs, cs, gates, totalFloats: block.total };
}

/**
 * Scratch for one training call (forward with a tape, then backward), as float offsets into the workspace:
 *   lengths (B)                   i32 sequence lengths of a variable-length batch
 *   x       (T,B,I)               layer 0's input
 *   xz      (T,B,G*Hp)            input projection of the run being computed
 *   runs    [layer][direction]    hs (T+1,B,Pp), cs (T+1,B,Hp) (LSTM), gates (T,B,width): the tape
 *   dxz     (T,B,G*Hp)            d of the input-side pre-activations of the run being differentiated
 *   dzh     (T,B,G*Hp)            GRU: d of the recurrent side (the same as dxz for LSTM and RNN)
 *   dhs     2 x D x (T,B,Pp)      dL/dh of each direction's outputs, ping-ponged between layers
 *   dx      (T,B,I)               dL/d input
 *   dh, dc  (B,Pp) (B,Hp)         the state gradients carried through time
 *   scratch (B,Hp)                dr (LSTM projection) or d(r h) (GRU reset before)
 */
export interface TrainWorkspace {
  lengths: number;
  x: number;
  xz: number;
  runs: { hs: number; cs: number; gates: number }[][];
  dxz: number;
  dzh: number;
  dhs: number[][];
  dx: number;
  dh: number;
  dc: number;
  scratch: number;
  totalFloats: number;
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
  const runs: TrainWorkspace["runs"] = [];
  for (let l = 0; l < spec.numLayers; l++) {
    runs.push([]);
    for (let d = 0; d < D; d++) {
      runs[l].push({
        hs: take((T + 1) * B * Pp),
        cs: spec.kind === "lstm" ? take((T + 1) * B * Hp) : 0,
        gates: take(T * B * gateWidth(spec)),
      });
    }
  }
  const dxz = take(T * B * G * Hp);
  const dzh = spec.kind === "gru" ? take(T * B * G * Hp) : dxz;
  const dhs: number[][] = [];
  for (let p = 0; p < (spec.numLayers > 1 ? 2 : 1); p++) {
    dhs.push([]);
    for (let d = 0; d < D; d++) dhs[p].push(take(T * B * Pp));
  }
  const dx = take(T * B * I);
  const dh = take(B * Pp);
  const dc = take(B * Hp);
  const scratch = take(B * Hp);
  return { lengths, x, xz, runs, dxz, dzh, dhs, dx, dh, dc, scratch, totalFloats: block.total };
}
