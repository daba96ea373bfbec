// assembly/quant.ts: matrix products with quantized weights and dynamically quantized activations, writing float32
// (the quantized recurrent product: its output is the pre-activation block the cells' float32 gate maths reads).
//
//   quantizeQ16: aq[m,k] = nearest(x[m,k] * (qmax / amax_m)),  sa[m] = amax_m / qmax        (int16 lanes)
//   quantizeQ8:  aq[m,k] = nearest(x[m,k] * (63 / amax_m)) + 64, sa[m] = amax_m / 63       (uint8 lanes, 1..127)
//                amax_m = max_k |x[m,k]|; a row with amax_m < QUANT_TINY quantizes to zeros with sa[m] = 0
//   gemmQ16: out[m,n] (+)= f32(sum_k aq[m,k] wq[n,k]) * sw[n] * sa[m] + bias[n]
//   gemmQ8:  out[m,n] (+)= f32(sum_k (aq[m,k] - 64) wq[n,k]) * sw[n] * sa[m] + bias[n]
// wq holds weights quantized once per output row n (symmetric, scale sw[n]) by the same rule as the activations,
// and packed: packQ16 / packQ8 below do both in one pass from PyTorch's float matrix (mirror: src/reference/quant.ts
// quantizeRows, then src/quant-layout.ts packQuantized). Every float operation above is one f32 rounding in the order written (product
// by sw first, then by sa, then bias, then the old value), so all builds give the same bits as the mirror.
//
// Forms (src/quant-layout.ts states the packed layouts):
//   Q16: int16 weights in panels of 8 rows x K pairs, one v128 = 4 rows x 2 k, against a pair of int16 activations
//        broadcast: i32x4.dot_i16x8_s. "int8" is qmax 127 for both, "int12" qmax 2047 for both. The int32 sums run
//        over chunks of QCHUNK k (|sum| <= 2047*2047*512 < 2^31), each converted to f32 and added in chunk order.
//   Q8:  int8 weights in panels of 8 rows x K quads, one v128 = 4 rows x 4 k, against 4 activations of 7 bits
//        (0..127 after the +64 offset, so the relaxed dot's 7-bit operand is exact on every engine):
//        i32x4.relaxed_dot_i8x16_i7x16_add_s in the relaxed build; sum_k (aq - 64) w = sum_k aq w - corr[n] with
//        corr[n] = 64 sum_k wq[n,k], precomputed by the packer. One int32 sum (|sum| <= 127*127*K: K < 133000).
//        The plain SIMD and scalar builds compute the same integers without the relaxed op. V8 11.3 (Node 20)
//        computes the relaxed dot wrongly in its baseline tier: the choice of form belongs to the caller.
// Pointers are byte offsets. aq rows have stride lda (elements) and hold the padding of their form up to the
// packed depth (Q16: zeros to an even K; Q8: 64s to a multiple of 4); sw (and corr) cover roundUp8(N); bias, when
// given, is readable up to roundUp4(N). out is (M,N) with row stride ldo (floats): only columns < N are written.

/** k per int32 chunk of gemmQ16 (a multiple of 2). */
const QCHUNK = 512;
/** Rows whose max |x| is below this quantize to zeros (and scale 0): qmax / amax would overflow f32. */
const QUANT_TINY: f32 = 1e-30;
/** Q8 activations: 7 bits, stored with this offset so every lane is 0..127. */
const Q8_QMAX: i32 = 63;
const Q8_OFFSET: i32 = 64;

// Partial sums of one register block between chunks (8 v128).
const PART: usize = memory.data(8 * 16, 16);

// ---------------------------------------------------------------------------------------------------------
// Activations

// max |x[k]| over k < K.
// @ts-ignore: decorator
@inline function rowAmax(x: usize, K: i32): f32 {
  let amax: f32 = 0;
  let k = 0;
  if (ASC_FEATURE_SIMD) {
    let m = f32x4.splat(0);
    for (; k + 4 <= K; k += 4) m = f32x4.max(m, f32x4.abs(v128.load(x + (<usize>k << 2))));
    amax = max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
  }
  for (; k < K; k++) amax = max(amax, abs(load<f32>(x + (<usize>k << 2))));
  return amax;
}

// q (M, ldq) int16, sa (M) f32; x (M, K) with row stride ldx. Lanes K..ldq-1 of each row are set to 0.
export function quantizeQ16(
  q: usize, ldq: i32, sa: usize,        // out (M, ldq) int16, (M) f32
  x: usize, ldx: i32,                   // in  (M, K) f32, row stride ldx
  M: i32, K: i32, qmax: i32,
): void {
  for (let m = 0; m < M; m++) {
    const xr = x + ((<usize>m * ldx) << 2);
    const qr = q + ((<usize>m * ldq) << 1);
    const amax = rowAmax(xr, K);
    const tiny = amax < QUANT_TINY; // (a NaN amax is not tiny: its scale is NaN, so the row's outputs are NaN)
    const inv: f32 = tiny ? 0 : <f32>qmax / amax;
    store<f32>(sa + (<usize>m << 2), tiny ? 0 : amax / <f32>qmax);
    let k = 0;
    if (ASC_FEATURE_SIMD) {
      const iv = f32x4.splat(inv);
      for (; k + 4 <= K; k += 4) {
        const v = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xr + (<usize>k << 2)), iv)));
        v128.store64_lane(qr + (<usize>k << 1), i16x8.narrow_i32x4_s(v, v), 0);
      }
    }
    for (; k < K; k++) store<i16>(qr + (<usize>k << 1), <i16><i32>nearest<f32>(load<f32>(xr + (<usize>k << 2)) * inv));
    for (; k < ldq; k++) store<i16>(qr + (<usize>k << 1), 0);
  }
}

