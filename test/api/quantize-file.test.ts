// test/api/quantize-file.test.ts: quantized models in safetensors files (src/quantized-file.ts):
//   - saveQuantized then loadQuantized gives the same bits as the model saved, for every kind (LSTM with projection,
//     stacked and bidirectional, GRU's two forms, relu and tanh RNN, cells), both dtypes, both forms, on the
//     reference backend and the wasm one, with h0/c0/lengths;
//   - the integers do not depend on where they were made: the reference and wasm quantizers, and the Q16 and Q8 forms,
//     write the same file; an int8 file runs in either form;
//   - the file (format version 2): PyTorch's names, the weights in the kernels' packed order (I8 for int8, I16 for
//     int12; they unpack to the model's integers), F32 scales and biases, the format's metadata; about a quarter of
//     the float32 state_dict's bytes for int8, half for int12; version 1 (PyTorch's shapes, row-major) still loads to
//     the same bits; loadQuantized keeps nothing of the bytes it was given;
//   - inconsistent files are refused with RnnError naming the tensor or metadata key: wrong shapes, scale counts,
//     dtypes, integers out of range or in the padding, negative scales, unknown or missing format and version, bad architecture
//     metadata, missing or unexpected tensors; NaN scales under nanPolicy 'error' ('nonfinite'), kept under 'propagate';
//   - a float32 Linear head beside the layer under metadata head_prefix (what `rnn-wasm quantize` keeps for serve):
//     read back, ignored by loadQuantized, refused where the metadata does not name it or it is malformed;
//   - fromTorch(tensors, { dtype }) is quantize(fromTorch(tensors)) with the float model freed.
import { beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  GRU, GRUCell, LSTM, LSTMCell, QuantizedCell, QuantizedLayer, RNNCell, RnnError, fromTorch, init, loadQuantized,
  loadSafetensors, quantize, readQuantized, saveQuantized, saveSafetensors, type IntTensor, type Kind,
  type LayerOptions, type RecurrentCell, type RecurrentLayer, type Runtime, type RnnErrorCode, type Tensor,
} from "../../src/index.js";
import { fileOrderShape } from "../../src/quant-layout.js";
import { createLayer } from "./helpers.js";
import { randomTensor, rng } from "../helpers/random.js";
import { runtimeFor } from "../helpers/runtimes.js";

interface Config {
  name: string;
  kind: Kind;
  options: Omit<LayerOptions, "runtime" | "backend">;
  T: number;
  B: number;
}

const CONFIGS: Config[] = [
  { name: "LSTM, 2 layers, bidirectional, projection", kind: "lstm", options: { inputSize: 13, hiddenSize: 37, numLayers: 2, bidirectional: true, projSize: 11 }, T: 9, B: 3 },
  { name: "LSTM, batch first, no bias", kind: "lstm", options: { inputSize: 5, hiddenSize: 19, batchFirst: true, bias: false }, T: 6, B: 2 },
  { name: "GRU, 2 layers", kind: "gru", options: { inputSize: 6, hiddenSize: 21, numLayers: 2 }, T: 7, B: 4 },
  { name: "GRU reset before, bidirectional, 2 layers", kind: "gru", options: { inputSize: 9, hiddenSize: 14, resetAfter: false, bidirectional: true, numLayers: 2 }, T: 5, B: 2 },
  { name: "RNN relu, 3 layers", kind: "rnn", options: { inputSize: 4, hiddenSize: 27, nonlinearity: "relu", numLayers: 3 }, T: 8, B: 3 },
  { name: "RNN tanh", kind: "rnn", options: { inputSize: 3, hiddenSize: 10 }, T: 11, B: 1 },
];

/** Where a round trip runs: the reference backend, or a wasm runtime, in a forced form. */
const PLACES = [
  { backend: "reference", form: "q16" },
  { backend: "reference", form: "q8" },
  { backend: "wasm", form: "q16" },
  { backend: "wasm", form: "q8" }, // the simd build computes Q8 without the relaxed dot-add: sound on every engine
] as const;

let rt: Runtime;

beforeAll(async () => {
  await init();
  rt = await runtimeFor("simd");
});

