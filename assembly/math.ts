// assembly/math.ts: the flat primitives every cell is built from.
//
// Activations: exp, sigmoid and tanh in f32, one algorithm written twice (v128 lanes and scalar) so that the
// SIMD, relaxed-SIMD and scalar builds compute the same value op for op. Max absolute error against Math
// (f64, then compared), measured over all 2^32 non-NaN float32 bit patterns by scripts/measure-activations.ts
// (956 s; every build gives the same bits):
//   sigmoid <= 8.94e-8 (at x = 7.859211), tanh <= 9.00e-8 (at x = 1.247645)   (the bound is 1e-6)
//
// gemm: out[M,N] = A[M,K] · W[K,N] + bias[N], row-major with leading dimensions, W already transposed into
// [K,N] (src/layout.ts packs PyTorch's [N,K] weights that way) so SIMD runs along N. N must be a multiple of 4
// (layout.ts pads every gate block to a multiple of 4 columns); M and K can be anything.
// Each out element is computed as ((sum over k in ascending order of a*w) + bias), then added to the old value
// when accumulating, whatever the register block it falls in. So a row gives bitwise the same result in a
// 4-row block or alone, and feeding a sequence in chunks gives exactly what the whole sequence gives.

// ---------------------------------------------------------------------------------------------------------
// Activations

// exp(x) = 2^n * exp(r), n = round(x / ln2), r = x - n*ln2 in [-ln2/2, ln2/2] (ln2 split in two for an
// exact product), exp(r) by a degree-6 polynomial (Cephes expf). x is clamped so 2^n stays a normal float.
const EXP_LO: f32 = -87.3365478515625; // exp(EXP_LO) is the smallest normal float
const EXP_HI: f32 = 88.3762588500976563; // just under log(FLT_MAX)
const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const P0: f32 = 1.9875691500e-4;
const P1: f32 = 1.3981999507e-3;
const P2: f32 = 8.3334519073e-3;
const P3: f32 = 4.1665795894e-2;
const P4: f32 = 1.6666665459e-1;
const P5: f32 = 5.0000001201e-1;
// tanh(x) for |x| < TANH_SMALL by an odd polynomial (Cephes tanhf): 1 - 2/(e^2x + 1) loses digits there.
const TANH_SMALL: f32 = 0.625;
const T0: f32 = -5.70498872745e-3;
const T1: f32 = 2.06390887954e-2;
const T2: f32 = -5.37397155531e-2;
const T3: f32 = 1.33314422036e-1;
const T4: f32 = -3.33332819422e-1;

// @ts-ignore: decorator
@inline export function expf(x: f32): f32 {
  x = min(max(x, EXP_LO), EXP_HI);
  const n = nearest<f32>(x * LOG2E);
  let r = x - n * LN2_HI;
  r = r - n * LN2_LO;
  let p = P0;
  p = p * r + P1;
  p = p * r + P2;
  p = p * r + P3;
  p = p * r + P4;
  p = p * r + P5;
  const y = p * (r * r) + r + 1.0;
  return y * reinterpret<f32>((<i32>n + 127) << 23);
}

// @ts-ignore: decorator
@inline export function sigmoidf(x: f32): f32 {
  return 1.0 / (1.0 + expf(-x));
}

// @ts-ignore: decorator
@inline export function tanhf(x: f32): f32 {
  const ax = abs(x);
  // large: 1 - 2/(e^{2|x|} + 1), written with e = exp(-2|x|) so it never overflows: (1 - e) / (1 + e)
  const e = expf(-2.0 * ax);
  const large = copysign<f32>((1.0 - e) / (1.0 + e), x);
  const z = x * x;
  let p = T0;
  p = p * z + T1;
  p = p * z + T2;
  p = p * z + T3;
  p = p * z + T4;
  const small = p * z * x + x;
  return ax < TANH_SMALL ? small : large;
}

// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  x = f32x4.min(f32x4.max(x, f32x4.splat(EXP_LO)), f32x4.splat(EXP_HI));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(LOG2E)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  let p = f32x4.splat(P0);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P4));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P5));
  const y = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), f32x4.splat(1.0));
  const pow2n = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(y, pow2n);
}

// @ts-ignore: decorator
@inline export function sigmoid4(x: v128): v128 {
  const one = f32x4.splat(1.0);
  return f32x4.div(one, f32x4.add(one, exp4(f32x4.neg(x))));
}

