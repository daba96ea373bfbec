// src/reference/gru.ts: GRU over a sequence, one direction, time-major; the mirror of assembly/gru.ts.
// Gate order r, z, n (PyTorch).
//   r = sigmoid(xz_r + W_hr h + b_hr);  z = sigmoid(xz_z + W_hz h + b_hz)
//   reset after:  hn = W_hn h + b_hn;        n = tanh(xz_n + r * hn)
//   reset before: hn = W_hn (r * h) + b_hn;  n = tanh(xz_n + hn)
//   h_t = (1 - z) * n + z * h_{t-1}
// No padding: hs (T+1,B,H), gates (T,B,4H) holding r, z, n, hn; xz (T,B,3H); Wh is weight_hh (3H,H).
import { gemm, sigmoid, tanh, type Vec } from "./math.js";

export function gruGateWidth(H: number): number {
  return 4 * H;
}

export function gruForward(
  hs: Vec, gates: Vec,
  xz: Vec, Wh: Vec, bh: Vec | null,
  T: number, B: number, H: number, resetAfter: boolean, reverse: boolean,
): void {
  const width = gruGateWidth(H);
  const WhN = Wh.subarray(2 * H * H);
  const bhN = bh ? bh.subarray(2 * H) : null;
  for (let step = 0; step < T; step++) {
    const t = reverse ? T - 1 - step : step;
    const prev = reverse ? t + 1 : t;
    const next = reverse ? t : t + 1;
    const hPrev = hs.subarray(prev * B * H);
    const g = gates.subarray(t * B * width, (t + 1) * B * width);
    gemm(g, width, hPrev, H, Wh, H, bh, B, H, 2 * H, false);
    if (resetAfter) gemm(g.subarray(3 * H), width, hPrev, H, WhN, H, bhN, B, H, H, false);
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < H; j++) {
        const gi = b * width + j;
        const xi = (t * B + b) * 3 * H + j;
        g[gi] = sigmoid(xz[xi] + g[gi]);
        g[gi + H] = sigmoid(xz[xi + H] + g[gi + H]);
        if (!resetAfter) g[gi + 2 * H] = g[gi] * hPrev[b * H + j];
      }
    }
    if (!resetAfter) gemm(g.subarray(3 * H), width, g.subarray(2 * H), width, WhN, H, bhN, B, H, H, false);
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
    }
  }
}
