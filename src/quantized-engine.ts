// src/quantized-engine.ts: the engine of a quantized layer (src/quantized.ts), inference only, on either backend
// (src/backend.ts): WasmQuantEngine over the quantized kernels, ReferenceQuantEngine over src/reference/quant-layer.ts.
// The wasm one is src/wasm-engine.ts's forward with each matrix product quantized:
//   loading   every matrix quantized per row and packed by the kernels' packQ16 / packQ8 into one block (the
//             model's), biases float32 beside them (src/quant-layout.ts quantModelLayout)
//   a call    per layer and direction, a chunk of timesteps at a time: the chunk's input quantized per row
//             (quantizeQ16 / quantizeQ8) and multiplied (gemmQ16 / gemmQ8) into xz, then the chunk's recurrence in
//             one call of the cell's quantized step kernel (lstmForwardQ16, ...), which quantizes h_{t-1} per step
// The float32 workspace (states, gates, xz) is src/layout.ts's inference workspace; the quantized activations have a
// scratch block of their own (quantScratchLayout). Both grow when a call needs more and are reused otherwise: nothing
// is allocated per call in steady state but the results, and not those when the caller gives arrays (forward's `out`).
//
// The form (src/quant-layout.ts): "int12" is Q16 with 2047 levels everywhere. "int8" is Q16 with 127 levels, or Q8
// (int8 weights x 7-bit activations, the relaxed dot-add) where that is correct and faster: chooseQuantForm below.
import type { Spec } from "./architecture.js";
import { directions, gateCount, layerInputSize, outputSize, paramSuffix } from "./architecture.js";
import { Blocks, Workspace } from "./blocks.js";
import type { EngineOut, EngineResult } from "./engine.js";
import {
  modelDims, ptrAt, readRows, roundUp4, roundUp8, stepOffset, workspaceLayout, writeRows, heapIndex,
  type ForwardWorkspace, type ModelDims,
} from "./layout.js";
import {
  quantModelLayout, quantRowStride, quantScratchLayout, quantMatrixLayout, unpackQuantized,
  type FileOrderMatrix, type PlacedQuantMatrix, type QuantForm,
  type QuantModelLayout,
} from "./quant-layout.js";
import { gemmQ8 as refGemmQ8, quantizeQ8 as refQuantizeQ8, quantizeRows, QMAX_INT12, QMAX_INT8 } from "./reference/quant.js";
import { quantizedForward, type QuantRun } from "./reference/quant-layer.js";
import type { QuantMatrix } from "./reference/product.js";
import type { Runtime } from "./runtime.js";
import { chunksOf, firstOutputSlot, firstSlot, interleaveOutputs, lastSlot, stateIndex } from "./sequence.js";
import { carve } from "./tensor.js";
import { RnnError } from "./errors.js";

/** The storage a quantized layer asks for. */
export type QuantDtype = "int8" | "int12";

/** The form a quantized engine runs and its activations' levels. */
export interface QuantChoice {
  form: QuantForm;
  /** Levels of the Q16 form (127 for int8, 2047 for int12); Q8's weights have 127 and its activations 63. */
  qmax: number;
}

/**
 * One quantized matrix as a file holds it (src/quantized-file.ts): a PyTorch matrix's G*R rows of C integers,
 * row-major, unpadded (int8 values, or int12 in int16), and one float32 scale per row: W[n, k] ≈ q[n*C + k] * scale[n].
 */
export interface QuantMatrixData {
  /** (rows, C) integers, row-major: Int8Array for int8 (or Q8), Int16Array for int12 (or Q16's int8). */
  q: Int8Array | Int16Array;
  /** (rows) float32 scales, one per row. */
  scale: Float32Array;
}

/** Layer l, direction d's quantized weights: W_ih in its column blocks (one per direction of the layer below), float biases. */
export interface QuantRunData {
  /** weight_ih, split by columns: one block for layer 0, one per direction of the layer below for deeper layers. */
  wih: QuantMatrixData[];
  /** weight_hh. */
  whh: QuantMatrixData;
  /** weight_hr (an LSTM with projection), else null. */
  whr: QuantMatrixData | null;
  /** bias_ih (G*H float32), or null without bias. */
  bih: Float32Array | null;
  /** bias_hh (G*H float32), or null without bias. */
  bhh: Float32Array | null;
}

/** A quantized model's weights, [layer][direction]: what an engine is built from when a file gives them, and what it saves. */
export type QuantWeights = QuantRunData[][];

/** Float32 parameters by PyTorch name (quantize() quantizes them), or weights already quantized (a file's). */
export type QuantSource = Record<string, Float32Array> | QuantWeights;

