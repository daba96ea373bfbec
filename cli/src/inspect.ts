// cli/src/inspect.ts: `rnn-wasm inspect MODEL`: what a safetensors file holds, read as fromTorch reads it: the
// recurrent module's architecture (inferred from the tensor names and shapes by readTorchStateDict, the first half
// of fromTorch, so inspect and run never disagree), its parameter count and tensors with the dtypes the file
// stores, the tensors that are not part of it (a train command's `head.weight`, a fixture's `input`, ...), and the
// file's `__metadata__`. A quantized model file (format "rnn-wasm quantized") is read by the library's readQuantized
// instead, as loadQuantized reads it: its architecture from the metadata, its dtype, weights, row scales and bytes.
// Nothing is built: no wasm is loaded. An ONNX model (inspect-onnx.ts), a TensorFlow.js model.json (inspect-tfjs.ts) or
// a Keras 3 .keras file (inspect-keras.ts) is described as rnn-wasm/onnx, rnn-wasm/tfjs or rnn-wasm/keras loads it;
// model-format.ts tells the formats apart.
import type { Command } from "commander";
import { isQuantizedFile, readQuantized, RnnError, type SafetensorsFile, type Spec, type Tensor } from "rnn-wasm";
import { paramList } from "rnn-wasm";
import { isRecurrentParamName, readTorchStateDict, recurrentPrefixes } from "rnn-wasm";
import { CliError, UsageError, jsonText, parseSafetensorsFile, readFileBytes, shapeText, type CliIo } from "./common.js";
import { formatPhrase, modelFormat } from "./model-format.js";

interface InspectOptions {
  json?: boolean;
  prefix?: string;
}

/** One tensor as the file's header declares it (the dtype as stored, before conversion to float32). */
export interface TensorInfo {
  name: string;
  dtype: string;
  shape: number[];
}

/** What `inspect --json` prints: the architecture under the layer options' names, then the file's contents. */
export interface InspectReport {
  file: string;
  /** The class fromTorch builds: LSTM, GRU, RNN, LSTMCell, GRUCell or RNNCell. */
  class: string;
  kind: Spec["kind"];
  /** Names without `_l{k}`: a one-step cell (numLayers 1, one direction, no projection). */
  cell: boolean;
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  bidirectional: boolean;
  projSize: number;
  bias: boolean;
  /** Options a state_dict does not record, which a user passes to fromTorch (or `run`) when they differ from the default. */
  notRecorded: string[];
  /** Key prefix of the recurrent module's tensors ('' when bare). */
  prefix: string;
  /** Values in the recurrent module's tensors. */
  parameters: number;
  tensors: TensorInfo[];
  /** Tensors in the file that are not part of the recurrent module. */
  extraTensors: TensorInfo[];
  metadata: Record<string, string>;
  bytes: number;
  /** A quantized model file's storage (absent for a float state_dict). */
  quantized?: QuantizedInfo;
}

/** What a quantized model file stores, beside the architecture. */
export interface QuantizedInfo {
  /** 'int8' (I8 weights) or 'int12' (I16 weights). */
  dtype: "int8" | "int12";
  /** The format's version, from the metadata. */
  formatVersion: string;
  /** Integer weights of the model (a version-2 file also stores the packed order's zero padding: counted in dataBytes, not here). */
  weights: number;
  /** Float32 per-row scales in the file. */
  scales: number;
  /** Bytes of the tensors' data: integer weights, scales and biases. */
  dataBytes: number;
  /** The same model's bytes of data as a float32 state_dict: 4 per weight and bias. */
  float32Bytes: number;
}

const EXAMPLES = `
MODEL is a safetensors file: a PyTorch state_dict (torch.nn.LSTM/GRU/RNN or their cells, alone or
inside a larger model, e.g. 'encoder.lstm.weight_ih_l0'), or a model written by 'rnn-wasm train'.
--json prints the architecture under the layer options' names (kind, inputSize, hiddenSize,
numLayers, bidirectional, projSize, bias) with parameters, tensors, extraTensors and metadata.
A quantized model file ('rnn-wasm quantize', or saveQuantized) is described from its metadata, with
its dtype, weights, row scales and bytes against float32's ('quantized' in --json).
MODEL may also be an ONNX model (.onnx: its inputs and outputs, recurrent nodes with their
attributes, and operator counts), a TensorFlow.js model.json (its layers, weights and weight
files) or a Keras 3 .keras file (its Keras version, layers and weights), each loaded as
rnn-wasm/onnx, rnn-wasm/tfjs or rnn-wasm/keras loads it.

Examples (from the repository root):
  $ rnn-wasm inspect data/lstm-demo.safetensors
  $ rnn-wasm inspect test/fixtures/lstm_b1_prefixed.safetensors --json
  $ rnn-wasm inspect model.onnx
  $ rnn-wasm inspect test/fixtures/keras/lstm_dense.keras`;

