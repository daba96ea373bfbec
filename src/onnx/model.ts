// src/onnx/model.ts: fromOnnx and OnnxModel: a decoded ONNX graph whose nodes are built into kernels once, at
// load time (attributes checked, unsupported operators refused, every edge checked to be defined before it is
// used), and run in the file's order (ONNX requires nodes to be topologically sorted) on each call.
import { RnnError } from "../errors.js";
import { knownKeys, optionsObject } from "../options.js";
import { BACKEND_KEYS, type BackendOptions } from "../recurrent-base.js";
import { checkTensorData, type Tensor } from "../tensor.js";
import { describeNode, type Kernel } from "./node.js";
import { OPERATORS } from "./operators.js";
import { AT, DT_NAMES, readModel, type AttributeMsg, type GraphMsg, type NodeMsg, type ValueInfoMsg } from "./proto.js";
import { FLOAT_TYPES, INT_TYPES, floatValue, intValue, shapeText, tensorValue, type Value } from "./values.js";

/** Options of {@link fromOnnx}: where the recurrent operators run. */
export interface FromOnnxOptions {
  /** 'wasm' (default) runs the recurrent operators our layers compute with the kernels; 'reference' with the layers' plain-TypeScript engine. Operators with other attributes always run the plain-TypeScript ONNX path. */
  backend?: BackendOptions["backend"];
  /** The wasm runtime; default: the one `init()` loaded. */
  runtime?: BackendOptions["runtime"];
  /** NaN or Infinity in the inputs of a recurrent operator run by the layers: 'error' (default) throws naming the tensor, 'propagate' computes on. */
  nanPolicy?: BackendOptions["nanPolicy"];
}

/** An integer tensor to feed an integer graph input (such as `sequence_lens`); a Float32Array of whole numbers works too. */
export interface IntTensor {
  /** Sizes of the axes, outermost first. */
  shape: number[];
  /** The values, row-major (BigInt64Array for INT64 values beyond int32; read as numbers, exact to 2^53). */
  data: Int32Array | BigInt64Array;
}

/** A graph input or output as the file declares it. */
export interface OnnxValueInfo {
  /** The name feeds and results use. */
  name: string;
  /** ONNX's element type name: `FLOAT`, `INT32`, `INT64`, ... */
  elemType: string;
  /** Declared sizes: a number, a symbolic name (a dynamic axis such as `batch`), or null when unknown; null for no shape. */
  shape: (number | string | null)[] | null;
}

/** How OPERATORS names a node's operator: the default domain's by op_type, another domain's as `domain.op_type`. */
function operatorKey(n: NodeMsg): string {
  return n.domain && n.domain !== "ai.onnx" ? `${n.domain}.${n.opType}` : n.opType;
}

/** An attribute's value as plain data (by its declared type, or by the field that is set when a file omits the type). */
function attributeValue(a: AttributeMsg): number | string | number[] | string[] | { shape: number[] } | null {
  switch (a.type) {
    case AT.FLOAT: return a.f;
    case AT.INT: return a.i;
    case AT.STRING: return a.s;
    case AT.TENSOR: return a.t ? { shape: [...a.t.dims] } : null;
    case AT.FLOATS: return [...a.floats];
    case AT.INTS: return [...a.ints];
    case AT.STRINGS: return [...a.strings];
    case 0: return a.t ? { shape: [...a.t.dims] } : a.strings.length ? [...a.strings] : a.ints.length ? [...a.ints] : a.floats.length ? [...a.floats] : a.s || a.i || a.f;
    default: return null;
  }
}

function valueInfo(v: ValueInfoMsg): OnnxValueInfo {
  return { name: v.name, elemType: DT_NAMES[v.elemType] ?? String(v.elemType), shape: v.dims ? [...v.dims] : null };
}

/**
 * A model loaded from an ONNX file by {@link fromOnnx}: `run` feeds the graph's inputs by name and returns its outputs
 * by name. Holds wasm memory (the recurrent layers of nodes with constant weights) until {@link OnnxModel.dispose}.
 */
