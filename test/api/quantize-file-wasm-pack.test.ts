// test/api/quantize-file-wasm-pack.test.ts: loadQuantized on wasm puts a file's integers into wasm memory as they
// are: a version-2 file's packed order by one typed-array copy into the Q16 form or pairsToQ8 (assembly/quant-load.ts)
// into the Q8 form, a version-1 file's row-major integers by packIntQ16 / packIntQ8 (assembly/quant.ts); the range is
// checked on the way, in place of the JavaScript scan readQuantized runs. Here, on every build and in both forms:
//   - a file loads to the file's integers and scales exactly (saving the loaded model writes the same file: the engine
//     reads its packed block back), and one step (a cell; a layer's first step) computes the reference backend's result
//     within 1e-6 * (1 + |v|): the same integer products, float32 gate maths against the reference's float64 (sigmoid
//     and tanh within 1.2e-7: test/kernels/quant-steps.test.ts), except where a deeper layer's input, a few ulps
//     apart, rounds to the next quantization level (about 1/127 of its row's largest value times a weight: 2e-3 for
//     the layer). A wrong Q8 correction or scale is off by far more (64 * a row's sum times its scale);
//   - an integer out of range anywhere (int8's -128, int12's ±2048; the first matrix, a deeper layer's weight_ih whose
//     columns are split by direction, the projection) is refused as readQuantized refuses it: RnnError 'format' naming
//     the tensor and its index in the file's tensor, and no wasm memory is left behind;
//   - a version-1 file of the same model loads to the same bits as the version-2 file, and saves as it.
import { fileOrderShape, quantPackedIndex } from "../../src/quant-layout.js";
import { beforeAll, describe, expect, it } from "vitest";
import {
  LSTM, LSTMCell, RnnError, loadQuantized, loadSafetensors, quantize, readQuantized, saveQuantized, saveSafetensors,
  type IntTensor, type QuantizedCell, type QuantizedLayer, type Runtime, type Tensor,
} from "../../src/index.js";
import { randomTensor, rng } from "../helpers/random.js";
import { runtimesFor, type Runtimes } from "../helpers/runtimes.js";

/** Whether this engine's V8 computes the relaxed dot-add correctly from the first call (V8 >= 12: Node >= 22). */
const RELAXED_DOT_SOUND = Number(process.versions.v8.split(".")[0]) >= 12;

let rts: Runtimes;
let files: Record<"int8" | "int12", Uint8Array>;
let cellFile: Uint8Array;

beforeAll(async () => {
  rts = await runtimesFor();
  // a 2-layer bidirectional LSTM with projection: split weight_ih blocks, weight_hr, both directions
  const f = new LSTM({ inputSize: 7, hiddenSize: 13, numLayers: 2, bidirectional: true, projSize: 5, seed: 3, backend: "reference" });
  files = { int8: saveQuantized(quantize(f, { dtype: "int8", backend: "reference" })), int12: saveQuantized(quantize(f, { dtype: "int12", backend: "reference" })) };
  f.dispose();
  const c = new LSTMCell({ inputSize: 9, hiddenSize: 11, seed: 4, backend: "reference" });
  cellFile = saveQuantized(quantize(c, { dtype: "int8", backend: "reference" }));
  c.dispose();
});

/** max |a - b| / (1 + |b|) */
function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  return m;
}

/** `file` with `name`'s integer at `index` set to `value`. */
function withValue(file: Uint8Array, name: string, index: number, value: number): Uint8Array {
  const { tensors, integers, metadata } = loadSafetensors(file);
  (integers[name].data as Int8Array | Int16Array)[index] = value;
  return saveSafetensors({ ...tensors, ...integers } as Record<string, Tensor | IntTensor>, metadata);
}

/**
 * Where PyTorch's (row, col) of weight `name` of the test's LSTM (I = 7, H = 13, P = 5, 2 layers, bidirectional) sits
 * in the file's packed tensor: gate blocks padded to 16 rows, a deeper weight_ih's two column blocks one after the other.
 */
function packedIndex(name: string, row: number, col: number): number {
  const [G, R, C] = name.startsWith("weight_hr") ? [1, 5, 13] : name.startsWith("weight_ih_l0") ? [4, 13, 7] : name.startsWith("weight_ih") ? [4, 13, 5] : [4, 13, 5];
  const Rp = Math.ceil(R / 4) * 4, size = fileOrderShape(G, R, C).reduce((a, b) => a * b, 1);
  const n = Math.floor(row / R) * Rp + (row % R);
  return Math.floor(col / C) * size + quantPackedIndex("q16", n, col % C, C);
}

