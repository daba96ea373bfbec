// bench/train-step.bench.ts: one training step of a sequence-to-one LSTM regressor (`npm run bench`).
//   model   Sequential([LSTM(I=32, H=128), LastStep(), Linear(128, 1)]), B=32 sequences of T=32 steps
//   step    zeroGrad + forward(train) + mseLoss + backward (BPTT) + Adam step (lr 1e-3, PyTorch defaults)
// Cases, all in this process from the same initial weights, input and random targets: wasm relaxed SIMD (when
// the engine validates it), wasm SIMD, wasm scalar, and the plain-TypeScript reference. Before timing, one step
// from the same start must leave every case's weights within 1e-4 of the reference's. Writes
//   bench/results/train-step.json          benny's result (with every sample)
//   bench/results/train-step.summary.json  median ms, steps/s, GFLOP/s, ratios, machine and date
// and rewrites the table in docs/benchmarks.md between <!-- bench:train-step:start --> and <!-- bench:train-step:end -->.
//   FLOP: forward 2·4H·(I+H)·B·T (the LSTM's input and recurrent matmuls); backward counted as 2x forward (the
//   gradients of the input and of the weights are one matmul each per forward matmul), so a step counts 3x
//   forward. The Linear head, the loss, the activations and Adam's pass over the parameters are not counted.
import v8 from "node:v8";
// Node 20 validates relaxed SIMD only behind this flag; it must be set before any wasm is compiled. Importing the
// library compiles nothing (createRuntime does), so setting it here, before the first createRuntime, is in time.
v8.setFlagsFromString("--experimental-wasm-relaxed-simd");

import { mkdirSync, writeFileSync } from "node:fs";
import { machineInfo, loadNow, NODE_MAJOR } from "./machine.js";
import { seededValues } from "./peers/workloads.js";
import { fileURLToPath } from "node:url";
import { add, complete, configure, cycle, save, suite } from "benny";
import {
  Adam, createRuntime, fromTorch, LastStep, Linear, LSTM, mseLoss, Sequential, supportsBuild,
  type Build, type RecurrentLayer, type Runtime, type Tensor,
} from "../src/index.js";
import { updateBenchmarkTables, type TrainStepCase, type TrainStepSummary } from "./render-tables.js";

const I = 32, H = 128, B = 32, T = 32;
const LR = 1e-3;
const FLOP_FORWARD = 2 * 4 * H * (I + H) * B * T;
const FLOP_PER_STEP = 3 * FLOP_FORWARD; // forward + backward, backward counted as 2x forward
const TOLERANCE = 1e-4;
const SEED = 20240502;
const RESULTS = fileURLToPath(new URL("./results/", import.meta.url));

interface Case {
  name: string;
  build?: Build;
  lstm: RecurrentLayer;
  head: Linear;
  model: Sequential;
  optimizer: Adam;
  /** Largest |weight - reference weight| after one step from the shared start. */
  maxAbsDiff?: number;
}

/** Every weight of the model under PyTorch's names (copies), the head's prefixed with "head.". */
function weightsOf(c: Case): Record<string, Tensor> {
  const out = c.lstm.toTorch();
  for (const [name, t] of Object.entries(c.head.toTorch())) out["head." + name] = t;
  return out;
}

