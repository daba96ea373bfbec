// assembly/quant-load.ts: a model file's integers already in the packed order (format version 2, src/quantized-file.ts)
// into the form that runs them. The file holds every matrix in the Q16 order (src/quant-layout.ts): panels of 8 rows,
// pairs of inputs, element (n, k) at (n >> 3) * depth2*8 + (k >> 1) * 16 + (n & 7) * 2 + (k & 1), depth2 = roundUp2(K),
// as int8 for an int8 model (the Q16 form sign-extends them with one typed-array copy, no kernel) and int16 for int12.
//
//   pairsToQ8:  the Q16 order's int8 into the Q8 order, element (n, k) at (n >> 3) * depth4*8 + (k >> 2) * 32 + (n & 7) * 4
//               + (k & 3), depth4 = roundUp4(K); corr[n] = 64 * sum_k w[n, k] (assembly/quant.ts gemmQ8)
//   widenI8:    n int8 copied to w + n widened in place to n int16 at w (the Q16 form of an int8 file: V8's typed-array
//               copy from Int8Array to Int16Array runs an element at a time, 20 ns each on a cold start)
//   rangeQ16:   the first index of an int16 beyond ±qmax (an int12 file's range check), or -1
// Padding (rows past the matrix, k past K) is zero in the file (src/quantized-file.ts checks it), so it stays zero here.
// Pointers are byte offsets.

const Q8_OFFSET: i32 = 64;

// w8 (N8 rows, depth roundUp4(K)) int8 and corr (N8) i32 from src (N8 rows, depth roundUp2(K)) int8 in the Q16 order.
export function pairsToQ8(
  w8: usize, corr: usize,               // out Q8 packed (N8 / 8 panels of roundUp4(K) * 8 bytes); (N8) i32
  src: usize,                           // in  Q16 order as int8 (N8 / 8 panels of roundUp2(K) * 8 bytes)
  N8: i32, K: i32,
): void {
  const pairs = (K + 1) >> 1, quads = (K + 3) >> 2;
  for (let p = 0; p < N8 >> 3; p++) {
    const from = src + <usize>p * pairs * 16, to = w8 + <usize>p * quads * 32;
    if (ASC_FEATURE_SIMD) {
      // quad q of the 8 rows = pairs 2q and 2q+1 interleaved two bytes at a time; each row's sum from the pairs
      let sumLo = i32x4.splat(0), sumHi = i32x4.splat(0);
      for (let q = 0; q < quads; q++) {
        const a = v128.load(from + (<usize>(2 * q) << 4));
        const b = 2 * q + 1 < pairs ? v128.load(from + (<usize>(2 * q + 1) << 4)) : i8x16.splat(0);
        v128.store(to + (<usize>q << 5), i8x16.shuffle(a, b, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23));
        v128.store(to + (<usize>q << 5) + 16, i8x16.shuffle(a, b, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31));
        const rows = i16x8.add(i16x8.extadd_pairwise_i8x16_s(a), i16x8.extadd_pairwise_i8x16_s(b)); // lane j: row j's 4
        sumLo = i32x4.add(sumLo, i32x4.extend_low_i16x8_s(rows));
        sumHi = i32x4.add(sumHi, i32x4.extend_high_i16x8_s(rows));
      }
      const c = corr + (<usize>p << 5);
      v128.store(c, i32x4.mul(sumLo, i32x4.splat(Q8_OFFSET)));
      v128.store(c + 16, i32x4.mul(sumHi, i32x4.splat(Q8_OFFSET)));
    } else {
      for (let j = 0; j < 8; j++) {
        let sum: i32 = 0;
        for (let k = 0; k < quads * 4; k++) {
          const v: i32 = k < pairs * 2 ? <i32>load<i8>(from + <usize>(k >> 1) * 16 + <usize>j * 2 + <usize>(k & 1)) : 0;
          store<i8>(to + <usize>(k >> 2) * 32 + <usize>j * 4 + <usize>(k & 3), <i8>v);
          sum += v;
        }
        store<i32>(corr + (<usize>(p * 8 + j) << 2), Q8_OFFSET * sum);
      }
    }
  }
}

// w[i] = the int8 at w + n + i, for i < n, in place: each step reads its 16 bytes before it writes 32 at 2i, and
// 2i + 32 <= n + i + 16 (the next read) for every i <= n - 16, so no byte is written before it is read.
export function widenI8(
  w: usize,                             // out (n) int16; in: (n) int8 at w + n
  n: i32,
): void {
  const src = w + <usize>n;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 16 <= n; i += 16) {
      const v = v128.load(src + <usize>i);
      v128.store(w + (<usize>i << 1), i16x8.extend_low_i8x16_s(v));
      v128.store(w + (<usize>i << 1) + 16, i16x8.extend_high_i8x16_s(v));
    }
  }
  for (; i < n; i++) store<i16>(w + (<usize>i << 1), <i16>load<i8>(src + <usize>i));
}

// The first i < n with |src[i]| > qmax, or -1.
export function rangeQ16(
  src: usize,                           // in  (n) int16
  n: i32, qmax: i32,
): i32 {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const hi = i16x8.splat(<i16>qmax), lo = i16x8.splat(<i16>-qmax);
    for (; i + 8 <= n; i += 8) {
      const v = v128.load(src + (<usize>i << 1));
      if (v128.any_true(v128.or(i16x8.gt_s(v, hi), i16x8.lt_s(v, lo)))) break; // found in these 8: scanned below
    }
  }
  for (; i < n; i++) {
    const v: i32 = <i32>load<i16>(src + (<usize>i << 1));
    if (v > qmax || v < -qmax) return i;
  }
  return -1;
}
