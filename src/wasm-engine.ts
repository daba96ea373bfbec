// src/wasm-engine.ts: the Engine (src/engine.ts) of the wasm backend, split as ONNX Runtime's CPU RNN is: this
// operator packs the parameters once (src/wasm-packing.ts), owns the memory (src/blocks.ts: the packed parameters,
// their gradients from the first training forward, a workspace that grows only when a call needs more, the
// transposed weights for backward) and runs the loop over layers and directions; each direction's run is
// src/wasm-direction.ts's. The loops read as src/reference/layer.ts's: per layer and direction, one gemm for the
// input projection of a chunk of timesteps (about 256 rows of T*B at inference, layout.ts chunkSteps; the whole
// sequence when training), then one kernel call for the chunk's recurrence. Layer k > 0 reads layer k-1's hidden
// states in place (each direction's block is a (T,B,Pp) matrix), so nothing is copied between layers. Backward
// mirrors it: one kernel call per layer and direction walks time in reverse, then the weight gradients of all
// timesteps are each one matrix-matrix product.
import type { Spec } from "./architecture.js";
import { Blocks, ParamBlocks, Workspace } from "./blocks.js";
import { noTape, type Engine, type EngineGradients, type EngineOut, type EngineResult } from "./engine.js";
import {
  modelDims, paramLayout, ptrAt, trainWorkspaceLayout, transposedLayout, workspaceLayout, type ForwardWorkspace,
  type ModelDims, type ParamLayout, type TrainWorkspace,
} from "./layout.js";
import type { ParamBuffer } from "./param-buffer.js";
import type { Runtime } from "./runtime.js";
import { interleaveOutputs, splitOutputGradient, stateIndex } from "./sequence.js";
import { carve } from "./tensor.js";
import {
  backwardDirection, forwardDirection, inputGradients, outputsPtr, weightGradients, type BackwardScratch, type Call,
  type DirectionStateGradients, type DirectionStates, type LayerInput, type LayerInputGradient, type TransposedPtrs,
} from "./wasm-direction.js";
import { packParams, packTransposedWeights, paramPtr, unpackParams } from "./wasm-packing.js";

export class WasmEngine implements Engine {
  private readonly rt: Runtime;
  private readonly spec: Spec;
  private readonly dims: ModelDims;
  private readonly layout: ParamLayout;
  private readonly blocks: Blocks;
  private readonly params: ParamBlocks; // packed (layout.ts), and their gradients in the same layout
  private readonly scratch: Workspace; // the call's: layout.ts workspaceLayout or trainWorkspaceLayout
  private readonly transposed: Workspace; // the weights transposed for backward: layout.ts transposedLayout
  private readonly inferenceLayouts = new LayoutCache(workspaceLayout);
  private readonly trainLayouts = new LayoutCache(trainWorkspaceLayout);
  private tape: { T: number; B: number; ws: TrainWorkspace; lengths: Int32Array | null } | null = null;

  constructor(rt: Runtime, spec: Spec, params: Record<string, Float32Array>, what: string) {
    this.rt = rt;
    this.spec = spec;
    this.dims = modelDims(spec);
    this.layout = paramLayout(spec);
    this.blocks = new Blocks(rt, this, what);
    this.scratch = new Workspace(this.blocks, "the workspace");
    this.transposed = new Workspace(this.blocks, "the transposed weights for backward");
    try {
      this.params = new ParamBlocks(this.blocks, this.layout.totalFloats, { params: "the parameters", grads: "the parameter gradients" });
      packParams(this.blocks, this.params.paramsPtr, this.layout, params);
    } catch (e) {
      this.blocks.freeAll();
      throw e;
    }
  }

  toTorch(): Record<string, Float32Array> {
    return unpackParams(this.rt, this.params.paramsPtr, this.layout);
  }

  grads(): Record<string, Float32Array> {
    return unpackParams(this.rt, this.params.gradsPtr, this.layout);
  }

  zeroGrad(): void {
    this.params.zeroGrad();
  }

  parameterBuffers(alive: () => void): ParamBuffer[] {
    return [this.params.buffer(alive)];
  }

  forward(x: Float32Array, T: number, B: number, h0: Float32Array | null, c0: Float32Array | null, train: boolean,
    lengths: Int32Array | null, into?: EngineOut): EngineResult {
    this.tape = null;
    // Inference ping-pongs two sets of state buffers, reuses one step's gates and projects the input a chunk of
    // timesteps at a time; training keeps everything for backward, so its one chunk is the whole sequence.
    if (!train) return this.runForward(this.inferenceLayouts.get(this.spec, T, B), x, T, B, h0, c0, false, lengths, into);
    const ws = this.trainLayouts.get(this.spec, T, B);
    const result = this.runForward(ws, x, T, B, h0, c0, true, lengths, into);
    this.tape = { T, B, ws, lengths: lengths && lengths.slice() };
    return result;
  }

