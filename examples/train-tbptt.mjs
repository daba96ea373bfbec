// Truncated backpropagation through time: a long sequence is trained in chunks. The state runs on from one chunk
// to the next (stream: true), while gradients stop at each chunk's start, so memory and time per step depend on
// the chunk's length, not the sequence's. The task: output the input of 3 steps earlier, which needs memory that
// crosses chunk boundaries.
import { init, Adam, Linear, LSTM, mseLoss, Sequential, tensor } from "rnn-wasm";

await init();
const B = 16, LENGTH = 400, CHUNK = 20, DELAY = 3;
const model = new Sequential([
  new LSTM({ inputSize: 1, hiddenSize: 32, seed: 3 }), // [T, B, 1] -> [T, B, 32]
  new Linear({ inFeatures: 32, outFeatures: 1, seed: 4 }), // applied at every step: -> [T, B, 1]
]);
const optimizer = new Adam(model, { lr: 0.005 });

let seed = 11;
const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;

let last = NaN;
// #region tbptt
for (let epoch = 1; epoch <= 8; epoch++) {
  // B long sequences of noise in [-1, 1), time-major [LENGTH, B, 1]; the target is the input DELAY steps back.
  const x = Float32Array.from({ length: LENGTH * B }, () => 2 * random() - 1);
  const y = new Float32Array(LENGTH * B);
  y.set(x.subarray(0, (LENGTH - DELAY) * B), DELAY * B);

  model.resetState(); // new sequences: start from zeros
  let sum = 0;
  for (let t = 0; t < LENGTH; t += CHUNK) {
    const chunk = tensor([CHUNK, B, 1], x.slice(t * B, (t + CHUNK) * B));
    const target = tensor([CHUNK, B, 1], y.slice(t * B, (t + CHUNK) * B));
    optimizer.zeroGrad();
    // stream: true continues from the state the previous chunk ended in; backward stops at this chunk's start
    const prediction = model.forward(chunk, { train: true, stream: true });
    const { loss, grad } = mseLoss(prediction, target);
    model.backward(grad);
    optimizer.step();
    sum += loss;
  }
  last = sum / (LENGTH / CHUNK);
  console.log(`epoch ${epoch}: mean mse ${last.toFixed(4)} (predicting 0 scores ${(1 / 3).toFixed(4)})`);
}
// #endregion

// The first DELAY outputs of each chunk must recall inputs of the previous chunk: they are right only because the
// state runs on. Evaluated (no train) chunk by chunk, with the state carried (stream: true) and without.
const x = Float32Array.from({ length: LENGTH * B }, () => 2 * random() - 1);
function boundaryMse(stream) {
  model.resetState();
  let sum = 0, n = 0;
  for (let t = 0; t < LENGTH; t += CHUNK) {
    const out = model.forward(tensor([CHUNK, B, 1], x.slice(t * B, (t + CHUNK) * B)), { stream }).data; // [CHUNK, B, 1]
    if (t > 0) for (let i = 0; i < DELAY * B; i++, n++) sum += (out[i] - x[(t - DELAY) * B + i]) ** 2;
  }
  return sum / n;
}
const carried = boundaryMse(true), reset = boundaryMse(false);
console.log(`mse of each chunk's first ${DELAY} steps: state carried ${carried.toFixed(4)}, state reset ${reset.toFixed(4)}`);
optimizer.dispose();
model.dispose();
if (!(last < 0.02 && carried < 0.05 && reset > 0.2)) throw new Error("the model did not learn to remember across chunks");
