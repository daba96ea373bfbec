// cli/src/inspect-onnx.ts: `rnn-wasm inspect model.onnx`: what fromOnnx reads from an ONNX model, loaded as fromOnnx
// loads it (so every check it makes applies: operators supported, attributes known, values defined), on the
// reference backend with nothing run: the graph's inputs and outputs with their element types and shapes, each
// recurrent node (LSTM, GRU, RNN, com.microsoft.DynamicQuantizeLSTM) with its attributes, sizes and weight shapes,
// and how many nodes of each operator the graph holds.
import { RnnError } from "rnn-wasm";
import { fromOnnx, type OnnxModel, type OnnxValueInfo } from "rnn-wasm/onnx";
import { CliError, readFileBytes } from "./common.js";
import { dimsText } from "./run-onnx.js";

/** A recurrent node: its operator, attributes, and the sizes its weights give. */
export interface OnnxRecurrentNode {
  name: string;
  operator: string;
  direction: string;
  /** hidden_size, from the attribute or from R's shape; null when R is fed at run time and no attribute says. */
  hiddenSize: number | null;
  /** From W's shape; null when W is fed at run time. */
  inputSize: number | null;
  /** Every attribute the node sets, as the file holds it. */
  attributes: OnnxModel["nodes"][number]["attributes"];
  /** The shapes of its inputs that are initializers, by the operator's input names (W, R, B, ...). */
  weights: Record<string, number[]>;
}

/** What `inspect --json` prints for an ONNX model. */
export interface OnnxInspectReport {
  file: string;
  format: "onnx";
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  nodes: number;
  /** Nodes per operator, in order of first appearance. */
  operators: Record<string, number>;
  recurrent: OnnxRecurrentNode[];
  bytes: number;
}

const INPUTS: Record<string, string[]> = {
  LSTM: ["X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"],
  GRU: ["X", "W", "R", "B", "sequence_lens", "initial_h"],
  RNN: ["X", "W", "R", "B", "sequence_lens", "initial_h"],
  "com.microsoft.DynamicQuantizeLSTM": ["X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P", "W_scale", "W_zero_point", "R_scale", "R_zero_point"],
};

function recurrentNode(n: OnnxModel["nodes"][number], k: number): OnnxRecurrentNode {
  const names = INPUTS[n.operator];
  const weights: Record<string, number[]> = {};
  n.constantShapes.forEach((shape, j) => {
    if (shape && j > 0) weights[names[j] ?? `input ${j}`] = shape;
  });
  // ONNX's W [D, G*H, I], R [D, G*H, H]; DynamicQuantizeLSTM's W [D, I, 4H], R [D, H, 4H]
  const quantized = n.operator.startsWith("com.microsoft.");
  const hidden = typeof n.attributes.hidden_size === "number" ? n.attributes.hidden_size : weights.R ? weights.R[quantized ? 1 : 2] ?? null : null;
  return {
    name: n.name || `#${k}`,
    operator: n.operator,
    direction: typeof n.attributes.direction === "string" ? n.attributes.direction : "forward",
    hiddenSize: hidden,
    inputSize: weights.W ? weights.W[quantized ? 1 : 2] ?? null : null,
    attributes: n.attributes,
    weights,
  };
}

/** Reads `path` as an ONNX model and describes it; throws CliError naming the file and what is wrong. */
export function inspectOnnx(path: string): OnnxInspectReport {
  const bytes = readFileBytes(path, "model");
  let model: OnnxModel;
  try {
    model = fromOnnx(bytes, { backend: "reference" });
  } catch (e) {
    if (e instanceof RnnError) throw new CliError(`model file '${path}' (ONNX): ${e.message}`);
    throw e;
  }
  try {
    const operators: Record<string, number> = {};
    for (const op of model.operators) operators[op] = (operators[op] ?? 0) + 1;
    return {
      file: path,
      format: "onnx",
      inputs: model.inputs,
      outputs: model.outputs,
      nodes: model.nodes.length,
      operators,
      recurrent: model.nodes.map((n, k) => ({ n, k })).filter(({ n }) => INPUTS[n.operator]).map(({ n, k }) => recurrentNode(n, k)),
      bytes: bytes.byteLength,
    };
  } finally {
    model.dispose();
  }
}

function attributeText(v: OnnxRecurrentNode["attributes"][string]): string {
  if (v === null) return "(graph)";
  if (Array.isArray(v)) return `[${v.map((x) => (typeof x === "string" ? x : String(x))).join(", ")}]`;
  if (typeof v === "object") return `tensor [${v.shape.join(", ")}]`;
  return String(v);
}

/** The report as text: inputs and outputs, the recurrent nodes, then the operator counts. */
export function formatOnnxReport(r: OnnxInspectReport): string {
  const lines = [`${r.file}: ONNX model, ${r.nodes} node${r.nodes === 1 ? "" : "s"}, ${r.recurrent.length} recurrent (${r.bytes.toLocaleString("en-US")} bytes)`, ""];
  const values = (title: string, list: OnnxValueInfo[]) => {
    lines.push(`${title} (${list.length}):`);
    const w0 = Math.max(0, ...list.map((v) => v.name.length)), w1 = Math.max(0, ...list.map((v) => v.elemType.length));
    for (const v of list) lines.push(`  ${v.name.padEnd(w0)}  ${v.elemType.padEnd(w1)}  ${dimsText(v)}`);
  };
  values("inputs", r.inputs);
  lines.push("");
  values("outputs", r.outputs);
  lines.push("", `recurrent nodes (${r.recurrent.length}):`);
  for (const n of r.recurrent) {
    const sizes = [`hidden_size ${n.hiddenSize ?? "?"}`, `input_size ${n.inputSize ?? "?"}`, `direction ${n.direction}`].join(", ");
    lines.push(`  ${n.name} (${n.operator}): ${sizes}`);
    const attrs = Object.entries(n.attributes).filter(([k]) => k !== "hidden_size" && k !== "direction");
    if (attrs.length) lines.push(`    attributes  ${attrs.map(([k, v]) => `${k} ${attributeText(v)}`).join(", ")}`);
    const weights = Object.entries(n.weights);
    lines.push(`    weights     ${weights.length ? weights.map(([k, s]) => `${k} [${s.join(", ")}]`).join(", ") : "none in the file (fed at run time)"}`);
  }
  const ops = Object.entries(r.operators);
  const width = Math.max(...ops.map(([op]) => op.length));
  lines.push("", `operators (${ops.length}):`, ...ops.map(([op, n]) => `  ${op.padEnd(width)}  ${n}`));
  return lines.join("\n");
}
