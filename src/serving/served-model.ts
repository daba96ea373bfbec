// src/serving/served-model.ts: a model loaded once to answer many single-sequence requests, several at a time in
// one batched forward (one per length class: see lengthClasses). The requests of a batch are padded to the longest
// and run with per-row `lengths` (the layer
// stops each row at its own last step: hN is that step's state, the reverse direction starts there), then split
// back, so each request gets what it would get alone (test/serving/served-model.test.ts measures how exactly).
// A quantized model file (saveQuantized's format) is served by its QuantizedLayer, through the same code.
import { RnnError } from "../errors.js";
import { loadSafetensors } from "../io/safetensors.js";
import { checkFinite, type NanPolicy, type Tensor } from "../tensor.js";
import { nanPolicyOption, describeValue } from "../options.js";
import type { Kind, Spec } from "../architecture.js";
import type { RecurrentLayer } from "../layers.js";
import type { Linear } from "../train/linear.js";
import type { QuantDtype, QuantizedLayer } from "../quantized.js";
import { isQuantizedFile } from "../quantized-file.js";
import { readQuantizedServedModel, readServedModel, type ServedModelOptions } from "./model-file.js";
import { concatRows, splitState, splitSteps, stackInputs, stackStates } from "./batch.js";

/**
 * One sequence of a batch, unbatched and row-major. Sizes: I inputSize, H hiddenSize, P projSize or H, and
 * LD = (2 if bidirectional else 1) × numLayers. Other properties are ignored, so an item can carry its own.
 */
export interface SequenceRequest {
  /** `steps × I` floats: `[T, I]`, row-major. */
  input: Float32Array;
  /** T, the number of timesteps in `input` (at least 1). */
  steps: number;
  /** Initial h, `[LD, P]` flat (PyTorch's h0 of one sequence); zeros when absent. */
  h0?: Float32Array;
  /** LSTM only: initial cell state, `[LD, H]` flat; zeros when absent. */
  c0?: Float32Array;
  /**
   * Where to write the output, `steps × D*P` floats (such as a view of memory the caller reuses for every answer);
   * the result's `output` is then this very array. Absent: a new array.
   */
  output?: Float32Array;
}

/** How {@link ServedModel.run} takes its requests. */
export interface RunOptions {
  /**
   * Every request has already passed {@link ServedModel.check} (a server that checks each request alone, so that a
   * bad one is refused without failing its batch): run() does not check them again.
   */
  checked?: boolean;
}

/**
 * What one request gets back; each array has an ArrayBuffer of its own (transferable on its own), except an output
 * written where the request's `output` said.
 */
export interface SequenceResult {
  /** `[T, D*P]`: the last layer's h at every step, both directions concatenated. */
  output: Float32Array;
  /** `[T, O]`: the head applied at every step, when the model has one. */
  head?: Float32Array;
  /** `[LD, P]`: the state after the sequence's last step (PyTorch's h_n of one sequence). */
  hN: Float32Array;
  /** LSTM only, `[LD, H]`: the cell state after the last step. */
  cN?: Float32Array;
}

/** The shapes of one sequence's state (PyTorch's h_n and c_n without the batch axis). */
export interface StateShape {
  /** `[LD, P]`: one row per layer and direction (layer-major, forward first), P = projSize or hiddenSize. */
  h: [number, number];
  /** LSTM only: `[LD, H]`. */
  c?: [number, number];
}

/** A served model's sizes: what a request sends and a result holds (a plain object, safe to post to another thread). */
export interface ModelInfo {
  /** `'lstm'`, `'gru'` or `'rnn'`. */
  kind: Kind;
  /** I: floats per input step. */
  inputSize: number;
  /** D*P: floats per step of `output`. */
  outputSize: number;
  /** O: floats per step of `head`; 0 when the model has no head. */
  headSize: number;
  /** Shapes of one request's state: h `[LD, P]`, and c `[LD, H]` for an LSTM. */
  stateShape: StateShape;
  /** Whether the layer is bidirectional (then a sequence cannot be continued from its state: no sessions). */
  bidirectional: boolean;
}

/**
 * The requests' indices in groups that share one forward: sorted by steps, longest first, a request joins the
 * current group while its steps are at least half the group's longest. A batch costs its longest request's steps for
 * every row (the kernels step all B rows and mask the finished ones), so one forward over a T=128 request and 15
 * one-step requests took 13x what the two groups take apart (LSTM 64->256: 40 ms vs 3 ms); within 2x, padding at
 * most doubles the rows, less than a second forward costs. At most log2(longest) + 1 forwards.
 */
