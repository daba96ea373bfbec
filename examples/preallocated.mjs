// Preallocated results: a hot loop (a server, a stream of requests) hands forward() the same `out` tensors on every
// call, and forward writes its results there instead of allocating new arrays, as ONNX Runtime's preallocated
// outputs and PyTorch's `out=` do. Reused this way, a call allocates nothing (time-major input, wasm backend).
import { init, getRuntime, LSTM, quantize, tensor } from "rnn-wasm";

await init();
const T = 32, B = 4, I = 8, H = 64;
const lstm = new LSTM({ inputSize: I, hiddenSize: H, seed: 1 });
const requests = Array.from({ length: 20 }, (_, k) =>
  tensor([T, B, I], Float32Array.from({ length: T * B * I }, (_, i) => Math.sin(i / 7 + k))));

// #region loop
// one set of result tensors, shaped exactly as forward's results for this [T, B, I] input
const out = { output: tensor([T, B, H]), hN: tensor([1, B, H]), cN: tensor([1, B, H]) };
for (const x of requests) {
  const { output, hN } = lstm.forward(x, { out }); // output === out.output, hN === out.hN
  // ... read output.data / hN.data here: the next call overwrites them
}
// #endregion

// the last call's results, bit for bit what a call without `out` gives
const fresh = lstm.forward(requests.at(-1));
const same = (a, b) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
if (!same(out.output.data, fresh.output.data) || !same(out.hN.data, fresh.hN.data) || !same(out.cN.data, fresh.cN.data)) {
  throw new Error("out holds other results than a plain forward");
}

// a quantized layer takes the same option; the wasm memory stays where the first call left it
const q = quantize(lstm, { dtype: "int8" });
q.forward(requests[0], { out });
const before = getRuntime().blocksInUse;
for (const x of requests) q.forward(x, { out });
if (getRuntime().blocksInUse !== before) throw new Error("a call with out allocated wasm memory");
console.log(`${requests.length} calls of the float and the int8 LSTM wrote into one out: output [${out.output.shape}], hN [${out.hN.shape}]`);

// #region stream
// a stream stepped one timestep at a time (a sensor, a token feed): stream() takes the same option, and keeps its
// own copy of the state, so out's arrays are free to be overwritten by the next step
const step = { output: tensor([1, 1, H]), hN: tensor([1, 1, H]), cN: tensor([1, 1, H]) };
for (let t = 0; t < 100; t++) {
  const x = tensor([1, 1, I], Float32Array.from({ length: I }, (_, i) => Math.sin(t / 5 + i)));
  const { output } = q.stream(x, { out: step }); // output === step.output: [1, 1, H], this step's h
}
// #endregion
console.log(`100 steps of the int8 LSTM's stream wrote into one out; its state: h [${q.state.h0.shape}]`);
q.dispose();
lstm.dispose();
