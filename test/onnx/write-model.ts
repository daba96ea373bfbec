// test/onnx/write-model.ts: ONNX models written in tests (with @bufbuild/protobuf's BinaryWriter, a devDependency),
// for graphs the fixtures do not hold: unsupported operators, wrong shapes, external data, odd encodings.
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";

export type Attr =
  | { i: number } | { f: number } | { s: string } | { ints: number[] } | { floats: number[] } | { strings: string[] } | { t: TensorSpec };

export interface TensorSpec {
  name?: string;
  dims: number[];
  /** TensorProto.DataType; default FLOAT. */
  dataType?: number;
  /** float_data (FLOAT), unless raw is given. */
  floats?: number[];
  /** int64_data (INT64) or int32_data (other integer types). */
  ints?: number[];
  raw?: Uint8Array;
  external?: boolean;
}

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attrs?: Record<string, Attr>;
}

export interface ValueSpec {
  name: string;
  /** Default FLOAT (1). */
  elemType?: number;
  dims?: (number | string)[];
}

export interface ModelSpec {
  nodes: NodeSpec[];
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  initializers?: TensorSpec[];
  opset?: number;
}

function sub(w: BinaryWriter, field: number, write: (w: BinaryWriter) => void): void {
  w.tag(field, WireType.LengthDelimited).fork();
  write(w);
  w.join();
}

export function writeTensor(w: BinaryWriter, t: TensorSpec): void {
  const dt = t.dataType ?? 1;
  for (const d of t.dims) w.tag(1, WireType.Varint).int64(d);
  w.tag(2, WireType.Varint).int32(dt);
  if (t.name) w.tag(8, WireType.LengthDelimited).string(t.name);
  if (t.raw) w.tag(9, WireType.LengthDelimited).bytes(t.raw);
  if (t.floats) {
    sub(w, 4, (p) => t.floats!.forEach((v) => p.float(v)));
  }
  if (t.ints) {
    if (dt === 7) sub(w, 7, (p) => t.ints!.forEach((v) => p.int64(v)));
    else sub(w, 5, (p) => t.ints!.forEach((v) => p.int32(v)));
  }
  if (t.external) {
    sub(w, 13, (p) => { p.tag(1, WireType.LengthDelimited).string("location"); p.tag(2, WireType.LengthDelimited).string("weights.bin"); });
    w.tag(14, WireType.Varint).int32(1);
  }
}

function writeAttr(w: BinaryWriter, name: string, a: Attr): void {
  w.tag(1, WireType.LengthDelimited).string(name);
  if ("i" in a) w.tag(3, WireType.Varint).int64(a.i).tag(20, WireType.Varint).int32(2);
  else if ("f" in a) w.tag(2, WireType.Bit32).float(a.f).tag(20, WireType.Varint).int32(1);
  else if ("s" in a) w.tag(4, WireType.LengthDelimited).string(a.s).tag(20, WireType.Varint).int32(3);
  else if ("t" in a) { sub(w, 5, (p) => writeTensor(p, a.t)); w.tag(20, WireType.Varint).int32(4); }
  else if ("floats" in a) { a.floats.forEach((v) => w.tag(7, WireType.Bit32).float(v)); w.tag(20, WireType.Varint).int32(6); }
  else if ("ints" in a) { sub(w, 8, (p) => a.ints.forEach((v) => p.int64(v))); w.tag(20, WireType.Varint).int32(7); }
  else { a.strings.forEach((v) => w.tag(9, WireType.LengthDelimited).string(v)); w.tag(20, WireType.Varint).int32(8); }
}

function writeValue(w: BinaryWriter, v: ValueSpec): void {
  w.tag(1, WireType.LengthDelimited).string(v.name);
  sub(w, 2, (tp) => sub(tp, 1, (tt) => {
    tt.tag(1, WireType.Varint).int32(v.elemType ?? 1);
    if (v.dims) {
      sub(tt, 2, (sh) => v.dims!.forEach((d) => sub(sh, 1, (dim) => {
        if (typeof d === "number") dim.tag(1, WireType.Varint).int64(d);
        else dim.tag(2, WireType.LengthDelimited).string(d);
      })));
    }
  }));
}

/** The bytes of an ONNX ModelProto. */
export function writeModel(m: ModelSpec): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, WireType.Varint).int64(8);
  w.tag(2, WireType.LengthDelimited).string("rnn-wasm test");
  sub(w, 7, (g) => {
    for (const n of m.nodes) {
      sub(g, 1, (nw) => {
        n.inputs.forEach((i) => nw.tag(1, WireType.LengthDelimited).string(i));
        n.outputs.forEach((o) => nw.tag(2, WireType.LengthDelimited).string(o));
        if (n.name) nw.tag(3, WireType.LengthDelimited).string(n.name);
        nw.tag(4, WireType.LengthDelimited).string(n.op);
        for (const [k, a] of Object.entries(n.attrs ?? {})) sub(nw, 5, (aw) => writeAttr(aw, k, a));
        if (n.domain) nw.tag(7, WireType.LengthDelimited).string(n.domain);
      });
    }
    g.tag(2, WireType.LengthDelimited).string("test");
    for (const t of m.initializers ?? []) sub(g, 5, (tw) => writeTensor(tw, t));
    for (const v of m.inputs) sub(g, 11, (vw) => writeValue(vw, v));
    for (const v of m.outputs) sub(g, 12, (vw) => writeValue(vw, v));
  });
  sub(w, 8, (o) => o.tag(2, WireType.Varint).int64(m.opset ?? 14));
  return w.finish();
}
