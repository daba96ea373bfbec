// src/reference/rnn.ts: Elman RNN over a sequence, one direction, time-major; the mirror of assembly/rnn.ts.
//   h_t = act(xz_t + W_hh h_{t-1} + b_hh), act = tanh or relu
// No padding: hs (T+1,B,H), xz (T,B,H), Wh is weight_hh (H,H), float or quantized (product.ts).
import { gemmBackwardInput } from "./gemm.js";
import { addInto, ended, tanh, type Vec } from "./math.js";
import { product, type Weights } from "./product.js";

export function rnnForward(
  hs: Vec,
  xz: Vec, Wh: Weights, bh: Vec | null,
  T: number, B: number, H: number, relu: boolean, reverse: boolean,
  lengths: Int32Array | null = null,
): void {
  for (let step = 0; step < T; step++) {
    const t = reverse ? T - 1 - step : step;
    const prev = reverse ? t + 1 : t;
    const next = reverse ? t : t + 1;
    const hNext = hs.subarray(next * B * H, (next + 1) * B * H);
    product(hNext, H, hs.subarray(prev * B * H), H, Wh, H, bh, B, H, H);
    for (let k = 0; k < B * H; k++) {
      const z = xz[t * B * H + k] + hNext[k];
      hNext[k] = relu ? Math.max(z, 0) : tanh(z);
    }
    for (let b = 0; b < B; b++) if (ended(lengths, b, t)) hNext.set(hs.subarray((prev * B + b) * H, (prev * B + b + 1) * H), b * H);
  }
}

// Backward through the sequence, walking time opposite to the forward pass:
//   dz = (dL/dh_t from above + dh_carry) act'(h_t) -> dxz[t];  dh_carry = W_hhᵀ dz
export function rnnBackward(
  dxz: Vec, dhs: Vec, dh: Vec,
  hs: Vec, Wh: Vec,
  T: number, B: number, H: number, relu: boolean, reverse: boolean,
  lengths: Int32Array | null = null,
): void {
  for (let step = 0; step < T; step++) {
    const t = reverse ? step : T - 1 - step;
    const next = reverse ? t : t + 1;
    const dht = dhs.subarray(t * B * H, (t + 1) * B * H);
    const dz = dxz.subarray(t * B * H, (t + 1) * B * H);
    addInto(dht, dh, B * H);
    for (let k = 0; k < B * H; k++) {
      const h = hs[next * B * H + k];
      dz[k] = relu ? (h > 0 ? dht[k] : 0) : dht[k] * (1 - h * h);
    }
    for (let b = 0; b < B; b++) if (ended(lengths, b, t)) dz.fill(0, b * H, (b + 1) * H);
    gemmBackwardInput(dh, H, dz, H, Wh, H, B, H, H, false);
    for (let b = 0; b < B; b++) if (ended(lengths, b, t)) dh.set(dht.subarray(b * H, (b + 1) * H), b * H);
  }
}
