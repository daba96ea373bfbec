// cli/src/demo.ts: `rnn-wasm demo`: the bundled PyTorch nn.LSTM(64, 256) on its bundled
// 128-step input, on every wasm build this engine supports and on the reference backend. Prints how far each is
// from PyTorch's stored output, then a throughput table. Exits 1 when any backend disagrees with PyTorch.
//   FLOP per LSTM step: 2·4H·(I+H)·B (the input and recurrent matmuls; activations are not counted)
import { cpus } from "node:os";
import { isAbsolute, join, relative } from "node:path";
import type { Command } from "commander";
import { BUILDS, createRuntime, fromTorch, supportsBuild, type RecurrentLayer, type Runtime, type Tensor } from "rnn-wasm";
import { maxAbsDiff } from "rnn-wasm";
import { CliError, packageRoot, readSafetensorsFile, shapeText, type CliIo } from "./common.js";
import { MAX_TIMED_RUNS, positiveIntUpTo } from "./option-values.js";

/** Agreement with PyTorch we call a pass; T = 128 steps of float32 sums of 320 terms land near 1e-6. */
const TOLERANCE = 1e-4;
const WARMUP_RUNS = 3;
/** Without --runs, time each backend for about this long (and at least MIN_RUNS times). */
const BUDGET_MS = 1000;
const MIN_RUNS = 5;
const MAX_RUNS = 200;

const MODEL_FILE = "data/lstm-demo.safetensors";
const INPUT_FILE = "data/lstm-demo.input.safetensors";

interface Backend {
  label: string;
  runtime?: Runtime;
  skipped?: string;
}

interface Timing {
  label: string;
  medianMs: number;
  runs: number;
}

export function registerDemo(program: Command, io: CliIo): void {
  program
    .command("demo")
    .summary("run the bundled PyTorch LSTM, check it against PyTorch, and time wasm against the reference")
    .description(
      `Loads ${MODEL_FILE} (a PyTorch nn.LSTM(64, 256) state_dict) and ${INPUT_FILE} (input [128, 1, 64] and\n` +
      "PyTorch's output, h_n, c_n), runs it on each wasm build this engine supports and on the reference backend,\n" +
      "prints the largest difference from PyTorch and the time per sequence.",
    )
    .option("--runs <n>", `timed runs per backend (default: as many as fit in about ${BUDGET_MS / 1000} s, at least ${MIN_RUNS}; at most ${MAX_TIMED_RUNS})`, positiveIntUpTo(MAX_TIMED_RUNS))
    .action(async (options: { runs?: number }) => {
      await demo(options.runs, (line) => io.stdout.write(line + "\n"));
    });
}

/** Median wall time of `fn` after a warm-up: `runs` times, or as many as fit in the time budget. */
function time(fn: () => void, runs: number | undefined): { medianMs: number; runs: number } {
  for (let i = 0; i < WARMUP_RUNS; i++) fn();
  const samples: number[] = [];
  const started = performance.now();
  for (;;) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
    if (runs !== undefined ? samples.length >= runs : samples.length >= MAX_RUNS || (samples.length >= MIN_RUNS && performance.now() - started > BUDGET_MS)) break;
  }
  samples.sort((a, b) => a - b);
  const mid = samples.length >> 1;
  return { medianMs: samples.length % 2 ? samples[mid] : (samples[mid - 1] + samples[mid]) / 2, runs: samples.length };
}

async function backends(): Promise<Backend[]> {
  const out: Backend[] = [];
  for (const build of BUILDS) {
    const label = `wasm ${build}`;
    if (await supportsBuild(build)) out.push({ label, runtime: await createRuntime(undefined, { build }) });
    else {
      const why = build === "relaxed"
        ? "this engine does not validate relaxed SIMD (Node >= 22 does; on Node 20 run `node --experimental-wasm-relaxed-simd dist/cli.js demo`)"
        : `this engine does not validate the ${build} build`;
      out.push({ label, skipped: why });
    }
  }
  out.push({ label: "reference" });
  return out;
}

const pad = (s: string, n: number) => s.padEnd(n);
const lpad = (s: string, n: number) => s.padStart(n);
const int = (n: number) => Math.round(n).toLocaleString("en-US");

