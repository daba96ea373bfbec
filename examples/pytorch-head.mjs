// The JavaScript half of the README's PyTorch recipe: the LSTM + Linear head that examples/export_lstm_head.py
// saved, loaded with fromTorch and Linear.fromTorch, run on the input PyTorch saw, and compared with its output.
import { writtenBy } from "./pytorch-files.mjs"; // writes model.safetensors and sample.safetensors, as the recipe does
// #region head
import { readFileSync } from "node:fs";
import { init, fromTorch, Linear, loadSafetensors, Sequential } from "rnn-wasm";

await init();
const { tensors } = loadSafetensors(readFileSync("model.safetensors"));
const model = new Sequential([
  fromTorch(tensors, { batchFirst: true }), // finds lstm.*; batch_first is not stored in a state_dict, so say it
  Linear.fromTorch(tensors, { prefix: "head." }), // head.weight [1, 32], head.bias [1]
]);

const { input, output: expected } = loadSafetensors(readFileSync("sample.safetensors")).tensors;
const y = model.forward(input); // (3, 20, 8) -> LSTM (3, 20, 32) -> head (3, 20, 1), as model(x) in PyTorch
let maxDiff = 0;
for (let i = 0; i < y.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(y.data[i] - expected.data[i]));
console.log(`y [${y.shape}], max |rnn-wasm - PyTorch| = ${maxDiff.toExponential(1)}`);
model.dispose(); // frees both modules' wasm memory
// #endregion
console.log(`(sample.safetensors written by ${writtenBy})`);
if (!(maxDiff < 1e-5)) throw new Error("rnn-wasm and the saved output disagree");
