// src/keras/model.ts: fromKeras and KerasModel: a Keras 3 `.keras` file (a zip of config.json, metadata.json and
// model.weights.h5) built once into the layers of src/tfjs/layers.ts, and run on each predict. What Keras 3 computes
// differently from tfjs is applied here: hard_sigmoid is Keras 3's relu6(x + 3) / 6 when metadata.json's
// keras_version is 3 or later, and a recurrent layer returning sequences with `zero_output_for_mask` (which
// Bidirectional forces on when it returns sequences) outputs zeros at masked steps, where tfjs repeats the last
// output.
import { RnnError } from "../errors.js";
import { knownKeys, optionsObject } from "../options.js";
import { checkTensorData, type Tensor } from "../tensor.js";
import { buildLayer, type BuildContext, type LayerSpec, type Op, type Value } from "../tfjs/layers.js";
import type { FromTfjsOptions, TfjsLayerInfo } from "../tfjs/model.js";
import { readGraph, type KerasLayer } from "./config.js";
import { h5Datasets, unzipFiles, type H5Dataset } from "./readers.js";
import { kerasWeights, type KerasWeightInfo } from "./weights.js";

export type { KerasWeightInfo };

/** Options of {@link fromKeras}: where the recurrent layers run (as {@link FromTfjsOptions}). */
export type FromKerasOptions = FromTfjsOptions;

/** A layer of a loaded model, as config.json names it, with its config. */
export interface KerasLayerInfo extends TfjsLayerInfo {
  /**
   * The layer's `config` object as config.json holds it (`units`, `activation`, `return_sequences`, ...; a
   * Bidirectional's or TimeDistributed's wrapped layer under `layer`): what `rnn-wasm inspect` shows.
   */
  config: Record<string, unknown>;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Whether `spec` is a recurrent layer (or Bidirectional) whose outputs at masked steps are zeros. */
function zeroesMaskedOutputs(spec: LayerSpec): { goBackwards: boolean } | null {
  const c = spec.config;
  if (spec.class_name === "Bidirectional") {
    const inner = isRecord(c.layer) && isRecord(c.layer.config) ? c.layer.config : {};
    return inner.return_sequences === true ? { goBackwards: false } : null; // Bidirectional forces it, output in time order
  }
  if (["LSTM", "GRU", "SimpleRNN"].includes(spec.class_name) && c.return_sequences === true && c.zero_output_for_mask === true) {
    return { goBackwards: c.go_backwards === true }; // go_backwards: output s is input step T-1-s
  }
  return null;
}

/** `op` with zeros written at the masked steps of its first output. */
function withZeroedMaskedOutputs(op: Op, goBackwards: boolean): Op {
  return {
    run: (inputs) => {
      const outs = op.run(inputs);
      const mask = inputs[0]?.mask;
      if (!mask) return outs;
      const { shape, data } = outs[0].tensor;
      const [B, T, H] = shape;
      const zeroed = data.slice();
      for (let b = 0; b < B; b++) {
        for (let s = 0; s < T; s++) if (!mask[b * T + (goBackwards ? T - 1 - s : s)]) zeroed.fill(0, (b * T + s) * H, (b * T + s + 1) * H);
      }
      return [{ tensor: { shape: [...shape], data: zeroed }, mask: outs[0].mask }, ...outs.slice(1)];
    },
    dispose: () => op.dispose(),
  };
}

interface Built extends KerasLayer {
  op: Op;
}

/**
 * A Keras 3 model loaded by {@link fromKeras}: `predict` runs it on a batch, as Keras' `model.predict` does. Holds
 * wasm memory (the recurrent layers on the wasm path) until {@link KerasModel.dispose}.
 */
export class KerasModel {
  /** The layers in config.json's order. */
  readonly layers: KerasLayerInfo[];
  /** metadata.json's keras_version (null when the file has none: read as Keras 3). */
  readonly kerasVersion: string | null;
  /** config.json's model class: `Sequential` or `Functional`. */
  readonly className: string;
  /** The variables read from model.weights.h5, in the layers' order (the optimizer's are not read, so not listed). */
  readonly weights: KerasWeightInfo[];
  private readonly graph: Map<string, Built>;
  private readonly input: string | null;
  private readonly output: [string, number];
  private disposed = false;

  /** @internal Built by {@link fromKeras}. */
  constructor(config: unknown, datasets: H5Dataset[], kerasVersion: string | null, options: FromKerasOptions) {
    const g = readGraph(config);
    const { store, read } = kerasWeights(g.layers, datasets);
    const ctx: BuildContext = {
      weights: store,
      path: options.path ?? "auto",
      keras3: kerasVersion === null || !/^[0-2]\./.test(kerasVersion),
      backend: { backend: options.backend, runtime: options.runtime, nanPolicy: options.nanPolicy },
    };
    this.kerasVersion = kerasVersion;
    this.className = g.className;
    this.weights = read;
    this.graph = new Map();
    try {
      for (const layer of g.layers) {
        let op = buildLayer(layer.spec, ctx);
        const zero = zeroesMaskedOutputs(layer.spec);
        if (zero) op = withZeroedMaskedOutputs(op, zero.goBackwards);
        this.graph.set(layer.name, { ...layer, op });
      }
    } catch (e) {
      for (const b of this.graph.values()) b.op.dispose();
      throw e;
    }
    this.input = g.input;
    this.output = g.output;
    this.layers = g.layers.map((l) => ({ name: l.name, className: l.spec.class_name, config: l.spec.config }));
  }

