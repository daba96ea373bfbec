// scripts/cold-forwards.mjs: the first forwards of fresh processes, per build of the library, interleaved, to tell
// whether a kernel change moves the cold path (issue 14). V8 runs each wasm function in its baseline compiler
// (Liftoff) until it has run a while, then optimizes it in the background and runs the new code from the function's
// next call, so a process's first forwards run slower than later ones, by how soon the optimized code arrives.
// bench/cold-start.ts times one tree's first output; this compares trees, forward by forward: each round starts one
// child per tree (so load drifting on a shared machine falls on all alike) and the table gives medians.
//
//   node scripts/cold-forwards.mjs [--rounds 9] [--model int8|f32|gru-int8|gru-f32] [--node-flags="--flag ..."] TREE...
//
// A TREE is a checkout with dist/ and build/ built (dist/rnn-wasm.node.js reads ../build/*.wasm), e.g. a worktree at
// the commit before a change and this one. The model is the W-seq LSTM (I=64, H=256; gru-*: the W-gru GRU), seed
// 1, and the W-seq input (T=128, B=1); the int8 models go through a file written once by the first tree
// (saveQuantized) and read by every child with loadQuantized, as a user's program would. Each child times the
// import, init(), the model from its file (or built from its seed), then 8 forwards, and checks that the trees'
// outputs agree bit for bit.
//
// --node-flags takes several sets of Node/V8 flags separated by ';' (an empty set is the default): each tree then
// runs once per set in every round, e.g. `--node-flags=";--wasm-num-compilation-tasks=1;--liftoff-only" .` compares
// V8's default tiering with one background compile task and with no optimizing compiler. On Linux each child also
// counts its minor page faults per phase (the whole process's, /proc/self/stat: V8's compile threads included), and
// one more child measures what a first touch of a fresh 4 KiB page costs on this machine, so the table can say how
// much of a cold start the fresh memory is (about 11 us a page on our Firecracker VMs, against well under 1 us on
// most hosts).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, loadavg } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { rounds: { type: "string", default: "9" }, model: { type: "string", default: "int8" }, "node-flags": { type: "string", default: "" } },
});
const MODELS = ["int8", "f32", "gru-int8", "gru-f32"];
if (positionals.length === 0 || !MODELS.includes(values.model)) {
  console.error(`usage: node scripts/cold-forwards.mjs [--rounds 9] [--model ${MODELS.join("|")}] [--node-flags="--flag ..."] TREE...`);
  process.exit(2);
}
const trees = positionals.map((p) => resolve(p));
const bundle = (tree) => pathToFileURL(join(tree, "dist/rnn-wasm.node.js")).href;
const FORWARDS = 8;
const kind = values.model.startsWith("gru") ? "GRU" : "LSTM";
const quantized = values.model.endsWith("int8");