export class OnnxModel {
  /** Names of the graph inputs a call must feed (initializers listed as inputs may be fed too, to override them). */
  readonly inputNames: string[];
  /** Names of the graph outputs `run` returns. */
  readonly outputNames: string[];
  /** The graph inputs to feed, with their declared element types and shapes. */
  readonly inputs: OnnxValueInfo[];
  /** The graph outputs, with their declared element types and shapes. */
  readonly outputs: OnnxValueInfo[];
  /** The operator of each node, in the file's order (for inspecting a model); another domain's as `domain.op_type`. */
  readonly operators: string[];
  /**
   * Each node, in the file's order, for inspecting a model: its name, operator (as in {@link OnnxModel.operators}),
   * input and output names, attributes by name (numbers, strings and their lists; a tensor attribute as its shape;
   * null for a graph), and the shape of each input that is an initializer no feed may replace (null for the others).
   */
  readonly nodes: {
    /** The node's name ('' when the file gives none). */
    name: string;
    /** Its operator, as in {@link OnnxModel.operators}. */
    operator: string;
    /** The names of its inputs ('' for an optional input left out). */
    inputs: string[];
    /** The names of its outputs. */
    outputs: string[];
    /** Its attributes by name. */
    attributes: Record<string, number | string | number[] | string[] | {
      /** A tensor attribute's shape. */
      shape: number[];
    } | null>;
    /** Per input: its shape when it is an initializer no feed may replace, else null. */
    constantShapes: (number[] | null)[];
  }[];
  private readonly graph: GraphMsg;
  private readonly initial: Map<string, Value>;
  private readonly overridable: Set<string>;
  private kernels: Kernel[] | null;

  /** @internal */
  constructor(graph: GraphMsg, initial: Map<string, Value>, overridable: Set<string>, kernels: Kernel[]) {
    this.graph = graph;
    this.initial = initial;
    this.overridable = overridable;
    this.kernels = kernels;
    const required = graph.inputs.filter((v) => !initial.has(v.name));
    this.inputs = required.map(valueInfo);
    this.outputs = graph.outputs.map(valueInfo);
    this.inputNames = this.inputs.map((v) => v.name);
    this.outputNames = this.outputs.map((v) => v.name);
    this.operators = graph.nodes.map(operatorKey);
    this.nodes = graph.nodes.map((n) => ({
      name: n.name,
      operator: operatorKey(n),
      inputs: [...n.inputs],
      outputs: [...n.outputs],
      attributes: Object.fromEntries(n.attributes.map((a) => [a.name, attributeValue(a)])),
      constantShapes: n.inputs.map((name) => (initial.has(name) && !overridable.has(name) ? [...initial.get(name)!.shape] : null)),
    }));
  }

