// Training: an LSTM learns to continue a sine wave. Each sample is 16 steps of sin(ω t + φ) with a random
// frequency and phase; the target is the next value. A complete loop: forward with train: true, a loss, backward,
// an optimizer step.
import { init, Adam, LastStep, Linear, LSTM, mseLoss, Sequential, tensor } from "rnn-wasm";

await init();
const T = 16, B = 32; // 32 sequences of 16 steps, one feature
const model = new Sequential([
  new LSTM({ inputSize: 1, hiddenSize: 32, seed: 1 }), // [T, B, 1] -> output [T, B, 32]
  new LastStep(), //                                      -> [B, 32]: each sequence's last step
  new Linear({ inFeatures: 32, outFeatures: 1, seed: 2 }), // -> [B, 1]
]);
const optimizer = new Adam(model, { lr: 0.01 });

function batch(random) {
  const x = tensor([T, B, 1]), y = tensor([B, 1]);
  for (let b = 0; b < B; b++) {
    const w = 0.2 + 0.4 * random(), phase = 2 * Math.PI * random();
    for (let t = 0; t < T; t++) x.data[t * B + b] = Math.sin(w * t + phase);
    y.data[b] = Math.sin(w * T + phase); // the value after the last step
  }
  return { x, y };
}

let seed = 7;
const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646; // a small seeded generator
const losses = [];
for (let step = 1; step <= 300; step++) {
  const { x, y } = batch(random);
  optimizer.zeroGrad(); // backward adds into the gradients: clear them first
  const prediction = model.forward(x, { train: true }); // [B, 1], keeping what backward needs
  const { loss, grad } = mseLoss(prediction, y); // the loss and d loss / d prediction
  model.backward(grad); // backpropagation through the head, LastStep and the LSTM (through time)
  optimizer.step();
  losses.push(loss);
  if (step % 50 === 0 || step === 1) console.log(`step ${String(step).padStart(3)}  mse ${loss.toFixed(5)}`);
}

const first = losses.slice(0, 10).reduce((a, b) => a + b) / 10, last = losses.slice(-10).reduce((a, b) => a + b) / 10;
console.log(`mean mse of the first 10 steps ${first.toFixed(4)}, of the last 10 ${last.toFixed(5)}`);
optimizer.dispose();
model.dispose(); // disposes every module
if (!(last < first / 20)) throw new Error("the loss did not fall");