/** What a quantized layer needs from its backend. */
export interface QuantEngine {
  /**
   * x (T,B,I) time-major; h0 (L*D,B,P), c0 (L*D,B,H) or null for zeros; results as Engine's, and `into` as there
   * (written and returned by the wasm engine, left to the caller by the reference).
   */
  forward(x: Float32Array, T: number, B: number, h0: Float32Array | null, c0: Float32Array | null,
    lengths: Int32Array | null, into?: EngineOut): EngineResult;
  /** The form it runs. */
  readonly choice: QuantChoice;
  /** Bytes of wasm memory the weights hold (0 on the reference backend). */
  readonly weightBytes: number;
  /** The quantized weights as they are held: the integers and scales (unpadded), biases. */
  weights(): QuantWeights;
  dispose(): void;
}

/** The integers a file's matrix holds as they are: its packed order (a version-2 file's) or its row-major q (version 1). */
function fileIntegers(m: QuantMatrixData): Int8Array | Int16Array {
  return (m as Partial<FileOrderMatrix>).packed ?? m.q;
}

/** Matrix data's integers as the form holds them: int16 for Q16, int8 for Q8 (a file's int12 cannot run as Q8). */
function formIntegers(q: Int8Array | Int16Array, form: QuantForm): Int8Array | Int16Array {
  if (form === "q16") return q instanceof Int16Array ? q : Int16Array.from(q);
  return q instanceof Int8Array ? q : Int8Array.from(q);
}

/** Layer l, direction d's float tensors, by role: weight_ih split into its column blocks as quantModelLayout splits it. */
function runTensors(spec: Spec, params: Record<string, Float32Array>, l: number, d: number) {
  const name = (role: string) => role + paramSuffix(spec, l, d);
  const G = gateCount(spec.kind), H = spec.hiddenSize, P = outputSize(spec), D = directions(spec);
  const wih = params[name("weight_ih")];
  const blocks = l === 0 ? [wih] : Array.from({ length: D }, (_, e) => columns(wih, G * H, D * P, e * P, P));
  return {
    wih: blocks,
    whh: params[name("weight_hh")],
    whr: spec.projSize > 0 ? params[name("weight_hr")] : null,
    bih: spec.bias ? params[name("bias_ih")] : null,
    bhh: spec.bias ? params[name("bias_hh")] : null,
    layerI: l === 0 ? layerInputSize(spec, 0) : P,
  };
}

/** Columns c0..c0+n-1 of a (rows, C) matrix. */
function columns(w: Float32Array, rows: number, C: number, c0: number, n: number): Float32Array {
  const out = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) out.set(w.subarray(r * C + c0, r * C + c0 + n), r * n);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// The form: chosen once per runtime

const choices = new WeakMap<Runtime, boolean>();
/** How long relaxedQ8Wins times the two products: long enough for V8 to have optimized both. */
const TIMING_MS = 15;
/**
 * Q8 is chosen when its best time is below this fraction of Q16's. This CPU's ratio is 0.64 with AVX-VNNI and 0.94
 * with V8's --no-enable-avx-vnni (200-call batches, stable to 0.003 over three processes each), and the workloads ran
 * 3-5% faster in Q8 there too; the issue's probe had Q8 at 1.46x Q16's time on a CPU without AVX-VNNI. A margin of 3%
 * takes Q8 wherever it is measurably faster and keeps a tie (where a wrong pick costs little) with Q16.
 */
const Q8_MARGIN = 0.97;
/** How far the timing stretches while Q16 still leads (see q8Faster). */
const TIMING_MAX_MS = 45;
/** Rounds after which a clock that has not moved is taken as frozen (each round is 8 products of 256 x 256: well over 100 µs). */
const FROZEN_ROUNDS = 8;

/** V8's major version where the host says it (Node, Deno, Bun say; browsers and workerd do not): null if unknown. */
function v8Major(): number | null {
  const v = (globalThis as { process?: { versions?: { v8?: string } } }).process?.versions?.v8;
  return v ? Number(v.split(".")[0]) : null;
}

/**
 * Whether `rt` should run int8 in the Q8 form: only the relaxed build (the others compute Q8 without the relaxed
 * dot-add, slower than Q16), never on V8 < 12 (V8 11.3, Node 20, computes the relaxed dot-add wrongly until the
 * function tiers up), and only if a first call of gemmQ8 on a small product gives the mirror's bits (which catches that
 * bug where the engine's version is unknown: it shows on the first call) and Q8 then times faster than Q16 on a
 * 256 x 256 matrix-vector product once both are warm, by Q8_MARGIN (by far with AVX-VNNI; by a few percent without it
 * on this AMD EPYC; the issue measured it slower on another CPU without it), or the clock cannot tell. Decided once
 * per runtime, the first time int8 is asked for there, in about 20 ms (up to 50 where Q16 leads: see q8Faster).
 */
export function relaxedQ8Wins(rt: Runtime): boolean {
  const known = choices.get(rt);
  if (known !== undefined) return known;
  const major = v8Major();
  const wins = rt.build === "relaxed" && (major === null || major >= 12) && q8SelfCheck(rt) && q8Faster(rt);
  choices.set(rt, wins);
  return wins;
}

/** A deterministic small matrix and vector. */
function probeValues(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) | 0;
    out[i] = ((s >>> 8) / 2 ** 24) * 2 - 1;
  }
  return out;
}

