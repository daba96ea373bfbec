// src/tfjs/recurrent.ts: one Keras recurrent layer (LSTM, GRU, SimpleRNN) in one direction, as tfjs-layers 4.22
// runs it. Keras layout: x (B,T,I) batch-first, kernel (I,G*H) = W_ihᵀ, recurrent_kernel (H,G*H) = W_hhᵀ,
// bias (G*H) = b_ih + b_hh, or (2,3H) = input then recurrent biases for a GRU with reset_after.
// Gate order along G*H: LSTM i, f, c, o (as PyTorch's i, f, g, o); GRU z, r, h (PyTorch r, z, n); SimpleRNN one.
//   LSTM       i,f,o = ra(z_i,z_f,z_o); c~ = a(z_c); c = f*c + i*c~; h = o*a(c)
//   GRU        z = ra(x K_z + b_z + h R_z); r = ra(x K_r + b_r + h R_r)
//              reset after:  h~ = a(x K_h + b_h + r * (h R_h + b'_h))   (b' the recurrent bias)
//              reset before: h~ = a(x K_h + b_h + (r * h) R_h)
//              h = z*h + (1-z)*h~
//   SimpleRNN  h = a(x K + b + h R)
// a is `activation`, ra `recurrent_activation`. Masks as tfjs applies them: at a masked step (b,t) the states stay
// and the output is the previous h (zeros before the first real step). go_backwards reads the steps last to first
// and returns its outputs in that reversed order (Bidirectional reverses them back).
// Two paths, both giving tfjs's results:
//   - wasm: activations tanh + sigmoid (SimpleRNN: tanh or relu), every row's mask a run of real steps followed
//     by padding (per-row `lengths` of our layers). The weights are reordered into PyTorch's form once and an
//     LSTM/GRU/RNN layer runs the rows (go_backwards: each row's real steps reversed); outputs at padded steps are
//     filled as tfjs fills them;
//   - TypeScript: anything else (hard_sigmoid, tfjs's default recurrent activation; other activations; masks with
//     holes), step by step in float64 here (slower).
import { RnnError } from "../errors.js";
import { GRU, LSTM, RNN, type RecurrentLayer } from "../layers.js";
import type { BackendOptions } from "../recurrent-base.js";
import { activationKey, elementwise, type Elementwise } from "./activations.js";

/** The recurrent kinds, by our names. */
export type KerasKind = "lstm" | "gru" | "rnn";

/** Gates per kind. */
export const GATES: Record<KerasKind, number> = { lstm: 4, gru: 3, rnn: 1 };
/** PyTorch's gate block b is Keras' block TORCH_FROM_KERAS[kind][b]. */
const TORCH_FROM_KERAS: Record<KerasKind, number[]> = { lstm: [0, 1, 2, 3], gru: [1, 0, 2], rnn: [0] };

/** One direction's configuration, from the layer's config. */
export interface KerasCellConfig {
  kind: KerasKind;
  /** H */
  units: number;
  activation: string;
  /** LSTM and GRU only. */
  recurrentActivation: string;
  /** GRU only: reset_after. */
  resetAfter: boolean;
  goBackwards: boolean;
}

/** One direction's weights, Keras layout. */
export interface KerasCellWeights {
  /** (I, G*H) */
  kernel: Float32Array;
  /** (H, G*H) */
  recurrentKernel: Float32Array;
  /** (G*H), or (2, 3H) for a GRU with reset_after; null without bias. */
  bias: Float32Array | null;
}

/** What one direction returns, in tfjs's order. */
export interface DirectionResult {
  /** (B, T, H): the output at every step (in reversed time order for go_backwards). */
  sequence: Float32Array;
  /** The final states, each (B, H): h, and c for an LSTM. */
  states: Float32Array[];
}

/** Which path runs the layers: 'auto' (wasm when it computes the layer) or 'typescript' (always the TypeScript path). */
export type RecurrentPath = "auto" | "typescript";

/** Each row's count of real steps when the mask is real steps followed by padding (or no mask), else null. */
export function suffixLengths(mask: Uint8Array | null, B: number, T: number): Int32Array | null {
  const lengths = new Int32Array(B).fill(T);
  if (!mask) return lengths;
  for (let b = 0; b < B; b++) {
    let n = 0;
    while (n < T && mask[b * T + n]) n++;
    for (let t = n; t < T; t++) if (mask[b * T + t]) return null;
    lengths[b] = n;
  }
  return lengths;
}

