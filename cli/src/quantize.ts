// cli/src/quantize.ts: `rnn-wasm quantize --model in.safetensors --dtype int8 --out out.safetensors`: a PyTorch
// state_dict (as `run` reads it) quantized per output row to int8 or int12 and written as a quantized model file
// (the library's saveQuantized: I8/I16 weights, float32 row scales and biases, the architecture in the metadata), which
// `run` and `inspect` read. It quantizes on the reference backend: no wasm is loaded, and the integers are the ones
// every backend makes (test/api/quantize-file.test.ts).
import { Option, type Command } from "commander";
import {
  fromTorch, RnnError, saveQuantized,
  type FromTorchQuantizedOptions, type Kind, type NanPolicy, type Nonlinearity, type QuantDtype,
} from "rnn-wasm";
import { CliError, UsageError, checkOutputs, describeSpec, jsonText, readFileBytes, parseSafetensorsFile, writeOutputFiles, type CliIo } from "./common.js";

export interface QuantizeFlags {
  model: string;
  dtype: QuantDtype;
  out: string;
  prefix?: string;
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
}

const EXAMPLES = `
The file written holds the weights as I8 (int8) or I16 (int12) under PyTorch's names, a float32 scale
per row of each ('weight_ih_l0.scale', ...), the biases in float32, and the architecture in its
metadata (so 'run' needs no --kind, --nonlinearity, --batch-first or --reset-before for it).

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
  return `wrote '${s.out}' (${s.model} quantized ${s.dtype}: ${s.bytes} bytes, ${(s.bytes / s.inputBytes).toFixed(2)} of the ${s.inputBytes} of the float32 file)`;
}

/** Reads, quantizes and writes; throws CliError / UsageError naming the problem. */
export function quantizeCommand(o: QuantizeFlags): QuantizeSummary {
  if (o.kind && o.nonlinearity && o.kind !== "rnn") throw new UsageError(`--nonlinearity is an RNN option, but --kind is ${o.kind}`);
  if (o.kind && o.resetBefore && o.kind !== "gru") throw new UsageError(`--reset-before is a GRU option, but --kind is ${o.kind}`);
  checkOutputs([{ path: o.out, role: "output file", option: "--out" }], [{ path: o.model, option: "--model" }]);
  const bytes = readFileBytes(o.model, "model");
  const { tensors } = parseSafetensorsFile(bytes, o.model, "model");
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
  let file: Uint8Array, model: string;
  try {
    const q = fromTorch(tensors, options);
    const s = q.spec;
    const what = `model '${o.model}' is ${s.kind === "gru" ? "a" : "an"} ${describeSpec(s)}`;
    if (o.nonlinearity && s.kind !== "rnn") throw new UsageError(`--nonlinearity is an RNN option, but ${what}`);
    if (o.resetBefore && s.kind !== "gru") throw new UsageError(`--reset-before is a GRU option, but ${what}`);
    if (o.batchFirst && s.cell) throw new UsageError(`--batch-first is for sequence layers, but ${what}`);
    file = saveQuantized(q, { producer: "rnn-wasm quantize", source: o.model });
    model = describeSpec(s);
    q.dispose();
  } catch (e) {
    if (e instanceof RnnError) throw new CliError(`model file '${o.model}': ${e.message.replace("pass nanPolicy: 'propagate'", "pass --nan-policy propagate")}`);
    throw e;
  }
  writeOutputFiles([{ path: o.out, role: "output file", data: file }]);
  return { out: o.out, bytes: file.byteLength, inputBytes: bytes.byteLength, dtype: o.dtype, model };
}
