// Streaming: feed a sequence in chunks as it arrives; stream() carries the state from one call to the next,
// so the chunks give exactly what one forward() over the whole sequence gives.
import { init, GRU, tensor } from "rnn-wasm";

await init();
const I = 4, T = 12;
const gru = new GRU({ inputSize: I, hiddenSize: 8, seed: 7 });
const x = tensor([T, 1, I], Float32Array.from({ length: T * I }, (_, i) => Math.cos(i / 3)));

const whole = gru.forward(x).output.data;

gru.resetState(); // start from zeros (or resetState({ h0 }) to start from a given state)
const chunked = [];
for (let t = 0; t < T; t += 5) {
  const steps = Math.min(5, T - t); // chunks of 5, 5 and 2 steps
  const chunk = tensor([steps, 1, I], x.data.slice(t * I, (t + steps) * I));
  chunked.push(...gru.stream(chunk).output.data);
}
console.log("the next chunk continues from h0", gru.state.h0.shape); // [1, 1, 8]

const same = whole.length === chunked.length && whole.every((v, i) => v === chunked[i]);
console.log(same ? "chunked output == whole-sequence output, bit for bit" : "chunked output differs");
gru.dispose();
if (!same) throw new Error("streaming changed the result");