/** gemmQ8 (this build's) on a 1 x 40 by 40 x 16 product against the mirror's bits. */
export function q8SelfCheck(rt: Runtime): boolean {
  const K = 40, N = 16;
  const W = probeValues(N * K, 7), x = probeValues(K, 11);
  const L = quantMatrixLayout("q8", 1, N, K);
  const ldq = quantRowStride("q8", K);
  const bytes = L.totalBytes + K * 4 + ldq + 16 + N * 4 + 64;
  const base = rt.alloc(bytes, "the Q8 self-check");
  try {
    const wPtr = base, xPtr = base + L.totalBytes, aqPtr = xPtr + K * 4, saPtr = aqPtr + ldq, outPtr = saPtr + 16;
    const srcPtr = rt.alloc(N * K * 4, "the Q8 self-check");
    try {
      rt.f32(srcPtr, N * K).set(W);
      rt.kernels.packQ8(wPtr + L.weights, wPtr + L.scales, wPtr + L.corr, srcPtr, 1, N, K);
    } finally {
      rt.free(srcPtr);
    }
    rt.f32(xPtr, K).set(x);
    const k = rt.kernels;
    k.quantizeQ8(aqPtr, ldq, saPtr, xPtr, K, 1, K);
    k.gemmQ8(outPtr, N, aqPtr, ldq, saPtr, wPtr + L.weights, L.panelStride, wPtr + L.scales, wPtr + L.corr, 0, 1, K, N, 0);
    const got = rt.f32(outPtr, N).slice();
    const q = new Int8Array(N * K), sw = new Float32Array(N);
    quantizeRows(q, K, sw, W, K, N, K, QMAX_INT8);
    const aq = new Uint8Array(K), sa = new Float32Array(1);
    refQuantizeQ8(aq, K, sa, x, K, 1, K);
    const want = new Float32Array(N);
    refGemmQ8(want, N, aq, K, sa, q, K, sw, null, 1, K, N, false);
    return got.every((v, i) => Object.is(v, want[i]));
  } finally {
    rt.free(base);
  }
}

/**
 * Times gemmQ16 and gemmQ8 on a 256 x 256 matrix-vector product after a warm-up: whether Q8 is faster by Q8_MARGIN or more
 * (best of rounds); true where the clock cannot time the products (frozen while code runs, or coarser than they are).
 *
 * @internal exported for its tests
 */
export function q8Faster(rt: Runtime): boolean {
  const now = (globalThis as { performance?: { now(): number } }).performance;
  if (!now) return true;
  const K = 256, G = 4, R = 64;
  const q16 = quantMatrixLayout("q16", G, R, K), q8 = quantMatrixLayout("q8", G, R, K);
  const N = q16.N;
  const ptrs: number[] = [];
  const take = (bytes: number) => {
    const p = rt.alloc(bytes, "the Q8 timing");
    ptrs.push(p);
    return p;
  };
  try {
    // The integer weights are whatever the blocks hold (an integer product's speed does not depend on its values;
    // making and packing 65,536 values ran a third of the choice's time in cold code, JavaScript's and wasm's first
    // tiers); the scales and corrections are set, so no float the products compute is a slow subnormal
    const w16 = take(q16.totalBytes), w8 = take(q8.totalBytes);
    rt.f32(w16 + q16.scales, N).fill(1 / 1024);
    rt.f32(w8 + q8.scales, N).fill(1 / 1024);
    new Int32Array(rt.kernels.memory.buffer, w8 + q8.corr, N).fill(0);
    const k = rt.kernels;
    const x = take(K * 4), a16 = take(quantRowStride("q16", K) * 2), a8 = take(quantRowStride("q8", K)), sa = take(16);
    const out = take(N * 4);
    rt.f32(x, K).set(probeValues(K, 5));
    const run16 = () => {
      k.quantizeQ16(a16, quantRowStride("q16", K), sa, x, K, 1, K, QMAX_INT8);
      k.gemmQ16(out, N, a16, quantRowStride("q16", K), sa, w16 + q16.weights, q16.panelStride, w16 + q16.scales, 0, 1, K, N, 0);
    };
    const run8 = () => {
      k.quantizeQ8(a8, quantRowStride("q8", K), sa, x, K, 1, K);
      k.gemmQ8(out, N, a8, quantRowStride("q8", K), sa, w8 + q8.weights, q8.panelStride, w8 + q8.scales, w8 + q8.corr, 0, 1, K, N, 0);
    };
    const time = (f: () => void) => {
      const t0 = now.now();
      for (let i = 0; i < 4; i++) f();
      return now.now() - t0;
    };
    // Both run in turn for TIMING_MS, each timed in batches of 4 calls, and each keeps its best batch: V8 compiles wasm
    // with a baseline compiler first and optimizes hot functions on a background thread, so early batches may pit
    // optimized code against baseline code; over the window both reach their optimized code, and the best batch is it.
    // A clock that does not move while code runs (Cloudflare's Workers advance it only at I/O, against timing attacks)
    // cannot time anything: after FROZEN_ROUNDS rounds without a tick, Q8. Where the clock cannot decide, Q8 is the
    // better bet: on this AMD EPYC it ran the workloads 1.5-1.9x faster than Q16 with AVX-VNNI and 1.0-1.1x faster
    // without (V8's --no-enable-avx-vnni, docs/benchmarks.md); the issue's probe, on another CPU without AVX-VNNI,
    // had it up to 1.46x slower. Q8's self-check has passed by then (relaxedQ8Wins).
    // When Q16 still leads at the end of the window, the window is stretched up to TIMING_MAX_MS: on a busy machine
    // V8's background compiler may not have optimized gemmQ8 yet (2-3 of 20 cold processes picked Q16 on this AVX-VNNI
    // CPU under load, and every later int8 call then ran ~1.9x slower); a CPU where Q16 is truly faster pays the rest
    // of the stretch once, on its first int8 model.
    let best16 = Infinity, best8 = Infinity;
    const start = now.now(), end = start + TIMING_MS, last = start + TIMING_MAX_MS;
    for (let round = 1; ; round++) {
      best16 = Math.min(best16, time(run16));
      best8 = Math.min(best8, time(run8));
      if (round === FROZEN_ROUNDS && now.now() === start) return true;
      const t = now.now();
      if (t >= end && (best16 === 0 || best8 === 0)) break; // a clock too coarse to see a batch: see below
      if (t >= last || (t >= end && best8 < Q8_MARGIN * best16)) break;
    }
    // A batch that reads 0 ms means a clock coarser than the products (Miniflare's workerd counts whole ms; browsers
    // coarsen theirs too): nothing to compare, so Q8, as on a frozen clock
    return best16 === 0 || best8 === 0 || best8 < Q8_MARGIN * best16;
  } finally {
    for (const p of ptrs) rt.free(p);
  }
}

