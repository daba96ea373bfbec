// src/onnx/export.ts: toOnnx writes a recurrent layer, or a Sequential of recurrent layers, Linear, Embedding and
// LastStep, as an ONNX model (opset 14, IR version 7) that computes what the model's forward computes:
//   layer       inputs `input` (with initialState: `h0`, LSTM `c0`; with lengths: `lengths`) -> outputs `output`, `hN`
//               (LSTM `cN`)
//   Sequential  input `input` -> output `output`
// with the batch and sequence axes symbolic (`batch`, `sequence`), so any batch size and length runs. The weights
// are the model's current ones (toTorch()), stored as float32 initializers. What has no exact ONNX form is refused,
// naming why: projection (projSize), quantized layers, one-step cells, modules toOnnx does not know.
import { RnnError } from "../errors.js";
import { RecurrentCell } from "../cells.js";
import { RecurrentLayer } from "../layers.js";
import { flag, knownKeys, optionsObject, describeValue } from "../options.js";
import { QuantizedCell, QuantizedLayer } from "../quantized.js";
import { Embedding } from "../train/embedding.js";
import { Linear } from "../train/linear.js";
import { LastStep, Sequential } from "../train/sequential.js";
import { DT } from "./proto.js";
import { GraphBuilder, type Dims, type Edge } from "./export-graph.js";
import { writeModelProto } from "./export-proto.js";
import { checkExportable, recurrentNodes } from "./export-recurrent.js";

/** The opset of the default domain toOnnx writes (LSTM/GRU/RNN-14, Squeeze-13 with axes as an input). */
export const ONNX_EXPORT_OPSET = 14;
/** The IR version that goes with opset 14 (ONNX 1.9). */
export const ONNX_EXPORT_IR_VERSION = 7;

/** The symbolic names of the dynamic axes in the written graph's inputs and outputs. */
const BATCH = "batch", SEQUENCE = "sequence";

/** Options of {@link toOnnx}. */
export interface ToOnnxOptions {
  /**
   * Recurrent layer only: add graph inputs `h0` (and for an LSTM `c0`), [numLayers * directions, batch, hidden],
   * as forward's `h0`/`c0`. Default false: the graph starts from zeros, as forward does without them.
   */
  initialState?: boolean;
  /**
   * Recurrent layer only: add a graph input `lengths` (int32 [batch]), as forward's `lengths`: row b's sequence is
   * its first lengths[b] steps (1 to sequence), outputs past it are 0 and hN holds the state at its last step. It
   * feeds every node's `sequence_lens`. Default false: every row runs the whole sequence.
   */
  lengths?: boolean;
}

/** What toOnnx exports: a recurrent layer, or a Sequential of recurrent layers, Linear, Embedding and LastStep. */
export type OnnxExportable = RecurrentLayer | Sequential;

function refuseOther(model: unknown, what: string): never {
  if (model instanceof QuantizedLayer || model instanceof QuantizedCell) {
    throw new RnnError("unexpected", `toOnnx: ${what} is quantized (${model.dtype}): ONNX's LSTM, GRU and RNN operators take float weights, ` +
      "and the int8 ONNX LSTM (com.microsoft.DynamicQuantizeLSTM) is not written here; export the float layer you quantized");
  }
  if (model instanceof RecurrentCell) checkExportable(model.spec, what);
  throw new RnnError("unexpected", `toOnnx: ${what} is not a module toOnnx writes (LSTM, GRU, RNN, Linear, Embedding, LastStep, in a Sequential or a layer alone): ${describeValue(model)}`);
}