  /**
   * Runs the model on a batch.
   *
   * @param x the model's input, batch-first as Keras holds it: `[batch, steps, features]` for a recurrent or Masking
   *   first layer, `[batch, steps]` of token ids (whole numbers as float32) for an Embedding
   * @returns the model's output: `[batch, units]`, or `[batch, steps, units]` when the last layer returns sequences
   * @throws RnnError `disposed` after dispose(); `shape` when `x` does not fit the first layer; `dtype` when
   *   `x.data` is not a Float32Array
   */
  predict(x: Tensor): Tensor {
    if (this.disposed) throw new RnnError("disposed", "KerasModel: predict after dispose()");
    const input = checkTensorData("x", x);
    const values = new Map<string, Value[]>();
    const evaluate = (name: string): Value[] => {
      const done = values.get(name);
      if (done) return done;
      const b = this.graph.get(name)!;
      const feeds: Value[] = b.inbound.length === 0 || name === this.input
        ? [{ tensor: input, mask: null }]
        : b.inbound.map(([src, t]) => {
          const outs = evaluate(src);
          if (t >= outs.length) throw new RnnError("format", `layer ${name}: takes output ${t} of layer ${src}, which has ${outs.length}`);
          return outs[t];
        });
      const out = b.op.run(feeds);
      values.set(name, out);
      return out;
    };
    const outs = evaluate(this.output[0]);
    if (this.output[1] >= outs.length) throw new RnnError("format", `config.json: the output is tensor ${this.output[1]} of layer ${this.output[0]}, which has ${outs.length}`);
    const t = outs[this.output[1]].tensor;
    return { shape: [...t.shape], data: t.data === input.data ? t.data.slice() : t.data };
  }

  /** Frees the wasm memory of the model's recurrent layers. Safe to call twice; predict afterwards throws. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const b of this.graph.values()) b.op.dispose();
  }

  /** `using model = fromKeras(...)` disposes it at the end of the block. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

function asBytes(bytes: unknown): Uint8Array {
  if (bytes instanceof Uint8Array) return bytes;
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  if (ArrayBuffer.isView(bytes)) return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  throw new RnnError("dtype", `fromKeras: bytes must be a Uint8Array or ArrayBuffer (the .keras file), got ${(bytes as object)?.constructor?.name ?? String(bytes)}`);
}

/** The library's error (an Error, or a string jsfive throws) as text. */
function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function parseJson(bytes: Uint8Array, file: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new RnnError("format", `${file} in the .keras file is not JSON: ${message(e)}`);
  }
}

/**
 * Loads a Keras 3 `.keras` file: its config.json (a Sequential or Functional model) built into layers, its
 * model.weights.h5 read as their weights, metadata.json's keras_version deciding what `hard_sigmoid` means. Call
 * `init()` from `rnn-wasm` first (the recurrent layers run on the wasm kernels).
 *
 * @param bytes the .keras file's bytes
 * @param options where the recurrent layers run; see {@link FromKerasOptions}
 * @returns the model, with `predict` and `dispose`
 * @throws RnnError `format` for a file that is not a whole zip archive (a truncated download), an archive without
 *   config.json or model.weights.h5, an HDF5 file jsfive cannot read, a layer variable missing from it;
 *   `shape` for a weight whose shape does not fit its layer; `unexpected` for a layer class or option not
 *   supported (naming the layer and its class); `dtype` for weights stored in a type other than float32 or float64
 * @example
 * ```ts
 * import { init, tensor } from "rnn-wasm";
 * import { fromKeras } from "rnn-wasm/keras";
 * await init();
 * const model = fromKeras(readFileSync("model.keras"));
 * const y = model.predict(tensor([1, 20, 3], x)); // [batch, steps, features]
 * model.dispose();
 * ```
 */
export function fromKeras(bytes: Uint8Array | ArrayBuffer, options: FromKerasOptions = {}): KerasModel {
  const opts = optionsObject("fromKeras options", options) as FromKerasOptions;
  knownKeys("fromKeras", opts, ["path", "backend", "runtime", "nanPolicy"]);
  if (opts.path !== undefined && opts.path !== "auto" && opts.path !== "typescript") {
    throw new RnnError("unexpected", `fromKeras: path ${JSON.stringify(opts.path)} is not 'auto' or 'typescript'`);
  }
  let files: Record<string, Uint8Array>;
  try {
    files = unzipFiles(asBytes(bytes));
  } catch (e) {
    if (e instanceof RnnError) throw e;
    throw new RnnError("format", `the .keras file is not a whole zip archive (${message(e)}): a truncated or corrupt file?`);
  }
  const names = Object.keys(files);
  if (!files["config.json"]) throw new RnnError("format", `the .keras file has no config.json (it holds ${names.join(", ") || "nothing"})`);
  if (!files["model.weights.h5"]) {
    const npz = files["model.weights.npz"] ? " (its weights are model.weights.npz, which is not read: save with the default weights_format 'h5')" : "";
    throw new RnnError("format", `the .keras file has no model.weights.h5${npz} (it holds ${names.join(", ")})`);
  }
  const config = parseJson(files["config.json"], "config.json");
  const metadata = files["metadata.json"] ? parseJson(files["metadata.json"], "metadata.json") : null;
  const version = isRecord(metadata) && typeof metadata.keras_version === "string" ? metadata.keras_version : null;
  let datasets: H5Dataset[];
  try {
    datasets = h5Datasets(files["model.weights.h5"]).map((d) => ({
      ...d,
      read: () => {
        try {
          return d.read();
        } catch (e) {
          throw new RnnError("format", `model.weights.h5: dataset ${d.path} cannot be read (${message(e)})`);
        }
      },
    }));
  } catch (e) {
    if (e instanceof RnnError) throw e;
    throw new RnnError("format", `model.weights.h5 is not an HDF5 file jsfive reads (${message(e)})`);
  }
  return new KerasModel(config, datasets, version, opts);
}
