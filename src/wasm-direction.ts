// src/wasm-direction.ts: one layer and direction of the wasm engine, as ONNX Runtime's per-direction engine is:
//   forward   the chunk loop: carry the LSTM's cell state into the chunk, project the chunk's input
//             (xz = input · W_ihᵀ + b_ih, one gemm), run the chunk's recurrence (one kernel call)
//   backward  the kernel's walk back through time, then the weight, bias and input gradients of all timesteps,
//             one matrix product each
// The loop over layers and directions is src/wasm-engine.ts's; slot, chunk and state rules are src/sequence.ts's;
// every offset and stride is src/layout.ts's. Pointers are byte addresses in the runtime's memory.
import type { Spec } from "./architecture.js";
import {
  GRU_N_BLOCK, GRU_RH_BLOCK, LSTM_R_BLOCK, gateBlockOffset, heapIndex, packedColumnOffset, packedRowOffset,
  panelStride, ptrAt, readRows, stepOffset, writeRows, type ModelDims,
} from "./layout.js";
import type { Runtime } from "./runtime.js";
import { chunksOf, firstOutputSlot, firstReadSlot, firstSlot, lastSlot } from "./sequence.js";

/** What every layer and direction of one engine call shares. */
export interface Call {
  rt: Runtime;
  spec: Spec;
  dims: ModelDims;
  T: number;
  B: number;
  lengths: Int32Array | null;
  lengthsPtr: number; // (B) i32 in the workspace, the lengths shifted to a chunk's first step; 0 without lengths
}

/** One direction's packed weights in the parameter block; 0 for a tensor the model does not have. */
export interface WeightPtrs {
  wihPtr: number; // (I_l, G*Hp) packed
  bihPtr: number; // (G*Hp)
  whhPtr: number; // (P, G*Hp) packed
  bhhPtr: number; // (G*Hp)
  whrPtr: number; // (H, Pp) packed, LSTM with a projection
}

/** Their gradients, at the same offsets of the gradient block. */
export interface GradPtrs {
  dWihPtr: number;
  dbihPtr: number;
  dWhhPtr: number;
  dbhhPtr: number;
  dWhrPtr: number;
}

/** One direction's states and gates in the workspace: the tape, when training. */
export interface TapePtrs {
  hsPtr: number; // (T+1,B,Pp) hidden states
  csPtr: number; // (C+1,B,Hp) the chunk's LSTM cell states (C = T when training)
  gatesPtr: number; // (B,width) one step's gates, or (T,B,width) every step's when training
}

/** One direction's buffers in the workspace for its forward. */
export interface RunPtrs extends TapePtrs {
  xzPtr: number; // (C,B,G*Hp) a chunk's input projection
}

/** A layer's input: layer 0's x (copied into the workspace a chunk at a time), or the layer below's outputs. */
export type LayerInput =
  | { kind: "x"; x: Float32Array; xPtr: number } // x (T,B,I) in JavaScript, xPtr (C,B,I)
  | { kind: "below"; outputsPtrs: number[] }; // per direction of layer l-1, its outputs (T,B,Pp)

/** A direction's initial states (null: zeros) and where its final states go, block s of (L*D, B, n). */
export interface DirectionStates {
  s: number;
  h0: Float32Array | null;
  c0: Float32Array | null;
  hN: Float32Array;
  cN: Float32Array | null;
}

/** Byte address of direction d's outputs, T*B rows of its states from its first output slot. */
export function outputsPtr(c: Call, hsPtr: number, d: number): number {
  return ptrAt(hsPtr, stepOffset(firstOutputSlot(d), c.B, c.dims.Pp));
}

/**
 * One direction's forward over all T steps, `chunk` steps at a time in the direction's order of time. The hidden
 * states go straight to their slots of hs (slot t0 holds the state a chunk starts from); the LSTM's cell states
 * live in a (chunk+1)-slot block, carried from one chunk to the next. `keepGates` keeps every step's gates.
 */
