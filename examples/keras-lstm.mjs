// examples/keras-lstm.mjs: run a Keras 3 model with rnn-wasm/keras. examples/keras-lstm.keras is what Keras 3's
// model.save("keras-lstm.keras") writes for Sequential([Input((7, 3)), LSTM(8), Dense(2)]): a zip of config.json,
// metadata.json and model.weights.h5 (written in that format by scripts/make_keras_fixtures.mjs, Keras 3 not being
// installable here), and test/fixtures/keras/lstm_dense.json holds TensorFlow.js's predict on the same weights; our
// answer must be that within 1e-5.
import { readFileSync } from "node:fs";
import { init, maxAbsDiff, tensor } from "rnn-wasm";
import { fromKeras } from "rnn-wasm/keras";

const io = JSON.parse(readFileSync(new URL("../test/fixtures/keras/lstm_dense.json", import.meta.url), "utf8"));

// #region run
await init();
const model = fromKeras(readFileSync(new URL("keras-lstm.keras", import.meta.url))); // the .keras file's bytes
console.log(model.kerasVersion, model.layers.map((l) => l.className)); // 3.10.0 [ 'InputLayer', 'LSTM', 'Dense' ]

const y = model.predict(tensor([2, 7, 3], Float32Array.from(io.input))); // [batch, steps, features]
model.dispose();
// #endregion

const diff = maxAbsDiff(y.data, Float32Array.from(io.output));
console.log(`output ${JSON.stringify(y.shape)} ${JSON.stringify(Array.from(y.data, (v) => +v.toFixed(6)))}: max |ours - expected| = ${diff.toExponential(1)}`);
if (!(diff < 1e-5)) throw new Error(`the output differs from the expected one by ${diff}`);