export function registerInspect(program: Command, io: CliIo): void {
  program
    .command("inspect")
    .summary("show the architecture, parameters, tensors and metadata of a model file")
    .description("Show what a safetensors model holds: the recurrent layer or cell inferred from its tensors' names and shapes\n" +
      "(as fromTorch infers it), its parameter count, every tensor with its dtype and shape, and the file's metadata.\n" +
      "For an ONNX model, a TensorFlow.js model.json or a Keras 3 .keras file: its inputs, outputs, recurrent nodes or layers, and weights.")
    .argument("<model>", "a safetensors file (a PyTorch state_dict, or a model written by 'rnn-wasm train'), a .onnx file, a TensorFlow.js model.json, or a .keras file")
    .option("--prefix <prefix>", "the recurrent module's key prefix, when the file holds several (e.g. 'encoder.lstm.')")
    .option("--json", "print a JSON object instead of text")
    .addHelpText("after", EXAMPLES)
    .action(async (model: string, options: InspectOptions) => {
      const format = modelFormat(model, readFileBytes(model, "model"));
      if (format !== "safetensors" && options.prefix !== undefined) {
        throw new UsageError(`--prefix picks a module of a safetensors state_dict; model '${model}' is ${formatPhrase(format)}`);
      }
      // each format's reader is loaded when a model of that format comes (main.ts: start-up pays only for what runs)
      let text: string;
      if (format === "onnx") {
        const m = await import("./inspect-onnx.js");
        text = describe(m.inspectOnnx(model), m.formatOnnxReport);
      } else if (format === "tfjs") {
        const m = await import("./inspect-tfjs.js");
        text = describe(m.inspectTfjs(model), m.formatTfjsReport);
      } else if (format === "keras") {
        const m = await import("./inspect-keras.js");
        text = describe(m.inspectKeras(model), m.formatKerasReport);
      } else {
        text = describe(inspect(model, options.prefix), formatReport);
      }
      io.stdout.write(text + "\n");

      function describe<R>(report: R, format: (r: R) => string): string {
        return options.json ? jsonText(report) : format(report);
      }
    });
}

/** Reads `path` and describes it; throws CliError naming the file and what is wrong. */
export function inspect(path: string, prefixOption?: string): InspectReport {
  const bytes = readFileBytes(path, "model");
  const file = parseSafetensorsFile(bytes, path, "model");
  const { tensors, metadata } = file;
  const declared = headerTensors(bytes);
  if (isQuantizedFile(metadata)) return inspectQuantized(path, file, declared, bytes.byteLength);
  const names = Object.keys(tensors);
  const prefix = prefixOption ?? onlyPrefix(path, names, declared);
  const own = names.filter((n) => n.startsWith(prefix) && isRecurrentParamName(n.slice(prefix.length)));
  if (own.length === 0) {
    const found = recurrentPrefixes(names);
    throw new CliError(`model file '${path}' has no recurrent weights under prefix '${prefix}'` +
      (found.length ? ` (its recurrent modules: ${found.map(prefixText).join(", ")})` : `; its tensors: ${list(declared)}`));
  }
  let spec: Spec;
  try {
    // 'propagate': inspect describes the file; a NaN weight is fromTorch's to refuse, not a reason to show nothing.
    spec = readTorchStateDict(pick(tensors, own), { prefix, nanPolicy: "propagate" }).spec;
  } catch (e) {
    if (e instanceof RnnError) throw new CliError(`model file '${path}': ${e.message}`);
    throw e;
  }
  const byName = new Map(declared.map((t) => [t.name, t]));
  // readTorchStateDict checked that the module's tensors are exactly paramList's, so this lists each once, in
  // PyTorch's state_dict order.
  const modelTensors = paramList(spec).map((p) => byName.get(prefix + p.name)!);
  const ownSet = new Set(own);
  return {
    file: path,
    ...architecture(spec),
    notRecorded: notRecorded(spec),
    prefix,
    parameters: own.reduce((n, name) => n + tensors[name].data.length, 0),
    tensors: modelTensors,
    extraTensors: declared.filter((t) => !ownSet.has(t.name)),
    metadata,
    bytes: bytes.byteLength,
  };
}

/** The report's architecture fields, from a float or quantized file's spec. */
function architecture(spec: Spec) {
  return {
    class: className(spec),
    kind: spec.kind,
    cell: spec.cell,
    inputSize: spec.inputSize,
    hiddenSize: spec.hiddenSize,
    numLayers: spec.numLayers,
    bidirectional: spec.bidirectional,
    projSize: spec.projSize,
    bias: spec.bias,
  };
}

