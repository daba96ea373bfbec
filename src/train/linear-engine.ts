// src/train/linear-engine.ts: what Linear needs from a backend, and its two implementations (chosen once in Linear's
// constructor, src/backend.ts). Rows are M = the product of the input's leading axes; y (M,N) = x (M,I) · Wᵀ + b.
//   WasmLinear       W packed as (I, roundUp4(N)) with the bias after it in one block (layout.ts linearLayout), its
//                    gradients in a block of the same layout: forward is one gemm; backward is gemmBackwardWeight and
//                    biasBackward (dW, db) and a gemm against a transposed copy of W (dx), over all rows at once
//   ReferenceLinear  PyTorch's layout in Float32Arrays, src/reference/gemm.ts
import { Blocks, ParamBlocks, Workspace } from "../blocks.js";
import {
  linearBackwardLayout, linearForwardLayout, linearLayout, panelStride, ptrAt, roundUp4, unpackTensor, writeRows,
  type LinearLayout,
} from "../layout.js";
import { arrayBuffer, type ParamBuffer } from "../param-buffer.js";
import { gemm, gemmBackwardInput, gemmBackwardWeight } from "../reference/gemm.js";
import { biasBackward } from "../reference/math.js";
import type { Runtime } from "../runtime.js";
import { packTensor } from "../wasm-packing.js";

/** A Linear's weights in PyTorch's layout: weight (N, I) and, with a bias, bias (N). */
export interface LinearWeights {
  weight: Float32Array;
  bias?: Float32Array;
}

export interface LinearEngine {
  /** y (M,N) = x (M,I) · Wᵀ + b, a new array. */
  forward(x: Float32Array, M: number): Float32Array;
  /** dx (M,I) for the upstream dy (M,N) at the input x of a forward; ADDS dW and db into the gradients. */
  backward(x: Float32Array, dy: Float32Array, M: number): Float32Array;
  /** The weights in PyTorch's layout (copies). */
  toTorch(): LinearWeights;
  /** The accumulated gradients in PyTorch's layout (copies). */
  grads(): LinearWeights;
  zeroGrad(): void;
  /** The parameters and gradients as flat buffers; `alive` throws once the owner is disposed. */
  parameterBuffers(alive: () => void): ParamBuffer[];
  /** Frees the wasm memory (nothing for arrays). */
  dispose(): void;
}

export class WasmLinear implements LinearEngine {
  private readonly rt: Runtime;
  private readonly I: number;
  private readonly N: number;
  private readonly hasBias: boolean;
  private readonly layout: LinearLayout;
  private readonly blocks: Blocks;
  private readonly params: ParamBlocks;
  private readonly scratch: Workspace;

  /**
   * @param rt the runtime whose memory holds the blocks
   * @param I input features; N output features
   * @param w the weights, PyTorch's layout
   * @param what the owner in words, for messages
   */
  constructor(rt: Runtime, I: number, N: number, w: LinearWeights, what: string) {
    this.rt = rt;
    this.I = I;
    this.N = N;
    this.hasBias = w.bias !== undefined;
    this.layout = linearLayout(I, N);
    this.blocks = new Blocks(rt, this, what);
    this.scratch = new Workspace(this.blocks, "the workspace");
    this.params = new ParamBlocks(this.blocks, this.layout.totalFloats, { params: "the parameters", grads: "the gradients" });
    // the weights go through the gradient block (zeroed again below) and are packed by the kernel the layers use
    const gradsPtr = this.params.ensureGrads();
    packTensor(rt, ptrAt(this.params.paramsPtr, this.layout.weight.offset), gradsPtr, w.weight, this.layout.weight);
    const block = this.params.params();
    block.fill(0, this.layout.bias.offset);
    if (w.bias) block.set(w.bias, this.layout.bias.offset);
    this.params.grads().fill(0);
  }

  forward(x: Float32Array, M: number): Float32Array {
    const { rt, I, N } = this;
    const ws = linearForwardLayout(M, I, N);
    const wsPtr = this.scratch.fits(ws.totalFloats) || this.scratch.get(ws.totalFloats, () => `the workspace for ${M} rows`);
    const xPtr = ptrAt(wsPtr, ws.x);
    const yPtr = ptrAt(wsPtr, ws.y);
    const wPtr = ptrAt(this.params.paramsPtr, this.layout.weight.offset);
    const bPtr = this.hasBias ? ptrAt(this.params.paramsPtr, this.layout.bias.offset) : 0;
    rt.f32(xPtr, M * I).set(x);
    rt.kernels.gemm(yPtr, N, xPtr, I, wPtr, panelStride(I), bPtr, M, I, N, 0);
    return rt.f32(yPtr, M * N).slice();
  }

