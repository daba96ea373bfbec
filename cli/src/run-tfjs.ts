// cli/src/run-tfjs.ts: `rnn-wasm run --model model.json`: a TensorFlow.js LayersModel (model.json and the weight files
// beside it, joined in weightsManifest order: tfjs-files.ts) through fromTfjs. The input file's one tensor (or, among
// several, the one named 'input') feeds the model's input, batch-first as Keras holds it; the output is written as
// 'output'.
import { RnnError, createRuntime, saveSafetensors, type Runtime, type Tensor } from "rnn-wasm";
import { fromTfjs, type TfjsModel } from "rnn-wasm/tfjs";
import { CliError, readSafetensorsFile, shapeText, writeOutputFiles, type CliStream } from "./common.js";
import type { RunOptions, RunSummary } from "./run.js";
import { readTfjsFiles } from "./tfjs-files.js";

/** `TensorFlow.js Sequential (Masking, LSTM, Dense)`. */
function describe(model: TfjsModel, json: Record<string, unknown>): string {
  const topology = (json.modelTopology ?? {}) as Record<string, unknown>;
  const config = (topology.model_config ?? topology) as { class_name?: unknown };
  const cls = typeof config.class_name === "string" ? config.class_name : "model";
  return `TensorFlow.js ${cls} (${model.layers.map((l) => l.className).join(", ")})`;
}

/** The input file's tensor that feeds the model: its only one, or the one named 'input'. */
function pickInput(tensors: Record<string, Tensor>, o: RunOptions, stderr: CliStream): [string, Tensor] {
  const names = Object.keys(tensors);
  if (names.length === 1) return [names[0], tensors[names[0]]];
  if (tensors.input) {
    stderr.write(`rnn-wasm: note: ignoring ${names.filter((n) => n !== "input").map((n) => `'${n}'`).join(", ")} in input file '${o.input}' (a TensorFlow.js model takes one tensor: 'input')\n`);
    return ["input", tensors.input];
  }
  throw new CliError(`input file '${o.input}' holds ${names.length ? names.map((n) => `'${n}'`).join(", ") : "no tensors"}: a TensorFlow.js model takes one tensor (the file's only one, or one named 'input'), [batch, steps, features]`);
}

export async function runTfjs(o: RunOptions, stderr: CliStream): Promise<RunSummary> {
  const files = readTfjsFiles(o.model);
  const inputs = readSafetensorsFile(o.input, "input").tensors;
  const [inputName, x] = pickInput(inputs, o, stderr);
  let runtime: Runtime | undefined;
  if (o.backend === "wasm") runtime = await createRuntime(undefined, o.build ? { build: o.build } : {});
  let model: TfjsModel;
  try {
    model = fromTfjs(files.json, files.weights, { backend: o.backend, runtime, nanPolicy: o.nanPolicy });
  } catch (e) {
    if (e instanceof RnnError) throw new CliError(`model file '${o.model}' (TensorFlow.js): ${e.message}`);
    throw e;
  }
  try {
    const description = describe(model, files.json);
    const started = performance.now();
    let output: Tensor;
    try {
      output = model.predict(x);
    } catch (e) {
      if (e instanceof RnnError) {
        const advice = e.code === "nonfinite" ? e.message.replace("pass nanPolicy: 'propagate'", "pass --nan-policy propagate") : e.message;
        throw new CliError(`${advice} (input file '${o.input}', tensor '${inputName}' ${shapeText(x.shape)}; model ${description})`);
      }
      throw e;
    }
    const ms = performance.now() - started;
    const file = saveSafetensors({ output }, { producer: "rnn-wasm run", model: description });
    writeOutputFiles([{ path: o.out, role: "output file", data: file }]);
    return {
      out: o.out,
      bytes: file.byteLength,
      tensors: { output: [...output.shape] },
      model: { file: o.model, format: "tfjs", description },
      input: { file: o.input, tensors: { [inputName]: [...x.shape] }, ignored: Object.keys(inputs).filter((n) => n !== inputName) },
      backend: o.backend,
      build: runtime ? runtime.build : null,
      ms,
    };
  } finally {
    model.dispose();
  }
}