/** Runs the demo, printing through `print`; throws CliError when a backend disagrees with PyTorch. */
export async function demo(runs: number | undefined, print: (line: string) => void): Promise<void> {
  const root = packageRoot();
  const regenerate = "regenerate it with `/usr/bin/python3 scripts/make_fixtures.py`";
  const weights = readSafetensorsFile(join(root, MODEL_FILE), "demo model").tensors;
  const data = readSafetensorsFile(join(root, INPUT_FILE), "demo input").tensors;
  for (const name of ["input", "output", "h_n", "c_n"]) {
    if (!data[name]) throw new CliError(`demo input file '${join(root, INPUT_FILE)}' has no '${name}' tensor; ${regenerate}`);
  }
  const want: Record<string, Tensor> = { output: data.output, h_n: data.h_n, c_n: data.c_n };
  const input = data.input;
  const [T, B, I] = input.shape;
  const parameters = Object.values(weights).reduce((n, t) => n + t.data.length, 0);

  const list = await backends();
  const first = fromTorch(weights, { backend: "reference" }) as RecurrentLayer;
  const s = first.spec;
  first.dispose();
  if (s.kind !== "lstm" || s.cell) throw new CliError(`demo model '${MODEL_FILE}' is not an LSTM layer; ${regenerate}`);
  const H = s.hiddenSize;
  const flopPerStep = 2 * 4 * H * (I + H) * B;

  const shownPath = (p: string) => {
    const rel = relative(process.cwd(), join(root, p));
    return rel.startsWith("..") || isAbsolute(rel) ? join(root, p) : rel;
  };
  print(`rnn-wasm demo: a PyTorch nn.LSTM(input_size=${I}, hidden_size=${H}) over a ${T}-step sequence, batch ${B}`);
  print("");
  print(`  model  ${shownPath(MODEL_FILE)}  (${int(parameters)} float32 parameters)`);
  print(`  input  ${shownPath(INPUT_FILE)}  (input ${shapeText(input.shape)}, and PyTorch's output ${shapeText(want.output.shape)}, h_n ${shapeText(want.h_n.shape)}, c_n ${shapeText(want.c_n.shape)})`);
  print("");
  print(`Agreement with PyTorch (largest |ours - PyTorch| per tensor; pass below ${TOLERANCE.toExponential(0)}):`);

  const timings: Timing[] = [];
  const failures: string[] = [];
  for (const b of list) {
    if (b.skipped) {
      print(`  ${pad(b.label, 13)} skipped: ${b.skipped}`);
      continue;
    }
    const layer = fromTorch(weights, b.runtime ? { runtime: b.runtime } : { backend: "reference" }) as RecurrentLayer;
    try {
      const r = layer.forward(input);
      const got: Record<string, Tensor | undefined> = { output: r.output, h_n: r.hN, c_n: r.cN };
      const cols: string[] = [];
      let worst = 0;
      for (const name of Object.keys(want)) {
        const g = got[name];
        const same = g !== undefined && shapeText(g.shape) === shapeText(want[name].shape);
        const d = same ? maxAbsDiff(g.data, want[name].data) : NaN;
        worst = Math.max(worst, d); // NaN stays NaN, and NaN <= TOLERANCE is false
        cols.push(`${name} ${lpad(same ? d.toExponential(1) : "shape differs", 7)}`);
      }
      const ok = worst <= TOLERANCE;
      if (!ok) failures.push(b.label);
      print(`  ${pad(b.label, 13)} ${cols.join("   ")}   ${ok ? "agrees" : "DISAGREES"}`);
      const t = time(() => layer.forward(input), runs);
      timings.push({ label: b.label, ...t });
    } finally {
      layer.dispose();
    }
  }

  print("");
  print(`Throughput (T=${T}, B=${B}, I=${I}, H=${H}; an LSTM step is 2·4H·(I+H)·B = ${int(flopPerStep)} FLOP; median of the timed runs after ${WARMUP_RUNS} warm-up runs):`);
  const header = `  ${pad("backend", 13)} ${lpad("ms/sequence", 11)} ${lpad("steps/s", 9)} ${lpad("GFLOP/s", 8)} ${lpad("vs reference", 13)} ${lpad("runs", 5)}`;
  print(header);
  const reference = timings.find((t) => t.label === "reference");
  for (const t of timings) {
    const stepsPerSecond = T / (t.medianMs / 1000);
    const gflops = (flopPerStep * T) / (t.medianMs / 1000) / 1e9;
    const speedup = reference ? `${(reference.medianMs / t.medianMs).toFixed(1)}x` : "-";
    print(`  ${pad(t.label, 13)} ${lpad(t.medianMs.toFixed(2), 11)} ${lpad(int(stepsPerSecond), 9)} ${lpad(gflops.toFixed(2), 8)} ${lpad(speedup, 13)} ${lpad(String(t.runs), 5)}`);
  }
  print("");
  const cpu = cpus()[0]?.model?.trim() ?? "unknown CPU";
  print(`Node ${process.version} on ${cpu} (${cpus().length} logical CPUs, ${process.platform} ${process.arch}); one thread.`);
  if (failures.length) throw new CliError(`${failures.join(", ")} disagree${failures.length === 1 ? "s" : ""} with PyTorch by more than ${TOLERANCE}`);
}
