// assembly/math.ts: the flat primitives every cell is built from.
//
// Activations: exp, sigmoid and tanh in f32, one algorithm written twice (v128 lanes and scalar) so that the
// SIMD, relaxed-SIMD and scalar builds compute the same value op for op. Max absolute error against Math
// (f64, then compared) over all 2^32 non-NaN float32 bit patterns, by scripts/measure-activations.ts (every
// build gives the same bits):
//   sigmoid <= 8.94e-8 (at x = 7.859211), tanh <= 9.00e-8 (at x = 1.247645)   (the tests hold them to 1e-6)
//

// ---------------------------------------------------------------------------------------------------------
// Activations

// exp(x) = 2^n * exp(r), n = round(x / ln2), r = x - n*ln2 in [-ln2/2, ln2/2] (ln2 split in two for an
// exact product), exp(r) by a degree-6 polynomial (Cephes expf). x is clamped so 2^n stays a normal float.
const EXP_LO: f32 = -87.3365478515625; // exp(EXP_LO) is the smallest normal float
const EXP_HI: f32 = 88.3762588500976563; // just under log(FLT_MAX)
const LOG2E: f32 = 1.44269504088896341;
const ROUND_MAGIC: f32 = 12582912.0; // 1.5 * 2^23
const ROUND_MAGIC_BITS: i32 = 0x4b400000; // its bit pattern
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
  // pmax/pmin are single instructions where min/max need IEEE NaN and -0 fix-ups; with x first, a NaN x
  // fails both comparisons and passes through, so NaN still propagates.
  x = f32x4.pmin(f32x4.pmax(x, f32x4.splat(EXP_LO)), f32x4.splat(EXP_HI));
  // n = nearest(x log2e) by adding 1.5 * 2^23: the add rounds to an integer (ties to even, as nearest), and the
  // sum's low mantissa bits are n itself, so 2^n needs no float-to-int conversion. Same n as the scalar code.
  const big = f32x4.add(f32x4.mul(x, f32x4.splat(LOG2E)), f32x4.splat(ROUND_MAGIC));
  const n = f32x4.sub(big, f32x4.splat(ROUND_MAGIC));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  let p = f32x4.splat(P0);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P4));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P5));
  const y = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), f32x4.splat(1.0));
  // (bits(big) - bits(1.5 * 2^23)) is n as an integer; + 127, shifted into the exponent field, is 2^n
  const pow2n = i32x4.shl(i32x4.sub(big, i32x4.splat(ROUND_MAGIC_BITS - 127)), 23);
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
// Whole-buffer helpers of the backward pass (the matrix products are in gemm.ts)

// @ts-ignore: decorator
@inline function addTo4(p: usize, v: v128): void {
  v128.store(p, f32x4.add(v128.load(p), v));
}

// db is (N); dout is (M,N) with row stride ldo.
export function biasBackward(db: usize, dout: usize, ldo: i32, M: i32, N: i32): void {
  const so = <usize>ldo << 2;
  // row by row, so dout streams through once (its rows are often a power of two apart: walking down a column
  // would keep hitting the same cache sets), while db stays in L1
  for (let m = 0; m < M; m++) {
    const row = dout + <usize>m * so;
    let n = 0;
    if (ASC_FEATURE_SIMD) {
      for (; n + 4 <= N; n += 4) addTo4(db + (<usize>n << 2), v128.load(row + (<usize>n << 2)));
    }
    for (; n < N; n++) store<f32>(db + (<usize>n << 2), load<f32>(db + (<usize>n << 2)) + load<f32>(row + (<usize>n << 2)));
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