  /**
   * The forward over every layer and direction, in the workspace `ws`; `train` keeps each step's gates. The results
   * go into `into` when given (nothing allocated), else into fresh arrays.
   */
  private runForward(ws: ForwardWorkspace, x: Float32Array, T: number, B: number, h0: Float32Array | null,
    c0: Float32Array | null, train: boolean, lengths: Int32Array | null, into?: EngineOut): EngineResult {
    const wsPtr = this.scratch.fits(ws.totalFloats) ||
      this.scratch.get(ws.totalFloats, () => `the ${train ? "training" : "inference"} workspace for T = ${T}, B = ${B}`);
    if (train) this.params.ensureGrads(); // after the workspace, so a call refused for its size allocates nothing
    const c = this.call(T, B, lengths, ptrAt(wsPtr, ws.lengths));
    const { D, L, H, P, Pp } = this.dims;
    const lstm = this.spec.kind === "lstm";
    const [output, hN, cAll] = into ? [into.output, into.hN, into.cN] : carve([T * B * D * P, L * D * B * P, lstm ? L * D * B * H : 0]);
    const cN = lstm ? cAll : null;
    for (let l = 0; l < L; l++) {
      for (let d = 0; d < D; d++) {
        const states: DirectionStates = { s: stateIndex(l, d, D), h0, c0, hN, cN };
        this.forwardRun(c, ws, wsPtr, x, l, d, train, states);
      }
    }
    // the last layer's outputs, interleaved by direction: (T,B,D*P)
    for (let d = 0; d < D; d++) {
      const rows = this.rt.f32(outputsPtr(c, ptrAt(wsPtr, ws.runs[L - 1][d].hs), d), T * B * Pp);
      interleaveOutputs(output, rows, Pp, d, D, P, T, B, lengths, into?.batchFirst);
    }
    return into ?? { output, hN, cN };
  }

  /** Layer l, direction d's forward: its weights and buffers, one pointer a line, then the direction's run. */
  private forwardRun(c: Call, ws: ForwardWorkspace, wsPtr: number, x: Float32Array, l: number, d: number,
    train: boolean, states: DirectionStates): void {
    const paramsPtr = this.params.paramsPtr;
    const wihPtr = paramPtr(paramsPtr, this.layout, "weight_ih", l, d);
    const bihPtr = paramPtr(paramsPtr, this.layout, "bias_ih", l, d);
    const whhPtr = paramPtr(paramsPtr, this.layout, "weight_hh", l, d);
    const bhhPtr = paramPtr(paramsPtr, this.layout, "bias_hh", l, d);
    const whrPtr = paramPtr(paramsPtr, this.layout, "weight_hr", l, d);
    const xzPtr = ptrAt(wsPtr, ws.xz);
    const hsPtr = ptrAt(wsPtr, ws.runs[l][d].hs);
    const csPtr = ptrAt(wsPtr, ws.runs[l][d].cs);
    const gatesPtr = ptrAt(wsPtr, ws.runs[l][d].gates);
    const input: LayerInput = l === 0
      ? { kind: "x", x, xPtr: ptrAt(wsPtr, ws.x) }
      : { kind: "below", outputsPtrs: ws.runs[l - 1].map((below, e) => outputsPtr(c, ptrAt(wsPtr, below.hs), e)) };
    const weights = { wihPtr, bihPtr, whhPtr, bhhPtr, whrPtr };
    forwardDirection(c, weights, { xzPtr, hsPtr, csPtr, gatesPtr }, input, d, ws.chunk, train, states);
  }

