// src/wasm-packing.ts: the wasm engine's weight packing, as ONNX Runtime's operator pre-packs: PyTorch's tensors into
// the packed parameter block once, when a model is made (layout.ts says where each goes), and back out for toTorch()
// and grads(); and the transposed copies of the weights that the backward products read, rebuilt from the current
// weights at each backward pass (an optimizer step changes the weights between passes).
import type { ParamRole, Spec } from "./architecture.js";
import type { Blocks } from "./blocks.js";
import {
  bytesOf, modelDims, packedRowOffset, panelStride, ptrAt, unpackTensor, type PackedTensor, type ParamLayout,
  type TransposedLayout,
} from "./layout.js";
import type { Runtime } from "./runtime.js";
import type { TransposedPtrs } from "./wasm-direction.js";

/**
 * Packs PyTorch's tensors `params` (by state_dict name) into the block at paramsPtr, each through one scratch
 * block of `blocks` that is freed afterwards.
 */
export function packParams(blocks: Blocks, paramsPtr: number, layout: ParamLayout, params: Record<string, Float32Array>): void {
  let largest = 0;
  for (const p of layout.params) largest = Math.max(largest, p.G * p.R * p.C);
  const scratchPtr = blocks.alloc(bytesOf(largest), "the packing scratch");
  for (const p of layout.params) packTensor(blocks.rt, ptrAt(paramsPtr, p.offset), scratchPtr, params[p.name], p);
  blocks.free(scratchPtr);
}

/**
 * Packs one PyTorch tensor `src` of shape (G*R, C) to dstPtr, copied through scratchPtr: the kernel packWeights
 * does the work, so loading a model runs no long loop in JavaScript's cold tiers.
 */
export function packTensor(rt: Runtime, dstPtr: number, scratchPtr: number, src: Float32Array, t: PackedTensor): void {
  rt.f32(scratchPtr, t.G * t.R * t.C).set(src);
  rt.kernels.packWeights(dstPtr, scratchPtr, t.G, t.R, t.C);
}

/** The tensors of a block of the parameter layout at ptr, in PyTorch's layout by name; zeros when ptr is 0. */
export function unpackParams(rt: Runtime, ptr: number, layout: ParamLayout): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  if (!ptr) {
    for (const p of layout.params) out[p.name] = new Float32Array(p.G * p.R * p.C);
    return out;
  }
  const block = rt.f32(ptr, layout.totalFloats);
  for (const p of layout.params) out[p.name] = unpackTensor(block, p);
  return out;
}

/**
 * Byte address of parameter `role` of layer l, direction d in a block of the parameter layout at blockPtr (the
 * parameters or their gradients); 0 for a tensor the model does not have.
 */
export function paramPtr(blockPtr: number, layout: ParamLayout, role: ParamRole, l: number, d: number): number {
  const offset = layout.offsets[l][d][role];
  return offset < 0 ? 0 : ptrAt(blockPtr, offset);
}

/**
 * Fills the transposed copies (layout.ts transposedLayout) in the block at transPtr from the current weights in the
 * parameter block at paramsPtr; returns their addresses by layer and direction.
 */
export function packTransposedWeights(rt: Runtime, spec: Spec, layout: ParamLayout, tl: TransposedLayout,
  paramsPtr: number, transPtr: number): TransposedPtrs[][] {
  const { D, P, H, GHp, Pp, I } = modelDims(spec);
  const k = rt.kernels;
  return tl.runs.map((runs, l) => runs.map((r, d) => {
    const wihPtr = paramPtr(paramsPtr, layout, "weight_ih", l, d);
    const whhPtr = paramPtr(paramsPtr, layout, "weight_hh", l, d);
    const whrPtr = paramPtr(paramsPtr, layout, "weight_hr", l, d);
    const whhTPtr = ptrAt(transPtr, r.whh);
    const whrTPtr = whrPtr ? ptrAt(transPtr, r.whr) : 0;
    const wihTPtrs = r.wih.map((offset) => ptrAt(transPtr, offset));
    k.packTransposed(whhTPtr, whhPtr, panelStride(P), P, GHp);
    if (whrTPtr) k.packTransposed(whrTPtr, whrPtr, panelStride(H), H, Pp);
    if (l === 0) k.packTransposed(wihTPtrs[0], wihPtr, panelStride(I), I, GHp);
    else for (let e = 0; e < D; e++) k.packTransposed(wihTPtrs[e], ptrAt(wihPtr, packedRowOffset(e * P)), panelStride(D * P), P, GHp);
    return { whhTPtr, whrTPtr, wihTPtrs };
  }));
}
