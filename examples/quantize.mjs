// Quantized weights: a PyTorch LSTM (the demo model, 64 -> 256, W-seq's shape) quantized to int8 and int12 for
// inference, run on the same input as the float32 layer; prints each one's error against float32, the bytes its
// weights take in wasm memory, and the integer form int8 runs here (q8 with relaxed SIMD where the engine computes it
// correctly and faster, q16 elsewhere).
import { readFileSync } from "node:fs";
import { init, fromTorch, loadSafetensors, quantize, tensor } from "rnn-wasm";

await init();
const { tensors } = loadSafetensors(readFileSync(new URL("../cli/data/lstm-demo.safetensors", import.meta.url)));
const x = tensor([128, 64], Float32Array.from({ length: 128 * 64 }, (_, k) => Math.sin(k * 0.37)));

// #region quantize
const lstm = fromTorch(tensors); // a float32 LSTM, trained in PyTorch
const int8 = quantize(lstm, { dtype: "int8" }); // inference only: forward and stream, as the float layer's
const int12 = quantize(lstm, { dtype: "int12" }); // 12-bit weights stored as int16: near-float accuracy

const exact = lstm.forward(x).output; // [128, 256]
for (const q of [int8, int12]) {
  const { output } = q.forward(x); // same options (h0, c0, lengths, ...) and the same result shapes
  let err = 0, top = 0;
  for (let i = 0; i < output.data.length; i++) {
    err = Math.max(err, Math.abs(output.data[i] - exact.data[i]));
    top = Math.max(top, Math.abs(exact.data[i]));
  }
  console.log(`${q === int8 ? "int8 " : "int12"} (${q.form}): max error ${(err / top * 100).toFixed(3)}% of max |output|, weights ${q.weightBytes} bytes`);
}
// #endregion

const errorOf = (q) => {
  const { output } = q.forward(x);
  return output.data.reduce((m, v, i) => Math.max(m, Math.abs(v - exact.data[i])), 0);
};
const [e8, e12] = [errorOf(int8), errorOf(int12)];
for (const m of [lstm, int8, int12]) m.dispose();
if (!(e12 < e8 && e8 < 0.05)) throw new Error(`int12 should be closer than int8, and int8 within 0.05: ${e12}, ${e8}`);