  backward(dOutput: Float32Array | null, dhN: Float32Array | null, dcN: Float32Array | null): EngineGradients {
    if (!this.tape) throw noTape();
    const { T, B, ws, lengths } = this.tape;
    this.tape = null;
    const wsPtr = this.scratch.address;
    const c = this.call(T, B, lengths, ptrAt(wsPtr, ws.lengths));
    const { D, L, H, P, Pp, I } = this.dims;
    const lstm = this.spec.kind === "lstm";
    const [dx, dh0, dcAll] = carve([T * B * I, L * D * B * P, lstm ? L * D * B * H : 0]);
    const dc0 = lstm ? dcAll : null;
    const transposed = this.transposeWeights();
    const sc: BackwardScratch = {
      dxzPtr: ptrAt(wsPtr, ws.dxz), dzhPtr: ptrAt(wsPtr, ws.dzh), dhPtr: ptrAt(wsPtr, ws.dh), dcPtr: ptrAt(wsPtr, ws.dc),
      scratchPtr: ptrAt(wsPtr, ws.scratch),
    };
    // the top layer's upstream gradient, split by direction into padded (T,B,Pp) blocks
    for (let d = 0; d < D; d++) {
      const dhs = this.rt.f32(ptrAt(wsPtr, ws.dhs[L - 1][d]), T * B * Pp);
      dhs.fill(0);
      if (dOutput) splitOutputGradient(dhs, Pp, dOutput, d, D, P, T, B, lengths);
    }
    for (let l = L - 1; l >= 0; l--) {
      if (l > 0) for (const below of ws.dhs[l - 1]) this.rt.f32(ptrAt(wsPtr, below), T * B * Pp).fill(0);
      for (let d = 0; d < D; d++) {
        const states: DirectionStateGradients = { s: stateIndex(l, d, D), dhN, dcN, dh0, dc0 };
        this.backwardRun(c, ws, wsPtr, transposed[l][d], sc, l, d, states);
      }
    }
    dx.set(this.rt.f32(ptrAt(wsPtr, ws.dx), T * B * I));
    return { dx, dh0, dc0 };
  }

  /** Layer l, direction d's backward: its tape, gradients and input, one pointer a line, then the three steps. */
  private backwardRun(c: Call, ws: TrainWorkspace, wsPtr: number, wT: TransposedPtrs, sc: BackwardScratch,
    l: number, d: number, states: DirectionStateGradients): void {
    const gradsPtr = this.params.gradsPtr;
    const dWihPtr = paramPtr(gradsPtr, this.layout, "weight_ih", l, d);
    const dbihPtr = paramPtr(gradsPtr, this.layout, "bias_ih", l, d);
    const dWhhPtr = paramPtr(gradsPtr, this.layout, "weight_hh", l, d);
    const dbhhPtr = paramPtr(gradsPtr, this.layout, "bias_hh", l, d);
    const dWhrPtr = paramPtr(gradsPtr, this.layout, "weight_hr", l, d);
    const hsPtr = ptrAt(wsPtr, ws.runs[l][d].hs);
    const csPtr = ptrAt(wsPtr, ws.runs[l][d].cs);
    const gatesPtr = ptrAt(wsPtr, ws.runs[l][d].gates);
    const dhsPtr = ptrAt(wsPtr, ws.dhs[l][d]);
    const input: LayerInputGradient = l === 0
      ? { kind: "x", xPtr: ptrAt(wsPtr, ws.x), dxPtr: ptrAt(wsPtr, ws.dx) }
      : {
        kind: "below",
        outputsPtrs: ws.runs[l - 1].map((below, e) => outputsPtr(c, ptrAt(wsPtr, below.hs), e)),
        dhsPtrs: ws.dhs[l - 1].map((below) => ptrAt(wsPtr, below)),
      };
    const grads = { dWihPtr, dbihPtr, dWhhPtr, dbhhPtr, dWhrPtr };
    const tape = { hsPtr, csPtr, gatesPtr };
    backwardDirection(c, tape, dhsPtr, sc, wT, d, states);
    weightGradients(c, grads, tape, dhsPtr, sc, d);
    inputGradients(c, grads, wT, input, sc, d);
  }

  /** Rebuilds the transposed weight copies from the current weights; their addresses by layer and direction. */
  private transposeWeights(): TransposedPtrs[][] {
    const tl = transposedLayout(this.spec);
    const transPtr = this.transposed.get(tl.totalFloats);
    return packTransposedWeights(this.rt, this.spec, this.layout, tl, this.params.paramsPtr, transPtr);
  }

  private call(T: number, B: number, lengths: Int32Array | null, lengthsPtr: number): Call {
    return { rt: this.rt, spec: this.spec, dims: this.dims, T, B, lengths, lengthsPtr: lengths ? lengthsPtr : 0 };
  }

  dispose(): void {
    this.blocks.freeAll();
    this.tape = null;
  }
}

/** The last workspace layout made, reused while calls keep its T and B. */
class LayoutCache<W> {
  private last: { T: number; B: number; ws: W } | null = null;

  constructor(private readonly make: (spec: Spec, T: number, B: number) => W) {}

  get(spec: Spec, T: number, B: number): W {
    if (!this.last || this.last.T !== T || this.last.B !== B) this.last = { T, B, ws: this.make(spec, T, B) };
    return this.last.ws;
  }
}

