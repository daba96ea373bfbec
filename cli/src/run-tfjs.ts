// cli/src/run-tfjs.ts: `rnn-wasm run --model model.json`: a TensorFlow.js LayersModel (model.json and the weight files
// beside it, joined in weightsManifest order: tfjs-files.ts) through fromTfjs. The input file's one tensor (or, among
// several, the one named 'input') feeds the model's input, batch-first as Keras holds it; the output is written as
// 'output'.
import { RnnError, createRuntime, type Runtime } from "rnn-wasm";
import { fromTfjs, type TfjsModel } from "rnn-wasm/tfjs";
import { CliError, readSafetensorsFile, type CliStream } from "./common.js";
import { pickInput, predictToFile } from "./run-layers-model.js";
import type { RunOptions, RunSummary } from "./run.js";
import { readTfjsFiles } from "./tfjs-files.js";

/** `TensorFlow.js Sequential (Masking, LSTM, Dense)`. */
function describe(model: TfjsModel, json: Record<string, unknown>): string {
  const topology = (json.modelTopology ?? {}) as Record<string, unknown>;
  const config = (topology.model_config ?? topology) as { class_name?: unknown };
  const cls = typeof config.class_name === "string" ? config.class_name : "model";
  return `TensorFlow.js ${cls} (${model.layers.map((l) => l.className).join(", ")})`;
}

export async function runTfjs(o: RunOptions, stderr: CliStream): Promise<RunSummary> {
  const files = readTfjsFiles(o.model);
  const inputs = readSafetensorsFile(o.input, "input").tensors;
  const [inputName] = pickInput(inputs, o, stderr, "TensorFlow.js");
  let runtime: Runtime | undefined;
  if (o.backend === "wasm") runtime = await createRuntime(undefined, o.build ? { build: o.build } : {});
  let model: TfjsModel;
  try {
    model = fromTfjs(files.json, files.weights, { backend: o.backend, runtime, nanPolicy: o.nanPolicy });
  } catch (e) {
    if (e instanceof RnnError) throw new CliError(`model file '${o.model}' (TensorFlow.js): ${e.message}`);
    throw e;
  }
  return predictToFile(model, o, { inputs, inputName, runtime, format: "tfjs", description: describe(model, files.json) });
}
