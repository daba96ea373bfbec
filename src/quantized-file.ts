// src/quantized-file.ts: quantized layers and cells in safetensors files (issue 14, stage 3): saveQuantized writes
// one, loadQuantized rebuilds the QuantizedLayer / QuantizedCell from its integers as they are (no float pass, no
// rounding again, so a round trip gives the same bits), readQuantized checks one without building anything.
//
// The format, "rnn-wasm quantized" version 2 (docs/quantization.md#saving-and-loading):
//   weight_ih_l0, weight_hh_l0, weight_hr_l0, ... (PyTorch's names)   I8 (dtype int8) or I16 (int12), in the packed
//                     order the kernels run (src/quant-layout.ts fileOrderShape: [panels, pairs, 8, 2], padding zero),
//                     so a load copies them into wasm memory with no packing pass; a weight_ih above a bidirectional
//                     layer is [2, panels, pairs, 8, 2], one packed matrix per direction's block of its input columns
//   <weight>.scale    F32 [rows]: W[n, k] ≈ q[n, k] * scale[n]; [2, rows] for the two blocks of such a weight_ih
// Version 1 (still read) held the weights in PyTorch's shapes, row-major, and such a weight_ih's scales as [rows, 2].
//   bias_ih_l0, bias_hh_l0, ...    F32, as PyTorch's
//   __metadata__      format, format_version, dtype, and the architecture (kind, cell, input_size, hidden_size,
//                     num_layers, bidirectional, proj_size, bias, nonlinearity, reset_after, batch_first), so what a
//                     state_dict does not record (relu, GRU's form, batch_first) travels with the weights
import { RnnError } from "./errors.js";
import { directions, gateCount, KINDS, makeSpec, paramList, type Kind, type Spec } from "./architecture.js";
import { loadSafetensors, readSafetensors, saveSafetensors, type IntTensor, type SafetensorsFile } from "./io/safetensors.js";
import { fileOrderPadding, fileOrderShape, fromFileOrder, toFileOrder, type FileOrderMatrix } from "./quant-layout.js";
import { knownKeys, optionsObject, nanPolicyOption } from "./options.js";
import type { NanPolicy, Tensor } from "./tensor.js";
import type { Runtime } from "./runtime.js";
import { buildQuantized, engineOptions, quantizedFrom, QuantizedCell, QuantizedLayer } from "./quantized.js";
import { QuantRangeError, type QuantDtype, type QuantMatrixData, type QuantRunData, type QuantWeights } from "./quantized-engine.js";
import { modelName } from "./weights.js";
import { QMAX_INT12, QMAX_INT8 } from "./reference/quant.js";

/** The `format` metadata of a quantized model file. */
export const QUANTIZED_FORMAT = "rnn-wasm quantized";
/** The `format_version` this library writes (it reads version 1 too: PyTorch's shapes, row-major). */
export const QUANTIZED_FORMAT_VERSION = "2";
/** Every format_version this library reads. */
const READABLE_VERSIONS = ["1", "2"];

/** Metadata keys the format owns: saveQuantized writes them, a caller's metadata may not. */
const FORMAT_KEYS = [
  "format", "format_version", "dtype", "kind", "cell", "input_size", "hidden_size", "num_layers", "bidirectional",
  "proj_size", "bias", "nonlinearity", "reset_after", "batch_first",
];

const fail = (message: string): never => {
  throw new RnnError("format", `quantized model file: ${message}`);
};

/** Column blocks of layer l's W_ih: one per direction of the layer below (one for layer 0). */
function inputBlocks(spec: Spec, l: number): number {
  return l === 0 ? 1 : directions(spec);
}

