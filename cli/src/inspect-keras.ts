// cli/src/inspect-keras.ts: `rnn-wasm inspect model.keras`: a Keras 3 .keras file as fromKeras reads it. The model is
// loaded as fromKeras loads it (zip, config.json, metadata.json, model.weights.h5; every layer, option and weight
// checked), on the reference backend with nothing run; the report lists the Keras version (which decides what
// hard_sigmoid means), the layers with the options that change what they compute, and the variables read from
// model.weights.h5 with their dataset paths.
import type { KerasModel } from "rnn-wasm/keras";
import { readFileBytes, shapeText } from "./common.js";
import { loadKeras } from "./run-keras.js";

/** A layer: its class and name, and the options of its config that change what it computes. */
export interface KerasLayerReport {
  name: string;
  className: string;
  /** units, activations, return_sequences, go_backwards, reset_after, merge_mode (with the wrapped layer), masks, ... */
  options: Record<string, unknown>;
}

/** What `inspect --json` prints for a Keras 3 .keras file. */
export interface KerasInspectReport {
  file: string;
  format: "keras";
  /** Sequential or Functional. */
  class: string;
  /** metadata.json's keras_version, or null when the file has none. */
  kerasVersion: string | null;
  /** Which hard_sigmoid the file's layers compute: Keras 3's relu6(x + 3) / 6, or Keras 2's 0.2x + 0.5 (a 2.x version). */
  hardSigmoid: "keras3" | "keras2";
  /** The input layer's batch_shape (null for any size), or null when the config records none. */
  inputShape: (number | null)[] | null;
  layers: KerasLayerReport[];
  /** The variables read from model.weights.h5: the name the layers find them by, the dataset, the stored dtype, the shape. */
  weights: { name: string; path: string; dtype: string; shape: number[] }[];
  /** Values in the weights. */
  parameters: number;
  bytes: number;
}

/** Config keys shown; others (initializers, regularizers, dtype policies) do not change what is computed. */
const OPTION_KEYS = [
  "batch_shape", "batch_input_shape", "units", "activation", "recurrent_activation", "use_bias", "return_sequences", "return_state",
  "go_backwards", "reset_after", "merge_mode", "mask_value", "input_dim", "output_dim", "mask_zero", "rate",
];

const HARD_SIGMOID: Record<KerasInspectReport["hardSigmoid"], string> = {
  keras3: "hard_sigmoid: Keras 3's relu6(x + 3) / 6",
  keras2: "hard_sigmoid: Keras 2's 0.2x + 0.5",
};

/** What the input's axes hold: an Embedding takes token ids, [batch, steps]. */
const AXES: Record<number, string> = { 2: "batch, steps: token ids", 3: "batch, steps, features" };

const DTYPES: Record<string, string> = { "<f4": "float32", ">f4": "float32", "<f8": "float64", ">f8": "float64" };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function options(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of OPTION_KEYS) if (config[k] !== undefined && config[k] !== null) out[k] = config[k];
  // false is Keras' default and changes nothing; true zeroes outputs at masked steps
  if (config.zero_output_for_mask === true) out.zero_output_for_mask = true;
  const inner = config.layer;
  if (isRecord(inner) && typeof inner.class_name === "string") {
    out.layer = inner.class_name;
    if (isRecord(inner.config)) Object.assign(out, Object.fromEntries(Object.entries(options(inner.config)).filter(([k]) => !(k in out))));
  }
  return out;
}

function inputShape(model: KerasModel): (number | null)[] | null {
  const first = model.layers[0]?.config;
  const shape = first?.batch_shape ?? first?.batch_input_shape;
  return Array.isArray(shape) ? shape as (number | null)[] : null;
}

/** Reads the .keras file at `path`, loads it as fromKeras does, and describes it; throws CliError naming the file. */
export function inspectKeras(path: string): KerasInspectReport {
  const bytes = readFileBytes(path, "model");
  const model = loadKeras(path, bytes, { backend: "reference" });
  try {
    return {
      file: path,
      format: "keras",
      class: model.className,
      kerasVersion: model.kerasVersion,
      // as fromKeras decides: Keras 3's unless metadata.json names a version before 3
      hardSigmoid: model.kerasVersion !== null && /^[0-2]\./.test(model.kerasVersion) ? "keras2" : "keras3",
      inputShape: inputShape(model),
      layers: model.layers.map((l) => ({ name: l.name, className: l.className, options: options(l.config) })),
      weights: model.weights.map((w) => ({ name: w.name, path: w.path, dtype: DTYPES[w.dtype] ?? w.dtype, shape: w.shape })),
      parameters: model.weights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0),
      bytes: bytes.byteLength,
    };
  } finally {
    model.dispose();
  }
}

function valueText(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** The report as text: the version and input shape, the layers, then the weights. */
export function formatKerasReport(r: KerasInspectReport): string {
  const count = (n: number) => n.toLocaleString("en-US");
  const lines = [`${r.file}: Keras ${r.class}, ${r.layers.length} layer${r.layers.length === 1 ? "" : "s"}, ${count(r.parameters)} parameters (${count(r.bytes)} bytes)`, ""];
  lines.push(`  keras_version  ${r.kerasVersion ?? "not recorded, read as Keras 3"} (${HARD_SIGMOID[r.hardSigmoid]})`);
  const shape = r.inputShape;
  const axes = shape && AXES[shape.length] ? ` (${AXES[shape.length]})` : "";
  lines.push(`  input shape    ${shape ? `[${shape.map((d) => (d === null ? "?" : String(d))).join(", ")}]${axes}` : "not recorded"}`);
  lines.push("", `layers (${r.layers.length}):`);
  const c0 = Math.max(...r.layers.map((l) => l.className.length)), c1 = Math.max(...r.layers.map((l) => l.name.length));
  for (const l of r.layers) {
    const opts = Object.entries(l.options).map(([k, v]) => `${k} ${valueText(v)}`).join(", ");
    lines.push(`  ${l.className.padEnd(c0)}  ${l.name.padEnd(c1)}  ${opts}`.trimEnd());
  }
  lines.push("", `weights (${r.weights.length}, from model.weights.h5):`);
  const n0 = Math.max(0, ...r.weights.map((w) => w.name.length)), p0 = Math.max(0, ...r.weights.map((w) => w.path.length));
  const d0 = Math.max(0, ...r.weights.map((w) => w.dtype.length)), s0 = Math.max(0, ...r.weights.map((w) => shapeText(w.shape).length));
  for (const w of r.weights) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    lines.push(`  ${w.name.padEnd(n0)}  ${w.path.padEnd(p0)}  ${w.dtype.padEnd(d0)}  ${shapeText(w.shape).padEnd(s0)}  ${count(n).padStart(8)}`);
  }
  return lines.join("\n");
}