  /**
   * Runs the graph.
   *
   * @param feeds one tensor per name of {@link OnnxModel.inputNames}: float inputs take a {@link Tensor}, integer inputs
   *   (such as `sequence_lens`) an {@link IntTensor} or a Tensor of whole numbers; sizes as the file declares them
   *   (symbolic axes take any size)
   * @returns every graph output by name, as float32 tensors
   * @throws RnnError `missing` / `unexpected` for an absent or unknown feed, `shape` / `dtype` for a feed that does
   *   not fit, `disposed` after dispose(), and an operator's own errors naming its node
   * @example
   * ```ts
   * const { Y, Y_h } = model.run({ X: tensor([T, B, I], x) });
   * ```
   */
  run(feeds: Record<string, Tensor | IntTensor>): Record<string, Tensor> {
    const kernels = this.kernels;
    if (!kernels) throw new RnnError("disposed", "this ONNX model was disposed");
    const given = optionsObject("feeds", feeds) as Record<string, Tensor | IntTensor>;
    const values = new Map(this.initial);
    for (const name of Object.keys(given)) {
      if (!this.inputNames.includes(name) && !this.overridable.has(name)) {
        throw new RnnError("unexpected", `feed ${name} is not an input of this graph (inputs: ${this.inputNames.join(", ") || "none"})`);
      }
    }
    for (const info of this.graph.inputs) {
      const feed = given[info.name];
      if (feed === undefined) {
        if (values.has(info.name)) continue;
        throw new RnnError("missing", `feed ${info.name} is missing (inputs: ${this.inputNames.join(", ")})`);
      }
      values.set(info.name, feedValue(info, feed));
    }
    this.graph.nodes.forEach((node, k) => {
      const ins = node.inputs.map((n) => (n === "" ? null : values.get(n) ?? null));
      const outs = kernels[k].run(ins);
      node.outputs.forEach((n, j) => {
        if (n !== "" && outs[j]) values.set(n, outs[j]!);
      });
    });
    const result: Record<string, Tensor> = {};
    for (const name of this.outputNames) {
      const v = values.get(name);
      if (!v) throw new RnnError("missing", `graph output ${name} was not computed by any node`);
      result[name] = { shape: [...v.shape], data: v.kind === "float" ? v.data.slice() : Float32Array.from(v.data) };
    }
    return result;
  }

  /** Frees the wasm memory of the model's layers; safe to call twice; `run` afterwards throws RnnError('disposed'). */
  dispose(): void {
    const kernels = this.kernels;
    this.kernels = null;
    kernels?.forEach((k) => k.dispose());
  }

