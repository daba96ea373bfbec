// src/onnx/recurrent-reference.ts: ONNX's LSTM, GRU and RNN operators in plain TypeScript, with every attribute:
// the path for what the wasm layers do not compute (activations other than the defaults, clip, input_forget,
// peepholes, rows of length 0). Slower than the wasm path (scalar loops, one row at a
// time), and exact in the spec's terms. Gate orders as ONNX: LSTM i, o, f, c; GRU z, r, h; per direction d
// (forward, then reverse for bidirectional), with Wb = B[d, 0:G*H] and Rb = B[d, G*H:2*G*H]:
//   RNN   h_t = f(clip(W x_t + Wb + R h + Rb))
//   GRU   z = f(clip(Wz x + Wbz + Rz h + Rbz));  r = f(clip(Wr x + Wbr + Rr h + Rbr))
//         linear_before_reset 0: n = g(clip(Wh x + Wbh + Rh (r * h) + Rbh))
//         linear_before_reset 1: n = g(clip(Wh x + Wbh + r * (Rh h + Rbh)))
//         h_t = (1 - z) * n + z * h
//   LSTM  i = f(clip(Wi x + Wbi + Ri h + Rbi + Pi * c));  f = input_forget ? 1 - i : f(clip(... + Pf * c))
//         c_t = f * c + i * g(clip(Wc x + Wbc + Rc h + Rbc));  o = f(clip(... + Po * c_t));  h_t = o * h(c_t)
// Where the spec is open this follows ONNX Runtime (deep_cpu_lstm.cc, deep_cpu_gru.cc, rnn.cc): clip bounds each
// gate's pre-activation, peephole term included, never the cell state; input_forget couples f = 1 - i. Row b runs
// its first lengths[b] steps (the reverse direction from step lengths[b] - 1 down); Y is 0 past them and Y_h / Y_c
// hold the state after the row's last step (the initial state for a row of length 0).
// Shapes (time-major; the operator converts layout 1): x (T,B,I), W (D,G*H,I), R (D,G*H,H), bias (D,2*G*H),
// h0 c0 (D,B,H), P (D,3H); out Y (T,D,B,H), Yh Yc (D,B,H).
import type { Kind } from "../architecture.js";

/** One activation function of the operator's `activations` list, with its alpha and beta resolved. */
export interface Activation {
  /** The name as ONNX spells it (case as in the file). */
  name: string;
  alpha: number;
  beta: number;
  fn: (x: number) => number;
}

/** Everything about one node that the recurrence needs besides its tensors. */
export interface RecurrentConfig {
  kind: Kind;
  hiddenSize: number;
  /** 2 for bidirectional, else 1. */
  directions: number;
  /** direction = "reverse" (one direction, run from each row's end). */
  reverse: boolean;
  /** Per direction: f (and g, and h for an LSTM). */
  activations: Activation[][];
  clip: number | null;
  inputForget: boolean;
  linearBeforeReset: boolean;
}

export interface RecurrentResult {
  Y: Float32Array;
  Yh: Float32Array;
  Yc: Float32Array;
}

/** Gate blocks along W's rows: 4 (LSTM), 3 (GRU), 1 (RNN). */
export function onnxGates(kind: Kind): number {
  return kind === "lstm" ? 4 : kind === "gru" ? 3 : 1;
}

