// src/cli/forecast/network.ts: the forecasting network and its state_dict.
//   x [W, B, 1] -> recurrent layer (LSTM, GRU or RNN; hidden H, L layers) -> output [W, B, H]
//              -> LastStep -> [B, H] -> Linear(H -> 1) ("the head") -> [B, 1]: the next normalised value
// Saved as one PyTorch-style state_dict: the recurrent layer under `rnn.` (rnn.weight_ih_l0, ...) and the head
// under `head.` (head.weight [1, H], head.bias [1]), as a PyTorch module with attributes `rnn` and `head` names
// them. fromTorch finds the `rnn.` prefix by itself and ignores `head.*`, so `rnn-wasm run` loads the file too.
import { fromTorch, LastStep, Linear, RnnError, Sequential, tensor, type Kind, type RecurrentLayer, type Tensor, GRU, LSTM, RNN } from "../../index.js";

export const RNN_PREFIX = "rnn.";
export const HEAD_PREFIX = "head.";

export interface Architecture {
  kind: Kind;
  hidden: number;
  layers: number;
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
   * a head [1, hidden]. Throws RnnError naming the tensor that does not fit.
   */
  static load(tensors: Record<string, Tensor>, kind: Kind): ForecastNetwork {
    const layer = fromTorch(tensors, { prefix: RNN_PREFIX, kind }) as RecurrentLayer;
    try {
      const s = layer.spec;
      if (s.cell) throw new RnnError("unexpected", `'${RNN_PREFIX}weight_ih' is a cell's weight; a forecaster holds a layer ('${RNN_PREFIX}weight_ih_l0')`);
      if (s.inputSize !== 1) throw new RnnError("shape", `'${RNN_PREFIX}weight_ih_l0' has ${s.inputSize} input features; a forecaster reads one value per step`);
      if (s.bidirectional || s.projSize) throw new RnnError("unexpected", "a forecaster's layer is one-directional without projection");
      const head = Linear.fromTorch(tensors, { prefix: HEAD_PREFIX });
      if (head.inFeatures !== s.hiddenSize || head.outFeatures !== 1) {
        head.dispose();
        throw new RnnError("shape", `'${HEAD_PREFIX}weight' has shape [${head.outFeatures}, ${head.inFeatures}], expected [1, ${s.hiddenSize}]`);
      }
      return new ForecastNetwork(layer, head);
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
