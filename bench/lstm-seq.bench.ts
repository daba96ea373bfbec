// bench/lstm-seq.bench.ts: one LSTM layer over a whole sequence, I=64 H=256 B=1 T=128 (`npm run bench`).
// Cases, all in this process on the same weights and input: wasm relaxed SIMD (when the engine validates it),
// wasm SIMD, wasm scalar, and the plain-TypeScript reference. Before timing, every case's output must agree with
// the reference within 1e-4. Writes
//   bench/results/lstm-seq.json          benny's result (with every sample)
//   bench/results/lstm-seq.summary.json  median ms, ops/s, GFLOP/s, ratios, machine and date
// and rewrites the table in docs/benchmarks.md between <!-- bench:lstm-seq:start --> and <!-- bench:lstm-seq:end -->.
//   FLOP per LSTM step: 2·4H·(I+H)·B (input and recurrent matmuls; activations are not counted)
import v8 from "node:v8";
// Node 20 validates relaxed SIMD only behind this flag; it must be set before any wasm is compiled. Importing the
// library compiles nothing (createRuntime does), so setting it here, before the first createRuntime, is in time.
v8.setFlagsFromString("--experimental-wasm-relaxed-simd");

import { mkdirSync, writeFileSync } from "node:fs";
import { maxAbsDiff } from "../src/compare.js";
import { machineInfo, loadNow, NODE_MAJOR } from "./machine.js";
import { seededValues } from "./peers/workloads.js";
import { fileURLToPath } from "node:url";
import { add, complete, configure, cycle, save, suite } from "benny";
import { createRuntime, fromTorch, LSTM, supportsBuild, type Build, type RecurrentLayer, type Tensor } from "../src/index.js";
import { updateBenchmarkTables, type BenchSummary, type CaseSummary } from "./render-tables.js";

const I = 64, H = 256, B = 1, T = 128;
const FLOP_PER_SEQUENCE = 2 * 4 * H * (I + H) * B * T;
const TOLERANCE = 1e-4;
const SEED = 20240501;
const RESULTS = fileURLToPath(new URL("./results/", import.meta.url));


interface Case {
  name: string;
  build?: Build;
  layer: RecurrentLayer;
  maxAbsDiff?: number;
}

async function main(): Promise<void> {
  const loadBefore = loadNow(); // other work on the machine slows every case; the summary records it
  // One set of weights, in PyTorch's layout, loaded into every backend the way a user would load a model.
  const seeded = new LSTM({ inputSize: I, hiddenSize: H, seed: SEED, backend: "reference" });
  const weights = seeded.toTorch();
  seeded.dispose();
  const input: Tensor = { shape: [T, B, I], data: seededValues(T * B * I, SEED + 1) };

  const cases: Case[] = [];
  const relaxedLabel = NODE_MAJOR < 22 ? "wasm relaxed SIMD (Node 20 flag)" : "wasm relaxed SIMD";
  for (const [build, name] of [["relaxed", relaxedLabel], ["simd", "wasm SIMD"], ["scalar", "wasm scalar"]] as const) {
    if (!(await supportsBuild(build))) {
      console.log(`${name}: skipped, this engine does not validate the ${build} build`);
      continue;
    }
    const runtime = await createRuntime(undefined, { build });
    cases.push({ name, build, layer: fromTorch(weights, { runtime }) as RecurrentLayer });
  }
  cases.push({ name: "reference (TypeScript)", layer: fromTorch(weights, { backend: "reference" }) as RecurrentLayer });

  // Agreement before timing: a fast wrong answer is not a result.
  const want = cases[cases.length - 1].layer.forward(input);
  for (const c of cases) {
    const got = c.layer.forward(input);
    c.maxAbsDiff = Math.max(maxAbsDiff(got.output.data, want.output.data), maxAbsDiff(got.hN.data, want.hN.data), maxAbsDiff(got.cN!.data, want.cN!.data));
    console.log(`${c.name.padEnd(34)} max |output - reference| = ${c.maxAbsDiff.toExponential(2)}`);
    if (!(c.maxAbsDiff <= TOLERANCE)) throw new Error(`${c.name} disagrees with the reference by ${c.maxAbsDiff} (tolerance ${TOLERANCE}); not timing it`);
  }

  mkdirSync(RESULTS, { recursive: true });
  const summary = await suite(
    `LSTM sequence I=${I} H=${H} B=${B} T=${T}`,
    configure({ cases: { minSamples: 10, maxTime: 4 } }),
    ...cases.map((c) => add(c.name, () => {
      c.layer.forward(input);
    })),
    cycle(),
    complete(),
    save({ file: "lstm-seq", folder: RESULTS, details: true, format: "json" }),
  );

  const medians = summary.results.map((r) => r.details.median * 1000); // benchmark.js samples are seconds per call
  const fastest = Math.min(...medians);
  const referenceMs = medians[cases.length - 1];
  const results: CaseSummary[] = summary.results.map((r, k) => {
    const medianMs = medians[k];
    return {
      name: r.name,
      build: cases[k].build ?? "reference",
      medianMs,
      meanMs: r.details.mean * 1000,
      rmePercent: r.details.relativeMarginOfError,
      samples: r.samples,
      opsPerSec: 1000 / medianMs,
      stepsPerSec: (T * 1000) / medianMs,
      gflops: FLOP_PER_SEQUENCE / (medianMs / 1000) / 1e9,
      timeVsFastest: medianMs / fastest,
      speedupVsReference: referenceMs / medianMs,
      maxAbsDiffVsReference: cases[k].maxAbsDiff!,
    };
  });
  const out: BenchSummary = {
    suite: "lstm-seq",
    description: `one LSTM layer over a whole sequence, I=${I} H=${H} B=${B} T=${T}, float32, one thread`,
    shape: { I, H, B, T },
    flopPerSequence: FLOP_PER_SEQUENCE,
    date: new Date().toISOString(),
    machine: machineInfo(loadBefore),
    command: "npm run bench",
    results,
  };
  writeFileSync(RESULTS + "lstm-seq.summary.json", JSON.stringify(out, null, 2) + "\n");
  console.log(`Saved to: ${RESULTS}lstm-seq.summary.json`);
  for (const c of cases) c.layer.dispose();
  const page = updateBenchmarkTables(out);
  console.log(page ? `Updated the table in ${page}` : "docs/benchmarks.md has no bench:lstm-seq markers; table not written");
}

await main();
