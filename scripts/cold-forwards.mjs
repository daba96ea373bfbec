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
const t0 = performance.now();
const lib = await import(${JSON.stringify(bundle(tree))});
const t1 = performance.now();
await lib.init();
const t2 = performance.now();
const model = ${quantized ? `lib.loadQuantized(readFileSync(${JSON.stringify(file)}))` : `new lib.${kind}({ inputSize: 64, hiddenSize: 256, seed: 1 })`};
const data = Float32Array.from({ length: 128 * 64 }, (_, k) => Math.sin(k * 0.37));
const t3 = performance.now();
const forwards = [];
let out;
for (let i = 0; i < ${FORWARDS}; i++) {
  const s = performance.now();
  out = model.forward({ shape: [128, 1, 64], data }).output.data;
  forwards.push(performance.now() - s);
}
let hash = 0;
for (const b of new Uint8Array(out.buffer, out.byteOffset, out.byteLength)) hash = (hash * 31 + b) >>> 0;
console.log(JSON.stringify({ importMs: t1 - t0, initMs: t2 - t1, modelMs: t3 - t2, forwards, toFirstMs: t3 - t0 + forwards[0], hash }));`;

  const flags = values["node-flags"].split(" ").filter(Boolean);
  const runs = trees.map(() => []);
  const load0 = loadavg()[0];
  for (let r = 0; r < Number(values.rounds); r++) {
    trees.forEach((tree, i) => {
      runs[i].push(JSON.parse(execFileSync(process.execPath, [...flags, "--input-type=module", "-e", child(tree)]).toString()));
    });
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const f = (x) => x.toFixed(1).padStart(5);
  console.log(`${values.model}, medians of ${values.rounds} fresh processes per tree (Node ${process.version}${flags.length ? " " + flags.join(" ") : ""}; 1-min load ${load0.toFixed(2)} before, ${loadavg()[0].toFixed(2)} after), ms`);
  console.log(`${"tree".padEnd(34)} import  init model | ${Array.from({ length: FORWARDS }, (_, k) => `   f${k + 1}`).join(" ")} | f1-f4  to first output`);
  trees.forEach((tree, i) => {
    const R = runs[i];
    const fw = Array.from({ length: FORWARDS }, (_, k) => f(median(R.map((x) => x.forwards[k]))));
    const first4 = median(R.map((x) => x.forwards.slice(0, 4).reduce((a, b) => a + b, 0)));
    console.log(`${tree.slice(-34).padEnd(34)} ${f(median(R.map((x) => x.importMs)))} ${f(median(R.map((x) => x.initMs)))} ${f(median(R.map((x) => x.modelMs)))} | ${fw.join(" ")} | ${f(first4)}  ${f(median(R.map((x) => x.toFirstMs)))}`);
  });
  const hashes = new Set(runs.flat().map((x) => x.hash));
  if (hashes.size > 1) {
    console.log(`outputs differ between trees or runs (${hashes.size} hashes)`);
    process.exitCode = 1;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
