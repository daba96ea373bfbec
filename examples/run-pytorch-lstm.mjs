// Run a PyTorch LSTM: its state_dict saved as safetensors (here model.safetensors from the README's recipe,
// examples/export_lstm_head.py), loaded with fromTorch and run on a sequence. README.md shows the region below.
import "./pytorch-files.mjs"; // writes model.safetensors into a fresh working folder
// #region quick
import { readFileSync } from "node:fs";
import { init, fromTorch, loadSafetensors, tensor } from "rnn-wasm";

await init(); // loads the WebAssembly kernels, once
const { tensors } = loadSafetensors(readFileSync("model.safetensors")); // a PyTorch state_dict
const lstm = fromTorch(tensors, { batchFirst: true }); // its nn.LSTM: sizes, layers and weights from the file

const x = tensor([1, 20, 8], Float32Array.from({ length: 160 }, (_, i) => Math.sin(i / 10))); // (B, T, input_size)
const { output, hN, cN } = lstm.forward(x); // from zeros, as PyTorch
console.log(output.shape, hN.shape, cN.shape); // [ 1, 20, 32 ] [ 2, 1, 32 ] [ 2, 1, 32 ]
lstm.dispose(); // frees its wasm memory
// #endregion
