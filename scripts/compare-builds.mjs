// scripts/compare-builds.mjs: times two builds of the library against each other in one process, interleaved,
// to tell whether a refactor changed the speed. Two `npm run bench` runs minutes apart compare the peers within
// each run, but on a shared 2-core machine the load between the runs moves every figure by more than a refactor
// should; here each round times build A then build B on the same workload, so drifting load falls on both alike,
// and the figure reported is the median of the per-round ratios B/A.
//
//   node scripts/compare-builds.mjs <dist/rnn-wasm.node.js of A> <dist/rnn-wasm.node.js of B> [rounds]
//
// Each path is a built Node bundle (`npm run build` in a clone or worktree at each commit). Both run the wasm
// SIMD build with the same weights (seed 1) and inputs; outputs are compared bit for bit first.
import { pathToFileURL } from "node:url";
import { cpus, loadavg } from "node:os";

const [pathA, pathB, roundsArg] = process.argv.slice(2);
if (!pathA || !pathB) {
  console.error("usage: node scripts/compare-builds.mjs <bundle A> <bundle B> [rounds (default 15)]");
  process.exit(2);
}
const rounds = Number(roundsArg ?? 15);

/** The five workloads of cli/src/workloads.ts as each build runs them; `calls` per timing keeps a timing >= ~20 ms. */
function workloads(lib) {
  const x = (T, B, I) => lib.tensor([T, B, I], Float32Array.from({ length: T * B * I }, (_, k) => Math.sin(k * 0.37)));
  const seq = new lib.LSTM({ inputSize: 64, hiddenSize: 256, seed: 1 });
  const gru = new lib.GRU({ inputSize: 64, hiddenSize: 256, seed: 1 });
  const batch = new lib.LSTM({ inputSize: 128, hiddenSize: 256, seed: 1 });
  const train = new lib.LSTM({ inputSize: 32, hiddenSize: 128, seed: 1 });
  const streamer = new lib.LSTM({ inputSize: 64, hiddenSize: 256, seed: 1 });
  const xs = x(128, 1, 64), xb = x(64, 64, 128), xt = x(32, 32, 32), step = x(1, 1, 64); // W-stream: one step per call, state kept
  return {
    "W-stream": { calls: 1000, run: () => streamer.stream(step).output.data },
    "W-seq": { calls: 10, run: () => seq.forward(xs).output.data },
    "W-gru": { calls: 10, run: () => gru.forward(xs).output.data },
    "W-batch": { calls: 1, run: () => batch.forward(xb).output.data },
    "W-train": {
      calls: 2,
      run: () => {
        const { output } = train.forward(xt, { train: true });
        return train.backward({ output }).dInput.data;
      },
    },
  };
}

async function load(path) {
  const lib = await import(pathToFileURL(path).href);
  await lib.init(undefined, { build: "simd" });
  return workloads(lib);
}

const a = await load(pathA), b = await load(pathB);
const time = (w) => {
  const t0 = performance.now();
  for (let k = 0; k < w.calls; k++) w.run();
  return (performance.now() - t0) / w.calls;
};
const median = (v) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)];

console.log(`${cpus()[0].model.trim()}, ${cpus().length} logical CPUs, Node ${process.version}, load ${loadavg()[0].toFixed(2)} at start`);
console.log(`A ${pathA}\nB ${pathB}\n${rounds} interleaved rounds per workload, wasm SIMD build\n`);
console.log("| workload | A median | B median | B/A, median of per-round ratios | range of per-round ratios |");
console.log("|---|---|---|---|---|");
for (const id of Object.keys(a)) {
  const outA = a[id].run(), outB = b[id].run();
  if (outA.length !== outB.length || outA.some((v, k) => !Object.is(v, outB[k]))) throw new Error(`${id}: the builds' outputs differ`);
  for (let k = 0; k < 3; k++) time(a[id]), time(b[id]); // warm both
  const ta = [], tb = [], ratio = [];
  for (let r = 0; r < rounds; r++) {
    const first = r % 2 === 0; // alternate which build goes first in a round
    const x = first ? time(a[id]) : 0, y = time(b[id]), x2 = first ? x : time(a[id]);
    ta.push(x2); tb.push(y); ratio.push(y / x2);
  }
  const unit = id === "W-stream" ? [1000, "µs"] : [1, "ms"];
  const f = (ms) => `${(ms * unit[0]).toFixed(id === "W-stream" ? 1 : 2)} ${unit[1]}`;
  console.log(`| ${id} | ${f(median(ta))} | ${f(median(tb))} | ${median(ratio).toFixed(3)} | ${Math.min(...ratio).toFixed(2)}-${Math.max(...ratio).toFixed(2)} |`);
}
console.log(`\nload ${loadavg()[0].toFixed(2)} at end`);
