// assembly/gru.ts: GRU over a sequence, one direction, time-major. Gate order along 3H: r, z, n (PyTorch).
//   xz_t = W_ih x_t + b_ih                                  (all t at once, by the caller, as one gemm)
//   r = sigmoid(xz_r + W_hr h_{t-1} + b_hr)
//   z = sigmoid(xz_z + W_hz h_{t-1} + b_hz)
//   reset after (PyTorch, cuDNN, ONNX linear_before_reset=1):
//     hn = W_hn h_{t-1} + b_hn;          n = tanh(xz_n + r * hn)
//   reset before (the original GRU, TensorFlow.js, ONNX linear_before_reset=0):
//     hn = W_hn (r * h_{t-1}) + b_hn;    n = tanh(xz_n + hn)
//   h_t = (1 - z) * n + z * h_{t-1}
//
// Layout as in lstm.ts: gate blocks and state rows padded to Hp = roundUp4(H); Wh transposed to (H, 3Hp).
// gates holds, per step, r, z, n (activated) and hn: width 4Hp. Reset before uses the n block for r * h_{t-1}
// until n is known. Slots, reverse and keepGates as in lstm.ts.
import { gemm, sigmoid4, tanh4, sigmoidf, tanhf } from "./math";

export function gruGateWidth(H: i32): i32 {
  return 4 * ((H + 3) & ~3);
}

export function gruForward(
  hs: usize, gates: usize,              // out (T+1,B,Hp) (T|1,B,4Hp)
  xz: usize, Wh: usize, bh: usize,      // in  (T,B,3Hp) (H,3Hp) (3Hp) or 0
  T: i32, B: i32, H: i32, resetAfter: i32, reverse: i32, keepGates: i32,
): void {
  const Hp = (H + 3) & ~3;
  const width = gruGateWidth(H);
  const G = 3 * Hp;
  const hOff = <usize>Hp << 2;
  const WhN = Wh + 2 * hOff;                 // the n columns of Wh
  const bhN = bh ? bh + 2 * hOff : 0;
  for (let step = 0; step < T; step++) {
    const t = reverse ? T - 1 - step : step;
    const prev = reverse ? t + 1 : t;
    const next = reverse ? t : t + 1;
    const hPrev = hs + ((<usize>prev * B * Hp) << 2);
    const hNext = hs + ((<usize>next * B * Hp) << 2);
    const g = gates + (keepGates ? (<usize>t * B * width) << 2 : 0);
    const x = xz + ((<usize>t * B * G) << 2);
    // W_h{r,z} h_{t-1} + b_h{r,z} into the r and z blocks
    gemm(g, width, hPrev, Hp, Wh, G, bh, B, H, 2 * Hp, 0);
    // reset after: hn = W_hn h_{t-1} + b_hn now, into the hn block
    if (resetAfter) gemm(g + 3 * hOff, width, hPrev, Hp, WhN, G, bhN, B, H, Hp, 0);
    // r and z (and r * h_{t-1} in the n block for reset before)
    for (let b = 0; b < B; b++) {
      const gb = g + ((<usize>b * width) << 2);
      const xb = x + ((<usize>b * G) << 2);
      const hp = hPrev + ((<usize>b * Hp) << 2);
      if (ASC_FEATURE_SIMD) {
        for (let j = 0; j < Hp; j += 4) {
          const o4 = <usize>j << 2;
          const r = sigmoid4(f32x4.add(v128.load(xb + o4), v128.load(gb + o4)));
          const z = sigmoid4(f32x4.add(v128.load(xb + hOff + o4), v128.load(gb + hOff + o4)));
          v128.store(gb + o4, r);
          v128.store(gb + hOff + o4, z);
          if (!resetAfter) v128.store(gb + 2 * hOff + o4, f32x4.mul(r, v128.load(hp + o4)));
        }
      } else {
        for (let j = 0; j < Hp; j++) {
          const o4 = <usize>j << 2;
          const r = sigmoidf(load<f32>(xb + o4) + load<f32>(gb + o4));
          const z = sigmoidf(load<f32>(xb + hOff + o4) + load<f32>(gb + hOff + o4));
          store<f32>(gb + o4, r);
          store<f32>(gb + hOff + o4, z);
          if (!resetAfter) store<f32>(gb + 2 * hOff + o4, r * load<f32>(hp + o4));
        }
      }
    }
    // reset before: hn = W_hn (r * h_{t-1}) + b_hn
    if (!resetAfter) gemm(g + 3 * hOff, width, g + 2 * hOff, width, WhN, G, bhN, B, H, Hp, 0);
    // n and h_t
    for (let b = 0; b < B; b++) {
      const gb = g + ((<usize>b * width) << 2);
      const xb = x + ((<usize>b * G) << 2);
      const hp = hPrev + ((<usize>b * Hp) << 2);
      const hn = hNext + ((<usize>b * Hp) << 2);
      if (ASC_FEATURE_SIMD) {
        for (let j = 0; j < Hp; j += 4) {
          const o4 = <usize>j << 2;
          const hnv = v128.load(gb + 3 * hOff + o4);
          const pre = resetAfter ? f32x4.mul(v128.load(gb + o4), hnv) : hnv;
          const n = tanh4(f32x4.add(v128.load(xb + 2 * hOff + o4), pre));
          const z = v128.load(gb + hOff + o4);
          const h = f32x4.add(f32x4.mul(f32x4.sub(f32x4.splat(1), z), n), f32x4.mul(z, v128.load(hp + o4)));
          v128.store(gb + 2 * hOff + o4, n);
          v128.store(hn + o4, h);
        }
      } else {
        for (let j = 0; j < Hp; j++) {
          const o4 = <usize>j << 2;
          const hnv = load<f32>(gb + 3 * hOff + o4);
          const pre = resetAfter ? load<f32>(gb + o4) * hnv : hnv;
          const n = tanhf(load<f32>(xb + 2 * hOff + o4) + pre);
          const z = load<f32>(gb + hOff + o4);
          store<f32>(gb + 2 * hOff + o4, n);
          store<f32>(hn + o4, (1 - z) * n + z * load<f32>(hp + o4));
        }
      }
    }
  }
}
