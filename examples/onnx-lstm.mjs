// examples/onnx-lstm.mjs: run an ONNX model with rnn-wasm/onnx. examples/onnx-lstm.onnx is a PyTorch nn.LSTM(2, 8)
// written as an ONNX LSTM node (scripts/make_onnx_fixtures.py); its answer must be PyTorch's within 1e-5.
import { readFileSync } from "node:fs";
import { init, maxAbsDiff, tensor } from "rnn-wasm";
import { fromOnnx } from "rnn-wasm/onnx";

// #region run
await init();
const model = fromOnnx(readFileSync(new URL("./onnx-lstm.onnx", import.meta.url)));
console.log(model.inputNames, model.outputNames, model.operators); // [ 'X' ] [ 'Y', 'Y_h', 'Y_c' ] [ 'LSTM' ]

const x = tensor([6, 1, 2], Float32Array.of(
  -1.8156642, -0.11884372, 1.2423322, -0.93164647, -0.98096412, 0.053870365,
  -1.8375973, 0.43728971, 0.82864767, 0.0046241246, -2.1644602, 1.5958617,
)); // [seq_length, batch_size, input_size]
const { Y, Y_h } = model.run({ X: x }); // Y [6, 1, 1, 8]: [seq_length, num_directions, batch_size, hidden_size]
model.dispose();
// #endregion

// PyTorch's h_n for this input (float64, rounded to float32)
const torchHn = Float32Array.of(-0.059522819, -0.15343541, 0.023857109, -0.19547062, 0.047059916, 0.15700535, 0.024167133, -0.12201545);
const diff = maxAbsDiff(Y_h.data, torchHn);
console.log(`Y ${JSON.stringify(Y.shape)}, Y_h ${JSON.stringify(Y_h.shape)}: max |Y_h - PyTorch's h_n| = ${diff.toExponential(1)}`);
if (!(diff < 1e-5)) throw new Error(`Y_h differs from PyTorch's h_n by ${diff}`);
if (maxAbsDiff(Y.data.subarray(5 * 8), Y_h.data) !== 0) throw new Error("Y's last step should be Y_h");
