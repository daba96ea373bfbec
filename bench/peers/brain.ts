// bench/peers/brain.ts: brain.js 1.6.1's recurrent time-step networks (plain JavaScript, one sequence per run()).
// brain.recurrent.GRUTimeStep is the reset-before GRU (h~ = tanh(W x + U (r ⊙ h) + b), h' = (1 - z) ⊙ h~ + z ⊙ h), so
// W-gru maps PyTorch's weights onto it (update = z, reset = r, cellWrite = n; each bias b_i + b_h) and checks every
// step's h (read from the network's per-step matrices) against our reference GRU with resetAfter: false.
// brain.recurrent.LSTMTimeStep has no separate cell state (its forget gate multiplies the previous output h, not a
// cell c), so no weights make it a standard LSTM: W-seq gets the same weights and input and is timed, not checked.
// Each run() also applies brain's output layer (outputSize 1 here: one H-dot per step) and one extra step on zeros
// (brain's end()); the FLOP count does not include them.
// Not expressible: W-stream (every run() starts from zeros; no call continues a state), W-batch (no batch axis:
// one sequence per run()), W-train (it trains one sequence at a time with its own RMSProp-style update: no batch,
// no Adam).
import { createRequire } from "node:module";
import { installedVersion, type CheckValues, type Peer, type Runner, type Workload, type WorkloadData } from "./workloads.js";

interface BrainMatrix {
  rows: number;
  columns: number;
  weights: Float32Array;
}
interface BrainNet {
  initialize(): void;
  bindEquation(): void;
  run(input: Float32Array[]): unknown;
  model: { hiddenLayers: Record<string, BrainMatrix>[]; equationConnections: BrainMatrix[][] };
}
type BrainCtor = new (o: { inputSize: number; hiddenLayers: number[]; outputSize: number }) => BrainNet;

const require = createRequire(import.meta.url);

/** brain.js' matrix and bias names per PyTorch gate (LSTM i,f,g,o; GRU r,z,n). */
const NAMES = {
  lstm: [["inputMatrix", "inputHidden", "inputBias"], ["forgetMatrix", "forgetHidden", "forgetBias"],
    ["cellActivationMatrix", "cellActivationHidden", "cellActivationBias"], ["outputMatrix", "outputHidden", "outputBias"]],
  gru: [["resetGateInputMatrix", "resetGateHiddenMatrix", "resetGateBias"], ["updateGateInputMatrix", "updateGateHiddenMatrix", "updateGateBias"],
    ["cellWriteInputMatrix", "cellWriteHiddenMatrix", "cellWriteBias"]],
} as const;

function setWeights(net: BrainNet, data: WorkloadData): void {
  const { kind, I, H } = data.workload;
  const layer = net.model.hiddenLayers[0];
  const w = data.weights;
  NAMES[kind].forEach(([input, hidden, bias], g) => {
    layer[input].weights.set(w.weight_ih_l0.data.subarray(g * H * I, (g + 1) * H * I)); // [H, I] row-major, as PyTorch
    layer[hidden].weights.set(w.weight_hh_l0.data.subarray(g * H * H, (g + 1) * H * H));
    const bih = w.bias_ih_l0.data, bhh = w.bias_hh_l0.data;
    for (let j = 0; j < H; j++) layer[bias].weights[j] = bih[g * H + j] + bhh[g * H + j];
  });
}

export const brainLabel = (): string => `brain.js ${installedVersion("brain.js")}`;

export function brainPeer(): Peer {
  return {
    id: "brain",
    label: brainLabel(),
    group: "js-wasm",
    cannot(w: Workload): string | null {
      if (w.id === "W-stream") return "brain.js: every run() starts from a zero state; no call continues the previous one's";
      if (w.id === "W-batch") return "brain.js has no batch axis (one sequence per run())";
      if (w.id === "W-train") return "brain.js trains one sequence at a time with its own update rule (no batch, no Adam)";
      return null;
    },
    speedOnly: (w: Workload) => (w.kind === "lstm"
      ? "brain.js' LSTM has no separate cell state (its forget gate multiplies the previous output), so it computes another function: same weights and input, timed but not checked"
      : null),
    async setup(data: WorkloadData): Promise<Runner> {
      const brain = require("brain.js") as { recurrent: Record<string, BrainCtor> };
      const { kind, T, I, H } = data.workload;
      const net = new brain.recurrent[kind === "lstm" ? "LSTMTimeStep" : "GRUTimeStep"]({ inputSize: I, hiddenLayers: [H], outputSize: 1 });
      net.initialize();
      net.bindEquation();
      setWeights(net, data);
      const sequence = Array.from({ length: T }, (_, t) => data.input.slice(t * I, (t + 1) * I)); // B = 1
      return {
        run: () => net.run(sequence),
        async check(): Promise<CheckValues> {
          net.run(sequence);
          // Step t's hidden state is the matrix the t-th equation produced for layer 0.
          const output = new Float32Array(T * H);
          for (let t = 0; t < T; t++) output.set(net.model.equationConnections[t][0].weights, t * H);
          return { output };
        },
        gruForm: "reset-before",
        dispose: () => {},
      };
    },
  };
}