/** A recurrent layer alone: its forward's inputs and outputs, by the same names. */
function layerGraph(g: GraphBuilder, layer: RecurrentLayer, initialState: boolean, withLengths: boolean): void {
  const spec = layer.spec;
  checkExportable(spec, `the ${spec.kind.toUpperCase()}`);
  const stateDims: Dims = [spec.numLayers * (spec.bidirectional ? 2 : 1), BATCH, spec.hiddenSize];
  const x = g.input("input", spec.batchFirst ? [BATCH, SEQUENCE, spec.inputSize] : [SEQUENCE, BATCH, spec.inputSize]);
  const h0 = initialState ? g.input("h0", stateDims) : null;
  const c0 = initialState && spec.kind === "lstm" ? g.input("c0", stateDims) : null;
  const lengths = withLengths ? g.input("lengths", [BATCH], DT.INT32) : null;
  const r = recurrentNodes(g, spec.kind, spec, layer.toTorch(), x, h0, c0, lengths);
  g.output(r.output, "output");
  g.output(r.hN, "hN");
  if (r.cN) g.output(r.cN, "cN");
}

/** The Sequential's input: shaped for its first module, with the time axes where its first recurrent layer reads them. */
function sequentialInput(g: GraphBuilder, modules: Sequential["modules"]): Edge {
  const first = modules[0];
  const rnn = modules.find((m): m is RecurrentLayer => m instanceof RecurrentLayer);
  const time: Dims = rnn === undefined ? [BATCH] : rnn.spec.batchFirst ? [BATCH, SEQUENCE] : [SEQUENCE, BATCH];
  if (first instanceof RecurrentLayer) return g.input("input", [...time, first.spec.inputSize]);
  if (first instanceof Linear) return g.input("input", [...time, first.inFeatures]);
  if (first instanceof Embedding) return g.input("input", rnn === undefined ? [BATCH, SEQUENCE] : time, DT.INT64);
  if (first instanceof LastStep) throw new RnnError("unexpected", "toOnnx: the Sequential starts with a LastStep, whose feature size is unknown; start it with a layer");
  return refuseOther(first, "modules[0]");
}

function checkFeatures(cur: Edge, want: number, what: string): void {
  const have = cur.dims[cur.dims.length - 1];
  if (have !== want) throw new RnnError("shape", `toOnnx: ${what} takes ${want} features, but the module before it gives ${have}`);
}

function sequentialGraph(g: GraphBuilder, model: Sequential): void {
  let cur = sequentialInput(g, model.modules);
  model.modules.forEach((m, k) => {
    const stem = `m${k}`, what = `modules[${k}]`;
    if (m instanceof RecurrentLayer) {
      checkExportable(m.spec, `${what} (${m.spec.kind.toUpperCase()})`);
      checkFeatures(cur, m.spec.inputSize, what);
      if (cur.dims.length !== 3) throw new RnnError("shape", `toOnnx: ${what} (${m.spec.kind.toUpperCase()}) reads a rank-${cur.dims.length} tensor; the graph is written for batched [T, B, F] input`);
      cur = recurrentNodes(g, stem, m.spec, m.toTorch(), cur, null, null, null).output;
    } else if (m instanceof Linear) {
      checkFeatures(cur, m.inFeatures, what);
      const p = m.toTorch();
      const out = m.outFeatures, inF = m.inFeatures;
      // y = x Wᵀ + b: Wᵀ stored [in, out] for MatMul, which takes any leading axes
      const wt = new Float32Array(inF * out);
      for (let o = 0; o < out; o++) for (let i = 0; i < inF; i++) wt[i * out + o] = p.weight.data[o * inF + i];
      const dims = [...cur.dims.slice(0, -1), out];
      cur = g.node1("MatMul", `${stem}/matmul`, [cur.name, g.weight(`${stem}/weight_t`, [inF, out], wt).name], dims);
      if (m.bias) cur = g.node1("Add", `${stem}/bias`, [cur.name, g.weight(`${stem}/bias`, [out], p.bias.data).name], dims);
    } else if (m instanceof Embedding) {
      if (k !== 0) throw new RnnError("unexpected", `toOnnx: ${what} is an Embedding after another module; an Embedding reads indices, so it comes first`);
      const weight = g.weight(`${stem}/weight`, [m.numEmbeddings, m.embeddingDim], m.toTorch().weight.data);
      cur = g.node1("Gather", `${stem}/embedding`, [weight.name, cur.name], [...cur.dims, m.embeddingDim], { axis: { i: 0 } });
    } else if (m instanceof LastStep) {
      if (cur.dims.length !== 3) throw new RnnError("shape", `toOnnx: ${what} (LastStep) reads a rank-${cur.dims.length} tensor; the graph is written for batched [T, B, F] input`);
      const axis = m.batchFirst ? 1 : 0;
      cur = g.node1("Gather", `${stem}/last_step`, [cur.name, g.ints(`${stem}/last`, [-1], [])], cur.dims.filter((_, j) => j !== axis), { axis: { i: axis } });
    } else {
      refuseOther(m, what);
    }
  });
  g.output(cur, "output");
}