// @ts-ignore: decorator
@inline export function tanh4(x: v128): v128 {
  const one = f32x4.splat(1.0);
  const ax = f32x4.abs(x);
  const e = exp4(f32x4.mul(f32x4.splat(-2.0), ax));
  const mag = f32x4.div(f32x4.sub(one, e), f32x4.add(one, e));
  const signBit = v128.and(x, i32x4.splat(0x80000000));
  const large = v128.or(mag, signBit);
  const z = f32x4.mul(x, x);
  let p = f32x4.splat(T0);
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(T1));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(T2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(T3));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(T4));
  const small = f32x4.add(f32x4.mul(f32x4.mul(p, z), x), x);
  return v128.bitselect(small, large, f32x4.lt(ax, f32x4.splat(TANH_SMALL)));
}

// acc + a*b: a true fused multiply-add in the relaxed build, mul then add otherwise.
// @ts-ignore: decorator
@inline export function madd4(acc: v128, a: v128, b: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(acc, f32x4.mul(a, b));
}

// Whole-buffer activations (out may equal x). Used by the tests and by scripts/measure-activations.ts.
export function sigmoidForward(out: usize, x: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), sigmoid4(v128.load(x + (<usize>i << 2))));
  }
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), sigmoidf(load<f32>(x + (<usize>i << 2))));
}

export function tanhForward(out: usize, x: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), tanh4(v128.load(x + (<usize>i << 2))));
  }
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), tanhf(load<f32>(x + (<usize>i << 2))));
}

// ---------------------------------------------------------------------------------------------------------
// gemm

// Finishes one output vector: acc (+ bias) (+ old out), then stores it.
// @ts-ignore: decorator
@inline function finish4(o: usize, acc: v128, bias: usize, n: usize, accumulate: i32): void {
  if (bias) acc = f32x4.add(acc, v128.load(bias + (n << 2)));
  if (accumulate) acc = f32x4.add(v128.load(o), acc);
  v128.store(o, acc);
}

// out is (M,N) with row stride ldo; a is (M,K) with row stride lda; w is (K,N) with row stride ldw;
// bias is (N) or 0. Strides are in floats. N % 4 == 0.
export function gemm(
  out: usize, ldo: i32,
  a: usize, lda: i32, w: usize, ldw: i32, bias: usize,
  M: i32, K: i32, N: i32, accumulate: i32,
): void {
  if (!ASC_FEATURE_SIMD) {
    gemmScalar(out, ldo, a, lda, w, ldw, bias, M, K, N, accumulate);
    return;
  }
  const so = <usize>ldo << 2, sa = <usize>lda << 2, sw = <usize>ldw << 2;
  let m = 0;
  // 4 rows x 8 columns: 8 accumulators, 2 weight vectors, 4 broadcasts live (14 v128, V8's budget).
  for (; m + 4 <= M; m += 4) {
    const a0 = a + <usize>m * sa;
    const o0 = out + <usize>m * so;
    let n = 0;
    for (; n + 8 <= N; n += 8) {
      let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
      let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
      let wp = w + (<usize>n << 2);
      let ap = a0;
      for (let k = 0; k < K; k++) {
        const w0 = v128.load(wp), w1 = v128.load(wp, 16);
        const x0 = v128.load32_splat(ap), x1 = v128.load32_splat(ap + sa);
        const x2 = v128.load32_splat(ap + 2 * sa), x3 = v128.load32_splat(ap + 3 * sa);
        c00 = madd4(c00, x0, w0); c01 = madd4(c01, x0, w1);
        c10 = madd4(c10, x1, w0); c11 = madd4(c11, x1, w1);
        c20 = madd4(c20, x2, w0); c21 = madd4(c21, x2, w1);
        c30 = madd4(c30, x3, w0); c31 = madd4(c31, x3, w1);
        wp += sw;
        ap += 4;
      }
      const op = o0 + (<usize>n << 2);
      finish4(op, c00, bias, n, accumulate); finish4(op + 16, c01, bias, n + 4, accumulate);
      finish4(op + so, c10, bias, n, accumulate); finish4(op + so + 16, c11, bias, n + 4, accumulate);
      finish4(op + 2 * so, c20, bias, n, accumulate); finish4(op + 2 * so + 16, c21, bias, n + 4, accumulate);
      finish4(op + 3 * so, c30, bias, n, accumulate); finish4(op + 3 * so + 16, c31, bias, n + 4, accumulate);
    }
    if (n < N) { // N % 8 == 4: one 4-wide column block left
      let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
      let wp = w + (<usize>n << 2);
      let ap = a0;
      for (let k = 0; k < K; k++) {
        const w0 = v128.load(wp);
        c0 = madd4(c0, v128.load32_splat(ap), w0);
        c1 = madd4(c1, v128.load32_splat(ap + sa), w0);
        c2 = madd4(c2, v128.load32_splat(ap + 2 * sa), w0);
        c3 = madd4(c3, v128.load32_splat(ap + 3 * sa), w0);
        wp += sw;
        ap += 4;
      }
      const op = o0 + (<usize>n << 2);
      finish4(op, c0, bias, n, accumulate);
      finish4(op + so, c1, bias, n, accumulate);
      finish4(op + 2 * so, c2, bias, n, accumulate);
      finish4(op + 3 * so, c3, bias, n, accumulate);
    }
  }
  // Remaining rows one at a time, 16 columns per pass (4 independent accumulator chains).
  for (; m < M; m++) {
    const ar = a + <usize>m * sa;
    const or = out + <usize>m * so;
    let n = 0;
    for (; n + 16 <= N; n += 16) {
      let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
      let wp = w + (<usize>n << 2);
      let ap = ar;
      for (let k = 0; k < K; k++) {
        const x = v128.load32_splat(ap);
        c0 = madd4(c0, x, v128.load(wp));
        c1 = madd4(c1, x, v128.load(wp, 16));
        c2 = madd4(c2, x, v128.load(wp, 32));
        c3 = madd4(c3, x, v128.load(wp, 48));
        wp += sw;
        ap += 4;
      }
      const op = or + (<usize>n << 2);
      finish4(op, c0, bias, n, accumulate);
      finish4(op + 16, c1, bias, n + 4, accumulate);
      finish4(op + 32, c2, bias, n + 8, accumulate);
      finish4(op + 48, c3, bias, n + 12, accumulate);
    }
    for (; n < N; n += 4) {
      let c0 = f32x4.splat(0);
      let wp = w + (<usize>n << 2);
      let ap = ar;
      for (let k = 0; k < K; k++) {
        c0 = madd4(c0, v128.load32_splat(ap), v128.load(wp));
        wp += sw;
        ap += 4;
      }
      finish4(or + (<usize>n << 2), c0, bias, n, accumulate);
    }
  }
}

