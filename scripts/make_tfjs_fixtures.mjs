// scripts/make_tfjs_fixtures.mjs: writes test/fixtures/tfjs/lstm/ with TensorFlow.js 4.22 (cpu backend; the root's
// devDependency): a model as tfjs's model.save writes it to files (model.json and weights.bin) and tfjs's own predict
// on a padded batch (io.json). The model: Masking(0) -> LSTM(16, recurrent_activation sigmoid) -> Dense(1), input
// [2, 10, 3] whose second row is 7 steps and 3 of padding. Deterministic (seeded weights and input):
//   node scripts/make_tfjs_fixtures.mjs
import { writeFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";

await tf.setBackend("cpu");
const OUT = new URL("../test/fixtures/tfjs/lstm/", import.meta.url);

/** mulberry32, as src/random.ts. */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = mulberry32(2026);
const uniform = (n, scale) => Float32Array.from({ length: n }, () => Math.fround((rand() * 2 - 1) * scale));

const model = tf.sequential();
model.add(tf.layers.masking({ maskValue: 0, inputShape: [null, 3] }));
model.add(tf.layers.lstm({ units: 16, recurrentActivation: "sigmoid" }));
model.add(tf.layers.dense({ units: 1 }));
model.setWeights(model.getWeights().map((w) => tf.tensor(uniform(w.size, 0.5), w.shape)));

const [B, T, F] = [2, 10, 3];
const x = uniform(B * T * F, 1);
x.fill(0, (1 * T + 7) * F, (1 * T + 10) * F); // row 1: 7 steps, then padding
const y = model.predict(tf.tensor(x, [B, T, F]));

await model.save(tf.io.withSaveHandler(async (a) => {
  const weights = Array.isArray(a.weightData) ? tf.io.concatenateArrayBuffers(a.weightData) : a.weightData;
  const modelJson = {
    modelTopology: a.modelTopology, format: a.format, generatedBy: a.generatedBy, convertedBy: a.convertedBy,
    weightsManifest: [{ paths: ["./weights.bin"], weights: a.weightSpecs }],
  };
  writeFileSync(new URL("model.json", OUT), JSON.stringify(modelJson));
  writeFileSync(new URL("weights.bin", OUT), new Uint8Array(weights));
  return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
}));
writeFileSync(new URL("io.json", OUT), JSON.stringify({ inputShape: [B, T, F], input: Array.from(x), outputShape: y.shape, output: Array.from(y.dataSync()) }) + "\n");
console.log(`wrote model.json, weights.bin, io.json to ${OUT.pathname}: output ${JSON.stringify(Array.from(y.dataSync()))}`);
