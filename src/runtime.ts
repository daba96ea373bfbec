// src/runtime.ts: loads one build of the kernels (relaxed SIMD, SIMD or scalar) and owns its linear memory.
// Every block is allocated and freed here, with its size recorded, so memory in use can be read at any time.
// Views are made at the moment of use (f32()): memory.grow detaches every earlier Float32Array.
// We call the module's exports directly (asc's raw bindings are a 10-line wrapper around
// WebAssembly.instantiate); @assemblyscript/loader is deprecated since AssemblyScript 0.20 and only helps
// with managed objects, which these pointer-based kernels never pass.
// Where the package's own files come from on each runtime (Node, workerd, browsers) is src/wasm-source.ts's business.
import { RnnError } from "./errors.js";
import { describeValue, knownKeys, optionsObject } from "./options.js";
import type { FetchResponse, WasmMemory, WasmModule } from "./host-types.js";
import { BUILDS, SERVE_WASM_ADVICE, canReadFiles, getPlatform, isFileLike, probeBuild, type Build } from "./wasm-source.js";

export { BUILDS };
export type { Build };

/** Where the wasm comes from: a compiled module (Workers), its bytes, a fetch Response, or a URL / file path. */
export type WasmSource = WasmModule | ArrayBuffer | ArrayBufferView | FetchResponse | URL | string;

/**
 * The kernels' exports (assembly/index.ts), for the curious: layers, cells and optimizers call them. Pointers are
 * byte offsets into `memory`; flags are 0/1; each kernel's header comment in assembly/ states its shapes and maths.
 */
