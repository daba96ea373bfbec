// src/keras/config.ts: a Keras 3 `config.json` read into the layers fromKeras builds: each layer's spec (the
// `{ module, class_name, config, registered_name }` object, whose class_name and config are what src/tfjs/layers.ts
// builds from), its inputs, and where model.weights.h5 keeps its variables. Keras 3 differs from the Keras 2 /
// tfjs topology in three ways that matter here:
//   - a functional layer's inbound node is `{ args, kwargs }` with the inputs as serialized KerasTensors
//     (`{ class_name: "__keras_tensor__", config: { keras_history: [layer, node, tensor] } }`), not a list of
//     `[layer, node, tensor, kwargs]`;
//   - weights are found by the model's layer list, not by name: saving_lib walks `model.layers` (for Sequential
//     without its InputLayer) and names each `layers/<class name in snake_case>`, the second of a class `_1`, the
//     third `_2`, ... (so `layers/lstm`, `layers/lstm_1`, `layers/dense`), whatever the layers' own names are;
//   - `dtype` is a DTypePolicy object and layers carry `build_config`: neither changes what is computed here.
import { RnnError } from "../errors.js";
import type { LayerSpec } from "../tfjs/layers.js";

/** One layer of the model, in the config's order. */
export interface KerasLayer {
  /** The layer's name (`lstm`, `dense_1`, ...). */
  name: string;
  spec: LayerSpec;
  /** Its inputs as [layer name, tensor index]; empty for the first layer of a Sequential or an InputLayer. */
  inbound: [string, number][];
  /** Its group in model.weights.h5 (`layers/lstm`), or null for a Sequential's InputLayer (not saved). */
  h5Path: string | null;
}

