// src/keras/weights.ts: the variables of a Keras 3 model.weights.h5 laid out as the weight store fromTfjs's layers
// read. saving_lib writes each layer's variables as datasets `vars/0`, `vars/1`, ... in the order the layer created
// them, under the layer's group and, for wrapped objects, under the attribute that holds them:
//   LSTM / GRU / SimpleRNN      layers/lstm/cell/vars/{0 kernel, 1 recurrent_kernel, 2 bias}
//   Bidirectional               layers/bidirectional/{forward_layer,backward_layer}/cell/vars/...
//   Dense                       layers/dense/vars/{0 kernel, 1 bias}
//   TimeDistributed(Dense)      layers/time_distributed/layer/vars/{0 kernel, 1 bias}
//   Embedding                   layers/embedding/vars/0 (embeddings)
// Each is renamed `<layer name>/[forward_|backward_ part/]<variable>` (the names src/tfjs/weights.ts finds) and
// copied as float32 into one buffer. Datasets no layer asks for (the optimizer's `optimizer/vars/...`) are not read.
// What was read is listed too (KerasModel.weights), so a tool can show the file's variables without a zip or HDF5
// reader of its own.
import { RnnError } from "../errors.js";
import { WeightStore } from "../tfjs/weights.js";
import type { KerasLayer } from "./config.js";
import type { H5Dataset } from "./readers.js";

const RECURRENT = new Set(["LSTM", "GRU", "SimpleRNN"]);

/** A variable the model read from model.weights.h5. */
export interface KerasWeightInfo {
  /** The name the layers find it by: `<layer name>/kernel`, `<layer name>/forward_layer/recurrent_kernel`, ... */
  name: string;
  /** Its dataset in model.weights.h5, as Keras' saving_lib names it: `layers/lstm/cell/vars/0`. */
  path: string;
  /** The dataset's shape as stored (a kernel `[input, units * gates]`, a bias `[units * gates]`). */
  shape: number[];
  /** numpy's type string as the file stores it (`<f4` float32, `<f8` float64, converted to float32 when read). */
  dtype: string;
}

/** A variable a layer needs: its dataset path in the file and the name the weight store gives it. */
interface Wanted {
  path: string;
  name: string;
  layer: KerasLayer;
}

function useBias(config: Record<string, unknown>): boolean {
  return config.use_bias === undefined || config.use_bias === null ? true : config.use_bias === true;
}

/** The variables of `group` (`.../vars/i`, i = 0, 1, ...) named `names`, as `<prefix>/<name>`. */
function vars(layer: KerasLayer, group: string, names: string[], prefix: string): Wanted[] {
  return names.map((n, i) => ({ path: `${group}/vars/${i}`, name: `${prefix}/${n}`, layer }));
}

function recurrentNames(config: Record<string, unknown>): string[] {
  return useBias(config) ? ["kernel", "recurrent_kernel", "bias"] : ["kernel", "recurrent_kernel"];
}

/** What `layer` needs from the file; none for classes without variables (and for classes buildLayer refuses). */
function wanted(layer: KerasLayer): Wanted[] {
  const { spec, name, h5Path } = layer, c = spec.config;
  if (h5Path === null) return [];
  const inner = c.layer as { class_name?: unknown; config?: Record<string, unknown> } | undefined;
  switch (spec.class_name) {
    case "LSTM": case "GRU": case "SimpleRNN":
      return vars(layer, `${h5Path}/cell`, recurrentNames(c), name);
    case "Dense":
      return vars(layer, h5Path, useBias(c) ? ["kernel", "bias"] : ["kernel"], name);
    case "Embedding":
      return vars(layer, h5Path, ["embeddings"], name);
    case "TimeDistributed":
      if (inner?.class_name !== "Dense" || !inner.config) return [];
      return vars(layer, `${h5Path}/layer`, useBias(inner.config) ? ["kernel", "bias"] : ["kernel"], name);
    case "Bidirectional": {
      if (typeof inner?.class_name !== "string" || !RECURRENT.has(inner.class_name) || !inner.config) return [];
      const back = (c.backward_layer as { config?: Record<string, unknown> } | undefined)?.config ?? inner.config;
      return [
        ...vars(layer, `${h5Path}/forward_layer/cell`, recurrentNames(inner.config), `${name}/forward_layer`),
        ...vars(layer, `${h5Path}/backward_layer/cell`, recurrentNames(back), `${name}/backward_layer`),
      ];
    }
    default:
      return [];
  }
}

/** float32 values of a dataset stored as float32 or float64; RnnError('dtype') for any other type. */
function floats(d: H5Dataset, what: string): Float32Array {
  if (d.dtype !== "<f4" && d.dtype !== "<f8" && d.dtype !== ">f4" && d.dtype !== ">f8") {
    throw new RnnError("dtype", `${what}: model.weights.h5 stores ${d.path} as ${d.dtype}; float32 (or float64) is read (float16, bfloat16 and quantized layers are not)`);
  }
  const values = d.read();
  const n = d.shape.reduce((a, s) => a * s, 1);
  if (values.length !== n) throw new RnnError("format", `${what}: ${d.path} holds ${values.length} values, its shape [${d.shape.join(", ")}] says ${n}`);
  return Float32Array.from(values);
}

/**
 * The weight store of `layers` over the file's datasets, and the datasets it read in order. RnnError('format') naming the dataset when a layer's
 * variable is missing; RnnError('unexpected') when a layer has more variables than its class and config say
 * (a quantized or LoRA layer).
 */
export function kerasWeights(layers: KerasLayer[], datasets: H5Dataset[]): { store: WeightStore; read: KerasWeightInfo[] } {
  const byPath = new Map(datasets.map((d) => [d.path, d]));
  const specs: { name: string; shape: number[]; dtype: string }[] = [];
  const read: KerasWeightInfo[] = [];
  const parts: Float32Array[] = [];
  for (const layer of layers) {
    const list = wanted(layer);
    const what = `layer ${layer.name} (${layer.spec.class_name})`;
    for (const w of list) {
      const d = byPath.get(w.path);
      if (!d) throw new RnnError("format", `${what}: model.weights.h5 has no dataset ${w.path} (its ${w.name.split("/").pop()}); the file does not hold this model's weights`);
      const data = floats(d, what);
      specs.push({ name: w.name, shape: d.shape, dtype: "float32" });
      read.push({ name: w.name, path: d.path, shape: [...d.shape], dtype: d.dtype });
      parts.push(data);
    }
    const groups = new Set(list.map((w) => w.path.slice(0, w.path.lastIndexOf("/") + 1)));
    for (const g of groups) {
      const count = list.filter((w) => w.path.startsWith(g)).length;
      if (byPath.has(`${g}${count}`)) {
        throw new RnnError("unexpected", `${what}: model.weights.h5 has more variables under ${g.slice(0, -1)} than the layer's ${count} (${g}${count} exists): quantized or LoRA layers are not supported`);
      }
    }
  }
  const total = parts.reduce((a, p) => a + p.length, 0);
  const buffer = new Float32Array(total);
  let at = 0;
  for (const p of parts) { buffer.set(p, at); at += p.length; }
  return { store: new WeightStore(specs, buffer), read };
}