export interface Kernels {
  /** The module's linear memory; every pointer is a byte offset into it. */
  memory: WasmMemory;
  /** A 16-byte aligned block of `bytes` bytes, contents undefined (use {@link Runtime.alloc}, which keeps count). */
  alloc(bytes: number): number;
  /** Returns a block from `alloc` (use {@link Runtime.free}). */
  free(ptr: number): void;
  /** `out (M, N) = a (M, K) · W + bias` (or `+=` with `accumulate`), W packed in panels (assembly/gemm.ts). */
  gemm(out: number, ldo: number, a: number, lda: number, w: number, wps: number, bias: number,
    M: number, K: number, N: number, accumulate: number): void;
  /** `out[i] = sigmoid(x[i])` for n floats (out may equal x). */
  sigmoidForward(out: number, x: number, n: number): void;
  /** `out[i] = tanh(x[i])` for n floats (out may equal x). */
  tanhForward(out: number, x: number, n: number): void;
  /** One LSTM direction over T steps from the precomputed input projection (assembly/lstm.ts). */
  lstmForward(hs: number, cs: number, gates: number, xz: number, Wh: number, bh: number, Wr: number,
    T: number, B: number, H: number, P: number, reverse: number, keepGates: number, lengths: number): void;
  /** Floats per step and batch row of lstmForward's gates: 4·roundUp4(H), or 5·roundUp4(H) with a projection. */
  lstmGateWidth(H: number, hasProj: number): number;
  /** One GRU direction over T steps (assembly/gru.ts). */
  gruForward(hs: number, gates: number, xz: number, Wh: number, bh: number,
    T: number, B: number, H: number, resetAfter: number, reverse: number, keepGates: number, lengths: number): void;
  /** Floats per step and batch row of gruForward's gates: 5·roundUp4(H) (r, z, n, hn and, for reset before, r·h). */
  gruGateWidth(H: number): number;
  /** One Elman RNN direction over T steps (assembly/rnn.ts). */
  rnnForward(hs: number, xz: number, Wh: number, bh: number,
    T: number, B: number, H: number, relu: number, reverse: number, lengths: number): void;
  /** `dW += aᵀ · dout`, into a packed weight gradient (assembly/gemm.ts). */
  gemmBackwardWeight(dw: number, wps: number, a: number, lda: number, dout: number, ldo: number,
    M: number, K: number, N: number): void;
  /** A packed copy of Wᵀ from packed W, for the backward pass. */
  packTransposed(dst: number, src: number, sps: number, K: number, N: number): void;
  /** Packs PyTorch's (G*R, C) weight matrix into the kernels' panel layout (src/layout.ts describes it). */
  packWeights(dst: number, src: number, G: number, R: number, C: number): void;
  /** `db += Σ_rows dout` over M rows. */
  biasBackward(db: number, dout: number, ldo: number, M: number, N: number): void;
  /** `dst[i] += src[i]` for n floats. */
  addInto(dst: number, src: number, n: number): void;
  /** Backpropagation through time for one LSTM direction (assembly/lstm.ts). */
  lstmBackward(dxz: number, dhs: number, dh: number, dc: number, dr: number, cs: number, gates: number,
    WhT: number, WrT: number, T: number, B: number, H: number, P: number, reverse: number, lengths: number): void;
  /** Backpropagation through time for one GRU direction (assembly/gru.ts). */
  gruBackward(dxz: number, dzh: number, dhs: number, dh: number, drh: number, hs: number, gates: number,
    WhT: number, T: number, B: number, H: number, resetAfter: number, reverse: number, lengths: number): void;
  /** Backpropagation through time for one Elman RNN direction (assembly/rnn.ts). */
  rnnBackward(dxz: number, dhs: number, dh: number, hs: number, WhT: number,
    T: number, B: number, H: number, relu: number, reverse: number, lengths: number): void;
  /**
   * Quantizes M rows of K floats (row stride ldx) to int16 lanes, symmetric per row with `qmax` levels (127 for
   * int8, 2047 for int12): `q` (M, ldq) int16, zeros past K; `sa` (M) f32 scales (assembly/quant.ts).
   */
  quantizeQ16(q: number, ldq: number, sa: number, x: number, ldx: number, M: number, K: number, qmax: number): void;
  /** Quantizes M rows to 7 bits plus 64 in uint8 lanes (the relaxed dot's operand): `q` (M, ldq), `sa` (M). */
  quantizeQ8(q: number, ldq: number, sa: number, x: number, ldx: number, M: number, K: number): void;
  /**
   * `out (M, N) = f32(aq · Wqᵀ) * sw * sa + bias` (or `+=` with `accumulate`): int16 activations against int16
   * weights packed in src/quant-layout.ts's Q16 form (`i32x4.dot_i16x8_s`).
   */
  gemmQ16(out: number, ldo: number, aq: number, lda: number, sa: number, w: number, wps: number, sw: number, bias: number,
    M: number, K: number, N: number, accumulate: number): void;
  /**
   * The same with 7-bit activations against int8 weights in the Q8 form: the relaxed build uses
   * `i32x4.relaxed_dot_i8x16_i7x16_add_s`, which V8 11.3 (Node 20) computes wrongly until it tiers up; the other
   * builds compute the same integers without it.
   */
  gemmQ8(out: number, ldo: number, aq: number, lda: number, sa: number, w: number, wps: number, sw: number, corr: number,
    bias: number, M: number, K: number, N: number, accumulate: number): void;
  /**
   * Quantizes PyTorch's (G*R, C) float matrix per row (qmax levels) and packs it in the Q16 form: `w` the packed int16
   * weights and `sw` the row scales, where src/quant-layout.ts's quantMatrixLayout puts them.
   */
  packQ16(w: number, sw: number, src: number, G: number, R: number, C: number, qmax: number): void;
  /** The same in the Q8 form (int8, qmax 127), with `corr` the Q8 corrections (64 · each row's quantized sum). */
  packQ8(w: number, sw: number, corr: number, src: number, G: number, R: number, C: number): void;
  /**
   * Packs PyTorch's (G*R, C) integers already quantized (a model file's; int8 when srcBytes is 1, int16 when 2) in the
   * Q16 form as they are; returns the index of the first value outside ±qmax, or -1. Scales are the caller's.
   */
  packIntQ16(w: number, src: number, srcBytes: number, G: number, R: number, C: number, qmax: number): number;
  /** The same for int8 integers in the Q8 form, with `corr` the Q8 corrections; returns the index of the first -128, or -1. */
  packIntQ8(w: number, corr: number, src: number, G: number, R: number, C: number): number;
  /**
   * A model file's int8 matrix in the Q16 order (format version 2: N8 rows, depth roundUp2(K)) into the Q8 form, with
   * `corr` the Q8 corrections (assembly/quant-load.ts).
   */
  pairsToQ8(w8: number, corr: number, src: number, N8: number, K: number): void;
  /** Widens the n int8 values at w + n to n int16 at w, in place (an int8 file's packed order into the Q16 form). */
  widenI8(w: number, n: number): void;
  /** The index of the first of n int16 values beyond ±qmax, or -1 (an int12 file's range check). */
  rangeQ16(src: number, n: number, qmax: number): number;
  /**
   * lstmForward with quantized recurrent weights (assembly/lstm.ts, product.ts): Wh and Wr in the Q16 form with their
   * row scales swh, swr (src/quant-layout.ts); each step quantizes h_{t-1} (and r_t) into `aq`, `sa` with `qmax` levels.
   */
  lstmForwardQ16(hs: number, cs: number, gates: number, xz: number, Wh: number, swh: number, bh: number, Wr: number,
    swr: number, aq: number, sa: number, T: number, B: number, H: number, P: number, reverse: number, keepGates: number,
    lengths: number, qmax: number): void;
  /** The same in the Q8 form, with the matrices' corrections crh, crr (see gemmQ8 for Node 20's relaxed build). */
  lstmForwardQ8(hs: number, cs: number, gates: number, xz: number, Wh: number, swh: number, crh: number, bh: number,
    Wr: number, swr: number, crr: number, aq: number, sa: number, T: number, B: number, H: number, P: number,
    reverse: number, keepGates: number, lengths: number): void;
  /** gruForward with W_hh in the Q16 form (assembly/gru.ts). */
  gruForwardQ16(hs: number, gates: number, xz: number, Wh: number, swh: number, bh: number, aq: number, sa: number,
    T: number, B: number, H: number, resetAfter: number, reverse: number, keepGates: number, lengths: number, qmax: number): void;
  /** gruForward with W_hh in the Q8 form. */
  gruForwardQ8(hs: number, gates: number, xz: number, Wh: number, swh: number, crh: number, bh: number, aq: number,
    sa: number, T: number, B: number, H: number, resetAfter: number, reverse: number, keepGates: number, lengths: number): void;
  /** rnnForward with W_hh in the Q16 form (assembly/rnn.ts). */
  rnnForwardQ16(hs: number, xz: number, Wh: number, swh: number, bh: number, aq: number, sa: number,
    T: number, B: number, H: number, relu: number, reverse: number, lengths: number, qmax: number): void;
  /** rnnForward with W_hh in the Q8 form. */
  rnnForwardQ8(hs: number, xz: number, Wh: number, swh: number, crh: number, bh: number, aq: number, sa: number,
    T: number, B: number, H: number, relu: number, reverse: number, lengths: number): void;
  /** `Σ x[i]²` over n floats, summed in float64 (for gradient norms). */
  sumSquares(x: number, n: number): number;
  /** `max |x[i]|` over n floats (NaN if any is NaN). */
  maxAbs(x: number, n: number): number;
  /** `x[i] *= s` for n floats. */
  scaleInPlace(x: number, n: number, s: number): void;
  /** `x[i] = clamp(x[i], -c, c)` for n floats. */
  clampInPlace(x: number, n: number, c: number): void;
  /** One torch.optim.SGD update of n parameters (assembly/optim.ts states the rule). */
  sgdStep(p: number, g: number, buf: number, n: number, lr: number, momentum: number, dampening: number,
    weightDecay: number, nesterov: number, first: number): void;
  /** One torch.optim.Adam / AdamW update of n parameters (assembly/optim.ts states the rule). */
  adamStep(p: number, g: number, m: number, v: number, vmax: number, n: number, lr: number, beta1: number,
    beta2: number, eps: number, weightDecay: number, bc1: number, bc2: number, decoupled: number): void;
}