export class KerasRecurrent {
  private layer: RecurrentLayer | null = null;
  private readonly act: Elementwise;
  private readonly ract: Elementwise;
  /** Whether the wasm layers compute these activations. */
  readonly layerFits: boolean;

  constructor(
    readonly cfg: KerasCellConfig,
    readonly weights: KerasCellWeights,
    readonly inputSize: number,
    private readonly backend: BackendOptions,
    path: RecurrentPath,
    what: string,
    keras3: boolean,
  ) {
    this.act = elementwise(cfg.activation, what, keras3);
    this.ract = cfg.kind === "rnn" ? this.act : elementwise(cfg.recurrentActivation, `${what} (recurrent_activation)`, keras3);
    const a = activationKey(cfg.activation), ra = activationKey(cfg.recurrentActivation);
    this.layerFits = path === "auto" && (cfg.kind === "rnn" ? a === "tanh" || a === "relu" : a === "tanh" && ra === "sigmoid");
  }

  /** x (B,T,I), mask (B,T) of 0/1 or null. */
  run(x: Float32Array, B: number, T: number, mask: Uint8Array | null): DirectionResult {
    const lengths = this.layerFits ? suffixLengths(mask, B, T) : null;
    return lengths ? this.runLayer(x, B, T, lengths) : this.runTypeScript(x, B, T, mask);
  }

  dispose(): void {
    this.layer?.dispose();
    this.layer = null;
  }

  /** The PyTorch-form layer, built on first use. */
  private torchLayer(): RecurrentLayer {
    if (this.layer) return this.layer;
    const { kind, units: H } = this.cfg, I = this.inputSize, G = GATES[kind];
    const { kernel, recurrentKernel, bias } = this.weights;
    const transposed = (src: Float32Array, rows: number): Float32Array => {
      const out = new Float32Array(G * H * rows); // (G*H, rows), PyTorch's gate order
      TORCH_FROM_KERAS[kind].forEach((kb, tb) => {
        for (let j = 0; j < H; j++) for (let r = 0; r < rows; r++) out[(tb * H + j) * rows + r] = src[r * G * H + kb * H + j];
      });
      return out;
    };
    const params: Record<string, Float32Array> = {
      weight_ih_l0: transposed(kernel, I),
      weight_hh_l0: transposed(recurrentKernel, H),
    };
    if (bias) {
      const twoRows = kind === "gru" && this.cfg.resetAfter;
      params.bias_ih_l0 = transposed(bias.subarray(0, G * H), 1);
      params.bias_hh_l0 = twoRows ? transposed(bias.subarray(G * H, 2 * G * H), 1) : new Float32Array(G * H);
    }
    const options = { inputSize: I, hiddenSize: H, batchFirst: true, bias: bias !== null, ...this.backend };
    if (kind === "lstm") this.layer = new LSTM(options, params);
    else if (kind === "gru") this.layer = new GRU({ ...options, resetAfter: this.cfg.resetAfter }, params);
    else this.layer = new RNN({ ...options, nonlinearity: activationKey(this.cfg.activation) === "relu" ? "relu" : "tanh" }, params);
    return this.layer;
  }

  /** The wasm path: rows of `lengths[b]` real steps then padding. */
  private runLayer(x: Float32Array, B: number, T: number, lengths: Int32Array): DirectionResult {
    const I = this.inputSize, H = this.cfg.units, back = this.cfg.goBackwards;
    let input = x;
    if (back) { // each row's real steps, last first
      input = new Float32Array(x.length);
      for (let b = 0; b < B; b++) {
        for (let j = 0; j < lengths[b]; j++) input.set(x.subarray((b * T + lengths[b] - 1 - j) * I, (b * T + lengths[b] - j) * I), (b * T + j) * I);
      }
    }
    const padded = lengths.some((n) => n < T);
    const r = this.torchLayer().forward({ shape: [B, T, I], data: input }, padded ? { lengths: Array.from(lengths, (n) => Math.max(n, 1)) } : {});
    const out = r.output.data, sequence = new Float32Array(B * T * H);
    const hN = new Float32Array(B * H), cN = new Float32Array(B * H);
    for (let b = 0; b < B; b++) {
      const n = lengths[b];
      if (n === 0) continue; // every step masked: outputs and states stay zero
      const rowOut = out.subarray(b * T * H, (b * T + n) * H);
      // forward: real steps, then the last h repeated; go_backwards: zeros for the padding read first, then the steps
      if (back) sequence.set(rowOut, (b * T + T - n) * H);
      else {
        sequence.set(rowOut, b * T * H);
        for (let t = n; t < T; t++) sequence.copyWithin((b * T + t) * H, (b * T + n - 1) * H, (b * T + n) * H);
      }
      hN.set(r.hN.data.subarray(b * H, (b + 1) * H), b * H);
      if (r.cN) cN.set(r.cN.data.subarray(b * H, (b + 1) * H), b * H);
    }
    return { sequence, states: this.cfg.kind === "lstm" ? [hN, cN] : [hN] };
  }

