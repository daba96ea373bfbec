// src/onnx/proto.ts: the ONNX messages rnn-wasm/onnx reads (onnx.proto3: ModelProto, GraphProto, NodeProto,
// AttributeProto, TensorProto, ValueInfoProto and the type/shape messages), decoded field by field from the wire
// format. Fields we do not use are skipped; a field we use with the wrong wire type, a truncated message or a
// malformed varint is RnnError('format') naming the message and field. Subgraph attributes (If/Loop bodies) are
// not decoded (no operator here takes one), which also bounds the recursion depth of decoding by a constant.
import { RnnError } from "../errors.js";
import { WIRE, WireReader } from "./protobuf-wire.js";

/** TensorProto.DataType values (onnx.proto). */
export const DT = {
  FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9, FLOAT16: 10, DOUBLE: 11,
  UINT32: 12, UINT64: 13, BFLOAT16: 16,
} as const;

export const DT_NAMES: Record<number, string> = Object.fromEntries(Object.entries(DT).map(([k, v]) => [v, k]));

/** A TensorProto as stored: dims, element type and whichever data field holds its values. */
export interface TensorMsg {
  name: string;
  dims: number[];
  dataType: number;
  raw: Uint8Array | null;
  floatData: number[];
  int32Data: number[];
  int64Data: number[];
  doubleData: number[];
  uint64Data: number[];
  /** data_location = EXTERNAL or external_data present: the values live in another file. */
  external: boolean;
}

/** AttributeProto.AttributeType values. */
export const AT = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10 } as const;

export interface AttributeMsg {
  name: string;
  type: number;
  f: number;
  i: number;
  s: string;
  t: TensorMsg | null;
  floats: number[];
  ints: number[];
  strings: string[];
  /** True when the attribute holds a graph (g / graphs), which this reader does not decode. */
  graph: boolean;
}

export interface NodeMsg {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: AttributeMsg[];
}

/** A ValueInfoProto of a tensor: element type and dims (a number, a symbolic name, or null when unknown). */
export interface ValueInfoMsg {
  name: string;
  elemType: number;
  dims: (number | string | null)[] | null;
}

export interface GraphMsg {
  name: string;
  nodes: NodeMsg[];
  initializers: TensorMsg[];
  inputs: ValueInfoMsg[];
  outputs: ValueInfoMsg[];
}

export interface ModelMsg {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  opsets: { domain: string; version: number }[];
  graph: GraphMsg;
}

type FieldReader<T> = (msg: T, r: WireReader, field: number, wire: number) => boolean;

/** Reads a message field by field; `read` returns false for a field it does not use (skipped). */
function message<T>(what: string, bytes: Uint8Array, msg: T, read: FieldReader<T>): T {
  const r = new WireReader(bytes);
  while (!r.done) {
    let field = 0;
    try {
      const [f, wire] = r.tag();
      field = f;
      if (!read(msg, r, f, wire)) r.skip(wire, f);
    } catch (e) {
      if (e instanceof RnnError) throw e;
      const at = field ? ` field ${field}` : "";
      throw new RnnError("format", `ONNX file is malformed or truncated: ${what}${at}: ${(e as Error).message}`);
    }
  }
  return msg;
}

function expectWire(what: string, field: number, wire: number, want: number): void {
  if (wire !== want) {
    throw new RnnError("format", `ONNX file is malformed: ${what} field ${field} has wire type ${wire}, expected ${want}`);
  }
}

/** A repeated varint field, packed (one length-delimited run) or not (one value per tag). */
function varints(what: string, out: number[], r: WireReader, field: number, wire: number): void {
  if (wire === WIRE.len) {
    const p = new WireReader(r.bytes());
    while (!p.done) out.push(p.varint());
  } else {
    expectWire(what, field, wire, WIRE.varint);
    out.push(r.varint());
  }
}

function floats(what: string, out: number[], r: WireReader, field: number, wire: number): void {
  if (wire === WIRE.len) {
    const b = r.bytes();
    if (b.length % 4 !== 0) throw new RnnError("format", `ONNX file is malformed: ${what} field ${field} holds ${b.length} bytes of packed float32`);
    const v = new DataView(b.buffer, b.byteOffset, b.length);
    for (let k = 0; k < b.length; k += 4) out.push(v.getFloat32(k, true));
  } else {
    expectWire(what, field, wire, WIRE.fixed32);
    out.push(r.float());
  }
}