// The scalar build's gemm: the same per-element order as the SIMD one, so both give the same bits. Four
// columns at a time, so each k reads four neighbouring weights instead of striding down one column.
function gemmScalar(
  out: usize, ldo: i32,
  a: usize, lda: i32, w: usize, ldw: i32, bias: usize,
  M: i32, K: i32, N: i32, accumulate: i32,
): void {
  const sw = <usize>ldw << 2;
  for (let m = 0; m < M; m++) {
    const ar = a + ((<usize>m * lda) << 2);
    const or = out + ((<usize>m * ldo) << 2);
    for (let n = 0; n < N; n += 4) {
      let c0: f32 = 0, c1: f32 = 0, c2: f32 = 0, c3: f32 = 0;
      let wp = w + (<usize>n << 2);
      for (let k = 0; k < K; k++) {
        const x = load<f32>(ar + (<usize>k << 2));
        c0 += x * load<f32>(wp);
        c1 += x * load<f32>(wp, 4);
        c2 += x * load<f32>(wp, 8);
        c3 += x * load<f32>(wp, 12);
        wp += sw;
      }
      const op = or + (<usize>n << 2);
      finish1(op, c0, bias, n, accumulate);
      finish1(op + 4, c1, bias, n + 1, accumulate);
      finish1(op + 8, c2, bias, n + 2, accumulate);
      finish1(op + 12, c3, bias, n + 3, accumulate);
    }
  }
}

// @ts-ignore: decorator
@inline function finish1(o: usize, acc: f32, bias: usize, n: i32, accumulate: i32): void {
  if (bias) acc += load<f32>(bias + (<usize>n << 2));
  if (accumulate) acc = load<f32>(o) + acc;
  store<f32>(o, acc);
}

// ---------------------------------------------------------------------------------------------------------
// gemm's two backward products (training). Same operands as gemm: w is the packed (K,N) matrix.
//   gemmBackwardInput:  da[M,K] (+)= dout[M,N] · w[K,N]ᵀ      (the gradient that flows through w to a)
//   gemmBackwardWeight: dw[K,N]  += a[M,K]ᵀ · dout[M,N]       (w's gradient, summed over all M rows)
//   biasBackward:       db[N]    += sum over rows of dout[M,N]
// N % 4 == 0 as in gemm. Weight and bias gradients always accumulate, so gradients add up until zeroed.

