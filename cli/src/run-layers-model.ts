// cli/src/run-layers-model.ts: what `rnn-wasm run` does the same for a TensorFlow.js model (run-tfjs.ts) and a Keras 3
// file (run-keras.ts), both Keras layers models with one input: pick the input file's tensor that feeds it, predict,
// write the prediction as 'output', and summarise.
import { RnnError, saveSafetensors, type Runtime, type Tensor } from "rnn-wasm";
import { CliError, shapeText, writeOutputFiles, type CliStream } from "./common.js";
import type { RunOptions, RunSummary } from "./run.js";

/** A loaded layers model, as fromTfjs and fromKeras return one. */
export interface LayersModel {
  predict(x: Tensor): Tensor;
  dispose(): void;
}

/** The input file's tensor that feeds the model: its only one, or the one named 'input'. */
export function pickInput(tensors: Record<string, Tensor>, o: RunOptions, stderr: CliStream, what: string): [string, Tensor] {
  const names = Object.keys(tensors);
  if (names.length === 1) return [names[0], tensors[names[0]]];
  if (tensors.input) {
    stderr.write(`rnn-wasm: note: ignoring ${names.filter((n) => n !== "input").map((n) => `'${n}'`).join(", ")} in input file '${o.input}' (a ${what} model takes one tensor: 'input')\n`);
    return ["input", tensors.input];
  }
  throw new CliError(`input file '${o.input}' holds ${names.length ? names.map((n) => `'${n}'`).join(", ") : "no tensors"}: a ${what} model takes one tensor (the file's only one, or one named 'input'), [batch, steps, features]`);
}

/** What predictToFile reports about the run besides the model. */
export interface Feed {
  inputs: Record<string, Tensor>;
  inputName: string;
  runtime: Runtime | undefined;
  format: "tfjs" | "keras";
  description: string;
}

/** Predicts `model` on the fed tensor, writes 'output' to o.out, disposes the model; its errors name the input. */
export function predictToFile(model: LayersModel, o: RunOptions, feed: Feed): RunSummary {
  const { inputs, inputName, runtime, format, description } = feed;
  const x = inputs[inputName];
  try {
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
      model: { file: o.model, format, description },
      input: { file: o.input, tensors: { [inputName]: [...x.shape] }, ignored: Object.keys(inputs).filter((n) => n !== inputName) },
      backend: o.backend,
      build: runtime ? runtime.build : null,
      ms,
    };
  } finally {
    model.dispose();
  }
}