/**
 * Writes a quantized layer or cell as a safetensors file: its integer weights under PyTorch's names (I8 for int8,
 * I16 for int12), a float32 `.scale` per weight (one per row), float32 biases, and metadata naming the format, its
 * version, the dtype and the architecture. An int8 file is about a quarter of the float32 state_dict's bytes, an
 * int12 one about half. {@link loadQuantized} reads it back to the same bits.
 *
 * @param model a {@link QuantizedLayer} or {@link QuantizedCell} (from {@link quantize} or {@link loadQuantized})
 * @param metadata extra strings stored under `__metadata__` (not the format's own keys: `format`, `dtype`, `kind`, ...)
 * @returns the whole file
 * @throws RnnError 'unexpected' for a model that is not quantized or a metadata key the format owns, 'disposed' for a disposed one
 * @example
 * ```ts
 * const q = quantize(fromTorch(tensors), { dtype: "int8" });
 * writeFileSync("lstm.int8.safetensors", saveQuantized(q, { source: "lstm.safetensors" }));
 * ```
 */
export function saveQuantized(model: QuantizedLayer | QuantizedCell, metadata: Record<string, string> = {}): Uint8Array {
  if (!(model instanceof QuantizedLayer || model instanceof QuantizedCell)) {
    throw new RnnError("unexpected", "saveQuantized takes a QuantizedLayer or QuantizedCell (from quantize() or loadQuantized()); save a float layer with saveSafetensors(layer.toTorch())");
  }
  const extra = optionsObject("saveQuantized metadata", metadata);
  for (const key of Object.keys(extra)) {
    if (FORMAT_KEYS.includes(key)) throw new RnnError("unexpected", `saveQuantized: metadata key '${key}' belongs to the format; choose another name`);
  }
  const spec = model.spec, dtype = model.dtype;
  const weights = model.quantizedWeights();
  const tensors: Record<string, Tensor | IntTensor> = {};
  for (const p of paramList(spec)) {
    const w = weights[p.layer][p.dir];
    if (p.role === "bias_ih" || p.role === "bias_hh") {
      tensors[p.name] = { shape: [...p.shape], data: (p.role === "bias_ih" ? w.bih : w.bhh)! };
      continue;
    }
    const blocks = p.role === "weight_ih" ? w.wih : [p.role === "weight_hh" ? w.whh : w.whr!];
    const [rows, C] = p.shape;
    const G = matrixGates(spec, p.role), width = C / blocks.length;
    const shape = fileOrderShape(G, rows / G, width), size = shape.reduce((a, b) => a * b, 1);
    const q = dtype === "int8" ? new Int8Array(blocks.length * size) : new Int16Array(blocks.length * size);
    const scale = new Float32Array(rows * blocks.length);
    blocks.forEach((b, e) => {
      // the engine holds int8 as int16 in the Q16 form: the typed-array copy narrows it back (every value fits)
      const integers = dtype === "int8" && !(b.q instanceof Int8Array) ? new Int8Array(b.q) : b.q;
      q.set(toFileOrder(integers, G, rows / G, width), e * size);
      scale.set(b.scale, e * rows);
    });
    tensors[p.name] = { shape: blocks.length > 1 ? [blocks.length, ...shape] : shape, data: q };
    tensors[`${p.name}.scale`] = { shape: blocks.length > 1 ? [blocks.length, rows] : [rows], data: scale };
  }
  return saveSafetensors(tensors, { ...(extra as Record<string, string>), ...formatMetadata(spec, dtype) });
}

/** Gate blocks of a weight matrix: G for W_ih and W_hh, one for the projection W_hr. */
function matrixGates(spec: Spec, role: string): number {
  return role === "weight_hr" ? 1 : gateCount(spec.kind);
}

/** The format's metadata for `spec`. */
function formatMetadata(spec: Spec, dtype: QuantDtype): Record<string, string> {
  return {
    format: QUANTIZED_FORMAT,
    format_version: QUANTIZED_FORMAT_VERSION,
    dtype,
    kind: spec.kind,
    cell: String(spec.cell),
    input_size: String(spec.inputSize),
    hidden_size: String(spec.hiddenSize),
    num_layers: String(spec.numLayers),
    bidirectional: String(spec.bidirectional),
    proj_size: String(spec.projSize),
    bias: String(spec.bias),
    nonlinearity: spec.nonlinearity,
    reset_after: String(spec.resetAfter),
    batch_first: String(spec.batchFirst),
  };
}

/** Whether a safetensors file's metadata says it holds a quantized model (of any version). */
export function isQuantizedFile(metadata: Record<string, string>): boolean {
  return metadata?.format === QUANTIZED_FORMAT;
}

