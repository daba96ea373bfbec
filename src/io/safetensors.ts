// src/io/safetensors.ts: read and write the safetensors format (https://github.com/huggingface/safetensors).
// Layout of a file:
//   bytes [0, 8)        N, the header length, u64 little-endian
//   bytes [8, 8+N)      UTF-8 JSON object: { name: { dtype, shape, data_offsets: [begin, end] }, ..., __metadata__?: { k: "v" } }
//   bytes [8+N, end)    the data buffer; offsets are relative to its start, values little-endian, row-major
// The spec requires the data buffer to be covered exactly: no overlaps, no holes, no trailing bytes.
// Files come from anywhere, so every field is checked before it is used and every failure is an RnnError
// ("format" for a malformed file, "dtype" for a dtype we do not read) that names the tensor and the numbers.
import { RnnError } from "../errors.js";
import { numel, type Tensor } from "../tensor.js";

/** An integer tensor as a safetensors file stores it: I8 as Int8Array, I16 as Int16Array (quantized weights). */
export interface IntTensor {
  /** Dimensions, row-major. */
  shape: number[];
  /** The values: Int8Array for dtype I8, Int16Array for I16. */
  data: Int8Array | Int16Array;
}

/** What a safetensors file holds: float32 tensors by name, integer tensors by name, and the string metadata of `__metadata__`. */
export interface SafetensorsFile {
  /** Every floating-point tensor of the file (F32, F16, BF16, F64) by its name in the header, converted to float32. */
  tensors: Record<string, Tensor>;
  /** Every I8 and I16 tensor of the file by its name, as Int8Array / Int16Array (`{}` when the file has none). */
  integers: Record<string, IntTensor>;
  /** The strings of the header's `__metadata__` (`{}` when the file has none). */
  metadata: Record<string, string>;
}

/** One tensor entry of a header after validation; begin/end are byte offsets into the data buffer. */
interface Entry {
  name: string;
  dtype: ReadableDtype;
  shape: number[];
  begin: number;
  end: number;
}

/** Bytes per element of the dtypes we read: the floats (converted to float32) and the integers (kept as they are). */
const DTYPE_BYTES = { F32: 4, F16: 2, BF16: 2, F64: 8, I8: 1, I16: 2 } as const;
type ReadableDtype = keyof typeof DTYPE_BYTES;

/** Same bound as the official Rust reader: a larger header is a corrupt length, not a real model. */
const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = "__metadata__";

/** On little-endian hosts (all mainstream ones) f32 data is copied byte for byte; otherwise we swap per element. */
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Throws the "format" error of a malformed file; a declaration (not an arrow) so `never` narrows at call sites. */
function fail(message: string): never {
  throw new RnnError("format", `safetensors: ${message}`);
}
const quote = (name: string): string => JSON.stringify(name);
const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * Reads a safetensors file into float32 tensors (and integer ones).
 *
 * Reads dtypes F32, F16 and BF16 exactly (F16 subnormals, infinities and NaN payloads included), and F64 rounded
 * to the nearest float32 (values beyond the float32 range become ±Infinity), into `tensors`; I8 and I16 (the
 * weights of a quantized model, see {@link saveQuantized}) into `integers`, as they are. Every returned `data` is a fresh
 * copy, so the input may be dropped or reused and its alignment does not matter. Zero-element tensors are kept.
 *
 * @param bytes the whole file
 * @returns the tensors under their header names, and the `__metadata__` strings (`{}` when absent)
 * @throws RnnError "format" when the file is truncated or malformed, "dtype" for any other dtype (I64, I32, U8, BOOL, ...)
 * @example
 * ```ts
 * const { tensors, metadata } = loadSafetensors(readFileSync("model.safetensors"));
 * const lstm = fromTorch(tensors); // a state_dict saved with safetensors.torch.save_file
 * ```
 */
export function loadSafetensors(bytes: Uint8Array | ArrayBuffer): SafetensorsFile {
  return readSafetensors(bytes, false);
}

/**
 * loadSafetensors, where `views` may return views over `bytes` instead of copies: every I8 tensor, and every F32 or I16
 * one that sits aligned for its element type on a little-endian host (the others are copied as loadSafetensors copies
 * them). For a caller that copies what it needs before `bytes` can change, as loadQuantized does into wasm memory: the
 * file's bytes then go straight to their final place.
 *
 * @internal
 */