function inputsOf(c: Config, seed: number) {
  const next = rng(seed);
  const D = c.options.bidirectional ? 2 : 1, L = c.options.numLayers ?? 1;
  const P = c.options.projSize || c.options.hiddenSize;
  const x = randomTensor(c.options.batchFirst ? [c.B, c.T, c.options.inputSize] : [c.T, c.B, c.options.inputSize], next);
  const h0 = randomTensor([D * L, c.B, P], next, 0.5);
  const c0 = c.kind === "lstm" ? randomTensor([D * L, c.B, c.options.hiddenSize], next, 0.5) : undefined;
  const lengths = Array.from({ length: c.B }, (_, b) => (b === 0 ? c.T : 1 + Math.floor(next() * c.T)));
  return { x, h0, c0, lengths };
}

const bits = (t: Tensor | undefined) => (t ? Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length)) : []);

function expectCode(run: () => unknown, code: RnnErrorCode, message?: RegExp): void {
  let caught: unknown;
  try {
    run();
  } catch (e) {
    caught = e;
  }
  expect(caught, "should throw").toBeInstanceOf(RnnError);
  expect((caught as RnnError).code, (caught as Error).message).toBe(code);
  if (message) expect((caught as Error).message).toMatch(message);
}

describe("saveQuantized / loadQuantized: the same bits after a round trip", () => {
  it.each(CONFIGS.flatMap((c) => (["int8", "int12"] as const).flatMap((dtype) => PLACES.filter((p) => dtype === "int8" || p.form === "q16").map((p) => [c.name, dtype, p.backend, p.form, c] as const))))(
    "%s, %s, %s %s", (_, dtype, backend, form, c) => {
      const f = createLayer(c.kind, { ...c.options, seed: 7, backend: "reference" });
      const placed = { dtype, backend, form, ...(backend === "wasm" ? { runtime: rt } : {}) };
      const q = quantize(f, placed);
      const file = saveQuantized(q);
      const back = loadQuantized(file, { backend, form, ...(backend === "wasm" ? { runtime: rt } : {}) });
      expect(back).toBeInstanceOf(QuantizedLayer);
      const r = back as QuantizedLayer;
      expect([r.spec, r.dtype, r.form, r.backend]).toEqual([q.spec, q.dtype, q.form, q.backend]);
      const { x, h0, c0, lengths } = inputsOf(c, 3);
      for (const options of [{}, { h0, c0, ...(c.options.batchFirst ? {} : { lengths }) }]) {
        const a = q.forward(x, options), b = r.forward(x, options);
        expect(bits(b.output)).toEqual(bits(a.output));
        expect(bits(b.hN)).toEqual(bits(a.hN));
        expect(bits(b.cN)).toEqual(bits(a.cN));
      }
      expect(saveQuantized(r)).toEqual(file); // and it saves the same file again
      for (const m of [f, q, r]) m.dispose();
    });

  const CELLS: [string, () => RecurrentCell, number][] = [
    ["LSTMCell", () => new LSTMCell({ inputSize: 7, hiddenSize: 13, seed: 2, backend: "reference" }), 7],
    ["GRUCell", () => new GRUCell({ inputSize: 5, hiddenSize: 9, seed: 2, backend: "reference" }), 5],
    ["GRUCell reset before", () => new GRUCell({ inputSize: 5, hiddenSize: 9, resetAfter: false, seed: 2, backend: "reference" }), 5],
    ["RNNCell relu", () => new RNNCell({ inputSize: 6, hiddenSize: 11, nonlinearity: "relu", seed: 2, backend: "reference" }), 6],
  ];
  it.each(CELLS.flatMap(([name, make, I]) => (["int8", "int12"] as const).flatMap((dtype) => (["reference", "wasm"] as const).map((backend) => [name, dtype, backend, make, I] as const))))(
    "%s, %s, %s", (_, dtype, backend, make, I) => {
      const cell = make();
      const where = backend === "wasm" ? { backend, runtime: rt } : { backend };
      const q = quantize(cell, { dtype, ...where });
      const back = loadQuantized(saveQuantized(q), where);
      expect(back).toBeInstanceOf(QuantizedCell);
      const r = back as QuantizedCell;
      expect(r.spec).toEqual(q.spec);
      const next = rng(5);
      const x = randomTensor([3, I], next), h = randomTensor([3, cell.spec.hiddenSize], next, 0.5);
      const c = cell.spec.kind === "lstm" ? randomTensor([3, cell.spec.hiddenSize], next, 0.5) : undefined;
      const a = q.forward(x, { h, c }), b = r.forward(x, { h, c });
      expect(bits(b.h)).toEqual(bits(a.h));
      expect(bits(b.c)).toEqual(bits(a.c));
      for (const m of [cell, q, r]) m.dispose();
    });
});

