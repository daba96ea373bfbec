// cli/src/workloads.ts: the five benchmark workloads of issue 4, defined once: `rnn-wasm bench --quick` runs them
// on rnn-wasm alone, and the benchmark suite (bench/peers/workloads.ts) adds the model files every peer loads.
// FLOP per step: 2·4H·(I+H)·B for an LSTM, 2·3H·(I+H)·B for a GRU (the two matrix products; activations are not
// counted); a training step counts three forwards (the backward does two products for each of the forward's).

export const WORKLOAD_IDS = ["W-stream", "W-seq", "W-batch", "W-gru", "W-train"] as const;
export type WorkloadId = (typeof WORKLOAD_IDS)[number];

export interface WorkloadShape {
  id: WorkloadId;
  kind: "lstm" | "gru";
  I: number;
  H: number;
  B: number;
  /** Timesteps per call; W-stream feeds a T-step input one step per call, cycling. */
  T: number;
  /** Steps one timed call computes (1 for W-stream). */
  stepsPerCall: number;
  /** FLOP of one timed call. */
  flopPerCall: number;
  /** How a call's time is stated. */
  unit: "µs/step" | "ms/sequence" | "ms/call" | "ms/step";
  description: string;
}

function workload(id: WorkloadId, kind: "lstm" | "gru", I: number, H: number, B: number, T: number,
  unit: WorkloadShape["unit"], description: string): WorkloadShape {
  const stepsPerCall = id === "W-stream" ? 1 : T;
  const forward = 2 * (kind === "lstm" ? 4 : 3) * H * (I + H) * B * stepsPerCall;
  return { id, kind, I, H, B, T, stepsPerCall, flopPerCall: id === "W-train" ? 3 * forward : forward, unit, description };
}

export const WORKLOAD_SHAPES: Readonly<Record<WorkloadId, WorkloadShape>> = {
  "W-stream": workload("W-stream", "lstm", 64, 256, 1, 128, "µs/step",
    "LSTM I=64 H=256 B=1, one timestep per call, state carried from call to call"),
  "W-seq": workload("W-seq", "lstm", 64, 256, 1, 128, "ms/sequence", "LSTM I=64 H=256 B=1 T=128"),
  "W-batch": workload("W-batch", "lstm", 128, 256, 64, 64, "ms/call", "LSTM I=128 H=256 B=64 T=64"),
  "W-gru": workload("W-gru", "gru", 64, 256, 1, 128, "ms/sequence", "GRU I=64 H=256 B=1 T=128"),
  "W-train": workload("W-train", "lstm", 32, 128, 32, 32, "ms/step",
    "LSTM I=32 H=128 B=32 T=32 + Linear(128, 1) on the last step, MSE loss, BPTT, one Adam step (lr 1e-3)"),
};
