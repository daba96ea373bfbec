// bench/peers/workloads.ts: the comparison's workloads (issue 4), the data every peer is given, and the interface a
// peer adapter implements. All float32, one layer, unidirectional, one thread.
//   W-stream  LSTM I=64  H=256 B=1, one timestep per call, state carried     µs per step
//   W-seq     LSTM I=64  H=256 B=1 T=128                                     ms per sequence
//   W-batch   LSTM I=128 H=256 B=64 T=64                                     ms per call, timesteps·batch per second
//   W-gru     GRU  I=64  H=256 B=1 T=128                                     ms per sequence
//   W-train   LSTM I=32  H=128 B=32 T=32 + Linear(H, 1) on the last step, MSE, BPTT, one Adam step   ms per step
// FLOP per step: LSTM 2·4H·(I+H)·B, GRU 2·3H·(I+H)·B (the two matrix products; activations not counted). A training
// step counts the forward's FLOP three times (the backward's two products per forward product).
// Weights come from bench/models/<model>.safetensors (scripts/export_onnx.py), under PyTorch's names; inputs from
// seededValues(), so every peer gets the same numbers.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadSafetensors, type Tensor } from "../../src/index.js";
import { fillUniform, mulberry32 } from "../../src/random.js";
import { WORKLOAD_IDS, WORKLOAD_SHAPES, type WorkloadId, type WorkloadShape } from "../../cli/src/workloads.js";

export { WORKLOAD_IDS, type WorkloadId } from "../../cli/src/workloads.js";

/** A workload as the suite runs it: its shape (cli/src/workloads.ts) and the model file every peer loads. */
export interface Workload extends WorkloadShape {
  /** bench/models/<model>.safetensors (and .onnx when ONNX Runtime can run it). */
  model: string;
}

const MODEL_FILES: Record<WorkloadId, string> = {
  "W-stream": "lstm_i64_h256",
  "W-seq": "lstm_i64_h256",
  "W-batch": "lstm_i128_h256",
  "W-gru": "gru_i64_h256",
  "W-train": "train_i32_h128",
};

export const WORKLOADS = Object.fromEntries(
  WORKLOAD_IDS.map((id) => [id, { ...WORKLOAD_SHAPES[id], model: MODEL_FILES[id] }]),
) as Record<WorkloadId, Workload>;

/** Adam's learning rate in W-train (betas 0.9, 0.999 and eps 1e-8 as PyTorch's defaults, for every peer). */
export const TRAIN_LR = 1e-3;
/** W-stream's check compares the state after this many steps from zeros. */
export const STREAM_CHECK_STEPS = 5;
/** Largest |peer - reference| accepted before timing. */
export const TOLERANCE = 1e-4;
/**
 * A quantized row is checked against the reference backend's quantized layer of the same dtype and form: the integer
 * products are the same, but a hidden value a float rounding apart in wasm and TypeScript (fused or reordered sums)
 * can round to the next integer level at the next step, which moves the output by up to a weight's scale and then
 * propagates; test/api/quantize.test.ts bounds wasm against reference by 2e-3 of the output's scale for the same
 * reason (outputs here are within ±1).
 */
export const QUANT_TOLERANCE = 2e-3;
/**
 * PyTorch's quantize_dynamic is checked against the float32 reference: its error is quantization's (about 2e-3 to
 * 4e-3 on these models measured with both of its engines); 0.05 catches a wrong model or input, not a worse rounding.
 */
export const TORCH_QUANT_TOLERANCE = 0.05;

export const MODELS_DIR = fileURLToPath(new URL("../models/", import.meta.url));

/** The installed version of a peer package (for its label), or "?" when it is not installed. */
export function installedVersion(pkg: string): string {
  // bench/'s own package holds the peers (npm run bench:install); the repository root's node_modules may too
  for (const folder of ["../node_modules/", "../../node_modules/"]) {
    try {
      const json = readFileSync(fileURLToPath(new URL(`${folder}${pkg}/package.json`, import.meta.url)), "utf8");
      return (JSON.parse(json) as { version: string }).version;
    } catch {
      // not in this folder
    }
  }
  return "?";
}

/** Deterministic values in [-1, 1): the same on every run and machine (src/random.ts's generator). */
export function seededValues(n: number, seed: number): Float32Array {
  return fillUniform(new Float32Array(n), 1, mulberry32(seed));
}

/** What every peer gets for one workload. */
export interface WorkloadData {
  workload: Workload;
  /** PyTorch state_dict names: weight_ih_l0 ...; W-train: lstm.weight_ih_l0 ... and head.weight, head.bias. */
  weights: Record<string, Tensor>;
  /** [T, B, I], time-major (PyTorch's default layout). */
  input: Float32Array;
  /** W-train only: the regression targets [B, 1]. */
  target?: Float32Array;
}

