// src/onnx/export-recurrent.ts: one LSTM/GRU/RNN layer (any numLayers, either direction count) as ONNX nodes.
// Each stacked layer l is one ONNX LSTM/GRU/RNN node (ONNX's operators have one layer each), reading the layer
// before it:
//   X_l (T,B,I_l) -> node -> Y (T,D,B,H) -> D = 1: Squeeze axis 1; D = 2: Transpose (T,B,D,H), Reshape (T,B,D*H)
//   W (D,G*H,I_l), R (D,G*H,H), B (D,2*G*H) = bias_ih then bias_hh of each direction, gates in ONNX's order:
//   LSTM i,o,f,c from PyTorch's i,f,g,o; GRU z,r,h from r,z,n (reset-after -> linear_before_reset 1); RNN Tanh or Relu.
//   initial_h / initial_c: rows l*D .. l*D+D-1 of h0 / c0 (L*D,B,H), by Slice; Y_h / Y_c of every layer are
//   concatenated along axis 0 into hN / cN (L*D,B,H), PyTorch's order (layer-major, then direction).
// batchFirst layers are written with Transposes around the chain, not with the operators' layout attribute:
// ONNX Runtime refuses layout = 1 for these three operators.
import { RnnError } from "../errors.js";
import { gateCount, outputSize, type Kind, type Spec } from "../architecture.js";
import type { Tensor } from "../tensor.js";
import type { Edge, GraphBuilder } from "./export-graph.js";

/** ONNX's gate block j is PyTorch's block ONNX_FROM_TORCH[kind][j] (the inverse of the importer's map). */
const ONNX_FROM_TORCH: Record<Kind, number[]> = { lstm: [0, 3, 1, 2], gru: [1, 0, 2], rnn: [0] };
const OP_TYPE: Record<Kind, string> = { lstm: "LSTM", gru: "GRU", rnn: "RNN" };

/** A PyTorch weight or bias (G*H rows of `cols`) with its gate blocks in ONNX's order. */
function onnxRows(src: Float32Array, kind: Kind, H: number, cols: number): Float32Array {
  const block = H * cols;
  const out = new Float32Array(src.length);
  ONNX_FROM_TORCH[kind].forEach((from, to) => out.set(src.subarray(from * block, (from + 1) * block), to * block));
  return out;
}

