// A model trained in PyTorch: nn.LSTM(64, 256)'s state_dict saved as safetensors, run here on the input PyTorch
// saw, and compared with the output PyTorch produced. Both files ship in cli/data/ (scripts/make_fixtures.py made them).
import { readFileSync } from "node:fs";
import { init, fromTorch, loadSafetensors } from "rnn-wasm";

await init();
const model = loadSafetensors(readFileSync(new URL("../cli/data/lstm-demo.safetensors", import.meta.url)));
const data = loadSafetensors(readFileSync(new URL("../cli/data/lstm-demo.input.safetensors", import.meta.url)));

// Kind, sizes, layers and directions follow from the state_dict's names and shapes.
const lstm = fromTorch(model.tensors);
console.log(`${lstm.spec.kind}: inputSize ${lstm.spec.inputSize}, hiddenSize ${lstm.spec.hiddenSize}, numLayers ${lstm.spec.numLayers}`);

const { input, output: torchOutput } = data.tensors; // input [128, 1, 64], PyTorch's output [128, 1, 256]
const { output } = lstm.forward(input);
let maxDiff = 0;
for (let i = 0; i < output.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(output.data[i] - torchOutput.data[i]));
console.log(`output ${JSON.stringify(output.shape)}, max |rnn-wasm - PyTorch| = ${maxDiff.toExponential(2)}`);

lstm.dispose();
if (!(maxDiff < 1e-4)) throw new Error("rnn-wasm and PyTorch disagree");