// q (M, ldq) uint8, sa (M) f32; x (M, K) with row stride ldx. Lanes K..ldq-1 of each row are set to 64 (zero).
export function quantizeQ8(
  q: usize, ldq: i32, sa: usize,        // out (M, ldq) uint8, (M) f32
  x: usize, ldx: i32,                   // in  (M, K) f32, row stride ldx
  M: i32, K: i32,
): void {
  for (let m = 0; m < M; m++) {
    const xr = x + ((<usize>m * ldx) << 2);
    const qr = q + <usize>m * ldq;
    const amax = rowAmax(xr, K);
    const tiny = amax < QUANT_TINY; // (a NaN amax is not tiny: its scale is NaN, so the row's outputs are NaN)
    const inv: f32 = tiny ? 0 : <f32>Q8_QMAX / amax;
    store<f32>(sa + (<usize>m << 2), tiny ? 0 : amax / <f32>Q8_QMAX);
    let k = 0;
    if (ASC_FEATURE_SIMD) {
      const iv = f32x4.splat(inv);
      const off = i32x4.splat(Q8_OFFSET);
      for (; k + 4 <= K; k += 4) {
        const v = i32x4.add(i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xr + (<usize>k << 2)), iv))), off);
        const h = i16x8.narrow_i32x4_s(v, v);
        v128.store32_lane(qr + <usize>k, i8x16.narrow_i16x8_u(h, h), 0);
      }
    }
    for (; k < K; k++) store<u8>(qr + <usize>k, <u8>(<i32>nearest<f32>(load<f32>(xr + (<usize>k << 2)) * inv) + Q8_OFFSET));
    for (; k < ldq; k++) store<u8>(qr + <usize>k, <u8>Q8_OFFSET);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Dequantization: shared by both forms

// Stores f32 lanes v (an i32x4 chunk total already converted) * sw[col..] * sa + bias (+ old): lanes 0..n-1 only
// when n < 4.
// @ts-ignore: decorator
@inline function finishQ(o: usize, v: v128, sw: usize, sa: f32, bias: usize, col: i32, accumulate: i32, n: i32): void {
  v = f32x4.mul(f32x4.mul(v, v128.load(sw + (<usize>col << 2))), f32x4.splat(sa));
  if (bias) v = f32x4.add(v, v128.load(bias + (<usize>col << 2)));
  if (n >= 4) {
    if (accumulate) v = f32x4.add(v128.load(o), v);
    v128.store(o, v);
    return;
  }
  for (let j = 0; j < n; j++) {
    let s = f32x4.extract_lane(v, 0);
    if (j == 1) s = f32x4.extract_lane(v, 1);
    if (j == 2) s = f32x4.extract_lane(v, 2);
    const q = o + (<usize>j << 2);
    store<f32>(q, accumulate ? load<f32>(q) + s : s);
  }
}

// PART[i] = f32(c) on a block's first chunk, PART[i] + f32(c) after.
// @ts-ignore: decorator
@inline function flush(i: i32, c: v128, first: bool): void {
  const p = PART + (<usize>i << 4);
  const f = f32x4.convert_i32x4_s(c);
  v128.store(p, first ? f : f32x4.add(v128.load(p), f));
}

// Finishes the 8 columns of a whole panel (column n, n + 8 <= N) from PART[i] (cols 0..3) and PART[i+1] (4..7).
// @ts-ignore: decorator
@inline function finishPanel8(o: usize, i: i32, sw: usize, sa: f32, bias: usize, n: i32, accumulate: i32): void {
  finishQ(o, v128.load(PART + (<usize>i << 4)), sw, sa, bias, n, accumulate, 4);
  finishQ(o + 16, v128.load(PART + (<usize>(i + 1) << 4)), sw, sa, bias, n + 4, accumulate, 4);
}

// The same for panel column n of any N: the last panel's lane-by-lane stores are a call, not inlined code, so
// the products stay small for V8's optimizing compiler (issue 14: a cold process waits for it).
// @ts-ignore: decorator
@inline function finishPanel(o: usize, i: i32, sw: usize, sa: f32, bias: usize, n: i32, N: i32, accumulate: i32): void {
  if (n + 8 <= N) finishPanel8(o, i, sw, sa, bias, n, accumulate);
  else finishPartPanel(o, i, sw, sa, bias, n, N, accumulate);
}

function finishPartPanel(o: usize, i: i32, sw: usize, sa: f32, bias: usize, n: i32, N: i32, accumulate: i32): void {
  const left = N - n;
  finishQ(o, v128.load(PART + (<usize>i << 4)), sw, sa, bias, n, accumulate, min(left, 4));
  if (left > 4) finishQ(o + 16, v128.load(PART + (<usize>(i + 1) << 4)), sw, sa, bias, n + 4, accumulate, left - 4);
}

