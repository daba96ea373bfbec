// assembly/rnn.ts: Elman RNN over a sequence, one direction, time-major.
//   xz_t = W_ih x_t + b_ih                      (all t at once, by the caller, as one gemm)
//   h_t  = act(xz_t + W_hh h_{t-1} + b_hh),     act = tanh, or relu when relu != 0
//
// Layout as in lstm.ts: state rows padded to Hp = roundUp4(H); Wh transposed to (H, Hp), packed. The recurrent
// product is written straight into h_t's slot and activated in place, so no gate buffer is needed: the
// backward pass gets everything from h (tanh' = 1 - h^2, relu' = h > 0). Slots and reverse as in lstm.ts.
// rnnForwardQ16 / rnnForwardQ8: the same steps with W_hh quantized (product.ts), inference only.
import { addInto, ended, tanh4, tanhf } from "./math";
import { gemm } from "./gemm";
import { panelStrideOf, product, quantizeRows } from "./product";

export function rnnForward(
  hs: usize,                            // out (T+1,B,Hp)
  xz: usize, Wh: usize, bh: usize,      // in  (T,B,Hp) (H,Hp) (Hp) or 0
  T: i32, B: i32, H: i32, relu: i32, reverse: i32,
  lengths: usize,                       // in  (B) i32, or 0 for full length (see lstm.ts)
): void {
  rnnSteps<f32>(hs, xz, Wh, 0, 0, bh, 0, 0, T, B, H, relu, reverse, lengths, 0);
}

// The same with quantized W_hh (product.ts): the Q16 form (Hp rows, H inputs) with row scales swh; h_{t-1} is
// quantized per step into aq (B rows of quantRowStride(H)) and sa (B), with qmax levels.
export function rnnForwardQ16(
  hs: usize,                            // out (T+1,B,Hp)
  xz: usize, Wh: usize, swh: usize,     // in  (T,B,Hp); Q16 (Hp rows, H inputs), (roundUp8(Hp)) f32
  bh: usize,                            // in  (Hp) or 0
  aq: usize, sa: usize,                 // scratch (B, quantRowStride(H)) int16, (B) f32
  T: i32, B: i32, H: i32, relu: i32, reverse: i32,
  lengths: usize,                       // in  (B) i32, or 0 for full length
  qmax: i32,
): void {
  rnnSteps<i16>(hs, xz, Wh, swh, 0, bh, aq, sa, T, B, H, relu, reverse, lengths, qmax);
}

// The same in the Q8 form, crh the corrections (quant.ts gemmQ8).
export function rnnForwardQ8(
  hs: usize,                            // out (T+1,B,Hp)
  xz: usize, Wh: usize, swh: usize,     // in  (T,B,Hp); Q8 (Hp rows, H inputs), (roundUp8(Hp)) f32
  crh: usize, bh: usize,                // in  (roundUp8(Hp)) i32; (Hp) or 0
  aq: usize, sa: usize,                 // scratch (B, quantRowStride(H)) uint8, (B) f32
  T: i32, B: i32, H: i32, relu: i32, reverse: i32,
  lengths: usize,                       // in  (B) i32, or 0 for full length
): void {
  rnnSteps<i8>(hs, xz, Wh, swh, crh, bh, aq, sa, T, B, H, relu, reverse, lengths, 0);
}

// The body of the three: F is the weights' form (product.ts). Each step is a call of rnnStep, not inlined code:
// V8 optimizes a wasm function in the background once it has run a while and runs the result from its next call,
// so a process's first forward switches to optimized steps part way through (lstm.ts lstmSteps; issue 14).
// @ts-ignore: decorator
@inline function rnnSteps<F>(
  hs: usize, xz: usize, Wh: usize, swh: usize, crh: usize, bh: usize, aq: usize, sa: usize,
  T: i32, B: i32, H: i32, relu: i32, reverse: i32, lengths: usize, qmax: i32,
): void {
  for (let step = 0; step < T; step++) {
    const t = reverse ? T - 1 - step : step;
    rnnStep<F>(hs, xz, Wh, swh, crh, bh, aq, sa, t, B, H, relu, reverse, lengths, qmax);
  }
}

// Step t of rnnSteps.
function rnnStep<F>(
  hs: usize, xz: usize, Wh: usize, swh: usize, crh: usize, bh: usize, aq: usize, sa: usize,
  t: i32, B: i32, H: i32, relu: i32, reverse: i32, lengths: usize, qmax: i32,
): void {
  const Hp = (H + 3) & ~3;
  const n = B * Hp;
  const prev = reverse ? t + 1 : t;
  const next = reverse ? t : t + 1;
  const hNext = hs + ((<usize>next * n) << 2);
  const x = xz + ((<usize>t * n) << 2);
  const hPrev = hs + ((<usize>prev * n) << 2);
  quantizeRows<F>(aq, sa, hPrev, Hp, B, H, qmax);
  product<F>(hNext, Hp, hPrev, Hp, aq, sa, Wh, panelStrideOf<F>(H), swh, crh, bh, B, H, Hp);
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
