// src/runtime.ts: loads one build of the kernels (relaxed SIMD, SIMD or scalar) and owns its linear memory.
// Every block is allocated and freed here, with its size recorded, so memory in use can be read at any time.
// Views are made at the moment of use (f32()): memory.grow detaches every earlier Float32Array.
// We call the module's exports directly (asc's raw bindings are a 10-line wrapper around
// WebAssembly.instantiate); @assemblyscript/loader is deprecated since AssemblyScript 0.20 and only helps
// with managed objects, which these pointer-based kernels never pass.
// Where the package's own files come from on each runtime (Node, workerd, browsers) is src/platform.ts's business.
import { RnnError } from "./errors.js";
import { BUILDS, canReadFiles, getPlatform, isFileLike, probeBuild, type Build } from "./platform.js";

export { BUILDS };
export type { Build };

/** Where the wasm comes from: a compiled module (Workers), its bytes, a fetch Response, or a URL / file path. */
export type WasmSource = WebAssembly.Module | ArrayBuffer | ArrayBufferView | Response | URL | string;

/** The kernels' exports (assembly/index.ts). Pointers are byte offsets; flags are 0/1. */
export interface Kernels {
  memory: WebAssembly.Memory;
  alloc(bytes: number): number;
  free(ptr: number): void;
  gemm(out: number, ldo: number, a: number, lda: number, w: number, wps: number, bias: number,
    M: number, K: number, N: number, accumulate: number): void;
  sigmoidForward(out: number, x: number, n: number): void;
  tanhForward(out: number, x: number, n: number): void;
  lstmForward(hs: number, cs: number, gates: number, xz: number, Wh: number, bh: number, Wr: number,
    T: number, B: number, H: number, P: number, reverse: number, keepGates: number, lengths: number): void;
  gruForward(hs: number, gates: number, xz: number, Wh: number, bh: number,
    T: number, B: number, H: number, resetAfter: number, reverse: number, keepGates: number, lengths: number): void;
  rnnForward(hs: number, xz: number, Wh: number, bh: number,
    T: number, B: number, H: number, relu: number, reverse: number, lengths: number): void;
  gemmBackwardWeight(dw: number, wps: number, a: number, lda: number, dout: number, ldo: number,
    M: number, K: number, N: number): void;
  packTransposed(dst: number, src: number, sps: number, K: number, N: number): void;
  packWeights(dst: number, src: number, G: number, R: number, C: number): void;
  biasBackward(db: number, dout: number, ldo: number, M: number, N: number): void;
  addInto(dst: number, src: number, n: number): void;
  lstmBackward(dxz: number, dhs: number, dh: number, dc: number, dr: number, hs: number, cs: number, gates: number,
    WhT: number, WrT: number, T: number, B: number, H: number, P: number, reverse: number, lengths: number): void;
  gruBackward(dxz: number, dzh: number, dhs: number, dh: number, drh: number, hs: number, gates: number,
    WhT: number, T: number, B: number, H: number, resetAfter: number, reverse: number, lengths: number): void;
  rnnBackward(dxz: number, dhs: number, dh: number, hs: number, WhT: number,
    T: number, B: number, H: number, relu: number, reverse: number, lengths: number): void;
  sumSquares(x: number, n: number): number;
  maxAbs(x: number, n: number): number;
  scaleInPlace(x: number, n: number, s: number): void;
  clampInPlace(x: number, n: number, c: number): void;
  sgdStep(p: number, g: number, buf: number, n: number, lr: number, momentum: number, dampening: number,
    weightDecay: number, nesterov: number, first: number): void;
  adamStep(p: number, g: number, m: number, v: number, vmax: number, n: number, lr: number, beta1: number,
    beta2: number, eps: number, weightDecay: number, bc1: number, bc2: number, decoupled: number): void;
}

/** AssemblyScript's TLSF allocator serves blocks smaller than 1 GiB. */
const MAX_BLOCK_BYTES = 2 ** 30 - 64;

/** One instance of the kernels with its own memory. Layers hold the runtime they were made on. */
export class Runtime {
  readonly build: Build;
  readonly kernels: Kernels;
  private readonly live = new Map<number, number>();
  private inUse = 0;

  constructor(build: Build, kernels: Kernels) {
    this.build = build;
    this.kernels = kernels;
  }

  /** A 16-byte aligned block of at least `bytes` bytes (contents undefined). */
  alloc(bytes: number): number {
    // The allocator (TLSF) serves blocks below 1 GiB, and wasm32 memory ends at 4 GiB: refuse before calling it.
    if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes >= MAX_BLOCK_BYTES) {
      throw new RnnError("memory", `a block of ${bytes} bytes is more than wasm memory can hold in one piece (< ${MAX_BLOCK_BYTES}); use shorter sequences or smaller batches`);
    }
    let ptr: number;
    try {
      ptr = this.kernels.alloc(Math.max(bytes, 16)) >>> 0;
    } catch (e) {
      throw new RnnError("memory", `wasm memory could not grow to hold ${bytes} more bytes (${(e as Error).message})`);
    }
    this.live.set(ptr, bytes);
    this.inUse += bytes;
    return ptr;
  }

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
   * A Float32Array over the whole memory (index = byte offset / 4), made again only after memory grew (growth
   * detaches the old one). For hot paths that copy many small pieces: no view per piece.
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
    if (!source.ok) throw new RnnError("init", `fetching the wasm failed: HTTP ${source.status} ${source.statusText}`);
    return new Uint8Array(await source.arrayBuffer());
  }
  const text = source instanceof URL ? source.href : String(source);
  const platform = getPlatform();
  if (isFileLike(text) && canReadFiles() && platform.readFile) return sourceToModuleOrBytes(await platform.readFile(text));
  return sourceToModuleOrBytes(await fetch(text));
}

/**
 * Whether this engine can run the given build: relaxed SIMD needs Node >= 22 (or Node 20 with
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
    throw new RnnError("init", `the ${build} wasm build could not be loaded: ${(e as Error).message}`);
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
 */
export async function createRuntime(source?: WasmSource, options: RuntimeOptions = {}): Promise<Runtime> {
  if (options.build !== undefined) checkBuild(options.build);
  if (source !== undefined) return instantiate(options.build ?? "simd", await sourceToModuleOrBytes(source));
  const order = options.build ? [options.build] : BUILDS;
  for (const build of order) {
    if (await supportsBuild(build)) return instantiate(build, await sourceToModuleOrBytes(await getPlatform().packagedWasm(build)));
    if (options.build) {
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
 */
export async function init(source?: WasmSource, options: RuntimeOptions = {}): Promise<Runtime> {
  if (source === undefined && options.build === undefined) {
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