// ---------------------------------------------------------------------------------------------------------
// Q16: int16 x int16 pairs
//
// gemmQ16 hands its 4-row blocks and its last rows to two functions of their own (gemmQ16Panel4, gemmQ16Row), not
// inlined: a step kernel at batch 1 calls gemmQ16Row once per step, and V8 compiles a function with its optimizing
// compiler only when it has run a while, on a background thread, taking about 2 ms per KB of wasm; the step's next
// call runs the result. A small gemmQ16Row gets there within the first forward.

// out (M,N) row stride ldo; aq (M, lda) int16, sa (M); w packed Q16 with panel stride wps (int16), sw (roundUp8(N)).
export function gemmQ16(
  out: usize, ldo: i32,                 // out (M, N) f32, row stride ldo
  aq: usize, lda: i32, sa: usize,       // in  (M, lda) int16, (M) f32
  w: usize, wps: i32, sw: usize,        // in  Q16 packed, panel stride wps (int16); (roundUp8(N)) f32
  bias: usize,                          // in  (roundUp4(N)) f32, or 0
  M: i32, K: i32, N: i32, accumulate: i32,
): void {
  if (!ASC_FEATURE_SIMD) {
    gemmQ16Scalar(out, ldo, aq, lda, sa, w, wps, sw, bias, M, K, N, accumulate);
    return;
  }
  const so = <usize>ldo << 2, sA = <usize>lda << 1;
  const M4 = M & ~3;
  if (M4) {
    const sp = <usize>wps << 1;
    for (let n = 0; n < N; n += 8) gemmQ16Panel4(out, so, aq, sA, sa, w + (<usize>(n >> 3)) * sp, sw, bias, M4, K, n, N, accumulate);
  }
  for (let m = M4; m < M; m++) {
    gemmQ16Row(out + <usize>m * so, aq + <usize>m * sA, load<f32>(sa + (<usize>m << 2)), w, wps, sw, bias, K, N, accumulate);
  }
}

// gemmQ16's rows 0..M4-1 (M4 a multiple of 4) against the panel of columns n..n+7 at wp0; so, sA: row strides in
// bytes. One call per panel, so that in a long product the panels after the first few run optimized code.
function gemmQ16Panel4(
  out: usize, so: usize, aq: usize, sA: usize, sa: usize, wp0: usize, sw: usize, bias: usize,
  M4: i32, K: i32, n: i32, N: i32, accumulate: i32,
): void {
  const Kp = (K + 1) & ~1;
  // 4 rows x one panel (8 columns): 8 accumulators, 2 weight vectors, 4 activation pairs live
  for (let m = 0; m < M4; m += 4) {
    for (let k0 = 0; k0 < Kp; k0 += QCHUNK) {
      const k1 = min(Kp, k0 + QCHUNK);
      let c00 = i32x4.splat(0), c01 = i32x4.splat(0), c10 = i32x4.splat(0), c11 = i32x4.splat(0);
      let c20 = i32x4.splat(0), c21 = i32x4.splat(0), c30 = i32x4.splat(0), c31 = i32x4.splat(0);
      let wp = wp0 + (<usize>k0 << 4);
      let ap = aq + <usize>m * sA + (<usize>k0 << 1);
      for (let k = k0; k < k1; k += 2) {
        const w0 = v128.load(wp), w1 = v128.load(wp, 16);
        const x0 = v128.load32_splat(ap), x1 = v128.load32_splat(ap + sA);
        const x2 = v128.load32_splat(ap + 2 * sA), x3 = v128.load32_splat(ap + 3 * sA);
        c00 = i32x4.add(c00, i32x4.dot_i16x8_s(w0, x0)); c01 = i32x4.add(c01, i32x4.dot_i16x8_s(w1, x0));
        c10 = i32x4.add(c10, i32x4.dot_i16x8_s(w0, x1)); c11 = i32x4.add(c11, i32x4.dot_i16x8_s(w1, x1));
        c20 = i32x4.add(c20, i32x4.dot_i16x8_s(w0, x2)); c21 = i32x4.add(c21, i32x4.dot_i16x8_s(w1, x2));
        c30 = i32x4.add(c30, i32x4.dot_i16x8_s(w0, x3)); c31 = i32x4.add(c31, i32x4.dot_i16x8_s(w1, x3));
        wp += 32;
        ap += 4;
      }
      const first = k0 == 0;
      flush(0, c00, first); flush(1, c01, first); flush(2, c10, first); flush(3, c11, first);
      flush(4, c20, first); flush(5, c21, first); flush(6, c30, first); flush(7, c31, first);
    }
    const op = out + <usize>m * so + (<usize>n << 2);
    for (let r = 0; r < 4; r++) {
      finishPanel(op + <usize>r * so, 2 * r, sw, load<f32>(sa + (<usize>(m + r) << 2)), bias, n, N, accumulate);
    }
  }
}