describe("the file", () => {
  it("holds PyTorch's names, I8 or I16 weights in the packed order, F32 scales and biases, and the format's metadata", () => {
    const f = new LSTM({ inputSize: 6, hiddenSize: 8, numLayers: 2, bidirectional: true, projSize: 5, seed: 1 });
    for (const dtype of ["int8", "int12"] as const) {
      const q = quantize(f, { dtype });
      const file = loadSafetensors(saveQuantized(q, { source: "test" }));
      const state = f.toTorch();
      expect(Object.keys(file.integers).sort()).toEqual(Object.keys(state).filter((n) => n.startsWith("weight")).sort());
      for (const [name, t] of Object.entries(file.integers)) {
        // layer 1's weight_ih reads both directions of layer 0: one packed matrix, and one scale per row, for each
        // direction's columns (P = 5 each)
        const [rows, C] = state[name].shape, G = name.startsWith("weight_hr") ? 1 : 4, blocks = name.startsWith("weight_ih_l1") ? 2 : 1;
        const packed = fileOrderShape(G, rows / G, C / blocks);
        expect(t.shape, name).toEqual(blocks > 1 ? [2, ...packed] : packed);
        expect(t.data).toBeInstanceOf(dtype === "int8" ? Int8Array : Int16Array);
        expect(file.tensors[`${name}.scale`].shape, name).toEqual(blocks > 1 ? [2, rows] : [rows]);
      }
      // they unpack to the model's own integers and scales
      const held = q.quantizedWeights(), read = readQuantized(saveQuantized(q)).weights;
      held.forEach((runs, l) => runs.forEach((w, d) => {
        for (const [a, b] of [...w.wih.map((m, e) => [m, read[l][d].wih[e]]), [w.whh, read[l][d].whh], [w.whr!, read[l][d].whr!]]) {
          expect(Array.from(b.q)).toEqual(Array.from(a.q));
          expect(Array.from(b.scale)).toEqual(Array.from(a.scale));
        }
      }));
      for (const name of Object.keys(state).filter((n) => n.startsWith("bias"))) expect(Array.from(file.tensors[name].data)).toEqual(Array.from(state[name].data));
      expect(file.metadata).toEqual({
        source: "test", format: "rnn-wasm quantized", format_version: "2", dtype, kind: "lstm", cell: "false", input_size: "6",
        hidden_size: "8", num_layers: "2", bidirectional: "true", proj_size: "5", bias: "true", nonlinearity: "tanh",
        reset_after: "true", batch_first: "false",
      });
      expect(readQuantized(saveQuantized(q, { source: "test" })).metadata).toEqual({ source: "test" });
      q.dispose();
    }
    f.dispose();
  });

  it("dequantizes to within half a step of each float weight: q * scale", () => {
    const f = new LSTM({ inputSize: 10, hiddenSize: 12, seed: 4 });
    const q = quantize(f, { dtype: "int8" });
    const m = readQuantized(saveQuantized(q)).weights[0][0].whh;
    const w = f.toTorch().weight_hh_l0.data, qi = m.q, s = m.scale;
    for (let i = 0; i < w.length; i++) expect(Math.abs(qi[i] * s[Math.floor(i / 12)] - w[i])).toBeLessThanOrEqual(s[Math.floor(i / 12)] / 2 * 1.0001);
    q.dispose();
    f.dispose();
  });

  it("is the same file whichever backend and form quantized it; an int8 file runs in either form", () => {
    const f = new LSTM({ inputSize: 9, hiddenSize: 17, numLayers: 2, bidirectional: true, seed: 3, backend: "reference" });
    const files = PLACES.map((p) => {
      const q = quantize(f, { dtype: "int8", ...p, ...(p.backend === "wasm" ? { runtime: rt } : {}) });
      const file = saveQuantized(q);
      q.dispose();
      return file;
    });
    for (const file of files.slice(1)) expect(file).toEqual(files[0]);
    const x = randomTensor([5, 2, 9], rng(1));
    for (const form of ["q16", "q8"] as const) {
      const made = quantize(f, { dtype: "int8", form, runtime: rt, backend: "wasm" });
      const loaded = loadQuantized(files[0], { form, runtime: rt }) as QuantizedLayer;
      expect(bits(loaded.forward(x).output)).toEqual(bits(made.forward(x).output));
      made.dispose();
      loaded.dispose();
    }
    f.dispose();
  });

  it("is about a quarter of the float32 state_dict's bytes for int8, half for int12 (LSTM 64 -> 256)", () => {
    const f = new LSTM({ inputSize: 64, hiddenSize: 256, seed: 1 });
    const floatBytes = saveSafetensors(f.toTorch()).byteLength;
    const ratio = (dtype: "int8" | "int12") => {
      const q = quantize(f, { dtype });
      const n = saveQuantized(q).byteLength;
      q.dispose();
      return n / floatBytes;
    };
    const [r8, r12] = [ratio("int8"), ratio("int12")];
    // above a quarter (a half) by the float32 biases and one float32 scale per row: 4 * 2048 floats of 330,000 weights
    expect(r8).toBeGreaterThan(0.25);
    expect(r8).toBeLessThan(0.262);
    expect(r12).toBeGreaterThan(0.5);
    expect(r12).toBeLessThan(0.51);
    f.dispose();
  });

  it("loadQuantized keeps nothing of the bytes it read (it reads them through views): zeroing them after changes no bit", () => {
    const f = new LSTM({ inputSize: 9, hiddenSize: 12, numLayers: 2, bidirectional: true, seed: 5, backend: "reference" });
    const x = randomTensor([4, 2, 9], rng(8));
    for (const p of PLACES) {
      const where = { backend: p.backend, form: p.form, ...(p.backend === "wasm" ? { runtime: rt } : {}) };
      const q = quantize(f, { dtype: "int8", ...where });
      const bytes = saveQuantized(q);
      const r = loadQuantized(bytes, where) as QuantizedLayer;
      bytes.fill(0);
      expect(bits(r.forward(x).output), `${p.backend} ${p.form}`).toEqual(bits(q.forward(x).output));
      q.dispose();
      r.dispose();
    }
    f.dispose();
  });

  it("saveQuantized refuses a float model and the format's own metadata keys", () => {
    const f = new LSTM({ inputSize: 3, hiddenSize: 4, seed: 1 });
    expectCode(() => saveQuantized(f as never), "unexpected", /QuantizedLayer.*saveSafetensors/);
    const q = quantize(f, { dtype: "int8" });
    expectCode(() => saveQuantized(q, { dtype: "int4" }), "unexpected", /'dtype' belongs to the format/);
    q.dispose();
    expectCode(() => saveQuantized(q), "disposed");
    f.dispose();
  });
});