/** The form and levels for `dtype` on `rt` (null: the reference backend, which runs Q16 unless told). */
export function chooseQuantForm(dtype: QuantDtype, rt: Runtime | null, form: "auto" | QuantForm): QuantChoice {
  if (dtype === "int12") return { form: "q16", qmax: QMAX_INT12 };
  if (form !== "auto") return { form, qmax: QMAX_INT8 };
  return { form: rt && relaxedQ8Wins(rt) ? "q8" : "q16", qmax: QMAX_INT8 };
}

// ---------------------------------------------------------------------------------------------------------
// Wasm

/** A file's integer outside its dtype's range, found while packing (loadQuantized says which tensor and where). */
export class QuantRangeError extends Error {
  constructor(readonly value: number) {
    super(`a quantized weight holds ${value}, outside its dtype's range`);
  }
}

export class WasmQuantEngine implements QuantEngine {
  readonly choice: QuantChoice;
  private readonly rt: Runtime;
  private readonly spec: Spec;
  private readonly dims: ModelDims;
  private readonly layout: QuantModelLayout;
  private readonly blocks: Blocks;
  private readonly modelPtr: number;
  private readonly scratch: Workspace; // layout.ts's inference workspace
  private readonly qscratch: Workspace; // quantScratchLayout
  private last: { T: number; B: number; ws: ForwardWorkspace } | null = null;

  constructor(rt: Runtime, spec: Spec, source: QuantSource, choice: QuantChoice, what: string) {
    this.rt = rt;
    this.spec = spec;
    this.choice = choice;
    this.dims = modelDims(spec);
    this.layout = quantModelLayout(spec, choice.form);
    this.blocks = new Blocks(rt, this, what);
    this.scratch = new Workspace(this.blocks, "the workspace");
    this.qscratch = new Workspace(this.blocks, "the quantized activations");
    try {
      this.modelPtr = this.blocks.alloc(this.layout.totalBytes, "the quantized weights");
      if (Array.isArray(source)) this.packQuantized(source);
      else this.pack(source);
    } catch (e) {
      this.blocks.freeAll();
      throw e;
    }
  }

  get weightBytes(): number {
    return this.rt.blockBytes(this.modelPtr);
  }

  /** Quantizes and packs every matrix into the model block (through one scratch block), and writes the biases. */
  private pack(params: Record<string, Float32Array>): void {
    const { G, H, Hp } = { G: gateCount(this.spec.kind), H: this.spec.hiddenSize, Hp: this.dims.Hp };
    let largest = 0;
    for (const runs of this.layout.runs) for (const r of runs) {
      for (const m of [...r.wih, r.whh, ...(r.whr ? [r.whr] : [])]) largest = Math.max(largest, m.N * m.K);
    }
    const srcPtr = this.blocks.alloc(largest * 4, "the packing scratch");
    try {
      this.layout.runs.forEach((runs, l) => runs.forEach((r, d) => {
        const t = runTensors(this.spec, params, l, d);
        r.wih.forEach((m, e) => this.packMatrix(m, srcPtr, t.wih[e], G, H, t.layerI));
        this.packMatrix(r.whh, srcPtr, t.whh, G, H, this.dims.P);
        if (r.whr) this.packMatrix(r.whr, srcPtr, t.whr!, 1, this.dims.P, H);
        if (t.bih) this.putBias(r.bih, t.bih, G, H, Hp);
        if (t.bhh) this.putBias(r.bhh, t.bhh, G, H, Hp);
      }));
    } finally {
      this.blocks.free(srcPtr);
    }
  }