export function forwardDirection(c: Call, w: WeightPtrs, run: RunPtrs, input: LayerInput, d: number,
  chunk: number, keepGates: boolean, st: DirectionStates): void {
  const { rt, spec, T, B } = c;
  const { H, Hp, P, Pp } = c.dims;
  writeRows(rt.heap(), ptrAt(run.hsPtr, stepOffset(firstSlot(d, T), B, Pp)), st.h0, st.s * B * P, B, P, Pp);
  const chunks = chunksOf(T, chunk, d === 1);
  let cLastPtr = 0; // the LSTM cell state the last chunk ended on
  for (let i = 0; i < chunks.length; i++) {
    const { t0, n } = chunks[i];
    const cFirstPtr = ptrAt(run.csPtr, stepOffset(firstSlot(d, n), B, Hp));
    if (spec.kind === "lstm") {
      if (i === 0) writeRows(rt.heap(), cFirstPtr, st.c0, st.s * B * H, B, H, Hp);
      else rt.heap().copyWithin(heapIndex(cFirstPtr), heapIndex(cLastPtr), heapIndex(cLastPtr) + B * Hp);
    }
    projectInput(c, w, run.xzPtr, input, t0, n);
    shiftLengths(c, t0);
    runChunk(c, w, run, d, t0, n, keepGates);
    cLastPtr = ptrAt(run.csPtr, stepOffset(lastSlot(d, n), B, Hp));
  }
  if (st.cN) readRows(st.cN, st.s * B * H, rt.heap(), cLastPtr, B, H, Hp);
  readRows(st.hN, st.s * B * P, rt.heap(), ptrAt(run.hsPtr, stepOffset(lastSlot(d, T), B, Pp)), B, P, Pp);
}

/** xz = input · W_ihᵀ + b_ih for the n*B rows of steps t0..t0+n-1. */
function projectInput(c: Call, w: WeightPtrs, xzPtr: number, input: LayerInput, t0: number, n: number): void {
  const { rt, B } = c;
  const { D, P, Pp, GHp, I } = c.dims;
  const k = rt.kernels;
  if (input.kind === "x") {
    rt.f32(input.xPtr, n * B * I).set(input.x.subarray(stepOffset(t0, B, I), stepOffset(t0 + n, B, I)));
    k.gemm(xzPtr, GHp, input.xPtr, I, w.wihPtr, panelStride(I), w.bihPtr, n * B, I, GHp, 0);
    return;
  }
  // the input is the layer below's directions side by side: one product per direction's row block of W_ih
  for (let e = 0; e < D; e++) {
    const belowPtr = ptrAt(input.outputsPtrs[e], stepOffset(t0, B, Pp));
    const wihRowsPtr = ptrAt(w.wihPtr, packedRowOffset(e * P));
    k.gemm(xzPtr, GHp, belowPtr, Pp, wihRowsPtr, panelStride(D * P), e === 0 ? w.bihPtr : 0, n * B, P, GHp, e);
  }
}

/** The kernels compare a chunk's own step numbers with the lengths: the lengths shifted to its first step t0. */
function shiftLengths(c: Call, t0: number): void {
  if (!c.lengths) return;
  const shifted = new Int32Array(c.rt.kernels.memory.buffer, c.lengthsPtr, c.B);
  for (let b = 0; b < c.B; b++) shifted[b] = c.lengths[b] - t0;
}