/** A one-line description of the model, for the file's doc_string. */
function describeModel(model: OnnxExportable): string {
  const one = (m: unknown): string => {
    if (m instanceof RecurrentLayer) {
      const s = m.spec;
      return `${s.kind.toUpperCase()}(${s.inputSize}, ${s.hiddenSize}, layers ${s.numLayers}${s.bidirectional ? ", bidirectional" : ""}${s.batchFirst ? ", batchFirst" : ""})`;
    }
    if (m instanceof Linear) return `Linear(${m.inFeatures}, ${m.outFeatures})`;
    if (m instanceof Embedding) return `Embedding(${m.numEmbeddings}, ${m.embeddingDim})`;
    return m instanceof LastStep ? "LastStep" : "?";
  };
  return model instanceof Sequential ? `Sequential[${model.modules.map(one).join(", ")}]` : one(model);
}

/**
 * Writes a model as an ONNX file (opset 14) that ONNX Runtime and `fromOnnx` run with the model's own results.
 * A recurrent layer becomes a graph with input `input` (shaped as its forward takes it) and outputs `output`,
 * `hN` and, for an LSTM, `cN`; with `initialState`, inputs `h0` (and `c0`) too, with `lengths` an input `lengths`. A Sequential becomes a graph from
 * `input` to `output`. Batch and sequence axes are symbolic (`batch`, `sequence`). docs/onnx.md lists what is
 * written for each module.
 *
 * @param model an `LSTM`, `GRU` or `RNN` (without `projSize`), or a `Sequential` of those, `Linear`, `Embedding`
 *   (first) and `LastStep`
 * @param options see {@link ToOnnxOptions}
 * @returns the bytes of the `.onnx` file
 * @throws RnnError `unexpected` for what ONNX's operators cannot express (projSize, a quantized layer, a cell, an
 *   unknown module), naming it and why; `shape` for a Sequential whose modules' sizes do not chain; `disposed`
 * @example
 * ```ts
 * import { LSTM } from "rnn-wasm";
 * import { toOnnx } from "rnn-wasm/onnx";
 * const bytes = toOnnx(new LSTM({ inputSize: 8, hiddenSize: 32, seed: 1 }));
 * // ONNX Runtime: session.run({ input }) -> { output, hN, cN }
 * ```
 */
export function toOnnx(model: OnnxExportable, options: ToOnnxOptions = {}): Uint8Array {
  const o = optionsObject("toOnnx options", options) as ToOnnxOptions;
  knownKeys("toOnnx", o, ["initialState", "lengths"]);
  const initialState = flag("initialState", o.initialState, false);
  const lengths = flag("lengths", o.lengths, false);
  const g = new GraphBuilder();
  if (model instanceof RecurrentLayer) {
    layerGraph(g, model, initialState, lengths);
  } else if (model instanceof Sequential) {
    if (initialState || lengths) throw new RnnError("unexpected", `toOnnx: ${initialState ? "initialState" : "lengths"} is for a recurrent layer alone; a Sequential's forward takes neither states nor lengths`);
    if (model.modules.length === 0) throw new RnnError("missing", "toOnnx: the Sequential has no modules");
    sequentialGraph(g, model);
  } else {
    refuseOther(model, "the model");
  }
  return writeModelProto({
    irVersion: ONNX_EXPORT_IR_VERSION,
    opset: ONNX_EXPORT_OPSET,
    producerName: "rnn-wasm",
    docString: `rnn-wasm toOnnx: ${describeModel(model)}`,
    graph: g.finish("rnn-wasm"),
  });
}
