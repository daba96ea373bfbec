// cli/src/onnx-inputs.ts: the input file of `run --model x.onnx`: a safetensors file with one tensor per graph input,
// named as the graph names it. Float tensors (F32, F16, BF16, F64) are read by the library's reader; integer inputs
// such as sequence_lens may also be stored as I32 or I64, which that reader refuses (a state_dict never holds them),
// so this file takes those entries out of the header first, reads them itself (bounds checked as the reader checks
// its own) and hands the rest, laid out again, to loadSafetensors. I8 and I16 tensors feed as integers too.
import type { Tensor } from "rnn-wasm";
import type { IntTensor } from "rnn-wasm/onnx";
import { CliError, parseSafetensorsFile, readFileBytes } from "./common.js";

/** A feed and the dtype the file stored it as. */
export interface OnnxFeed {
  tensor: Tensor | IntTensor;
  dtype: string;
}

const INT_BYTES: Record<string, number> = { I32: 4, I64: 8 };

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** The tensors of the safetensors file at `path`, by name, as feeds of an ONNX model. */
export function readOnnxInputs(path: string): Record<string, OnnxFeed> {
  const bytes = readFileBytes(path, "input");
  const fail = (why: string): never => {
    throw new CliError(`input file '${path}' is not a readable safetensors file: ${why}`);
  };
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  let header: Record<string, HeaderEntry> | null = null;
  if (8 + length <= bytes.length) {
    try {
      header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
    } catch {
      header = null; // the library's reader says what is wrong
    }
  }
  const ints = header && typeof header === "object" ? Object.entries(header).filter(([n, e]) => n !== "__metadata__" && e && INT_BYTES[e.dtype]) : [];
  const feeds: Record<string, OnnxFeed> = {};
  let floatBytes = bytes;
  if (ints.length > 0) {
    // the other entries' bytes, laid out again one after another, under a header without the integer entries
    const data = bytes.subarray(8 + length);
    const rest: Record<string, unknown> = {};
    const chunks: Uint8Array[] = [];
    let at = 0;
    for (const [name, e] of Object.entries(header!)) {
      if (name === "__metadata__") { rest[name] = e; continue; }
      const [begin, end] = Array.isArray(e?.data_offsets) ? e.data_offsets : [NaN, NaN];
      if (!(Number.isSafeInteger(begin) && Number.isSafeInteger(end) && begin >= 0 && begin <= end && end <= data.length)) {
        fail(`tensor '${name}': data_offsets ${JSON.stringify(e?.data_offsets)} lie outside the ${data.length} bytes of data`);
      }
      if (INT_BYTES[e.dtype]) {
        feeds[name] = { tensor: intTensor(name, e, data.subarray(begin, end), fail), dtype: e.dtype };
        continue;
      }
      rest[name] = { ...e, data_offsets: [at, at + end - begin] };
      chunks.push(data.subarray(begin, end));
      at += end - begin;
    }
    const head = new TextEncoder().encode(JSON.stringify(rest));
    floatBytes = new Uint8Array(8 + head.length + at);
    new DataView(floatBytes.buffer).setBigUint64(0, BigInt(head.length), true);
    floatBytes.set(head, 8);
    let put = 8 + head.length;
    for (const c of chunks) {
      floatBytes.set(c, put);
      put += c.length;
    }
  }
  const file = parseSafetensorsFile(floatBytes, path, "input");
  for (const [name, t] of Object.entries(file.tensors)) feeds[name] = { tensor: t, dtype: header?.[name]?.dtype ?? "F32" };
  for (const [name, t] of Object.entries(file.integers ?? {})) {
    feeds[name] = { tensor: { shape: t.shape, data: Int32Array.from(t.data) }, dtype: t.data instanceof Int8Array ? "I8" : "I16" };
  }
  return feeds;
}

/** An I32 or I64 entry's values. */
function intTensor(name: string, e: HeaderEntry, raw: Uint8Array, fail: (why: string) => never): IntTensor {
  const shape = e.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`tensor '${name}': shape ${JSON.stringify(shape)} is not a list of sizes`);
  const count = shape.reduce((a, b) => a * b, 1);
  const size = INT_BYTES[e.dtype];
  if (raw.length !== count * size) fail(`tensor '${name}' (${e.dtype} [${shape.join(", ")}]) needs ${count * size} bytes, its data_offsets give ${raw.length}`);
  const copy = new Uint8Array(raw); // a copy, aligned (a Buffer's slice() would share the file's memory)
  return e.dtype === "I32"
    ? { shape: [...shape], data: new Int32Array(copy.buffer, 0, count) }
    : { shape: [...shape], data: new BigInt64Array(copy.buffer, 0, count) };
}
