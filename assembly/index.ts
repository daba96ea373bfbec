// assembly/index.ts: the module's exports: the kernels, and raw memory blocks for src/runtime.ts to own.
export { biasBackward, addInto, sigmoidForward, tanhForward } from "./math";
export { gemm, gemmBackwardWeight, packTransposed, packWeights } from "./gemm";
export { lstmForward, lstmForwardQ16, lstmForwardQ8, lstmBackward, lstmGateWidth } from "./lstm";
export { gruForward, gruForwardQ16, gruForwardQ8, gruBackward, gruGateWidth } from "./gru";
export { rnnForward, rnnForwardQ16, rnnForwardQ8, rnnBackward } from "./rnn";

// A block of `bytes` bytes, 16-byte aligned (so v128 loads line up), contents undefined. TLSF reuses freed
// blocks, so memory in use stays flat over create/dispose cycles.
export function alloc(bytes: usize): usize {
  return heap.alloc(bytes);
}

export function free(ptr: usize): void {
  heap.free(ptr);
}
export { sumSquares, maxAbs, scaleInPlace, clampInPlace, sgdStep, adamStep } from "./optim";
export { quantizeQ16, quantizeQ8, gemmQ16, gemmQ8, packQ16, packQ8, packIntQ16, packIntQ8 } from "./quant";
export { pairsToQ8, rangeQ16, widenI8 } from "./quant-load";
