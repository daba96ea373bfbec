// test/kernels/cell-scaffold.ts: the frame lstm.test.ts, gru.test.ts and rnn.test.ts share. Each checks one cell's
// forward and backward kernels against src/reference/ on every build, the same way (lstm.test.ts's header says why);
// what differs, and stays in the cell's file, is its maths: the gates it keeps, its one-step error bounds, its tape.
//   - a case: dims (H up to 37, so SIMD tails and padding lanes occur), flags (reverse, biases, variable lengths), a
//     recurrent weight scale and an input scale, and one seed for the values (cellCaseArb);
//   - its data (cellData): the input projection xz = x W_ihᵀ + b_ih rounded to f32 (the engine's gemm), W_hh, b_hh,
//     h0, the gradients that arrive from above, and sequence lengths;
//   - the kernel's inputs in wasm memory, padded and packed as src/layout.ts does (putInputs), and W_hhᵀ made by
//     the build's own packTransposed, as the engine makes it (WasmScope.transposed);
//   - the order in which the kernel takes its steps, forward and backward, so the first failure names the step;
//   - the checks every state buffer passes (padding lanes 0, the initial slot untouched) and the backward pass's
//     per-step comparison;
//   - the suite: the property, the edge cases, and that no block stays allocated (describeCellKernels).
import { afterAll, beforeAll, describe, it } from "vitest";
import fc from "fast-check";
import { gemm as refGemm } from "../../src/reference/gemm.js";
import { ErrorLog, expectClose, expectSameBits, maxAbs } from "../helpers/compare.js";
import { randomF32, randomLengths, rng, type Rng } from "../helpers/random.js";
import {
  BUILDS, expectZeroPadding, loadRuntimes, packed, padBlocks, roundUp4, unpadBlocks, type Runtimes, type WasmScope,
} from "./harness.js";

// Recurrent weight scales: "init" is PyTorch's U(+-1/sqrt(fan_in)), "init2" twice that; "unit" (U(+-1)) and
// "big" (U(+-3)) give pre-activations of +-20 and more, saturated gates and, with a projection, a chaotic
// recurrence, so only the step-by-step comparison applies to them.
export type Weights = "init" | "init2" | "unit" | "big";
export const weightScale = (w: Weights, fanIn: number) =>
  w === "init" ? 1 / Math.sqrt(fanIn) : w === "init2" ? 2 / Math.sqrt(fanIn) : w === "unit" ? 1 : 3;

/** Whether the float64 run of the whole sequence is a fair oracle: PyTorch-scale recurrent weights. */
export const wholeSequence = (c: CellCase) => c.weights === "init" || c.weights === "init2";

/** What every cell's case holds; each cell adds its own flags. */
export interface CellCase {
  H: number;
  I: number;
  B: number;
  T: number;
  reverse: boolean;
  bias: boolean;
  weights: Weights;
  xScale: number;   // x is U(+-xScale) and W_ih U(+-1/sqrt(I)): xScale 16 gives |xz| up to ~40
  lengths: boolean; // a length in 0..T per row (the kernels' variable-length batches), or all T
  seed: number;
}

/** Cases with H 1..37, I 1..23, B 1..6, T 1..9, every flag both ways, and the cell's own fields (which may depend on H). */
export function cellCaseArb<E extends object>(extra: (H: number) => { [K in keyof E]: fc.Arbitrary<E[K]> }): fc.Arbitrary<CellCase & E> {
  return fc.integer({ min: 1, max: 37 }).chain((H) => fc.record({
    H: fc.constant(H),
    I: fc.integer({ min: 1, max: 23 }),
    B: fc.integer({ min: 1, max: 6 }),
    T: fc.integer({ min: 1, max: 9 }),
    reverse: fc.boolean(),
    bias: fc.boolean(),
    weights: fc.constantFrom<Weights>("init", "init2", "unit", "big"),
    xScale: fc.constantFrom(1, 4, 16),
    lengths: fc.boolean(),
    seed: fc.integer(),
    ...extra(H),
  }) as fc.Arbitrary<CellCase & E>);
}