  /**
   * Puts weights already quantized (a file's) into the model block as they are: no float pass, no rounding. A matrix
   * in the packed order (a version-2 file: FileOrderMatrix) goes straight in: one typed-array copy into the Q16 form
   * (int8 widened to int16 in place by widenI8), or a copy into a scratch block that pairsToQ8 reorders into the Q8 form; a
   * row-major one (version 1) is copied into the scratch block and packed (and range-checked) by packIntQ16 /
   * packIntQ8. Scales go in from here. An integer outside the dtype's range throws QuantRangeError (loadQuantized
   * names the tensor).
   */
  private packQuantized(weights: QuantWeights): void {
    const { G, H, Hp, P } = { G: gateCount(this.spec.kind), H: this.spec.hiddenSize, Hp: this.dims.Hp, P: this.dims.P };
    let largest = 0;
    for (const runs of weights) for (const w of runs) {
      for (const m of [...w.wih, w.whh, ...(w.whr ? [w.whr] : [])]) largest = Math.max(largest, fileIntegers(m).byteLength);
    }
    // the scratch block only where a matrix needs one (none when a file's packed order runs as Q16)
    let srcPtr = 0;
    const scratch = () => (srcPtr ||= this.blocks.alloc(Math.max(largest, 16), "the packing scratch"));
    try {
      this.layout.runs.forEach((runs, l) => runs.forEach((r, d) => {
        const w = weights[l][d];
        const layerI = l === 0 ? layerInputSize(this.spec, 0) : P;
        r.wih.forEach((m, e) => this.packIntegers(m, scratch, w.wih[e], G, H, layerI));
        this.packIntegers(r.whh, scratch, w.whh, G, H, P);
        if (r.whr) this.packIntegers(r.whr, scratch, w.whr!, 1, P, H);
        if (w.bih) this.putBias(r.bih, w.bih, G, H, Hp);
        if (w.bhh) this.putBias(r.bhh, w.bhh, G, H, Hp);
      }));
    } finally {
      if (srcPtr) this.blocks.free(srcPtr);
    }
  }

  /** One matrix of a file's integers (G*R rows of C) into its place m (through the scratch block where needed), scales padded per gate block. */
  private packIntegers(m: PlacedQuantMatrix, scratch: () => number, data: QuantMatrixData, G: number, R: number, C: number): void {
    const base = this.modelPtr + m.offset;
    const integers = fileIntegers(data);
    if (m.form === "q8" && !(integers instanceof Int8Array)) throw new RnnError("unexpected", "int12 weights cannot run in the Q8 form");
    const packed = (data as Partial<FileOrderMatrix>).packed;
    if (packed) this.copyPacked(m, scratch, packed);
    else {
      const q = data.q, k = this.rt.kernels, srcPtr = scratch();
      new Uint8Array(k.memory.buffer).set(new Uint8Array(q.buffer, q.byteOffset, q.byteLength), srcPtr);
      const bad = m.form === "q16"
        ? k.packIntQ16(base + m.weights, srcPtr, q.BYTES_PER_ELEMENT, G, R, C, this.choice.qmax)
        : k.packIntQ8(base + m.weights, base + m.corr, srcPtr, G, R, C);
      if (bad >= 0) throw new QuantRangeError(q[bad]);
    }
    const Rp = roundUp4(R);
    const sw = this.rt.f32(base + m.scales, roundUp8(m.N));
    sw.fill(0);
    for (let g = 0; g < G; g++) sw.set(data.scale.subarray(g * R, (g + 1) * R), g * Rp);
  }

  /** A matrix in the file's packed order (the Q16 order, padding included) into its place m, range-checked. */
  private copyPacked(m: PlacedQuantMatrix, scratch: () => number, packed: Int8Array | Int16Array): void {
    const base = this.modelPtr + m.offset, k = this.rt.kernels, qmax = this.choice.qmax;
    // int8's one value beyond ±127 is -128: one native search; int16 (int12) is checked in wasm after the copy
    const bad = packed instanceof Int8Array ? packed.indexOf(-128) : -1;
    if (bad >= 0) throw new QuantRangeError(-128);
    if (m.form === "q16" && packed instanceof Int8Array) {
      // a byte copy into the upper half of the weights' place, widened in wasm (V8's Int8Array -> Int16Array set is
      // an element at a time: about 7 ms for the W-seq model on a cold start)
      new Int8Array(k.memory.buffer, base + m.weights + packed.length, packed.length).set(packed);
      k.widenI8(base + m.weights, packed.length);
    } else if (m.form === "q16") {
      new Int16Array(k.memory.buffer, base + m.weights, packed.length).set(packed);
      const out = k.rangeQ16(base + m.weights, packed.length, qmax);
      if (out >= 0) throw new QuantRangeError(packed[out]);
    } else {
      const srcPtr = scratch();
      new Int8Array(k.memory.buffer, srcPtr, packed.length).set(packed);
      k.pairsToQ8(base + m.weights, base + m.corr, srcPtr, roundUp8(m.N), m.K);
    }
  }

