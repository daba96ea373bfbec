// assembly/gemm.ts: matrix products against weights packed into column panels, the kernels' one weight layout.
//
// A weight matrix W (K,N) (already transposed from PyTorch's (N,K)) is stored as ceil(N/8) panels of 8
// columns; panel p holds rows 0..K-1 of columns 8p..8p+7 contiguously, so element (k, n) is at float
//     (n >> 3) * wps + k * 8 + (n & 7)
// where wps, the panel stride, is K*8 for a whole matrix. A block of rows k0.. of a larger matrix is the same
// panels starting k0*8 floats in (same wps); a block of columns from a multiple of 8 starts whole panels in.
// Columns past N in the last panel hold zeros. Reading a panel is a sequential stream whatever N is, so
// matrices larger than a cache never thrash on a power-of-two row stride.
//
//   gemm:               out[M,N]  (+)= A[M,K] · W[K,N] + bias[N]
//   gemmBackwardWeight: dW[K,N]    += A[M,K]ᵀ · dOut[M,N]                   (dW packed like W)
//   packTransposed:     Wᵀ packed, from W packed                             (so A · Wᵀ is a gemm too)
// Each out element is ((sum over k in ascending order of a*w) + bias) then added to the old value when
// accumulating, whatever register block it falls in: a row gives bitwise the same result in a 2-, 3- or 4-row block or
// alone, and the SIMD and scalar builds agree to the bit (the relaxed build fuses the multiply-adds).
// Any M, K, N; bias, when given, must be readable up to roundUp4(N).
import { madd4 } from "./math";

