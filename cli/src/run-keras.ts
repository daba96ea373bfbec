// cli/src/run-keras.ts: `rnn-wasm run --model model.keras`: a Keras 3 .keras file (a zip of config.json, metadata.json
// and model.weights.h5) through fromKeras. As for a TensorFlow.js model (run-tfjs.ts): the input file's one tensor
// (or, among several, the one named 'input') feeds the model's input, batch-first as Keras holds it, and the output
// is written as 'output'.
import { RnnError, createRuntime, type Runtime } from "rnn-wasm";
import { fromKeras, type KerasModel } from "rnn-wasm/keras";
import { CliError, readSafetensorsFile, type CliStream } from "./common.js";
import { pickInput, predictToFile } from "./run-layers-model.js";
import type { RunOptions, RunSummary } from "./run.js";

/** `Keras 3.10.0 Sequential (InputLayer, LSTM, Dense)`. */
export function describeKeras(model: KerasModel): string {
  return `Keras ${model.kerasVersion ?? "(version not recorded)"} ${model.className} (${model.layers.map((l) => l.className).join(", ")})`;
}

/** fromKeras on the file's bytes; its errors name the file. */
export function loadKeras(path: string, bytes: Uint8Array, options: Parameters<typeof fromKeras>[1]): KerasModel {
  try {
    return fromKeras(bytes, options);
  } catch (e) {
    if (e instanceof RnnError) throw new CliError(`model file '${path}' (Keras): ${e.message}`);
    throw e;
  }
}

/** Runs the .keras file `o.model`, whose bytes run.ts has read, on the input file; writes 'output'. */
export async function runKeras(o: RunOptions, modelBytes: Uint8Array, stderr: CliStream): Promise<RunSummary> {
  const inputs = readSafetensorsFile(o.input, "input").tensors;
  const [inputName] = pickInput(inputs, o, stderr, "Keras");
  let runtime: Runtime | undefined;
  if (o.backend === "wasm") runtime = await createRuntime(undefined, o.build ? { build: o.build } : {});
  const model = loadKeras(o.model, modelBytes, { backend: o.backend, runtime, nanPolicy: o.nanPolicy });
  return predictToFile(model, o, { inputs, inputName, runtime, format: "keras", description: describeKeras(model) });
}
