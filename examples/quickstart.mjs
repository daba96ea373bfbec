// Quick start: a two-layer LSTM with random weights, run over a batch of sequences.
import { init, LSTM, tensor } from "rnn-wasm";

await init(); // loads the fastest wasm build this engine supports: relaxed SIMD, SIMD or scalar

const T = 5, B = 3, I = 8; // timesteps, batch, features: PyTorch's default [T, B, I] layout
const lstm = new LSTM({ inputSize: I, hiddenSize: 16, numLayers: 2, seed: 1 });
const input = tensor([T, B, I], Float32Array.from({ length: T * B * I }, (_, i) => Math.sin(i)));

const { output, hN, cN } = lstm.forward(input); // zeros as the initial state
console.log("output", output.shape); // [5, 3, 16]: the last layer's h at every step
console.log("h_n   ", hN.shape); //     [2, 3, 16]: each layer's final h
console.log("c_n   ", cN.shape); //     [2, 3, 16]: each layer's final cell state
console.log("output[0, 0, :4]", Array.from(output.data.subarray(0, 4), (v) => v.toFixed(4)).join(" "));

lstm.dispose(); // frees its wasm memory now (safe to call twice)
