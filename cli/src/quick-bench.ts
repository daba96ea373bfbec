// cli/src/quick-bench.ts: `rnn-wasm bench --quick`: the five workloads of the benchmark suite
// (src/cli/workloads.ts, which bench/peers/workloads.ts also uses), on rnn-wasm's wasm builds only, with a few
// samples each: a few seconds, no peers, no files, so it runs from an installed package. Weights are random from a
// seed (timing does not depend on their values). Before timing, each workload's model is compared with the same
// model on the reference backend over its first CHECK_STEPS steps (W-train: the predictions after one training
// step), since a fast wrong answer is not a result.
import {
  Adam, createRuntime, GRU, LastStep, Linear, LSTM, mseLoss, Sequential,
  type Build, type RecurrentLayer, type Runtime, type Tensor,
} from "rnn-wasm";
import { mulberry32 } from "rnn-wasm";
import { maxAbsDiff } from "rnn-wasm";
import { WORKLOAD_IDS, WORKLOAD_SHAPES, type WorkloadId, type WorkloadShape } from "./workloads.js";

export type QuickWorkloadId = WorkloadId;
export type QuickWorkload = WorkloadShape;

/** The suite's five workloads (src/cli/workloads.ts), in its order. */
export const QUICK_WORKLOADS: readonly QuickWorkload[] = WORKLOAD_IDS.map((id) => WORKLOAD_SHAPES[id]);

/** Default samples per workload: enough for a stable median, few enough to finish in seconds. */
export const DEFAULT_SAMPLES = 5;
/** A sample repeats a fast call until it lasts about this long, so timer resolution does not dominate W-stream. */
const SAMPLE_MS = 20;
/** Steps each workload is checked over against the reference backend (cheap there, and enough to reach every kernel). */
const CHECK_STEPS = 4;
/** Largest |wasm - reference| accepted (as the benchmark suite's TOLERANCE). */
export const CHECK_TOLERANCE = 1e-4;
const TRAIN_LR = 1e-3;

export interface QuickResult {
  workload: QuickWorkloadId;
  description: string;
  build: Build;
  unit: QuickWorkload["unit"];
  /** Median time of one call, in `unit`. */
  time: number;
  /** The same, in milliseconds. */
  medianMs: number;
  gflops: number;
  samples: number;
  callsPerSample: number;
  flopPerCall: number;
  /** Largest |wasm - reference| of the check; it passes at most CHECK_TOLERANCE. */
  maxAbsDiff: number;
}

/** Deterministic values in [-1, 1). */
function seeded(n: number, seed: number): Float32Array {
  const next = mulberry32(seed);
  return Float32Array.from({ length: n }, () => 2 * next() - 1);
}

type Where = { runtime: Runtime } | { backend: "reference" };

function layerOf(w: QuickWorkload, where: Where): RecurrentLayer {
  const options = { inputSize: w.I, hiddenSize: w.H, seed: 1, ...where };
  return w.kind === "lstm" ? new LSTM(options) : new GRU(options);
}

function trainModel(w: QuickWorkload, where: Where): { model: Sequential; optimizer: Adam } {
  const model = new Sequential([layerOf(w, where), new LastStep(), new Linear({ inFeatures: w.H, outFeatures: 1, seed: 2, ...where })]);
  return { model, optimizer: new Adam(model, { lr: TRAIN_LR }) };
}

/** zeroGrad, forward, MSE, backward through time, one Adam step. */
function trainStep(m: { model: Sequential; optimizer: Adam }, input: Tensor, target: Tensor): number {
  m.optimizer.zeroGrad();
  const prediction = m.model.forward(input, { train: true });
  const { loss, grad } = mseLoss(prediction, target);
  m.model.backward(grad);
  m.optimizer.step();
  return loss;
}

/** A workload set up on one build: `call` is one timed call, `dispose` frees it. */
interface Runner {
  call(): void;
  dispose(): void;
}

function setup(w: QuickWorkload, runtime: Runtime): Runner {
  const input: Tensor = { shape: [w.T, w.B, w.I], data: seeded(w.T * w.B * w.I, 11) };
  if (w.id === "W-train") {
    const m = trainModel(w, { runtime });
    const target: Tensor = { shape: [w.B, 1], data: seeded(w.B, 12) };
    return { call: () => void trainStep(m, input, target), dispose: () => (m.optimizer.dispose(), m.model.dispose()) };
  }
  const layer = layerOf(w, { runtime });
  if (w.id === "W-stream") {
    const steps = Array.from({ length: w.T }, (_, t) => ({ shape: [1, w.B, w.I], data: input.data.slice(t * w.B * w.I, (t + 1) * w.B * w.I) }));
    let t = 0;
    return { call: () => void layer.stream(steps[t++ % w.T]), dispose: () => layer.dispose() };
  }
  return { call: () => void layer.forward(input), dispose: () => layer.dispose() };
}