  weights(): QuantWeights {
    const { G, H, Hp, P } = { G: gateCount(this.spec.kind), H: this.spec.hiddenSize, Hp: this.dims.Hp, P: this.dims.P };
    const buffer = this.rt.kernels.memory.buffer;
    const get = (m: PlacedQuantMatrix, g: number, r: number, c: number) =>
      unpackQuantized(new Uint8Array(buffer, this.modelPtr + m.offset, m.totalBytes), m.form, g, r, c);
    const bias = (offset: number) => {
      if (offset < 0) return null;
      const src = this.rt.f32(this.modelPtr + offset, G * Hp), out = new Float32Array(G * H);
      for (let g = 0; g < G; g++) out.set(src.subarray(g * Hp, g * Hp + H), g * H);
      return out;
    };
    return this.layout.runs.map((runs, l) => runs.map((r) => ({
      wih: r.wih.map((m) => get(m, G, H, l === 0 ? layerInputSize(this.spec, 0) : P)),
      whh: get(r.whh, G, H, P),
      whr: r.whr ? get(r.whr, 1, P, H) : null,
      bih: bias(r.bih),
      bhh: bias(r.bhh),
    })));
  }

  private packMatrix(m: PlacedQuantMatrix, srcPtr: number, src: Float32Array, G: number, R: number, C: number): void {
    const base = this.modelPtr + m.offset;
    this.rt.f32(srcPtr, G * R * C).set(src);
    if (m.form === "q16") this.rt.kernels.packQ16(base + m.weights, base + m.scales, srcPtr, G, R, C, this.choice.qmax);
    else this.rt.kernels.packQ8(base + m.weights, base + m.scales, base + m.corr, srcPtr, G, R, C);
  }

  private putBias(offset: number, b: Float32Array, G: number, H: number, Hp: number): void {
    const dst = this.rt.f32(this.modelPtr + offset, G * Hp);
    dst.fill(0);
    for (let g = 0; g < G; g++) dst.set(b.subarray(g * H, (g + 1) * H), g * Hp);
  }

  forward(x: Float32Array, T: number, B: number, h0: Float32Array | null, c0: Float32Array | null,
    lengths: Int32Array | null, into?: EngineOut): EngineResult {
    if (!this.last || this.last.T !== T || this.last.B !== B) this.last = { T, B, ws: workspaceLayout(this.spec, T, B) };
    const ws = this.last.ws;
    const qs = quantScratchLayout(this.spec, this.choice.form, ws.chunk, B);
    const qFloats = Math.ceil(qs.totalBytes / 4);
    const wsPtr = this.scratch.fits(ws.totalFloats) ||
      this.scratch.get(ws.totalFloats, () => `the inference workspace for T = ${T}, B = ${B}`);
    const qPtr = this.qscratch.fits(qFloats) || this.qscratch.get(qFloats, () => `the quantized activations for B = ${B}`);
    const { D, L, H, P, Pp } = this.dims;
    const lstm = this.spec.kind === "lstm";
    const [output, hN, cAll] = into ? [into.output, into.hN, into.cN] : carve([T * B * D * P, L * D * B * P, lstm ? L * D * B * H : 0]);
    const cN = lstm ? cAll : null;
    const lengthsPtr = lengths ? ptrAt(wsPtr, ws.lengths) : 0;
    for (let l = 0; l < L; l++) {
      for (let d = 0; d < D; d++) this.runDirection(ws, wsPtr, qPtr, qs, x, T, B, l, d, h0, c0, hN, cN, lengths, lengthsPtr);
    }
    for (let d = 0; d < D; d++) {
      const hsPtr = ptrAt(wsPtr, ws.runs[L - 1][d].hs);
      const rows = this.rt.f32(this.outputsPtr(hsPtr, d, B), T * B * Pp);
      // one direction, no padding of rows or lengths: the outputs are already the result's layout, one copy (the
      // row-by-row interleave is a few ms of a cold start, before V8 has optimized it)
      if (D === 1 && Pp === P && !lengths && !into?.batchFirst) output.set(rows);
      else interleaveOutputs(output, rows, Pp, d, D, P, T, B, lengths, into?.batchFirst);
    }
    return into ?? { output, hN, cN };
  }

  /** Byte address of direction d's T*B output rows in its states at hsPtr. */
  private outputsPtr(hsPtr: number, d: number, B: number): number {
    return ptrAt(hsPtr, stepOffset(firstOutputSlot(d), B, this.dims.Pp));
  }

