// src/sequence.ts: the rules of a recurrent run over a time-major batch that the wasm engine (src/wasm-engine.ts,
// src/wasm-direction.ts) and the reference (src/reference/layer.ts) share, so each is written once:
//   state slots   a direction's states live in T+1 slots: forward reads slot t and writes t+1 (slot 0 holds the
//                 initial state), reverse walks t = T-1..0, reads t+1 and writes t (slot T holds it); so the
//                 outputs are slots 1..T forward, 0..T-1 reverse (assembly/lstm.ts)
//   state index   the initial and final states of layer l, direction d are block l*D + d of (L*D, B, n)
//   padding       a row whose sequence has ended (step >= its length) has zero outputs, as PyTorch pads, and its
//                 outputs pass no gradient back
//   interleaving  the last layer's output (T,B,D*P) holds direction d's h_t in columns d*P..(d+1)*P
//   chunking      inference runs a direction's steps in chunks, in the direction's order of time

/** Float32Array, or Float64Array for the reference run as a float64 oracle. */
type Vec = Float32Array | Float64Array;

/** Slot of direction d's state before its first step. */
export function firstSlot(d: number, T: number): number {
  return d === 1 ? T : 0;
}

/** Slot of direction d's state after its last step. */
export function lastSlot(d: number, T: number): number {
  return d === 1 ? 0 : T;
}

/** Slot of direction d's output of step 0: its T outputs are slots from here on. */
export function firstOutputSlot(d: number): number {
  return d === 1 ? 0 : 1;
}

/** Slot of the state direction d's step 0 reads: step t reads slot t + this one (its h_{t-1}). */
export function firstReadSlot(d: number): number {
  return d === 1 ? 1 : 0;
}

/** Index of layer l, direction d's block in the states (L*D, B, n): h0, c0, hN, cN and their gradients. */
export function stateIndex(l: number, d: number, D: number): number {
  return l * D + d;
}

/** Whether row r (= t*B + b) of a (T,B,..) buffer is past its sequence's end (never without lengths). */
export function pastEnd(lengths: Int32Array | null, r: number, B: number): boolean {
  return lengths !== null && Math.floor(r / B) >= lengths[r % B];
}

/**
 * Direction d's outputs into columns d*P.. of `output`, which is (T,B,D*P), or (B,T,D*P) when `batchFirst` (the
 * transposition done on the way, so no time-major copy is made: forward's `out`). `hs` holds the direction's T*B
 * output rows (from its first output slot) with row stride `ld`; rows past a sequence's end get zeros, since
 * `output` may be a caller's array holding a previous call's values.
 */
export function interleaveOutputs(output: Vec, hs: Vec, ld: number, d: number, D: number, P: number,
  T: number, B: number, lengths: Int32Array | null, batchFirst = false): void {
  for (let r = 0; r < T * B; r++) {
    const t = Math.floor(r / B), b = r - t * B;
    const at = ((batchFirst ? b * T + t : r) * D + d) * P;
    if (pastEnd(lengths, r, B)) output.fill(0, at, at + P);
    else output.set(hs.subarray(r * ld, r * ld + P), at);
  }
}

/**
 * The inverse: direction d's columns of the upstream gradient `dOutput` (T,B,D*P) into `dhs`, T*B rows of stride
 * `ld` that hold zeros; rows past a sequence's end are skipped, so padding outputs pass no gradient.
 */
export function splitOutputGradient(dhs: Vec, ld: number, dOutput: Vec, d: number, D: number, P: number,
  T: number, B: number, lengths: Int32Array | null): void {
  for (let r = 0; r < T * B; r++) {
    if (pastEnd(lengths, r, B)) continue;
    dhs.set(dOutput.subarray((r * D + d) * P, (r * D + d + 1) * P), r * ld);
  }
}

/** One chunk of a direction's run: steps t0..t0+n-1. */
export interface Chunk {
  t0: number;
  n: number;
}

/**
 * The chunks of `chunk` steps that cover T steps, in the direction's order of time: the reverse direction
 * starts with the last chunk, which is the short one when chunk does not divide T.
 */
export function chunksOf(T: number, chunk: number, reverse: boolean): Chunk[] {
  const count = Math.ceil(T / chunk);
  // a plain loop: Array.from with a mapping function was 0.4 us of a 20 us streaming step (one chunk)
  const chunks: Chunk[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const t0 = (reverse ? count - 1 - i : i) * chunk;
    chunks[i] = { t0, n: Math.min(chunk, T - t0) };
  }
  return chunks;
}