async function main(): Promise<void> {
  const loadBefore = loadNow(); // other work on the machine slows every case; the summary records it
  // One set of weights in PyTorch's layout, loaded into every backend the way a user would load a model.
  const lstmWeights = new LSTM({ inputSize: I, hiddenSize: H, seed: SEED, backend: "reference" }).toTorch();
  const headWeights = new Linear({ inFeatures: H, outFeatures: 1, seed: SEED + 1, backend: "reference" }).toTorch();
  const input: Tensor = { shape: [T, B, I], data: seededValues(T * B * I, SEED + 2) };
  const target: Tensor = { shape: [B, 1], data: seededValues(B, SEED + 3) };

  const make = (name: string, build: Build | undefined, runtime: Runtime | undefined): Case => {
    const where = runtime ? { runtime } : { backend: "reference" as const };
    const lstm = fromTorch(lstmWeights, where) as RecurrentLayer;
    const head = Linear.fromTorch(headWeights, where);
    const model = new Sequential([lstm, new LastStep(), head]);
    return { name, build, lstm, head, model, optimizer: new Adam(model, { lr: LR }) };
  };
  const cases: Case[] = [];
  const relaxedLabel = NODE_MAJOR < 22 ? "wasm relaxed SIMD (Node 20 flag)" : "wasm relaxed SIMD";
  for (const [build, name] of [["relaxed", relaxedLabel], ["simd", "wasm SIMD"], ["scalar", "wasm scalar"]] as const) {
    if (!(await supportsBuild(build))) {
      console.log(`${name}: skipped, this engine does not validate the ${build} build`);
      continue;
    }
    cases.push(make(name, build, await createRuntime(undefined, { build })));
  }
  cases.push(make("reference (TypeScript)", undefined, undefined));

  /** One training step: what is timed. */
  const step = (c: Case): number => {
    c.model.zeroGrad();
    const prediction = c.model.forward(input, { train: true }); // [B, 1]
    const { loss, grad } = mseLoss(prediction, target);
    c.model.backward(grad);
    c.optimizer.step();
    return loss;
  };

  // Agreement before timing: one step from the same start must give the same weights. (A fast wrong answer is
  // not a result.) Adam's first step moves each weight by about lr·sign(gradient), so this also checks the signs.
  const after = cases.map((c) => ({ loss: step(c), weights: weightsOf(c) }));
  const want = after[after.length - 1].weights;
  cases.forEach((c, k) => {
    let max = 0;
    for (const [name, t] of Object.entries(want)) {
      const got = after[k].weights[name].data;
      for (let i = 0; i < t.data.length; i++) max = Math.max(max, Math.abs(got[i] - t.data[i]));
    }
    c.maxAbsDiff = max;
    console.log(`${c.name.padEnd(34)} loss ${after[k].loss.toFixed(6)}, after one step max |weights - reference| = ${max.toExponential(2)}`);
    if (!(max <= TOLERANCE)) throw new Error(`${c.name} disagrees with the reference by ${max} after one step (tolerance ${TOLERANCE}); not timing it`);
  });

  mkdirSync(RESULTS, { recursive: true });
  // The wasm SIMD cases take tens of ms per step, the scalar and reference cases hundreds: few samples for
  // those, so the whole bench stays within about a minute.
  const runsFor = (c: Case) => {
    if (c.build === "relaxed" || c.build === "simd") return { minSamples: 10, maxTime: 5 };
    return c.build === "scalar" ? { minSamples: 5, maxTime: 3 } : { minSamples: 5, maxTime: 1 };
  };
  const summary = await suite(
    `Training step, LSTM I=${I} H=${H} B=${B} T=${T} + Linear head, MSE, Adam`,
    configure({ cases: { minSamples: 5, maxTime: 3 } }),
    ...cases.map((c) => add(c.name, () => {
      step(c);
    }, runsFor(c))),
    cycle(),
    complete(),
    save({ file: "train-step", folder: RESULTS, details: true, format: "json" }),
  );

  const medians = summary.results.map((r) => r.details.median * 1000); // benchmark.js samples are seconds per call
  const fastest = Math.min(...medians);
  const referenceMs = medians[cases.length - 1];
  const results: TrainStepCase[] = summary.results.map((r, k) => ({
    name: r.name,
    build: cases[k].build ?? "reference",
    medianMs: medians[k],
    meanMs: r.details.mean * 1000,
    rmePercent: r.details.relativeMarginOfError,
    samples: r.samples,
    stepsPerSec: 1000 / medians[k],
    gflops: FLOP_PER_STEP / (medians[k] / 1000) / 1e9,
    timeVsFastest: medians[k] / fastest,
    speedupVsReference: referenceMs / medians[k],
    maxAbsDiffVsReference: cases[k].maxAbsDiff!,
  }));
  const out: TrainStepSummary = {
    suite: "train-step",
    description: `one training step (zeroGrad, forward, MSE loss, BPTT, Adam) of LSTM(I=${I}, H=${H}) + LastStep + Linear(${H}, 1), ` +
      `B=${B} T=${T}, float32, one thread`,
    shape: { I, H, B, T },
    optimizer: `Adam lr ${LR}`,
    flopForward: FLOP_FORWARD,
    flopPerStep: FLOP_PER_STEP,
    flopNote: "forward 2·4H·(I+H)·B·T; backward counted as 2x forward; head, loss, activations and Adam not counted",
    date: new Date().toISOString(),
    machine: machineInfo(loadBefore),
    command: "npm run bench",
    results,
  };
  writeFileSync(RESULTS + "train-step.summary.json", JSON.stringify(out, null, 2) + "\n");
  console.log(`Saved to: ${RESULTS}train-step.summary.json`);
  for (const c of cases) {
    c.optimizer.dispose();
    c.model.dispose();
  }
  const page = updateBenchmarkTables(out);
  console.log(page ? `Updated the table in ${page}` : "docs/benchmarks.md has no bench:train-step markers; table not written");
}

await main();
