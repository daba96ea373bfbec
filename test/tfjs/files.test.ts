// test/tfjs/files.test.ts: the committed fixture (test/fixtures/tfjs/lstm: what tfjs's model.save wrote, and tfjs's
// predict; scripts/make_tfjs_fixtures.mjs) through fromTfjs, as it is and rewritten the way tensorflowjs_converter
// writes a Keras model (topology under model_config, Keras' weight names, an optimizer weight in the manifest); and
// malformed model.json files and short weight buffers, refused with RnnError naming what is wrong.
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { init, maxAbsDiff, RnnError, tensor } from "../../src/index.js";
import { fromTfjs } from "../../src/tfjs/index.js";

const DIR = new URL("../fixtures/tfjs/lstm/", import.meta.url);
const modelJson = () => JSON.parse(readFileSync(new URL("model.json", DIR), "utf8"));
const weights = readFileSync(new URL("weights.bin", DIR));
const io = JSON.parse(readFileSync(new URL("io.json", DIR), "utf8"));
const x = () => tensor(io.inputShape, Float32Array.from(io.input));

function rnnError(f: () => unknown): RnnError {
  try {
    f();
  } catch (e) {
    if (e instanceof RnnError) return e;
    throw e;
  }
  throw new Error("did not throw");
}

beforeAll(async () => {
  await init();
});

describe("a model saved by tfjs's model.save", () => {
  it.each(["auto", "typescript"] as const)("predicts tfjs's output within 1e-5 (path %s)", (path) => {
    const model = fromTfjs(modelJson(), weights, { path });
    expect(model.layers.map((l) => l.className)).toEqual(["Masking", "LSTM", "Dense"]);
    const y = model.predict(x());
    expect(y.shape).toEqual(io.outputShape);
    expect(maxAbsDiff(y.data, Float32Array.from(io.output))).toBeLessThan(1e-5);
    model.dispose();
    model.dispose();
    expect(rnnError(() => model.predict(x())).code).toBe("disposed");
  });

  it("as tensorflowjs_converter writes it: topology under model_config, an InputLayer, Keras' names, an optimizer weight skipped", () => {
    const json = modelJson();
    const specs = json.weightsManifest[0].weights as { name: string; shape: number[]; dtype: string }[];
    const rename: Record<string, string> = {};
    for (const s of specs) {
      const [layer, variable] = s.name.split("/");
      const keras = layer.startsWith("lstm") ? "lstm" : "dense";
      rename[layer] = keras;
      s.name = keras === "lstm" ? `sequential/lstm/lstm_cell/${variable}` : `dense/${variable}`;
    }
    for (const l of json.modelTopology.config.layers) l.config.name = rename[l.config.name] ?? l.config.name;
    // Keras 2's Sequential lists its InputLayer
    json.modelTopology.config.layers.unshift({ class_name: "InputLayer", config: { batch_input_shape: [null, null, 3], dtype: "float32", sparse: false, ragged: false, name: "input_1" } });
    const converted = {
      format: "layers-model", generatedBy: "keras v2.15.0", convertedBy: "TensorFlow.js Converter v4.22.0",
      modelTopology: { keras_version: "2.15.0", backend: "tensorflow", model_config: json.modelTopology },
      weightsManifest: [
        { paths: ["group1-shard1of1.bin"], weights: specs },
        { paths: ["group2-shard1of1.bin"], weights: [{ name: "optimizer/iter", shape: [], dtype: "int32" }] },
      ],
    };
    const bytes = new Uint8Array(weights.length + 4);
    bytes.set(weights);
    const model = fromTfjs(converted, bytes.buffer);
    expect(maxAbsDiff(model.predict(x()).data, Float32Array.from(io.output))).toBeLessThan(1e-5);
    model.dispose();
  });
});

describe("hard_sigmoid follows the file's Keras version", () => {
  it("Keras 2 and tfjs: clip(0.2x + 0.5, 0, 1); a converter file of Keras 3: clip(x/6 + 0.5, 0, 1)", () => {
    const linear = fromTfjs(modelJson(), weights);
    const z = linear.predict(x()).data; // the Dense's pre-activation (its activation is linear)
    linear.dispose();
    const run = (version: string | null) => {
      const json = modelJson();
      json.modelTopology.config.layers[2].config.activation = "hard_sigmoid";
      if (version) json.modelTopology = { keras_version: version, backend: "tensorflow", model_config: json.modelTopology };
      const model = fromTfjs(json, weights);
      const y = Array.from(model.predict(x()).data);
      model.dispose();
      return y;
    };
    const clip = (v: number) => Math.min(Math.max(v, 0), 1);
    const near = (got: number[], want: number[]) => expect(maxAbsDiff(Float32Array.from(got), Float32Array.from(want))).toBeLessThan(1e-6);
    near(run(null), Array.from(z, (v) => clip(0.2 * v + 0.5)));
    near(run("2.15.0"), Array.from(z, (v) => clip(0.2 * v + 0.5)));
    near(run("3.3.3"), Array.from(z, (v) => clip(v / 6 + 0.5)));
  });
});