// One row of gemmQ16 (all of them at batch 1): or, ar its output and activations, s its scale. Three panels per
// pass, 6 accumulator chains, then the panels left one at a time.
function gemmQ16Row(
  or: usize, ar: usize, s: f32, w: usize, wps: i32, sw: usize, bias: usize, K: i32, N: i32, accumulate: i32,
): void {
  const Kp = (K + 1) & ~1;
  const sp = <usize>wps << 1;
  let n = 0;
  for (; n + 24 <= N; n += 24) {
    const wp0 = w + (<usize>(n >> 3)) * sp;
    for (let k0 = 0; k0 < Kp; k0 += QCHUNK) {
      const k1 = min(Kp, k0 + QCHUNK);
      let c0 = i32x4.splat(0), c1 = i32x4.splat(0), c2 = i32x4.splat(0);
      let c3 = i32x4.splat(0), c4 = i32x4.splat(0), c5 = i32x4.splat(0);
      let wp = wp0 + (<usize>k0 << 4);
      let ap = ar + (<usize>k0 << 1);
      for (let k = k0; k < k1; k += 2) {
        const x = v128.load32_splat(ap);
        c0 = i32x4.add(c0, i32x4.dot_i16x8_s(v128.load(wp), x)); c1 = i32x4.add(c1, i32x4.dot_i16x8_s(v128.load(wp, 16), x));
        c2 = i32x4.add(c2, i32x4.dot_i16x8_s(v128.load(wp + sp), x)); c3 = i32x4.add(c3, i32x4.dot_i16x8_s(v128.load(wp + sp, 16), x));
        c4 = i32x4.add(c4, i32x4.dot_i16x8_s(v128.load(wp + 2 * sp), x)); c5 = i32x4.add(c5, i32x4.dot_i16x8_s(v128.load(wp + 2 * sp, 16), x));
        wp += 32;
        ap += 4;
      }
      const first = k0 == 0;
      flush(0, c0, first); flush(1, c1, first); flush(2, c2, first);
      flush(3, c3, first); flush(4, c4, first); flush(5, c5, first);
    }
    const op = or + (<usize>n << 2);
    finishPanel8(op, 0, sw, s, bias, n, accumulate);
    finishPanel8(op + 32, 2, sw, s, bias, n + 8, accumulate);
    finishPanel8(op + 64, 4, sw, s, bias, n + 16, accumulate);
  }
  for (; n < N; n += 8) {
    const wp0 = w + (<usize>(n >> 3)) * sp;
    for (let k0 = 0; k0 < Kp; k0 += QCHUNK) {
      const k1 = min(Kp, k0 + QCHUNK);
      let c0 = i32x4.splat(0), c1 = i32x4.splat(0);
      let wp = wp0 + (<usize>k0 << 4);
      let ap = ar + (<usize>k0 << 1);
      for (let k = k0; k < k1; k += 2) {
        const x = v128.load32_splat(ap);
        c0 = i32x4.add(c0, i32x4.dot_i16x8_s(v128.load(wp), x));
        c1 = i32x4.add(c1, i32x4.dot_i16x8_s(v128.load(wp, 16), x));
        wp += 32;
        ap += 4;
      }
      const first = k0 == 0;
      flush(0, c0, first); flush(1, c1, first);
    }
    finishPanel(or + (<usize>n << 2), 0, sw, s, bias, n, N, accumulate);
  }
}

// One output of the scalar builds: f32 of each chunk's int32 sum added in chunk order, then scaled (as finishQ).
// @ts-ignore: decorator
@inline function finish1Q(o: usize, f: f32, sw: usize, sa: f32, bias: usize, n: i32, accumulate: i32): void {
  let v = f * load<f32>(sw + (<usize>n << 2)) * sa;
  if (bias) v += load<f32>(bias + (<usize>n << 2));
  if (accumulate) v = load<f32>(o) + v;
  store<f32>(o, v);
}

