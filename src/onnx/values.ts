// src/onnx/values.ts: the values that flow along a graph's edges while it runs, and TensorProto -> value.
// Two kinds are enough for the operators here: float tensors (FLOAT, DOUBLE, FLOAT16, BFLOAT16 become float32, as
// the recurrent kernels compute in float32) and integer tensors (every integer and BOOL type; held as float64,
// exact to 2^53, which covers shapes, indices, lengths and INT64_MAX used as "to the end" by Slice).
import { RnnError } from "../errors.js";
import { numel } from "../tensor.js";
import { DT, DT_NAMES, type TensorMsg } from "./proto.js";

/** A tensor on an edge of the graph: float32 data, or integers. */
export type Value =
  | { kind: "float"; shape: number[]; data: Float32Array }
  | { kind: "int"; shape: number[]; data: Float64Array };

export const FLOAT_TYPES = new Set<number>([DT.FLOAT, DT.DOUBLE, DT.FLOAT16, DT.BFLOAT16]);
export const INT_TYPES = new Set<number>([DT.UINT8, DT.INT8, DT.UINT16, DT.INT16, DT.INT32, DT.INT64, DT.BOOL, DT.UINT32, DT.UINT64]);

export function floatValue(shape: number[], data: Float32Array): Value {
  return { kind: "float", shape, data };
}

export function intValue(shape: number[], data: Float64Array): Value {
  return { kind: "int", shape, data };
}

export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

function half(bits: number): number {
  const s = bits & 0x8000 ? -1 : 1;
  const e = (bits >> 10) & 0x1f;
  const f = bits & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** The little-endian raw_data of `t` as `count` elements of `bytesEach` bytes; RnnError('format') on a size mismatch. */
function rawView(t: TensorMsg, what: string, count: number, bytesEach: number): DataView {
  const raw = t.raw!;
  if (raw.length !== count * bytesEach) {
    throw new RnnError("format", `${what}: raw_data holds ${raw.length} bytes, but ${DT_NAMES[t.dataType]} ${shapeText(t.dims)} needs ${count * bytesEach}`);
  }
  return new DataView(raw.buffer, raw.byteOffset, raw.length);
}

function count(what: string, have: number, want: number, field: string): void {
  if (have !== want) throw new RnnError("format", `${what}: ${field} holds ${have} values, but its dims need ${want}`);
}

/** A TensorProto (an initializer or a Constant's value) as a graph value. */
export function tensorValue(t: TensorMsg, what: string): Value {
  if (t.external) throw new RnnError("format", `${what} keeps its data in an external file, which rnn-wasm/onnx does not read (save the model with its weights inside)`);
  if (!t.dims.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new RnnError("format", `${what} has invalid dims ${shapeText(t.dims)}`);
  const n = numel(t.dims);
  const shape = [...t.dims];
  const dt = t.dataType;
  // every size is checked against the data the file holds before anything is allocated, so dims cannot make us
  // allocate more than the file's own size implies
  if (FLOAT_TYPES.has(dt)) {
    const size = dt === DT.FLOAT ? 4 : dt === DT.DOUBLE ? 8 : 2;
    const v = t.raw ? rawView(t, what, n, size) : null;
    if (!t.raw) {
      const [field, have] = dt === DT.FLOAT ? ["float_data", t.floatData.length] : dt === DT.DOUBLE ? ["double_data", t.doubleData.length] : ["int32_data", t.int32Data.length];
      count(what, have, n, field);
    }
    const out = new Float32Array(n);
    if (v) {
      for (let k = 0; k < n; k++) {
        out[k] = dt === DT.FLOAT ? v.getFloat32(4 * k, true)
          : dt === DT.DOUBLE ? v.getFloat64(8 * k, true)
          : dt === DT.FLOAT16 ? half(v.getUint16(2 * k, true))
          : new Float32Array(new Uint32Array([v.getUint16(2 * k, true) << 16]).buffer)[0];
      }
    } else if (dt === DT.FLOAT) {
      out.set(t.floatData);
    } else if (dt === DT.DOUBLE) {
      out.set(t.doubleData);
    } else {
      for (let k = 0; k < n; k++) {
        const bits = t.int32Data[k] & 0xffff;
        out[k] = dt === DT.FLOAT16 ? half(bits) : new Float32Array(new Uint32Array([bits << 16]).buffer)[0];
      }
    }
    return floatValue(shape, out);
  }
  if (INT_TYPES.has(dt)) {
    const size = { [DT.UINT8]: 1, [DT.INT8]: 1, [DT.BOOL]: 1, [DT.UINT16]: 2, [DT.INT16]: 2, [DT.INT32]: 4, [DT.UINT32]: 4, [DT.INT64]: 8, [DT.UINT64]: 8 }[dt]!;
    const [field, data] = dt === DT.INT64 ? ["int64_data", t.int64Data] : dt === DT.UINT32 || dt === DT.UINT64 ? ["uint64_data", t.uint64Data] : ["int32_data", t.int32Data];
    const v = t.raw ? rawView(t, what, n, size) : null;
    if (!t.raw) count(what, data.length, n, field);
    const out = new Float64Array(n);
    if (v) {
      for (let k = 0; k < n; k++) {
        switch (dt) {
          case DT.UINT8: case DT.BOOL: out[k] = v.getUint8(k); break;
          case DT.INT8: out[k] = v.getInt8(k); break;
          case DT.UINT16: out[k] = v.getUint16(2 * k, true); break;
          case DT.INT16: out[k] = v.getInt16(2 * k, true); break;
          case DT.INT32: out[k] = v.getInt32(4 * k, true); break;
          case DT.UINT32: out[k] = v.getUint32(4 * k, true); break;
          case DT.INT64: out[k] = Number(v.getBigInt64(8 * k, true)); break;
          default: out[k] = Number(v.getBigUint64(8 * k, true));
        }
      }
    } else {
      out.set(data);
    }
    return intValue(shape, out);
  }
  throw new RnnError("dtype", `${what} has element type ${DT_NAMES[dt] ?? dt}; rnn-wasm/onnx reads float (FLOAT, DOUBLE, FLOAT16, BFLOAT16) and integer tensors`);
}
