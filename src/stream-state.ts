// src/stream-state.ts: the state a layer's stream() carries from call to call, shared by the float layers
// (layers.ts) and the quantized ones (quantized.ts): private copies of hN/cN, reused while the shapes stay the same.
import { RnnError } from "./errors.js";
import { knownKeys, optionsObject } from "./options.js";
import type { Tensor } from "./tensor.js";

/** h0 (and, for an LSTM, c0) as forward() takes them. */
export interface StreamStart {
  h0: Tensor;
  c0?: Tensor;
}

function sameShape(a: Tensor, b: Tensor): boolean {
  return a.shape.length === b.shape.length && a.shape.every((d, k) => d === b.shape[k]);
}

/** A copy the caller cannot change under us (a malformed one is passed through for forward() to report). */
export function copyTensor(t: Tensor): Tensor {
  // new Float32Array(x) copies on V8's fast path; x.slice() goes through the species lookup, ~10x slower for
  // the small states stream() copies on every call
  return t?.data instanceof Float32Array && Array.isArray(t.shape) ? { shape: [...t.shape], data: new Float32Array(t.data) } : t;
}

export class StreamState {
  private current: StreamStart | null = null;

  /**
   * One stream() call of a layer: refused for a bidirectional one, `run` from the kept state (null: zeros), its final
   * state kept for the next call.
   */
  step<R extends { hN: Tensor; cN?: Tensor }>(bidirectional: boolean, run: (start: StreamStart | null) => R): R {
    if (bidirectional) {
      throw new RnnError("state", "stream() needs a unidirectional layer: the reverse direction of a bidirectional one starts from the end of the whole sequence");
    }
    const r = run(this.current);
    this.keep(r.hN, r.cN);
    return r;
  }

  /** Keeps a private copy of a call's final state (the caller may write into hN and cN). */
  keep(hN: Tensor, cN: Tensor | undefined): void {
    const s = this.current;
    if (s && sameShape(s.h0, hN) && (!cN || (s.c0 && sameShape(s.c0, cN)))) {
      s.h0.data.set(hN.data);
      if (cN) s.c0!.data.set(cN.data);
    } else {
      this.current = { h0: copyTensor(hN), c0: cN && copyTensor(cN) };
    }
  }

  /** Forgets the state, or sets it to a copy of `initial` (checked by the next forward). */
  reset(initial: unknown): void {
    const state = initial === undefined ? undefined : (optionsObject("resetState's state", initial) as Partial<StreamStart>);
    if (state) knownKeys("resetState", state, ["h0", "c0"]);
    if (state?.c0 && !state.h0) throw new RnnError("missing", "resetState needs h0 whenever c0 is given");
    this.current = state?.h0 ? { h0: copyTensor(state.h0), c0: state.c0 && copyTensor(state.c0) } : null;
  }

  /** A copy of the kept state, or null at the start. */
  snapshot(): StreamStart | null {
    const s = this.current;
    return s ? { h0: copyTensor(s.h0), ...(s.c0 ? { c0: copyTensor(s.c0) } : {}) } : null;
  }
}
