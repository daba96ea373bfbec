// src/train/params.ts: what optimizers and clipping accept (a model, a list of models, or their parameter
// buffers) and how they get the buffers (src/param-buffer.ts) out of it.
import { RnnError } from "../errors.js";
import type { ParamBuffer, Trainable } from "../param-buffer.js";

export { arrayBuffer, wasmBuffer, type ParamBuffer, type Trainable } from "../param-buffer.js";

export function buffersOf(models: Trainable | Trainable[] | ParamBuffer[]): ParamBuffer[] {
  const list: unknown[] = Array.isArray(models) ? models : [models];
  return list.flatMap((m, i) => {
    const where = Array.isArray(models) ? `models[${i}]` : "the model";
    if (m !== null && typeof m === "object") {
      if (typeof (m as Trainable).parameterBuffers === "function") return (m as Trainable).parameterBuffers();
      const b = m as ParamBuffer;
      if (typeof b.size === "number" && typeof b.params === "function" && typeof b.grads === "function" && typeof b.wasm === "function") return [b];
    }
    throw new RnnError("unexpected", `${where} is not a model (a layer, cell, Linear, Embedding or Sequential) nor a parameter buffer`);
  });
}
