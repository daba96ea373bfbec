// src/reference/gru.ts: GRU over a sequence, one direction, time-major; the mirror of assembly/gru.ts.
// Gate order r, z, n (PyTorch).
//   r = sigmoid(xz_r + W_hr h + b_hr);  z = sigmoid(xz_z + W_hz h + b_hz)
//   reset after:  hn = W_hn h + b_hn;        n = tanh(xz_n + r * hn)
//   reset before: hn = W_hn (r * h) + b_hn;  n = tanh(xz_n + hn)
//   h_t = (1 - z) * n + z * h_{t-1}
// No padding: hs (T+1,B,H), gates (T,B,5H) holding r, z, n, hn and, for reset before, r * h_{t-1};
// xz (T,B,3H); Wh is weight_hh (3H,H), float or quantized (product.ts; assembly/gru.ts's gruForwardQ16 / Q8).
import { gemmBackwardInput } from "./gemm.js";
import { addInto, ended, sigmoid, tanh, type Vec } from "./math.js";
import { product, rowsOf, type Weights } from "./product.js";

export function gruGateWidth(H: number): number {
  return 5 * H;
}

export function gruForward(
  hs: Vec, gates: Vec,
  xz: Vec, Wh: Weights, bh: Vec | null,
  T: number, B: number, H: number, resetAfter: boolean, reverse: boolean,
  lengths: Int32Array | null = null,
): void {
  const width = gruGateWidth(H);
  const WhN = rowsOf(Wh, 2 * H, H);
  const bhN = bh ? bh.subarray(2 * H) : null;
  for (let step = 0; step < T; step++) {
    const t = reverse ? T - 1 - step : step;
    const prev = reverse ? t + 1 : t;
    const next = reverse ? t : t + 1;
    const hPrev = hs.subarray(prev * B * H);
    const g = gates.subarray(t * B * width, (t + 1) * B * width);
    product(g, width, hPrev, H, Wh, H, bh, B, H, 2 * H);
    if (resetAfter) product(g.subarray(3 * H), width, hPrev, H, WhN, H, bhN, B, H, H);
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < H; j++) {
        const gi = b * width + j;
        const xi = (t * B + b) * 3 * H + j;
        g[gi] = sigmoid(xz[xi] + g[gi]);
        g[gi + H] = sigmoid(xz[xi + H] + g[gi + H]);
        if (!resetAfter) g[gi + 4 * H] = g[gi] * hPrev[b * H + j];
      }
    }
    if (!resetAfter) product(g.subarray(3 * H), width, g.subarray(4 * H), width, WhN, H, bhN, B, H, H);
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < H; j++) {
        const gi = b * width + j;
        const xi = (t * B + b) * 3 * H + j;
        const hn = g[gi + 3 * H];
        const n = tanh(xz[xi + 2 * H] + (resetAfter ? g[gi] * hn : hn));
        const z = g[gi + H];
        g[gi + 2 * H] = n;
        hs[(next * B + b) * H + j] = (1 - z) * n + z * hPrev[b * H + j];
      }
      if (ended(lengths, b, t)) {
        hs.set(hPrev.subarray(b * H, (b + 1) * H), (next * B + b) * H);
        g.fill(0, b * width, (b + 1) * width);
      }
    }
  }
}

// Backward through the sequence, walking time opposite to the forward pass (see assembly/gru.ts):
//   dnp = dh (1-z)(1-n²);  dz_z = dh (h_{t-1} - n) z(1-z);  dxz_n = dnp
//   reset after:  dhn = dnp r;  dz_r = dnp hn r(1-r);            dh_carry = dh z + W_hᵀ (dz_r, dz_z, dhn)
//   reset before: dhn = dnp;    d(rh) = W_hnᵀ dhn;  dz_r = d(rh) h_{t-1} r(1-r)
//                                                  dh_carry = dh z + r d(rh) + W_h{r,z}ᵀ (dz_r, dz_z)
// dxz (T,B,3H) is the input side's gradient, dzh (T,B,3H) the recurrent side's. dhs (T,B,H): in, from above;
// out, the total. dh (B,H): in, dL/dh_T; out, dL/dh_0. drh (B,H) scratch. Wh (3H,H) in PyTorch's layout.
export function gruBackward(
  dxz: Vec, dzh: Vec, dhs: Vec, dh: Vec, drh: Vec,
  hs: Vec, gates: Vec, Wh: Vec,
  T: number, B: number, H: number, resetAfter: boolean, reverse: boolean,
  lengths: Int32Array | null = null,
): void {
  const width = gruGateWidth(H);
  for (let step = 0; step < T; step++) {
    const t = reverse ? step : T - 1 - step;
    const prev = reverse ? t + 1 : t;
    const dht = dhs.subarray(t * B * H, (t + 1) * B * H);
    const dx = dxz.subarray(t * B * 3 * H, (t + 1) * B * 3 * H);
    const dzt = dzh.subarray(t * B * 3 * H, (t + 1) * B * 3 * H);
    addInto(dht, dh, B * H);
    for (let b = 0; b < B; b++) {
      if (ended(lengths, b, t)) { // dh passes through; zero gradients add nothing below
        dx.fill(0, b * 3 * H, (b + 1) * 3 * H);
        dzt.fill(0, b * 3 * H, (b + 1) * 3 * H);
        continue;
      }
      for (let j = 0; j < H; j++) {
        const gi = (t * B + b) * width + j;
        const r = gates[gi], z = gates[gi + H], n = gates[gi + 2 * H], hn = gates[gi + 3 * H];
        const d = dht[b * H + j];
        const hp = hs[(prev * B + b) * H + j];
        const dnp = d * (1 - z) * (1 - n * n);
        const dzz = d * (hp - n) * z * (1 - z);
        const zi = b * 3 * H + j;
        dx[zi + H] = dzt[zi + H] = dzz;
        dx[zi + 2 * H] = dnp;
        dh[b * H + j] = d * z;
        if (resetAfter) {
          dx[zi] = dzt[zi] = dnp * hn * r * (1 - r);
          dzt[zi + 2 * H] = dnp * r;
        } else {
          dzt[zi + 2 * H] = dnp;
        }
      }
    }
    if (!resetAfter) {
      gemmBackwardInput(drh, H, dzt.subarray(2 * H), 3 * H, Wh.subarray(2 * H * H), H, B, H, H, false);
      for (let b = 0; b < B; b++) {
        for (let j = 0; j < H; j++) {
          const r = gates[(t * B + b) * width + j];
          const d = drh[b * H + j];
          const zi = b * 3 * H + j;
          dx[zi] = dzt[zi] = d * hs[(prev * B + b) * H + j] * r * (1 - r);
          dh[b * H + j] += d * r;
        }
      }
    }
    gemmBackwardInput(dh, H, dzt, 3 * H, Wh, H, B, H, resetAfter ? 3 * H : 2 * H, true);
  }
}
