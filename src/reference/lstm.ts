// src/reference/lstm.ts: LSTM over a sequence, one direction, time-major; the mirror of assembly/lstm.ts.
//   z = xz_t + W_hh h_{t-1} + b_hh;  i, f, o = sigmoid(z_i, z_f, z_o);  g = tanh(z_g)  (gate order i, f, g, o)
//   c_t = f * c_{t-1} + i * g;  r_t = o * tanh(c_t);  h_t = r_t, or W_hr r_t with a projection
// No padding here: hs is (T+1,B,P), cs (T+1,B,H), gates (T,B,4H [+H for r with a projection]), xz (T,B,4H).
// Wh is PyTorch's weight_hh (4H,P), Wr its weight_hr (P,H), float or quantized (product.ts: assembly/lstm.ts's
// lstmForwardQ16 / lstmForwardQ8 are this function with quantized weights). Slots as in assembly/lstm.ts: forward writes
// slot t+1 from slot t; reverse walks t = T-1..0 and writes slot t from slot t+1.
import { gemmBackwardInput } from "./gemm.js";
import { addInto, ended, sigmoid, tanh, type Vec } from "./math.js";
import { product, type Weights } from "./product.js";

export function lstmGateWidth(H: number, hasProj: boolean): number {
  return hasProj ? 5 * H : 4 * H;
}

export function lstmForward(
  hs: Vec, cs: Vec, gates: Vec,
  xz: Vec, Wh: Weights, bh: Vec | null, Wr: Weights | null,
  T: number, B: number, H: number, P: number, reverse: boolean,
  lengths: Int32Array | null = null,
): void {
  const width = lstmGateWidth(H, Wr !== null);
  const G = 4 * H; // a row of xz: the four gate blocks
  for (let step = 0; step < T; step++) {
    const t = reverse ? T - 1 - step : step;
    const prev = reverse ? t + 1 : t;
    const next = reverse ? t : t + 1;
    const g = gates.subarray(t * B * width, (t + 1) * B * width);
    product(g, width, hs.subarray(prev * B * P), P, Wh, P, bh, B, P, G);
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < H; j++) {
        const gi = b * width + j;
        const xi = (t * B + b) * G + j;
        const i = sigmoid(xz[xi] + g[gi]);
        const f = sigmoid(xz[xi + H] + g[gi + H]);
        const gg = tanh(xz[xi + 2 * H] + g[gi + 2 * H]);
        const o = sigmoid(xz[xi + 3 * H] + g[gi + 3 * H]);
        const c = f * cs[(prev * B + b) * H + j] + i * gg;
        g[gi] = i;
        g[gi + H] = f;
        g[gi + 2 * H] = gg;
        g[gi + 3 * H] = o;
        cs[(next * B + b) * H + j] = c;
        const r = o * tanh(c);
        if (Wr) g[gi + 4 * H] = r;
        else hs[(next * B + b) * P + j] = r;
      }
    }
    if (Wr) product(hs.subarray(next * B * P), P, g.subarray(4 * H), width, Wr, H, null, B, H, P);
    for (let b = 0; b < B; b++) {
      if (!ended(lengths, b, t)) continue;
      hs.copyWithin((next * B + b) * P, (prev * B + b) * P, (prev * B + b + 1) * P);
      cs.copyWithin((next * B + b) * H, (prev * B + b) * H, (prev * B + b + 1) * H);
      g.fill(0, b * width, (b + 1) * width);
    }
  }
}

// Backward through the sequence, walking time opposite to the forward pass (see assembly/lstm.ts):
//   dc = dc_carry + dr o (1 - tanh²c_t);  do = dr tanh c_t;  di = dc g;  dg = dc i;  df = dc c_{t-1}
//   dz = (di i(1-i), df f(1-f), dg (1-g²), do o(1-o)) -> dxz[t];  dc_carry = dc f;  dh_carry = W_hhᵀ dz
// dhs (T,B,P): in, dL/dh_t from above; out, the total. dh (B,P), dc (B,H): in, the final state's gradient;
// out, the initial state's. dr (B,H) is scratch. Wh (4H,P), Wr (P,H) in PyTorch's layout.
export function lstmBackward(
  dxz: Vec, dhs: Vec, dh: Vec, dc: Vec, dr: Vec,
  cs: Vec, gates: Vec, Wh: Vec, Wr: Vec | null,
  T: number, B: number, H: number, P: number, reverse: boolean,
  lengths: Int32Array | null = null,
): void {
  const width = lstmGateWidth(H, Wr !== null);
  const G = 4 * H; // a row of dxz: the four gate blocks
  for (let step = 0; step < T; step++) {
    const t = reverse ? step : T - 1 - step;
    const prev = reverse ? t + 1 : t;
    const next = reverse ? t : t + 1;
    const dht = dhs.subarray(t * B * P, (t + 1) * B * P);
    const dz = dxz.subarray(t * B * G, (t + 1) * B * G);
    addInto(dht, dh, B * P);
    if (Wr) gemmBackwardInput(dr, H, dht, P, Wr, H, B, H, P, false);
    for (let b = 0; b < B; b++) {
      if (ended(lengths, b, t)) {
        dz.fill(0, b * G, (b + 1) * G);
        continue;
      }
      for (let j = 0; j < H; j++) {
        const gi = (t * B + b) * width + j;
        const i = gates[gi], f = gates[gi + H], g = gates[gi + 2 * H], o = gates[gi + 3 * H];
        const tc = tanh(cs[(next * B + b) * H + j]);
        const drv = Wr ? dr[b * H + j] : dht[b * P + j];
        const dcv = dc[b * H + j] + drv * o * (1 - tc * tc);
        dc[b * H + j] = dcv * f;
        const zi = b * G + j;
        dz[zi] = dcv * g * i * (1 - i);
        dz[zi + H] = dcv * cs[(prev * B + b) * H + j] * f * (1 - f);
        dz[zi + 2 * H] = dcv * i * (1 - g * g);
        dz[zi + 3 * H] = drv * tc * o * (1 - o);
      }
    }
    gemmBackwardInput(dh, P, dz, G, Wh, P, B, P, G, false);
    for (let b = 0; b < B; b++) if (ended(lengths, b, t)) dh.set(dht.subarray(b * P, (b + 1) * P), b * P);
  }
}
