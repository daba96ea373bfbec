// cli/src/quantize.ts: `rnn-wasm quantize --model in.safetensors --dtype int8 --out out.safetensors`: a PyTorch
// state_dict (as `run` reads it) quantized per output row to int8 or int12 and written as a quantized model file
// (the library's saveQuantized: I8/I16 weights, float32 row scales and biases, the architecture in the metadata), which
// `run` and `inspect` read. It quantizes on the reference backend: no wasm is loaded, and the integers are the ones
// every backend makes (test/api/quantize-file.test.ts). A Linear head saved beside the recurrent weights (`head.weight`
// and `head.bias`, as `rnn-wasm train` writes them; --head-prefix moves it) is kept in float32 under the same names,
// where `rnn-wasm serve` finds it (src/serving/model-file.ts), so the quantized file serves the whole model.
import { Option, type Command } from "commander";
import {
  fromTorch, Linear, loadSafetensors, RnnError, saveQuantized, saveSafetensors,
  type FromTorchQuantizedOptions, type Kind, type NanPolicy, type Nonlinearity, type QuantDtype, type Spec, type Tensor,
} from "rnn-wasm";
import { CliError, UsageError, checkOutputs, describeSpec, jsonText, readFileBytes, parseSafetensorsFile, writeOutputFiles, type CliIo } from "./common.js";

export interface QuantizeFlags {
  model: string;
  dtype: QuantDtype;
  out: string;
  prefix?: string;
  /** false (--no-head): leave the head out, as before; the file is then one that `run` and `inspect` read. */
  head?: boolean;
  /** Default "head.". */
  headPrefix?: string;
  kind?: Kind;
  nonlinearity?: Nonlinearity;
  batchFirst?: boolean;
  resetBefore?: boolean;
  nanPolicy: NanPolicy;
  json?: boolean;
}

/** What `quantize --json` prints. */
export interface QuantizeSummary {
  out: string;
  /** Bytes of the file written, and of the model file read. */
  bytes: number;
  inputBytes: number;
  dtype: QuantDtype;
  model: string;
  /** The float32 Linear head kept beside the quantized tensors, when the model had one. */
  head?: { names: string[]; inFeatures: number; outFeatures: number };
}

const EXAMPLES = `
The file written holds the weights as I8 (int8) or I16 (int12) under PyTorch's names, a float32 scale
per row of each ('weight_ih_l0.scale', ...), the biases in float32, and the architecture in its
metadata (so 'run' needs no --kind, --nonlinearity, --batch-first or --reset-before for it).
A Linear head beside the recurrent weights ('head.weight' and 'head.bias', as 'rnn-wasm train' saves
them; see --head-prefix) is kept in float32 under the same names, and its prefix in the metadata
('head_prefix'): 'rnn-wasm serve' applies it; 'run' runs the recurrent layer alone (its output, not
the head's). --no-head writes the layer alone.

Example (from the repository root, on the bundled model):
  $ rnn-wasm quantize --model data/lstm-demo.safetensors --dtype int8 --out /tmp/lstm-int8.safetensors
  $ rnn-wasm run --model /tmp/lstm-int8.safetensors --input data/lstm-demo.input.safetensors --out /tmp/y.safetensors`;

export function registerQuantize(program: Command, io: CliIo): void {
  program
    .command("quantize")
    .summary("quantize a PyTorch LSTM/GRU/RNN to int8 or int12 and save it")
    .description("Quantize the recurrent weights of a PyTorch state_dict (saved as safetensors) per output row to int8 or int12,\n" +
      "and write a quantized model file that 'run' and 'inspect' read: about a quarter (int8) or half (int12) of float32's bytes.")
    .requiredOption("--model <file>", "the model: a PyTorch state_dict saved as safetensors")
    .addOption(new Option("--dtype <dtype>", "int8 (a quarter of float32's bytes) or int12 (stored as int16: half, near-float accuracy)").choices(["int8", "int12"]).makeOptionMandatory())
    .requiredOption("--out <file>", "the quantized model file to write")
    .option("--prefix <prefix>", "the recurrent module's key prefix, when the file holds several (e.g. 'encoder.lstm.')")
    .option("--head-prefix <prefix>", "where an optional Linear head's weight and bias are (kept in float32 under the same names)", "head.")
    .option("--no-head", "leave the head out: the quantized recurrent layer alone")
    .addOption(new Option("--kind <kind>", "the model's kind (default: inferred from the weights)").choices(["lstm", "gru", "rnn"]))
    .addOption(new Option("--nonlinearity <fn>", "RNN only: the activation (default tanh; recorded in the file)").choices(["tanh", "relu"]))
    .option("--batch-first", "layers only: input and output are [B, T, F] (recorded in the file)")
    .option("--reset-before", "GRU only: the reset gate applies before the recurrent matmul (recorded in the file)")
    .addOption(new Option("--nan-policy <policy>", "NaN or Infinity in the weights: 'error' names the tensor and index, 'propagate' keeps them").choices(["error", "propagate"]).default("error"))
    .option("--json", "print what was written as a JSON object")
    .addHelpText("after", EXAMPLES)
    .action((flags: QuantizeFlags) => {
      const s = quantizeCommand(flags);
      io.stdout.write((flags.json ? jsonText(s) : summaryLine(s)) + "\n");
    });
}

