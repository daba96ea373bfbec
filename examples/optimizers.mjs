// AdamW decays the weights apart from the gradient (Adam adds the decay to it), and every optimizer is an Optimizer
// with step(), zeroGrad() and dispose(). gradNorm measures the gradients without changing them; clipGradValue
// clamps each one, as torch.nn.utils.clip_grad_value_.
import assert from "node:assert/strict";
import { init, Adam, AdamW, clipGradValue, GRU, gradNorm, LastStep, Linear, mseLoss, Optimizer, Sequential, tensor } from "rnn-wasm";

await init();

// #region decay
// A first step with every gradient zero shows where the decay goes. AdamW multiplies each weight by
// 1 - lr * weightDecay. Adam adds weightDecay * weight to the gradient, and its normalisation turns that into a step
// of lr against the weight's sign, however small the decay.
const lr = 0.1, weightDecay = 0.5;
for (const Kind of [AdamW, Adam]) {
  const head = new Linear({ inFeatures: 3, outFeatures: 1, seed: 1 });
  const before = head.toTorch().weight.data;
  const optimizer = new Kind(head, { lr, weightDecay });
  assert.ok(optimizer instanceof Optimizer);
  optimizer.zeroGrad();
  optimizer.step();
  const after = head.toTorch().weight.data;
  console.log(`${Kind.name.padEnd(5)}: weight[0] ${before[0].toFixed(4)} -> ${after[0].toFixed(4)}`);
  const expected = Kind === AdamW ? before[0] * (1 - lr * weightDecay) : before[0] - lr * Math.sign(before[0]);
  assert.ok(Math.abs(after[0] - expected) < 1e-6);
  optimizer.dispose();
  head.dispose();
}
// #endregion

// #region clip-value
// A GRU learns the mean of each sequence, its gradients clamped to [-0.05, 0.05] before each AdamW step.
const T = 12, B = 16;
const model = new Sequential([new GRU({ inputSize: 1, hiddenSize: 16, seed: 2 }), new LastStep(), new Linear({ inFeatures: 16, outFeatures: 1, seed: 3 })]);
const optimizer = new AdamW(model, { lr: 0.02 });
let seed = 5;
const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
const losses = [];
for (let step = 1; step <= 150; step++) {
  const x = tensor([T, B, 1], Float32Array.from({ length: T * B }, () => 2 * random() - 1));
  const y = tensor([B, 1], Float32Array.from({ length: B }, (_, b) => x.data.filter((_, i) => i % B === b).reduce((s, v) => s + v, 0) / T));
  optimizer.zeroGrad();
  const { loss, grad } = mseLoss(model.forward(x, { train: true }), y);
  model.backward(grad);
  const largest = gradNorm(model, Infinity); // the largest |gradient|, measured only
  clipGradValue(model, 0.05);
  assert.ok(gradNorm(model, Infinity) <= Math.fround(0.05)); // 0.05 as a float32, as the gradients hold it
  optimizer.step();
  losses.push(loss);
  if (step % 50 === 0 || step === 1) console.log(`step ${String(step).padStart(3)}  mse ${loss.toFixed(5)}  largest |gradient| before clipping ${largest.toFixed(4)}`);
}
// #endregion
const first = losses.slice(0, 10).reduce((a, b) => a + b) / 10, last = losses.slice(-10).reduce((a, b) => a + b) / 10;
console.log(`mean mse of the first 10 steps ${first.toFixed(4)}, of the last 10 ${last.toFixed(5)}`);
optimizer.dispose();
model.dispose();
assert.ok(last < first / 4, "the loss did not fall");
