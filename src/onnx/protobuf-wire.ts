// src/onnx/protobuf-wire.ts: the protobuf wire format, read with @bufbuild/protobuf's BinaryReader (its `wire`
// subpath: no generated code, no eval or new Function, so it runs in Workers). This is the one module that imports
// the library; `npm run build:ts` replaces its compiled file, dist/src/onnx/protobuf-wire.js, with an esbuild bundle
// of it and the parts of the library it uses, and the Node bundle inlines it too, so the published package imports
// no dependency at runtime. Its declarations name no type of the library.
//
// Every read that runs past the end, or meets a varint or tag the format forbids, throws a plain Error from the
// library (or a RangeError from DataView); src/onnx/proto.ts turns those into RnnError('format').
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";

/** Wire types of a field's tag (the protobuf encoding spec's numbering). */
export const WIRE = { varint: WireType.Varint as number, fixed64: WireType.Bit64 as number, len: WireType.LengthDelimited as number, fixed32: WireType.Bit32 as number };

/** A cursor over one protobuf message's bytes. */
export class WireReader {
  private readonly r: BinaryReader;

  /** A reader over `bytes` (not copied). */
  constructor(bytes: Uint8Array) {
    this.r = new BinaryReader(bytes);
  }

  /** True when every byte has been read. */
  get done(): boolean {
    return this.r.pos >= this.r.len;
  }

  /** The next field's number and wire type. */
  tag(): [field: number, wire: number] {
    const [field, wire] = this.r.tag();
    return [field, wire];
  }

  /** A varint as a JavaScript number: int32/int64/enum/bool fields (int64 beyond 2^53 loses its low bits). */
  varint(): number {
    return Number(this.r.int64());
  }

  /** A little-endian float32 (fixed32 wire type). */
  float(): number {
    return this.r.float();
  }

  /** A little-endian float64 (fixed64 wire type). */
  double(): number {
    return this.r.double();
  }

  /** A length-delimited field's bytes (a view into the buffer, not a copy). */
  bytes(): Uint8Array {
    return this.r.bytes();
  }

  /** A length-delimited field as UTF-8 text (invalid sequences become U+FFFD). */
  string(): string {
    return this.r.string();
  }

  /** Skips a field of the given wire type. */
  skip(wire: number, field: number): void {
    this.r.skip(wire as WireType, field);
  }
}
