// assembly/lstm.ts: LSTM over a sequence, one direction, time-major. Gate order along 4H: i, f, g, o (PyTorch).
//   xz_t = W_ih x_t + b_ih                      (all t at once, by the caller, as one gemm)
//   z    = xz_t + W_hh h_{t-1} + b_hh           (one gemm over all four gates)
//   i, f, o = sigmoid(z_i, z_f, z_o);  g = tanh(z_g)
//   c_t = f * c_{t-1} + i * g
//   r_t = o * tanh(c_t);  h_t = r_t, or h_t = W_hr r_t with a projection (PyTorch proj_size)
//
// Layout (src/layout.ts): every gate block and state row is padded to Hp = roundUp4(H) (Pp = roundUp4(P))
// floats; padding lanes have zero weights and biases and stay exactly zero. Weights are transposed and packed
// in panels (gemm.ts): Wh is (P, 4Hp), Wr is (H, Pp). Pointers are byte offsets of f32 data.
// Dims: T, B, H, P (P = H without projection).
// State slots: forward reads slot t and writes slot t+1 (slot 0 holds h0/c0); reverse walks t = T-1..0,
// reads slot t+1 and writes slot t (slot T holds h0/c0). So outputs are slots 1..T forward, 0..T-1 reverse.
// gates holds, per step, the activated i, f, g, o (4Hp) and, with a projection, r (Hp): width lstmGateWidth.
// With keepGates the step t block is at gates + t*B*width (training keeps them all), else one block is reused.
// lengths (B) i32 or 0: a row whose sequence has ended (t >= length) carries h and c through the step unchanged
// and gets zero gates, so the backward pass sees no contribution from it.
// lstmForwardQ16 / lstmForwardQ8: the same steps with W_hh and W_hr quantized (product.ts; issue 14), inference only.
import { addInto, ended, sigmoid4, tanh4, sigmoidf, tanhf } from "./math";
import { gemm } from "./gemm";
import { panelStrideOf, product, quantizeRows } from "./product";

export function lstmGateWidth(H: i32, hasProj: i32): i32 {
  const Hp = (H + 3) & ~3;
  return hasProj ? 5 * Hp : 4 * Hp;
}

export function lstmForward(
  hs: usize, cs: usize, gates: usize,   // out (T+1,B,Pp) (T+1,B,Hp) (T|1,B,width)
  xz: usize, Wh: usize, bh: usize,      // in  (T,B,4Hp) (P,4Hp) (4Hp) or 0
  Wr: usize,                            // in  (H,Pp) or 0 for no projection
  T: i32, B: i32, H: i32, P: i32, reverse: i32, keepGates: i32,
  lengths: usize,                       // in  (B) i32, or 0 for full length
): void {
  lstmSteps<f32>(hs, cs, gates, xz, Wh, 0, 0, bh, Wr, 0, 0, 0, 0, T, B, H, P, reverse, keepGates, lengths, 0);
}

// The same with quantized W_hh and W_hr (product.ts): Wh is the Q16 form of weight_hh (4Hp rows, P inputs) with
// row scales swh, Wr that of weight_hr (Pp rows, H inputs) or 0; h_{t-1} (and r_t) are quantized per step into aq
// (B rows of product.ts quantRowStride(max(P, H))) and sa (B), with qmax levels (127 int8, 2047 int12).
export function lstmForwardQ16(
  hs: usize, cs: usize, gates: usize,   // out (T+1,B,Pp) (T+1,B,Hp) (T|1,B,width)
  xz: usize, Wh: usize, swh: usize,     // in  (T,B,4Hp); Q16 (4Hp rows, P inputs), (roundUp8(4Hp)) f32
  bh: usize,                            // in  (4Hp) or 0
  Wr: usize, swr: usize,                // in  Q16 (Pp rows, H inputs), (roundUp8(Pp)) f32; or 0, 0
  aq: usize, sa: usize,                 // scratch (B, quantRowStride(max(P,H))) int16, (B) f32
  T: i32, B: i32, H: i32, P: i32, reverse: i32, keepGates: i32,
  lengths: usize,                       // in  (B) i32, or 0 for full length
  qmax: i32,
): void {
  lstmSteps<i16>(hs, cs, gates, xz, Wh, swh, 0, bh, Wr, swr, 0, aq, sa, T, B, H, P, reverse, keepGates, lengths, qmax);
}