/** AssemblyScript's TLSF allocator serves blocks smaller than 1 GiB; wasm32 memory ends at 4 GiB. */
export const MAX_BLOCK_BYTES = 2 ** 30 - 64;

/** Bytes in words, for messages: `1.5 GiB`, `12 MiB`, `640 bytes`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
  let v = bytes, u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return u === 0 ? `${v} bytes` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

/**
 * Refuses a block that wasm memory cannot hold in one piece, before anything is allocated: `RnnError('memory')`
 * naming what it was for and its size. `bytes` must come from exact arithmetic (doubles, no 32-bit operations).
 */
export function checkBlockSize(bytes: number, purpose: string, advice = "use shorter sequences or smaller batches"): void {
  if (!(bytes >= 0) || !Number.isSafeInteger(bytes) || bytes >= MAX_BLOCK_BYTES) {
    throw new RnnError("memory", `${purpose} needs ${bytes >= 0 ? `${formatBytes(bytes)} (${bytes} bytes)` : `${bytes} bytes`} of wasm memory, ` +
      `more than one block can hold (just under 1 GiB); ${advice}`);
  }
}

/**
 * One instance of the kernels with its own memory. Layers hold the runtime they were made on. Made by
 * {@link init} and {@link createRuntime}, not by `new`.
 *
 * @example
 * ```ts
 * const runtime = await createRuntime(undefined, { build: "scalar" });
 * const lstm = new LSTM({ inputSize: 8, hiddenSize: 16, runtime });
 * console.log(runtime.build, runtime.bytesInUse); // 'scalar', the bytes the layer's parameters hold
 * lstm.dispose(); // runtime.bytesInUse is 0 again
 * ```
 */
