// Variable-length batches: `lengths` gives each row's own length, as PyTorch's packed sequences. Outputs past a
// row's end are 0, hN holds each row's last real step, a reverse direction starts at each row's own last step,
// and the padding gets no gradient. Then a classifier trained on token sequences of 3 to 12 tokens.
import assert from "node:assert/strict";
import { init, Adam, crossEntropyLoss, Embedding, Linear, LSTM, tensor } from "rnn-wasm";

await init();

// #region semantics
const T = 5, B = 3, I = 2, H = 3;
const lengths = [5, 2, 4]; // row 1 is 2 steps long; whatever its steps 2..4 hold is padding
const x = tensor([T, B, I], Float32Array.from({ length: T * B * I }, (_, i) => Math.cos(i)));
const lstm = new LSTM({ inputSize: I, hiddenSize: H, bidirectional: true, seed: 5 });
const { output, hN } = lstm.forward(x, { lengths }); // output [T, B, 2H], hN [2, B, H]

for (let b = 0; b < B; b++) {
  // Row b alone, cut to its length, gives the same outputs and final states (both directions).
  const row = tensor([lengths[b], 1, I]);
  for (let t = 0; t < lengths[b]; t++) row.data.set(x.data.subarray((t * B + b) * I, (t * B + b + 1) * I), t * I);
  const alone = lstm.forward(row);
  for (let t = 0; t < T; t++) {
    const got = output.data.subarray((t * B + b) * 2 * H, (t * B + b + 1) * 2 * H);
    const want = t < lengths[b] ? alone.output.data.subarray(t * 2 * H, (t + 1) * 2 * H) : new Float32Array(2 * H); // 0 past the end
    for (let j = 0; j < 2 * H; j++) assert.ok(Math.abs(got[j] - want[j]) < 1e-6, `row ${b} step ${t}`);
  }
  for (let d = 0; d < 2; d++) {
    for (let j = 0; j < H; j++) assert.ok(Math.abs(hN.data[(d * B + b) * H + j] - alone.hN.data[d * H + j]) < 1e-6, `hN row ${b}`);
  }
}
console.log("each row of the padded batch matches that row run alone at its own length");

// In training, the padding gets no gradient.
const ones = tensor(output.shape, new Float32Array(output.data.length).fill(1));
lstm.forward(x, { lengths, train: true });
const { dInput } = lstm.backward({ output: ones }); // [T, B, I]
for (let t = 0; t < T; t++) {
  for (let b = 0; b < B; b++) if (t >= lengths[b]) for (let j = 0; j < I; j++) assert.equal(dInput.data[(t * B + b) * I + j], 0);
}
console.log("dInput is 0 at every padded step");
lstm.dispose();
// #endregion

// #region classifier
// Sequences of 3 to 12 tokens from a vocabulary of 5; the class is the sequence's first token. Padding holds
// random tokens, which lengths makes harmless. Embedding -> LSTM (its hN: each row's last real step) -> Linear.
const V = 5, S = 12, N = 32; // vocabulary, longest sequence, batch
const embedding = new Embedding({ numEmbeddings: V, embeddingDim: 8, seed: 1 });
const encoder = new LSTM({ inputSize: 8, hiddenSize: 32, seed: 2 });
const head = new Linear({ inFeatures: 32, outFeatures: V, seed: 3 });
const optimizer = new Adam([embedding, encoder, head], { lr: 0.01 });

let seed = 3;
const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
let accuracy = 0;
for (let step = 1; step <= 150; step++) {
  const tokens = Int32Array.from({ length: S * N }, () => Math.floor(random() * V)); // [S, N], time-major
  const rowLengths = Array.from({ length: N }, () => 3 + Math.floor(random() * (S - 2)));
  const labels = Array.from(tokens.subarray(0, N)); // the first token of each row

  optimizer.zeroGrad();
  const embedded = embedding.forward({ shape: [S, N], data: tokens }, { train: true }); // [S, N, 8]
  const { hN } = encoder.forward(embedded, { train: true, lengths: rowLengths }); // [1, N, 32]
  const logits = head.forward({ shape: [N, 32], data: hN.data }, { train: true }); // [N, V]
  const { loss, grad } = crossEntropyLoss(logits, labels);
  const dh = head.backward(grad); // [N, 32]
  const { dInput } = encoder.backward({ hN: { shape: [1, N, 32], data: dh.data } }); // [S, N, 8]; zero at padding
  embedding.backward(dInput);
  optimizer.step();

  accuracy = labels.filter((y, n) => {
    const row = logits.data.subarray(n * V, (n + 1) * V);
    return row.indexOf(Math.max(...row)) === y;
  }).length / N;
  if (step % 30 === 0 || step === 1) console.log(`step ${String(step).padStart(3)}  loss ${loss.toFixed(4)}  accuracy ${(accuracy * 100).toFixed(0)}%`);
}
// #endregion
optimizer.dispose();
for (const m of [embedding, encoder, head]) m.dispose();
if (!(accuracy >= 0.9)) throw new Error("the classifier did not learn");
