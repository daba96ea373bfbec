// Cells: one step at a time, as torch.nn.LSTMCell. A loop of LSTMCell steps reproduces an LSTM layer when the
// cell has the layer's weights (the layer's names carry an _l0 suffix, the cell's do not).
import { init, LSTM, fromTorch, tensor } from "rnn-wasm";

await init();
const T = 6, B = 2, I = 3, H = 5;
const layer = new LSTM({ inputSize: I, hiddenSize: H, seed: 3 });
const x = tensor([T, B, I], Float32Array.from({ length: T * B * I }, (_, i) => Math.sin(i * 0.7)));

const cellWeights = Object.fromEntries(Object.entries(layer.toTorch()).map(([name, t]) => [name.replace(/_l0$/, ""), t]));
const cell = fromTorch(cellWeights); // an LSTMCell: weight_ih, weight_hh, bias_ih, bias_hh

let state = {}; // { h, c }: zeros when missing
for (let t = 0; t < T; t++) {
  const xt = tensor([B, I], x.data.slice(t * B * I, (t + 1) * B * I)); // [B, I]
  state = cell.forward(xt, state); // { h: [B, H], c: [B, H] }
}

const { hN } = layer.forward(x); // [1, B, H]
let maxDiff = 0;
for (let i = 0; i < B * H; i++) maxDiff = Math.max(maxDiff, Math.abs(state.h.data[i] - hN.data[i]));
console.log(`h after ${T} cell steps ${JSON.stringify(state.h.shape)}; max |cell - layer| = ${maxDiff.toExponential(2)}`);
layer.dispose();
cell.dispose();
if (!(maxDiff < 1e-6)) throw new Error("cell steps and the layer disagree");
