// src/tfjs/model.ts: fromTfjs and TfjsModel: a TensorFlow.js LayersModel (model.json and its weights) built into
// layers once, at load time (configs checked, weights found by name and shape-checked, unsupported layers refused),
// and run on each predict. Sequential models run their layers in order; functional models ("Model", "Functional")
// run their graph from its one input to its one output, each layer taking one tensor (a chain; return_state's extra
// outputs may feed later layers).
import { RnnError } from "../errors.js";
import { knownKeys, optionsObject } from "../options.js";
import type { BackendOptions } from "../recurrent-base.js";
import { checkTensorData, type Tensor } from "../tensor.js";
import { buildLayer, type LayerSpec, type Op, type Value } from "./layers.js";
import type { RecurrentPath } from "./recurrent.js";
import { WeightStore } from "./weights.js";

/** Options of {@link fromTfjs}: where the recurrent layers run. */
export interface FromTfjsOptions {
  /**
   * 'auto' (default): recurrent layers whose activations are PyTorch's (tanh and sigmoid; a SimpleRNN's tanh or relu)
   * and whose masks are padding at the end of each row run on the wasm layers, others on a plain-TypeScript path
   * (slower); 'typescript': every recurrent layer on the TypeScript path.
   */
  path?: RecurrentPath;
  /** 'wasm' (default) or 'reference': the engine of the layers the 'auto' path uses. */
  backend?: BackendOptions["backend"];
  /** The wasm runtime; default: the one `init()` loaded. */
  runtime?: BackendOptions["runtime"];
  /** NaN or Infinity in the input of a recurrent layer run by our layers: 'error' (default) throws naming the tensor, 'propagate' computes on. */
  nanPolicy?: BackendOptions["nanPolicy"];
}

/** A layer of a loaded model, as its config names it. */
export interface TfjsLayerInfo {
  /** The layer's name (`lstm`, `dense_Dense1`, ...). */
  name: string;
  /** Its Keras class (`LSTM`, `Bidirectional`, `Dense`, ...). */
  className: string;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** [layer name, tensor index] of an inbound-node reference `[name, node, tensor, kwargs]`. */
function reference(ref: unknown, what: string): [string, number] {
  if (!Array.isArray(ref) || typeof ref[0] !== "string") {
    throw new RnnError("format", `${what}: inbound reference ${JSON.stringify(ref)?.slice(0, 120)} is not [layer, node, tensor] (Keras 3's format is not read yet)`);
  }
  if ((ref[1] ?? 0) !== 0) throw new RnnError("unexpected", `${what}: uses node ${ref[1]} of layer ${ref[0]}; shared layers (called more than once) are not supported`);
  const t = ref[2] ?? 0;
  if (!Number.isSafeInteger(t) || t < 0) throw new RnnError("format", `${what}: tensor index ${JSON.stringify(ref[2])} is not an index`);
  return [ref[0], t];
}

interface GraphLayer {
  spec: LayerSpec;
  op: Op;
  /** Inputs as [layer, tensor index]; empty for an InputLayer. */
  inbound: [string, number][];
}

/**
 * A TensorFlow.js / Keras model loaded by {@link fromTfjs}: `predict` runs it on a batch. Holds wasm memory (the
 * recurrent layers on the wasm path) until {@link TfjsModel.dispose}.
 */
export class TfjsModel {
  /** The layers in the topology's order. */
  readonly layers: TfjsLayerInfo[];
  private readonly graph: Map<string, GraphLayer>;
  private readonly order: string[];
  private readonly input: string | null;
  private readonly output: [string, number];
  private disposed = false;