// Stores v (lanes 0..n-1 only when n < 4), after adding bias and, when accumulating, the old value.
// @ts-ignore: decorator
@inline function finish(o: usize, v: v128, bias: usize, col: usize, accumulate: i32, n: i32): void {
  if (bias) v = f32x4.add(v, v128.load(bias + (col << 2)));
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

// finish of the 8 columns col.. of a panel from v0 (0..3) and v1 (4..7), left of them in the matrix: a whole
// panel inline, a last partial one by a call (finishPart), which keeps the products small for V8's optimizing
// compiler (issue 14).
// @ts-ignore: decorator
@inline function finish8(o: usize, v0: v128, v1: v128, bias: usize, col: usize, accumulate: i32, left: i32): void {
  if (left >= 8) {
    finish(o, v0, bias, col, accumulate, 4);
    finish(o + 16, v1, bias, col + 4, accumulate, 4);
  } else {
    finishPart(o, v0, v1, bias, col, accumulate, left);
  }
}

function finishPart(o: usize, v0: v128, v1: v128, bias: usize, col: usize, accumulate: i32, left: i32): void {
  finish(o, v0, bias, col, accumulate, min(left, 4));
  if (left > 4) finish(o + 16, v1, bias, col + 4, accumulate, left - 4);
}

// out is (M,N) with row stride ldo; a is (M,K) with row stride lda; w is packed with panel stride wps.
// The row blocks are functions of their own, called per panel (gemmPanel4) or per row (gemmRow), not inlined: V8
// compiles a wasm function with its optimizing compiler only after it has run a while, in the background (the
// larger the function, the longer: about 2 ms per KB for these), and runs the result from its next call, so small
// functions called often are what a cold process's first products get optimized (issue 14).
export function gemm(
  out: usize, ldo: i32,
  a: usize, lda: i32, w: usize, wps: i32, bias: usize,
  M: i32, K: i32, N: i32, accumulate: i32,
): void {
  if (!ASC_FEATURE_SIMD) {
    gemmScalar(out, ldo, a, lda, w, wps, bias, M, K, N, accumulate);
    return;
  }
  const so = <usize>ldo << 2, sa = <usize>lda << 2, sp = <usize>wps << 2;
  const M4 = M & ~3;
  // Panels outer, so each panel (K*32 bytes) is read once from memory and then from L1 for every row block.
  if (M4) {
    for (let n = 0; n < N; n += 8) gemmPanel4(out, so, a, sa, w + (<usize>(n >> 3)) * sp, bias, M4, K, n, N, accumulate);
  }
  if (M4 == M) return;
  // Two or three rows left (batches of 2, 3, 6, 7, ...): one more pass over the panels for all of them, rather
  // than one per row, since at these sizes the weights' trip from cache is what a row costs.
  if (M - M4 >= 2) {
    gemmRows23(out, so, a + <usize>M4 * sa, sa, w, sp, bias, M - M4, K, N, accumulate, M4);
    return;
  }
  // The last row alone (all of them at batch 1)
  gemmRow(out + <usize>M4 * so, a + <usize>M4 * sa, w, sp, bias, K, N, accumulate);
}

// gemm's rows 0..M4-1 (M4 a multiple of 4) against the panel of columns n..n+7 at wp0; so, sa: row strides in bytes.
function gemmPanel4(
  out: usize, so: usize, a: usize, sa: usize, wp0: usize, bias: usize,
  M4: i32, K: i32, n: i32, N: i32, accumulate: i32,
): void {
  const left = N - n; // columns left in the matrix: fewer than 8 in a partial last panel
  for (let m = 0; m < M4; m += 4) {
    const a0 = a + <usize>m * sa;
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
    let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
    let wp = wp0, ap = a0;
    // 8 accumulators, 2 weight vectors and 4 broadcasts live: 14 v128, what V8 keeps in registers
    for (let k = 0; k < K; k++) {
      const w0 = v128.load(wp), w1 = v128.load(wp, 16);
      const x0 = v128.load32_splat(ap), x1 = v128.load32_splat(ap + sa);
      const x2 = v128.load32_splat(ap + 2 * sa), x3 = v128.load32_splat(ap + 3 * sa);
      c00 = madd4(c00, x0, w0); c01 = madd4(c01, x0, w1);
      c10 = madd4(c10, x1, w0); c11 = madd4(c11, x1, w1);
      c20 = madd4(c20, x2, w0); c21 = madd4(c21, x2, w1);
      c30 = madd4(c30, x3, w0); c31 = madd4(c31, x3, w1);
      wp += 32;
      ap += 4;
    }
    const op = out + <usize>m * so + (<usize>n << 2);
    finish8(op, c00, c01, bias, n, accumulate, left);
    finish8(op + so, c10, c11, bias, n, accumulate, left);
    finish8(op + 2 * so, c20, c21, bias, n, accumulate, left);
    finish8(op + 3 * so, c30, c31, bias, n, accumulate, left);
  }
}

// One row of gemm: or, ap0 its output and input. Three panels per pass, 6 accumulator chains.
function gemmRow(or: usize, ap0: usize, w: usize, sp: usize, bias: usize, K: i32, N: i32, accumulate: i32): void {
  let n = 0;
  for (; n + 24 <= N; n += 24) {
    let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0);
    let c3 = f32x4.splat(0), c4 = f32x4.splat(0), c5 = f32x4.splat(0);
    let wp = w + (<usize>(n >> 3)) * sp;
    let ap = ap0;
    for (let k = 0; k < K; k++) {
      const x = v128.load32_splat(ap);
      c0 = madd4(c0, x, v128.load(wp)); c1 = madd4(c1, x, v128.load(wp, 16));
      c2 = madd4(c2, x, v128.load(wp + sp)); c3 = madd4(c3, x, v128.load(wp + sp, 16));
      c4 = madd4(c4, x, v128.load(wp + 2 * sp)); c5 = madd4(c5, x, v128.load(wp + 2 * sp, 16));
      wp += 32;
      ap += 4;
    }
    const op = or + (<usize>n << 2);
    finish(op, c0, bias, n, accumulate, 4); finish(op + 16, c1, bias, n + 4, accumulate, 4);
    finish(op + 32, c2, bias, n + 8, accumulate, 4); finish(op + 48, c3, bias, n + 12, accumulate, 4);
    finish(op + 64, c4, bias, n + 16, accumulate, 4); finish(op + 80, c5, bias, n + 20, accumulate, 4);
  }
  if (n + 16 <= N) { // two whole panels left: one pass with 4 accumulator chains rather than two passes with 2
    let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
    let wp = w + (<usize>(n >> 3)) * sp;
    let ap = ap0;
    for (let k = 0; k < K; k++) {
      const x = v128.load32_splat(ap);
      c0 = madd4(c0, x, v128.load(wp)); c1 = madd4(c1, x, v128.load(wp, 16));
      c2 = madd4(c2, x, v128.load(wp + sp)); c3 = madd4(c3, x, v128.load(wp + sp, 16));
      wp += 32;
      ap += 4;
    }
    const op = or + (<usize>n << 2);
    finish(op, c0, bias, n, accumulate, 4); finish(op + 16, c1, bias, n + 4, accumulate, 4);
    finish(op + 32, c2, bias, n + 8, accumulate, 4); finish(op + 48, c3, bias, n + 12, accumulate, 4);
    n += 16;
  }
  for (; n < N; n += 8) {
    let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
    let wp = w + (<usize>(n >> 3)) * sp;
    let ap = ap0;
    for (let k = 0; k < K; k++) {
      const x = v128.load32_splat(ap);
      c0 = madd4(c0, x, v128.load(wp));
      c1 = madd4(c1, x, v128.load(wp, 16));
      wp += 32;
      ap += 4;
    }
    finish8(or + (<usize>n << 2), c0, c1, bias, n, accumulate, N - n);
  }
}