function lengthClasses(requests: readonly SequenceRequest[]): number[][] {
  const order = requests.map((_, i) => i).sort((a, b) => requests[b].steps - requests[a].steps);
  const groups: number[][] = [];
  for (const i of order) {
    const group = groups[groups.length - 1];
    if (group && 2 * requests[i].steps >= requests[group[0]].steps) group.push(i);
    else groups.push([i]);
  }
  return groups;
}

/**
 * A recurrent model (an nn.LSTM, nn.GRU or nn.RNN, or a cell, with an optional nn.Linear head) loaded once from a
 * PyTorch state_dict to serve single-sequence requests: {@link ServedModel.run} answers several in one batched
 * forward (one per class of similar lengths), each as if it ran alone. Holds wasm memory: call `dispose()` when done.
 *
 * @example
 * ```ts
 * import { init } from "rnn-wasm";
 * import { ServedModel } from "rnn-wasm/serving";
 * await init();
 * const model = ServedModel.fromSafetensors(readFileSync("model.safetensors")); // e.g. an LSTM(3, 8) + Linear(8, 1)
 * const [a, b] = model.run([
 *   { input: new Float32Array(5 * 3), steps: 5 },
 *   { input: new Float32Array(2 * 3), steps: 2, h0: new Float32Array(8), c0: new Float32Array(8) },
 * ]); // a.output [5, 8], a.head [5, 1], a.hN [1, 8]; b.output [2, 8]
 * model.dispose();
 * ```
 */
export class ServedModel implements Disposable {
  /** The recurrent layer's architecture, every default filled in (a cell's file gives a one-layer layer). */
  readonly spec: Spec;
  /** `'lstm'`, `'gru'` or `'rnn'`. */
  readonly kind: Kind;
  /** I: floats per input step. */
  readonly inputSize: number;
  /** D*P: floats per step of a result's `output`. */
  readonly outputSize: number;
  /** O: floats per step of a result's `head`; 0 when the model has no head. */
  readonly headSize: number;
  /** Shapes of one request's state: h `[LD, P]`, and c `[LD, H]` for an LSTM. */
  readonly stateShape: StateShape;
  /** Whether the layer is bidirectional (a stream cannot continue a bidirectional sequence from its state). */
  readonly bidirectional: boolean;
  /** The recurrent weights' storage: `'float32'`, or `'int8'` / `'int12'` for a quantized model file. */
  readonly dtype: "float32" | QuantDtype;
  private readonly nanPolicy: NanPolicy;
  private parts: { layer: RecurrentLayer | QuantizedLayer; head: Linear | null } | null;

  private constructor(layer: RecurrentLayer | QuantizedLayer, head: Linear | null, nanPolicy: NanPolicy) {
    const s = layer.spec;
    this.dtype = "dtype" in layer ? layer.dtype : "float32";
    const D = s.bidirectional ? 2 : 1, P = s.projSize || s.hiddenSize, LD = D * s.numLayers;
    this.spec = s;
    this.kind = s.kind;
    this.inputSize = s.inputSize;
    this.outputSize = D * P;
    this.headSize = head ? head.outFeatures : 0;
    this.stateShape = s.kind === "lstm" ? { h: [LD, P], c: [LD, s.hiddenSize] } : { h: [LD, P] };
    this.bidirectional = s.bidirectional;
    this.nanPolicy = nanPolicy;
    this.parts = { layer, head };
  }

  /**
   * Reads a model from a safetensors file (PyTorch's `save_file(model.state_dict(), ...)`, or `rnn-wasm train`'s), or
   * a quantized model file (`saveQuantized`'s, `rnn-wasm quantize`'s: told apart by its metadata), which runs as
   * `loadQuantized` would load it, with an optional float32 head beside its tensors under `headPrefix`.
   * Call after `init()` for the wasm backend.
   *
   * @param bytes the file's contents
   * @param options the recurrent module's prefix, the head's, what the state_dict does not record (a quantized file
   *   records it: those options may only repeat it), `form` for a quantized file, and the backend
   * @throws RnnError `format` for a file that is not safetensors, or a quantized file that is inconsistent (as
   *   `readQuantized`); as {@link ServedModel.fromTensors} otherwise
   */
  static fromSafetensors(bytes: Uint8Array, options: ServedModelOptions = {}): ServedModel {
    const file = loadSafetensors(bytes);
    if (!isQuantizedFile(file.metadata)) return ServedModel.fromTensors(file.tensors, options);
    const { layer, head } = readQuantizedServedModel(file, options);
    return new ServedModel(layer, head, nanPolicyOption(options?.nanPolicy));
  }