  /** @internal Built by {@link fromTfjs}. */
  constructor(topology: Record<string, unknown>, weights: WeightStore, options: FromTfjsOptions, kerasVersion: string | null) {
    const cls = topology.class_name, config = topology.config;
    const ctx = {
      weights,
      path: options.path ?? "auto",
      keras3: kerasVersion !== null && /^[3-9]\./.test(kerasVersion),
      backend: { backend: options.backend, runtime: options.runtime, nanPolicy: options.nanPolicy },
    };
    this.graph = new Map();
    this.order = [];
    const built: Op[] = [];
    try {
      if (cls === "Sequential") {
        const list = Array.isArray(config) ? config : isRecord(config) ? config.layers : undefined;
        if (!Array.isArray(list) || list.length === 0) throw new RnnError("format", "model.json: the Sequential model has no layers");
        let prev: string | null = null;
        list.forEach((spec: LayerSpec, k: number) => {
          const op = buildLayer(spec, ctx);
          built.push(op);
          const name = `#${k}`;
          this.graph.set(name, { spec, op, inbound: prev === null ? [] : [[prev, 0]] });
          this.order.push(name);
          prev = name;
        });
        this.input = null;
        this.output = [prev!, 0];
      } else if (cls === "Model" || cls === "Functional") {
        if (!isRecord(config) || !Array.isArray(config.layers)) throw new RnnError("format", `model.json: the ${cls} model has no layers`);
        for (const spec of config.layers as (LayerSpec & { name?: string; inbound_nodes?: unknown })[]) {
          const name = typeof spec?.name === "string" ? spec.name : typeof spec?.config?.name === "string" ? spec.config.name : null;
          if (name === null) throw new RnnError("format", "model.json: a layer of the functional model has no name");
          const what = `layer ${name} (${spec.class_name})`;
          const nodes = spec.inbound_nodes ?? [];
          if (!Array.isArray(nodes)) throw new RnnError("format", `${what}: inbound_nodes is not a list (Keras 3's format is not read yet)`);
          if (nodes.length > 1) throw new RnnError("unexpected", `${what}: is called ${nodes.length} times; shared layers are not supported`);
          const refs = nodes.length ? nodes[0] : [];
          if (!Array.isArray(refs)) throw new RnnError("format", `${what}: its inbound node is not a list of references (Keras 3's format is not read yet)`);
          const inbound = refs.map((r: unknown) => reference(r, what));
          if (inbound.length > 1) throw new RnnError("unexpected", `${what}: takes ${inbound.length} inputs; only layers with one input (a chain) are supported`);
          const op = buildLayer(spec, ctx);
          built.push(op);
          if (this.graph.has(name)) throw new RnnError("format", `model.json: two layers are named ${name}`);
          this.graph.set(name, { spec, op, inbound });
          this.order.push(name);
        }
        const ends = (key: string): [string, number][] => {
          const list = config[key];
          if (!Array.isArray(list)) throw new RnnError("format", `model.json: the functional model has no ${key}`);
          return list.map((r: unknown) => reference(r, `model.json ${key}`));
        };
        const inputs = ends("input_layers"), outputs = ends("output_layers");
        if (inputs.length !== 1 || outputs.length !== 1) {
          throw new RnnError("unexpected", `model.json: the model has ${inputs.length} inputs and ${outputs.length} outputs; one of each is supported`);
        }
        for (const [name] of [...inputs, ...outputs]) if (!this.graph.has(name)) throw new RnnError("format", `model.json: no layer is named ${name}`);
        for (const [name, g] of this.graph) {
          for (const [src] of g.inbound) if (!this.graph.has(src)) throw new RnnError("format", `layer ${name}: its input ${src} is not a layer of the model`);
        }
        this.input = inputs[0][0];
        this.output = outputs[0];
      } else {
        throw new RnnError("unexpected", `model.json: model class ${JSON.stringify(cls)} is not supported (Sequential, Model, Functional)`);
      }
    } catch (e) {
      for (const op of built) op.dispose();
      throw e;
    }
    this.layers = this.order.map((k) => {
      const spec = this.graph.get(k)!.spec;
      return { name: typeof spec.config.name === "string" ? spec.config.name : k, className: spec.class_name };
    });
  }

  /**
   * Runs the model on a batch, as tfjs's `model.predict` does.
   *
   * @param x the model's input, batch-first as Keras holds it: `[batch, steps, features]` for a recurrent or Masking
   *   first layer, `[batch, steps]` of token ids (whole numbers as float32) for an Embedding
   * @returns the model's output: `[batch, units]`, or `[batch, steps, units]` when the last layer returns sequences
   * @throws RnnError `disposed` after dispose(); `shape` when `x` does not fit the first layer; `dtype` when
   *   `x.data` is not a Float32Array
   */
  predict(x: Tensor): Tensor {
    if (this.disposed) throw new RnnError("disposed", "TfjsModel: predict after dispose()");
    const input = checkTensorData("x", x);
    const values = new Map<string, Value[]>();
    const evaluate = (name: string): Value[] => {
      const done = values.get(name);
      if (done) return done;
      const g = this.graph.get(name)!;
      const feeds: Value[] = g.inbound.length === 0 || name === this.input
        ? [{ tensor: input, mask: null }]
        : g.inbound.map(([src, t]) => {
          const outs = evaluate(src);
          if (t >= outs.length) throw new RnnError("format", `layer ${name}: takes output ${t} of layer ${src}, which has ${outs.length}`);
          return outs[t];
        });
      const out = g.op.run(feeds);
      values.set(name, out);
      return out;
    };
    const outs = evaluate(this.output[0]);
    if (this.output[1] >= outs.length) throw new RnnError("format", `model.json: the output is tensor ${this.output[1]} of layer ${this.output[0]}, which has ${outs.length}`);
    const t = outs[this.output[1]].tensor;
    return { shape: [...t.shape], data: t.data === input.data ? t.data.slice() : t.data };
  }