/** Largest |wasm - reference| over the workload's first CHECK_STEPS steps (W-train: predictions after one step). */
function check(w: QuickWorkload, runtime: Runtime): number {
  const T = CHECK_STEPS;
  const input: Tensor = { shape: [T, w.B, w.I], data: seeded(T * w.B * w.I, 11) };
  if (w.id === "W-train") {
    const target: Tensor = { shape: [w.B, 1], data: seeded(w.B, 12) };
    const [wasm, reference] = [trainModel(w, { runtime }), trainModel(w, { backend: "reference" })];
    try {
      const after = [wasm, reference].map((m) => {
        trainStep(m, input, target);
        return m.model.forward(input).data;
      });
      return maxAbsDiff(after[0], after[1]);
    } finally {
      for (const m of [wasm, reference]) m.optimizer.dispose(), m.model.dispose();
    }
  }
  const [wasm, reference] = [layerOf(w, { runtime }), layerOf(w, { backend: "reference" })];
  try {
    // W-stream is checked through stream(), one step per call, as it is timed.
    const outputs = [wasm, reference].map((layer) => {
      if (w.id !== "W-stream") return layer.forward(input).output.data;
      let last: Float32Array = new Float32Array(0);
      for (let t = 0; t < T; t++) last = layer.stream({ shape: [1, w.B, w.I], data: input.data.slice(t * w.B * w.I, (t + 1) * w.B * w.I) }).hN.data;
      return last;
    });
    return maxAbsDiff(outputs[0], outputs[1]);
  } finally {
    wasm.dispose();
    reference.dispose();
  }
}

function median(sorted: number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Warm-up: calls until this long has passed (at least WARMUP_CALLS), so V8 has optimised the call path. */
/**
 * Warm-up: V8 runs new wasm code in its baseline compiler (Liftoff, 2-3x slower here) and swaps in optimised code
 * only after it has run for a while: 40 to over 200 ms of W-stream calls on this machine, depending on its load.
 * So warm up in blocks of about WARMUP_BLOCK_MS until three blocks in a row are no faster than the best block
 * before them (by 5%), for at least WARMUP_MIN_MS and at most WARMUP_MAX_MS.
 */
const WARMUP_BLOCK_MS = 20;
const WARMUP_MIN_MS = 300;
const WARMUP_MAX_MS = 2000;

/** Median ms per call over `samples` samples of `callsPerSample` calls each, sized from the warm-up's calls. */
function time(run: Runner, samples: number): { medianMs: number; callsPerSample: number } {
  const t0 = performance.now();
  let best = Infinity;
  let flat = 0; // blocks in a row no faster than the best before them
  let warmMs = Infinity;
  for (;;) {
    const start = performance.now();
    let n = 0;
    do {
      run.call(); // the first call also grows the workspace to its final size
      n++;
    } while (performance.now() - start < WARMUP_BLOCK_MS);
    warmMs = (performance.now() - start) / n;
    flat = warmMs > 0.95 * best ? flat + 1 : 0;
    best = Math.min(best, warmMs);
    const elapsed = performance.now() - t0;
    if (elapsed >= WARMUP_MAX_MS || (elapsed >= WARMUP_MIN_MS && flat >= 3)) break;
  }
  const calls = Math.max(1, Math.ceil(SAMPLE_MS / Math.max(warmMs, 1e-3)));
  const perCall: number[] = [];
  for (let s = 0; s < samples; s++) {
    const start = performance.now();
    for (let i = 0; i < calls; i++) run.call();
    perCall.push((performance.now() - start) / calls);
  }
  return { medianMs: median(perCall.sort((a, b) => a - b)), callsPerSample: calls };
}

/** Checks, then times every workload on `build`; `onResult` sees each row as it is measured. */
export async function quickBench(build: Build, samples: number, onResult: (r: QuickResult) => void): Promise<QuickResult[]> {
  const runtime = await createRuntime(undefined, { build });
  const results: QuickResult[] = [];
  for (const w of QUICK_WORKLOADS) {
    const diff = check(w, runtime);
    const run = setup(w, runtime);
    try {
      const { medianMs, callsPerSample } = time(run, samples);
      const r: QuickResult = {
        workload: w.id,
        description: w.description,
        build,
        unit: w.unit,
        time: w.unit === "µs/step" ? medianMs * 1000 : medianMs,
        medianMs,
        gflops: w.flopPerCall / (medianMs / 1000) / 1e9,
        samples,
        callsPerSample,
        flopPerCall: w.flopPerCall,
        maxAbsDiff: diff,
      };
      results.push(r);
      onResult(r);
    } finally {
      run.dispose();
    }
  }
  return results;
}