  /**
   * Builds a model from a state_dict's tensors: one recurrent module (found as `fromTorch` finds it, or under
   * `options.prefix`; a cell is served as the one-layer layer it is) and an optional nn.Linear head under
   * `options.headPrefix` (default `"head."`). Any other tensor is refused: serving would ignore it.
   *
   * @param tensors tensors by state_dict name, as `loadSafetensors(bytes).tensors` returns them
   * @param options see {@link ServedModelOptions}
   * @throws RnnError `unexpected` naming a stray tensor or a second recurrent module, `missing`, `shape` or
   *   `nonfinite` naming the tensor, as fromTorch does
   */
  static fromTensors(tensors: Record<string, Tensor>, options: ServedModelOptions = {}): ServedModel {
    const { layer, head } = readServedModel(tensors, options);
    return new ServedModel(layer, head, nanPolicyOption(options?.nanPolicy));
  }

  /** The model's sizes as a plain object (what a worker posts to the thread that made it). */
  get info(): ModelInfo {
    const { kind, inputSize, outputSize, headSize, bidirectional } = this;
    const stateShape = { h: [...this.stateShape.h] as [number, number], ...(this.stateShape.c ? { c: [...this.stateShape.c] as [number, number] } : {}) };
    return { kind, inputSize, outputSize, headSize, stateShape, bidirectional };
  }

  /**
   * Checks one request as {@link ServedModel.run} would, without running it, so a caller can refuse a bad request
   * before it joins a batch (one bad request would otherwise fail the whole batch).
   *
   * @throws RnnError `dtype` or `shape` naming the field (`input`, `steps`, `h0`, `c0`) and the expected size,
   *   `unexpected` for c0 on a model without cell state, `nonfinite` for NaN or Infinity (under nanPolicy 'error')
   */
  check(request: SequenceRequest): void {
    this.live();
    if (request === null || typeof request !== "object") throw new RnnError("dtype", `a request must be an object { input, steps, h0?, c0? }, got ${describeValue(request)}`);
    const { input, steps, h0, c0 } = request;
    const I = this.inputSize;
    if (!Number.isSafeInteger(steps) || steps < 1) throw new RnnError("shape", `steps must be a whole number of timesteps >= 1, got ${describeValue(steps)}`);
    if (!(input instanceof Float32Array)) throw new RnnError("dtype", `input must be a Float32Array of steps × inputSize floats, got ${describeValue(input)}`);
    if (input.length !== steps * I) {
      throw new RnnError("shape", `input has ${input.length} floats; ${steps} steps × inputSize ${I} needs ${steps * I}`);
    }
    checkFinite("input", input, this.nanPolicy);
    if (request.output !== undefined) {
      const n = steps * this.outputSize;
      if (!(request.output instanceof Float32Array)) throw new RnnError("dtype", `output must be a Float32Array of steps × outputSize floats, got ${describeValue(request.output)}`);
      if (request.output.length !== n) throw new RnnError("shape", `output has ${request.output.length} floats; ${steps} steps × outputSize ${this.outputSize} needs ${n}`);
    }
    const [LD, P] = this.stateShape.h;
    if (h0 !== undefined) this.checkState("h0", h0, LD, P);
    if (c0 !== undefined) {
      if (!this.stateShape.c) throw new RnnError("unexpected", `c0 is only for an LSTM; a ${this.kind.toUpperCase()} has no cell state`);
      this.checkState("c0", c0, LD, this.stateShape.c[1]);
    }
  }