/** What a quantized model file holds, read and checked by {@link readQuantized}, before anything is built. */
export interface QuantizedFile {
  /** The architecture the metadata records (checked against every tensor's shape). */
  spec: Spec;
  /** 'int8' (I8 weights) or 'int12' (I16 weights). */
  dtype: QuantDtype;
  /** Every layer and direction's integers, row scales and biases, [layer][direction]. */
  weights: QuantWeights;
  /** The file's other metadata strings: what the format does not own. */
  metadata: Record<string, string>;
  /**
   * A float32 Linear head stored beside the layer (`weight` [O, D*P], optional `bias` [O]) under the prefix the
   * metadata key `head_prefix` names, as `rnn-wasm quantize` keeps a model's head for `rnn-wasm serve`; null without
   * one. {@link loadQuantized} builds the recurrent layer alone; the head is there for whoever applies it.
   */
  head: QuantizedFileHead | null;
}

/** A float32 Linear head stored beside a quantized layer (see {@link QuantizedFile.head}). */
export interface QuantizedFileHead {
  /** `[outputs, features]`: PyTorch's `nn.Linear.weight`. */
  weight: Tensor;
  /** `[outputs]`, or null when the file has no bias. */
  bias: Tensor | null;
}

/**
 * Reads and checks a quantized model file without building a model (no wasm memory): its metadata (format, version,
 * dtype, architecture), then every tensor against the architecture: names, shapes, dtypes, the integers within the
 * dtype's range, one finite, non-negative scale per row. Scales or biases holding NaN or Infinity are refused under
 * nanPolicy 'error' (the default) and kept under 'propagate'.
 *
 * @param file the file's bytes, or what {@link loadSafetensors} read from them
 * @param nanPolicy 'error' (default) or 'propagate'
 * @returns the architecture, dtype, weights and other metadata
 * @throws RnnError 'format' naming the tensor or metadata key for a file that is not a quantized model (of this
 *   version) or is inconsistent, 'nonfinite' for NaN/Infinity scales or biases under nanPolicy 'error'
 */
export function readQuantized(file: Uint8Array | ArrayBuffer | SafetensorsFile, nanPolicy: NanPolicy = "error"): QuantizedFile {
  return readChecked(file, nanPolicy, true);
}

