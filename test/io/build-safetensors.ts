// test/io/build-safetensors.ts: builds safetensors files byte by byte, independently of the writer under test,
// so reader tests can express exactly the (often malformed) file they need.

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The 8-byte little-endian u64 header length field. */
export function u64(n: number | bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  return out;
}

/**
 * A file from a header (an object to JSON-encode, or raw header text or bytes, written as given) and a data
 * buffer. `headerLength` overrides the length field to fake truncation or lies.
 */
export function buildFile(header: object | string | Uint8Array, data: Uint8Array = new Uint8Array(0), headerLength?: number | bigint): Uint8Array {
  const headerBytes =
    header instanceof Uint8Array ? header : new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  return concat(u64(headerLength ?? headerBytes.length), headerBytes, data);
}

/** Little-endian bytes of 16-bit words (F16 or BF16 bit patterns). */
export function u16Bytes(words: readonly number[]): Uint8Array {
  const out = new Uint8Array(2 * words.length);
  const view = new DataView(out.buffer);
  words.forEach((w, i) => view.setUint16(2 * i, w, true));
  return out;
}

/** Little-endian bytes of float32 values. */
export function f32Bytes(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(4 * values.length);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat32(4 * i, v, true));
  return out;
}

/** Little-endian bytes of 32-bit words (float32 bit patterns, so NaN payloads are exact). */
export function u32Bytes(words: readonly number[]): Uint8Array {
  const out = new Uint8Array(4 * words.length);
  const view = new DataView(out.buffer);
  words.forEach((w, i) => view.setUint32(4 * i, w, true));
  return out;
}

/** Little-endian bytes of float64 values. */
export function f64Bytes(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(8 * values.length);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat64(8 * i, v, true));
  return out;
}

/** The bit patterns of float32 data, for comparisons where NaN payloads and -0 must match. */
export function bitsOf(data: Float32Array): number[] {
  return Array.from(new Uint32Array(data.buffer, data.byteOffset, data.length));
}
