// bench/cold-start.ts: cold start per system: a fresh process that imports the library, loads and compiles what it
// needs (wasm included), builds the W-seq model (LSTM I=64 H=256) from a file and produces the first output for the
// W-seq input (T=128, B=1). Part of `npm run bench`; alone: `npx tsx bench/cold-start.ts [--runs 5]`.
// Each child is plain `node` (no tsx) running a short ES module given with -e (PyTorch: /usr/bin/python3 -c); it
// measures with its own clock from just before the library's import (builtins such as node:fs are loaded first) to
// the output, and prints JSON: importMs (the import alone), fromImportMs (import to first output) and the last
// step's h, which is compared with our reference's (1e-4). This process also measures spawn -> that JSON line
// (process start included). Runs go round-robin over the systems after one warm-up round (file cache), and the
// table reports medians. Writes bench/results/workloads.cold-start.json, the table in docs/benchmarks.md between
// <!-- bench:cold-start:start --> and <!-- bench:cold-start:end -->, and redraws bench/results/workloads.svg.
//   Model files, as each user would ship them: rnn-wasm reads the PyTorch state_dict (safetensors) with
//   loadSafetensors + fromTorch; ONNX Runtime the exported .onnx; TensorFlow.js a raw float32 file of its
//   [kernel, recurrent_kernel, bias] in Keras' layout (mapped here beforehand: a user would ship a converted
//   model); brain.js builds its own random LSTM (speed only, as in the W-seq table). Input: a raw float32 file.
//   The int8 rows (rnn-wasm-<build>-int8) load the same model quantized (issue 14): an int8 model file written by
//   saveQuantized beforehand (as a user ships one, `rnn-wasm quantize`), read with loadQuantized; their check is
//   against the float32 reference within INT8_TOLERANCE (int8's own error, not a fault).
// `--only rnn-wasm-simd,rnn-wasm-simd-int8` times those systems alone and prints their table without writing the
// results or docs (for comparing the library's own rows before and after a change).
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, InvalidArgumentError } from "commander";
import { loadNow, machineInfo, NODE_MAJOR } from "./machine.js";
import { writeChart } from "./chart.js";
import { updateBenchmarkTables, type ColdStartRow, type ColdStartSummary } from "./render-tables.js";
import { rnnWasmPeer, ourLabel } from "./peers/rnn-wasm.js";
import { pytorchMissing, PYTHON } from "./peers/pytorch.js";
import { brainLabel } from "./peers/brain.js";
import { ortLabel } from "./peers/ort.js";
import { kerasWeights, tfjsLabel } from "./peers/tfjs.js";
import { MODELS_DIR, TOLERANCE, WORKLOADS, loadWorkloadData } from "./peers/workloads.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const BENCH = fileURLToPath(new URL("./", import.meta.url));
const RESULTS = fileURLToPath(new URL("./results/", import.meta.url));
const W = WORKLOADS["W-seq"];
const { I, H, T } = W;
/**
 * The int8 rows' check against the float32 reference: the largest |h| difference int8 weights and activations may
 * make. docs/quantization.md measures int8's error on this model at 0.58% of max |output| (|h| < 1 for an LSTM), so
 * 0.02 is over three times that; a broken load (wrong order, wrong scales) is off by 0.1 or more.
 */
const INT8_TOLERANCE = 0.02;

interface System {
  peer: string;
  label: string;
  command: string;
  args: string[];
  speedOnly?: string;
  missing?: string | null;
  /** Largest |first output - float32 reference| accepted (default TOLERANCE). */
  tolerance?: number;
}

/**
 * The ES module a Node child runs: `setup` before the clock starts, `load` timed as the import, `first` the rest.
 * `first` may call mark() between its stages: the times from one mark to the next are printed as its phases.
 */
