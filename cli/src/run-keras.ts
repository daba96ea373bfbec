// cli/src/run-keras.ts: `rnn-wasm run --model model.keras`: a Keras 3 .keras file (a zip of config.json, metadata.json
// and model.weights.h5) through fromKeras. As for a TensorFlow.js model (run-tfjs.ts): the input file's one tensor
// (or, among several, the one named 'input') feeds the model's input, batch-first as Keras holds it, and the output
// is written as 'output'.
import { RnnError, createRuntime, saveSafetensors, type Runtime, type Tensor } from "rnn-wasm";
import { fromKeras, type KerasModel } from "rnn-wasm/keras";
import { CliError, readSafetensorsFile, shapeText, writeOutputFiles, type CliStream } from "./common.js";
import type { RunOptions, RunSummary } from "./run.js";

/** `Keras 3.10.0 Sequential (InputLayer, LSTM, Dense)`. */
export function describeKeras(model: KerasModel): string {
  return `Keras ${model.kerasVersion ?? "(version not recorded)"} ${model.className} (${model.layers.map((l) => l.className).join(", ")})`;
}

/** The input file's tensor that feeds the model: its only one, or the one named 'input'. */
function pickInput(tensors: Record<string, Tensor>, o: RunOptions, stderr: CliStream): [string, Tensor] {
  const names = Object.keys(tensors);
  if (names.length === 1) return [names[0], tensors[names[0]]];
  if (tensors.input) {
    stderr.write(`rnn-wasm: note: ignoring ${names.filter((n) => n !== "input").map((n) => `'${n}'`).join(", ")} in input file '${o.input}' (a Keras model takes one tensor: 'input')\n`);
    return ["input", tensors.input];
  }
  throw new CliError(`input file '${o.input}' holds ${names.length ? names.map((n) => `'${n}'`).join(", ") : "no tensors"}: a Keras model takes one tensor (the file's only one, or one named 'input'), [batch, steps, features]`);
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
  const [inputName, x] = pickInput(inputs, o, stderr);
  let runtime: Runtime | undefined;
  if (o.backend === "wasm") runtime = await createRuntime(undefined, o.build ? { build: o.build } : {});
  const model = loadKeras(o.model, modelBytes, { backend: o.backend, runtime, nanPolicy: o.nanPolicy });
  try {
    const description = describeKeras(model);
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
      model: { file: o.model, format: "keras", description },
      input: { file: o.input, tensors: { [inputName]: [...x.shape] }, ignored: Object.keys(inputs).filter((n) => n !== inputName) },
      backend: o.backend,
      build: runtime ? runtime.build : null,
      ms,
    };
  } finally {
    model.dispose();
  }
}
