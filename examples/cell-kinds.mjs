// GRUCell and RNNCell step as LSTMCell does, and every cell is a RecurrentCell. Cells train too: forward with
// train: true, then backward with the gradient of the new state gives those of the input and the old state.
import assert from "node:assert/strict";
import { init, GRUCell, RecurrentCell, RNNCell, tensor } from "rnn-wasm";

await init();
const B = 2, I = 3, H = 4;
const x = tensor([B, I], Float32Array.from({ length: B * I }, (_, i) => Math.cos(i)));

const gruCell = new GRUCell({ inputSize: I, hiddenSize: H, seed: 1 });
const rnnCell = new RNNCell({ inputSize: I, hiddenSize: H, nonlinearity: "relu", seed: 2 });
for (const cell of [gruCell, rnnCell]) {
  assert.ok(cell instanceof RecurrentCell);
  const first = cell.forward(x); // from h = zeros
  const second = cell.forward(x, { h: first.h }); // the next step, from the first's h
  console.log(`${cell.constructor.name}: h after two steps ${JSON.stringify(second.h.shape)}, h[0] = ${second.h.data[0].toFixed(4)}`);
}

// One training step of the GRUCell, with the loss L = sum(h_new): dL/dh_new is all ones.
const h0 = tensor([B, H], Float32Array.from({ length: B * H }, (_, i) => 0.1 * i));
const loss = (input) => gruCell.forward(input, { h: h0 }).h.data.reduce((a, b) => a + b, 0);
gruCell.zeroGrad();
gruCell.forward(x, { h: h0, train: true });
const { dInput, dh } = gruCell.backward({ h: tensor([B, H], new Float32Array(B * H).fill(1)) });
console.log(`dInput ${JSON.stringify(dInput.shape)}, dh ${JSON.stringify(dh.shape)}; parameter gradients:`,
  Object.entries(gruCell.grads()).map(([name, g]) => `${name} ${JSON.stringify(g.shape)}`).join(", "));

// dInput agrees with central differences of the loss.
const eps = 1e-2;
for (let j = 0; j < B * I; j++) {
  const plus = tensor([B, I], x.data.slice()), minus = tensor([B, I], x.data.slice());
  plus.data[j] += eps;
  minus.data[j] -= eps;
  const numeric = (loss(plus) - loss(minus)) / (2 * eps);
  assert.ok(Math.abs(numeric - dInput.data[j]) < 1e-3, `dInput[${j}] = ${dInput.data[j]}, central difference ${numeric}`);
}
console.log("dInput matches central differences of the loss");
gruCell.dispose();
rnnCell.dispose();