/** The version-1 file of a version-2 one: PyTorch's shapes, row-major, a deeper weight_ih's blocks side by side, scales [rows, blocks]. */
function version1(file: Uint8Array): Uint8Array {
  const { tensors, metadata } = loadSafetensors(file);
  const read = readQuantized(file);
  const out: Record<string, Tensor | IntTensor> = {};
  for (const [name, t] of Object.entries(tensors)) if (!name.endsWith(".scale")) out[name] = t;
  read.weights.forEach((runs, l) => runs.forEach((w, d) => {
    const suffix = `_l${l}${d ? "_reverse" : ""}`;
    for (const [role, blocks] of [["weight_ih", w.wih], ["weight_hh", [w.whh]], ["weight_hr", [w.whr!]]] as const) {
      const rows = blocks[0].scale.length, width = blocks[0].q.length / rows, C = width * blocks.length;
      const q = blocks[0].q instanceof Int8Array ? new Int8Array(rows * C) : new Int16Array(rows * C);
      const scale = new Float32Array(rows * blocks.length);
      blocks.forEach((b, e) => {
        for (let r = 0; r < rows; r++) {
          q.set(b.q.subarray(r * width, (r + 1) * width), r * C + e * width);
          scale[r * blocks.length + e] = b.scale[r];
        }
      });
      out[role + suffix] = { shape: [rows, C], data: q };
      out[`${role}${suffix}.scale`] = { shape: blocks.length > 1 ? [rows, blocks.length] : [rows], data: scale };
    }
  }));
  return saveSafetensors(out, { ...metadata, format_version: "1" });
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** The forms to load in on `build`: Q8 everywhere but the relaxed build on V8 < 12 (its relaxed dot-add is wrong at first). */
const formsOn = (build: string, dtype: "int8" | "int12") =>
  dtype === "int12" ? ["q16"] as const : build === "relaxed" && !RELAXED_DOT_SOUND ? ["q16"] as const : ["q16", "q8"] as const;

describe("loadQuantized on wasm (packIntQ16 / packIntQ8) against the reference backend", () => {
  it.each(["simd", "relaxed", "scalar"] as const)("%s: a layer file and a cell file hold the file's bits and compute the reference's step; version 1 gives the same bits", (build) => {
    const rt: Runtime = rts[build];
    for (const dtype of ["int8", "int12"] as const) {
      for (const form of formsOn(build, dtype)) {
        const x = randomTensor([1, 2, 7], rng(5));
        const wasm = loadQuantized(files[dtype], { runtime: rt, form }) as QuantizedLayer;
        const ref = loadQuantized(files[dtype], { backend: "reference", form }) as QuantizedLayer;
        expect(saveQuantized(wasm), `${build} ${dtype} ${form}: the packed block holds the file's integers and scales`).toEqual(files[dtype]);
        expect(maxRelDiff(wasm.forward(x).output.data, ref.forward(x).output.data), `${build} ${dtype} ${form}`).toBeLessThan(2e-3);
        const old = loadQuantized(version1(files[dtype]), { runtime: rt, form }) as QuantizedLayer;
        expect(bits(old.forward(x).output.data), `${build} ${dtype} ${form}: version 1`).toEqual(bits(wasm.forward(x).output.data));
        expect(saveQuantized(old)).toEqual(files[dtype]);
        old.dispose();
        wasm.dispose();
        ref.dispose();
      }
      if (dtype === "int12") continue;
      for (const form of formsOn(build, "int8")) {
        const x = randomTensor([3, 9], rng(6));
        const wasm = loadQuantized(cellFile, { runtime: rt, form }) as QuantizedCell;
        const ref = loadQuantized(cellFile, { backend: "reference", form }) as QuantizedCell;
        expect(saveQuantized(wasm), `${build} cell ${form}`).toEqual(cellFile);
        expect(maxRelDiff(wasm.forward(x).h.data, ref.forward(x).h.data), `${build} cell ${form}`).toBeLessThan(1e-6);
        wasm.dispose();
        ref.dispose();
      }
    }
  });
});

describe("an integer out of range is refused on wasm as readQuantized refuses it, leaving no memory behind", () => {
  // [tensor, PyTorch's row and column]: the first matrix, a deeper layer's split weight_ih (both column blocks), the
  // projection, the last element of a reverse direction's recurrent matrix
  const places: Array<[string, number, number]> = [
    ["weight_ih_l0", 0, 0], ["weight_ih_l0", 5, 5], ["weight_ih_l1", 0, 3], ["weight_ih_l1_reverse", 51, 9],
    ["weight_hr_l0", 1, 4], ["weight_hh_l1_reverse", 51, 4],
  ];
  it.each(["simd", "relaxed", "scalar"] as const)("%s", (build) => {
    const rt: Runtime = rts[build];
    const before = rt.bytesInUse;
    for (const dtype of ["int8", "int12"] as const) {
      const outside = dtype === "int8" ? [-128] : [2048, -2048];
      for (const [name, row, col] of places) {
        const index = packedIndex(name, row, col);
        for (const value of outside) {
          const file = withValue(files[dtype], name, index, value);
          const want = new RegExp(`tensor '${name}' holds ${value} at packed index ${index}, outside ${dtype}'s range`);
          expect(() => readQuantized(file)).toThrow(want);
          for (const form of formsOn(build, dtype)) {
            let caught: unknown;
            try {
              loadQuantized(file, { runtime: rt, form }).dispose();
            } catch (e) {
              caught = e;
            }
            expect(caught, `${build} ${dtype} ${form} ${name}[${index}] = ${value}`).toBeInstanceOf(RnnError);
            expect((caught as RnnError).code).toBe("format");
            expect((caught as Error).message).toMatch(want);
            expect(rt.bytesInUse).toBe(before);
          }
        }
      }
    }
  });
});