  /** Layer l, direction d over all T steps, a chunk of steps at a time (src/wasm-direction.ts forwardDirection). */
  private runDirection(ws: ForwardWorkspace, wsPtr: number, qPtr: number, qs: ReturnType<typeof quantScratchLayout>,
    x: Float32Array, T: number, B: number, l: number, d: number, h0: Float32Array | null, c0: Float32Array | null,
    hN: Float32Array, cN: Float32Array | null, lengths: Int32Array | null, lengthsPtr: number): void {
    const rt = this.rt, k = rt.kernels;
    const { D, H, Hp, P, Pp, GHp, I } = this.dims;
    const { form, qmax } = this.choice;
    const s = stateIndex(l, d, D);
    const r = this.layout.runs[l][d];
    const run = ws.runs[l][d];
    const hsPtr = ptrAt(wsPtr, run.hs), csPtr = ptrAt(wsPtr, run.cs), gatesPtr = ptrAt(wsPtr, run.gates);
    const xzPtr = ptrAt(wsPtr, ws.xz);
    const aqIn = qPtr + qs.aqIn, saIn = qPtr + qs.saIn, aqH = qPtr + qs.aqH, saH = qPtr + qs.saH;
    const bihPtr = r.bih < 0 ? 0 : this.modelPtr + r.bih;
    const bhhPtr = r.bhh < 0 ? 0 : this.modelPtr + r.bhh;
    const whh = this.mat(r.whh), whr = r.whr ? this.mat(r.whr) : { w: 0, sw: 0, corr: 0 };
    writeRows(rt.heap(), ptrAt(hsPtr, stepOffset(firstSlot(d, T), B, Pp)), h0, s * B * P, B, P, Pp);
    let cLastPtr = 0;
    const chunks = chunksOf(T, ws.chunk, d === 1);
    for (let i = 0; i < chunks.length; i++) {
      const { t0, n } = chunks[i];
      const cFirstPtr = ptrAt(csPtr, stepOffset(firstSlot(d, n), B, Hp));
      if (this.spec.kind === "lstm") {
        if (i === 0) writeRows(rt.heap(), cFirstPtr, c0, s * B * H, B, H, Hp);
        else rt.heap().copyWithin(heapIndex(cFirstPtr), heapIndex(cLastPtr), heapIndex(cLastPtr) + B * Hp);
      }
      // xz = input W_ihᵀ + b_ih for the chunk's n*B rows, one quantized product per column block of W_ih
      const M = n * B;
      if (l === 0) {
        const xPtr = ptrAt(wsPtr, ws.x);
        rt.f32(xPtr, M * I).set(x.subarray(stepOffset(t0, B, I), stepOffset(t0 + n, B, I)));
        this.quantize(aqIn, saIn, xPtr, I, M, I);
        this.product(xzPtr, GHp, aqIn, saIn, r.wih[0], bihPtr, M, I, 0);
      } else {
        for (let e = 0; e < D; e++) {
          const belowPtr = ptrAt(this.outputsPtr(ptrAt(wsPtr, ws.runs[l - 1][e].hs), e, B), stepOffset(t0, B, Pp));
          this.quantize(aqIn, saIn, belowPtr, Pp, M, P);
          this.product(xzPtr, GHp, aqIn, saIn, r.wih[e], e === 0 ? bihPtr : 0, M, P, e);
        }
      }
      if (lengths) {
        const shifted = new Int32Array(k.memory.buffer, lengthsPtr, B);
        for (let b = 0; b < B; b++) shifted[b] = lengths[b] - t0;
      }
      const hsChunkPtr = ptrAt(hsPtr, stepOffset(t0, B, Pp));
      if (this.spec.kind === "lstm") {
        if (form === "q16") {
          k.lstmForwardQ16(hsChunkPtr, csPtr, gatesPtr, xzPtr, whh.w, whh.sw, bhhPtr, whr.w, whr.sw, aqH, saH, n, B, H, P, d, 0, lengthsPtr, qmax);
        } else {
          k.lstmForwardQ8(hsChunkPtr, csPtr, gatesPtr, xzPtr, whh.w, whh.sw, whh.corr, bhhPtr, whr.w, whr.sw, whr.corr, aqH, saH, n, B, H, P, d, 0, lengthsPtr);
        }
      } else if (this.spec.kind === "gru") {
        const ra = this.spec.resetAfter ? 1 : 0;
        if (form === "q16") k.gruForwardQ16(hsChunkPtr, gatesPtr, xzPtr, whh.w, whh.sw, bhhPtr, aqH, saH, n, B, H, ra, d, 0, lengthsPtr, qmax);
        else k.gruForwardQ8(hsChunkPtr, gatesPtr, xzPtr, whh.w, whh.sw, whh.corr, bhhPtr, aqH, saH, n, B, H, ra, d, 0, lengthsPtr);
      } else {
        const relu = this.spec.nonlinearity === "relu" ? 1 : 0;
        if (form === "q16") k.rnnForwardQ16(hsChunkPtr, xzPtr, whh.w, whh.sw, bhhPtr, aqH, saH, n, B, H, relu, d, lengthsPtr, qmax);
        else k.rnnForwardQ8(hsChunkPtr, xzPtr, whh.w, whh.sw, whh.corr, bhhPtr, aqH, saH, n, B, H, relu, d, lengthsPtr);
      }
      cLastPtr = ptrAt(csPtr, stepOffset(lastSlot(d, n), B, Hp));
    }
    if (cN) readRows(cN, s * B * H, rt.heap(), cLastPtr, B, H, Hp);
    readRows(hN, s * B * P, rt.heap(), ptrAt(hsPtr, stepOffset(lastSlot(d, T), B, Pp)), B, P, Pp);
  }