  backward(x: Float32Array, dy: Float32Array, M: number): Float32Array {
    const { rt, I, N } = this;
    const k = rt.kernels;
    const Np = roundUp4(N);
    const ws = linearBackwardLayout(M, I, Np);
    const wsPtr = this.scratch.fits(ws.totalFloats) || this.scratch.get(ws.totalFloats, () => `the workspace for ${M} rows`);
    const xPtr = ptrAt(wsPtr, ws.x);
    const dyPtr = ptrAt(wsPtr, ws.dy); // (M,Np): dy's rows padded, the padding zero
    const dxPtr = ptrAt(wsPtr, ws.dx);
    const wtPtr = ptrAt(wsPtr, ws.wt); // Wᵀ, packed (Np, I)
    const wPtr = ptrAt(this.params.paramsPtr, this.layout.weight.offset);
    const dWPtr = ptrAt(this.params.gradsPtr, this.layout.weight.offset);
    const dbPtr = ptrAt(this.params.gradsPtr, this.layout.bias.offset);
    rt.f32(xPtr, M * I).set(x);
    writeRows(rt.heap(), dyPtr, dy, 0, M, N, Np);
    k.gemmBackwardWeight(dWPtr, panelStride(I), xPtr, I, dyPtr, Np, M, I, Np);
    if (this.hasBias) k.biasBackward(dbPtr, dyPtr, Np, M, Np);
    k.packTransposed(wtPtr, wPtr, panelStride(I), I, Np);
    k.gemm(dxPtr, I, dyPtr, Np, wtPtr, panelStride(Np), 0, M, Np, I, 0);
    return rt.f32(dxPtr, M * I).slice();
  }

  private unpack(block: Float32Array): LinearWeights {
    const out: LinearWeights = { weight: unpackTensor(block, this.layout.weight) };
    if (this.hasBias) out.bias = unpackTensor(block, this.layout.bias);
    return out;
  }

  toTorch(): LinearWeights {
    return this.unpack(this.params.params());
  }

  grads(): LinearWeights {
    return this.unpack(this.params.grads());
  }

  zeroGrad(): void {
    this.params.zeroGrad();
  }

  parameterBuffers(alive: () => void): ParamBuffer[] {
    return [this.params.buffer(alive)];
  }

  dispose(): void {
    this.blocks.freeAll();
  }
}

export class ReferenceLinear implements LinearEngine {
  private readonly I: number;
  private readonly N: number;
  private readonly W: Float32Array;
  private readonly b: Float32Array | null;
  private readonly dW: Float32Array;
  private readonly db: Float32Array | null;

  constructor(I: number, N: number, w: LinearWeights) {
    this.I = I;
    this.N = N;
    this.W = w.weight.slice();
    this.b = w.bias ? w.bias.slice() : null;
    this.dW = new Float32Array(this.W.length);
    this.db = this.b ? new Float32Array(this.b.length) : null;
  }

  forward(x: Float32Array, M: number): Float32Array {
    const y = new Float32Array(M * this.N);
    gemm(y, this.N, x, this.I, this.W, this.I, this.b, M, this.I, this.N, false);
    return y;
  }

  backward(x: Float32Array, dy: Float32Array, M: number): Float32Array {
    const { I, N } = this;
    const dx = new Float32Array(M * I);
    gemmBackwardWeight(this.dW, I, x, I, dy, N, M, I, N);
    if (this.db) biasBackward(this.db, dy, N, M, N);
    gemmBackwardInput(dx, I, dy, N, this.W, I, M, I, N, false);
    return dx;
  }

  toTorch(): LinearWeights {
    return this.b ? { weight: this.W.slice(), bias: this.b.slice() } : { weight: this.W.slice() };
  }

  grads(): LinearWeights {
    return this.db ? { weight: this.dW.slice(), bias: this.db.slice() } : { weight: this.dW.slice() };
  }

  zeroGrad(): void {
    this.dW.fill(0);
    this.db?.fill(0);
  }

  parameterBuffers(alive: () => void): ParamBuffer[] {
    const list = [arrayBuffer(this.W, this.dW, alive)];
    if (this.b) list.push(arrayBuffer(this.b, this.db!, alive));
    return list;
  }

  dispose(): void {}
}