/** The model's layers and its one input and one output. */
export interface KerasGraph {
  className: string;
  layers: KerasLayer[];
  /** The functional model's input layer, or null for a Sequential (its first layer takes the input). */
  input: string | null;
  output: [string, number];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Keras' naming.to_snake_case: `SimpleRNN` -> `simple_rnn`, `TimeDistributed` -> `time_distributed`. */
export function toSnakeCase(name: string): string {
  return name.replace(/\W+/g, "").replace(/(.)([A-Z][a-z]+)/g, "$1_$2").replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}

/** saving_lib's names for a list of layers: snake-case class names, repeats numbered `_1`, `_2`, ... */
function h5Paths(classNames: string[]): string[] {
  const used = new Map<string, number>();
  return classNames.map((cls) => {
    const base = toSnakeCase(cls);
    const n = used.get(base);
    used.set(base, n === undefined ? 0 : n + 1);
    return `layers/${n === undefined ? base : `${base}_${n + 1}`}`;
  });
}

/** Every KerasTensor reference `[layer, node, tensor]` inside a node's serialized args. */
function kerasTensors(value: unknown, out: [string, number, number][]): void {
  if (Array.isArray(value)) {
    for (const v of value) kerasTensors(v, out);
  } else if (isRecord(value)) {
    if (value.class_name === "__keras_tensor__" && isRecord(value.config) && Array.isArray(value.config.keras_history)) {
      const [layer, node, tensor] = value.config.keras_history as unknown[];
      if (typeof layer !== "string" || !Number.isSafeInteger(node) || !Number.isSafeInteger(tensor)) {
        throw new RnnError("format", `config.json: keras_history ${JSON.stringify(value.config.keras_history)} is not [layer, node, tensor]`);
      }
      out.push([layer, node as number, tensor as number]);
    } else {
      for (const v of Object.values(value)) kerasTensors(v, out);
    }
  }
}

/**
 * The inputs of a functional layer's one inbound node, Keras 3's `{ args, kwargs }` or the legacy list. Keras 3's
 * Layer.__call__ puts the input's own mask into kwargs (`mask`), so a `mask` that comes from the input's layer, or
 * from an operation that is not a layer of the model (the `not_equal` of an Embedding's compute_mask), is the mask
 * the layers pass on anyway and is not read; any other tensor in kwargs is refused.
 */
function inboundOf(spec: Record<string, unknown>, what: string, layerNames: Set<string>): [string, number][] {
  const nodes = spec.inbound_nodes ?? [];
  if (!Array.isArray(nodes)) throw new RnnError("format", `config.json: ${what}: inbound_nodes is not a list`);
  if (nodes.length > 1) throw new RnnError("unexpected", `config.json: ${what}: is called ${nodes.length} times; shared layers are not supported`);
  if (nodes.length === 0) return [];
  const node = nodes[0];
  const refs: [string, number, number][] = [];
  if (isRecord(node)) {
    kerasTensors(node.args, refs);
    const kwargs = isRecord(node.kwargs) ? node.kwargs : {};
    for (const [key, value] of Object.entries(kwargs)) {
      const fromKwarg: [string, number, number][] = [];
      kerasTensors(value, fromKwarg);
      const implicitMask = key === "mask" && fromKwarg.every(([layer]) => !layerNames.has(layer) || refs.some(([src]) => src === layer));
      if (fromKwarg.length && !implicitMask) {
        throw new RnnError("unexpected", `config.json: ${what}: takes a tensor as keyword argument ${key} (from layer ${fromKwarg[0][0]}); initial states and masks from other layers are not supported`);
      }
    }
  } else if (Array.isArray(node)) {
    for (const r of node) {
      if (!Array.isArray(r) || typeof r[0] !== "string") throw new RnnError("format", `config.json: ${what}: inbound reference ${JSON.stringify(r)?.slice(0, 120)} is not [layer, node, tensor]`);
      refs.push([r[0], r[1] ?? 0, r[2] ?? 0]);
    }
  } else {
    throw new RnnError("format", `config.json: ${what}: its inbound node is neither { args, kwargs } nor a list`);
  }
  if (refs.length > 1) throw new RnnError("unexpected", `config.json: ${what}: takes ${refs.length} inputs; only layers with one input (a chain) are supported`);
  return refs.map(([layer, node, tensor]) => {
    if (node !== 0) throw new RnnError("unexpected", `config.json: ${what}: uses node ${node} of layer ${layer}; shared layers are not supported`);
    return [layer, tensor];
  });
}

/** `input_layers` / `output_layers`: `[[layer, node, tensor]]` (or one flat reference, as some versions write). */
function endsOf(config: Record<string, unknown>, key: string): [string, number][] {
  let list = config[key];
  if (Array.isArray(list) && typeof list[0] === "string") list = [list];
  if (!Array.isArray(list)) throw new RnnError("format", `config.json: the functional model has no ${key}`);
  return list.map((r: unknown) => {
    if (!Array.isArray(r) || typeof r[0] !== "string") throw new RnnError("format", `config.json: ${key} entry ${JSON.stringify(r)?.slice(0, 120)} is not [layer, node, tensor]`);
    return [r[0], Number(r[2] ?? 0)];
  });
}

function specOf(raw: unknown, k: number): LayerSpec & Record<string, unknown> {
  if (!isRecord(raw) || typeof raw.class_name !== "string" || !isRecord(raw.config)) {
    throw new RnnError("format", `config.json: layer ${k} has no class_name and config: ${JSON.stringify(raw)?.slice(0, 200)}`);
  }
  return raw as LayerSpec & Record<string, unknown>;
}

/** Reads the parsed config.json of a Sequential or Functional model. */
export function readGraph(json: unknown): KerasGraph {
  if (!isRecord(json) || typeof json.class_name !== "string" || !isRecord(json.config)) {
    throw new RnnError("format", "config.json has no class_name and config (a Keras model's serialized config)");
  }
  const cls = json.class_name, config = json.config;
  if (!Array.isArray(config.layers) || config.layers.length === 0) throw new RnnError("format", `config.json: the ${cls} model has no layers`);
  const specs = config.layers.map(specOf);
  const nameOf = (s: LayerSpec & Record<string, unknown>, k: number): string =>
    typeof s.name === "string" ? s.name : typeof s.config.name === "string" ? s.config.name : `#${k}`;
  if (cls === "Sequential") {
    // Sequential.layers leaves out the InputLayer: the other layers are numbered without it
    const saved = specs.filter((s) => s.class_name !== "InputLayer");
    const paths = h5Paths(saved.map((s) => s.class_name));
    const layers: KerasLayer[] = [];
    specs.forEach((spec, k) => {
      const at = saved.indexOf(spec);
      layers.push({ name: nameOf(spec, k), spec, inbound: k === 0 ? [] : [[layers[k - 1].name, 0]], h5Path: at < 0 ? null : paths[at] });
    });
    const names = new Set(layers.map((l) => l.name));
    if (names.size !== layers.length) throw new RnnError("format", "config.json: two layers of the Sequential model have the same name");
    return { className: cls, layers, input: null, output: [layers[layers.length - 1].name, 0] };
  }
  if (cls === "Functional" || cls === "Model") {
    const paths = h5Paths(specs.map((s) => s.class_name));
    const names = new Set(specs.map(nameOf));
    const layers = specs.map((spec, k): KerasLayer => {
      const name = nameOf(spec, k);
      return { name, spec, inbound: inboundOf(spec, `layer ${name} (${spec.class_name})`, names), h5Path: paths[k] };
    });
    const byName = new Set<string>();
    for (const l of layers) {
      if (byName.has(l.name)) throw new RnnError("format", `config.json: two layers are named ${l.name}`);
      byName.add(l.name);
    }
    for (const l of layers) for (const [src] of l.inbound) if (!byName.has(src)) throw new RnnError("format", `config.json: layer ${l.name}: its input ${src} is not a layer of the model`);
    const inputs = endsOf(config, "input_layers"), outputs = endsOf(config, "output_layers");
    if (inputs.length !== 1 || outputs.length !== 1) throw new RnnError("unexpected", `config.json: the model has ${inputs.length} inputs and ${outputs.length} outputs; one of each is supported`);
    for (const [name] of [...inputs, ...outputs]) if (!byName.has(name)) throw new RnnError("format", `config.json: no layer is named ${name}`);
    return { className: cls, layers, input: inputs[0][0], output: outputs[0] };
  }
  throw new RnnError("unexpected", `config.json: model class ${JSON.stringify(cls)} is not supported (Sequential, Functional)`);
}
