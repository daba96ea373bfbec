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
// Layout as in lstm.ts: gate blocks and state rows padded to Hp = roundUp4(H); Wh transposed to (H, 3Hp) and
// packed in panels (gemm.ts), so its n columns start at panel 2Hp/8.
// gates holds, per step, r, z, n (activated), hn and, for reset before, r * h_{t-1} (what W_hn multiplies, kept
// for the backward pass): width 5Hp. Slots, reverse, keepGates and lengths as in lstm.ts.
// gruForwardQ16 / gruForwardQ8: the same steps with W_hh quantized (product.ts), inference only.
import { addInto, ended, sigmoid4, tanh4, sigmoidf, tanhf } from "./math";
import { gemm } from "./gemm";
import { panelStrideOf, product, quantizeRows, rowsOffset } from "./product";

export function gruGateWidth(H: i32): i32 {
  return 5 * ((H + 3) & ~3);
}

export function gruForward(
  hs: usize, gates: usize,              // out (T+1,B,Hp) (T|1,B,5Hp)
  xz: usize, Wh: usize, bh: usize,      // in  (T,B,3Hp) (H,3Hp) (3Hp) or 0
  T: i32, B: i32, H: i32, resetAfter: i32, reverse: i32, keepGates: i32,
  lengths: usize,                       // in  (B) i32, or 0 for full length
): void {
  gruSteps<f32>(hs, gates, xz, Wh, 0, 0, bh, 0, 0, T, B, H, resetAfter, reverse, keepGates, lengths, 0);
}

// The same with quantized W_hh (product.ts): Wh is the Q16 form of weight_hh (3Hp rows, H inputs) with row scales
// swh; h_{t-1} (and, reset before, r * h_{t-1}) are quantized per step into aq (B rows of quantRowStride(H)) and sa.
export function gruForwardQ16(
  hs: usize, gates: usize,              // out (T+1,B,Hp) (T|1,B,5Hp)
  xz: usize, Wh: usize, swh: usize,     // in  (T,B,3Hp); Q16 (3Hp rows, H inputs), (roundUp8(3Hp)) f32
  bh: usize,                            // in  (3Hp) or 0
  aq: usize, sa: usize,                 // scratch (B, quantRowStride(H)) int16, (B) f32
  T: i32, B: i32, H: i32, resetAfter: i32, reverse: i32, keepGates: i32,
  lengths: usize,                       // in  (B) i32, or 0 for full length
  qmax: i32,
): void {
  gruSteps<i16>(hs, gates, xz, Wh, swh, 0, bh, aq, sa, T, B, H, resetAfter, reverse, keepGates, lengths, qmax);
}

// The same in the Q8 form, crh the corrections (quant.ts gemmQ8).
export function gruForwardQ8(
  hs: usize, gates: usize,              // out (T+1,B,Hp) (T|1,B,5Hp)
  xz: usize, Wh: usize, swh: usize,     // in  (T,B,3Hp); Q8 (3Hp rows, H inputs), (roundUp8(3Hp)) f32
  crh: usize, bh: usize,                // in  (roundUp8(3Hp)) i32; (3Hp) or 0
  aq: usize, sa: usize,                 // scratch (B, quantRowStride(H)) uint8, (B) f32
  T: i32, B: i32, H: i32, resetAfter: i32, reverse: i32, keepGates: i32,
  lengths: usize,                       // in  (B) i32, or 0 for full length
): void {
  gruSteps<i8>(hs, gates, xz, Wh, swh, crh, bh, aq, sa, T, B, H, resetAfter, reverse, keepGates, lengths, 0);
}

// The body of the three: F is the weights' form (product.ts). Each step is a call of gruStep, not inlined code:
// V8 optimizes a wasm function in the background once it has run a while and runs the result from its next call,
// so a process's first forward switches to optimized steps part way through (lstm.ts lstmSteps; issue 14).
// @ts-ignore: decorator
@inline function gruSteps<F>(
  hs: usize, gates: usize, xz: usize, Wh: usize, swh: usize, crh: usize, bh: usize, aq: usize, sa: usize,
  T: i32, B: i32, H: i32, resetAfter: i32, reverse: i32, keepGates: i32, lengths: usize, qmax: i32,
): void {
  for (let step = 0; step < T; step++) {
    const t = reverse ? T - 1 - step : step;
    gruStep<F>(hs, gates, xz, Wh, swh, crh, bh, aq, sa, t, B, H, resetAfter, reverse, keepGates, lengths, qmax);
  }
}

