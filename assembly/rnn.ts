// assembly/rnn.ts: Elman RNN over a sequence, one direction, time-major.
//   xz_t = W_ih x_t + b_ih                      (all t at once, by the caller, as one gemm)
//   h_t  = act(xz_t + W_hh h_{t-1} + b_hh),     act = tanh, or relu when relu != 0
//
// Layout as in lstm.ts: state rows padded to Hp = roundUp4(H); Wh transposed to (H, Hp), packed. The recurrent
// product is written straight into h_t's slot and activated in place, so no gate buffer is needed: the
// backward pass gets everything from h (tanh' = 1 - h^2, relu' = h > 0). Slots and reverse as in lstm.ts.
import { addInto, ended, tanh4, tanhf } from "./math";
import { gemm } from "./gemm";

export function rnnForward(
  hs: usize,                            // out (T+1,B,Hp)
  xz: usize, Wh: usize, bh: usize,      // in  (T,B,Hp) (H,Hp) (Hp) or 0
  T: i32, B: i32, H: i32, relu: i32, reverse: i32,
  lengths: usize,                       // in  (B) i32, or 0 for full length (see lstm.ts)
): void {
  const Hp = (H + 3) & ~3;
  const n = B * Hp;
  for (let step = 0; step < T; step++) {
    const t = reverse ? T - 1 - step : step;
    const prev = reverse ? t + 1 : t;
    const next = reverse ? t : t + 1;
    const hNext = hs + ((<usize>next * n) << 2);
    const x = xz + ((<usize>t * n) << 2);
    gemm(hNext, Hp, hs + ((<usize>prev * n) << 2), Hp, Wh, H * 8, bh, B, H, Hp, 0);
    if (ASC_FEATURE_SIMD) {
      for (let j = 0; j < n; j += 4) {
        const o4 = <usize>j << 2;
        const z = f32x4.add(v128.load(x + o4), v128.load(hNext + o4));
        v128.store(hNext + o4, relu ? f32x4.max(z, f32x4.splat(0)) : tanh4(z));
      }
    } else {
      for (let j = 0; j < n; j++) {
        const o4 = <usize>j << 2;
        const z = load<f32>(x + o4) + load<f32>(hNext + o4);
        store<f32>(hNext + o4, relu ? max<f32>(z, 0) : tanhf(z));
      }
    }
    for (let b = 0; b < B; b++) {
      if (ended(lengths, b, t)) memory.copy(hNext + ((<usize>b * Hp) << 2), hs + ((<usize>(prev * B + b) * Hp) << 2), <usize>Hp << 2);
    }
  }
}

// Backward through the whole sequence, walking time opposite to the forward pass:
//   dz = (dL/dh_t from above + dh_carry) * act'(h_t)   (tanh' = 1 - h², relu' = h > 0)  -> dxz[t]
//   dh_carry = W_hhᵀ dz
export function rnnBackward(
  dxz: usize,                 // out    (T,B,Hp)
  dhs: usize,                 // in/out (T,B,Hp): in, dL/dh_t from above; out, the total dL/dh_t
  dh: usize,                  // in/out (B,Hp): in, dL/dh_T; out, dL/dh_0
  hs: usize, WhT: usize,      // in (T+1,B,Hp) the forward's states, W_hh transposed (Hp,H)
  T: i32, B: i32, H: i32, relu: i32, reverse: i32,
  lengths: usize,             // in (B) i32, or 0: ended rows pass dh through and get dz = 0
): void {
  const Hp = (H + 3) & ~3;
  const n = B * Hp;
  for (let step = 0; step < T; step++) {
    const t = reverse ? step : T - 1 - step;
    const next = reverse ? t : t + 1;
    const dht = dhs + ((<usize>t * n) << 2);
    const h = hs + ((<usize>next * n) << 2);
    const dz = dxz + ((<usize>t * n) << 2);
    addInto(dht, dh, n);
    if (ASC_FEATURE_SIMD) {
      for (let j = 0; j < n; j += 4) {
        const o4 = <usize>j << 2;
        const hv = v128.load(h + o4);
        const d = v128.load(dht + o4);
        const dzv = relu
          ? v128.and(d, f32x4.gt(hv, f32x4.splat(0)))
          : f32x4.mul(d, f32x4.sub(f32x4.splat(1), f32x4.mul(hv, hv)));
        v128.store(dz + o4, dzv);
      }
    } else {
      for (let j = 0; j < n; j++) {
        const o4 = <usize>j << 2;
        const hv = load<f32>(h + o4);
        const d = load<f32>(dht + o4);
        store<f32>(dz + o4, relu ? (hv > 0 ? d : 0) : d * (1 - hv * hv));
      }
    }
    for (let b = 0; b < B; b++) {
      if (ended(lengths, b, t)) memory.fill(dz + ((<usize>b * Hp) << 2), 0, <usize>Hp << 2);
    }
    gemm(dh, Hp, dz, Hp, WhT, Hp * 8, 0, B, Hp, H, 0);
    for (let b = 0; b < B; b++) {
      if (ended(lengths, b, t)) memory.copy(dh + ((<usize>b * Hp) << 2), dht + ((<usize>b * Hp) << 2), <usize>Hp << 2);
    }
  }
}
