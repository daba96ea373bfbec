// Types of request.js (for test/js-runtimes/workerd.test.ts, and for a Worker written in TypeScript).
import type { Linear, Spec, Tensor } from "rnn-wasm";

/** What loadModel (model.js) says of the model's sizes, as a request and a response carry them. */
export interface Sizes {
  kind: "lstm" | "gru" | "rnn";
  inputSize: number;
  /** Numbers per step in a response's "output". */
  outputSize: number;
  /** Rows of state.h and state.c: numLayers * directions. */
  stateRows: number;
  /** Numbers per row of state.h: projSize or hiddenSize. */
  hWidth: number;
  /** Numbers per row of state.c: hiddenSize for an LSTM, 0 for a GRU or RNN. */
  cWidth: number;
}

export const MAX_STEPS: number;
export const MAX_MULTIPLY_ADDS: number;
export function multiplyAddsPerStep(spec: Spec, head: Pick<Linear, "inFeatures" | "outFeatures"> | null): number;
export function limits(spec: Spec, head: Pick<Linear, "inFeatures" | "outFeatures"> | null): { maxSteps: number; maxBodyBytes: number };
export function parseRequest(body: unknown, sizes: Sizes, maxSteps: number): { input: Tensor; h0?: Tensor; c0?: Tensor };
