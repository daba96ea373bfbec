// src/onnx/export-proto.ts: the ONNX messages toOnnx writes (onnx.proto3's ModelProto, GraphProto, NodeProto,
// AttributeProto, TensorProto, ValueInfoProto and its type and shape), field numbers as in onnx.proto, encoded with
// protobuf-wire.ts's writer. Only what toOnnx needs: float32 tensors as raw_data (little-endian, as the spec
// requires), int64 tensors as int64_data, and the attribute types INT, FLOAT, STRING, INTS, STRINGS.
import { WireWriter } from "./protobuf-wire.js";
import { AT, DT } from "./proto.js";

/** An initializer: float32 values, or int64 ones (shapes, axes, indices). */
export type TensorOut =
  | { name: string; dims: number[]; float: Float32Array }
  | { name: string; dims: number[]; int64: number[] };

export type AttributeOut = { i: number } | { f: number } | { s: string } | { ints: number[] } | { strings: string[] };

export interface NodeOut {
  name: string;
  opType: string;
  /** "" for an optional input left out. */
  inputs: string[];
  outputs: string[];
  attributes: Record<string, AttributeOut>;
}

/** A graph input or output: element type (TensorProto.DataType) and dims, each a size or a symbolic name. */
export interface ValueOut {
  name: string;
  elemType: number;
  dims: (number | string)[];
}

export interface GraphOut {
  name: string;
  nodes: NodeOut[];
  initializers: TensorOut[];
  inputs: ValueOut[];
  outputs: ValueOut[];
}

export interface ModelOut {
  irVersion: number;
  opset: number;
  producerName: string;
  docString: string;
  graph: GraphOut;
}

function writeTensor(w: WireWriter, t: TensorOut): void {
  w.packedVarints(1, t.dims);
  if ("float" in t) {
    w.varint(2, DT.FLOAT).string(8, t.name);
    const raw = new Uint8Array(4 * t.float.length);
    const view = new DataView(raw.buffer);
    t.float.forEach((v, k) => view.setFloat32(4 * k, v, true));
    w.bytes(9, raw);
  } else {
    w.varint(2, DT.INT64).packedVarints(7, t.int64).string(8, t.name);
  }
}

function writeAttribute(w: WireWriter, name: string, a: AttributeOut): void {
  w.string(1, name);
  if ("i" in a) w.varint(3, a.i).varint(20, AT.INT);
  else if ("f" in a) w.float(2, a.f).varint(20, AT.FLOAT);
  else if ("s" in a) w.string(4, a.s).varint(20, AT.STRING);
  else if ("ints" in a) w.packedVarints(8, a.ints).varint(20, AT.INTS);
  else {
    for (const v of a.strings) w.string(9, v);
    w.varint(20, AT.STRINGS);
  }
}

function writeNode(w: WireWriter, n: NodeOut): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name).string(4, n.opType);
  for (const [name, a] of Object.entries(n.attributes)) w.message(5, (aw) => writeAttribute(aw, name, a));
}

function writeValue(w: WireWriter, v: ValueOut): void {
  w.string(1, v.name);
  // TypeProto.tensor_type { elem_type, shape { dim { dim_value | dim_param } } }
  w.message(2, (tp) => tp.message(1, (tt) => {
    tt.varint(1, v.elemType);
    tt.message(2, (sh) => {
      for (const d of v.dims) sh.message(1, (dim) => (typeof d === "number" ? dim.varint(1, d) : dim.string(2, d)));
    });
  }));
}

/** The bytes of a ModelProto: IR version, producer, the graph, and one opset import of the default domain. */
export function writeModelProto(m: ModelOut): Uint8Array {
  const w = new WireWriter();
  w.varint(1, m.irVersion).string(2, m.producerName).string(6, m.docString);
  w.message(7, (g) => {
    for (const n of m.graph.nodes) g.message(1, (nw) => writeNode(nw, n));
    g.string(2, m.graph.name);
    for (const t of m.graph.initializers) g.message(5, (tw) => writeTensor(tw, t));
    for (const v of m.graph.inputs) g.message(11, (vw) => writeValue(vw, v));
    for (const v of m.graph.outputs) g.message(12, (vw) => writeValue(vw, v));
  });
  w.message(8, (o) => o.string(1, "").varint(2, m.opset));
  return w.finish();
}
