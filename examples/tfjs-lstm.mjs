// examples/tfjs-lstm.mjs: run a TensorFlow.js model with rnn-wasm/tfjs. test/fixtures/tfjs/lstm/ holds what tfjs's
// model.save writes (model.json, weights.bin) for Masking -> LSTM(16) -> Dense(1), and tfjs's own predict on a
// padded batch (scripts/make_tfjs_fixtures.mjs); our answer must be tfjs's within 1e-5.
import { readFileSync } from "node:fs";
import { init, maxAbsDiff, tensor } from "rnn-wasm";
import { fromTfjs } from "rnn-wasm/tfjs";

const dir = new URL("../test/fixtures/tfjs/lstm/", import.meta.url);
const io = JSON.parse(readFileSync(new URL("io.json", dir), "utf8"));

// #region run
await init();
const modelJson = JSON.parse(readFileSync(new URL("model.json", dir), "utf8"));
// the weight files in weightsManifest order, concatenated (here one file)
const weights = Buffer.concat(modelJson.weightsManifest.flatMap((g) => g.paths).map((p) => readFileSync(new URL(p, dir))));
const model = fromTfjs(modelJson, weights);
console.log(model.layers.map((l) => l.className)); // [ 'Masking', 'LSTM', 'Dense' ]

// [batch, steps, features]: row 1 is 7 steps, then all-zero steps that Masking marks as padding
const y = model.predict(tensor([2, 10, 3], Float32Array.from(io.input)));
model.dispose();
// #endregion

const diff = maxAbsDiff(y.data, Float32Array.from(io.output));
console.log(`output ${JSON.stringify(y.shape)} ${JSON.stringify(Array.from(y.data, (v) => +v.toFixed(6)))}: max |ours - tfjs| = ${diff.toExponential(1)}`);
if (!(diff < 1e-5)) throw new Error(`the output differs from tfjs's predict by ${diff}`);
