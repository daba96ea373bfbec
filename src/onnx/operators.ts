// src/onnx/operators.ts: every operator rnn-wasm/onnx runs, by op_type (default domain), and the function that builds
// a node's kernel: the recurrent ones (recurrent.ts) and the glue exporters write around them (glue.ts). A node whose operator is missing here is refused when the model loads, naming the node.
import type { Kind } from "../architecture.js";
import type { Kernel, NodeContext } from "./node.js";
import type { NodeMsg } from "./proto.js";
import { dynamicQuantizeLstmKernel } from "./dynamic-quantize-lstm.js";
import { GLUE_OPERATORS } from "./glue.js";
import { recurrentKernel } from "./recurrent.js";

export type OperatorBuilder = (node: NodeMsg, ctx: NodeContext) => Kernel;

const recurrent = (kind: Kind): OperatorBuilder => (node, ctx) => recurrentKernel(kind, node, ctx);

export const OPERATORS: Record<string, OperatorBuilder> = {
  LSTM: recurrent("lstm"),
  GRU: recurrent("gru"),
  RNN: recurrent("rnn"),
  "com.microsoft.DynamicQuantizeLSTM": dynamicQuantizeLstmKernel, // another domain's operator: keyed domain.op_type
  ...GLUE_OPERATORS,
};