export class Runtime {
  /** Which build of the kernels this instance runs. */
  readonly build: Build;
  /** The module's exports, called directly. */
  readonly kernels: Kernels;
  private readonly live = new Map<number, number>();
  private inUse = 0;

  /**
   * Wraps an instantiated module; {@link init} and {@link createRuntime} call it.
   *
   * @param build which build `kernels` come from
   * @param kernels the exports of an instantiated module
   */
  constructor(build: Build, kernels: Kernels) {
    this.build = build;
    this.kernels = kernels;
  }

  /**
   * A 16-byte aligned block of at least `bytes` bytes (contents undefined).
   *
   * @param bytes the size
   * @param purpose what the block is for, named in the error when it cannot be had
   * @throws RnnError `memory` when the block is larger than one block can be, or memory cannot grow to hold it
   */
  alloc(bytes: number, purpose = "a block"): number {
    checkBlockSize(bytes, purpose);
    let ptr: number;
    try {
      ptr = this.kernels.alloc(Math.max(bytes, 16)) >>> 0;
    } catch (e) {
      throw new RnnError("memory", `${purpose} needs ${formatBytes(bytes)} more, and wasm memory could not grow to hold it ` +
        `(${formatBytes(this.memoryBytes)} now, 4 GiB at most; ${(e as Error).message})`);
    }
    this.live.set(ptr, bytes);
    this.inUse += bytes;
    return ptr;
  }

  /** The size of a block this runtime handed out (0 for one it does not own). */
  blockBytes(ptr: number): number {
    return this.live.get(ptr) ?? 0;
  }

  /** Returns a block from {@link Runtime.alloc}; throws `code 'state'` for a block this runtime did not hand out. */
  free(ptr: number): void {
    const bytes = this.live.get(ptr);
    if (bytes === undefined) throw new RnnError("state", `free of a block this runtime does not own (${ptr})`);
    this.live.delete(ptr);
    this.inUse -= bytes;
    this.kernels.free(ptr);
  }

  /** A fresh Float32Array over `n` floats at byte offset `ptr`. Do not keep it across an alloc. */
  f32(ptr: number, n: number): Float32Array {
    return new Float32Array(this.kernels.memory.buffer, ptr, n);
  }

  private heapView: Float32Array | null = null;