  /** The TypeScript path, step by step in float64, any activations and any mask. */
  private runTypeScript(x: Float32Array, B: number, T: number, mask: Uint8Array | null): DirectionResult {
    const { kind, units: H, resetAfter, goBackwards } = this.cfg, I = this.inputSize, G = GATES[kind], GH = G * H;
    const { kernel: K, recurrentKernel: R, bias } = this.weights;
    const act = this.act, ract = this.ract;
    const sequence = new Float32Array(B * T * H);
    const hOut = new Float32Array(B * H), cOut = new Float32Array(B * H);
    const h = new Float64Array(H), c = new Float64Array(H), xz = new Float64Array(GH), hz = new Float64Array(GH);
    const rh = new Float64Array(H);
    for (let b = 0; b < B; b++) {
      h.fill(0); c.fill(0);
      for (let s = 0; s < T; s++) {
        const t = goBackwards ? T - 1 - s : s;
        if (!mask || mask[b * T + t]) {
          // xz = x_t K + b (input bias); hz = h R (+ recurrent bias for a reset-after GRU)
          for (let g = 0; g < GH; g++) xz[g] = bias ? bias[g] : 0;
          const xo = (b * T + t) * I;
          for (let i = 0; i < I; i++) {
            const xi = x[xo + i];
            if (xi !== 0) for (let g = 0; g < GH; g++) xz[g] += xi * K[i * GH + g];
          }
          const recurrentBias = kind === "gru" && resetAfter && bias ? bias.subarray(GH) : null;
          for (let g = 0; g < GH; g++) hz[g] = recurrentBias ? recurrentBias[g] : 0;
          const hCols = kind === "gru" && !resetAfter ? 2 * H : GH; // reset before: h~'s product needs r first
          for (let k = 0; k < H; k++) {
            const hk = h[k];
            if (hk !== 0) for (let g = 0; g < hCols; g++) hz[g] += hk * R[k * GH + g];
          }
          if (kind === "lstm") {
            for (let j = 0; j < H; j++) {
              const i = ract(xz[j] + hz[j]), f = ract(xz[H + j] + hz[H + j]);
              const cc = act(xz[2 * H + j] + hz[2 * H + j]), o = ract(xz[3 * H + j] + hz[3 * H + j]);
              c[j] = f * c[j] + i * cc;
              h[j] = o * act(c[j]);
            }
          } else if (kind === "gru") {
            if (!resetAfter) {
              for (let j = 0; j < H; j++) rh[j] = ract(xz[H + j] + hz[H + j]) * h[j];
              for (let j = 0; j < H; j++) hz[2 * H + j] = 0;
              for (let k = 0; k < H; k++) {
                const v = rh[k];
                if (v !== 0) for (let j = 0; j < H; j++) hz[2 * H + j] += v * R[k * GH + 2 * H + j];
              }
            }
            for (let j = 0; j < H; j++) {
              const z = ract(xz[j] + hz[j]);
              const hh = resetAfter
                ? act(xz[2 * H + j] + ract(xz[H + j] + hz[H + j]) * hz[2 * H + j])
                : act(xz[2 * H + j] + hz[2 * H + j]);
              h[j] = z * h[j] + (1 - z) * hh;
            }
          } else {
            for (let j = 0; j < H; j++) h[j] = act(xz[j] + hz[j]);
          }
        }
        // a masked step keeps the states and outputs the previous h
        for (let j = 0; j < H; j++) sequence[(b * T + s) * H + j] = h[j];
      }
      for (let j = 0; j < H; j++) { hOut[b * H + j] = h[j]; cOut[b * H + j] = c[j]; }
    }
    return { sequence, states: kind === "lstm" ? [hOut, cOut] : [hOut] };
  }
}

/** RnnError('shape') unless `w` holds `n` floats. */
export function checkSize(w: Float32Array, n: number, name: string, shape: string): void {
  if (w.length !== n) throw new RnnError("shape", `weight ${name} holds ${w.length} floats, expected ${shape} = ${n}`);
}