  /** Same as {@link OnnxModel.dispose}, for `using model = fromOnnx(bytes)`. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** A feed checked against its declared input and made a graph value. */
function feedValue(info: ValueInfoMsg, feed: Tensor | IntTensor): Value {
  const name = info.name;
  const data = (feed as { data?: unknown })?.data;
  const isInt = data instanceof Int32Array || data instanceof BigInt64Array;
  // an integer feed is checked as a Float32Array of its length would be (shape, sizes)
  const t = checkTensorData(name, isInt ? { shape: (feed as IntTensor).shape, data: new Float32Array((data as Int32Array).length) } : feed);
  if (info.dims) {
    const dims = info.dims;
    const fits = dims.length === t.shape.length && dims.every((d, k) => typeof d !== "number" || d === t.shape[k]);
    if (!fits) {
      throw new RnnError("shape", `feed ${name} has shape ${shapeText(t.shape)}, expected [${dims.map((d) => (d === null ? "?" : String(d))).join(", ")}]`);
    }
  }
  if (INT_TYPES.has(info.elemType)) {
    const src = isInt ? (feed as IntTensor).data : t.data;
    const out = Float64Array.from(src as ArrayLike<number>, Number);
    if (!isInt && !out.every((v) => Number.isInteger(v))) {
      throw new RnnError("dtype", `feed ${name} is an integer input (${DT_NAMES[info.elemType]}); its float32 values must be whole numbers`);
    }
    return intValue([...t.shape], out);
  }
  if (info.elemType !== 0 && !FLOAT_TYPES.has(info.elemType)) {
    throw new RnnError("dtype", `graph input ${name} has element type ${DT_NAMES[info.elemType] ?? info.elemType}, which rnn-wasm/onnx does not feed`);
  }
  if (isInt) throw new RnnError("dtype", `feed ${name} is a float input (${DT_NAMES[info.elemType] ?? "FLOAT"}); give a Float32Array, not integers`);
  return floatValue([...t.shape], t.data);
}

/**
 * Loads an ONNX model (the bytes of a `.onnx` file) for {@link OnnxModel.run}. The graph may use the recurrent
 * operators LSTM, GRU and RNN with every attribute of the spec; see docs/onnx.md for the list of operators.
 * Call `init()` from `rnn-wasm` first (the recurrent layers run on its runtime).
 *
 * @param bytes the file's bytes
 * @param options where the recurrent operators run; see {@link FromOnnxOptions}
 * @returns the model; dispose() it when done
 * @throws RnnError `format` for bytes that are not a well-formed ONNX model (naming the message and field) or a graph
 *   that uses a value before any node computes it, `unexpected` naming an unsupported operator and its node or an
 *   unknown attribute, `dtype` for tensors of types it does not read, `init` when the wasm is not loaded
 * @example
 * ```ts
 * import { init, tensor } from "rnn-wasm";
 * import { fromOnnx } from "rnn-wasm/onnx";
 * await init();
 * const model = fromOnnx(new Uint8Array(await (await fetch("lstm.onnx")).arrayBuffer()));
 * const { Y } = model.run({ X: tensor([6, 1, 2], x) });
 * model.dispose();
 * ```
 */
export function fromOnnx(bytes: Uint8Array | ArrayBuffer, options: FromOnnxOptions = {}): OnnxModel {
  return loadOnnx(bytes, options, false);
}

/** fromOnnx, and for tests: `onnxReference` runs every recurrent node on the plain-TypeScript ONNX path. */
export function loadOnnx(bytes: Uint8Array | ArrayBuffer, options: FromOnnxOptions, onnxReference: boolean): OnnxModel {
  const o = optionsObject("fromOnnx options", options) as FromOnnxOptions;
  knownKeys("fromOnnx", o, BACKEND_KEYS.filter((k) => k !== "seed"));
  if (!(bytes instanceof Uint8Array) && !(bytes instanceof ArrayBuffer)) {
    throw new RnnError("dtype", `fromOnnx takes the file's bytes as a Uint8Array or ArrayBuffer, got ${(bytes as object)?.constructor?.name ?? String(bytes)}`);
  }
  const model = readModel(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
  const g = model.graph;
  const opset = model.opsets.find((op) => op.domain === "" || op.domain === "ai.onnx")?.version ?? 0;
  const initial = new Map<string, Value>();
  for (const t of g.initializers) initial.set(t.name, tensorValue(t, `initializer ${t.name}`));
  const overridable = new Set(g.inputs.filter((v) => initial.has(v.name)).map((v) => v.name));
  const constants = new Map([...initial].filter(([name]) => !overridable.has(name)));

  const unsupported = g.nodes.map((n, k) => ({ n, k })).filter(({ n }) => !OPERATORS[operatorKey(n)]);
  if (unsupported.length > 0) {
    const list = unsupported.map(({ n, k }) => `${describeNode(n, k)}${n.domain && n.domain !== "ai.onnx" ? ` in domain ${n.domain}` : ""}`);
    throw new RnnError("unexpected", `ONNX operator${list.length > 1 ? "s" : ""} not supported by rnn-wasm/onnx: ${list.join(", ")} (supported: ${Object.keys(OPERATORS).sort().join(", ")})`);
  }
  const defined = new Set<string>([...initial.keys(), ...g.inputs.map((v) => v.name)]);
  const kernels: Kernel[] = [];
  try {
    g.nodes.forEach((node, k) => {
      const what = describeNode(node, k);
      for (const name of node.inputs) {
        if (name !== "" && !defined.has(name)) {
          throw new RnnError("format", `${what} reads ${name}, which no graph input, initializer or earlier node defines (nodes must be in topological order)`);
        }
      }
      kernels.push(OPERATORS[operatorKey(node)](node, { what, constants, backend: { backend: o.backend, runtime: o.runtime, nanPolicy: o.nanPolicy }, opset, onnxReference }));
      node.outputs.forEach((n) => n !== "" && defined.add(n));
    });
    for (const out of g.outputs) {
      if (!defined.has(out.name)) throw new RnnError("format", `graph output ${out.name} is not computed by any node`);
    }
  } catch (e) {
    kernels.forEach((k) => k.dispose());
    throw e;
  }
  return new OnnxModel(g, initial, overridable, kernels);
}
