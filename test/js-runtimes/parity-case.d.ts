// Types of parity-case.js.
import type * as Rnn from "../../src/index.js";

export type LayerOutputs = Record<"lstm" | "lstmProj" | "gru" | "rnnRelu", number[]>;
export interface ParityResult {
  defaultBuild: Rnn.Build;
  supports: Record<Rnn.Build, boolean>;
  outputs: Partial<Record<Rnn.Build, LayerOutputs>>;
}
export function forwardAll(rnn: typeof Rnn, runtime: Rnn.Runtime): LayerOutputs;
export function parityRun(rnn: typeof Rnn): Promise<ParityResult>;
