// cli/src/inspect-tfjs.ts: `rnn-wasm inspect model.json`: a TensorFlow.js LayersModel as fromTfjs reads it. The model
// is loaded as fromTfjs loads it (weight files beside model.json, joined in manifest order; every layer, option and
// weight checked), on the reference backend with nothing run; the report lists the layers with the options that
// change what they compute, the manifest's weights and the weight files.
import { RnnError } from "rnn-wasm";
import { fromTfjs } from "rnn-wasm/tfjs";
import { CliError, shapeText } from "./common.js";
import { readTfjsFiles, weightBytes, type ManifestWeight } from "./tfjs-files.js";

/** A layer: its class and name, and the options of its config that change what it computes. */
export interface TfjsLayerReport {
  name: string;
  className: string;
  /** units, activations, return_sequences, go_backwards, reset_after, merge_mode (with the wrapped layer), masks, ... */
  options: Record<string, unknown>;
}

/** What `inspect --json` prints for a TensorFlow.js model. */
export interface TfjsInspectReport {
  file: string;
  format: "tfjs";
  /** Sequential, Model or Functional. */
  class: string;
  /** The topology's keras_version (`tfjs-layers 4.22.0`, or a Keras version for converter files), or null. */
  kerasVersion: string | null;
  /** The first layer's batch_input_shape, if the file records one (null for any size). */
  inputShape: (number | null)[] | null;
  layers: TfjsLayerReport[];
  weights: { name: string; dtype: string; shape: number[]; quantized: string | null }[];
  files: { path: string; bytes: number }[];
  /** Values in the weights. */
  parameters: number;
}

const OPTION_KEYS = [
  "units", "activation", "recurrent_activation", "use_bias", "return_sequences", "return_state", "go_backwards", "reset_after",
  "merge_mode", "mask_value", "input_dim", "output_dim", "mask_zero", "rate",
];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function options(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of OPTION_KEYS) if (config[k] !== undefined && config[k] !== null) out[k] = config[k];
  const inner = config.layer;
  if (isRecord(inner) && typeof inner.class_name === "string") {
    out.layer = inner.class_name;
    if (isRecord(inner.config)) Object.assign(out, Object.fromEntries(Object.entries(options(inner.config)).filter(([k]) => !(k in out))));
  }
  return out;
}

/** Reads model.json at `path` and its weight files, loads them as fromTfjs does, and describes the model. */
export function inspectTfjs(path: string): TfjsInspectReport {
  const files = readTfjsFiles(path);
  try {
    fromTfjs(files.json, files.weights, { backend: "reference" }).dispose();
  } catch (e) {
    if (e instanceof RnnError) throw new CliError(`model file '${path}' (TensorFlow.js): ${e.message}`);
    throw e;
  }
  // fromTfjs accepted it, so the topology has the shape it reads
  const outer = files.json.modelTopology as Record<string, unknown>;
  const topology = (isRecord(outer.model_config) ? outer.model_config : outer) as { class_name: string; config: unknown };
  const list = (Array.isArray(topology.config) ? topology.config : (topology.config as { layers: unknown[] }).layers) as { class_name: string; name?: string; config?: Record<string, unknown> }[];
  const layers = list.map((l) => ({ name: String(l.config?.name ?? l.name ?? ""), className: l.class_name, options: options(l.config ?? {}) }));
  const first = list[0]?.config?.batch_input_shape;
  const kerasVersion = typeof outer.keras_version === "string" ? outer.keras_version : null;
  return {
    file: path,
    format: "tfjs",
    class: topology.class_name,
    kerasVersion,
    inputShape: Array.isArray(first) ? first as (number | null)[] : null,
    layers,
    weights: files.manifest.map((w: ManifestWeight) => ({ name: w.name, dtype: w.dtype, shape: w.shape, quantized: w.quantization?.dtype ?? null })),
    files: files.files.map((f) => ({ path: f.path, bytes: f.bytes })),
    parameters: files.manifest.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0),
  };
}

function valueText(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** The report as text: the layers, then the weights and the files. */
export function formatTfjsReport(r: TfjsInspectReport): string {
  const lines = [`${r.file}: TensorFlow.js ${r.class}, ${r.layers.length} layer${r.layers.length === 1 ? "" : "s"}, ${r.parameters.toLocaleString("en-US")} parameters`, ""];
  lines.push(`  keras_version  ${r.kerasVersion ?? "not recorded"}`);
  lines.push(`  input shape    ${r.inputShape ? `[${r.inputShape.map((d) => (d === null ? "?" : String(d))).join(", ")}] (batch, steps, features)` : "not recorded"}`);
  lines.push("", `layers (${r.layers.length}):`);
  const w0 = Math.max(...r.layers.map((l) => l.className.length)), w1 = Math.max(...r.layers.map((l) => l.name.length));
  for (const l of r.layers) {
    const opts = Object.entries(l.options).map(([k, v]) => `${k} ${valueText(v)}`).join(", ");
    lines.push(`  ${l.className.padEnd(w0)}  ${l.name.padEnd(w1)}  ${opts}`.trimEnd());
  }
  lines.push("", `weights (${r.weights.length}):`);
  const n0 = Math.max(0, ...r.weights.map((w) => w.name.length)), s0 = Math.max(0, ...r.weights.map((w) => shapeText(w.shape).length));
  for (const w of r.weights) {
    lines.push(`  ${w.name.padEnd(n0)}  ${w.dtype}${w.quantized ? ` (stored as ${w.quantized})` : ""}  ${shapeText(w.shape).padEnd(s0)}  ${weightBytes({ ...w, quantization: w.quantized ? { dtype: w.quantized } : undefined }).toLocaleString("en-US")} bytes`.trimEnd());
  }
  lines.push("", `weight files (${r.files.length}):`, ...r.files.map((f) => `  ${f.path}  ${f.bytes.toLocaleString("en-US")} bytes`));
  return lines.join("\n");
}
