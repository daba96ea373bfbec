// cli/src/run.ts: `rnn-wasm run`: load a PyTorch state_dict saved as safetensors, run it over the `input` (and
// optional `h0`, `c0`) of a second file, and write PyTorch's results to a third:
//   layers (names weight_ih_l0, ...):  input [T, B, I] ([B, T, I] with --batch-first, [T, I] unbatched)
//                                      -> output [T, B, D*P], h_n [D*L, B, P], c_n [D*L, B, H] (LSTM)
//   cells  (names weight_ih, ...):     input [B, I] ([I] unbatched), h0 [B, H], c0 [B, H] -> h [B, H], c [B, H]
// A quantized model file (format "rnn-wasm quantized": `rnn-wasm quantize`, or saveQuantized) loads with loadQuantized
// and runs the same way; it records its architecture, so the flags that supply what a state_dict does not are refused.
// An ONNX model (run-onnx.ts), a TensorFlow.js model.json (run-tfjs.ts) or a Keras 3 .keras file (run-keras.ts) runs
// through rnn-wasm/onnx, rnn-wasm/tfjs or rnn-wasm/keras; model-format.ts tells them apart, and the same flags are
// refused for them (the files record what they set).
import { Option, type Command } from "commander";
import {
  BUILDS, createRuntime, fromTorch, isQuantizedFile, loadQuantized, RnnError, saveSafetensors,
  type Build, type FromTorchOptions, type NanPolicy, type Kind, type Nonlinearity, type QuantizedCell, type QuantizedLayer,
  type RecurrentCell, type RecurrentLayer, type Runtime, type Tensor,
} from "rnn-wasm";
import {
  CliError, UsageError, checkOutputs, describeSpec, jsonText, parseSafetensorsFile, readFileBytes, readSafetensorsFile, shapeText, writeOutputFiles,
  type CliIo, type CliStream,
} from "./common.js";
import { formatPhrase, modelFormat, type ModelFormat } from "./model-format.js";

export interface RunOptions {
  model: string;
  input: string;
  out: string;
  kind?: Kind;
  nonlinearity?: Nonlinearity;
  batchFirst?: boolean;
  resetBefore?: boolean;
  backend: "wasm" | "reference";
  build?: Build;
  nanPolicy: NanPolicy;
  json?: boolean;
}

/** What `run` wrote, and from what: `run --json` prints it. Shapes are PyTorch's, as in the files. */
export interface RunSummary {
  /** The output file, as given. */
  out: string;
  bytes: number;
  /** Each tensor written, by name: its shape. */
  tensors: Record<string, number[]>;
  model: {
    file: string;
    /** What the model file is: a safetensors file (a state_dict or a quantized model), an ONNX model, a TensorFlow.js model.json or a Keras 3 .keras file. */
    format: ModelFormat;
    description: string;
    /** The recurrent kind (safetensors models only). */
    kind?: Kind;
    /** Whether it is a one-step cell (safetensors models only). */
    cell?: boolean;
    /** A quantized model file's dtype and the integer form it ran in (absent for a float32 state_dict). */
    quantized?: { dtype: "int8" | "int12"; form: "q16" | "q8" };
  };
  /** The input file's tensors run read (input, h0, c0; an ONNX model's graph inputs; a TensorFlow.js or Keras model's one input), and those it ignored. */
  input: { file: string; tensors: Record<string, number[]>; ignored: string[] };
  backend: "wasm" | "reference";
  /** The wasm build, or null on the reference backend. */
  build: Build | null;
  /** Wall time of the forward call alone. */
  ms: number;
}

/** Tensors `run` reads from the input file; anything else there is reported and ignored. */
const INPUT_NAMES = ["input", "h0", "c0"];