/** Concatenates the directions' tensors (each reordered) into one [D, ...] block. */
function stack(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** Refuses what ONNX's recurrent operators cannot express, naming why. */
export function checkExportable(spec: Spec, what: string): void {
  if (spec.cell) {
    throw new RnnError("unexpected", `toOnnx: ${what} is a one-step cell; export a sequence layer (an ONNX ${OP_TYPE[spec.kind]} runs whole sequences)`);
  }
  if (spec.projSize > 0) {
    throw new RnnError("unexpected", `toOnnx: ${what} has projSize ${spec.projSize}: ONNX's LSTM operator has no projection ` +
      "(PyTorch's weight_hr; torch.onnx.export refuses proj_size too), so this layer has no exact ONNX form");
  }
}

export interface RecurrentEdges {
  /** The layer's `output`, shaped as its forward returns it: [T, B, D*H] ([B, T, D*H] batch-first). */
  output: Edge;
  hN: Edge;
  cN: Edge | null;
}

/**
 * Writes `spec`'s layer into `g`, reading `x` (shaped as the layer's forward takes it), the optional initial
 * states `h0`, `c0` ([L*D, B, H]) and per-row `lengths` (int32 [B], every node's sequence_lens: ONNX's rule past a
 * row's end, Y 0 and Y_h from its last step, is forward's); `params` its PyTorch-named weights (toTorch()).
 */
export function recurrentNodes(g: GraphBuilder, stem: string, spec: Spec, params: Record<string, Tensor>, x: Edge, h0: Edge | null, c0: Edge | null, lengths: Edge | null): RecurrentEdges {
  const { kind, hiddenSize: H, numLayers: L } = spec;
  const D = spec.bidirectional ? 2 : 1;
  const G = gateCount(kind);
  const F = outputSize(spec);
  // time-major throughout: [B, T, I] -> [T, B, I]
  const [T, B] = spec.batchFirst ? [x.dims[1], x.dims[0]] : [x.dims[0], x.dims[1]];
  let cur = spec.batchFirst ? g.node1("Transpose", `${stem}/input_tm`, [x.name], [T, B, x.dims[2]], { perm: { ints: [1, 0, 2] } }) : x;
  const hs: Edge[] = [], cs: Edge[] = [];
  const attributes = {
    hidden_size: { i: H },
    ...(D === 2 ? { direction: { s: "bidirectional" } } : {}),
    ...(kind === "gru" ? { linear_before_reset: { i: spec.resetAfter ? 1 : 0 } } : {}),
    ...(kind === "rnn" && spec.nonlinearity === "relu" ? { activations: { strings: ["Relu", "Relu"].slice(0, D) } } : {}),
  };
  for (let l = 0; l < L; l++) {
    const s = `${stem}/l${l}`;
    const I = l === 0 ? spec.inputSize : D * F;
    const sfx = (d: number) => `_l${l}${d === 1 ? "_reverse" : ""}`;
    const dirs = Array.from({ length: D }, (_, d) => d);
    const W = g.weight(`${s}/W`, [D, G * H, I], stack(dirs.map((d) => onnxRows(params[`weight_ih${sfx(d)}`].data, kind, H, I))));
    const R = g.weight(`${s}/R`, [D, G * H, H], stack(dirs.map((d) => onnxRows(params[`weight_hh${sfx(d)}`].data, kind, H, H))));
    const Bias = spec.bias
      ? g.weight(`${s}/B`, [D, 2 * G * H], stack(dirs.flatMap((d) => [onnxRows(params[`bias_ih${sfx(d)}`].data, kind, H, 1), onnxRows(params[`bias_hh${sfx(d)}`].data, kind, H, 1)])))
      : null;
    const rows = (state: Edge | null, what: string): string => {
      if (!state) return "";
      if (L === 1) return state.name;
      const starts = g.ints(`${s}/${what}_start`, [l * D]), ends = g.ints(`${s}/${what}_end`, [(l + 1) * D]), axes = g.ints(`${s}/${what}_axes`, [0]);
      return g.node1("Slice", `${s}/${what}`, [state.name, starts, ends, axes], [D, B, H]).name;
    };
    const outs = g.node(OP_TYPE[kind], s, [cur.name, W.name, R.name, Bias?.name ?? "", lengths?.name ?? "", rows(h0, "initial_h"), kind === "lstm" ? rows(c0, "initial_c") : ""],
      [{ stem: `${s}/Y`, dims: [T, D, B, H] }, { stem: `${s}/Y_h`, dims: [D, B, H] }, ...(kind === "lstm" ? [{ stem: `${s}/Y_c`, dims: [D, B, H] }] : [])],
      attributes);
    hs.push(outs[1]);
    if (kind === "lstm") cs.push(outs[2]);
    if (D === 1) {
      cur = g.node1("Squeeze", `${s}/output`, [outs[0].name, g.ints(`${s}/squeeze_axes`, [1])], [T, B, H]);
    } else {
      const tbdh = g.node1("Transpose", `${s}/Y_tbdh`, [outs[0].name], [T, B, D, H], { perm: { ints: [0, 2, 1, 3] } });
      cur = g.node1("Reshape", `${s}/output`, [tbdh.name, g.ints(`${s}/output_shape`, [0, 0, D * H])], [T, B, D * H]);
    }
  }
  const output = spec.batchFirst ? g.node1("Transpose", `${stem}/output_bf`, [cur.name], [B, T, D * H], { perm: { ints: [1, 0, 2] } }) : cur;
  const concat = (parts: Edge[], what: string): Edge => (parts.length === 1 ? parts[0] : g.node1("Concat", `${stem}/${what}`, parts.map((p) => p.name), [L * D, B, H], { axis: { i: 0 } }));
  return { output, hN: concat(hs, "hN"), cN: kind === "lstm" ? concat(cs, "cN") : null };
}