/** A quantized model file: its architecture from its metadata, checked against its tensors as loadQuantized checks it. */
function inspectQuantized(path: string, file: SafetensorsFile, declared: TensorInfo[], bytes: number): InspectReport {
  let read: ReturnType<typeof readQuantized>;
  try {
    read = readQuantized(file, "propagate");
  } catch (e) {
    if (e instanceof RnnError) throw new CliError(`model file '${path}': ${e.message}`);
    throw e;
  }
  const spec = read.spec;
  const byName = new Map(declared.map((t) => [t.name, t]));
  const count = (t: TensorInfo) => t.shape.reduce((a, b) => a * b, 1);
  const tensors: TensorInfo[] = [];
  // weights counts the model's (its shapes'), stored the file's: a version-2 file holds the kernels' packed order,
  // whose padding (rows to a multiple of 8, columns to an even count) is stored but is no weight
  let weights = 0, stored = 0, scales = 0, biases = 0;
  for (const p of paramList(spec)) {
    const t = byName.get(p.name)!;
    tensors.push(t);
    if (p.role.startsWith("bias")) biases += count(t);
    else {
      weights += p.shape.reduce((a, b) => a * b, 1);
      stored += count(t);
      const s = byName.get(`${p.name}.scale`)!;
      tensors.push(s);
      scales += count(s);
    }
  }
  const elementBytes = read.dtype === "int8" ? 1 : 2;
  return {
    file: path,
    ...architecture(spec),
    notRecorded: [],
    prefix: "",
    parameters: weights + biases,
    tensors,
    extraTensors: declared.filter((t) => !tensors.includes(t)), // a Linear head kept beside the layer (head_prefix)
    metadata: file.metadata,
    bytes,
    quantized: {
      dtype: read.dtype,
      formatVersion: file.metadata.format_version,
      weights,
      scales,
      dataBytes: stored * elementBytes + (scales + biases) * 4,
      float32Bytes: (weights + biases) * 4,
    },
  };
}

/** The one recurrent module's prefix; none or several is an error that says what the file holds. */
function onlyPrefix(path: string, names: string[], declared: TensorInfo[]): string {
  const prefixes = recurrentPrefixes(names);
  if (prefixes.length === 1) return prefixes[0];
  if (prefixes.length === 0) {
    throw new CliError(`model file '${path}' holds no recurrent weights (no weight_ih_l0, or weight_ih for a cell, under any prefix); ` +
      `its tensors: ${list(declared)}`);
  }
  throw new CliError(`model file '${path}' holds several recurrent modules (${prefixes.map(prefixText).join(", ")}); pass --prefix to choose one`);
}

const prefixText = (p: string): string => (p ? `'${p}'` : "'' (no prefix)");

/** `input F32 [5, 3, 10], ...`, the first 12, for messages. */
function list(tensors: TensorInfo[]): string {
  if (tensors.length === 0) return "none";
  const shown = tensors.slice(0, 12).map((t) => `${t.name} ${t.dtype} ${shapeText(t.shape)}`).join(", ");
  return tensors.length > 12 ? `${shown}, ... (${tensors.length} in all)` : shown;
}

function pick(tensors: Record<string, Tensor>, names: string[]): Record<string, Tensor> {
  return Object.fromEntries(names.map((n) => [n, tensors[n]]));
}

/**
 * The header's entries in file order, with the dtype as stored. parseSafetensorsFile has already validated the
 * whole header, so here it only needs reading: the u64 length, then the JSON.
 */
function headerTensors(bytes: Uint8Array): TensorInfo[] {
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length))) as Record<string, { dtype: string; shape: number[] }>;
  return Object.entries(header).filter(([name]) => name !== "__metadata__").map(([name, e]) => ({ name, dtype: e.dtype, shape: e.shape }));
}

function className(s: Spec): string {
  return { lstm: "LSTM", gru: "GRU", rnn: "RNN" }[s.kind] + (s.cell ? "Cell" : "");
}

/** Options that change what the model computes but leave no trace in its tensors. */
function notRecorded(s: Spec): string[] {
  const out: string[] = [];
  if (s.kind === "rnn") out.push("nonlinearity");
  if (s.kind === "gru") out.push("resetAfter");
  if (!s.cell) out.push("batchFirst");
  return out;
}

const NOT_RECORDED_HINT: Record<string, string> = {
  nonlinearity: "nonlinearity ('tanh' or 'relu'; run: --nonlinearity)",
  resetAfter: "resetAfter (PyTorch's GRU is true; run: --reset-before for false)",
  batchFirst: "batchFirst (run: --batch-first)",
};