// gemm's rows M4.. when there are 2 or 3 of them: a block of `rows` rows by one 8-column panel, each panel read
// once for all of them. Per element the same order of operations as the 4-row block, so the same bits.
function gemmRows23(
  out: usize, so: usize, a: usize, sa: usize, w: usize, sp: usize, bias: usize,
  rows: i32, K: i32, N: i32, accumulate: i32, M4: i32,
): void {
  const o0 = out + <usize>M4 * so;
  const three = rows == 3;
  for (let n = 0; n < N; n += 8) {
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
    let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
    let wp = w + (<usize>(n >> 3)) * sp, ap = a;
    if (three) {
      for (let k = 0; k < K; k++) {
        const w0 = v128.load(wp), w1 = v128.load(wp, 16);
        const x0 = v128.load32_splat(ap), x1 = v128.load32_splat(ap + sa), x2 = v128.load32_splat(ap + 2 * sa);
        c00 = madd4(c00, x0, w0); c01 = madd4(c01, x0, w1);
        c10 = madd4(c10, x1, w0); c11 = madd4(c11, x1, w1);
        c20 = madd4(c20, x2, w0); c21 = madd4(c21, x2, w1);
        wp += 32;
        ap += 4;
      }
    } else {
      for (let k = 0; k < K; k++) {
        const w0 = v128.load(wp), w1 = v128.load(wp, 16);
        const x0 = v128.load32_splat(ap), x1 = v128.load32_splat(ap + sa);
        c00 = madd4(c00, x0, w0); c01 = madd4(c01, x0, w1);
        c10 = madd4(c10, x1, w0); c11 = madd4(c11, x1, w1);
        wp += 32;
        ap += 4;
      }
    }
    const op = o0 + (<usize>n << 2);
    const left = N - n;
    finish8(op, c00, c01, bias, n, accumulate, left);
    finish8(op + so, c10, c11, bias, n, accumulate, left);
    if (three) finish8(op + 2 * so, c20, c21, bias, n, accumulate, left);
  }
}

// The scalar build's gemm: the same per-element order as the SIMD one, so both give the same bits.
function gemmScalar(
  out: usize, ldo: i32,
  a: usize, lda: i32, w: usize, wps: i32, bias: usize,
  M: i32, K: i32, N: i32, accumulate: i32,
): void {
  for (let m = 0; m < M; m++) {
    const ar = a + ((<usize>m * lda) << 2);
    const or = out + ((<usize>m * ldo) << 2);
    for (let n = 0; n < N; n += 8) {
      const cols = min(N - n, 8);
      // eight running sums, one per column of the panel
      let c0: f32 = 0, c1: f32 = 0, c2: f32 = 0, c3: f32 = 0, c4: f32 = 0, c5: f32 = 0, c6: f32 = 0, c7: f32 = 0;
      let wp = w + ((<usize>(n >> 3) * wps) << 2);
      for (let k = 0; k < K; k++) {
        const x = load<f32>(ar + (<usize>k << 2));
        c0 += x * load<f32>(wp); c1 += x * load<f32>(wp, 4); c2 += x * load<f32>(wp, 8); c3 += x * load<f32>(wp, 12);
        c4 += x * load<f32>(wp, 16); c5 += x * load<f32>(wp, 20); c6 += x * load<f32>(wp, 24); c7 += x * load<f32>(wp, 28);
        wp += 32;
      }
      const op = or + (<usize>n << 2);
      finish1(op, c0, bias, n, accumulate);
      if (cols > 1) finish1(op + 4, c1, bias, n + 1, accumulate);
      if (cols > 2) finish1(op + 8, c2, bias, n + 2, accumulate);
      if (cols > 3) finish1(op + 12, c3, bias, n + 3, accumulate);
      if (cols > 4) finish1(op + 16, c4, bias, n + 4, accumulate);
      if (cols > 5) finish1(op + 20, c5, bias, n + 5, accumulate);
      if (cols > 6) finish1(op + 24, c6, bias, n + 6, accumulate);
      if (cols > 7) finish1(op + 28, c7, bias, n + 7, accumulate);
    }
  }
}

