// src/tfjs/weights.ts: the weights of a TensorFlow.js model: the manifest's entries laid over one buffer (the weight
// files concatenated in manifest order, as tfjs's loaders join them), each checked to lie inside it, and found by
// name. Names are `/`-separated paths: tfjs's model.save writes `lstm_LSTM1/kernel`,
// `bidirectional_Bidirectional1/forward_lstm_LSTM1/kernel`; tensorflowjs_converter writes Keras' names,
// `lstm/lstm_cell/kernel`, `sequential/lstm/kernel`, `bidirectional/forward_lstm/lstm_cell/kernel`. A layer's weight
// is the one whose path holds the layer's name as a segment and ends with the variable's name; entries no layer asks
// for (optimizer weights) are skipped without being read.
import { RnnError } from "../errors.js";

/** One entry of the manifest, with where its bytes are. */
interface Entry {
  name: string;
  /** The path's segments, the last one without a `:0` suffix. */
  segments: string[];
  shape: number[];
  dtype: string;
  offset: number;
  bytes: number;
  quantization: { dtype: string; scale?: number; min?: number } | null;
}

/** A weight read as float32, with its shape. */
export interface FoundWeight {
  name: string;
  shape: number[];
  data: Float32Array;
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export class WeightStore {
  private readonly entries: Entry[] = [];
  private readonly bytes: Uint8Array;

  /** `specs`: the manifest's entries in order; `buffer`: their bytes, concatenated. */
  constructor(specs: unknown[], buffer: ArrayBuffer | ArrayBufferView) {
    if (buffer instanceof ArrayBuffer) this.bytes = new Uint8Array(buffer);
    else if (ArrayBuffer.isView(buffer)) this.bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    else throw new RnnError("dtype", `weights must be an ArrayBuffer (the weight files concatenated in weightsManifest order), got ${(buffer as object)?.constructor?.name ?? String(buffer)}`);
    let offset = 0;
    specs.forEach((spec, k) => {
      if (!isRecord(spec) || typeof spec.name !== "string") throw new RnnError("format", `weightsManifest entry ${k} has no name`);
      const name = spec.name;
      const shape = spec.shape;
      if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
        throw new RnnError("format", `weight ${name}: shape ${JSON.stringify(shape)} is not a list of sizes`);
      }
      const q = isRecord(spec.quantization) ? spec.quantization as Entry["quantization"] : null;
      const dtype = typeof spec.dtype === "string" ? spec.dtype : "float32";
      const size = BYTES[q ? String(q!.dtype) : dtype];
      if (size === undefined) throw new RnnError("dtype", `weight ${name}: dtype ${q ? `${q!.dtype} (quantized)` : dtype} is not one a layers model stores (float32, int32, quantized uint8/uint16/float16)`);
      const count = (shape as number[]).reduce((a, d) => a * d, 1);
      const bytes = count * size;
      const segments = name.split("/");
      segments[segments.length - 1] = segments[segments.length - 1].replace(/:\d+$/, "");
      this.entries.push({ name, segments, shape: [...(shape as number[])], dtype, offset, bytes, quantization: q });
      offset += bytes;
    });
  }

  /** Bytes the manifest describes. */
  get manifestBytes(): number {
    const last = this.entries[this.entries.length - 1];
    return last ? last.offset + last.bytes : 0;
  }

  /**
   * The weight of layer `layerNames` (any of them, as a path segment) named `variable`; `part` ('forward_' or
   * 'backward_') picks a Bidirectional's half. RnnError('format') naming it when none or several match.
   */
  find(layerNames: string[], variable: string, part: string | null, what: string): FoundWeight {
    const hits = this.entries.filter((e) => {
      const path = e.segments.slice(0, -1);
      return e.segments[e.segments.length - 1] === variable && path.some((s) => layerNames.includes(s)) &&
        (part === null || path.some((s) => s.startsWith(part)));
    });
    const wanted = `${layerNames[0]}/${part ? `${part}.../` : ""}${variable}`;
    if (hits.length === 0) throw new RnnError("format", `${what}: the weights manifest has no weight ${wanted} (a path holding the layer's name and ending in ${variable})`);
    if (hits.length > 1) throw new RnnError("format", `${what}: several weights match ${wanted}: ${hits.map((h) => h.name).join(", ")}`);
    return this.read(hits[0], what);
  }

  private read(e: Entry, what: string): FoundWeight {
    if (e.offset + e.bytes > this.bytes.byteLength) {
      throw new RnnError("format", `${what}: weight ${e.name} needs bytes ${e.offset}..${e.offset + e.bytes} of the weights, which hold ${this.bytes.byteLength} bytes (the manifest describes ${this.manifestBytes}): a weight file is missing or short`);
    }
    const count = e.bytes / (BYTES[e.quantization ? e.quantization.dtype : e.dtype]);
    const src = this.bytes.slice(e.offset, e.offset + e.bytes).buffer; // aligned copy
    let data: Float32Array;
    if (e.quantization) {
      const { dtype, scale, min } = e.quantization;
      if (dtype === "float16") throw new RnnError("dtype", `${what}: weight ${e.name} is quantized to float16, which is not read yet (uint8 and uint16 are)`);
      if (typeof scale !== "number" || typeof min !== "number") throw new RnnError("format", `${what}: weight ${e.name} is quantized without scale and min`);
      const q = dtype === "uint8" ? new Uint8Array(src) : new Uint16Array(src);
      data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = q[i] * scale + min;
    } else if (e.dtype === "float32") {
      data = new Float32Array(src);
    } else {
      throw new RnnError("dtype", `${what}: weight ${e.name} is ${e.dtype}, expected float32`);
    }
    return { name: e.name, shape: e.shape, data };
  }
}

/** RnnError('shape') naming the weight unless its shape is `want`. */
export function checkWeightShape(w: FoundWeight, want: number[], what: string): Float32Array {
  if (w.shape.length !== want.length || w.shape.some((d, i) => d !== want[i])) {
    throw new RnnError("shape", `${what}: weight ${w.name} has shape [${w.shape.join(", ")}], expected [${want.join(", ")}]`);
  }
  return w.data;
}