/** A case's values, in PyTorch's unpadded layouts; G gate blocks of H, a state of width P. */
export interface CellData {
  G: number;
  P: number;
  xz: Float32Array;         // (T,B,G*H) = x W_ihᵀ + b_ih, rounded to f32 (the caller's gemm in the engine)
  Wh: Float32Array;         // (G*H,P) weight_hh
  bh: Float32Array | null;  // (G*H)
  h0: Float32Array;         // (B,P)
  dhs: Float32Array;        // (T,B,P) dL/dh_t from above, for the backward pass
  dhT: Float32Array;        // (B,P) dL/dh of the final state
  lengths: Int32Array | null; // (B) or null
  next: Rng;                // the case's generator, for the cell's own tensors
}

export function cellData(c: CellCase, G: number, P = c.H): CellData {
  const next = rng(c.seed);
  const { H, I, B, T } = c;
  const x = randomF32(T * B * I, next, c.xScale);
  const Wih = randomF32(G * H * I, next, 1 / Math.sqrt(I));
  const bih = c.bias ? randomF32(G * H, next, 1) : null;
  const xz = new Float32Array(T * B * G * H);
  refGemm(xz, G * H, x, I, Wih, I, bih, T * B, I, G * H, false);
  return {
    G, P, xz,
    Wh: randomF32(G * H * P, next, weightScale(c.weights, P)),
    bh: c.bias ? randomF32(G * H, next, 1) : null,
    h0: randomF32(B * P, next, 1),
    dhs: randomF32(T * B * P, next, 1),
    dhT: randomF32(B * P, next, 1),
    lengths: c.lengths ? randomLengths(B, T, next) : null,
    next,
  };
}

/** The kernel's inputs in wasm memory: xz and b_hh padded to G blocks of roundUp4(H), W_hh packed, lengths (0 for none). */
export function putInputs(w: WasmScope, c: CellCase, d: CellData): { xz: number; Wh: number; bh: number; lengths: number } {
  const { H, B, T } = c;
  return {
    xz: w.put(padBlocks(d.xz, T * B, d.G, H), "xz"),
    Wh: w.put(packed(d.Wh, d.G, H, d.P), "Wh"),
    bh: d.bh ? w.put(padBlocks(d.bh, 1, d.G, H), "bh") : 0,
    lengths: d.lengths ? w.putI32(d.lengths, "lengths") : 0,
  };
}

/** The state slot that holds h0 (and c0): 0 forward, T reverse. */
export const firstSlot = (c: CellCase) => (c.reverse ? c.T : 0);

/**
 * The forward pass's steps in the kernel's order: forward reads slot t and writes slot t+1 (t = 0..T-1); reverse
 * walks t = T-1..0, reads slot t+1 and writes slot t. `at` names the step in messages.
 */
export function forwardSteps(c: CellCase, build: string): { t: number; prev: number; next: number; at: string }[] {
  return Array.from({ length: c.T }, (_, step) => {
    const t = c.reverse ? c.T - 1 - step : step;
    const prev = c.reverse ? t + 1 : t, next = c.reverse ? t : t + 1;
    return { t, prev, next, at: `${build}, step ${step} (t=${t}, slot ${prev} -> ${next})` };
  });
}

/** Slot s of a (T+1, B, roundUp4(n)) state buffer as (B, n) float64. */
export function slot(buf: Float32Array, s: number, B: number, n: number): Float64Array {
  const np = roundUp4(n);
  return unpadBlocks(buf.subarray(s * B * np, (s + 1) * B * np), B, 1, n);
}