function doubles(what: string, out: number[], r: WireReader, field: number, wire: number): void {
  if (wire === WIRE.len) {
    const b = r.bytes();
    if (b.length % 8 !== 0) throw new RnnError("format", `ONNX file is malformed: ${what} field ${field} holds ${b.length} bytes of packed float64`);
    const v = new DataView(b.buffer, b.byteOffset, b.length);
    for (let k = 0; k < b.length; k += 8) out.push(v.getFloat64(k, true));
  } else {
    expectWire(what, field, wire, WIRE.fixed64);
    out.push(r.double());
  }
}

function str(what: string, r: WireReader, field: number, wire: number): string {
  expectWire(what, field, wire, WIRE.len);
  return r.string();
}

function int(what: string, r: WireReader, field: number, wire: number): number {
  expectWire(what, field, wire, WIRE.varint);
  return r.varint();
}

function sub(what: string, r: WireReader, field: number, wire: number): Uint8Array {
  expectWire(what, field, wire, WIRE.len);
  return r.bytes();
}

export function readTensor(bytes: Uint8Array): TensorMsg {
  const what = "TensorProto";
  return message<TensorMsg>(what, bytes, {
    name: "", dims: [], dataType: 0, raw: null, floatData: [], int32Data: [], int64Data: [], doubleData: [], uint64Data: [], external: false,
  }, (m, r, f, w) => {
    switch (f) {
      case 1: varints(what, m.dims, r, f, w); return true;
      case 2: m.dataType = int(what, r, f, w); return true;
      case 4: floats(what, m.floatData, r, f, w); return true;
      case 5: varints(what, m.int32Data, r, f, w); return true;
      case 7: varints(what, m.int64Data, r, f, w); return true;
      case 8: m.name = str(what, r, f, w); return true;
      case 9: m.raw = sub(what, r, f, w); return true;
      case 10: doubles(what, m.doubleData, r, f, w); return true;
      case 11: varints(what, m.uint64Data, r, f, w); return true;
      case 13: sub(what, r, f, w); m.external = true; return true;
      case 14: if (int(what, r, f, w) === 1) m.external = true; return true;
      default: return false;
    }
  });
}

function readAttribute(bytes: Uint8Array): AttributeMsg {
  const what = "AttributeProto";
  return message<AttributeMsg>(what, bytes, {
    name: "", type: 0, f: 0, i: 0, s: "", t: null, floats: [], ints: [], strings: [], graph: false,
  }, (m, r, f, w) => {
    switch (f) {
      case 1: m.name = str(what, r, f, w); return true;
      case 2: expectWire(what, f, w, WIRE.fixed32); m.f = r.float(); return true;
      case 3: m.i = int(what, r, f, w); return true;
      case 4: m.s = str(what, r, f, w); return true;
      case 5: m.t = readTensor(sub(what, r, f, w)); return true;
      case 6: case 11: sub(what, r, f, w); m.graph = true; return true;
      case 7: floats(what, m.floats, r, f, w); return true;
      case 8: varints(what, m.ints, r, f, w); return true;
      case 9: m.strings.push(str(what, r, f, w)); return true;
      case 20: m.type = int(what, r, f, w); return true;
      default: return false;
    }
  });
}

function readNode(bytes: Uint8Array): NodeMsg {
  const what = "NodeProto";
  return message<NodeMsg>(what, bytes, { name: "", opType: "", domain: "", inputs: [], outputs: [], attributes: [] }, (m, r, f, w) => {
    switch (f) {
      case 1: m.inputs.push(str(what, r, f, w)); return true;
      case 2: m.outputs.push(str(what, r, f, w)); return true;
      case 3: m.name = str(what, r, f, w); return true;
      case 4: m.opType = str(what, r, f, w); return true;
      case 5: m.attributes.push(readAttribute(sub(what, r, f, w))); return true;
      case 7: m.domain = str(what, r, f, w); return true;
      default: return false;
    }
  });
}

