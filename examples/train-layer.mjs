// The training API on one layer: forward with train: true keeps what backward needs; backward takes the loss's
// gradients with respect to forward's results and returns those with respect to its inputs; the parameter
// gradients add up in grads(), under PyTorch's names, until zeroGrad().
import assert from "node:assert/strict";
import { init, clipGradNorm, LSTM, mseLoss, SGD, tensor } from "rnn-wasm";

await init();
const T = 6, B = 2, I = 3, H = 4;
const x = tensor([T, B, I], Float32Array.from({ length: T * B * I }, (_, i) => Math.sin(i)));
// The target: h should follow x (unit j copies feature j mod I, scaled by 0.8).
const target = tensor([T, B, H], Float32Array.from({ length: T * B * H }, (_, i) => 0.8 * x.data[Math.floor(i / H) * I + (i % H) % I]));

// #region backward
const lstm = new LSTM({ inputSize: I, hiddenSize: H, seed: 1 });
const { output } = lstm.forward(x, { train: true }); // also returns hN, cN
const { loss, grad } = mseLoss(output, target); // grad: d loss / d output, shaped as output
const { dInput, dh0, dc0 } = lstm.backward({ output: grad }); // gradients for hN, cN omitted: zero
console.log(`loss ${loss.toFixed(5)}; dInput [${dInput.shape}], dh0 [${dh0.shape}], dc0 [${dc0.shape}]`); // [6,2,3] [1,2,4] [1,2,4]
for (const [name, g] of Object.entries(lstm.grads())) console.log(`  grad ${name.padEnd(12)} ${JSON.stringify(g.shape)}`);
// #endregion

// #region accumulate
// backward() ADDS into the gradients, as PyTorch's .grad: a second forward + backward without zeroGrad() doubles them.
const once = lstm.grads().weight_hh_l0.data;
lstm.forward(x, { train: true });
lstm.backward({ output: grad });
const twice = lstm.grads().weight_hh_l0.data;
assert.ok(once.every((g, i) => Math.abs(twice[i] - 2 * g) <= 1e-6 * Math.abs(g) + 1e-9));
lstm.zeroGrad(); // every gradient back to 0
assert.ok(Object.values(lstm.grads()).every((g) => g.data.every((v) => v === 0)));
// #endregion
console.log("a second backward added the same gradients again; zeroGrad() cleared them");

// The gradient predicts the loss: nudge one weight by ±e in a copy of the layer, compare (L+ - L-) / 2e with it.
lstm.forward(x, { train: true });
lstm.backward({ output: grad });
const k = 7;
const analytic = lstm.grads().weight_ih_l0.data[k];
const lossWith = (delta) => {
  const params = Object.fromEntries(Object.entries(lstm.toTorch()).map(([name, t]) => [name, t.data])); // flat, PyTorch layout
  params.weight_ih_l0[k] += delta;
  const copy = new LSTM({ inputSize: I, hiddenSize: H }, params);
  const l = mseLoss(copy.forward(x).output, target).loss;
  copy.dispose();
  return l;
};
const e = 1e-2, numeric = (lossWith(e) - lossWith(-e)) / (2 * e);
console.log(`d loss / d weight_ih_l0[${k}]: backward ${analytic.toFixed(6)}, central difference ${numeric.toFixed(6)}`);
assert.ok(Math.abs(analytic - numeric) < 1e-3 * Math.max(1, Math.abs(analytic)) + 1e-4);

// #region optimize
const optimizer = new SGD(lstm, { lr: 0.5, momentum: 0.9 });
for (let step = 1; step <= 100; step++) {
  optimizer.zeroGrad();
  const { output } = lstm.forward(x, { train: true });
  const { loss, grad } = mseLoss(output, target);
  lstm.backward({ output: grad });
  const norm = clipGradNorm(lstm, 1.0); // rescales all gradients to a total 2-norm of at most 1; returns the norm before
  optimizer.step();
  if (step % 25 === 0 || step === 1) console.log(`step ${String(step).padStart(3)}  loss ${loss.toFixed(5)}  grad norm ${norm.toFixed(4)}`);
}
// #endregion
const final = mseLoss(lstm.forward(x).output, target).loss;
optimizer.dispose();
lstm.dispose();
if (!(final < loss / 4)) throw new Error("the loss did not fall"); // `loss`: the one before any step