describe("weights the converter quantized (--quantize_uint8 / --quantize_uint16)", () => {
  it.each([["uint8", 255], ["uint16", 65535]] as const)("%s weights are read as q * scale + min: the same output as their float32 values", (dtype, top) => {
    const json = modelJson(), quantized = modelJson();
    const specs = json.weightsManifest[0].weights as { name: string; shape: number[] }[];
    const floats = new Float32Array(weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.length));
    const qParts: Uint8Array[] = [], fParts: Float32Array[] = [];
    let at = 0;
    specs.forEach((spec, k) => {
      const n = spec.shape.reduce((a, b) => a * b, 1);
      const w = floats.subarray(at, at + n);
      at += n;
      const min = Math.min(...w), scale = (Math.max(...w) - min) / top || 1;
      const levels = Array.from(w, (v) => Math.round((v - min) / scale));
      const q = dtype === "uint8" ? Uint8Array.from(levels) : Uint16Array.from(levels);
      qParts.push(new Uint8Array(q.buffer));
      fParts.push(Float32Array.from(levels, (v) => v * scale + min));
      quantized.weightsManifest[0].weights[k].quantization = { dtype, scale, min };
    });
    const concat = (parts: ArrayBufferView[]) => Buffer.concat(parts.map((p) => new Uint8Array(p.buffer, p.byteOffset, p.byteLength)));
    const a = fromTfjs(quantized, concat(qParts)), b = fromTfjs(json, concat(fParts));
    expect(Array.from(a.predict(x()).data)).toEqual(Array.from(b.predict(x()).data));
    a.dispose();
    b.dispose();
  });
});

describe("malformed files", () => {
  it("a weight buffer too short names the first weight past its end (format)", () => {
    const e = rnnError(() => fromTfjs(modelJson(), weights.subarray(0, weights.length - 2)));
    expect(e.code).toBe("format");
    expect(e.message).toMatch(/dense_Dense\d+\/bias/);
    expect(rnnError(() => fromTfjs(modelJson(), new ArrayBuffer(0))).message).toMatch(/lstm_LSTM\d+\/kernel/);
  });

  it("a weight of the wrong shape is refused naming it (shape)", () => {
    const json = modelJson();
    json.weightsManifest[0].weights[2].shape = [4, 16]; // the LSTM's bias: same byte count, wrong shape
    json.weightsManifest[0].weights[2].shape = [64];
    json.modelTopology.config.layers[1].config.units = 8;
    const e = rnnError(() => fromTfjs(json, weights));
    expect(e.code).toBe("shape");
    expect(e.message).toMatch(/lstm_LSTM\d+\/kernel has shape \[3, 64\], expected \[3, 32\]/);
  });

  it("a missing weight, no topology, no manifest, an unknown layer class, an unknown option (format / unexpected)", () => {
    const noBias = modelJson();
    noBias.weightsManifest[0].weights = noBias.weightsManifest[0].weights.filter((w: { name: string }) => !w.name.endsWith("dense_Dense1/bias") && !/dense.*\/bias/.test(w.name));
    expect(rnnError(() => fromTfjs(noBias, weights)).message).toMatch(/no weight dense_Dense\d+\/bias/);
    expect(rnnError(() => fromTfjs({ weightsManifest: [] }, weights)).code).toBe("format");
    expect(rnnError(() => fromTfjs("model.json", weights)).code).toBe("format");
    const noManifest = modelJson();
    delete noManifest.weightsManifest;
    expect(rnnError(() => fromTfjs(noManifest, weights)).code).toBe("format");
    const conv = modelJson();
    conv.modelTopology.config.layers[2] = { class_name: "Conv1D", config: { name: "conv1d_1", filters: 4 } };
    const e = rnnError(() => fromTfjs(conv, weights));
    expect([e.code, e.message]).toEqual(["unexpected", expect.stringMatching(/layer conv1d_1 \(Conv1D\): layer class Conv1D is not supported/)]);
    const badSpec = modelJson();
    badSpec.weightsManifest[0].weights[0].shape = "3x64";
    expect(rnnError(() => fromTfjs(badSpec, weights)).code).toBe("format");
    expect(rnnError(() => fromTfjs(modelJson(), weights, { fast: true } as never)).code).toBe("unexpected");
    expect(rnnError(() => fromTfjs(modelJson(), [1, 2] as never)).code).toBe("dtype");
  });

  it("an input of the wrong shape (shape), or not a tensor (dtype)", () => {
    const model = fromTfjs(modelJson(), weights);
    expect(rnnError(() => model.predict(tensor([2, 10, 4]))).message).toMatch(/input has shape \[2, 10, 4\], expected \[batch, steps, 3\]/);
    expect(rnnError(() => model.predict({ shape: [1, 1, 3], data: [1, 2, 3] } as never)).code).toBe("dtype");
    model.dispose();
  });
});