/** The recurrence of steps t0..t0+n-1: one kernel call, from the chunk's xz. */
function runChunk(c: Call, w: WeightPtrs, run: RunPtrs, d: number, t0: number, n: number, keepGates: boolean): void {
  const { rt, spec, B } = c;
  const { H, P, Pp } = c.dims;
  const k = rt.kernels;
  const hsChunkPtr = ptrAt(run.hsPtr, stepOffset(t0, B, Pp));
  const keep = keepGates ? 1 : 0;
  if (spec.kind === "lstm") {
    k.lstmForward(hsChunkPtr, run.csPtr, run.gatesPtr, run.xzPtr, w.whhPtr, w.bhhPtr, w.whrPtr, n, B, H, P, d, keep, c.lengthsPtr);
  } else if (spec.kind === "gru") {
    k.gruForward(hsChunkPtr, run.gatesPtr, run.xzPtr, w.whhPtr, w.bhhPtr, n, B, H, spec.resetAfter ? 1 : 0, d, keep, c.lengthsPtr);
  } else {
    k.rnnForward(hsChunkPtr, run.xzPtr, w.whhPtr, w.bhhPtr, n, B, H, spec.nonlinearity === "relu" ? 1 : 0, d, c.lengthsPtr);
  }
}

/** The backward pass's scratch in the training workspace (layout.ts TrainWorkspace). */
export interface BackwardScratch {
  dxzPtr: number; // (T,B,G*Hp) d of the input side's pre-activations
  dzhPtr: number; // (T,B,G*Hp) d of the recurrent side's (the GRU's own; dxzPtr for the others)
  dhPtr: number; // (B,Pp) dL/dh carried through time
  dcPtr: number; // (B,Hp) dL/dc carried through time
  scratchPtr: number; // (B,Hp) dr (LSTM projection) or d(r h) (GRU reset before)
}

/** Transposed copies of one direction's weights (src/wasm-packing.ts); whrTPtr is 0 without a projection. */
export interface TransposedPtrs {
  whhTPtr: number; // (G*Hp, P)
  whrTPtr: number; // (Pp, H)
  wihTPtrs: number[]; // (G*Hp, I_e) per block of the layer's input
}

/** The upstream gradients of a direction's final states (null: zero) and where its initial states' go. */
export interface DirectionStateGradients {
  s: number;
  dhN: Float32Array | null;
  dcN: Float32Array | null;
  dh0: Float32Array;
  dc0: Float32Array | null;
}

/**
 * One direction's backpropagation through time from its tape (run): dhsPtr (T,B,Pp) in, dL/dh_t from above;
 * out, the total. Leaves d of the pre-activations in the scratch's dxz (and dzh) for the products below.
 */
export function backwardDirection(c: Call, run: TapePtrs, dhsPtr: number, sc: BackwardScratch, wT: TransposedPtrs,
  d: number, st: DirectionStateGradients): void {
  const { rt, spec, T, B } = c;
  const { H, Hp, P, Pp } = c.dims;
  const k = rt.kernels;
  writeRows(rt.heap(), sc.dhPtr, st.dhN, st.s * B * P, B, P, Pp);
  if (spec.kind === "lstm") {
    writeRows(rt.heap(), sc.dcPtr, st.dcN, st.s * B * H, B, H, Hp);
    k.lstmBackward(sc.dxzPtr, dhsPtr, sc.dhPtr, sc.dcPtr, sc.scratchPtr, run.csPtr, run.gatesPtr, wT.whhTPtr, wT.whrTPtr,
      T, B, H, P, d, c.lengthsPtr);
    readRows(st.dc0!, st.s * B * H, rt.heap(), sc.dcPtr, B, H, Hp);
  } else if (spec.kind === "gru") {
    k.gruBackward(sc.dxzPtr, sc.dzhPtr, dhsPtr, sc.dhPtr, sc.scratchPtr, run.hsPtr, run.gatesPtr, wT.whhTPtr,
      T, B, H, spec.resetAfter ? 1 : 0, d, c.lengthsPtr);
  } else {
    k.rnnBackward(sc.dxzPtr, dhsPtr, sc.dhPtr, run.hsPtr, wT.whhTPtr, T, B, H, spec.nonlinearity === "relu" ? 1 : 0, d, c.lengthsPtr);
  }
  readRows(st.dh0, st.s * B * P, rt.heap(), sc.dhPtr, B, P, Pp);
}