/** A (T+1, B, roundUp4(n)) state buffer: every padding lane exactly 0, and the initial slot holds `init`'s bits. */
export function checkStateBuffer(what: string, buf: Float32Array, init: Float32Array, c: CellCase, n: number): void {
  const { B } = c;
  const np = roundUp4(n), first = firstSlot(c);
  expectZeroPadding(what, buf, (c.T + 1) * B, 1, n, (r) => `slot ${Math.floor(r / B)} b=${r % B}`);
  expectSameBits(`${what}: initial slot ${first}`, buf.subarray(first * B * np, (first + 1) * B * np), padBlocks(init, B, 1, n));
}

/** One buffer the backward kernel writes per step: (T, B, G*roundUp4(n)) from the kernel, (T, B, G*n) from the reference. */
export interface StepGradient {
  what: string;
  kernel: Float32Array;
  ref: Float64Array;
  G: number;
  n: number;
  lanes: (i: number) => string;
}

/**
 * The backward pass against the reference's, per step in the kernel's order (t = T-1..0 forward, 0..T-1 reverse):
 * each buffer's block at t within tol * max(1, max |reference| in the block); then every padding lane is 0.
 */
export function checkBackwardSteps(name: string, c: CellCase, buffers: StepGradient[], tol: number, log: ErrorLog, key: (what: string) => string): void {
  const { B, T } = c;
  for (let step = 0; step < T; step++) {
    const t = c.reverse ? step : T - 1 - step;
    for (const g of buffers) {
      const wK = g.G * roundUp4(g.n), wR = g.G * g.n;
      const want = g.ref.subarray(t * B * wR, (t + 1) * B * wR);
      expectClose(`${name}, backward step ${step} (t=${t}): ${g.what}`, unpadBlocks(g.kernel.subarray(t * B * wK, (t + 1) * B * wK), B, g.G, g.n),
        want, tol * Math.max(1, maxAbs(want)), g.lanes, { log, key: key(g.what) });
    }
  }
  for (const g of buffers) expectZeroPadding(`${name}, backward: ${g.what}`, g.kernel, T * B, g.G, g.n, (r) => `t=${Math.floor(r / B)} b=${r % B}`);
}

/** A gradient of the initial state, (B, roundUp4(n)) from the kernel against (B, n) from the reference, and its padding. */
export function checkInitialGradient(name: string, what: string, kernel: Float32Array, ref: Float64Array, c: CellCase, n: number,
  tol: number, lanes: (i: number) => string, log: ErrorLog, key: string): void {
  expectClose(`${name}, backward: ${what}`, unpadBlocks(kernel, c.B, 1, n), ref, tol * Math.max(1, maxAbs(ref)), lanes, { log, key });
  expectZeroPadding(`${name}, backward: ${what}`, kernel, c.B, 1, n);
}

/**
 * The suite of one cell's kernels: the property over random cases, the edge cases, and that the harness left no
 * block allocated; the largest error per build and buffer is printed at the end.
 */
export function describeCellKernels<C>(title: string, reference: string, o: {
  property: string; arbitrary: fc.Arbitrary<C>; numRuns: number; seed: number;
  edges: string; edgeCases: () => C[];
  check: (rts: Runtimes, c: C, log: ErrorLog) => void;
}): void {
  describe(`${title} (wasm) vs ${reference}, all builds`, () => {
    let rts: Runtimes;
    const log = new ErrorLog();
    beforeAll(async () => {
      rts = await loadRuntimes();
    });
    afterAll(() => log.print(`${title}: largest |wasm - reference| (and error / tolerance) per build and buffer`));

    it(o.property, () => {
      fc.assert(fc.property(o.arbitrary, (c) => o.check(rts, c, log)), { numRuns: o.numRuns, seed: o.seed });
    });

    it(o.edges, () => {
      for (const c of o.edgeCases()) o.check(rts, c, log);
    });

    it("leaves no block allocated", () => {
      for (const build of BUILDS) if (rts[build].blocksInUse !== 0) throw new Error(`${build}: ${rts[build].blocksInUse} blocks in use`);
    });
  });
}