function nodeChild(load: string, first: string, setup = ""): string {
  return `import { readFileSync } from "node:fs";
${setup}
const marks = [];
const mark = () => marks.push(performance.now());
const t0 = performance.now();
${load}
const t1 = performance.now();
${first}
const t2 = performance.now();
const phases = [t1, ...marks, t2].slice(1).map((t, i) => t - [t1, ...marks][i]);
console.log(JSON.stringify({ importMs: t1 - t0, fromImportMs: t2 - t0, phasesMs: phases, last: Array.from(last) }));`;
}

/** The phases our children mark: init(), the model built from its file, the first forward. */
const OUR_PHASES = ["init", "model and input from their files", "first forward"];

function systems(files: { input: string; keras: string; int8: string }): System[] {
  const input = `const x = new Float32Array(readFileSync(${JSON.stringify(files.input)}).buffer.slice(0));`;
  const onnx = JSON.stringify(MODELS_DIR + W.model + ".onnx");
  const ours = (build: "simd" | "relaxed"): System => ({
    peer: `rnn-wasm-${build}`,
    label: ourLabel(build),
    command: process.execPath,
    args: [...(build === "relaxed" && NODE_MAJOR < 22 ? ["--experimental-wasm-relaxed-simd"] : []), "--input-type=module", "-e", nodeChild(
      `const { init, fromTorch, loadSafetensors } = await import("rnn-wasm");`,
      `const runtime = await init(undefined, { build: "${build}" });
if (runtime.build !== "${build}") throw new Error("loaded " + runtime.build);
mark();
const lstm = fromTorch(loadSafetensors(readFileSync(${JSON.stringify(MODELS_DIR + W.model + ".safetensors")})).tensors);
${input}
mark();
const { output } = lstm.forward({ shape: [${T}, 1, ${I}], data: x });
const last = output.data.subarray(${(T - 1) * H});`)],
  });
  const int8 = (build: "simd" | "relaxed"): System => ({
    peer: `rnn-wasm-${build}-int8`,
    label: `${ourLabel(build)}, int8 model file`,
    command: process.execPath,
    tolerance: INT8_TOLERANCE,
    args: [...(build === "relaxed" && NODE_MAJOR < 22 ? ["--experimental-wasm-relaxed-simd"] : []), "--input-type=module", "-e", nodeChild(
      `const { init, loadQuantized } = await import("rnn-wasm");`,
      `const runtime = await init(undefined, { build: "${build}" });
if (runtime.build !== "${build}") throw new Error("loaded " + runtime.build);
mark();
const lstm = loadQuantized(readFileSync(${JSON.stringify(files.int8)}));
${input}
mark();
const { output } = lstm.forward({ shape: [${T}, 1, ${I}], data: x });
const last = output.data.subarray(${(T - 1) * H});`)],
  });
  const tfjs = (backend: "cpu" | "wasm"): System => ({
    peer: `tfjs-${backend}`,
    label: tfjsLabel(backend),
    command: process.execPath,
    args: ["--input-type=module", "-e", nodeChild(
      `const tf = await import("@tensorflow/tfjs");${backend === "wasm" ? `\nawait import("@tensorflow/tfjs-backend-wasm");` : ""}`,
      `await tf.setBackend("${backend}");
const k = new Float32Array(readFileSync(${JSON.stringify(files.keras)}).buffer.slice(0));
const layer = tf.layers.lstm({ units: ${H}, recurrentActivation: "sigmoid", returnSequences: true, inputShape: [${T}, ${I}],
  kernelInitializer: "zeros", recurrentInitializer: "zeros" });
const model = tf.sequential({ layers: [layer] });
layer.setWeights([tf.tensor2d(k.subarray(0, ${I * 4 * H}), [${I}, ${4 * H}]),
  tf.tensor2d(k.subarray(${I * 4 * H}, ${(I + H) * 4 * H}), [${H}, ${4 * H}]), tf.tensor1d(k.subarray(${(I + H) * 4 * H}))]);
${input}
const y = model.predict(tf.tensor3d(x, [1, ${T}, ${I}]));
const last = y.dataSync().subarray(${(T - 1) * H});`,
      `console.warn = () => {}; // tfjs' advice to install tfjs-node`)],
  });
  const ort = (flavour: "web" | "node"): System => ({
    peer: `ort-${flavour}`,
    label: ortLabel(flavour),
    command: process.execPath,
    args: ["--input-type=module", "-e", nodeChild(
      `const ort = await import("onnxruntime-${flavour}");`,
      `${flavour === "web" ? "ort.env.wasm.numThreads = 1;\n" : ""}const session = await ort.InferenceSession.create(${onnx}, {
  executionProviders: ["${flavour === "web" ? "wasm" : "cpu"}"], graphOptimizationLevel: "all", executionMode: "sequential",
  intraOpNumThreads: 1, interOpNumThreads: 1 });
${input}
const zeros = () => new ort.Tensor("float32", new Float32Array(${H}), [1, 1, ${H}]);
const out = await session.run({ input: new ort.Tensor("float32", x, [${T}, 1, ${I}]), h0: zeros(), c0: zeros() });
const last = out.output.data.subarray(${(T - 1) * H});`)],
  });
  const brain: System = {
    peer: "brain",
    label: brainLabel(),
    command: process.execPath,
    speedOnly: "brain.js' LSTM has no separate cell state, so it computes another function: timed, not checked (random weights)",
    args: ["--input-type=module", "-e", nodeChild(
      `const brain = require("brain.js");`,
      `const net = new brain.recurrent.LSTMTimeStep({ inputSize: ${I}, hiddenLayers: [${H}], outputSize: 1 });
net.initialize();
net.bindEquation();
${input}
net.run(Array.from({ length: ${T} }, (_, t) => x.subarray(t * ${I}, (t + 1) * ${I})));
const last = net.model.equationConnections[${T - 1}][0].weights;`,
      `import { createRequire } from "node:module";\nconst require = createRequire(process.cwd() + "/");`)],
  };
  const pytorch: System = {
    peer: "pytorch",
    label: "PyTorch, one thread",
    command: PYTHON,
    missing: pytorchMissing(),
    args: ["-c", `import json, sys, time
t0 = time.perf_counter()
import torch
t1 = time.perf_counter()
torch.set_num_threads(1)
sys.path.insert(0, ${JSON.stringify(join(ROOT, "scripts"))})
from safetensors_io import read_safetensors
import numpy as np
lstm = torch.nn.LSTM(${I}, ${H})
lstm.load_state_dict(read_safetensors(${JSON.stringify(MODELS_DIR + W.model + ".safetensors")})[0])
x = torch.from_numpy(np.fromfile(${JSON.stringify(files.input)}, dtype="<f4").reshape(${T}, 1, ${I}))
with torch.inference_mode():
    y = lstm(x)[0]
t2 = time.perf_counter()
print(json.dumps({"importMs": (t1 - t0) * 1e3, "fromImportMs": (t2 - t0) * 1e3, "last": y[-1, 0].tolist(), "version": torch.__version__}))`],
  };
  return [ours("simd"), ours("relaxed"), int8("simd"), int8("relaxed"), tfjs("cpu"), tfjs("wasm"), ort("web"), brain, ort("node"), pytorch];
}