const EXAMPLES = `
The input file holds 'input' and optionally 'h0' (and 'c0' for an LSTM), shaped as PyTorch takes them.
The output file receives 'output', 'h_n' (and 'c_n'), shaped as PyTorch returns them; for a cell
(a state_dict with weight_ih instead of weight_ih_l0) it receives 'h' (and 'c').
The kind (LSTM, GRU, RNN) follows from the weights' shapes unless --kind says otherwise.

MODEL may also be a quantized model file ('rnn-wasm quantize', or saveQuantized in the library): it
records its architecture, so --kind, --nonlinearity, --batch-first and --reset-before do not apply.

MODEL may also be an ONNX model (.onnx): the input file then holds one tensor per graph input, named
as the graph names it (integer inputs such as sequence_lens as I32, I64 or whole-number floats), and
the output file receives every graph output under its name. Or a TensorFlow.js model.json, with the
weight files beside it as tfjs saves them, or a Keras 3 .keras file: the input file's one tensor
([batch, steps, features]) feeds the model, and the output file receives 'output'. The four flags
above do not apply to any of these.

Example (from the repository root, on the bundled model):
  $ rnn-wasm run --model data/lstm-demo.safetensors --input data/lstm-demo.input.safetensors --out /tmp/y.safetensors
  $ rnn-wasm run --model model.onnx --input feeds.safetensors --out results.safetensors
  $ rnn-wasm run --model tfjs-model/model.json --input x.safetensors --out y.safetensors
  $ rnn-wasm run --model model.keras --input x.safetensors --out y.safetensors`;

export function registerRun(program: Command, io: CliIo): void {
  program
    .command("run")
    .summary("run a PyTorch (safetensors), ONNX, TensorFlow.js or Keras model on an input file")
    .description("Run a recurrent model (a PyTorch state_dict as safetensors, an ONNX model, a TensorFlow.js model.json, or a Keras 3 .keras file) on the tensors of an input file, and write its results.")
    .requiredOption("--model <file>", "the model: a PyTorch state_dict saved as safetensors, a quantized model file, a .onnx file, a TensorFlow.js model.json, or a .keras file")
    .requiredOption("--input <file>", "safetensors file with 'input' and optionally 'h0' and 'c0' (ONNX: one tensor per graph input; TensorFlow.js, Keras: one tensor)")
    .requiredOption("--out <file>", "safetensors file to write 'output', 'h_n' (and 'c_n') to (ONNX: every graph output; TensorFlow.js, Keras: 'output')")
    .addOption(new Option("--kind <kind>", "the model's kind (default: inferred from the weights)").choices(["lstm", "gru", "rnn"]))
    .addOption(new Option("--nonlinearity <fn>", "RNN only: the activation (default tanh; a state_dict does not record it)").choices(["tanh", "relu"]))
    .option("--batch-first", "layers only: input and output are [B, T, F], as PyTorch's batch_first=True")
    .option("--reset-before", "GRU only: apply the reset gate before the recurrent matmul (PyTorch applies it after)")
    .addOption(new Option("--backend <name>", "run on the wasm kernels or the plain-TypeScript reference").choices(["wasm", "reference"]).default("wasm"))
    .addOption(new Option("--build <build>", "wasm build (default: the fastest this engine supports)").choices([...BUILDS]))
    .addOption(new Option("--nan-policy <policy>", "NaN or Infinity in the weights, input or states: 'error' names the tensor and index, 'propagate' computes on").choices(["error", "propagate"]).default("error"))
    .option("--json", "print what was written (file, tensors and shapes, model, timing) as a JSON object instead of a line of text")
    .addHelpText("after", EXAMPLES)
    .action(async (options: RunOptions) => {
      const summary = await runCommand(options, io.stderr);
      io.stdout.write((options.json ? jsonText(summary) : summaryLine(summary)) + "\n");
    });
}

/** Checks what the command line alone can tell; the rest needs the model. */
function checkFlags(o: RunOptions): void {
  if (o.kind && o.nonlinearity && o.kind !== "rnn") throw new UsageError(`--nonlinearity is an RNN option, but --kind is ${o.kind}`);
  if (o.kind && o.resetBefore && o.kind !== "gru") throw new UsageError(`--reset-before is a GRU option, but --kind is ${o.kind}`);
  if (o.build && o.backend !== "wasm") throw new UsageError(`--build chooses a wasm build; it does not apply to --backend ${o.backend}`);
}

