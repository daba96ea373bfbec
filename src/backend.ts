// src/backend.ts: the one way a module chooses between the wasm kernels and the plain-TypeScript reference.
//
// A module that can run on either backend states what it needs as an interface, its engine, and implements it
// twice with the same method names and meanings: a Wasm* class over the kernels and wasm blocks (src/blocks.ts)
// and a Reference* class over src/reference/ and Float32Arrays. It picks one implementation once, when the object
// is made, with chooseBackend; after that nothing asks which backend it runs on (no `if (this.rt)`, no
// `wasm() ? kernels.x : ref.x`). The engines in the library:
//   recurrent layers and cells  Engine (src/engine.ts)            WasmEngine, ReferenceEngine
//   Linear                      LinearEngine (train/linear-engine.ts)  WasmLinear, ReferenceLinear
//   Embedding's table           ParamStore (src/param-store.ts)   WasmParamStore, ArrayParamStore
//   optimizers and clipping     BufferOps (train/buffer-ops.ts)   WasmBufferOps, ReferenceBufferOps: one per
//                               parameter buffer, on the backend that buffer's model chose
// A new module adds its interface and its two classes, and calls chooseBackend in its constructor.
import { getRuntime, type Runtime } from "./runtime.js";

/** The two implementations of an engine: the wasm one on a runtime, and the reference one. */
export interface BackendChoice<T> {
  /** Makes the wasm implementation, on `rt`. */
  wasm(rt: Runtime): T;
  /** Makes the reference implementation. */
  reference(): T;
}

/** The wasm implementation on `runtime`, or the reference one when `runtime` is null. */
export function chooseBackend<T>(runtime: Runtime | null, make: BackendChoice<T>): T {
  return runtime ? make.wasm(runtime) : make.reference();
}

/**
 * The runtime a module on `backend` runs on: for 'wasm', the one given or else the one init() loaded (throwing
 * 'init' before init()); null for 'reference'.
 */
export function backendRuntime(backend: "wasm" | "reference", runtime: Runtime | undefined): Runtime | null {
  return backend === "wasm" ? runtime ?? getRuntime() : null;
}