// The same in the Q8 form: crh and crr are the matrices' corrections (quant.ts gemmQ8); aq holds uint8 lanes.
export function lstmForwardQ8(
  hs: usize, cs: usize, gates: usize,   // out (T+1,B,Pp) (T+1,B,Hp) (T|1,B,width)
  xz: usize, Wh: usize, swh: usize,     // in  (T,B,4Hp); Q8 (4Hp rows, P inputs), (roundUp8(4Hp)) f32
  crh: usize, bh: usize,                // in  (roundUp8(4Hp)) i32; (4Hp) or 0
  Wr: usize, swr: usize, crr: usize,    // in  Q8 (Pp rows, H inputs) and its scales and corrections; or 0, 0, 0
  aq: usize, sa: usize,                 // scratch (B, quantRowStride(max(P,H))) uint8, (B) f32
  T: i32, B: i32, H: i32, P: i32, reverse: i32, keepGates: i32,
  lengths: usize,                       // in  (B) i32, or 0 for full length
): void {
  lstmSteps<i8>(hs, cs, gates, xz, Wh, swh, crh, bh, Wr, swr, crr, aq, sa, T, B, H, P, reverse, keepGates, lengths, 0);
}

// The body of the three: F is the weights' form (product.ts). Each step is a call of lstmStep, and its gate maths
// a call of lstmCell, not inlined code, for a cold process (issue 14): V8 runs a wasm function in its baseline
// compiler until it has run a while, then compiles it with its optimizing compiler in the background (slower the
// larger the function) and runs the result from its next call. Small functions called once per step get there
// within a process's first forward; one loop over all steps would run baseline code to its end.
// @ts-ignore: decorator
@inline function lstmSteps<F>(
  hs: usize, cs: usize, gates: usize, xz: usize,
  Wh: usize, swh: usize, crh: usize, bh: usize, Wr: usize, swr: usize, crr: usize, aq: usize, sa: usize,
  T: i32, B: i32, H: i32, P: i32, reverse: i32, keepGates: i32, lengths: usize, qmax: i32,
): void {
  for (let step = 0; step < T; step++) {
    const t = reverse ? T - 1 - step : step;
    lstmStep<F>(hs, cs, gates, xz, Wh, swh, crh, bh, Wr, swr, crr, aq, sa, t, B, H, P, reverse, keepGates, lengths, qmax);
  }
}

// Step t of lstmSteps.
function lstmStep<F>(
  hs: usize, cs: usize, gates: usize, xz: usize,
  Wh: usize, swh: usize, crh: usize, bh: usize, Wr: usize, swr: usize, crr: usize, aq: usize, sa: usize,
  t: i32, B: i32, H: i32, P: i32, reverse: i32, keepGates: i32, lengths: usize, qmax: i32,
): void {
  const Hp = (H + 3) & ~3;
  const Pp = (P + 3) & ~3;
  const width = lstmGateWidth(H, <i32>(Wr != 0));
  const G = 4 * Hp;
  const prev = reverse ? t + 1 : t;
  const next = reverse ? t : t + 1;
  const hPrev = hs + ((<usize>prev * B * Pp) << 2);
  const hNext = hs + ((<usize>next * B * Pp) << 2);
  const cPrev = cs + ((<usize>prev * B * Hp) << 2);
  const cNext = cs + ((<usize>next * B * Hp) << 2);
  const g = gates + (keepGates ? (<usize>t * B * width) << 2 : 0);
  const x = xz + ((<usize>t * B * G) << 2);
  // z_h = W_hh h_{t-1} + b_hh for all gates, written where the activated gates will go
  quantizeRows<F>(aq, sa, hPrev, Pp, B, P, qmax);
  product<F>(g, width, hPrev, Pp, aq, sa, Wh, panelStrideOf<F>(P), swh, crh, bh, B, P, G);
  for (let b = 0; b < B; b++) {
    const gb = g + ((<usize>b * width) << 2);
    // without projection r_t is h_t; with one it waits in the gates block for the W_hr product
    const rb = Wr ? gb + ((<usize>G) << 2) : hNext + ((<usize>b * Pp) << 2);
    lstmCell(gb, rb, cNext + ((<usize>b * Hp) << 2), x + ((<usize>b * G) << 2), cPrev + ((<usize>b * Hp) << 2), Hp);
  }
  // h_t = W_hr r_t
  if (Wr) {
    const r = g + ((<usize>G) << 2);
    quantizeRows<F>(aq, sa, r, width, B, H, qmax);
    product<F>(hNext, Pp, r, width, aq, sa, Wr, panelStrideOf<F>(H), swr, crr, 0, B, H, Pp);
  }
  for (let b = 0; b < B; b++) {
    if (!ended(lengths, b, t)) continue;
    memory.copy(hNext + ((<usize>b * Pp) << 2), hPrev + ((<usize>b * Pp) << 2), <usize>Pp << 2);
    memory.copy(cNext + ((<usize>b * Hp) << 2), cPrev + ((<usize>b * Hp) << 2), <usize>Hp << 2);
    memory.fill(g + ((<usize>b * width) << 2), 0, <usize>width << 2);
  }
}

