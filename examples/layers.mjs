// The three layers share one API (RecurrentLayer): an Elman RNN with relu over an unbatched sequence, a
// bidirectional batch-first GRU in its original (reset-before) form, and fromTorch giving back the class a
// state_dict describes, given the options a state_dict does not record.
import assert from "node:assert/strict";
import { init, getRuntime, fromTorch, GRU, LSTM, RecurrentLayer, RNN, tensor } from "rnn-wasm";

await init();
console.log("layers made without a runtime run on init()'s:", getRuntime().build);
const values = (n, k) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * k));

const rnn = new RNN({ inputSize: 3, hiddenSize: 5, nonlinearity: "relu", seed: 1 });
const single = rnn.forward(tensor([7, 3], values(21, 0.3))); // unbatched [T, I]: no batch axis anywhere
console.log(`RNN relu, unbatched: output ${JSON.stringify(single.output.shape)}, hN ${JSON.stringify(single.hN.shape)}`); // [7,5] [1,5]

const gru = new GRU({ inputSize: 4, hiddenSize: 6, bidirectional: true, batchFirst: true, resetAfter: false, seed: 2 });
const x = tensor([2, 9, 4], values(72, 0.1)); // [B, T, I]
const { output, hN } = gru.forward(x);
console.log(`GRU bidirectional, batch-first: output ${JSON.stringify(output.shape)}, hN ${JSON.stringify(hN.shape)}`); // [2,9,12] [2,2,6]

const lstm = new LSTM({ inputSize: 4, hiddenSize: 8, projSize: 3, numLayers: 2, seed: 3 });

// The same weights through PyTorch's names and back. The kind, sizes, layers and directions come from the tensors;
// nonlinearity, resetAfter and batchFirst are not in a state_dict, so they are passed again.
const notRecorded = { rnn: { nonlinearity: "relu" }, gru: { resetAfter: false, batchFirst: true }, lstm: {} };
for (const [layer, input] of [[rnn, tensor([7, 3], values(21, 0.3))], [gru, x], [lstm, tensor([5, 1, 4], values(20, 0.2))]]) {
  const copy = fromTorch(layer.toTorch(), notRecorded[layer.spec.kind]);
  assert.ok(copy instanceof RecurrentLayer);
  assert.deepEqual(copy.forward(input).output.data, layer.forward(input).output.data);
  console.log(`fromTorch(${layer.constructor.name.toLowerCase()}.toTorch()) -> ${copy.constructor.name}, the same output bit for bit`);
  copy.dispose();
  layer.dispose();
}