// @ts-ignore: decorator
@inline function finish1(o: usize, acc: f32, bias: usize, n: i32, accumulate: i32): void {
  if (bias) acc += load<f32>(bias + (<usize>n << 2));
  if (accumulate) acc = load<f32>(o) + acc;
  store<f32>(o, acc);
}

// dw is packed with panel stride wps; a is (M,K) with row stride lda; dout is (M,N) with row stride ldo and
// N % 4 == 0 (the callers' gradient buffers are padded; their padding lanes hold zeros).
export function gemmBackwardWeight(
  dw: usize, wps: i32,
  a: usize, lda: i32, dout: usize, ldo: i32,
  M: i32, K: i32, N: i32,
): void {
  const sa = <usize>lda << 2, so = <usize>ldo << 2, sp = <usize>wps << 2;
  if (!ASC_FEATURE_SIMD) {
    gemmBackwardWeightScalar(dw, wps, a, lda, dout, ldo, M, K, N);
    return;
  }
  // Rows of a and dout in chunks of MC, so one chunk's slice of dout (MC rows x 8 columns) and of a stay in L1
  // while every row block of the panel is summed over it; the panel itself is read and written once per chunk.
  for (let n = 0; n < N; n += 8) {
    const panel = dw + (<usize>(n >> 3)) * sp;
    const two = N - n > 4;
    for (let m0 = 0; m0 < M; m0 += MC) {
      const m1 = min(M, m0 + MC);
      // copy the chunk's 8 columns of dout next to each other: dout rows are often a power of two apart, which
      // maps them all to a few L1 sets and evicts them before the next row block reuses them
      for (let m = m0; m < m1; m++) {
        const src = dout + <usize>m * so + (<usize>n << 2), dst = DCHUNK + (<usize>(m - m0) << 5);
        v128.store(dst, v128.load(src));
        v128.store(dst, two ? v128.load(src, 16) : f32x4.splat(0), 16);
      }
      let k = 0;
      // 4 rows of the panel x 8 columns: 8 accumulators, 4 broadcasts of a, 2 vectors of dout
      for (; k + 4 <= K; k += 4) {
        let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
        let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
        let ap = a + <usize>m0 * sa + (<usize>k << 2);
        let dp = DCHUNK;
        if (two) {
          for (let m = m0; m < m1; m++) {
            const d0 = v128.load(dp), d1 = v128.load(dp, 16);
            const x0 = v128.load32_splat(ap), x1 = v128.load32_splat(ap, 4);
            const x2 = v128.load32_splat(ap, 8), x3 = v128.load32_splat(ap, 12);
            c00 = madd4(c00, x0, d0); c01 = madd4(c01, x0, d1);
            c10 = madd4(c10, x1, d0); c11 = madd4(c11, x1, d1);
            c20 = madd4(c20, x2, d0); c21 = madd4(c21, x2, d1);
            c30 = madd4(c30, x3, d0); c31 = madd4(c31, x3, d1);
            ap += sa;
            dp += 32;
          }
        } else {
          for (let m = m0; m < m1; m++) {
            const d0 = v128.load(dp);
            c00 = madd4(c00, v128.load32_splat(ap), d0);
            c10 = madd4(c10, v128.load32_splat(ap, 4), d0);
            c20 = madd4(c20, v128.load32_splat(ap, 8), d0);
            c30 = madd4(c30, v128.load32_splat(ap, 12), d0);
            ap += sa;
            dp += 32;
          }
        }
        const q = panel + (<usize>k << 5);
        addTo(q, c00); addTo(q + 16, c01);
        addTo(q + 32, c10); addTo(q + 48, c11);
        addTo(q + 64, c20); addTo(q + 80, c21);
        addTo(q + 96, c30); addTo(q + 112, c31);
      }
      for (; k < K; k++) {
        let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
        let ap = a + <usize>m0 * sa + (<usize>k << 2);
        let dp = DCHUNK;
        for (let m = m0; m < m1; m++) {
          const x = v128.load32_splat(ap);
          c0 = madd4(c0, x, v128.load(dp));
          c1 = madd4(c1, x, v128.load(dp, 16));
          ap += sa;
          dp += 32;
        }
        const q = panel + (<usize>k << 5);
        addTo(q, c0);
        addTo(q + 16, c1);
      }
    }
  }
}

