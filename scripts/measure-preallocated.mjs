// scripts/measure-preallocated.mjs: what forward's `out` option saves (docs/api-layers.md, Preallocated results).
// In one process, rounds of 100 forwards of the W-seq shape (T = 128, B = 1, I = 64 -> H = 256) alternate between
// fresh results (a new 33 K-float result array per call) and one `out` reused; prints every round's ms per forward and
// each mode's median, and on Linux the minor page faults per forward (/proc/self/stat): a fresh result's pages are
// new memory until the garbage collector has freed earlier results for reuse, so the first ~1,000-1,600 forwards of a
// process are where fresh results cost most.
//
//   node scripts/measure-preallocated.mjs [gru|lstm] [int8|f32]       after `npm run build`
//   $(node scripts/node24.mjs) scripts/measure-preallocated.mjs gru int8   (Node 24: the relaxed build, q8)
import { minorFaults } from "./page-faults.mjs";
import { init, GRU, LSTM, quantize, tensor } from "../dist/rnn-wasm.node.js";

const kind = process.argv[2] ?? "gru", dtype = process.argv[3] ?? "int8";
if (!["gru", "lstm"].includes(kind) || !["int8", "f32"].includes(dtype)) {
  console.error("usage: node scripts/measure-preallocated.mjs [gru|lstm] [int8|f32]");
  process.exit(2);
}
const runtime = await init();
const T = 128, I = 64, H = 256, ROUNDS = 16, CALLS = 100;
const layer = kind === "gru" ? new GRU({ inputSize: I, hiddenSize: H, seed: 1 }) : new LSTM({ inputSize: I, hiddenSize: H, seed: 1 });
const model = dtype === "int8" ? quantize(layer, { dtype: "int8" }) : layer;
const x = tensor([T, 1, I], Float32Array.from({ length: T * I }, (_, i) => Math.sin(i)));
const out = { output: tensor([T, 1, H]), hN: tensor([1, 1, H]), ...(kind === "lstm" ? { cN: tensor([1, 1, H]) } : {}) };
const ms = { fresh: [], out: [] }, faults = { fresh: [], out: [] };
for (let r = 0; r < ROUNDS; r++) {
  const mode = r % 2 ? "out" : "fresh";
  const f0 = minorFaults(), t0 = performance.now();
  for (let i = 0; i < CALLS; i++) (mode === "out" ? model.forward(x, { out }) : model.forward(x));
  ms[mode].push((performance.now() - t0) / CALLS);
  faults[mode].push((minorFaults() - f0) / CALLS);
}
const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
const form = dtype === "int8" ? ` ${model.form}` : "";
console.log(`${kind} ${dtype}${form}, ${runtime.build} build, Node ${process.version}, ms per forward in rounds of ${CALLS}:`);
for (const mode of ["fresh", "out"]) {
  console.log(`  ${mode.padEnd(5)} ${ms[mode].map((v) => v.toFixed(2)).join(" ")}  (median ${median(ms[mode]).toFixed(2)})`);
  console.log(`  ${"".padEnd(5)} page faults per forward: ${faults[mode].map((v) => v.toFixed(1)).join(" ")}`);
}
model.dispose();
if (model !== layer) layer.dispose();