/** Checks the flags against the model fromTorch built (its kind may have been inferred). */
function checkFlagsAgainstModel(o: RunOptions, model: { spec: RecurrentLayer["spec"] }): void {
  const s = model.spec;
  const what = `model '${o.model}' is ${s.kind === "gru" ? "a" : "an"} ${describeSpec(s)}`;
  if (o.nonlinearity && s.kind !== "rnn") throw new UsageError(`--nonlinearity is an RNN option, but ${what}`);
  if (o.resetBefore && s.kind !== "gru") throw new UsageError(`--reset-before is a GRU option, but ${what}`);
  if (o.batchFirst && s.cell) throw new UsageError(`--batch-first is for sequence layers, but ${what} (a cell takes input [B, inputSize])`);
}

/** `wrote 'y.safetensors' (output [128, 1, 256], ...; 263000 bytes): LSTM(...) on wasm simd, 3.1 ms` */
export function summaryLine(s: RunSummary): string {
  const shapes = Object.entries(s.tensors).map(([n, shape]) => `${n} ${shapeText(shape)}`).join(", ");
  const where = s.build ? `wasm ${s.build}` : "the reference backend";
  return `wrote '${s.out}' (${shapes}; ${s.bytes} bytes): ${s.model.description} on ${where}, ${s.ms.toFixed(1)} ms`;
}

/** Runs the command and returns what it wrote (notes go to `stderr`); throws CliError / UsageError naming the problem. */
export async function runCommand(o: RunOptions, stderr: CliStream): Promise<RunSummary> {
  checkFlags(o);
  checkOutputs([{ path: o.out, role: "output file", option: "--out" }], [{ path: o.model, option: "--model" }, { path: o.input, option: "--input" }]);
  const modelBytes = readFileBytes(o.model, "model");
  const format = modelFormat(o.model, modelBytes);
  if (format !== "safetensors") {
    checkRecordedFlags(o, `model '${o.model}' is ${formatPhrase(format)}, which records its architecture`);
    // each format's runner is loaded when a model of that format comes (main.ts: a command's start-up pays only for
    // what it runs)
    if (format === "onnx") return (await import("./run-onnx.js")).runOnnx(o);
    if (format === "keras") return (await import("./run-keras.js")).runKeras(o, modelBytes, stderr);
    return (await import("./run-tfjs.js")).runTfjs(o, stderr);
  }
  const modelFile = parseSafetensorsFile(modelBytes, o.model, "model");
  const quantized = isQuantizedFile(modelFile.metadata);
  if (quantized) checkQuantizedFlags(o);
  const inputs = readSafetensorsFile(o.input, "input").tensors;
  const input = inputs.input;
  if (!input) {
    const names = Object.keys(inputs);
    throw new CliError(`input file '${o.input}' has no tensor named 'input' (it holds ${names.length ? names.map((n) => `'${n}'`).join(", ") : "no tensors"})`);
  }
  const ignored = Object.keys(inputs).filter((n) => !INPUT_NAMES.includes(n));
  if (ignored.length) stderr.write(`rnn-wasm: note: ignoring ${ignored.map((n) => `'${n}'`).join(", ")} in input file '${o.input}' (run reads ${INPUT_NAMES.join(", ")})\n`);

  let runtime: Runtime | undefined;
  if (o.backend === "wasm") runtime = await createRuntime(undefined, o.build ? { build: o.build } : {});
  const options: FromTorchOptions = {
    backend: o.backend,
    runtime,
    nanPolicy: o.nanPolicy,
    ...(o.kind ? { kind: o.kind } : {}),
    ...(o.nonlinearity ? { nonlinearity: o.nonlinearity } : {}), // fromTorch applies it to an RNN only
    ...(o.resetBefore ? { resetAfter: false } : {}), // ... and this to a GRU only; checkFlagsAgainstModel catches the rest
    ...(o.batchFirst ? { batchFirst: true } : {}),
  };
  let model: RecurrentLayer | RecurrentCell | QuantizedLayer | QuantizedCell;
  try {
    model = quantized
      ? loadQuantized(modelFile, { backend: o.backend, runtime, nanPolicy: o.nanPolicy })
      : fromTorch(modelFile.tensors, options);
  } catch (e) {
    if (e instanceof RnnError) throw new CliError(`model file '${o.model}': ${cliMessage(e)}`);
    throw e;
  }
  try {
    checkFlagsAgainstModel(o, model);
    const started = performance.now();
    const results = forward(model, inputs, o);
    const ms = performance.now() - started;
    const q = "dtype" in model ? { dtype: model.dtype, form: model.form } : undefined;
    const description = describeSpec(model.spec) + (q ? ` quantized ${q.dtype} (${q.form})` : "");
    const file = saveSafetensors(results, { producer: "rnn-wasm run", model: description });
    writeOutputFiles([{ path: o.out, role: "output file", data: file }]);
    const bytes = file.byteLength;
    const shapes = (tensors: Record<string, Tensor>, names: string[]) => Object.fromEntries(names.map((n) => [n, [...tensors[n].shape]]));
    return {
      out: o.out,
      bytes,
      tensors: shapes(results, Object.keys(results)),
      model: { file: o.model, format: "safetensors", description, kind: model.spec.kind, cell: model.spec.cell, ...(q ? { quantized: q } : {}) },
      input: { file: o.input, tensors: shapes(inputs, INPUT_NAMES.filter((n) => inputs[n])), ignored },
      backend: o.backend,
      build: runtime ? runtime.build : null,
      ms,
    };
  } finally {
    model.dispose();
  }
}