/** `wrote 'out.safetensors' (LSTM(...) quantized int8: 344824 bytes, 0.26 of the 1319672 of 'in.safetensors')` */
function summaryLine(s: QuantizeSummary): string {
  const head = s.head ? `, with its float32 head ${s.head.names.map((n) => `'${n}'`).join(" and ")} (${s.head.inFeatures} -> ${s.head.outFeatures})` : "";
  return `wrote '${s.out}' (${s.model} quantized ${s.dtype}${head}: ${s.bytes} bytes, ${(s.bytes / s.inputBytes).toFixed(2)} of the ${s.inputBytes} of the float32 file)`;
}

/**
 * The Linear head under `headPrefix` (weight [O, D*P], optional bias [O]), checked as `serve` checks it, or null when
 * the model has none. Throws RnnError naming the tensor.
 */
function headOf(tensors: Record<string, Tensor>, headPrefix: string, s: Spec): Record<string, Tensor> | null {
  const [weightName, biasName] = [headPrefix + "weight", headPrefix + "bias"];
  if (!Object.hasOwn(tensors, weightName)) {
    if (Object.hasOwn(tensors, biasName)) throw new RnnError("missing", `the model holds ${biasName} but no ${weightName}: a Linear head needs its weight`);
    return null;
  }
  const D = s.bidirectional ? 2 : 1, P = s.projSize || s.hiddenSize;
  const w = tensors[weightName];
  if (w.shape.length !== 2 || w.shape[1] !== D * P) {
    throw new RnnError("shape", `${weightName} has shape [${w.shape.join(", ")}]; a head over this ${s.kind.toUpperCase()}'s output takes ` +
      `[outFeatures, ${D * P}] (${D === 2 ? `2 directions × ${P}` : `${P} features`} per step)`);
  }
  Linear.fromTorch(tensors, { backend: "reference", prefix: headPrefix }).dispose(); // the bias's shape and the values, checked as serve will
  const head: Record<string, Tensor> = { [weightName]: w };
  if (Object.hasOwn(tensors, biasName)) head[biasName] = tensors[biasName];
  return head;
}

/** Reads, quantizes and writes; throws CliError / UsageError naming the problem. */
export function quantizeCommand(o: QuantizeFlags): QuantizeSummary {
  if (o.kind && o.nonlinearity && o.kind !== "rnn") throw new UsageError(`--nonlinearity is an RNN option, but --kind is ${o.kind}`);
  if (o.kind && o.resetBefore && o.kind !== "gru") throw new UsageError(`--reset-before is a GRU option, but --kind is ${o.kind}`);
  checkOutputs([{ path: o.out, role: "output file", option: "--out" }], [{ path: o.model, option: "--model" }]);
  const bytes = readFileBytes(o.model, "model");
  const { tensors: all } = parseSafetensorsFile(bytes, o.model, "model");
  // The head's tensors are not the recurrent module's: fromTorch gets the rest (as serve's loader does).
  const headPrefix = o.headPrefix ?? "head.";
  const headNames = new Set([headPrefix + "weight", headPrefix + "bias"]);
  const tensors = Object.fromEntries(Object.entries(all).filter(([name]) => !headNames.has(name)));
  const options: FromTorchQuantizedOptions = {
    dtype: o.dtype,
    backend: "reference",
    nanPolicy: o.nanPolicy,
    ...(o.prefix !== undefined ? { prefix: o.prefix } : {}),
    ...(o.kind ? { kind: o.kind } : {}),
    ...(o.nonlinearity ? { nonlinearity: o.nonlinearity } : {}),
    ...(o.resetBefore ? { resetAfter: false } : {}),
    ...(o.batchFirst ? { batchFirst: true } : {}),
  };
  let file: Uint8Array, model: string, head: Record<string, Tensor> | null;
  try {
    const q = fromTorch(tensors, options);
    const s = q.spec;
    const what = `model '${o.model}' is ${s.kind === "gru" ? "a" : "an"} ${describeSpec(s)}`;
    if (o.nonlinearity && s.kind !== "rnn") throw new UsageError(`--nonlinearity is an RNN option, but ${what}`);
    if (o.resetBefore && s.kind !== "gru") throw new UsageError(`--reset-before is a GRU option, but ${what}`);
    if (o.batchFirst && s.cell) throw new UsageError(`--batch-first is for sequence layers, but ${what}`);
    head = o.head === false ? null : headOf(all, headPrefix, s);
    file = saveQuantized(q, { producer: "rnn-wasm quantize", source: o.model, ...(head ? { head_prefix: headPrefix } : {}) });
    model = describeSpec(s);
    q.dispose();
    if (head) {
      // the format's names (weight_ih_l0, weight_ih_l0.scale, bias_ih_l0, ...) never end in '.weight' or are 'bias'
      const saved = loadSafetensors(file);
      file = saveSafetensors({ ...saved.tensors, ...saved.integers, ...head }, saved.metadata);
    }
  } catch (e) {
    if (e instanceof RnnError) throw new CliError(`model file '${o.model}': ${e.message.replace("pass nanPolicy: 'propagate'", "pass --nan-policy propagate")}`);
    throw e;
  }
  writeOutputFiles([{ path: o.out, role: "output file", data: file }]);
  const w = head && head[headPrefix + "weight"];
  return {
    out: o.out, bytes: file.byteLength, inputBytes: bytes.byteLength, dtype: o.dtype, model,
    ...(head && w ? { head: { names: Object.keys(head), inFeatures: w.shape[1], outFeatures: w.shape[0] } } : {}),
  };
}