  /**
   * A Float32Array over the whole memory (a byte address's index is layout.ts heapIndex), made again only after
   * memory grew (growth detaches the old one). For hot paths that copy many small pieces: no view per piece.
   */
  heap(): Float32Array {
    const buffer = this.kernels.memory.buffer;
    if (this.heapView === null || this.heapView.buffer !== buffer) this.heapView = new Float32Array(buffer);
    return this.heapView;
  }

  /** Bytes in blocks handed out and not yet freed. */
  get bytesInUse(): number {
    return this.inUse;
  }

  /** Blocks handed out and not yet freed. */
  get blocksInUse(): number {
    return this.live.size;
  }

  /** Size of the wasm linear memory. */
  get memoryBytes(): number {
    return this.kernels.memory.buffer.byteLength;
  }
}

async function sourceToModuleOrBytes(source: WasmSource | Uint8Array): Promise<WebAssembly.Module | Uint8Array<ArrayBuffer>> {
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength).slice();
  if (typeof Response !== "undefined" && source instanceof Response) {
    if (!source.ok) {
      throw new RnnError("init", `fetching the wasm${source.url ? ` from ${source.url}` : ""} failed: HTTP ${source.status} ${source.statusText}; ${SERVE_WASM_ADVICE}`);
    }
    const bytes = new Uint8Array(await source.arrayBuffer());
    // a host that answers a missing file with its index page (a single-page app's fallback) gives 200 and HTML
    if (bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
      const start = new TextDecoder().decode(bytes.subarray(0, 24)).replace(/\s+/g, " ");
      throw new RnnError("init", `the answer${source.url ? ` from ${source.url}` : ""} is not a wasm file (it begins ${JSON.stringify(start)}); ${SERVE_WASM_ADVICE}`);
    }
    return bytes;
  }
  if (!(source instanceof URL) && typeof source !== "string") {
    throw new RnnError("init", `the wasm source must be a WebAssembly.Module, bytes, a Response, a URL or a path, got ${describeValue(source)}`);
  }
  const text = source instanceof URL ? source.href : source;
  const platform = getPlatform();
  if (isFileLike(text) && canReadFiles() && platform.readFile) return sourceToModuleOrBytes(await platform.readFile(text));
  let response: Response;
  try {
    response = await fetch(text);
  } catch (e) {
    throw new RnnError("init", `cannot fetch the wasm from ${text}: ${(e as Error).message}; ${SERVE_WASM_ADVICE}`);
  }
  return sourceToModuleOrBytes(response);
}

/**
 * Whether this engine can run the given build (asked with `WebAssembly.validate` on a tiny probe module, which
 * compiles nothing): relaxed SIMD needs Node >= 22 (or Node 20 with
 * --experimental-wasm-relaxed-simd), Chrome >= 114 or workerd; plain SIMD every current engine.
 */
export async function supportsBuild(build: Build): Promise<boolean> {
  checkBuild(build);
  const platform = getPlatform();
  return platform.supportsBuild ? platform.supportsBuild(build) : probeBuild(build);
}

function checkBuild(build: unknown): asserts build is Build {
  if (!BUILDS.includes(build as Build)) {
    throw new RnnError("init", `unknown build ${JSON.stringify(build)}: expected one of ${BUILDS.map((b) => `'${b}'`).join(", ")}`);
  }
}

async function instantiate(build: Build, moduleOrBytes: WebAssembly.Module | Uint8Array<ArrayBuffer>): Promise<Runtime> {
  try {
    const module = moduleOrBytes instanceof WebAssembly.Module ? moduleOrBytes : await WebAssembly.compile(moduleOrBytes);
    const instance = await WebAssembly.instantiate(module, {});
    return new Runtime(build, instance.exports as unknown as Kernels);
  } catch (e) {
    if (e instanceof RnnError) throw e;
    const message = (e as Error).message;
    // Cloudflare Workers refuse to compile wasm from bytes: modules must be imported, which the workerd entry does
    const advice = /disallowed|code generation/i.test(message)
      ? "; this runtime compiles WebAssembly only from imported modules (Cloudflare Workers): bundle with wrangler, so " +
        "rnn-wasm's workerd entry imports its .wasm files, or import one yourself (import wasm from " +
        "'rnn-wasm/wasm/rnn-simd.wasm') and pass that WebAssembly.Module to init()"
      : "";
    throw new RnnError("init", `the ${build} wasm build could not be loaded: ${message}${advice}`);
  }
}

