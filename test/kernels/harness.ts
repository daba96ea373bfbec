// test/kernels/harness.ts: what the kernel tests (wasm vs src/reference, one kernel to one function) share, beyond
// test/helpers/ (seeded data, comparisons that name the element that broke and keep the largest error seen):
//   - the three builds (simd, relaxed, scalar), each loaded once per test file;
//   - a scope that copies arrays into and out of wasm memory and frees every block it allocated, checking that
//     the runtime's block count is back where it started (the harness itself must not leak);
//   - the kernels' padded layouts (src/layout.ts): gate blocks of R values padded to roundUp4(R) lanes, weights
//     packed in panels of 8 columns (assembly/gemm.ts), and the transposed copies the backward kernels take;
//   - messages that name the buffer, step, batch row and lane of a flat index;
//   - the floating-point error bounds the tolerances are built from (see `gamma` and `EPS_ACT`).
// The three recurrent cells' tests share more: cell-scaffold.ts.
import { createRuntime, type Runtime } from "../../src/runtime.js";
import { gemm as refGemm } from "../../src/reference/gemm.js";
import { pack, packedSize, roundUp4 } from "../../src/layout.js";
import { U } from "../helpers/compare.js";
import { allowRelaxedSimd, runtimesFor, TEST_BUILDS, type Runtimes } from "../helpers/runtimes.js";

export { packedSize, roundUp4 };

// ---------------------------------------------------------------------------------------------------------
// Builds

export const BUILDS = TEST_BUILDS;
export type { Runtimes };

let loading: Promise<Runtimes> | null = null;

/**
 * The three builds, loaded once per test file (vitest gives each file its own module graph): the package's
 * build/ files, or rnn-{simd,relaxed,scalar}.wasm from the folder in KERNELS_WASM_DIR (to try the tests on a
 * deliberately broken kernel and see that they fail).
 */
export function loadRuntimes(): Promise<Runtimes> {
  const dir = process.env.KERNELS_WASM_DIR;
  if (!dir) return (loading ??= runtimesFor());
  loading ??= (async () => {
    await allowRelaxedSimd();
    const loaded = await Promise.all(BUILDS.map((build) => createRuntime(`${dir}/rnn-${build}.wasm`, { build })));
    return Object.fromEntries(BUILDS.map((build, i) => [build, loaded[i]])) as Runtimes;
  })();
  return loading;
}

// ---------------------------------------------------------------------------------------------------------
// Wasm memory

/**
 * Blocks of one test case in one runtime. Outputs start as NaN so a lane the kernel never writes shows up. Each
 * block sits between two guard zones of GUARD floats holding a sentinel; checkGuards() (run by withWasm after
 * the case) names any block whose guards a kernel overwrote, before the overrun can corrupt the heap.
 */
export class WasmScope {
  static readonly GUARD = 16; // floats (64 bytes) on each side; keeps the block 16-byte aligned
  static readonly SENTINEL = 0x7fa5a5a5; // a NaN no kernel computes

  readonly rt: Runtime;
  private readonly blocks: { raw: number; ptr: number; n: number; name: string }[] = [];

  constructor(rt: Runtime) {
    this.rt = rt;
  }

  get k() {
    return this.rt.kernels;
  }

  /** A block of n floats, every one set to `fill`. */
  alloc(n: number, fill = NaN, name = `block ${this.blocks.length}`): number {
    const G = WasmScope.GUARD;
    const raw = this.rt.alloc((n + 2 * G) * 4);
    const ptr = raw + G * 4;
    this.blocks.push({ raw, ptr, n, name });
    new Uint32Array(this.rt.kernels.memory.buffer, raw, n + 2 * G).fill(WasmScope.SENTINEL);
    this.rt.f32(ptr, n).fill(fill);
    return ptr;
  }

  /** A block holding a copy of data. */
  put(data: Float32Array, name?: string): number {
    const ptr = this.alloc(data.length, NaN, name);
    this.rt.f32(ptr, data.length).set(data);
    return ptr;
  }

  /** A block holding a copy of i32 data (sequence lengths). */
  putI32(data: Int32Array, name?: string): number {
    const ptr = this.alloc(data.length, 0, name);
    new Int32Array(this.rt.kernels.memory.buffer, ptr, data.length).set(data);
    return ptr;
  }