describe("inconsistent files", () => {
  // A 2-layer bidirectional LSTM with projection: every kind of tensor the format has.
  let good: Uint8Array;
  beforeAll(() => {
    const f = new LSTM({ inputSize: 5, hiddenSize: 6, numLayers: 2, bidirectional: true, projSize: 3, seed: 9 });
    const q = quantize(f, { dtype: "int8" });
    good = saveQuantized(q);
    q.dispose();
    f.dispose();
  });

  /** The good file with its tensors and metadata changed by `edit`. */
  function edited(edit: (t: Record<string, Tensor | IntTensor>, meta: Record<string, string>) => void): Uint8Array {
    const { tensors, integers, metadata } = loadSafetensors(good);
    const all: Record<string, Tensor | IntTensor> = { ...tensors, ...integers };
    edit(all, metadata);
    return saveSafetensors(all, metadata);
  }

  it("loads the good file", () => {
    (loadQuantized(good) as QuantizedLayer).dispose();
  });

  it.each([
    ["a weight with the wrong shape", (t: Record<string, Tensor | IntTensor>) => { t.weight_hh_l1 = { shape: [24, 2], data: new Int8Array(48) }; }, "format", /'weight_hh_l1' has shape \[24, 2\], expected \[4, 2, 8, 2\]/],
    ["a scale count that is not one per row", (t: Record<string, Tensor | IntTensor>) => { t["weight_hh_l0.scale"] = { shape: [23], data: new Float32Array(23) }; }, "format", /'weight_hh_l0.scale' has shape \[23\], expected \[24\]/],
    ["one scale per row where two are needed", (t: Record<string, Tensor | IntTensor>) => { t["weight_ih_l1_reverse.scale"] = { shape: [24], data: new Float32Array(24) }; }, "format", /'weight_ih_l1_reverse.scale' has shape \[24\], expected \[2, 24\]/],
    ["int12 weights in an int8 file", (t: Record<string, Tensor | IntTensor>) => { t.weight_hr_l0 = { shape: [3, 6], data: new Int16Array(18) }; }, "format", /'weight_hr_l0' is I16; a int8 file stores weights as I8/],
    ["float weights", (t: Record<string, Tensor | IntTensor>) => { t.weight_ih_l0 = { shape: [24, 5], data: new Float32Array(120) }; }, "format", /'weight_ih_l0' is a float tensor/],
    ["an integer out of range", (t: Record<string, Tensor | IntTensor>) => { (t.weight_hh_l0.data as Int8Array)[5] = -128; }, "format", /'weight_hh_l0' holds -128 at packed index 5, outside int8's range \[-127, 127\]/],
    // row 6 of the first gate block pads H = 6 to 8 rows; its first element is at 6 * 2
    ["an integer in the padding", (t: Record<string, Tensor | IntTensor>) => { (t.weight_hh_l0.data as Int8Array)[12] = 1; }, "format", /'weight_hh_l0' holds 1 at packed index 12, in the padding; padding is zero/],
    ["an integer in the padding of a second block", (t: Record<string, Tensor | IntTensor>) => { (t.weight_ih_l1.data as Int8Array)[4 * 2 * 16 + 12] = -3; }, "format", /'weight_ih_l1' holds -3 at packed index 140, in the padding/],
    ["a negative scale", (t: Record<string, Tensor | IntTensor>) => { t["weight_hh_l0.scale"].data[2] = -0.5; }, "format", /'weight_hh_l0.scale' holds -0.5 at index 2/],
    ["a NaN scale", (t: Record<string, Tensor | IntTensor>) => { t["weight_ih_l1.scale"].data[7] = NaN; }, "nonfinite", /'weight_ih_l1.scale' holds NaN at index 7.*nanPolicy/],
    ["an infinite bias", (t: Record<string, Tensor | IntTensor>) => { t.bias_hh_l1.data[0] = Infinity; }, "nonfinite", /'bias_hh_l1' holds Infinity/],
    ["a missing tensor", (t: Record<string, Tensor | IntTensor>) => { delete t.weight_hr_l1_reverse; }, "format", /missing tensor 'weight_hr_l1_reverse' \(I8 \[1, 3, 8, 2\]\)/],
    ["a missing scale", (t: Record<string, Tensor | IntTensor>) => { delete t["weight_hr_l1.scale"]; }, "format", /missing tensor 'weight_hr_l1.scale'/],
    ["an unexpected tensor", (t: Record<string, Tensor | IntTensor>) => { t["head.weight"] = { shape: [1], data: new Float32Array(1) }; }, "format", /unexpected tensor 'head.weight'/],
  ] as const)("refuses %s, naming the tensor", (_, edit, code, message) => {
    expectCode(() => loadQuantized(edited(edit)), code, message);
    expectCode(() => readQuantized(edited(edit)), code, message);
  });

  it.each([
    ["no format", (m: Record<string, string>) => { delete m.format; }, /no metadata 'format' \(a float32 state_dict loads with fromTorch/],
    ["another format", (m: Record<string, string>) => { m.format = "pt"; }, /metadata format is 'pt'/],
    ["an unknown version", (m: Record<string, string>) => { m.format_version = "3"; }, /format_version '3' is not one this version of rnn-wasm reads \(1, 2\)/],
    ["an unknown dtype", (m: Record<string, string>) => { m.dtype = "int4"; }, /dtype 'int4'/],
    ["an unknown kind", (m: Record<string, string>) => { m.kind = "transformer"; }, /kind 'transformer'/],
    ["a size that is not a number", (m: Record<string, string>) => { m.hidden_size = "6.5"; }, /hidden_size '6.5' is not a whole number/],
    ["a flag that is not true or false", (m: Record<string, string>) => { m.bidirectional = "yes"; }, /bidirectional 'yes'/],
    ["a size that disagrees with the tensors", (m: Record<string, string>) => { m.hidden_size = "7"; }, /'weight_ih_l0.scale' has shape \[24\], expected \[28\]/],
    ["an architecture no layer has", (m: Record<string, string>) => { m.num_layers = "0"; }, /describes no model this library builds/],
  ] as const)("refuses metadata with %s (format)", (_, edit, message) => {
    expectCode(() => loadQuantized(edited((_t, m) => edit(m))), "format", message);
  });

  it("keeps NaN scales under nanPolicy 'propagate': the rows they scale give NaN", () => {
    const file = edited((t) => { t["weight_hh_l0.scale"].data.fill(NaN); });
    const q = loadQuantized(file, { nanPolicy: "propagate" }) as QuantizedLayer;
    expect(Number.isNaN(q.forward(randomTensor([2, 1, 5], rng(2))).output.data[0])).toBe(true);
    q.dispose();
  });

  it("refuses a file that is not safetensors, and a float state_dict, with a format error", () => {
    expectCode(() => loadQuantized(good.subarray(0, 100)), "format", /safetensors: /);
    const f = new LSTM({ inputSize: 3, hiddenSize: 4, seed: 1 });
    expectCode(() => loadQuantized(saveSafetensors(f.toTorch())), "format", /no metadata 'format'/);
    f.dispose();
  });

  it("loads or throws RnnError for every byte flip of a file (never another error), and a refused file leaves no memory behind", async () => {
    const own = await runtimeFor("simd");
    const base = own.bytesInUse;
    let loaded = 0, refused = 0;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 3 }), (flips) => {
        const damaged = good.slice();
        for (const [at, mask] of flips) damaged[at % damaged.length] ^= mask;
        try {
          loadQuantized(damaged, { runtime: own, nanPolicy: "propagate" }).dispose();
          loaded++;
        } catch (e) {
          if (!(e instanceof RnnError)) throw e;
          refused++;
        }
        expect(own.bytesInUse).toBe(base);
      }),
      { numRuns: 300, seed: 20261205 },
    );
    expect(loaded + refused).toBe(300);
  });

  it("takes the wasm bytes quantize() takes, and frees them on dispose", async () => {
    const own = await runtimeFor("simd");
    const f = new LSTM({ inputSize: 5, hiddenSize: 6, numLayers: 2, bidirectional: true, projSize: 3, seed: 9, runtime: own });
    const q = quantize(f, { dtype: "int8", runtime: own, form: "q8" });
    const base = own.bytesInUse;
    const r = loadQuantized(saveQuantized(q), { runtime: own, form: "q8" });
    expect(own.bytesInUse - base).toBe(r.weightBytes);
    expect(r.weightBytes).toBe(q.weightBytes);
    r.dispose();
    r.dispose();
    expect(own.bytesInUse).toBe(base);
    expectCode(() => (r as QuantizedLayer).forward(randomTensor([2, 1, 5], rng(1))), "disposed");
    q.dispose();
    f.dispose();
  });

  it("refuses unknown options", () => {
    expectCode(() => loadQuantized(good, { dtype: "int8" } as never), "unexpected", /dtype/);
    expectCode(() => loadQuantized(good, { form: "q4" as never }), "unexpected", /form/);
  });
});