/** The report as text: the architecture, then the tensors, then the metadata. */
export function formatReport(r: InspectReport): string {
  const count = (n: number) => n.toLocaleString("en-US");
  const rows: [string, string][] = [
    ["kind", r.quantized
      ? `${r.kind} (${r.cell ? "a one-step cell" : "a sequence layer"}: loadQuantized builds a ${r.cell ? "QuantizedCell" : "QuantizedLayer"}, a quantized ${r.class})`
      : `${r.kind} (${r.cell ? "a one-step cell" : "a sequence layer"}: fromTorch builds ${r.kind === "gru" ? "a" : "an"} ${r.class}, as torch.nn.${r.class})`],
    ["inputSize", String(r.inputSize)],
    ["hiddenSize", String(r.hiddenSize)],
  ];
  if (!r.cell) {
    rows.push(["numLayers", String(r.numLayers)], ["bidirectional", String(r.bidirectional)]);
    if (r.kind === "lstm") rows.push(["projSize", r.projSize ? String(r.projSize) : "0 (none)"]);
  }
  const q = r.quantized;
  if (q) {
    rows.push(
      ["bias", String(r.bias)],
      ["parameters", `${count(r.parameters)}: ${count(q.weights)} ${q.dtype} weights with ${count(q.scales)} float32 row scales, ${count(r.parameters - q.weights)} float32 biases`],
      ["quantized", `${q.dtype} (${q.dtype === "int8" ? "I8" : "I16"} weights), format '${r.metadata.format}' version ${q.formatVersion}`],
      ["data", `${size(q.dataBytes)}, ${(q.dataBytes / q.float32Bytes).toFixed(2)} of float32's ${size(q.float32Bytes)}`],
    );
    if (r.kind === "rnn") rows.push(["nonlinearity", r.metadata.nonlinearity]);
    if (r.kind === "gru") rows.push(["resetAfter", r.metadata.reset_after]);
    if (!r.cell) rows.push(["batchFirst", r.metadata.batch_first]);
  } else {
    rows.push(
      ["bias", String(r.bias)],
      ["parameters", `${count(r.parameters)} (${size(r.parameters * 4)} as float32)`],
      ["prefix", r.prefix ? `'${r.prefix}'` : "none"],
      ["not recorded", r.notRecorded.map((o) => NOT_RECORDED_HINT[o]).join(", ")],
    );
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = [`${r.file}: ${q ? `quantized ${q.dtype} ` : ""}${r.class}, ${count(r.parameters)} parameters`, ""];
  for (const [k, v] of rows) lines.push(`  ${k.padEnd(width)}  ${v}`);
  lines.push("", `tensors of the ${r.class} (${r.tensors.length}):`, ...tensorTable(r.tensors, true));
  if (r.extraTensors.length) {
    lines.push("", `other tensors (${r.extraTensors.length}, not part of the ${r.class}):`, ...tensorTable(r.extraTensors, false));
  }
  const meta = Object.entries(r.metadata);
  lines.push("", meta.length ? `metadata (${meta.length}):` : "metadata: none");
  const keyWidth = Math.max(0, ...meta.map(([k]) => k.length));
  for (const [k, v] of meta) lines.push(`  ${k.padEnd(keyWidth)}  ${metadataText(v)}`);
  return lines.join("\n");
}

/** Longest metadata value shown whole in text (a trained model's metadata holds a JSON history of every epoch), and how much of a longer one is shown. */
const METADATA_TEXT_CHARS = 100;
const METADATA_CUT_CHARS = 64;

/** A metadata value on one line: `""` when empty, cut short when long (`--json` has it whole). */
function metadataText(v: string): string {
  if (v === "") return '""';
  const line = v.replace(/\s*\n\s*/g, " ");
  return line.length <= METADATA_TEXT_CHARS ? line : `${line.slice(0, METADATA_CUT_CHARS)}... (${v.length} characters; --json shows all)`;
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function tensorTable(tensors: TensorInfo[], withCount: boolean): string[] {
  const nameWidth = Math.max(...tensors.map((t) => t.name.length));
  const dtypeWidth = Math.max(...tensors.map((t) => t.dtype.length));
  const shapeWidth = Math.max(...tensors.map((t) => shapeText(t.shape).length));
  return tensors.map((t) => {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const line = `  ${t.name.padEnd(nameWidth)}  ${t.dtype.padEnd(dtypeWidth)}  ${shapeText(t.shape).padEnd(shapeWidth)}`;
    return withCount ? `${line}  ${n.toLocaleString("en-US").padStart(12)}` : line.trimEnd();
  });
}
