// A model served off the event loop with rnn-wasm/worker-pool: two worker threads, each with its own wasm runtime and
// copy of the weights; concurrent predict() calls are batched into one forward per worker. Here the demo model
// (cli/data/lstm-demo.safetensors: a PyTorch LSTM 64->256, W-seq's shape) answers 64 concurrent sequences, and each
// answer is checked against the same model run in this thread.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { init, tensor } from "rnn-wasm";
import { ServedModel } from "rnn-wasm/serving";
import { ModelPool } from "rnn-wasm/worker-pool";

const file = new URL("../cli/data/lstm-demo.safetensors", import.meta.url);
// #region pool
const pool = await ModelPool.create(fileURLToPath(file), { threads: 2, maxBatch: 16 });
const batches = [];
pool.onBatch = (size) => batches.push(size);
const { inputSize } = pool.info;

const sequences = Array.from({ length: 64 }, (_, k) => {
  const T = 8 + (k % 24); // lengths differ: a batch pads the shorter ones and stops each at its own last step
  return tensor([T, inputSize], Float32Array.from({ length: T * inputSize }, (_, i) => Math.sin(k + i / 7)));
});
const answers = await Promise.all(sequences.map((x) => pool.predict(x))); // the event loop stays free meanwhile
await pool.close(); // lets queued and running requests finish, then ends the workers
// #endregion

await init();
const here = ServedModel.fromSafetensors(readFileSync(file));
const alone = here.run(sequences.map((x) => ({ input: x.data, steps: x.shape[0] })));
here.dispose();
let same = true;
answers.forEach((a, k) => {
  same &&= a.output.data.every((v, i) => Object.is(v, alone[k].output[i])) && a.hN.data.every((v, i) => Object.is(v, alone[k].hN[i]));
});
console.log(`${answers.length} sequences in ${batches.length} batches (sizes ${batches.join(", ")}); output [${answers[0].output.shape}] for the first`);
console.log(`every answer bit for bit the in-thread model's: ${same}`);
if (!same || batches.length >= answers.length) throw new Error("the pool's answers differ, or nothing was batched");