// Sums of each of four vectors, as one vector [sum a0, sum a1, sum a2, sum a3].
// @ts-ignore: decorator
@inline function hsum4(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  const s01 = f32x4.add(v128.shuffle<f32>(a0, a1, 0, 4, 1, 5), v128.shuffle<f32>(a0, a1, 2, 6, 3, 7));
  const s23 = f32x4.add(v128.shuffle<f32>(a2, a3, 0, 4, 1, 5), v128.shuffle<f32>(a2, a3, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(s01, s23, 0, 1, 4, 5), v128.shuffle<f32>(s01, s23, 2, 3, 6, 7));
}

// @ts-ignore: decorator
@inline function hsum1(a: v128): f32 {
  return f32x4.extract_lane(a, 0) + f32x4.extract_lane(a, 1) + f32x4.extract_lane(a, 2) + f32x4.extract_lane(a, 3);
}

// da is (M,K) with row stride lda; dout is (M,N) with row stride ldo; w is (K,N) with row stride ldw.
export function gemmBackwardInput(
  da: usize, lda: i32,
  dout: usize, ldo: i32, w: usize, ldw: i32,
  M: i32, K: i32, N: i32, accumulate: i32,
): void {
  const sa = <usize>lda << 2, so = <usize>ldo << 2, sw = <usize>ldw << 2;
  for (let m = 0; m < M; m++) {
    const dr = dout + <usize>m * so;
    const ar = da + <usize>m * sa;
    let k = 0;
    if (ASC_FEATURE_SIMD) {
      // four rows of w at a time: dot products along N, reduced together
      for (; k + 4 <= K; k += 4) {
        const w0 = w + <usize>k * sw;
        let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
        for (let n = 0; n < N; n += 4) {
          const o4 = <usize>n << 2;
          const d = v128.load(dr + o4);
          c0 = madd4(c0, d, v128.load(w0 + o4));
          c1 = madd4(c1, d, v128.load(w0 + sw + o4));
          c2 = madd4(c2, d, v128.load(w0 + 2 * sw + o4));
          c3 = madd4(c3, d, v128.load(w0 + 3 * sw + o4));
        }
        let s = hsum4(c0, c1, c2, c3);
        const op = ar + (<usize>k << 2);
        if (accumulate) s = f32x4.add(v128.load(op), s);
        v128.store(op, s);
      }
      for (; k < K; k++) {
        const wr = w + <usize>k * sw;
        let c = f32x4.splat(0);
        for (let n = 0; n < N; n += 4) c = madd4(c, v128.load(dr + (<usize>n << 2)), v128.load(wr + (<usize>n << 2)));
        const op = ar + (<usize>k << 2);
        store<f32>(op, (accumulate ? load<f32>(op) : 0) + hsum1(c));
      }
    } else {
      for (; k < K; k++) {
        const wr = w + <usize>k * sw;
        let c: f32 = 0;
        for (let n = 0; n < N; n++) c += load<f32>(dr + (<usize>n << 2)) * load<f32>(wr + (<usize>n << 2));
        const op = ar + (<usize>k << 2);
        store<f32>(op, (accumulate ? load<f32>(op) : 0) + c);
      }
    }
  }
}

// dw is (K,N) with row stride ldw; a is (M,K) with row stride lda; dout is (M,N) with row stride ldo.
export function gemmBackwardWeight(
  dw: usize, ldw: i32,
  a: usize, lda: i32, dout: usize, ldo: i32,
  M: i32, K: i32, N: i32,
): void {
  const sa = <usize>lda << 2, so = <usize>ldo << 2, sw = <usize>ldw << 2;
  if (!ASC_FEATURE_SIMD) {
    for (let k = 0; k < K; k++) {
      for (let n = 0; n < N; n++) {
        let c: f32 = 0;
        for (let m = 0; m < M; m++) c += load<f32>(a + <usize>m * sa + (<usize>k << 2)) * load<f32>(dout + <usize>m * so + (<usize>n << 2));
        const op = dw + <usize>k * sw + (<usize>n << 2);
        store<f32>(op, load<f32>(op) + c);
      }
    }
    return;
  }
  let k = 0;
  // 4 rows of dw x 8 columns: 8 accumulators, 4 broadcasts of a, 2 vectors of dout
  for (; k + 4 <= K; k += 4) {
    let n = 0;
    for (; n + 8 <= N; n += 8) {
      let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
      let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
      let ap = a + (<usize>k << 2);
      let dp = dout + (<usize>n << 2);
      for (let m = 0; m < M; m++) {
        const d0 = v128.load(dp), d1 = v128.load(dp, 16);
        const x0 = v128.load32_splat(ap), x1 = v128.load32_splat(ap, 4);
        const x2 = v128.load32_splat(ap, 8), x3 = v128.load32_splat(ap, 12);
        c00 = madd4(c00, x0, d0); c01 = madd4(c01, x0, d1);
        c10 = madd4(c10, x1, d0); c11 = madd4(c11, x1, d1);
        c20 = madd4(c20, x2, d0); c21 = madd4(c21, x2, d1);
        c30 = madd4(c30, x3, d0); c31 = madd4(c31, x3, d1);
        ap += sa;
        dp += so;
      }
      const op = dw + <usize>k * sw + (<usize>n << 2);
      addTo4(op, c00); addTo4(op + 16, c01);
      addTo4(op + sw, c10); addTo4(op + sw + 16, c11);
      addTo4(op + 2 * sw, c20); addTo4(op + 2 * sw + 16, c21);
      addTo4(op + 3 * sw, c30); addTo4(op + 3 * sw + 16, c31);
    }
    for (; n < N; n += 4) {
      let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
      let ap = a + (<usize>k << 2);
      let dp = dout + (<usize>n << 2);
      for (let m = 0; m < M; m++) {
        const d = v128.load(dp);
        c0 = madd4(c0, v128.load32_splat(ap), d);
        c1 = madd4(c1, v128.load32_splat(ap, 4), d);
        c2 = madd4(c2, v128.load32_splat(ap, 8), d);
        c3 = madd4(c3, v128.load32_splat(ap, 12), d);
        ap += sa;
        dp += so;
      }
      const op = dw + <usize>k * sw + (<usize>n << 2);
      addTo4(op, c0); addTo4(op + sw, c1); addTo4(op + 2 * sw, c2); addTo4(op + 3 * sw, c3);
    }
  }
  for (; k < K; k++) {
    for (let n = 0; n < N; n += 4) {
      let c = f32x4.splat(0);
      let ap = a + (<usize>k << 2);
      let dp = dout + (<usize>n << 2);
      for (let m = 0; m < M; m++) {
        c = madd4(c, v128.load32_splat(ap), v128.load(dp));
        ap += sa;
        dp += so;
      }
      addTo4(dw + <usize>k * sw + (<usize>n << 2), c);
    }
  }
}

// @ts-ignore: decorator
@inline function addTo4(p: usize, v: v128): void {
  v128.store(p, f32x4.add(v128.load(p), v));
}

// db is (N); dout is (M,N) with row stride ldo.
export function biasBackward(db: usize, dout: usize, ldo: i32, M: i32, N: i32): void {
  const so = <usize>ldo << 2;
  let n = 0;
  if (ASC_FEATURE_SIMD) {
    for (; n + 4 <= N; n += 4) {
      let c = f32x4.splat(0);
      let dp = dout + (<usize>n << 2);
      for (let m = 0; m < M; m++) {
        c = f32x4.add(c, v128.load(dp));
        dp += so;
      }
      addTo4(db + (<usize>n << 2), c);
    }
  }
  for (; n < N; n++) {
    let c: f32 = 0;
    let dp = dout + (<usize>n << 2);
    for (let m = 0; m < M; m++) {
      c += load<f32>(dp);
      dp += so;
    }
    store<f32>(db + (<usize>n << 2), load<f32>(db + (<usize>n << 2)) + c);
  }
}

// dst[0..n) += src[0..n)  (n % 4 == 0 in the SIMD build's callers: padded rows)
export function addInto(dst: usize, src: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) addTo4(dst + (<usize>i << 2), v128.load(src + (<usize>i << 2)));
  }
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(dst + (<usize>i << 2)) + load<f32>(src + (<usize>i << 2)));
}

// Variable-length batches: lengths is (B) i32 sequence lengths, or 0 when every row runs all T steps. A row
// whose sequence has ended (t >= length) keeps its state through the step and contributes no gradient.
// @ts-ignore: decorator
@inline export function ended(lengths: usize, b: i32, t: i32): bool {
  return lengths != 0 && t >= load<i32>(lengths + (<usize>b << 2));
}