export function readSafetensors(bytes: Uint8Array | ArrayBuffer, views: boolean): SafetensorsFile {
  const file = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes;
  if (!(file instanceof Uint8Array)) fail("expected the file as a Uint8Array or ArrayBuffer");
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);

  if (file.byteLength < 8) fail(`file is ${file.byteLength} bytes, too short for the 8-byte header length`);
  const headerLength64 = view.getBigUint64(0, true);
  // Checking against the limit first keeps the conversion to number exact (the limit is far below 2^53).
  if (headerLength64 > BigInt(MAX_HEADER_BYTES)) {
    fail(`header length ${headerLength64} exceeds the limit of ${MAX_HEADER_BYTES} bytes`);
  }
  const headerLength = Number(headerLength64);
  if (8 + headerLength > file.byteLength) {
    fail(`header length ${headerLength} runs beyond the file: needs ${8 + headerLength} bytes, file has ${file.byteLength}`);
  }

  const header = parseHeader(file.subarray(8, 8 + headerLength));
  const dataStart = 8 + headerLength;
  const dataLength = file.byteLength - dataStart;
  const entries: Entry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(header)) {
    if (name === METADATA_KEY) metadata = checkMetadata(value);
    else entries.push(checkEntry(name, value, dataLength));
  }
  checkCoverage(entries, dataLength);

  // Object.fromEntries defines own properties, so a tensor named "__proto__" stays a tensor.
  const tensors = Object.fromEntries(
    entries.filter((e) => !isInteger(e.dtype)).map((e) => [e.name, { shape: e.shape, data: (views && floatView(e, file, dataStart)) || decode(e, file, view, dataStart) }]),
  );
  const integers = Object.fromEntries(
    entries.filter((e) => isInteger(e.dtype)).map((e) => [e.name, { shape: e.shape, data: (views && integerView(e, file, dataStart)) || decodeInteger(e, file, view, dataStart) }]),
  );
  return { tensors, integers, metadata };
}

function parseHeader(headerBytes: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    // ignoreBOM keeps a byte-order mark in the text, so JSON.parse rejects it as the spec's readers do.
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    return fail("header is not valid UTF-8");
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(header)) return fail("header must be a JSON object of tensor entries");
  return header;
}

function checkMetadata(value: unknown): Record<string, string> {
  if (!isPlainObject(value)) return fail(`${METADATA_KEY} must be an object of strings`);
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== "string") fail(`${METADATA_KEY} value ${quote(key)} must be a string, got ${JSON.stringify(v)}`);
  }
  return value as Record<string, string>;
}