/** readQuantized, with the integers' range check left to the packing kernels when `checkRange` is false (loadQuantized's wasm path). */
function readChecked(file: Uint8Array | ArrayBuffer | SafetensorsFile, nanPolicy: NanPolicy, checkRange: boolean): QuantizedFile {
  const policy = nanPolicyOption(nanPolicy);
  const st = file instanceof Uint8Array || file instanceof ArrayBuffer ? loadSafetensors(file) : file;
  if (st === null || typeof st !== "object" || typeof st.tensors !== "object" || typeof st.metadata !== "object") {
    throw new RnnError("unexpected", "readQuantized takes a file's bytes or what loadSafetensors returned");
  }
  const meta = st.metadata ?? {};
  const integers = st.integers ?? {};
  if (meta.format !== QUANTIZED_FORMAT) {
    fail(meta.format === undefined
      ? `no metadata 'format' (a float32 state_dict loads with fromTorch, and quantize() makes a quantized model of it)`
      : `metadata format is '${meta.format}', not '${QUANTIZED_FORMAT}'`);
  }
  if (!READABLE_VERSIONS.includes(meta.format_version)) {
    fail(`format_version '${meta.format_version}' is not one this version of rnn-wasm reads (${READABLE_VERSIONS.join(", ")})`);
  }
  const packedOrder = meta.format_version !== "1";
  const dtype = meta.dtype === "int8" || meta.dtype === "int12" ? meta.dtype : fail(`metadata dtype '${meta.dtype}' is not 'int8' or 'int12'`);
  const spec = specOf(meta);
  const D = directions(spec);
  const qmax = dtype === "int8" ? QMAX_INT8 : QMAX_INT12;
  const intDtype = dtype === "int8" ? "I8" : "I16";

  const expected = new Set<string>();
  const weights: QuantRunData[][] = Array.from({ length: spec.numLayers }, () => Array.from({ length: D }, () => ({
    wih: [], whh: null as unknown as QuantMatrixData, whr: null, bih: null, bhh: null,
  })));
  const float = (name: string, shape: number[]): Float32Array => {
    expected.add(name);
    const t = st.tensors[name];
    if (!t) fail(integers[name] ? `tensor '${name}' is stored as integers; it must be F32` : `missing tensor '${name}' (F32 [${shape.join(", ")}])`);
    if (!sameShape(t.shape, shape)) fail(`tensor '${name}' has shape [${t.shape.join(", ")}], expected [${shape.join(", ")}]`);
    if (policy === "error") {
      const i = firstNonFinite(t.data);
      if (i >= 0) throw new RnnError("nonfinite", `quantized model file: tensor '${name}' holds ${t.data[i]} at index ${i}; pass nanPolicy: 'propagate' to load it anyway`);
    }
    return t.data;
  };
  for (const p of paramList(spec)) {
    const w = weights[p.layer][p.dir];
    if (p.role === "bias_ih") w.bih = float(p.name, p.shape);
    else if (p.role === "bias_hh") w.bhh = float(p.name, p.shape);
    else {
      const [rows, C] = p.shape;
      const blocks = p.role === "weight_ih" ? inputBlocks(spec, p.layer) : 1;
      const G = matrixGates(spec, p.role);
      const packedShape = fileOrderShape(G, rows / G, C / blocks);
      const shape = !packedOrder ? p.shape : blocks > 1 ? [blocks, ...packedShape] : packedShape;
      expected.add(p.name);
      const t = integers[p.name];
      if (!t) fail(st.tensors[p.name] ? `tensor '${p.name}' is a float tensor; a ${dtype} file stores it as ${intDtype}` : `missing tensor '${p.name}' (${intDtype} [${shape.join(", ")}])`);
      if ((dtype === "int8") !== (t.data instanceof Int8Array)) fail(`tensor '${p.name}' is ${t.data instanceof Int8Array ? "I8" : "I16"}; a ${dtype} file stores weights as ${intDtype}`);
      if (!sameShape(t.shape, shape)) fail(`tensor '${p.name}' has shape [${t.shape.join(", ")}], expected [${shape.join(", ")}]`);
      const bad = checkRange ? outOfRange(t.data, qmax) : -1;
      if (bad >= 0) fail(`tensor '${p.name}' holds ${t.data[bad]} at ${packedOrder ? "packed " : ""}index ${bad}, outside ${dtype}'s range [-${qmax}, ${qmax}]`);
      const scaleShape = blocks === 1 ? [rows] : packedOrder ? [blocks, rows] : [rows, blocks];
      const scale = float(`${p.name}.scale`, scaleShape);
      const negative = firstNegative(scale);
      if (negative >= 0) fail(`tensor '${p.name}.scale' holds ${scale[negative]} at index ${negative}; scales are not negative`);
      const split = packedOrder
        ? packedBlocks(p.name, t.data, scale, G, rows / G, C / blocks, blocks)
        : splitColumns(t.data, scale, rows, C, blocks);
      if (p.role === "weight_ih") w.wih = split;
      else if (p.role === "weight_hh") w.whh = split[0];
      else w.whr = split[0];
    }
  }
  const head = headOf(st, meta.head_prefix, expected);
  for (const name of [...Object.keys(st.tensors), ...Object.keys(integers)]) {
    if (!expected.has(name)) fail(`unexpected tensor '${name}': not part of the ${spec.kind.toUpperCase()}${spec.cell ? "Cell" : ""} its metadata describes`);
  }
  const metadata = Object.fromEntries(Object.entries(meta).filter(([k]) => !FORMAT_KEYS.includes(k)));
  return { spec, dtype, weights, metadata, head };
}

/**
 * The float32 head under metadata `head_prefix` (its tensors added to `expected`), or null when the metadata names
 * none or its tensors are not there (a caller that applies the head itself, such as ServedModel, passes the layer's
 * tensors alone). Its shapes against the layer are the applier's to check: here only that it is F32, a matrix and a
 * vector.
 */
