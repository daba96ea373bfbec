// scripts/measure-batch-cost.ts: what one sequence costs in a batch of B, for the model the serving bench serves
// (W-seq: LSTM 64 -> 256, T = 128, random weights), float32, on the build init() picks. rnn-wasm serve's dynamic
// batcher stacks concurrent requests into one forward; whether that pays depends on how much cheaper a sequence is
// in a batch than alone, which this prints per batch size (docs/benchmarks.md, Serving).
//
//   npx tsx scripts/measure-batch-cost.ts                  batches 1, 2, 3, 4, 5, 6, 8, 16, then 1 again
//   npx tsx scripts/measure-batch-cost.ts --batches 1,2,4
//
// Each batch size is warmed up (20 forwards), then timed 7 times over max(4, 64 / B) forwards; it prints the
// fastest and the median of the 7 per-sequence times. Batch 1 runs again at the end, since this machine's speed can
// drift within a run. Bounded: at most 64 sequences per timing, 11 batch sizes.
import { parseArgs } from "node:util";
import { init, LSTM, tensor } from "../src/index.js";

const { values } = parseArgs({ options: { batches: { type: "string", default: "1,2,3,4,5,6,8,16,1" } } });
const batches = values.batches!.split(",").map(Number);
if (batches.length > 11 || batches.some((b) => !Number.isInteger(b) || b < 1 || b > 64)) {
  throw new Error("--batches: at most 11 whole numbers from 1 to 64, comma-separated");
}

const T = 128, I = 64, H = 256;
const runtime = await init();
const lstm = new LSTM({ inputSize: I, hiddenSize: H, seed: 1 });
console.log(`LSTM ${I} -> ${H}, T = ${T}, float32, ${runtime.build} build, Node ${process.version}: ms per sequence`);
for (const B of batches) {
  const x = tensor([T, B, I], Float32Array.from({ length: T * B * I }, (_, i) => Math.sin(i)));
  for (let w = 0; w < 20; w++) lstm.forward(x);
  const perSequence: number[] = [];
  const n = Math.max(4, Math.floor(64 / B));
  for (let r = 0; r < 7; r++) {
    const t0 = performance.now();
    for (let k = 0; k < n; k++) lstm.forward(x);
    perSequence.push((performance.now() - t0) / n / B);
  }
  perSequence.sort((a, b) => a - b);
  console.log(`batch ${String(B).padStart(2)}: fastest ${perSequence[0].toFixed(3)}, median ${perSequence[3].toFixed(3)}`);
}
lstm.dispose();