/** A quantized file records its architecture: the flags that supply what a state_dict does not are refused. */
function checkQuantizedFlags(o: RunOptions): void {
  checkRecordedFlags(o, "a quantized model file records its architecture");
}

/** Refuses the flags that supply what a state_dict does not record, for a model file that records it (`why`). */
function checkRecordedFlags(o: RunOptions, why: string): void {
  const given = [o.kind && "--kind", o.nonlinearity && "--nonlinearity", o.batchFirst && "--batch-first", o.resetBefore && "--reset-before"].filter(Boolean);
  if (given.length) throw new UsageError(`${given.join(", ")} do${given.length === 1 ? "es" : ""} not apply to model '${o.model}': ${why} (see 'rnn-wasm inspect ${o.model}')`);
}

/** Runs a layer or a cell (float or quantized: the same forward) on the input file's tensors and names the results as PyTorch does. */
function forward(model: RecurrentLayer | RecurrentCell | QuantizedLayer | QuantizedCell, inputs: Record<string, Tensor>, o: RunOptions): Record<string, Tensor> {
  const { input, h0, c0 } = inputs;
  const context = () => ` (input file '${o.input}'; model ${describeSpec(model.spec)})`;
  try {
    if (model.spec.cell) {
      const cell = model as RecurrentCell | QuantizedCell;
      checkCellState(cell, input, { h0, c0 });
      const r = cell.forward(input, { h: h0, c: c0 });
      return r.c ? { h: r.h, c: r.c } : { h: r.h };
    }
    const r = (model as RecurrentLayer | QuantizedLayer).forward(input, { h0, c0 });
    return r.cN ? { output: r.output, h_n: r.hN, c_n: r.cN } : { output: r.output, h_n: r.hN };
  } catch (e) {
    if (e instanceof RnnError) throw new CliError(cliMessage(e) + context());
    throw e;
  }
}

/** A cell calls its state h and c; the input file calls it h0 and c0, so check it here to name it as the file does. */
function checkCellState(cell: RecurrentCell | QuantizedCell, input: Tensor, state: { h0?: Tensor; c0?: Tensor }): void {
  const s = cell.spec;
  const rank = input.shape.length;
  if (rank !== 1 && rank !== 2) return; // cell.forward reports the input's rank
  const want = rank === 2 ? [input.shape[0], s.hiddenSize] : [s.hiddenSize];
  for (const [name, t] of Object.entries(state)) {
    if (!t) continue;
    if (name === "c0" && s.kind !== "lstm") throw new RnnError("unexpected", `c0 is only for an LSTMCell; a ${s.kind.toUpperCase()}Cell has no cell state`);
    if (t.shape.length !== want.length || t.shape.some((d, k) => d !== want[k])) {
      throw new RnnError("shape", `${name} has shape ${shapeText(t.shape)}, expected ${shapeText(want)} for input ${shapeText(input.shape)}`);
    }
  }
}

/** The library's message, with its advice given as the CLI's flag instead of the API's option. */
function cliMessage(e: RnnError): string {
  return e.code === "nonfinite" ? e.message.replace("pass nanPolicy: 'propagate'", "pass --nan-policy propagate") : e.message;
}