const dir = mkdtempSync(join(tmpdir(), "cold-forwards-"));
const file = join(dir, "model.int8.safetensors");
try {
  if (quantized) {
    const lib = await import(bundle(trees[0]));
    await lib.init();
    writeFileSync(file, lib.saveQuantized(lib.quantize(new lib[kind]({ inputSize: 64, hiddenSize: 256, seed: 1 }), { dtype: "int8" })));
  }
  const child = (tree) => `import { readFileSync } from "node:fs";
import { minorFaults as faults } from ${JSON.stringify(new URL("./page-faults.mjs", import.meta.url).href)};
const f0 = faults();
const t0 = performance.now();
const lib = await import(${JSON.stringify(bundle(tree))});
const t1 = performance.now();
const f1 = faults();
await lib.init();
const t2 = performance.now();
const f2 = faults();
const model = ${quantized ? `lib.loadQuantized(readFileSync(${JSON.stringify(file)}))` : `new lib.${kind}({ inputSize: 64, hiddenSize: 256, seed: 1 })`};
const data = Float32Array.from({ length: 128 * 64 }, (_, k) => Math.sin(k * 0.37));
const t3 = performance.now();
const f3 = faults();
const forwards = [];
let f4 = 0;
let out;
for (let i = 0; i < ${FORWARDS}; i++) {
  const s = performance.now();
  out = model.forward({ shape: [128, 1, 64], data }).output.data;
  forwards.push(performance.now() - s);
  if (i === 0) f4 = faults();
}
let hash = 0;
for (const b of new Uint8Array(out.buffer, out.byteOffset, out.byteLength)) hash = (hash * 31 + b) >>> 0;
const faultsPerPhase = [f1 - f0, f2 - f1, f3 - f2, f4 - f3];
console.log(JSON.stringify({ importMs: t1 - t0, initMs: t2 - t1, modelMs: t3 - t2, forwards, toFirstMs: t3 - t0 + forwards[0], hash, faults: faultsPerPhase }));`;

  // A first touch of 16 MiB of fresh memory in a new process: the cost of one page fault on this machine.
  const faultCost = () => {
    const code = `const a = new Uint8Array(16 << 20); const t = performance.now();
for (let i = 0; i < a.length; i += 4096) a[i] = 1;
console.log(JSON.stringify({ usPerPage: (performance.now() - t) * 1000 / (a.length / 4096) }));`;
    return JSON.parse(execFileSync(process.execPath, ["-e", code]).toString()).usPerPage;
  };

  const flagSets = values["node-flags"].split(";").map((set) => set.split(" ").filter(Boolean));
  const systems = trees.flatMap((tree) => flagSets.map((flags) => ({ tree, flags })));
  const runs = systems.map(() => []);
  const pageUs = [];
  const load0 = loadavg()[0];
  for (let r = 0; r < Number(values.rounds); r++) {
    systems.forEach(({ tree, flags }, i) => {
      runs[i].push(JSON.parse(execFileSync(process.execPath, [...flags, "--input-type=module", "-e", child(tree)]).toString()));
    });
    pageUs.push(faultCost());
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const f = (x) => x.toFixed(1).padStart(5);
  const us = median(pageUs);
  console.log(`${values.model}, medians of ${values.rounds} fresh processes per tree and flag set (Node ${process.version}; 1-min load ${load0.toFixed(2)} before, ${loadavg()[0].toFixed(2)} after), ms`);
  console.log(`${"tree [flags]".padEnd(44)} import  init model | ${Array.from({ length: FORWARDS }, (_, k) => `   f${k + 1}`).join(" ")} | f1-f4  to first output`);
  const label = ({ tree, flags }) => (tree.slice(-24) + (flags.length ? ` [${flags.join(" ")}]` : "")).slice(-44).padEnd(44);
  systems.forEach((system, i) => {
    const R = runs[i];
    const fw = Array.from({ length: FORWARDS }, (_, k) => f(median(R.map((x) => x.forwards[k]))));
    const first4 = median(R.map((x) => x.forwards.slice(0, 4).reduce((a, b) => a + b, 0)));
    console.log(`${label(system)} ${f(median(R.map((x) => x.importMs)))} ${f(median(R.map((x) => x.initMs)))} ${f(median(R.map((x) => x.modelMs)))} | ${fw.join(" ")} | ${f(first4)}  ${f(median(R.map((x) => x.toFirstMs)))}`);
  });
  if (Number.isFinite(us) && runs.every((R) => R.every((x) => x.faults.every(Number.isFinite)))) {
    console.log(`\nMinor page faults per phase (the whole process: V8's background compile threads included), medians; a fresh page's first touch costs ${us.toFixed(1)} us here (median of ${pageUs.length} probes), so the faults up to the first output stand for about the ms shown:`);
    console.log(`${"tree [flags]".padEnd(44)} import  init model    f1 | to first output   ~ms of faults`);
    systems.forEach((system, i) => {
      const R = runs[i];
      const col = (k) => median(R.map((x) => x.faults[k]));
      const total = median(R.map((x) => x.faults.reduce((a, b) => a + b, 0)));
      console.log(`${label(system)} ${[0, 1, 2, 3].map((k) => String(col(k)).padStart(5)).join(" ")} | ${String(total).padStart(15)}   ${(total * us / 1000).toFixed(1).padStart(13)}`);
    });
  }
  const hashes = new Set(runs.flat().map((x) => x.hash));
  if (hashes.size > 1) {
    console.log(`outputs differ between trees or runs (${hashes.size} hashes)`);
    process.exitCode = 1;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