/** The recurrent weights' and the biases' gradients over all T*B rows, ADDED into the gradient block (g). */
export function weightGradients(c: Call, g: GradPtrs, run: TapePtrs, dhsPtr: number, sc: BackwardScratch, d: number): void {
  const { rt, spec, T, B } = c;
  const { H, Hp, P, Pp, GHp, width } = c.dims;
  const k = rt.kernels;
  const M = T * B;
  if (g.dWhrPtr) { // dW_hr += r_tᵀ · dh_t over all steps (r waits in the gates' fifth block)
    const rPtr = ptrAt(run.gatesPtr, gateBlockOffset(LSTM_R_BLOCK, Hp));
    k.gemmBackwardWeight(g.dWhrPtr, panelStride(H), rPtr, width, dhsPtr, Pp, M, H, Pp);
  }
  const hsPrevPtr = ptrAt(run.hsPtr, stepOffset(firstReadSlot(d), B, Pp)); // h_{t-1} of step t, as T*B rows
  if (spec.kind === "gru" && !spec.resetAfter) {
    // r, z columns from h_{t-1}; the n columns from r * h_{t-1}, kept in the gates
    k.gemmBackwardWeight(g.dWhhPtr, panelStride(H), hsPrevPtr, Pp, sc.dzhPtr, GHp, M, H, 2 * Hp);
    const dWhnPtr = ptrAt(g.dWhhPtr, packedColumnOffset(gateBlockOffset(GRU_N_BLOCK, Hp), H));
    const rhPtr = ptrAt(run.gatesPtr, gateBlockOffset(GRU_RH_BLOCK, Hp));
    const dznPtr = ptrAt(sc.dzhPtr, gateBlockOffset(GRU_N_BLOCK, Hp));
    k.gemmBackwardWeight(dWhnPtr, panelStride(H), rhPtr, width, dznPtr, GHp, M, H, Hp);
  } else {
    k.gemmBackwardWeight(g.dWhhPtr, panelStride(P), hsPrevPtr, Pp, sc.dzhPtr, GHp, M, P, GHp);
  }
  if (spec.bias) {
    k.biasBackward(g.dbihPtr, sc.dxzPtr, GHp, M, GHp);
    k.biasBackward(g.dbhhPtr, sc.dzhPtr, GHp, M, GHp);
  }
}

/** Where a layer's input and its gradient are, for the backward pass. */
export type LayerInputGradient =
  | { kind: "x"; xPtr: number; dxPtr: number } // layer 0: x (T,B,I) and dL/dx (T,B,I)
  | { kind: "below"; outputsPtrs: number[]; dhsPtrs: number[] }; // layer l > 0: per direction of layer l-1, (T,B,Pp)

/**
 * dW_ih += inputᵀ · dxz and d input (+)= dxz · W_ih over all T*B rows. Layer 0's dx is written by direction 0 and
 * added to by direction 1; the layer below's dhs, which the caller zeroes, take both directions' sums.
 */
export function inputGradients(c: Call, g: GradPtrs, wT: TransposedPtrs, input: LayerInputGradient,
  sc: BackwardScratch, d: number): void {
  const { rt, T, B } = c;
  const { D, P, Pp, GHp, I } = c.dims;
  const k = rt.kernels;
  const M = T * B;
  if (input.kind === "x") {
    k.gemmBackwardWeight(g.dWihPtr, panelStride(I), input.xPtr, I, sc.dxzPtr, GHp, M, I, GHp);
    k.gemm(input.dxPtr, I, sc.dxzPtr, GHp, wT.wihTPtrs[0], panelStride(GHp), 0, M, GHp, I, d);
    return;
  }
  for (let e = 0; e < D; e++) {
    const dWihRowsPtr = ptrAt(g.dWihPtr, packedRowOffset(e * P));
    k.gemmBackwardWeight(dWihRowsPtr, panelStride(D * P), input.outputsPtrs[e], Pp, sc.dxzPtr, GHp, M, P, GHp);
    k.gemm(input.dhsPtrs[e], Pp, sc.dxzPtr, GHp, wT.wihTPtrs[e], panelStride(GHp), 0, M, GHp, P, 1);
  }
}