  /** A matrix's three pointers. */
  private mat(m: PlacedQuantMatrix): { w: number; sw: number; corr: number } {
    const base = this.modelPtr + m.offset;
    return { w: base + m.weights, sw: base + m.scales, corr: m.corr < 0 ? 0 : base + m.corr };
  }

  /** M rows of K floats (row stride ldx) quantized into aq (the form's row stride), sa. */
  private quantize(aq: number, sa: number, xPtr: number, ldx: number, M: number, K: number): void {
    const { form, qmax } = this.choice;
    if (form === "q16") this.rt.kernels.quantizeQ16(aq, quantRowStride(form, K), sa, xPtr, ldx, M, K, qmax);
    else this.rt.kernels.quantizeQ8(aq, quantRowStride(form, K), sa, xPtr, ldx, M, K);
  }

  /** out (M, m.N) (+)= the quantized product of aq, sa (K inputs) and matrix m, plus bias (0 for none). */
  private product(out: number, ldo: number, aq: number, sa: number, m: PlacedQuantMatrix, bias: number, M: number,
    K: number, accumulate: number): void {
    const p = this.mat(m);
    const lda = quantRowStride(m.form, K);
    if (m.form === "q16") this.rt.kernels.gemmQ16(out, ldo, aq, lda, sa, p.w, m.panelStride, p.sw, bias, M, K, m.N, accumulate);
    else this.rt.kernels.gemmQ8(out, ldo, aq, lda, sa, p.w, m.panelStride, p.sw, p.corr, bias, M, K, m.N, accumulate);
  }

  dispose(): void {
    this.blocks.freeAll();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Reference

export class ReferenceQuantEngine implements QuantEngine {
  readonly choice: QuantChoice;
  readonly weightBytes = 0;
  private readonly spec: Spec;
  private runs: QuantRun[][];

  constructor(spec: Spec, source: QuantSource, choice: QuantChoice) {
    this.spec = spec;
    this.choice = choice;
    if (Array.isArray(source)) {
      const held = (m: QuantMatrixData): QuantMatrix => ({ form: choice.form, q: formIntegers(m.q, choice.form).slice(), scale: m.scale.slice(), qmax: choice.qmax });
      this.runs = source.map((runs) => runs.map((w) => ({
        wih: w.wih.map(held),
        whh: held(w.whh),
        whr: w.whr ? held(w.whr) : null,
        bih: w.bih && w.bih.slice(),
        bhh: w.bhh && w.bhh.slice(),
      })));
      return;
    }
    const params = source;
    const G = gateCount(spec.kind), H = spec.hiddenSize, P = outputSize(spec);
    const quant = (W: Float32Array, N: number, K: number): QuantMatrix => {
      const q = choice.form === "q16" ? new Int16Array(N * K) : new Int8Array(N * K);
      const scale = new Float32Array(N);
      quantizeRows(q, K, scale, W, K, N, K, choice.form === "q16" ? choice.qmax : QMAX_INT8);
      return { form: choice.form, q, scale, qmax: choice.qmax };
    };
    this.runs = Array.from({ length: spec.numLayers }, (_, l) => Array.from({ length: directions(spec) }, (_, d) => {
      const t = runTensors(spec, params, l, d);
      return {
        wih: t.wih.map((w) => quant(w, G * H, t.layerI)),
        whh: quant(t.whh, G * H, P),
        whr: t.whr ? quant(t.whr, P, H) : null,
        bih: t.bih && t.bih.slice(),
        bhh: t.bhh && t.bhh.slice(),
      };
    }));
  }

  weights(): QuantWeights {
    const copy = (m: QuantMatrix): QuantMatrixData => ({ q: m.q.slice(), scale: m.scale.slice() });
    return this.runs.map((runs) => runs.map((r) => ({
      wih: r.wih.map(copy),
      whh: copy(r.whh),
      whr: r.whr ? copy(r.whr) : null,
      bih: r.bih && r.bih.slice(),
      bhh: r.bhh && r.bhh.slice(),
    })));
  }

  forward(x: Float32Array, T: number, B: number, h0: Float32Array | null, c0: Float32Array | null,
    lengths: Int32Array | null): EngineResult {
    return quantizedForward(this.spec, this.runs, x, h0, c0, T, B, lengths);
  }

  dispose(): void {
    this.runs = [];
  }
}