  /**
   * Runs `requests` as batched forwards (padded to the longest, with per-request lengths) and splits the results
   * back, in order; each is what the request alone would give (the tests check it bitwise). Requests of similar
   * lengths share one forward: all of them when every request has at least half the longest one's steps, else one
   * forward per such length class, since a batch costs its longest request's steps for every row. A batch too big
   * for wasm memory is run in halves, down to one request at a time, before giving up with 'memory'.
   *
   * @param requests the sequences, each checked first (see {@link ServedModel.check}) unless `options.checked`
   * @param options see {@link RunOptions}
   * @returns one result per request, each array in a buffer of its own (an output where the request said)
   * @throws RnnError from {@link ServedModel.check}, with the message naming the request (`requests[2]: ...`);
   *   `memory` when even one request does not fit; `disposed` after dispose()
   */
  run(requests: readonly SequenceRequest[], options?: RunOptions): SequenceResult[] {
    this.live();
    if (!Array.isArray(requests)) throw new RnnError("dtype", `run takes an array of requests, got ${describeValue(requests)}`);
    if (!options?.checked) requests.forEach((r, i) => {
      try {
        this.check(r);
      } catch (e) {
        if (e instanceof RnnError) throw new RnnError(e.code, `requests[${i}]: ${e.message}`);
        throw e;
      }
    });
    const results: SequenceResult[] = new Array(requests.length);
    for (const group of lengthClasses(requests)) {
      const out = this.runChecked(group.map((i) => requests[i]));
      group.forEach((i, k) => (results[i] = out[k]));
    }
    return results;
  }

  /** Frees the wasm memory of the layer and the head. Safe to call twice; any later call throws 'disposed'. */
  dispose(): void {
    if (!this.parts) return;
    this.parts.layer.dispose();
    this.parts.head?.dispose();
    this.parts = null;
  }

  /** `dispose()`, for `using model = ServedModel.fromSafetensors(...)`. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  private live(): { layer: RecurrentLayer | QuantizedLayer; head: Linear | null } {
    if (!this.parts) throw new RnnError("disposed", "this ServedModel was disposed; load the model again");
    return this.parts;
  }

  private checkState(name: string, s: unknown, LD: number, N: number): void {
    if (!(s instanceof Float32Array)) throw new RnnError("dtype", `${name} must be a Float32Array of [${LD}, ${N}] floats, got ${describeValue(s)}`);
    if (s.length !== LD * N) throw new RnnError("shape", `${name} has ${s.length} floats; [${LD}, ${N}] (layers × directions, width) needs ${LD * N}`);
    checkFinite(name, s, this.nanPolicy);
  }

  /** run() without the checks; halves a batch the wasm memory cannot hold. */
  private runChecked(requests: readonly SequenceRequest[]): SequenceResult[] {
    try {
      return this.forwardBatch(requests);
    } catch (e) {
      if (!(e instanceof RnnError && e.code === "memory") || requests.length === 1) throw e;
      const half = requests.length >> 1;
      return [...this.runChecked(requests.slice(0, half)), ...this.runChecked(requests.slice(half))];
    }
  }

  /** One forward of the layer over the stacked batch, one of the head over every real step, split per request. */
  private forwardBatch(requests: readonly SequenceRequest[]): SequenceResult[] {
    const { layer, head } = this.live();
    const B = requests.length, I = this.inputSize, F = this.outputSize;
    const [LD, P] = this.stateShape.h;
    const T = requests.reduce((m, r) => Math.max(m, r.steps), 0);
    const { x, lengths } = stackInputs(requests, T, I);
    const h0 = stackStates(requests.map((r) => r.h0), LD, P);
    const H = this.stateShape.c?.[1] ?? 0;
    const c0 = this.stateShape.c ? stackStates(requests.map((r) => r.c0), LD, H) : null;
    const r = layer.forward({ shape: [T, B, I], data: x }, {
      lengths,
      ...(h0 ? { h0: { shape: [LD, B, P], data: h0 } } : {}),
      ...(c0 ? { c0: { shape: [LD, B, H], data: c0 } } : {}),
    });
    const results: SequenceResult[] = requests.map((req, b) => ({
      output: splitSteps(r.output.data, b, req.steps, B, F, req.output),
      hN: splitState(r.hN.data, b, LD, B, P),
      ...(r.cN ? { cN: splitState(r.cN.data, b, LD, B, H) } : {}),
    }));
    if (head) {
      const rows = requests.reduce((n, req) => n + req.steps, 0);
      const y = head.forward({ shape: [rows, F], data: concatRows(results.map((res) => res.output)) }).data; // [sum T_b, O]
      const O = this.headSize;
      let at = 0;
      for (let b = 0; b < B; b++) {
        const n = requests[b].steps * O;
        results[b].head = y.slice(at, at + n);
        at += n;
      }
    }
    return results;
  }
}
