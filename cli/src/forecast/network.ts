// cli/src/forecast/network.ts: the forecasting network and its state_dict.
//   x [W, B, 1] -> recurrent layer (LSTM, GRU or RNN; hidden H, L layers) -> output [W, B, H]
//              -> LastStep -> [B, H] -> Linear(H -> 1) ("the head") -> [B, 1]: the next normalised value
// Saved as one PyTorch-style state_dict: the recurrent layer under `rnn.` (rnn.weight_ih_l0, ...) and the head
// under `head.` (head.weight [1, H], head.bias [1]), as a PyTorch module with attributes `rnn` and `head` names
// them. fromTorch finds the `rnn.` prefix by itself and ignores `head.*`, so `rnn-wasm run` loads the file too.
import { fromTorch, LastStep, Linear, RnnError, Sequential, tensor, type Kind, type RecurrentLayer, type Tensor, GRU, LSTM, RNN } from "rnn-wasm";

export const RNN_PREFIX = "rnn.";
export const HEAD_PREFIX = "head.";

export interface Architecture {
  kind: Kind;
  hidden: number;
  layers: number;
}

/** Gates stacked in each weight's rows (PyTorch's order: LSTM i, f, g, o; GRU r, z, n). */
export const GATES: Record<Kind, number> = { lstm: 4, gru: 3, rnn: 1 };

/**
 * Values in the network's weights, head included: per layer G·H·(in + H) weights and 2·G·H biases (in = 1 for the
 * first layer, H after), then the head's H + 1. Exact in doubles for any sizes the options allow.
 */
export function parameterCount(a: Architecture): number {
  const G = GATES[a.kind], H = a.hidden;
  const layer = (inputs: number) => G * H * (inputs + H) + 2 * G * H;
  return layer(1) + (a.layers - 1) * layer(H) + H + 1;
}

/** A recurrent layer with a linear head on its last step, trained and run as one Sequential. */
export class ForecastNetwork {
  readonly layer: RecurrentLayer;
  readonly head: Linear;
  readonly model: Sequential;

  private constructor(layer: RecurrentLayer, head: Linear) {
    this.layer = layer;
    this.head = head;
    this.model = new Sequential([layer, new LastStep(), head]);
  }

  /** Fresh weights: the layer drawn from `seed`, the head from `seed + 1`. */
  static create(a: Architecture, seed: number): ForecastNetwork {
    const options = { inputSize: 1, hiddenSize: a.hidden, numLayers: a.layers, seed };
    const layer = a.kind === "lstm" ? new LSTM(options) : a.kind === "gru" ? new GRU(options) : new RNN(options);
    return new ForecastNetwork(layer, new Linear({ inFeatures: a.hidden, outFeatures: 1, seed: seed + 1 }));
  }

  /**
   * From a state_dict as stateDict() writes it; checks that it is an `a.kind` layer over one input feature with
   * a head of weight [1, hidden] and bias [1]. Throws RnnError naming the tensor that does not fit.
   */
  static load(tensors: Record<string, Tensor>, kind: Kind): ForecastNetwork {
    const layer = fromTorch(tensors, { prefix: RNN_PREFIX, kind }) as RecurrentLayer;
    try {
      const s = layer.spec;
      if (s.cell) throw new RnnError("unexpected", `'${RNN_PREFIX}weight_ih' is a cell's weight; a forecaster holds a layer ('${RNN_PREFIX}weight_ih_l0')`);
      if (s.inputSize !== 1) throw new RnnError("shape", `'${RNN_PREFIX}weight_ih_l0' has ${s.inputSize} input features; a forecaster reads one value per step`);
      if (s.bidirectional || s.projSize) throw new RnnError("unexpected", "a forecaster's layer is one-directional without projection");
      // Checked here, not left to Linear.fromTorch: it takes the head's size from the weight, so a weight of the
      // wrong shape would be reported as a bias that does not fit it.
      checkHeadTensor(tensors, "weight", [1, s.hiddenSize]);
      checkHeadTensor(tensors, "bias", [1]);
      return new ForecastNetwork(layer, Linear.fromTorch(tensors, { prefix: HEAD_PREFIX }));
    } catch (e) {
      layer.dispose();
      throw e;
    }
  }

  get architecture(): Architecture {
    return { kind: this.layer.spec.kind, hidden: this.layer.spec.hiddenSize, layers: this.layer.spec.numLayers };
  }

  /** The weights under the names load() reads (copies). */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [name, t] of Object.entries(this.layer.toTorch())) out[RNN_PREFIX + name] = t;
    for (const [name, t] of Object.entries(this.head.toTorch())) out[HEAD_PREFIX + name] = t;
    return out;
  }

  /** The next normalised value after one window of normalised values. */
  next(window: readonly number[]): number {
    const x = tensor([window.length, 1, 1], Float32Array.from(window));
    return this.model.forward(x).data[0];
  }

  dispose(): void {
    this.model.dispose();
  }
}

/** The head's tensor `name` is there with shape `want`; an RnnError names it otherwise. */
function checkHeadTensor(tensors: Record<string, Tensor>, name: string, want: number[]): void {
  const key = HEAD_PREFIX + name;
  const t = tensors[key];
  const wanted = `[${want.join(", ")}]`;
  if (!t) throw new RnnError("missing", `missing tensor '${key}' ${wanted}`);
  const shape = Array.isArray(t.shape) ? t.shape : [];
  if (shape.length !== want.length || shape.some((d, k) => d !== want[k])) {
    throw new RnnError("shape", `'${key}' has shape [${shape.join(", ")}], expected ${wanted}`);
  }
}