  /**
   * Wᵀ packed (N, K), with panel stride N*8 and zeros past K in its last panel, made by the build's own
   * packTransposed from W (K, N) packed at `src` with panel stride `sps`: the copy the engine builds before a
   * backward pass (src/wasm-engine.ts transposeWeights). The block starts as NaN, so a float packTransposed
   * misses shows up in whatever reads it.
   */
  transposed(src: number, sps: number, K: number, N: number, name: string): number {
    const dst = this.alloc(packedSize(N, K), NaN, name);
    this.rt.kernels.packTransposed(dst, src, sps, K, N);
    this.checkGuards(`packTransposed into ${name}`);
    return dst;
  }

  /** Copies data to float offset `at` of the block at ptr. */
  write(ptr: number, at: number, data: Float32Array): void {
    this.rt.f32(ptr + at * 4, data.length).set(data);
  }

  /** A copy of n floats at ptr (a view would be detached by the next memory.grow). */
  read(ptr: number, n: number): Float32Array {
    return this.rt.f32(ptr, n).slice();
  }

  /** Throws if a kernel wrote into the guard zone before or after any block; `after` names the call. */
  checkGuards(after = "the case"): void {
    const G = WasmScope.GUARD;
    for (const b of this.blocks) {
      const words = new Uint32Array(this.rt.kernels.memory.buffer, b.raw, b.n + 2 * G);
      for (let i = 0; i < words.length; i++) {
        if (i === G) i = G + b.n;
        if (words[i] !== WasmScope.SENTINEL) {
          const off = i < G ? `the ${G - i}th float before the start of` : `the ${i - G - b.n + 1}th float past the end of`;
          throw new Error(`${this.rt.build}: ${after} wrote ${off} ${b.name} (${b.n} floats at byte ${b.ptr})`);
        }
      }
    }
  }

  freeAll(): void {
    while (this.blocks.length) this.rt.free(this.blocks.pop()!.raw);
  }
}

/** Runs fn with a fresh scope, frees every block afterwards, and fails if the runtime ends up holding more. */
export function withWasm<T>(rt: Runtime, fn: (w: WasmScope) => T): T {
  const blocks = rt.blocksInUse, bytes = rt.bytesInUse;
  const w = new WasmScope(rt);
  let result: T;
  try {
    result = fn(w);
    w.checkGuards();
  } finally {
    w.freeAll();
  }
  if (rt.blocksInUse !== blocks || rt.bytesInUse !== bytes) {
    throw new Error(`harness leak in ${rt.build}: ${rt.blocksInUse} blocks / ${rt.bytesInUse} bytes in use, ` +
      `${blocks} / ${bytes} before the case`);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------------
// Reference runs

/**
 * For a one-step (T = 1) reference run standing for step t of a batch with `lengths`: 0 for the rows whose
 * sequence has ended at t (t >= length: they carry their state through), 1 for the others; null for null.
 */
export function stepLengths(lengths: Int32Array | null, t: number): Int32Array | null {
  return lengths && lengths.map((len) => (t >= len ? 0 : 1));
}

/** The same f32 values in a Float64Array: the reference then computes in float64 on exactly what wasm got. */
export function f64(a: Float32Array): Float64Array {
  return Float64Array.from(a);
}

// ---------------------------------------------------------------------------------------------------------
// Padded layouts

/** (rows, G*n) -> (rows, G*roundUp4(n)): each of the G blocks of a row padded with zero lanes. */
export function padBlocks(src: ArrayLike<number>, rows: number, G: number, n: number): Float32Array {
  const np = roundUp4(n);
  const out = new Float32Array(rows * G * np);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < G; g++) {
      for (let j = 0; j < n; j++) out[(r * G + g) * np + j] = src[(r * G + g) * n + j];
    }
  }
  return out;
}

/** (rows, G*roundUp4(n)) -> (rows, G*n) as float64: the padding lanes dropped. */
export function unpadBlocks(src: ArrayLike<number>, rows: number, G: number, n: number): Float64Array {
  const np = roundUp4(n);
  const out = new Float64Array(rows * G * n);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < G; g++) {
      for (let j = 0; j < n; j++) out[(r * G + g) * n + j] = src[(r * G + g) * np + j];
    }
  }
  return out;
}

