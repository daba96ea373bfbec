// src/onnx/protobuf-wire.ts: the protobuf wire format, read with @bufbuild/protobuf's BinaryReader and written with
// its BinaryWriter (its `wire` subpath: no generated code, no eval or new Function, so it runs in Workers). This is
// the one module that imports
// the library; `npm run build:ts` replaces its compiled file, dist/src/onnx/protobuf-wire.js, with an esbuild bundle
// of it and the parts of the library it uses, and the Node bundle inlines it too, so the published package imports
// no dependency at runtime. Its declarations name no type of the library.
//
// Every read that runs past the end, or meets a varint or tag the format forbids, throws a plain Error from the
// library (or a RangeError from DataView); src/onnx/proto.ts turns those into RnnError('format').
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";

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

/** Writes one protobuf message field by field (toOnnx's files); nested messages through {@link WireWriter.message}. */
export class WireWriter {
  private readonly w = new BinaryWriter();

  /** An int32/int64/enum/bool field as a varint (a safe integer: negative values take ten bytes, as int64). */
  varint(field: number, value: number): this {
    this.w.tag(field, WireType.Varint).int64(value);
    return this;
  }

  /** A float field (fixed32, little-endian). */
  float(field: number, value: number): this {
    this.w.tag(field, WireType.Bit32).float(value);
    return this;
  }

  /** A string field (UTF-8). */
  string(field: number, value: string): this {
    this.w.tag(field, WireType.LengthDelimited).string(value);
    return this;
  }

  /** A bytes field. */
  bytes(field: number, value: Uint8Array): this {
    this.w.tag(field, WireType.LengthDelimited).bytes(value);
    return this;
  }

  /** A repeated int64 field, packed (one length-delimited run of varints). */
  packedVarints(field: number, values: readonly number[]): this {
    this.w.tag(field, WireType.LengthDelimited).fork();
    for (const v of values) this.w.int64(v);
    this.w.join();
    return this;
  }

  /** A nested message: `write` fills it, and it is written length-delimited under `field`. */
  message(field: number, write: (w: this) => void): this {
    this.w.tag(field, WireType.LengthDelimited).fork();
    write(this);
    this.w.join();
    return this;
  }

  /** The bytes written. */
  finish(): Uint8Array {
    return this.w.finish();
  }
}