/** Options for `createRuntime` and `init`. */
export interface RuntimeOptions {
  /**
   * Force a build (for tests, or for results that stay the same bits across engines: 'simd' and 'scalar' give the
   * same bits everywhere; 'relaxed' fuses multiply-adds). By default the fastest one this engine runs: relaxed,
   * then simd, then scalar. With a `source`, names the build the source is (default 'simd').
   */
  build?: Build;
}

/**
 * Loads a fresh, independent instance of the kernels. With a `source`, that module or file is used and
 * `build` says which build it is (default 'simd'); without one, the package's own files are loaded (read, imported
 * or fetched, as the runtime's entry point says) and the fastest build this engine supports is chosen unless
 * `build` forces one.
 *
 * @param source the wasm: a compiled `WebAssembly.Module`, its bytes, a fetch `Response`, or a URL or path
 * @param options `build` forces or names the build
 * @returns a runtime with its own memory, for layers created with `{ runtime }`
 * @throws RnnError `init` when the wasm cannot be found, fetched or compiled on this engine
 * @example
 * ```ts
 * const scalar = await createRuntime(undefined, { build: "scalar" }); // the package's own scalar build
 * const layer = new GRU({ inputSize: 4, hiddenSize: 8, runtime: scalar });
 * ```
 */
export async function createRuntime(source?: WasmSource, options: RuntimeOptions = {}): Promise<Runtime> {
  const o = optionsObject("runtime options", options);
  knownKeys("runtime options", o, ["build"]);
  if (o.build !== undefined) checkBuild(o.build);
  if (source !== undefined) return instantiate(o.build ?? "simd", await sourceToModuleOrBytes(source));
  const order = o.build ? [o.build] : BUILDS;
  for (const build of order) {
    if (await supportsBuild(build)) return instantiate(build, await sourceToModuleOrBytes(await getPlatform().packagedWasm(build)));
    if (o.build) {
      throw new RnnError("init", `this JavaScript engine cannot compile the '${build}' build` +
        (build === "relaxed" ? " (relaxed SIMD needs Node >= 22, --experimental-wasm-relaxed-simd, Chrome >= 114, or workerd)" : ""));
    }
  }
  throw new RnnError("init", "no wasm build of rnn-wasm validates on this engine");
}

let defaultRuntime: Runtime | null = null;
let pending: Promise<Runtime> | null = null;

/**
 * Loads the wasm once, for every layer and cell created afterwards without an explicit runtime.
 * Calling it again returns the same runtime, unless a source or build is given, which loads a new default.
 *
 * @param source as for {@link createRuntime}; default: the package's own files
 * @param options `build` forces or names the build; default: the fastest this engine runs (relaxed, simd, scalar)
 * @returns the default runtime
 * @example
 * ```ts
 * await init();
 * const lstm = new LSTM({ inputSize: 8, hiddenSize: 16 }); // runs on the runtime init() loaded
 * ```
 */
export async function init(source?: WasmSource, options: RuntimeOptions = {}): Promise<Runtime> {
  if (source === undefined && options?.build === undefined) {
    if (defaultRuntime) return defaultRuntime;
    if (pending) return pending;
  }
  pending = createRuntime(source, options);
  try {
    defaultRuntime = await pending;
    return defaultRuntime;
  } finally {
    pending = null;
  }
}

/** The runtime `init()` loaded; throws a clear error when init() has not finished. */
export function getRuntime(): Runtime {
  if (!defaultRuntime) throw new RnnError("init", "call `await init()` before creating a wasm layer or cell (or pass backend: 'reference')");
  return defaultRuntime;
}