// The scalar build's gemmBackwardWeight: the same chunks, one row of the panel (8 running sums) at a time.
function gemmBackwardWeightScalar(
  dw: usize, wps: i32,
  a: usize, lda: i32, dout: usize, ldo: i32,
  M: i32, K: i32, N: i32,
): void {
  const sa = <usize>lda << 2, so = <usize>ldo << 2, sp = <usize>wps << 2;
  for (let n = 0; n < N; n += 8) {
    const panel = dw + (<usize>(n >> 3)) * sp;
    const cols = min(N - n, 8);
    for (let m0 = 0; m0 < M; m0 += MC) {
      const m1 = min(M, m0 + MC);
      for (let m = m0; m < m1; m++) {
        const src = dout + <usize>m * so + (<usize>n << 2), dst = DCHUNK + (<usize>(m - m0) << 5);
        for (let j = 0; j < 8; j++) store<f32>(dst + (<usize>j << 2), j < cols ? load<f32>(src + (<usize>j << 2)) : 0);
      }
      for (let k = 0; k < K; k++) {
        let c0: f32 = 0, c1: f32 = 0, c2: f32 = 0, c3: f32 = 0, c4: f32 = 0, c5: f32 = 0, c6: f32 = 0, c7: f32 = 0;
        let ap = a + <usize>m0 * sa + (<usize>k << 2);
        let dp = DCHUNK;
        for (let m = m0; m < m1; m++) {
          const x = load<f32>(ap);
          c0 += x * load<f32>(dp); c1 += x * load<f32>(dp, 4); c2 += x * load<f32>(dp, 8); c3 += x * load<f32>(dp, 12);
          c4 += x * load<f32>(dp, 16); c5 += x * load<f32>(dp, 20); c6 += x * load<f32>(dp, 24); c7 += x * load<f32>(dp, 28);
          ap += sa;
          dp += 32;
        }
        const q = panel + (<usize>k << 5);
        store<f32>(q, load<f32>(q) + c0); store<f32>(q + 4, load<f32>(q + 4) + c1);
        store<f32>(q + 8, load<f32>(q + 8) + c2); store<f32>(q + 12, load<f32>(q + 12) + c3);
        store<f32>(q + 16, load<f32>(q + 16) + c4); store<f32>(q + 20, load<f32>(q + 20) + c5);
        store<f32>(q + 24, load<f32>(q + 24) + c6); store<f32>(q + 28, load<f32>(q + 28) + c7);
      }
    }
  }
}

// Rows per chunk of gemmBackwardWeight: 64 rows of an (., 8) dout slice and of a (., K <= 128) fit in L1.
const MC = 64;
// The chunk's dout columns, contiguous (a static block of the module: kernels allocate nothing).
const DCHUNK: usize = memory.data(MC * 32, 16);

// @ts-ignore: decorator
@inline function addTo(p: usize, v: v128): void {
  v128.store(p, f32x4.add(v128.load(p), v));
}

// dst = Wᵀ packed with panel stride N*8, from src = W (K,N) packed with panel stride sps. dst's last panel is
// padded with zeros past column K. Training rebuilds these copies once per backward pass.
export function packTransposed(dst: usize, src: usize, sps: i32, K: i32, N: i32): void {
  const K8 = (K + 7) & ~7;
  const dps = <usize>N * 8;
  for (let k = 0; k < K8; k++) {
    const drow = dst + ((<usize>(k >> 3) * dps + (k & 7)) << 2);
    for (let n = 0; n < N; n++) {
      const v: f32 = k < K ? load<f32>(src + ((<usize>(n >> 3) * sps + <usize>k * 8 + (n & 7)) << 2)) : 0;
      store<f32>(drow + (<usize>n << 5), v);
    }
  }
}

// dst = PyTorch's (G*R, C) matrix src, transposed and packed: (C, G*Rp) in panels of 8 columns with panel stride
// C*8, each gate block of R columns padded with zeros to Rp = roundUp4(R) (src/layout.ts's pack, in wasm so a
// model loads without running a long loop in JavaScript's cold tiers).
export function packWeights(dst: usize, src: usize, G: i32, R: i32, C: i32): void {
  const Rp = (R + 3) & ~3;
  const N8 = (G * Rp + 7) & ~7;
  memory.fill(dst, 0, (<usize>C * N8) << 2);
  for (let g = 0; g < G; g++) {
    for (let j = 0; j < R; j++) {
      const n = g * Rp + j;
      const col = dst + ((<usize>(n >> 3) * C * 8 + (n & 7)) << 2);
      const row = src + ((<usize>(g * R + j) * C) << 2);
      for (let c = 0; c < C; c++) store<f32>(col + (<usize>c << 5), load<f32>(row + (<usize>c << 2)));
    }
  }
}