function readDim(bytes: Uint8Array): number | string | null {
  const what = "TensorShapeProto.Dimension";
  return message<{ d: number | string | null }>(what, bytes, { d: null }, (m, r, f, w) => {
    if (f === 1) m.d = int(what, r, f, w);
    else if (f === 2) m.d = str(what, r, f, w);
    else return false;
    return true;
  }).d;
}

function readShape(bytes: Uint8Array): (number | string | null)[] {
  const what = "TensorShapeProto";
  return message<{ dims: (number | string | null)[] }>(what, bytes, { dims: [] }, (m, r, f, w) => {
    if (f !== 1) return false;
    m.dims.push(readDim(sub(what, r, f, w)));
    return true;
  }).dims;
}

function readTensorType(bytes: Uint8Array): { elemType: number; dims: (number | string | null)[] | null } {
  const what = "TypeProto.Tensor";
  return message<{ elemType: number; dims: (number | string | null)[] | null }>(what, bytes, { elemType: 0, dims: null }, (m, r, f, w) => {
    if (f === 1) m.elemType = int(what, r, f, w);
    else if (f === 2) m.dims = readShape(sub(what, r, f, w));
    else return false;
    return true;
  });
}

function readValueInfo(bytes: Uint8Array): ValueInfoMsg {
  const what = "ValueInfoProto";
  return message<ValueInfoMsg>(what, bytes, { name: "", elemType: 0, dims: null }, (m, r, f, w) => {
    if (f === 1) m.name = str(what, r, f, w);
    else if (f === 2) {
      // TypeProto: only tensor_type (field 1) is read; a sequence or map type leaves elemType 0
      message<ValueInfoMsg>("TypeProto", sub(what, r, f, w), m, (mm, rr, ff, ww) => {
        if (ff !== 1) return false;
        Object.assign(mm, readTensorType(sub("TypeProto", rr, ff, ww)));
        return true;
      });
    } else return false;
    return true;
  });
}

function readGraph(bytes: Uint8Array): GraphMsg {
  const what = "GraphProto";
  return message<GraphMsg>(what, bytes, { name: "", nodes: [], initializers: [], inputs: [], outputs: [] }, (m, r, f, w) => {
    switch (f) {
      case 1: m.nodes.push(readNode(sub(what, r, f, w))); return true;
      case 2: m.name = str(what, r, f, w); return true;
      case 5: m.initializers.push(readTensor(sub(what, r, f, w))); return true;
      case 11: m.inputs.push(readValueInfo(sub(what, r, f, w))); return true;
      case 12: m.outputs.push(readValueInfo(sub(what, r, f, w))); return true;
      case 15: throw new RnnError("format", "ONNX graph has a sparse initializer, which rnn-wasm/onnx does not read");
      default: return false;
    }
  });
}

/** Decodes a ModelProto; RnnError('format') when the bytes are not one or it has no graph. */
export function readModel(bytes: Uint8Array): ModelMsg {
  const what = "ModelProto";
  let graph: GraphMsg | null = null;
  const m = message<Omit<ModelMsg, "graph">>(what, bytes, { irVersion: 0, producerName: "", producerVersion: "", opsets: [] }, (mm, r, f, w) => {
    switch (f) {
      case 1: mm.irVersion = int(what, r, f, w); return true;
      case 2: mm.producerName = str(what, r, f, w); return true;
      case 3: mm.producerVersion = str(what, r, f, w); return true;
      case 7: graph = readGraph(sub(what, r, f, w)); return true;
      case 8: {
        const o = message<{ domain: string; version: number }>("OperatorSetIdProto", sub(what, r, f, w), { domain: "", version: 0 }, (oo, rr, ff, ww) => {
          if (ff === 1) oo.domain = str("OperatorSetIdProto", rr, ff, ww);
          else if (ff === 2) oo.version = int("OperatorSetIdProto", rr, ff, ww);
          else return false;
          return true;
        });
        mm.opsets.push(o);
        return true;
      }
      default: return false;
    }
  });
  if (graph === null) throw new RnnError("format", `ONNX file has no graph (ModelProto field 7): is it an ONNX model? (${bytes.length} bytes read)`);
  return { ...m, graph };
}
