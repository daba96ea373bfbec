// Quantizing a trained model: an LSTM classifier of noisy sinusoids (4 frequencies, 24 steps, heavy noise) trained
// here, then quantize(model) of the whole Sequential: the LSTM int8, the Linear head float32. Prints the accuracy of
// both on 2000 sequences it never saw and how many predictions changed; exits 1 if int8 loses more than half a point
// (issue 14's target, which test/api/quantize-classify.test.ts holds on 4000 sequences, for LSTM and GRU).
import { init, Adam, crossEntropyLoss, LastStep, Linear, LSTM, mulberry32, quantize, Sequential, tensor } from "rnn-wasm";

await init();
const T = 24, CLASSES = 4;

/** n sequences [T, n, 1] and their classes: class c oscillates at 0.35 + 0.15c rad/step, with noise. */
function sequences(n, seed) {
  const random = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const x = tensor([T, n, 1]), y = [];
  for (let b = 0; b < n; b++) {
    const c = Math.floor(random() * CLASSES);
    const w = 0.35 + 0.15 * c + 0.05 * (random() - 0.5), phase = 2 * Math.PI * random(), amplitude = 0.5 + random();
    for (let t = 0; t < T; t++) x.data[t * n + b] = amplitude * Math.sin(w * t + phase) + 0.6 * gauss();
    y.push(c);
  }
  return { x, y };
}
const classOf = (logits) => Array.from({ length: logits.data.length / CLASSES }, (_, b) => {
  const row = logits.data.subarray(b * CLASSES, (b + 1) * CLASSES);
  return row.indexOf(Math.max(...row));
});

const model = new Sequential([
  new LSTM({ inputSize: 1, hiddenSize: 32, seed: 3 }),
  new LastStep(),
  new Linear({ inFeatures: 32, outFeatures: CLASSES, seed: 4 }),
]);
const optimizer = new Adam(model, { lr: 0.01 });
for (let step = 0; step < 300; step++) { // 300 batches of 64 fresh sequences
  const { x, y } = sequences(64, 100 + step);
  optimizer.zeroGrad();
  model.backward(crossEntropyLoss(model.forward(x, { train: true }), y).grad);
  optimizer.step();
}

// #region quantize-model
const test = sequences(2000, 1);
const int8 = quantize(model, { dtype: "int8" }); // the LSTM int8, the Linear head copied in float32
const floatClasses = classOf(model.forward(test.x));
const int8Classes = classOf(int8.forward(test.x)); // same input, same output shape: [2000, 4]
const accuracy = (classes) => (100 * classes.filter((c, b) => c === test.y[b]).length) / test.y.length;
const changed = int8Classes.filter((c, b) => c !== floatClasses[b]).length;
console.log(`float32 ${accuracy(floatClasses).toFixed(2)}%, int8 ${accuracy(int8Classes).toFixed(2)}% (${int8.modules[0].form}); ${changed} of 2000 predictions changed`);
// #endregion

const lost = accuracy(floatClasses) - accuracy(int8Classes);
int8.dispose();
optimizer.dispose();
model.dispose();
if (accuracy(floatClasses) < 85) throw new Error("the classifier did not learn the task");
if (Math.abs(lost) > 0.5) throw new Error(`int8 changed the accuracy by ${lost.toFixed(2)} points`);