  /** Frees the wasm memory of the model's recurrent layers. Safe to call twice; predict afterwards throws. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const g of this.graph.values()) g.op.dispose();
  }

  /** `using model = fromTfjs(...)` disposes it at the end of the block. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/**
 * Loads a TensorFlow.js LayersModel: the parsed `model.json` (as tfjs's `model.save` or `tensorflowjs_converter`
 * writes it) and its weights. Weights are found by name; optimizer weights in the manifest are skipped. Call
 * `init()` from `rnn-wasm` first (the recurrent layers run on the wasm kernels).
 *
 * @param modelJson the parsed model.json: `modelTopology` (a Sequential or functional model, or the converter's
 *   `{ model_config }` around one) and `weightsManifest` (or `weightSpecs`, as `tf.io.withSaveHandler` gives them)
 * @param weights the weight files' bytes concatenated in `weightsManifest` order (an ArrayBuffer or a view of one)
 * @param options where the recurrent layers run; see {@link FromTfjsOptions}
 * @returns the model, with `predict` and `dispose`
 * @throws RnnError `format` for a malformed model.json, a weight missing from the manifest or beyond the end of
 *   `weights`; `shape` for a weight whose shape does not fit its layer; `unexpected` for a layer class or option not
 *   supported (naming the layer and its class); `dtype` for weights stored in a dtype other than float32 (or
 *   uint8/uint16 quantization)
 * @example
 * ```ts
 * import { init, tensor } from "rnn-wasm";
 * import { fromTfjs } from "rnn-wasm/tfjs";
 * await init();
 * const modelJson = JSON.parse(readFileSync("model.json", "utf8"));
 * const model = fromTfjs(modelJson, readFileSync("group1-shard1of1.bin"));
 * const y = model.predict(tensor([1, 20, 3], x)); // [batch, steps, features]
 * model.dispose();
 * ```
 */
export function fromTfjs(modelJson: unknown, weights: ArrayBuffer | ArrayBufferView, options: FromTfjsOptions = {}): TfjsModel {
  const opts = optionsObject("fromTfjs options", options) as FromTfjsOptions;
  knownKeys("fromTfjs", opts, ["path", "backend", "runtime", "nanPolicy"]);
  if (opts.path !== undefined && opts.path !== "auto" && opts.path !== "typescript") {
    throw new RnnError("unexpected", `fromTfjs: path ${JSON.stringify(opts.path)} is not 'auto' or 'typescript'`);
  }
  if (!isRecord(modelJson)) throw new RnnError("format", "model.json must be an object (the parsed JSON)");
  let topology = modelJson.modelTopology;
  // "tfjs-layers 4.22.0" (model.save) or Keras' own version beside the converter's model_config ("2.15.0")
  const version = isRecord(topology) && typeof topology.keras_version === "string" ? topology.keras_version : null;
  if (isRecord(topology) && isRecord(topology.model_config)) topology = topology.model_config;
  if (!isRecord(topology) || typeof topology.class_name !== "string") {
    throw new RnnError("format", "model.json has no modelTopology with a class_name (a tfjs layers model; graph models are not read)");
  }
  let specs: unknown[];
  if (Array.isArray(modelJson.weightsManifest)) {
    specs = modelJson.weightsManifest.flatMap((group: unknown, k: number) => {
      if (!isRecord(group) || !Array.isArray(group.weights)) throw new RnnError("format", `model.json: weightsManifest group ${k} has no weights list`);
      return group.weights as unknown[];
    });
  } else if (Array.isArray(modelJson.weightSpecs)) {
    specs = modelJson.weightSpecs;
  } else {
    throw new RnnError("format", "model.json has no weightsManifest (or weightSpecs)");
  }
  return new TfjsModel(topology, new WeightStore(specs, weights), opts, version);
}