function headOf(st: SafetensorsFile, prefix: string | undefined, expected: Set<string>): QuantizedFileHead | null {
  if (prefix === undefined) return null;
  const [weightName, biasName] = [prefix + "weight", prefix + "bias"];
  if (st.integers?.[weightName] || st.integers?.[biasName]) fail(`the head's tensors under '${prefix}' are stored as integers; they must be F32`);
  const weight = st.tensors[weightName], bias = st.tensors[biasName] ?? null;
  if (!weight) return null;
  if (weight.shape.length !== 2) fail(`tensor '${weightName}' (the head's weight) has shape [${weight.shape.join(", ")}]; expected [outputs, features]`);
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== weight.shape[0])) fail(`tensor '${biasName}' has shape [${bias.shape.join(", ")}]; expected [${weight.shape[0]}]`);
  expected.add(weightName);
  if (bias) expected.add(biasName);
  return { weight, bias };
}

/** The index of the first value beyond ±qmax, or -1 (int8's only such value is -128: one native search). */
function outOfRange(q: Int8Array | Int16Array, qmax: number): number {
  if (q instanceof Int8Array && qmax === QMAX_INT8) return q.indexOf(-128);
  for (let i = 0; i < q.length; i++) if (q[i] > qmax || q[i] < -qmax) return i;
  return -1;
}

/** The index of the first NaN or ±Infinity, or -1. */
function firstNonFinite(v: Float32Array): number {
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return i;
  return -1;
}

/** The index of the first negative value, or -1 (NaN is not negative: the finite check is nanPolicy's). */
function firstNegative(v: Float32Array): number {
  for (let i = 0; i < v.length; i++) if (v[i] < 0) return i;
  return -1;
}

/**
 * A version-2 weight's `blocks` matrices of (G*R, C) integers in the packed order, each with its R*G scales; the
 * row-major integers (`q`) are unpacked only if something asks for them (the reference backend, saveQuantized), not
 * by a wasm load, which copies `packed`. Padding that is not zero is refused: the kernels would read it.
 */
function packedBlocks(name: string, data: Int8Array | Int16Array, scale: Float32Array, G: number, R: number, C: number,
  blocks: number): QuantMatrixData[] {
  const size = data.length / blocks, rows = G * R;
  return Array.from({ length: blocks }, (_, e) => {
    const packed = data.subarray(e * size, (e + 1) * size);
    const pad = fileOrderPadding(packed, G, R, C);
    if (pad >= 0) fail(`tensor '${name}' holds ${packed[pad]} at packed index ${e * size + pad}, in the padding; padding is zero`);
    let q: Int8Array | Int16Array | null = null;
    const m: QuantMatrixData & FileOrderMatrix = {
      packed,
      scale: scale.subarray(e * rows, (e + 1) * rows),
      get q() {
        return (q ??= fromFileOrder(packed, G, R, C));
      },
    };
    return m;
  });
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, k) => d === b[k]);
}

/** A (rows, C) integer matrix and its (rows, blocks) scales as `blocks` matrices of C / blocks columns each. */
function splitColumns(q: Int8Array | Int16Array, scale: Float32Array, rows: number, C: number, blocks: number): QuantMatrixData[] {
  if (blocks === 1) return [{ q, scale }];
  const width = C / blocks;
  return Array.from({ length: blocks }, (_, e) => {
    const part = q instanceof Int8Array ? new Int8Array(rows * width) : new Int16Array(rows * width);
    const s = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      part.set(q.subarray(r * C + e * width, r * C + (e + 1) * width), r * width);
      s[r] = scale[r * blocks + e];
    }
    return { q: part, scale: s };
  });
}