function gemmQ16Scalar(
  out: usize, ldo: i32,
  aq: usize, lda: i32, sa: usize, w: usize, wps: i32, sw: usize, bias: usize,
  M: i32, K: i32, N: i32, accumulate: i32,
): void {
  const Kp = (K + 1) & ~1;
  for (let m = 0; m < M; m++) {
    const ar = aq + ((<usize>m * lda) << 1);
    const or = out + ((<usize>m * ldo) << 2);
    const s = load<f32>(sa + (<usize>m << 2));
    for (let n = 0; n < N; n += 8) {
      const cols = min(N - n, 8);
      const panel = w + ((<usize>(n >> 3) * wps) << 1);
      for (let j = 0; j < cols; j++) {
        let f: f32 = 0;
        for (let k0 = 0; k0 < Kp; k0 += QCHUNK) {
          const k1 = min(Kp, k0 + QCHUNK);
          let c: i32 = 0;
          // the pair (k, k+1) of row j sits at pair index k/2 of the panel, lanes 2j and 2j+1
          let wp = panel + (<usize>k0 << 4) + (<usize>j << 2);
          for (let k = k0; k < k1; k += 2) {
            c += <i32>load<i16>(ar + (<usize>k << 1)) * <i32>load<i16>(wp) + <i32>load<i16>(ar + (<usize>k << 1), 2) * <i32>load<i16>(wp, 2);
            wp += 32;
          }
          f += <f32>c;
        }
        finish1Q(or + (<usize>(n + j) << 2), f, sw, s, bias, n + j, accumulate);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Q8: int8 weights x 7-bit activations, quads

// c + (the quad dot of w's 4 rows against the 4 activations in x), per lane: the relaxed op where the build has it
// (only called from the relaxed build's path).
// @ts-ignore: decorator
@inline function dot4(w: v128, x: v128, c: v128): v128 {
  return i32x4.relaxed_dot_i8x16_i7x16_add_s(w, x, c);
}

// out (M,N) row stride ldo; aq (M, lda) uint8, sa (M); w packed Q8 with panel stride wps (bytes), sw and corr
// (i32, 64 * the row sums of wq) (roundUp8(N)).
export function gemmQ8(
  out: usize, ldo: i32,                 // out (M, N) f32, row stride ldo
  aq: usize, lda: i32, sa: usize,       // in  (M, lda) uint8, (M) f32
  w: usize, wps: i32, sw: usize,        // in  Q8 packed, panel stride wps (bytes); (roundUp8(N)) f32
  corr: usize, bias: usize,             // in  (roundUp8(N)) i32; (roundUp4(N)) f32, or 0
  M: i32, K: i32, N: i32, accumulate: i32,
): void {
  if (!ASC_FEATURE_RELAXED_SIMD) {
    gemmQ8Portable(out, ldo, aq, lda, sa, w, wps, sw, corr, bias, M, K, N, accumulate);
    return;
  }
  // the blocks in functions of their own, as gemmQ16's
  const so = <usize>ldo << 2, sA = <usize>lda, sp = <usize>wps;
  const M4 = M & ~3;
  if (M4) {
    for (let n = 0; n < N; n += 8) gemmQ8Panel4(out, so, aq, sA, sa, w + (<usize>(n >> 3)) * sp, sw, corr, bias, M4, K, n, N, accumulate);
  }
  for (let m = M4; m < M; m++) {
    gemmQ8Row(out + <usize>m * so, aq + <usize>m * sA, load<f32>(sa + (<usize>m << 2)), w, wps, sw, corr, bias, K, N, accumulate);
  }
}

// gemmQ8's rows 0..M4-1 (M4 a multiple of 4) against the panel of columns n..n+7 at wp0 (as gemmQ16Panel4).
function gemmQ8Panel4(
  out: usize, so: usize, aq: usize, sA: usize, sa: usize, wp0: usize, sw: usize, corr: usize, bias: usize,
  M4: i32, K: i32, n: i32, N: i32, accumulate: i32,
): void {
  const Kq = (K + 3) & ~3;
  const r0 = v128.load(corr + (<usize>n << 2)), r1 = v128.load(corr + (<usize>n << 2), 16);
  for (let m = 0; m < M4; m += 4) {
    let c00 = i32x4.splat(0), c01 = i32x4.splat(0), c10 = i32x4.splat(0), c11 = i32x4.splat(0);
    let c20 = i32x4.splat(0), c21 = i32x4.splat(0), c30 = i32x4.splat(0), c31 = i32x4.splat(0);
    let wp = wp0;
    let ap = aq + <usize>m * sA;
    for (let k = 0; k < Kq; k += 4) {
      const w0 = v128.load(wp), w1 = v128.load(wp, 16);
      const x0 = v128.load32_splat(ap), x1 = v128.load32_splat(ap + sA);
      const x2 = v128.load32_splat(ap + 2 * sA), x3 = v128.load32_splat(ap + 3 * sA);
      c00 = dot4(w0, x0, c00); c01 = dot4(w1, x0, c01);
      c10 = dot4(w0, x1, c10); c11 = dot4(w1, x1, c11);
      c20 = dot4(w0, x2, c20); c21 = dot4(w1, x2, c21);
      c30 = dot4(w0, x3, c30); c31 = dot4(w1, x3, c31);
      wp += 32;
      ap += 4;
    }
    flush(0, i32x4.sub(c00, r0), true); flush(1, i32x4.sub(c01, r1), true);
    flush(2, i32x4.sub(c10, r0), true); flush(3, i32x4.sub(c11, r1), true);
    flush(4, i32x4.sub(c20, r0), true); flush(5, i32x4.sub(c21, r1), true);
    flush(6, i32x4.sub(c30, r0), true); flush(7, i32x4.sub(c31, r1), true);
    const op = out + <usize>m * so + (<usize>n << 2);
    for (let r = 0; r < 4; r++) {
      finishPanel(op + <usize>r * so, 2 * r, sw, load<f32>(sa + (<usize>(m + r) << 2)), bias, n, N, accumulate);
    }
  }
}

// One row of gemmQ8 (all of them at batch 1), as gemmQ16Row: three panels per pass, then one at a time.
function gemmQ8Row(
  or: usize, ar: usize, s: f32, w: usize, wps: i32, sw: usize, corr: usize, bias: usize, K: i32, N: i32, accumulate: i32,
): void {
  const Kq = (K + 3) & ~3;
  const sp = <usize>wps;
  let n = 0;
  for (; n + 24 <= N; n += 24) {
    let c0 = i32x4.splat(0), c1 = i32x4.splat(0), c2 = i32x4.splat(0);
    let c3 = i32x4.splat(0), c4 = i32x4.splat(0), c5 = i32x4.splat(0);
    let wp = w + (<usize>(n >> 3)) * sp;
    let ap = ar;
    for (let k = 0; k < Kq; k += 4) {
      const x = v128.load32_splat(ap);
      c0 = dot4(v128.load(wp), x, c0); c1 = dot4(v128.load(wp, 16), x, c1);
      c2 = dot4(v128.load(wp + sp), x, c2); c3 = dot4(v128.load(wp + sp, 16), x, c3);
      c4 = dot4(v128.load(wp + 2 * sp), x, c4); c5 = dot4(v128.load(wp + 2 * sp, 16), x, c5);
      wp += 32;
      ap += 4;
    }
    const cp = corr + (<usize>n << 2);
    flush(0, i32x4.sub(c0, v128.load(cp)), true); flush(1, i32x4.sub(c1, v128.load(cp, 16)), true);
    flush(2, i32x4.sub(c2, v128.load(cp, 32)), true); flush(3, i32x4.sub(c3, v128.load(cp, 48)), true);
    flush(4, i32x4.sub(c4, v128.load(cp, 64)), true); flush(5, i32x4.sub(c5, v128.load(cp, 80)), true);
    const op = or + (<usize>n << 2);
    finishPanel8(op, 0, sw, s, bias, n, accumulate);
    finishPanel8(op + 32, 2, sw, s, bias, n + 8, accumulate);
    finishPanel8(op + 64, 4, sw, s, bias, n + 16, accumulate);
  }
  for (; n < N; n += 8) {
    let c0 = i32x4.splat(0), c1 = i32x4.splat(0);
    let wp = w + (<usize>(n >> 3)) * sp;
    let ap = ar;
    for (let k = 0; k < Kq; k += 4) {
      const x = v128.load32_splat(ap);
      c0 = dot4(v128.load(wp), x, c0);
      c1 = dot4(v128.load(wp, 16), x, c1);
      wp += 32;
      ap += 4;
    }
    const cp = corr + (<usize>n << 2);
    flush(0, i32x4.sub(c0, v128.load(cp)), true); flush(1, i32x4.sub(c1, v128.load(cp, 16)), true);
    finishPanel(or + (<usize>n << 2), 0, sw, s, bias, n, N, accumulate);
  }
}

// gemmQ8 without the relaxed op: the same integers. Plain SIMD widens to int16 and takes pair dots (a row's quad
// lands in two adjacent lanes, added at the end); the scalar build multiplies byte by byte.
function gemmQ8Portable(
  out: usize, ldo: i32,
  aq: usize, lda: i32, sa: usize, w: usize, wps: i32, sw: usize, corr: usize, bias: usize,
  M: i32, K: i32, N: i32, accumulate: i32,
): void {
  const Kq = (K + 3) & ~3;
  const so = <usize>ldo << 2, sA = <usize>lda, sp = <usize>wps;
  for (let m = 0; m < M; m++) {
    const ar = aq + <usize>m * sA;
    const or = out + <usize>m * so;
    const s = load<f32>(sa + (<usize>m << 2));
    for (let n = 0; n < N; n += 8) {
      const panel = w + (<usize>(n >> 3)) * sp;
      if (ASC_FEATURE_SIMD) {
        // lanes of a: (row 0 k0k1, row 0 k2k3, row 1 k0k1, row 1 k2k3), b: rows 2, 3; c, d: rows 4..7
        let a = i32x4.splat(0), b = i32x4.splat(0), c = i32x4.splat(0), d = i32x4.splat(0);
        let wp = panel, ap = ar;
        for (let k = 0; k < Kq; k += 4) {
          const x = i16x8.extend_low_i8x16_u(v128.load32_splat(ap));
          const w0 = v128.load(wp), w1 = v128.load(wp, 16);
          a = i32x4.add(a, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(w0), x));
          b = i32x4.add(b, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(w0), x));
          c = i32x4.add(c, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(w1), x));
          d = i32x4.add(d, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(w1), x));
          wp += 32;
          ap += 4;
        }
        const lo = i32x4.add(i32x4.shuffle(a, b, 0, 2, 4, 6), i32x4.shuffle(a, b, 1, 3, 5, 7));
        const hi = i32x4.add(i32x4.shuffle(c, d, 0, 2, 4, 6), i32x4.shuffle(c, d, 1, 3, 5, 7));
        const cp = corr + (<usize>n << 2);
        flush(0, i32x4.sub(lo, v128.load(cp)), true);
        flush(1, i32x4.sub(hi, v128.load(cp, 16)), true);
        finishPanel(or + (<usize>n << 2), 0, sw, s, bias, n, N, accumulate);
      } else {
        const cols = min(N - n, 8);
        for (let j = 0; j < cols; j++) {
          let acc: i32 = 0;
          let wp = panel + (<usize>j << 2);
          for (let k = 0; k < Kq; k += 4) {
            const ak = ar + <usize>k;
            acc += <i32>load<u8>(ak) * <i32>load<i8>(wp) + <i32>load<u8>(ak, 1) * <i32>load<i8>(wp, 1)
              + <i32>load<u8>(ak, 2) * <i32>load<i8>(wp, 2) + <i32>load<u8>(ak, 3) * <i32>load<i8>(wp, 3);
            wp += 32;
          }
          acc -= load<i32>(corr + (<usize>(n + j) << 2));
          finish1Q(or + (<usize>(n + j) << 2), <f32>acc, sw, s, bias, n + j, accumulate);
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Weights: quantized per output row and packed, in one pass (so a model loads without a JavaScript loop)

// PyTorch's (G*R, C) float matrix src, each row quantized as quantizeQ16 quantizes activations (qmax levels), into
// the Q16 form: w packed (panels of 8 rows of the G*Rp padded rows, depth roundUp2(C), zeros in all padding) and sw
// (roundUp8(G*Rp) f32 scales, 0 on padding rows). src/quant-layout.ts packQuantized is the mirror.
export function packQ16(
  w: usize, sw: usize,                  // out Q16 packed (roundUp8(G*Rp) rows, depth roundUp2(C)); (roundUp8(G*Rp)) f32
  src: usize,                           // in  (G*R, C) f32, PyTorch's layout
  G: i32, R: i32, C: i32, qmax: i32,
): void {
  const Rp = (R + 3) & ~3;
  const N8 = (G * Rp + 7) & ~7;
  const depth = (C + 1) & ~1;
  memory.fill(w, 0, (<usize>N8 * depth) << 1);
  memory.fill(sw, 0, <usize>N8 << 2);
  for (let g = 0; g < G; g++) {
    for (let j = 0; j < R; j++) {
      const n = g * Rp + j;
      const row = src + ((<usize>(g * R + j) * C) << 2);
      // the row's quantized values go to pair k/2 of its panel, lane 2(n & 7) + (k & 1)
      const base = w + ((<usize>(n >> 3) * depth * 8 + <usize>(n & 7) * 2) << 1);
      const amax = rowAmax(row, C);
      const tiny = amax < QUANT_TINY;
      const inv: f32 = tiny ? 0 : <f32>qmax / amax;
      store<f32>(sw + (<usize>n << 2), tiny ? 0 : amax / <f32>qmax);
      let k = 0;
      if (ASC_FEATURE_SIMD) {
        // 4 inputs at a time: two pairs, 32 bytes apart
        const iv = f32x4.splat(inv);
        for (; k + 4 <= C; k += 4) {
          const v = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(row + (<usize>k << 2)), iv)));
          const h = i16x8.narrow_i32x4_s(v, v);
          const p = base + (<usize>(k >> 1) << 5);
          v128.store32_lane(p, h, 0);
          v128.store32_lane(p + 32, h, 1);
        }
      }
      for (; k < C; k++) {
        const q = <i32>nearest<f32>(load<f32>(row + (<usize>k << 2)) * inv);
        store<i16>(base + ((<usize>(k >> 1) * 16 + (k & 1)) << 1), <i16>q);
      }
    }
  }
}

// The same into the Q8 form (int8, qmax 127, depth roundUp4(C)), with corr (roundUp8(G*Rp) i32) = 64 * each row's
// sum of quantized weights (0 on padding rows).
export function packQ8(
  w: usize, sw: usize, corr: usize,     // out Q8 packed (depth roundUp4(C)); (roundUp8(G*Rp)) f32; (roundUp8(G*Rp)) i32
  src: usize,                           // in  (G*R, C) f32, PyTorch's layout
  G: i32, R: i32, C: i32,
): void {
  const Rp = (R + 3) & ~3;
  const N8 = (G * Rp + 7) & ~7;
  const depth = (C + 3) & ~3;
  memory.fill(w, 0, <usize>N8 * depth);
  memory.fill(sw, 0, <usize>N8 << 2);
  memory.fill(corr, 0, <usize>N8 << 2);
  const qmax: i32 = 127;
  for (let g = 0; g < G; g++) {
    for (let j = 0; j < R; j++) {
      const n = g * Rp + j;
      const row = src + ((<usize>(g * R + j) * C) << 2);
      const base = w + <usize>(n >> 3) * depth * 8 + <usize>(n & 7) * 4;
      const amax = rowAmax(row, C);
      const tiny = amax < QUANT_TINY;
      const inv: f32 = tiny ? 0 : <f32>qmax / amax;
      store<f32>(sw + (<usize>n << 2), tiny ? 0 : amax / <f32>qmax);
      let sum: i32 = 0;
      let k = 0;
      if (ASC_FEATURE_SIMD) {
        // a quad at a time: 4 bytes of the panel
        const iv = f32x4.splat(inv);
        let s4 = i32x4.splat(0);
        for (; k + 4 <= C; k += 4) {
          const v = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(row + (<usize>k << 2)), iv)));
          const h = i16x8.narrow_i32x4_s(v, v);
          v128.store32_lane(base + (<usize>(k >> 2) << 5), i8x16.narrow_i16x8_s(h, h), 0);
          s4 = i32x4.add(s4, v);
        }
        sum = i32x4.extract_lane(s4, 0) + i32x4.extract_lane(s4, 1) + i32x4.extract_lane(s4, 2) + i32x4.extract_lane(s4, 3);
      }
      for (; k < C; k++) {
        const q = <i32>nearest<f32>(load<f32>(row + (<usize>k << 2)) * inv);
        store<i8>(base + <usize>(k >> 2) * 32 + (k & 3), <i8>q);
        sum += q;
      }
      store<i32>(corr + (<usize>n << 2), Q8_OFFSET * sum);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Weights already quantized (a model file's integers): packed as they are, checked on the way

// PyTorch's (G*R, C) integers src, row-major (int8 when srcBytes is 1, int16 when 2), into the Q16 form as packQ16
// places them (zeros in all padding). Returns the flat index in src of the first value outside ±qmax, or -1; w is
// not complete when it returns an index. Scales are the caller's (a file has them). Mirror: src/quant-layout.ts
// packQuantized.
export function packIntQ16(
  w: usize,                             // out Q16 packed (roundUp8(G*Rp) rows, depth roundUp2(C))
  src: usize, srcBytes: i32,            // in  (G*R, C) int8 or int16, row-major
  G: i32, R: i32, C: i32, qmax: i32,
): i32 {
  const Rp = (R + 3) & ~3;
  const N8 = (G * Rp + 7) & ~7;
  const depth = (C + 1) & ~1;
  memory.fill(w, 0, (<usize>N8 * depth) << 1);
  for (let g = 0; g < G; g++) {
    for (let j = 0; j < R; j++) {
      const n = g * Rp + j;
      const first = (g * R + j) * C; // the row's first element in src
      const row = src + (<usize>first) * srcBytes;
      const base = w + ((<usize>(n >> 3) * depth * 8 + <usize>(n & 7) * 2) << 1);
      let k = 0;
      if (ASC_FEATURE_SIMD) {
        // 4 inputs at a time as int16 lanes 0..3: two pairs, 32 bytes apart; the row's extremes checked at its end
        let lo = i16x8.splat(0), hi = i16x8.splat(0);
        for (; k + 4 <= C; k += 4) {
          const v = srcBytes == 1
            ? i16x8.extend_low_i8x16_s(v128.load32_zero(row + <usize>k))
            : v128.load64_zero(row + (<usize>k << 1));
          lo = i16x8.min_s(lo, v);
          hi = i16x8.max_s(hi, v);
          const p = base + (<usize>(k >> 1) << 5);
          v128.store32_lane(p, v, 0);
          v128.store32_lane(p + 32, v, 1);
        }
        const q = <i16>qmax;
        if (v128.any_true(v128.or(i16x8.gt_s(hi, i16x8.splat(q)), i16x8.lt_s(lo, i16x8.splat(-q))))) k = 0; // find it below
      }
      for (; k < C; k++) {
        const v: i32 = srcBytes == 1 ? <i32>load<i8>(row + <usize>k) : <i32>load<i16>(row + (<usize>k << 1));
        if (v > qmax || v < -qmax) return first + k;
        store<i16>(base + ((<usize>(k >> 1) * 16 + (k & 1)) << 1), <i16>v);
      }
    }
  }
  return -1;
}

// PyTorch's (G*R, C) int8 integers src, row-major, into the Q8 form as packQ8 places them, with corr = 64 * each
// row's sum (0 on padding rows). Returns the flat index of the first -128 (outside ±127), or -1.
export function packIntQ8(
  w: usize, corr: usize,                // out Q8 packed (depth roundUp4(C)); (roundUp8(G*Rp)) i32
  src: usize,                           // in  (G*R, C) int8, row-major
  G: i32, R: i32, C: i32,
): i32 {
  const Rp = (R + 3) & ~3;
  const N8 = (G * Rp + 7) & ~7;
  const depth = (C + 3) & ~3;
  memory.fill(w, 0, <usize>N8 * depth);
  memory.fill(corr, 0, <usize>N8 << 2);
  for (let g = 0; g < G; g++) {
    for (let j = 0; j < R; j++) {
      const n = g * Rp + j;
      const first = (g * R + j) * C;
      const row = src + <usize>first;
      const base = w + <usize>(n >> 3) * depth * 8 + <usize>(n & 7) * 4;
      let sum: i32 = 0;
      let k = 0;
      if (ASC_FEATURE_SIMD) {
        // 16 inputs at a time: 4 quads, 32 bytes apart in the panel
        let s4 = i32x4.splat(0);
        let bad = i8x16.splat(0);
        for (; k + 16 <= C; k += 16) {
          const v = v128.load(row + <usize>k);
          bad = v128.or(bad, i8x16.eq(v, i8x16.splat(-128)));
          s4 = i32x4.add(s4, i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(v)));
          const p = base + (<usize>(k >> 2) << 5);
          v128.store32_lane(p, v, 0);
          v128.store32_lane(p + 32, v, 1);
          v128.store32_lane(p + 64, v, 2);
          v128.store32_lane(p + 96, v, 3);
        }
        sum = i32x4.extract_lane(s4, 0) + i32x4.extract_lane(s4, 1) + i32x4.extract_lane(s4, 2) + i32x4.extract_lane(s4, 3);
        if (v128.any_true(bad)) {
          k = 0; // find it below
          sum = 0;
        }
      }
      for (; k < C; k++) {
        const v: i32 = <i32>load<i8>(row + <usize>k);
        if (v == -128) return first + k;
        store<i8>(base + <usize>(k >> 2) * 32 + (k & 3), <i8>v);
        sum += v;
      }
      store<i32>(corr + (<usize>n << 2), Q8_OFFSET * sum);
    }
  }
  return -1;
}