interface Run {
  importMs: number;
  fromImportMs: number;
  spawnToOutputMs: number;
  /** ms between the child's marks (our rows: OUR_PHASES); one entry (the whole) for the others. */
  phasesMs?: number[];
  last: number[];
  /** PyTorch's version (the Python child prints it). */
  version?: string;
}

/** Spawns one child; resolves when its JSON line arrives (spawn -> line timed here), rejects on failure. */
function runOnce(s: System): Promise<Run> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    // In bench/: the peers are bench/'s own dependencies (bench/node_modules), and "rnn-wasm" resolves from there to
    // the repository's package through its node_modules link, as an installed one would.
    const child = spawn(s.command, s.args, { cwd: BENCH, stdio: ["ignore", "pipe", "pipe"] });
    let out = "", err = "", done = false;
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (!done && line && out.slice(out.indexOf(line) + line.length).includes("\n")) {
        done = true;
        const spawnToOutputMs = performance.now() - t0;
        resolve({ ...(JSON.parse(line) as Omit<Run, "spawnToOutputMs">), spawnToOutputMs });
      }
    });
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    child.on("close", (code) => {
      if (!done) reject(new Error(`${s.label} exited with ${code}: ${err.trim().split("\n").slice(-3).join(" | ")}`));
    });
  });
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const program = new Command()
    .name("cold-start.ts")
    .description("cold start per system: a fresh process from import to the first W-seq output")
    .option("--runs <n>", "timed runs per system (after one warm-up run)", (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a positive integer");
      return n;
    }, 5)
    .option("--no-docs", "do not rewrite the table in docs/benchmarks.md or the chart")
    .option("--only <peers>", "time only these systems (comma-separated ids, e.g. rnn-wasm-simd,rnn-wasm-simd-int8); writes nothing")
    .parse(process.argv);
  const options = program.opts<{ runs: number; docs: boolean; only?: string }>();
  if (!existsSync(join(ROOT, "dist/src/index.js"))) throw new Error("dist/ is missing: run `npm run build` first (the children import the built package)");

  const loadBefore = loadNow();
  const data = loadWorkloadData(W);
  const dir = mkdtempSync(join(tmpdir(), "rnn-wasm-cold-"));
  try {
    const files = { input: join(dir, "input.f32"), keras: join(dir, "keras.f32"), int8: join(dir, "int8.safetensors") };
    writeFileSync(files.input, data.input);
    writeFileSync(files.int8, await int8File());
    const k = kerasWeights(data.weights, "lstm", I, H);
    writeFileSync(files.keras, new Float32Array([...k.kernel, ...k.recurrent, ...k.bias]));

    const reference = await rnnWasmPeer("reference").setup(data);
    const want = (await reference.check()).output!.subarray((T - 1) * H);
    reference.dispose();

    const only = options.only?.split(",").map((p) => p.trim());
    const all = systems(files).filter((s) => !only || only.includes(s.peer));
    if (only && all.length !== only.length) throw new Error(`--only names unknown systems: ${only.filter((p) => !all.some((s) => s.peer === p)).join(", ")}`);
    const runs = new Map<string, Run[]>(all.map((s) => [s.peer, []]));
    const failed = new Map<string, string>();
    for (let round = 0; round <= options.runs; round++) { // round 0 warms the file cache and is not kept
      for (const s of all) {
        if (s.missing || failed.has(s.peer)) continue;
        try {
          const r = await runOnce(s);
          if (round > 0) runs.get(s.peer)!.push(r);
          if (round === 1) console.log(`${s.label.padEnd(48)} import ${r.importMs.toFixed(1)} ms, to first output ${r.fromImportMs.toFixed(1)} ms, spawn to output ${r.spawnToOutputMs.toFixed(0)} ms`);
        } catch (e) {
          failed.set(s.peer, (e as Error).message);
          console.log((e as Error).message);
        }
      }
    }

    const rows: ColdStartRow[] = all.map((s): ColdStartRow => {
      const base = { peer: s.peer, label: s.label, runs: options.runs };
      if (s.missing) return { ...base, status: "skipped", reason: s.missing, runs: 0 };
      if (failed.has(s.peer)) return { ...base, status: "error", reason: failed.get(s.peer)!, runs: 0 };
      const rs = runs.get(s.peer)!;
      if (rs[0]?.version) base.label = `PyTorch ${rs[0].version.split("+")[0]}, one thread`;
      let maxAbsDiff = 0;
      for (const r of rs) for (let j = 0; j < H; j++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(r.last[j] - want[j]));
      if (!s.speedOnly && !(maxAbsDiff <= (s.tolerance ?? TOLERANCE))) {
        return { ...base, status: "error", reason: `its first output differs from our reference by ${maxAbsDiff.toExponential(2)}`, maxAbsDiff };
      }
      return {
        ...base,
        status: "timed",
        speedOnly: s.speedOnly ? true : undefined,
        reason: s.speedOnly,
        importMs: median(rs.map((r) => r.importMs)),
        fromImportMs: median(rs.map((r) => r.fromImportMs)),
        fromProcessStartMs: median(rs.map((r) => r.spawnToOutputMs)),
        fromImportRuns: rs.map((r) => Number(r.fromImportMs.toFixed(2))),
        maxAbsDiff: s.speedOnly ? undefined : maxAbsDiff,
      };
    });
    const summary: ColdStartSummary = {
      suite: "cold-start",
      description: `Cold start: a fresh process per system imports the library, loads and compiles it (wasm included), builds the W-seq ` +
        `model (LSTM I=${I} H=${H}) from its file and computes the first output for the W-seq input (T=${T}, B=1). "Import" is the ` +
        `import alone; "import to first output" is the whole of it, measured in the child; "process spawn to first output" adds ` +
        `starting the process (Node or Python), measured by the parent.`,
      date: new Date().toISOString(),
      machine: machineInfo(loadBefore),
      command: "npm run bench",
      rows,
    };
    if (only) {
      console.log(`Medians of ${options.runs} runs (Node ${process.version}, 1-min load average ${loadBefore.toFixed(2)} before, ${loadNow().toFixed(2)} after); nothing written (--only):`);
      for (const r of rows) {
        console.log(r.status === "timed"
          ? `${r.label.padEnd(56)} import ${r.importMs!.toFixed(1)}, import to first output ${r.fromImportMs!.toFixed(1)} [${r.fromImportRuns!.join(", ")}], spawn to output ${r.fromProcessStartMs!.toFixed(0)} ms; max abs diff ${r.maxAbsDiff?.toExponential(1)}`
          : `${r.label}: ${r.status} (${r.reason})`);
        const rs = runs.get(r.peer) ?? [];
        if (r.status === "timed" && rs[0]?.phasesMs?.length === OUR_PHASES.length) {
          console.log(`${"".padEnd(56)} after the import (medians): ${OUR_PHASES.map((name, i) => `${name} ${median(rs.map((x) => x.phasesMs![i])).toFixed(1)}`).join(", ")} ms`);
        }
      }
      return;
    }
    writeFileSync(RESULTS + "workloads.cold-start.json", JSON.stringify(summary, null, 2) + "\n");
    console.log(`Saved to: ${RESULTS}workloads.cold-start.json`);
    if (options.docs) {
      if (existsSync(RESULTS + "workloads.json")) console.log(`Chart: ${writeChart()}`);
      const page = updateBenchmarkTables(summary);
      console.log(page ? `Updated the table in ${page}` : "docs/benchmarks.md has no bench:cold-start markers; table not written");
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The W-seq model as an int8 model file, written by the built package (what `rnn-wasm quantize` writes). */
async function int8File(): Promise<Uint8Array> {
  type Lib = typeof import("../src/index.js");
  const lib = (await import(join(ROOT, "dist/rnn-wasm.node.js"))) as Lib;
  await lib.init();
  const float = lib.fromTorch(lib.loadSafetensors(readFileSync(MODELS_DIR + W.model + ".safetensors")).tensors) as import("../src/index.js").RecurrentLayer;
  const q = lib.quantize(float, { dtype: "int8" });
  try {
    return lib.saveQuantized(q, { source: W.model + ".safetensors" });
  } finally {
    q.dispose();
    float.dispose();
  }
}

await main();