export function recurrentReference(
  cfg: RecurrentConfig,
  x: Float32Array, W: Float32Array, R: Float32Array, bias: Float32Array | null,
  lengths: Int32Array | null, h0: Float32Array | null, c0: Float32Array | null, P: Float32Array | null,
  T: number, B: number, I: number,
): RecurrentResult {
  const H = cfg.hiddenSize, D = cfg.directions, G = onnxGates(cfg.kind);
  const Y = new Float32Array(T * D * B * H);
  const Yh = new Float32Array(D * B * H);
  const Yc = new Float32Array(D * B * H);
  const clip = cfg.clip;
  const cl = clip === null ? (v: number) => v : (v: number) => (v > clip ? clip : v < -clip ? -clip : v);
  const gates = new Float64Array(G * H);
  const h = new Float64Array(H), c = new Float64Array(H), next = new Float64Array(H);
  for (let d = 0; d < D; d++) {
    const reverse = cfg.reverse || d === 1;
    const [f, g, hAct] = cfg.activations[d];
    const Wd = W.subarray(d * G * H * I, (d + 1) * G * H * I);
    const Rd = R.subarray(d * G * H * H, (d + 1) * G * H * H);
    const Wb = bias ? bias.subarray(d * 2 * G * H, d * 2 * G * H + G * H) : null;
    const Rb = bias ? bias.subarray(d * 2 * G * H + G * H, (d + 1) * 2 * G * H) : null;
    const Pd = P ? P.subarray(d * 3 * H, (d + 1) * 3 * H) : null;
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < H; j++) {
        h[j] = h0 ? h0[(d * B + b) * H + j] : 0;
        c[j] = c0 ? c0[(d * B + b) * H + j] : 0;
      }
      const L = lengths ? lengths[b] : T;
      for (let step = 0; step < L; step++) {
        const t = reverse ? L - 1 - step : step;
        const xt = x.subarray((t * B + b) * I, (t * B + b + 1) * I);
        // gates = W x_t + Wb (+ R h + Rb, except the GRU's h block, whose R term depends on r)
        for (let row = 0; row < G * H; row++) {
          let s = Wb ? Wb[row] : 0;
          for (let k = 0; k < I; k++) s += Wd[row * I + k] * xt[k];
          if (!(cfg.kind === "gru" && row >= 2 * H)) {
            s += Rb ? Rb[row] : 0;
            for (let k = 0; k < H; k++) s += Rd[row * H + k] * h[k];
          }
          gates[row] = s;
        }
        if (cfg.kind === "rnn") {
          for (let j = 0; j < H; j++) next[j] = f.fn(cl(gates[j]));
        } else if (cfg.kind === "gru") {
          for (let j = 0; j < H; j++) {
            gates[j] = f.fn(cl(gates[j]));         // z
            gates[H + j] = f.fn(cl(gates[H + j])); // r
          }
          for (let j = 0; j < H; j++) {
            const row = 2 * H + j, r = gates[H + j];
            let rec = 0;
            if (cfg.linearBeforeReset) {
              for (let k = 0; k < H; k++) rec += Rd[row * H + k] * h[k];
              rec = r * (rec + (Rb ? Rb[row] : 0));
            } else {
              for (let k = 0; k < H; k++) rec += Rd[row * H + k] * gates[H + k] * h[k];
              rec += Rb ? Rb[row] : 0;
            }
            const n = g.fn(cl(gates[row] + rec));
            const z = gates[j];
            next[j] = (1 - z) * n + z * h[j];
          }
        } else {
          for (let j = 0; j < H; j++) {
            const i = f.fn(cl(gates[j] + (Pd ? Pd[j] * c[j] : 0)));
            const fg = cfg.inputForget ? 1 - i : f.fn(cl(gates[2 * H + j] + (Pd ? Pd[2 * H + j] * c[j] : 0)));
            const cc = g.fn(cl(gates[3 * H + j]));
            const ct = fg * c[j] + i * cc;
            const o = f.fn(cl(gates[H + j] + (Pd ? Pd[H + j] * ct : 0)));
            c[j] = ct;
            next[j] = o * hAct.fn(ct);
          }
        }
        h.set(next);
        for (let j = 0; j < H; j++) Y[((t * D + d) * B + b) * H + j] = h[j];
      }
      for (let j = 0; j < H; j++) {
        Yh[(d * B + b) * H + j] = h[j];
        Yc[(d * B + b) * H + j] = c[j];
      }
    }
  }
  return { Y, Yh, Yc };
}