/**
 * PyTorch's (G*R, C) weight in the kernels' (C, G*roundUp4(R)) packed in panels of 8 columns (panel stride C*8,
 * packedSize(C, G*roundUp4(R)) floats, zeros in every padding column), by src/layout.ts's pack.
 */
export function packed(src: Float32Array, G: number, R: number, C: number): Float32Array {
  const out = new Float32Array(packedSize(C, G * roundUp4(R)));
  pack(out, src, G, R, C);
  return out;
}

/** Throws unless every padding lane of the (rows, G*roundUp4(n)) buffer is exactly zero. */
export function expectZeroPadding(what: string, buf: Float32Array, rows: number, G: number, n: number,
  row: (r: number) => string = (r) => `row ${r}`): void {
  const np = roundUp4(n);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < G; g++) {
      for (let j = n; j < np; j++) {
        const v = buf[(r * G + g) * np + j];
        if (v !== 0) throw new Error(`${what}: padding lane ${j} (n = ${n}) of ${row(r)}${G > 1 ? `, block ${g}` : ""} is ${v}, not 0`);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Error bounds
//
// u = 2^-24 is the unit roundoff of f32. A sum of n terms computed one after the other in f32 (a dot product of
// K products plus a bias plus one more addend is n = K + 2; products may be rounded or fused) differs from the
// exact sum by at most gamma(n) * sum |terms|, gamma(n) = n u / (1 - n u) (Higham, Accuracy and Stability of
// Numerical Algorithms, 3.1). The SIMD builds add in a different order from a plain loop, and the relaxed build
// fuses multiply and add, but the bound holds for any order of one running sum, fused or not.

export function gamma(n: number): number {
  return (n * U) / (1 - n * U);
}

/**
 * Max abs error of the kernels' sigmoid and tanh against the exact function, for every f32 input, that the
 * kernel tolerances assume. scripts/measure-activations.ts measured, over all 2^32 inputs and on every build
 * (which agree bit for bit), sigmoid 8.931e-8 (at x = 7.8592110) and tanh 8.994e-8 (at x = 1.2476450), about
 * 1.5 ulp of 1; activations.test.ts checks the kernels stay under this value on a million-value sample.
 */
export const EPS_ACT = 1.2e-7;

/** Per element of out (M,N): sum_k |a[m,k] w[n,k]| + |bias[n]| (+ |extra[m,n]|): the sum the gemm bound scales. */
export function magnitudes(
  a: ArrayLike<number>, lda: number, w: ArrayLike<number>, ldw: number, bias: ArrayLike<number> | null,
  M: number, K: number, N: number, extra: ArrayLike<number> | null = null, ldx = N,
): Float64Array {
  const abs = (v: ArrayLike<number>) => Float64Array.from(v, Math.abs);
  const out = new Float64Array(M * N);
  refGemm(out, N, abs(a), lda, abs(w), ldw, bias ? abs(bias) : null, M, K, N, false);
  if (extra) for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) out[m * N + n] += Math.abs(extra[m * ldx + n]);
  return out;
}

/** max over rows q of sum_j |w[q, j]| for w (rows, cols): how much a weight matrix can amplify an error. */
export function maxRowAbsSum(w: ArrayLike<number>, rows: number, cols: number): number {
  let m = 0;
  for (let q = 0; q < rows; q++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += Math.abs(w[q * cols + j]);
    m = Math.max(m, s);
  }
  return m;
}

// ---------------------------------------------------------------------------------------------------------
// Messages

/** (B, n) row r and lane j of a flat index, for messages. */
export function rowLane(n: number): (i: number) => string {
  return (i) => `b=${Math.floor(i / n)} j=${i % n}`;
}

/** (B, G*n) gate buffer: row, gate name and lane of a flat index, for messages. */
export function gateLane(names: readonly string[], n: number): (i: number) => string {
  const width = names.length * n;
  return (i) => `b=${Math.floor(i / width)} ${names[Math.floor((i % width) / n)]} j=${i % n}`;
}