/** Checks one header entry on its own: field types, dtype, and that its byte range fits and matches its shape. */
function checkEntry(name: string, value: unknown, dataLength: number): Entry {
  const where = `tensor ${quote(name)}`;
  if (!isPlainObject(value)) return fail(`${where}: entry must be an object with dtype, shape and data_offsets`);
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== "string") return fail(`${where}: dtype must be a string, got ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    return fail(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    return fail(`${where}: data_offsets must be [begin, end] of non-negative integers, got ${JSON.stringify(offsets)}`);
  }
  if (!Object.hasOwn(DTYPE_BYTES, dtype)) {
    throw new RnnError("dtype", `safetensors: ${where} has dtype ${dtype}; only F32, F16, BF16, F64, I8 and I16 can be read`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) fail(`${where}: data_offsets begin ${begin} is after end ${end}`);
  if (end > dataLength) fail(`${where}: data_offsets end ${end} is beyond the data buffer of ${dataLength} bytes`);
  const elementBytes = DTYPE_BYTES[dtype as ReadableDtype];
  const count = numel(shape);
  // A huge shape makes count inexact, but then it is far above any byte length here, so the mismatch still shows.
  if (end - begin !== count * elementBytes) {
    fail(`${where}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes, but ${dtype} shape [${shape.join(", ")}] needs ${count * elementBytes}`);
  }
  return { name, dtype: dtype as ReadableDtype, shape: [...shape], begin, end };
}

/** Checks that the entries tile the data buffer exactly. Header order is free, so we walk them sorted by offset. */
function checkCoverage(entries: readonly Entry[], dataLength: number): void {
  // Ties put zero-length entries first, so one sitting at another's start is not called an overlap.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0; // every byte before this offset belongs to exactly one tensor
  let previous: Entry | undefined;
  for (const e of sorted) {
    if (e.begin < covered && previous) {
      fail(`tensors ${quote(previous.name)} [${previous.begin}, ${previous.end}] and ${quote(e.name)} [${e.begin}, ${e.end}] overlap`);
    }
    if (e.begin > covered) {
      fail(`data buffer has a hole: bytes [${covered}, ${e.begin}) before tensor ${quote(e.name)} belong to no tensor`);
    }
    covered = e.end;
    previous = e;
  }
  if (covered !== dataLength) {
    fail(`data buffer has ${dataLength - covered} trailing bytes: tensors cover ${covered} of ${dataLength} bytes`);
  }
}

const isInteger = (dtype: ReadableDtype): dtype is "I8" | "I16" => dtype === "I8" || dtype === "I16";

/** An F32 tensor's data as a view over the file on a little-endian host where it is aligned, else null. */
function floatView(e: Entry, file: Uint8Array, dataStart: number): Float32Array | null {
  const at = file.byteOffset + dataStart + e.begin;
  return e.dtype === "F32" && HOST_IS_LITTLE_ENDIAN && at % 4 === 0 ? new Float32Array(file.buffer, at, (e.end - e.begin) / 4) : null;
}

/** An I8 tensor's data as a view over the file; an I16 one's on a little-endian host where it is aligned; else null. */
function integerView(e: Entry, file: Uint8Array, dataStart: number): Int8Array | Int16Array | null {
  const at = file.byteOffset + dataStart + e.begin, bytes = e.end - e.begin;
  if (e.dtype === "I8") return new Int8Array(file.buffer, at, bytes);
  return HOST_IS_LITTLE_ENDIAN && at % 2 === 0 ? new Int16Array(file.buffer, at, bytes / 2) : null;
}

/** One I8 or I16 tensor's bytes as a fresh Int8Array / Int16Array. */
function decodeInteger(e: Entry, file: Uint8Array, view: DataView, dataStart: number): Int8Array | Int16Array {
  const at = dataStart + e.begin;
  if (e.dtype === "I8") return new Int8Array(file.subarray(at, dataStart + e.end)); // copies
  const out = new Int16Array((e.end - e.begin) / 2);
  if (HOST_IS_LITTLE_ENDIAN) new Uint8Array(out.buffer).set(file.subarray(at, dataStart + e.end));
  else for (let i = 0; i < out.length; i++) out[i] = view.getInt16(at + 2 * i, true);
  return out;
}

/** Converts one tensor's bytes to a fresh Float32Array; bit patterns (NaN payloads, -0) survive where exact. */
function decode(e: Entry, file: Uint8Array, view: DataView, dataStart: number): Float32Array {
  const at = dataStart + e.begin;
  const count = (e.end - e.begin) / DTYPE_BYTES[e.dtype];
  const out = new Float32Array(count);
  if (e.dtype === "F32" && HOST_IS_LITTLE_ENDIAN) {
    // Copy into our own buffer: Node's Buffer.slice returns a view, so `file.slice` would not be a copy there.
    new Uint8Array(out.buffer).set(file.subarray(at, dataStart + e.end));
    return out;
  }
  const bits = new Uint32Array(out.buffer); // writing bits keeps NaN payloads that a float store could canonicalise
  switch (e.dtype) {
    case "F32":
      for (let i = 0; i < count; i++) bits[i] = view.getUint32(at + DTYPE_BYTES.F32 * i, true);
      break;
    case "F16":
      for (let i = 0; i < count; i++) bits[i] = f16ToF32Bits(view.getUint16(at + DTYPE_BYTES.F16 * i, true));
      break;
    case "BF16": // bfloat16 is the high half of a float32
      for (let i = 0; i < count; i++) bits[i] = view.getUint16(at + DTYPE_BYTES.BF16 * i, true) << 16;
      break;
    case "F64": // the Float32Array store rounds to nearest, ties to even
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(at + DTYPE_BYTES.F64 * i, true);
      break;
    default:
      throw new Error(`decode: ${e.dtype} is an integer dtype`);
  }
  return out;
}

/**
 * IEEE binary16 bits -> binary32 bits, exact for every input (binary32 holds every binary16 value).
 * Half: 1 sign, 5 exponent (bias 15), 10 mantissa bits. Single: 1, 8 (bias 127), 23.
 */
function f16ToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0x1f) return (sign | 0x7f800000 | (mantissa << 13)) >>> 0; // inf, or NaN with its payload
  if (exponent !== 0) return (sign | ((exponent + 127 - 15) << 23) | (mantissa << 13)) >>> 0;
  if (mantissa === 0) return sign >>> 0; // ±0
  // Subnormal half (mantissa * 2^-24) is a normal single: shift the leading 1 up to the implicit bit,
  // lowering the exponent once per shift. Start at the exponent of 2^-14, the smallest normal half.
  let m = mantissa;
  let e = 127 - 14;
  while ((m & 0x400) === 0) {
    m <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((m & 0x3ff) << 13)) >>> 0;
}

/**
 * Writes tensors as a safetensors file, laid out as the official writer does: tensors sorted by name with contiguous
 * offsets, and the JSON header padded with spaces so the data starts at a multiple of 8. Float32Array data is stored
 * as F32, Int8Array as I8 and Int16Array as I16 (a quantized model's weights: {@link saveQuantized}).
 *
 * @param tensors tensors by name, each data a Float32Array, Int8Array or Int16Array; names must be non-empty and not `__metadata__`
 * @param metadata strings stored under `__metadata__` (written only when non-empty)
 * @returns the whole file
 * @throws RnnError "dtype" when a tensor's data is not a Float32Array, Int8Array or Int16Array, "shape" when its shape is invalid or does
 *   not match its data length, "format" for a bad name or a non-string metadata value
 * @example
 * ```ts
 * writeFileSync("trained.safetensors", saveSafetensors(lstm.toTorch(), { epochs: "20" })); // load_file() reads it in Python
 * ```
 */
export function saveSafetensors(tensors: Record<string, Tensor | IntTensor>, metadata?: Record<string, string>): Uint8Array {
  if (!isPlainObject(tensors)) throw new RnnError("format", "saveSafetensors: tensors must be an object of tensors by name");
  const names = Object.keys(tensors).sort();
  for (const name of names) checkTensorToSave(name, tensors[name]);

  const header: [string, unknown][] = [];
  if (metadata !== undefined) {
    if (!isPlainObject(metadata)) throw new RnnError("format", "saveSafetensors: metadata must be an object of strings");
    for (const [key, v] of Object.entries(metadata)) {
      if (typeof v !== "string") throw new RnnError("format", `saveSafetensors: metadata value ${quote(key)} must be a string`);
    }
    if (Object.keys(metadata).length > 0) header.push([METADATA_KEY, metadata]);
  }
  let offset = 0;
  for (const name of names) {
    const { shape, data } = tensors[name];
    header.push([name, { dtype: storedDtype(data), shape, data_offsets: [offset, offset + data.byteLength] }]);
    offset += data.byteLength;
  }

  const json = new TextEncoder().encode(JSON.stringify(Object.fromEntries(header)));
  const headerLength = json.length + ((8 - ((8 + json.length) % 8)) % 8);
  const dataStart = 8 + headerLength;
  const file = new Uint8Array(dataStart + offset);
  const view = new DataView(file.buffer);
  view.setBigUint64(0, BigInt(headerLength), true);
  file.set(json, 8);
  file.fill(0x20, 8 + json.length, dataStart); // pad with spaces, which JSON ignores
  let at = dataStart;
  for (const name of names) {
    const { data } = tensors[name];
    if (HOST_IS_LITTLE_ENDIAN) file.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    else if (data instanceof Float32Array) {
      const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
      for (let i = 0; i < bits.length; i++) view.setUint32(at + DTYPE_BYTES.F32 * i, bits[i], true);
    } else if (data instanceof Int16Array) {
      for (let i = 0; i < data.length; i++) view.setInt16(at + 2 * i, data[i], true);
    } else file.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    at += data.byteLength;
  }
  return file;
}

function checkTensorToSave(name: string, t: unknown): void {
  if (name === "" || name === METADATA_KEY) {
    throw new RnnError("format", `saveSafetensors: tensor name ${quote(name)} is not allowed`);
  }
  const data = isPlainObject(t) ? t.data : undefined;
  if (!(data instanceof Float32Array || data instanceof Int8Array || data instanceof Int16Array)) {
    throw new RnnError("dtype", `saveSafetensors: tensor ${quote(name)} must be { shape, data: Float32Array } (or Int8Array, Int16Array)`);
  }
  const shape = (t as { shape: unknown }).shape;
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    throw new RnnError("shape", `saveSafetensors: tensor ${quote(name)} shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (data.length !== numel(shape)) {
    throw new RnnError("shape", `saveSafetensors: tensor ${quote(name)} has ${data.length} values but shape [${shape.join(", ")}] needs ${numel(shape)}`);
  }
}

/** The dtype a tensor's data is stored as. */
function storedDtype(data: Float32Array | Int8Array | Int16Array): "F32" | "I8" | "I16" {
  return data instanceof Float32Array ? "F32" : data instanceof Int8Array ? "I8" : "I16";
}