// `rnn-wasm quantize` keeps a model's Linear head beside the quantized layer (float32, under the prefix the metadata
// key head_prefix names) for `rnn-wasm serve`: readQuantized returns it, loadQuantized builds the layer alone, and
// tensors under a prefix the metadata does not name are still refused.
describe("a float32 head beside the layer", () => {
  let layerFile: Uint8Array;
  let headed: (prefix: string | undefined, extra?: Record<string, Tensor | IntTensor>) => Uint8Array;
  const weight: Tensor = { shape: [2, 6], data: Float32Array.from({ length: 12 }, (_, i) => i / 10 - 0.5) };
  const bias: Tensor = { shape: [2], data: Float32Array.of(0.25, -0.5) };
  beforeAll(() => {
    const f = new GRU({ inputSize: 4, hiddenSize: 6, seed: 3 });
    const q = quantize(f, { dtype: "int8" });
    layerFile = saveQuantized(q);
    q.dispose();
    f.dispose();
    headed = (prefix, extra = { "head.weight": weight, "head.bias": bias }) => {
      const { tensors, integers, metadata } = loadSafetensors(layerFile);
      return saveSafetensors({ ...tensors, ...integers, ...extra }, prefix === undefined ? metadata : { ...metadata, head_prefix: prefix });
    };
  });

  it("readQuantized returns the head; loadQuantized builds the same layer as without it", () => {
    const read = readQuantized(headed("head."));
    expect(read.head?.weight.shape).toEqual([2, 6]);
    expect(Array.from(read.head!.bias!.data)).toEqual([0.25, -0.5]);
    expect(readQuantized(layerFile).head).toBeNull();
    const x: Tensor = { shape: [3, 1, 4], data: Float32Array.from({ length: 12 }, (_, i) => Math.sin(i)) };
    const a = loadQuantized(headed("head.")) as QuantizedLayer, b = loadQuantized(layerFile) as QuantizedLayer;
    expect(bits(a.forward(x).output)).toEqual(bits(b.forward(x).output));
    a.dispose();
    b.dispose();
  });

  it("a head without a bias, and another prefix", () => {
    const read = readQuantized(headed("decoder.", { "decoder.weight": weight }));
    expect([read.head?.weight.shape, read.head?.bias]).toEqual([[2, 6], null]);
  });

  it.each([
    ["head tensors the metadata does not name", () => headed(undefined), /unexpected tensor 'head\.(weight|bias)'/],
    ["a head under another prefix than the metadata's", () => headed("decoder."), /unexpected tensor 'head\.(weight|bias)'/],
    ["a head stored as integers", () => headed("head.", { "head.weight": { shape: [2, 6], data: new Int8Array(12) } }), /the head's tensors under 'head\.' are stored as integers/],
    ["a head weight that is not a matrix", () => headed("head.", { "head.weight": { shape: [12], data: new Float32Array(12) } }), /'head\.weight' \(the head's weight\) has shape \[12\]/],
    ["a bias of the wrong length", () => headed("head.", { "head.weight": weight, "head.bias": { shape: [3], data: new Float32Array(3) } }), /'head\.bias' has shape \[3\]; expected \[2\]/],
  ])("refused: %s", (_name, file, message) => {
    expectCode(() => readQuantized(file()), "format", message);
  });
});

describe("fromTorch(tensors, { dtype })", () => {
  it("is quantize(fromTorch(tensors), { dtype }), the float model freed", async () => {
    const own = await runtimeFor("simd");
    const f = new LSTM({ inputSize: 7, hiddenSize: 15, numLayers: 2, seed: 5, runtime: own });
    const state = f.toTorch();
    const x = randomTensor([6, 2, 7], rng(4));
    for (const dtype of ["int8", "int12"] as const) {
      const want = quantize(f, { dtype, form: "q16", runtime: own });
      const before = own.bytesInUse;
      const q: QuantizedLayer | QuantizedCell = fromTorch(state, { dtype, form: "q16", runtime: own });
      expect(q).toBeInstanceOf(QuantizedLayer);
      expect(own.bytesInUse - before).toBe(q.weightBytes); // nothing of the float layer left
      expect(bits((q as QuantizedLayer).forward(x).output)).toEqual(bits(want.forward(x).output));
      want.dispose();
      q.dispose();
    }
    const float: RecurrentLayer | RecurrentCell = fromTorch(state); // without dtype: the float model's type
    float.dispose();
    const cell = fromTorch(new GRUCell({ inputSize: 3, hiddenSize: 5, seed: 1 }).toTorch(), { dtype: "int8" });
    expect(cell).toBeInstanceOf(QuantizedCell);
    cell.dispose();
    f.dispose();
  });

  it("a quantized file given to fromTorch says to use loadQuantized", () => {
    const f = new LSTM({ inputSize: 3, hiddenSize: 4, seed: 1 });
    const q = quantize(f, { dtype: "int8" });
    expectCode(() => fromTorch(loadSafetensors(saveQuantized(q)).tensors), "missing", /quantized model file: load it with loadQuantized/);
    q.dispose();
    f.dispose();
  });

  it("refuses an unknown dtype, and form without dtype", () => {
    const state = new LSTM({ inputSize: 3, hiddenSize: 4, seed: 1 }).toTorch();
    expectCode(() => fromTorch(state, { dtype: "int4" as never }), "unexpected", /dtype/);
    expectCode(() => fromTorch(state, { form: "q8" } as never), "unexpected", /form.*dtype/);
  });
});
