// cli/src/run-onnx.ts: `rnn-wasm run --model model.onnx`: fromOnnx on the model file, one feed per graph input from the
// input file (named as the graph names them; integer inputs such as sequence_lens as I32/I64 or whole-number floats),
// and every graph output written under its own name. The input file's names are checked against the graph's before
// anything runs, so a wrong name is reported with the inputs the graph takes.
import { RnnError, createRuntime, saveSafetensors, type Runtime, type Tensor } from "rnn-wasm";
import { fromOnnx, type OnnxModel, type OnnxValueInfo } from "rnn-wasm/onnx";
import { CliError, readFileBytes, writeOutputFiles } from "./common.js";
import { readOnnxInputs } from "./onnx-inputs.js";
import type { RunOptions, RunSummary } from "./run.js";

/** `[seq, batch, 2]`: a declared shape (symbolic axes by name, unknown ones as ?). */
export function dimsText(v: OnnxValueInfo): string {
  return v.shape ? `[${v.shape.map((d) => (d === null ? "?" : String(d))).join(", ")}]` : "(no shape)";
}

/** `X FLOAT [seq, batch, 2]`: a graph input or output as the file declares it. */
export function valueText(v: OnnxValueInfo): string {
  return `${v.name} ${v.elemType} ${dimsText(v)}`;
}

/** `LSTM`, or `2 nodes: LSTM, Gemm` ...: the operators of a model, for one line. */
function operatorsText(model: OnnxModel): string {
  const counts = new Map<string, number>();
  for (const op of model.operators) counts.set(op, (counts.get(op) ?? 0) + 1);
  const list = [...counts].map(([op, n]) => (n > 1 ? `${op} x${n}` : op)).join(", ");
  return `ONNX model (${model.operators.length} node${model.operators.length === 1 ? "" : "s"}: ${list})`;
}

export async function runOnnx(o: RunOptions): Promise<RunSummary> {
  const bytes = readFileBytes(o.model, "model");
  const feeds = readOnnxInputs(o.input);
  let runtime: Runtime | undefined;
  if (o.backend === "wasm") runtime = await createRuntime(undefined, o.build ? { build: o.build } : {});
  let model: OnnxModel;
  try {
    model = fromOnnx(bytes, { backend: o.backend, runtime, nanPolicy: o.nanPolicy });
  } catch (e) {
    if (e instanceof RnnError) throw new CliError(`model file '${o.model}' (ONNX): ${e.message}`);
    throw e;
  }
  try {
    const wanted = model.inputs.map(valueText).join(", ") || "none";
    const given = Object.keys(feeds);
    const missing = model.inputNames.filter((n) => !given.includes(n));
    const unknown = given.filter((n) => !model.inputNames.includes(n));
    if (missing.length || unknown.length) {
      const parts = [
        missing.length ? `has no tensor named ${missing.map((n) => `'${n}'`).join(", ")}` : "",
        unknown.length ? `${missing.length ? "and " : ""}holds ${unknown.map((n) => `'${n}'`).join(", ")}, which ${unknown.length > 1 ? "are not inputs" : "is not an input"} of the graph` : "",
      ].filter(Boolean);
      throw new CliError(`input file '${o.input}' ${parts.join(" ")} (model '${o.model}' takes ${wanted}; the input file holds ${given.map((n) => `'${n}'`).join(", ") || "no tensors"})`);
    }
    const started = performance.now();
    let results: Record<string, Tensor>;
    try {
      results = model.run(Object.fromEntries(given.map((n) => [n, feeds[n].tensor])));
    } catch (e) {
      if (e instanceof RnnError) {
        const advice = e.code === "nonfinite" ? e.message.replace("pass nanPolicy: 'propagate'", "pass --nan-policy propagate") : e.message;
        throw new CliError(`${advice} (input file '${o.input}'; model '${o.model}' takes ${wanted})`);
      }
      throw e;
    }
    const ms = performance.now() - started;
    const description = operatorsText(model);
    const file = saveSafetensors(results, { producer: "rnn-wasm run", model: description });
    writeOutputFiles([{ path: o.out, role: "output file", data: file }]);
    return {
      out: o.out,
      bytes: file.byteLength,
      tensors: Object.fromEntries(Object.entries(results).map(([n, t]) => [n, [...t.shape]])),
      model: { file: o.model, format: "onnx", description },
      input: { file: o.input, tensors: Object.fromEntries(given.map((n) => [n, [...feeds[n].tensor.shape]])), ignored: [] },
      backend: o.backend,
      build: runtime ? runtime.build : null,
      ms,
    };
  } finally {
    model.dispose();
  }
}