/** The architecture the metadata records; any value missing or malformed is a 'format' error naming its key. */
function specOf(meta: Record<string, string>): Spec {
  const kind = (KINDS as readonly string[]).includes(meta.kind) ? meta.kind as Kind : fail(`metadata kind '${meta.kind}' is not lstm, gru or rnn`);
  const bool = (key: string): boolean => meta[key] === "true" ? true : meta[key] === "false" ? false : fail(`metadata ${key} '${meta[key]}' is not 'true' or 'false'`);
  const count = (key: string): number => /^(0|[1-9][0-9]{0,8})$/.test(meta[key] ?? "") ? Number(meta[key]) : fail(`metadata ${key} '${meta[key]}' is not a whole number`);
  const cell = bool("cell");
  const projSize = count("proj_size");
  const nonlinearity = meta.nonlinearity === "tanh" || meta.nonlinearity === "relu" ? meta.nonlinearity : fail(`metadata nonlinearity '${meta.nonlinearity}' is not 'tanh' or 'relu'`);
  const resetAfter = bool("reset_after");
  try {
    return makeSpec(kind, {
      inputSize: count("input_size"),
      hiddenSize: count("hidden_size"),
      bias: bool("bias"),
      ...(projSize ? { projSize } : {}),
      ...(kind === "rnn" ? { nonlinearity } : {}),
      ...(kind === "gru" ? { resetAfter } : {}),
      ...(cell ? {} : { numLayers: count("num_layers"), bidirectional: bool("bidirectional"), batchFirst: bool("batch_first") }),
    }, cell);
  } catch (e) {
    if (e instanceof RnnError) fail(`its metadata describes no model this library builds: ${e.message}`);
    throw e;
  }
}

/** Options of {@link loadQuantized}. */
export interface LoadQuantizedOptions {
  /**
   * Which integer form runs an int8 file: `'auto'` (default) as {@link quantize} chooses, or `'q16'` / `'q8'`. An int8
   * file runs in either form with the same weights; int12 always runs as `'q16'`.
   */
  form?: "auto" | "q16" | "q8";
  /** Where it runs: 'wasm' (default) or 'reference'. */
  backend?: "wasm" | "reference";
  /** The wasm runtime: default the one `init()` loaded. */
  runtime?: Runtime;
  /** NaN/Infinity in the file's scales and biases, and later in inputs and states: 'error' (default) throws, 'propagate' computes on. */
  nanPolicy?: NanPolicy;
}

/**
 * Loads a quantized model file written by {@link saveQuantized}: the {@link QuantizedLayer} (or {@link QuantizedCell})
 * it holds, with the file's integers packed as they are (no float weights in between, no rounding again), so its
 * outputs are the saved model's bit for bit on the same backend and form.
 *
 * @param file the file's bytes, or what {@link loadSafetensors} read from them
 * @param options the form, backend, runtime and nanPolicy; see {@link LoadQuantizedOptions}
 * @returns a QuantizedLayer, or a QuantizedCell for a cell's file (`spec.cell` says which)
 * @throws RnnError as {@link readQuantized}: 'format' naming the tensor or metadata key, 'nonfinite' for NaN scales
 *   under nanPolicy 'error'; 'unexpected' for an unknown option
 * @example
 * ```ts
 * await init();
 * const q = loadQuantized(readFileSync("lstm.int8.safetensors")) as QuantizedLayer;
 * const { output } = q.forward(x);
 * ```
 */
export function loadQuantized(file: Uint8Array | ArrayBuffer | SafetensorsFile, options: LoadQuantizedOptions = {}): QuantizedLayer | QuantizedCell {
  const o = optionsObject("loadQuantized options", options);
  knownKeys("loadQuantized", o, ["form", "backend", "runtime", "nanPolicy"]);
  const checked = engineOptions(o, "wasm");
  // On wasm the integers' range is checked as they are copied or packed (not in a JavaScript pass before), and the
  // tensors are views over the file's bytes where they can be: the engine copies them into wasm memory, keeping none
  const st = file instanceof Uint8Array || file instanceof ArrayBuffer ? readSafetensors(file, true) : file;
  const read = readChecked(st, checked.nanPolicy, checked.backend === "reference");
  const what = `a quantized ${modelName(read.spec)}${read.spec.cell ? "Cell" : ""} from a file`;
  try {
    return quantizedFrom(buildQuantized(read.spec, read.weights, read.dtype, checked, what));
  } catch (e) {
    if (e instanceof QuantRangeError) readQuantized(st, checked.nanPolicy); // throws the error naming the tensor and index
    throw e;
  }
}

