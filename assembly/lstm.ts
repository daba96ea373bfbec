// assembly/lstm.ts: LSTM over a sequence, one direction, time-major. Gate order along 4H: i, f, g, o (PyTorch).
//   xz_t = W_ih x_t + b_ih                      (all t at once, by the caller, as one gemm)
//   z    = xz_t + W_hh h_{t-1} + b_hh           (one gemm over all four gates)
//   i, f, o = sigmoid(z_i, z_f, z_o);  g = tanh(z_g)
//   c_t = f * c_{t-1} + i * g
//   r_t = o * tanh(c_t);  h_t = r_t, or h_t = W_hr r_t with a projection (PyTorch proj_size)
//
// Layout (src/layout.ts): every gate block and state row is padded to Hp = roundUp4(H) (Pp = roundUp4(P))
// floats; padding lanes have zero weights and biases and stay exactly zero. Weights are transposed: Wh is
// (P, 4Hp), Wr is (H, Pp). Pointers are byte offsets of f32 data. Dims: T, B, H, P (P = H without projection).
// State slots: forward reads slot t and writes slot t+1 (slot 0 holds h0/c0); reverse walks t = T-1..0,
// reads slot t+1 and writes slot t (slot T holds h0/c0). So outputs are slots 1..T forward, 0..T-1 reverse.
// gates holds, per step, the activated i, f, g, o (4Hp) and, with a projection, r (Hp): width lstmGateWidth.
// With keepGates the step t block is at gates + t*B*width (training keeps them all), else one block is reused.
import { gemm, sigmoid4, tanh4, sigmoidf, tanhf } from "./math";

export function lstmGateWidth(H: i32, hasProj: i32): i32 {
  const Hp = (H + 3) & ~3;
  return hasProj ? 5 * Hp : 4 * Hp;
}

export function lstmForward(
  hs: usize, cs: usize, gates: usize,   // out (T+1,B,Pp) (T+1,B,Hp) (T|1,B,width)
  xz: usize, Wh: usize, bh: usize,      // in  (T,B,4Hp) (P,4Hp) (4Hp) or 0
  Wr: usize,                            // in  (H,Pp) or 0 for no projection
  T: i32, B: i32, H: i32, P: i32, reverse: i32, keepGates: i32,
): void {
  const Hp = (H + 3) & ~3;
  const Pp = (P + 3) & ~3;
  const width = lstmGateWidth(H, <i32>(Wr != 0));
  const G = 4 * Hp;
  for (let step = 0; step < T; step++) {
    const t = reverse ? T - 1 - step : step;
    const prev = reverse ? t + 1 : t;
    const next = reverse ? t : t + 1;
    const hPrev = hs + ((<usize>prev * B * Pp) << 2);
    const hNext = hs + ((<usize>next * B * Pp) << 2);
    const cPrev = cs + ((<usize>prev * B * Hp) << 2);
    const cNext = cs + ((<usize>next * B * Hp) << 2);
    const g = gates + (keepGates ? (<usize>t * B * width) << 2 : 0);
    const x = xz + ((<usize>t * B * G) << 2);
    // z_h = W_hh h_{t-1} + b_hh for all gates, written where the activated gates will go
    gemm(g, width, hPrev, Pp, Wh, G, bh, B, P, G, 0);
    for (let b = 0; b < B; b++) {
      const gb = g + ((<usize>b * width) << 2);
      const xb = x + ((<usize>b * G) << 2);
      const cp = cPrev + ((<usize>b * Hp) << 2);
      const cn = cNext + ((<usize>b * Hp) << 2);
      // without projection r_t is h_t; with one it waits in the gates block for the W_hr product
      const rb = Wr ? gb + ((<usize>G) << 2) : hNext + ((<usize>b * Pp) << 2);
      if (ASC_FEATURE_SIMD) {
        for (let j = 0; j < Hp; j += 4) {
          const o4 = <usize>j << 2;
          const hOff = <usize>Hp << 2;
          const i = sigmoid4(f32x4.add(v128.load(xb + o4), v128.load(gb + o4)));
          const f = sigmoid4(f32x4.add(v128.load(xb + hOff + o4), v128.load(gb + hOff + o4)));
          const gg = tanh4(f32x4.add(v128.load(xb + 2 * hOff + o4), v128.load(gb + 2 * hOff + o4)));
          const o = sigmoid4(f32x4.add(v128.load(xb + 3 * hOff + o4), v128.load(gb + 3 * hOff + o4)));
          const c = f32x4.add(f32x4.mul(f, v128.load(cp + o4)), f32x4.mul(i, gg));
          v128.store(gb + o4, i);
          v128.store(gb + hOff + o4, f);
          v128.store(gb + 2 * hOff + o4, gg);
          v128.store(gb + 3 * hOff + o4, o);
          v128.store(cn + o4, c);
          v128.store(rb + o4, f32x4.mul(o, tanh4(c)));
        }
      } else {
        for (let j = 0; j < Hp; j++) {
          const o4 = <usize>j << 2;
          const hOff = <usize>Hp << 2;
          const i = sigmoidf(load<f32>(xb + o4) + load<f32>(gb + o4));
          const f = sigmoidf(load<f32>(xb + hOff + o4) + load<f32>(gb + hOff + o4));
          const gg = tanhf(load<f32>(xb + 2 * hOff + o4) + load<f32>(gb + 2 * hOff + o4));
          const o = sigmoidf(load<f32>(xb + 3 * hOff + o4) + load<f32>(gb + 3 * hOff + o4));
          const c = f * load<f32>(cp + o4) + i * gg;
          store<f32>(gb + o4, i);
          store<f32>(gb + hOff + o4, f);
          store<f32>(gb + 2 * hOff + o4, gg);
          store<f32>(gb + 3 * hOff + o4, o);
          store<f32>(cn + o4, c);
          store<f32>(rb + o4, o * tanhf(c));
        }
      }
    }
    // h_t = W_hr r_t
    if (Wr) gemm(hNext, Pp, g + ((<usize>G) << 2), width, Wr, Pp, 0, B, H, Pp, 0);
  }
}
