// examples/onnx-export.mjs: a model trained here, written as an ONNX file with toOnnx. An LSTM with a Linear head
// learns to continue a sine wave (as examples/train-sine.mjs, shorter), goes to model.onnx (in a temporary folder),
// and comes back through fromOnnx with the model's own predictions (within 1e-5). With onnxruntime-node installed
// (`npm install onnxruntime-node`), ONNX Runtime runs the same file and must agree too.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { init, Adam, LastStep, Linear, LSTM, maxAbsDiff, mseLoss, Sequential, tensor } from "rnn-wasm";
import { fromOnnx, toOnnx } from "rnn-wasm/onnx";

await init();
const T = 12, B = 16;
function batch(random) {
  const x = tensor([B, T, 1]), y = tensor([B, 1]); // batch-first
  for (let b = 0; b < B; b++) {
    const w = 0.2 + 0.4 * random(), phase = 2 * Math.PI * random();
    for (let t = 0; t < T; t++) x.data[b * T + t] = Math.sin(w * t + phase);
    y.data[b] = Math.sin(w * T + phase);
  }
  return { x, y };
}
let seed = 3;
const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;

// #region export
const model = new Sequential([
  new LSTM({ inputSize: 1, hiddenSize: 24, batchFirst: true, seed: 1 }), // [B, T, 1] -> [B, T, 24]
  new LastStep(), //                                                        -> [B, 24]
  new Linear({ inFeatures: 24, outFeatures: 1, seed: 2 }), //              -> [B, 1]
]);
const optimizer = new Adam(model, { lr: 0.01 });
for (let step = 0; step < 60; step++) {
  const { x, y } = batch(random);
  optimizer.zeroGrad();
  model.backward(mseLoss(model.forward(x, { train: true }), y).grad);
  optimizer.step();
}

const bytes = toOnnx(model); // a Uint8Array: the .onnx file (opset 14), input "input" [batch, sequence, 1], output "output" [batch, 1]
const dir = mkdtempSync(join(tmpdir(), "rnn-wasm-onnx-"));
writeFileSync(join(dir, "model.onnx"), bytes);

const onnx = fromOnnx(readFileSync(join(dir, "model.onnx")));
const { x } = batch(random);
const ours = model.forward(x).data;
const back = onnx.run({ input: x }).output.data; // any batch size and length: the axes are symbolic
console.log(`${bytes.length} bytes, ${onnx.operators.join(" ")}; max |fromOnnx - model| = ${maxAbsDiff(back, ours).toExponential(1)}`);
// #endregion
if (!(maxAbsDiff(back, ours) < 1e-5)) throw new Error("fromOnnx's output differs from the model's");

// #region ort
let ort = null;
try {
  ort = (await import("onnxruntime-node")).default;
} catch {
  console.log("onnxruntime-node is not installed here: skipping the ONNX Runtime run");
}
if (ort) {
  const session = await ort.InferenceSession.create(join(dir, "model.onnx"));
  const { output } = await session.run({ input: new ort.Tensor("float32", x.data, x.shape) });
  console.log(`ONNX Runtime: max |ort - model| = ${maxAbsDiff(output.data, ours).toExponential(1)}`);
  if (!(maxAbsDiff(output.data, ours) < 1e-5)) throw new Error("ONNX Runtime's output differs from the model's");
}
// #endregion

onnx.dispose();
optimizer.dispose();
model.dispose();
rmSync(dir, { recursive: true });