// One batch row's gate maths: gb holds z_h (4Hp), xb z_x; gb gets the activated i, f, g, o, cn c_t, rb r_t.
function lstmCell(
  gb: usize, rb: usize, cn: usize,      // out (4Hp) (Hp) (Hp); gb in z_h
  xb: usize, cp: usize,                 // in  (4Hp) z_x, (Hp) c_{t-1}
  Hp: i32,
): void {
  const hOff = <usize>Hp << 2;
  if (ASC_FEATURE_SIMD) {
    for (let j = 0; j < Hp; j += 4) {
      const o4 = <usize>j << 2;
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

// Backward through the whole sequence, walking time opposite to the forward pass. With r_t = o * tanh(c_t)
// and dr = dh (or W_hrᵀ dh with a projection):
//   dc  = dc_carry + dr * o * (1 - tanh²c_t);     do = dr * tanh c_t
//   di  = dc * g;  dg = dc * i;  df = dc * c_{t-1};  dc_carry = dc * f
//   dz  = (di i(1-i), df f(1-f), dg (1-g²), do o(1-o))    -> dxz[t]; z = xz + W_hh h + b_hh, so this is
//         also the gradient of the recurrent product
//   dh_carry = W_hhᵀ dz
// The caller turns dxz into weight, bias and input gradients with gemmBackwardWeight / biasBackward / gemm over
// all timesteps at once. The products with W_hhᵀ and W_hrᵀ use transposed copies (gemm.ts's packTransposed):
// WhT is (4Hp, P), WrT (Pp, H). Padding lanes stay zero.
export function lstmBackward(
  dxz: usize,                 // out    (T,B,4Hp)
  dhs: usize,                 // in/out (T,B,Pp): in, dL/dh_t from above; out, the total dL/dh_t
  dh: usize, dc: usize,       // in/out (B,Pp) (B,Hp): in, dL/dh_T and dL/dc_T; out, dL/dh_0 and dL/dc_0
  dr: usize,                  // scratch (B,Hp), used with a projection
  cs: usize, gates: usize,    // in (T+1,B,Hp) (T,B,width): the forward pass's tape (keepGates = 1); h is never read
  WhT: usize, WrT: usize,     // in (4Hp,P), (Pp,H) or 0: W_hh and W_hr transposed
  T: i32, B: i32, H: i32, P: i32, reverse: i32,
  lengths: usize,             // in (B) i32, or 0: ended rows pass dh and dc through and get dz = 0
): void {
  const Hp = (H + 3) & ~3;
  const Pp = (P + 3) & ~3;
  const width = lstmGateWidth(H, <i32>(WrT != 0));
  const G = 4 * Hp;
  const hOff = <usize>Hp << 2;
  if (WrT) memory.fill(dr, 0, (<usize>B * Hp) << 2);
  for (let step = 0; step < T; step++) {
    const t = reverse ? step : T - 1 - step;
    const prev = reverse ? t + 1 : t;
    const next = reverse ? t : t + 1;
    const dht = dhs + ((<usize>t * B * Pp) << 2);
    const g = gates + ((<usize>t * B * width) << 2);
    const dz = dxz + ((<usize>t * B * G) << 2);
    // total dh_t = from above + carried from t+1
    addInto(dht, dh, B * Pp);
    if (WrT) gemm(dr, Hp, dht, Pp, WrT, Pp * 8, 0, B, Pp, H, 0);
    for (let b = 0; b < B; b++) {
      const gb = g + ((<usize>b * width) << 2);
      const cp = cs + ((<usize>(prev * B + b) * Hp) << 2);
      const cn = cs + ((<usize>(next * B + b) * Hp) << 2);
      const drb = WrT ? dr + ((<usize>b * Hp) << 2) : dht + ((<usize>b * Pp) << 2);
      const dcb = dc + ((<usize>b * Hp) << 2);
      const dzb = dz + ((<usize>b * G) << 2);
      if (ended(lengths, b, t)) {
        memory.fill(dzb, 0, <usize>G << 2);
        continue;
      }
      if (ASC_FEATURE_SIMD) {
        const one = f32x4.splat(1);
        for (let j = 0; j < Hp; j += 4) {
          const o4 = <usize>j << 2;
          const i = v128.load(gb + o4), f = v128.load(gb + hOff + o4);
          const gg = v128.load(gb + 2 * hOff + o4), o = v128.load(gb + 3 * hOff + o4);
          const tc = tanh4(v128.load(cn + o4));
          const drv = v128.load(drb + o4);
          const dcv = f32x4.add(v128.load(dcb + o4), f32x4.mul(f32x4.mul(drv, o), f32x4.sub(one, f32x4.mul(tc, tc))));
          const dov = f32x4.mul(drv, tc);
          v128.store(dcb + o4, f32x4.mul(dcv, f));
          v128.store(dzb + o4, f32x4.mul(f32x4.mul(dcv, gg), f32x4.mul(i, f32x4.sub(one, i))));
          v128.store(dzb + hOff + o4, f32x4.mul(f32x4.mul(dcv, v128.load(cp + o4)), f32x4.mul(f, f32x4.sub(one, f))));
          v128.store(dzb + 2 * hOff + o4, f32x4.mul(f32x4.mul(dcv, i), f32x4.sub(one, f32x4.mul(gg, gg))));
          v128.store(dzb + 3 * hOff + o4, f32x4.mul(dov, f32x4.mul(o, f32x4.sub(one, o))));
        }
      } else {
        for (let j = 0; j < Hp; j++) {
          const o4 = <usize>j << 2;
          const i = load<f32>(gb + o4), f = load<f32>(gb + hOff + o4);
          const gg = load<f32>(gb + 2 * hOff + o4), o = load<f32>(gb + 3 * hOff + o4);
          const tc = tanhf(load<f32>(cn + o4));
          const drv = load<f32>(drb + o4);
          const dcv = load<f32>(dcb + o4) + drv * o * (1 - tc * tc);
          store<f32>(dcb + o4, dcv * f);
          store<f32>(dzb + o4, dcv * gg * (i * (1 - i)));
          store<f32>(dzb + hOff + o4, dcv * load<f32>(cp + o4) * (f * (1 - f)));
          store<f32>(dzb + 2 * hOff + o4, dcv * i * (1 - gg * gg));
          store<f32>(dzb + 3 * hOff + o4, drv * tc * (o * (1 - o)));
        }
      }
    }
    // dh_{t-1} = W_hhᵀ dz; ended rows keep their dh
    gemm(dh, Pp, dz, G, WhT, G * 8, 0, B, G, P, 0);
    for (let b = 0; b < B; b++) {
      if (ended(lengths, b, t)) memory.copy(dh + ((<usize>b * Pp) << 2), dht + ((<usize>b * Pp) << 2), <usize>Pp << 2);
    }
  }
}