// Step t of gruSteps.
function gruStep<F>(
  hs: usize, gates: usize, xz: usize, Wh: usize, swh: usize, crh: usize, bh: usize, aq: usize, sa: usize,
  t: i32, B: i32, H: i32, resetAfter: i32, reverse: i32, keepGates: i32, lengths: usize, qmax: i32,
): void {
  const Hp = (H + 3) & ~3;
  const width = gruGateWidth(H);
  const G = 3 * Hp;
  const hOff = <usize>Hp << 2;
  const wps = panelStrideOf<F>(H);           // Wh's panel stride
  // the n rows of Wh: 2Hp/8 panels in (for float32, 2Hp*H floats, written as the float32 kernel always wrote it)
  const WhN = Wh + (sizeof<F>() == 4 ? 2 * hOff * H : rowsOffset<F>(2 * Hp, H));
  const swhN = swh ? swh + 2 * hOff : 0;     // their scales and corrections, 2Hp entries in
  const crhN = crh ? crh + 2 * hOff : 0;
  const bhN = bh ? bh + 2 * hOff : 0;
  const prev = reverse ? t + 1 : t;
  const next = reverse ? t : t + 1;
  const hPrev = hs + ((<usize>prev * B * Hp) << 2);
  const hNext = hs + ((<usize>next * B * Hp) << 2);
  const g = gates + (keepGates ? (<usize>t * B * width) << 2 : 0);
  const x = xz + ((<usize>t * B * G) << 2);
  // W_h{r,z} h_{t-1} + b_h{r,z} into the r and z blocks
  quantizeRows<F>(aq, sa, hPrev, Hp, B, H, qmax);
  product<F>(g, width, hPrev, Hp, aq, sa, Wh, wps, swh, crh, bh, B, H, 2 * Hp);
  // reset after: hn = W_hn h_{t-1} + b_hn now, into the hn block
  if (resetAfter) product<F>(g + 3 * hOff, width, hPrev, Hp, aq, sa, WhN, wps, swhN, crhN, bhN, B, H, Hp);
  // r and z (and r * h_{t-1} for reset before)
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
        if (!resetAfter) v128.store(gb + 4 * hOff + o4, f32x4.mul(r, v128.load(hp + o4)));
      }
    } else {
      for (let j = 0; j < Hp; j++) {
        const o4 = <usize>j << 2;
        const r = sigmoidf(load<f32>(xb + o4) + load<f32>(gb + o4));
        const z = sigmoidf(load<f32>(xb + hOff + o4) + load<f32>(gb + hOff + o4));
        store<f32>(gb + o4, r);
        store<f32>(gb + hOff + o4, z);
        if (!resetAfter) store<f32>(gb + 4 * hOff + o4, r * load<f32>(hp + o4));
      }
    }
  }
  // reset before: hn = W_hn (r * h_{t-1}) + b_hn
  if (!resetAfter) {
    quantizeRows<F>(aq, sa, g + 4 * hOff, width, B, H, qmax);
    product<F>(g + 3 * hOff, width, g + 4 * hOff, width, aq, sa, WhN, wps, swhN, crhN, bhN, B, H, Hp);
  }
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
    if (ended(lengths, b, t)) {
      memory.copy(hn, hp, hOff);
      memory.fill(gb, 0, <usize>width << 2);
    }
  }
}