export function loadWorkloadData(w: Workload): WorkloadData {
  const weights = loadSafetensors(readFileSync(MODELS_DIR + w.model + ".safetensors")).tensors;
  const seed = 20240600 + WORKLOAD_IDS.indexOf(w.id) * 10;
  const input = seededValues(w.T * w.B * w.I, seed);
  return { workload: w, weights, input, target: w.id === "W-train" ? seededValues(w.B, seed + 1) : undefined };
}

/** Time step t of a [T, B, F] array, as a copy. */
export function stepOf(x: Float32Array, t: number, B: number, F: number): Float32Array {
  return x.slice(t * B * F, (t + 1) * B * F);
}

/** [T, B, F] <-> [B, T, F] (the transpose is its own inverse given the swapped dims). */
export function swapTB(x: Float32Array, T: number, B: number, F: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) out.set(x.subarray((t * B + b) * F, (t * B + b + 1) * F), (b * T + t) * F);
  return out;
}

/**
 * What a peer computed, compared with our reference before timing (a fast wrong answer is not a result):
 *   W-seq, W-batch, W-gru  output [T, B, H] (every step's h, time-major)
 *   W-stream               h (and c) [B, H] after STREAM_CHECK_STEPS one-step calls from zeros
 *   W-train                the loss of a first and of a second step from the initial weights (the second is the
 *                          loss at the weights one Adam step produced), and after the first step the head's weight
 *                          and the LSTM's weight_ih_l0 then weight_hh_l0 (PyTorch's layout, concatenated)
 * A peer gives what it can: the comparison covers every value it gives.
 */
export interface CheckValues {
  output?: Float32Array;
  h?: Float32Array;
  c?: Float32Array;
  losses?: number[];
  headWeight?: Float32Array;
  lstmWeights?: Float32Array;
}

/** One peer set up for one workload. */
export interface Runner {
  /** One timed call: a sequence, one streaming step, or one training step. */
  run(): unknown;
  /** The values to check; called once, right after setup and before any run() (W-train starts from the initial weights). */
  check(): Promise<CheckValues>;
  /** What the check leaves out and why, when it cannot compare every value of CheckValues' list for the workload. */
  checkNote?: string;
  /** GRU only: the form this peer computes ('reset-after' is PyTorch's, the default). */
  gruForm?: "reset-after" | "reset-before";
  /**
   * A quantized peer: what it is checked against instead of the float32 reference (within QUANT_TOLERANCE), computed
   * at setup; its difference from the float32 reference is reported as its quantization error.
   */
  mirror?: { name: string; values: CheckValues };
  /**
   * Times the runner itself instead of benny, within about `maxTime` seconds: for a peer whose calls run in another
   * process (workerd, bench/peers/workerd.ts), which benny's synchronous loop cannot time.
   */
  time?(maxTime: number): Promise<OwnTiming>;
  dispose(): void;
}

/** What a runner that times itself, or the bench's one-call-at-a-time timing, reports (WorkloadRow's fields). */
export interface OwnTiming {
  medianMs: number;
  meanMs: number;
  /** benchmark.js' relative margin of error of the mean, percent (none from one sample). */
  rmePercent?: number;
  samples: number;
  sampleMs: number[];
  /** How it was timed, in words (a note in the tables). */
  timing: string;
}

/** benchmark.js' two-tailed t critical values for 95% confidence, by degrees of freedom (1 to 30; 1.96 beyond). */
const T_TABLE = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** Median, mean and benchmark.js' relative margin of error of samples (ms per call), as OwnTiming has them. */
export function sampleStats(ms: number[]): Pick<OwnTiming, "medianMs" | "meanMs" | "rmePercent" | "samples" | "sampleMs"> {
  const n = ms.length;
  const sorted = [...ms].sort((a, b) => a - b);
  const median = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  const mean = ms.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(ms.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  const rme = n > 1 ? ((T_TABLE[n - 2] ?? 1.96) * sd) / Math.sqrt(n) / mean * 100 : undefined;
  return { medianMs: median, meanMs: mean, rmePercent: rme, samples: n, sampleMs: ms };
}

/** How a peer is labelled and grouped for the ratios. */
export type PeerGroup = "ours" | "js-wasm" | "native";

export interface Peer {
  /** Stable id: results JSON, `--peers`. */
  id: string;
  /** The README's row name. */
  label: string;
  /** ours: rnn-wasm; js-wasm: JavaScript/WebAssembly peers (the ratio's "fastest peer"); native: ORT native, PyTorch. */
  group: PeerGroup;
  /** Why this peer cannot run the workload (shown as "—" with the reason as a footnote), or null when it can. */
  cannot(w: Workload): string | null;
  /** A quantized model (issue 14): its storage, the integer form it runs, and the id of the float32 row it is compared with. */
  quantized?: { dtype: "int8" | "int12"; form: "q16" | "q8"; floatPeer: string };
  /** When set, the peer computes something else (timed, not checked), and this says why. */
  speedOnly?(w: Workload): string | null;
  setup(data: WorkloadData): Promise<Runner>;
}