// Backward through the whole sequence, walking time opposite to the forward pass. With dh the total dL/dh_t:
//   dn = dh (1 - z);  dz_z = dh (h_{t-1} - n) z(1-z);  dnp = dn (1 - n²)    (dnp: d of n's pre-activation)
//   reset after:  dxz_n = dnp;  dhn = dnp r;  dr = dnp hn
//   reset before: dxz_n = dnp;  dhn = dnp;    d(r h) = W_hnᵀ dhn;  dr = d(r h) h_{t-1}
//   dz_r = dr r(1-r)
//   dh_carry = dh z + W_hᵀ (dz_r, dz_z, dhn)          reset after
//            = dh z + r d(r h) + W_h{r,z}ᵀ (dz_r, dz_z)  reset before
// dxz (r, z, n) is the gradient of the input side (W_ih x + b_ih), dzh (r, z, hn) that of the recurrent side
// (W_hh h + b_hh, where reset before's n block multiplies r * h_{t-1}, kept in the gates' fifth block).
// WhT is W_hh transposed, (3Hp, H), from gemm.ts's packTransposed.
export function gruBackward(
  dxz: usize, dzh: usize,     // out    (T,B,3Hp) (T,B,3Hp)
  dhs: usize,                 // in/out (T,B,Hp): in, dL/dh_t from above; out, the total dL/dh_t
  dh: usize,                  // in/out (B,Hp): in, dL/dh_T; out, dL/dh_0
  drh: usize,                 // scratch (B,Hp), used by reset before
  hs: usize, gates: usize,    // in: the forward pass's tape (keepGates = 1)
  WhT: usize,                 // in (3Hp,H)
  T: i32, B: i32, H: i32, resetAfter: i32, reverse: i32,
  lengths: usize,             // in (B) i32, or 0: ended rows pass dh through and get zero gradients
): void {
  const Hp = (H + 3) & ~3;
  const width = gruGateWidth(H);
  const G = 3 * Hp;
  const hOff = <usize>Hp << 2;
  if (!resetAfter) memory.fill(drh, 0, (<usize>B * Hp) << 2);
  for (let step = 0; step < T; step++) {
    const t = reverse ? step : T - 1 - step;
    const prev = reverse ? t + 1 : t;
    const dht = dhs + ((<usize>t * B * Hp) << 2);
    const g = gates + ((<usize>t * B * width) << 2);
    const dx = dxz + ((<usize>t * B * G) << 2);
    const dzt = dzh + ((<usize>t * B * G) << 2);
    addInto(dht, dh, B * Hp);
    for (let b = 0; b < B; b++) {
      const gb = g + ((<usize>b * width) << 2);
      const hp = hs + ((<usize>(prev * B + b) * Hp) << 2);
      const dhb = dht + ((<usize>b * Hp) << 2);
      const carry = dh + ((<usize>b * Hp) << 2);
      const dxb = dx + ((<usize>b * G) << 2);
      const dzb = dzt + ((<usize>b * G) << 2);
      if (ended(lengths, b, t)) { // dh passes through unchanged; zeros add nothing below
        memory.fill(dxb, 0, <usize>G << 2);
        memory.fill(dzb, 0, <usize>G << 2);
        continue;
      }
      if (ASC_FEATURE_SIMD) {
        const one = f32x4.splat(1);
        for (let j = 0; j < Hp; j += 4) {
          const o4 = <usize>j << 2;
          const r = v128.load(gb + o4), z = v128.load(gb + hOff + o4), n = v128.load(gb + 2 * hOff + o4);
          const d = v128.load(dhb + o4);
          const dnp = f32x4.mul(f32x4.mul(d, f32x4.sub(one, z)), f32x4.sub(one, f32x4.mul(n, n)));
          const dzz = f32x4.mul(f32x4.mul(d, f32x4.sub(v128.load(hp + o4), n)), f32x4.mul(z, f32x4.sub(one, z)));
          v128.store(dxb + hOff + o4, dzz);
          v128.store(dzb + hOff + o4, dzz);
          v128.store(dxb + 2 * hOff + o4, dnp);
          v128.store(carry + o4, f32x4.mul(d, z));
          if (resetAfter) {
            const dzr = f32x4.mul(f32x4.mul(dnp, v128.load(gb + 3 * hOff + o4)), f32x4.mul(r, f32x4.sub(one, r)));
            v128.store(dxb + o4, dzr);
            v128.store(dzb + o4, dzr);
            v128.store(dzb + 2 * hOff + o4, f32x4.mul(dnp, r));
          } else {
            v128.store(dzb + 2 * hOff + o4, dnp);
          }
        }
      } else {
        for (let j = 0; j < Hp; j++) {
          const o4 = <usize>j << 2;
          const r = load<f32>(gb + o4), z = load<f32>(gb + hOff + o4), n = load<f32>(gb + 2 * hOff + o4);
          const d = load<f32>(dhb + o4);
          const dnp = d * (1 - z) * (1 - n * n);
          const dzz = d * (load<f32>(hp + o4) - n) * (z * (1 - z));
          store<f32>(dxb + hOff + o4, dzz);
          store<f32>(dzb + hOff + o4, dzz);
          store<f32>(dxb + 2 * hOff + o4, dnp);
          store<f32>(carry + o4, d * z);
          if (resetAfter) {
            const dzr = dnp * load<f32>(gb + 3 * hOff + o4) * (r * (1 - r));
            store<f32>(dxb + o4, dzr);
            store<f32>(dzb + o4, dzr);
            store<f32>(dzb + 2 * hOff + o4, dnp * r);
          } else {
            store<f32>(dzb + 2 * hOff + o4, dnp);
          }
        }
      }
    }
    if (!resetAfter) {
      // d(r h) = W_hnᵀ dhn, then dr and the r path into dh_carry
      gemm(drh, Hp, dzt + 2 * hOff, G, WhT + 16 * hOff, G * 8, 0, B, Hp, H, 0); // rows 2Hp.. of WhT
      for (let b = 0; b < B; b++) {
        const gb = g + ((<usize>b * width) << 2);
        const hp = hs + ((<usize>(prev * B + b) * Hp) << 2);
        const drb = drh + ((<usize>b * Hp) << 2);
        const carry = dh + ((<usize>b * Hp) << 2);
        const dxb = dx + ((<usize>b * G) << 2);
        const dzb = dzt + ((<usize>b * G) << 2);
        for (let j = 0; j < Hp; j++) {
          const o4 = <usize>j << 2;
          const r = load<f32>(gb + o4);
          const d = load<f32>(drb + o4);
          const dzr = d * load<f32>(hp + o4) * (r * (1 - r));
          store<f32>(dxb + o4, dzr);
          store<f32>(dzb + o4, dzr);
          store<f32>(carry + o4, load<f32>(carry + o4) + d * r);
        }
      }
    }
    // dh_{t-1} += W_hᵀ (dz_r, dz_z[, dhn])
    gemm(dh, Hp, dzt, G, WhT, G * 8, 0, B, resetAfter ? G : 2 * Hp, H, 1);
  }
}
