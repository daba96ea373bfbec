// test/api/streaming.test.ts: stream() in chunks equals one forward() to the bit, and cells stepped T times equal
// a one-layer layer over T steps to the bit.
// Why bitwise and not a tolerance: both the kernels (assembly/math.ts: each output element is a sum in ascending
// k, then the bias, whatever register block its row falls in) and the reference compute every row and every
// step by the same operations in the same order whether a call holds 1 or T steps and 1 or B rows. Streaming only
// changes where a sequence is cut, so any difference at all means the state was carried wrongly.
import { describe, it, expect, beforeAll } from "vitest";
import fc from "fast-check";
import {
  fromTorch, GRUCell, LSTMCell, RNNCell, type Build, type Kind, type LayerResult, type RecurrentCell,
  type RecurrentLayer, type Runtime, type Tensor,
} from "../../src/index.js";
import {
  KINDS, asCell, caseData, caseDims, createLayer, expectRnnError, flatParams, layerCaseArb, layerOptions,
  type LayerCase,
} from "./helpers.js";
import { expectBitwise } from "../helpers/compare.js";
import { rng, randomTensor } from "../helpers/random.js";
import { TEST_BUILDS, runtimeFor } from "../helpers/runtimes.js";

type Backend = Build | "reference";
const BACKENDS: readonly Backend[] = [...TEST_BUILDS, "reference"];
const runtimes = new Map<Build, Runtime>();

beforeAll(async () => {
  for (const b of TEST_BUILDS) runtimes.set(b, await runtimeFor(b));
});

function backendOptions(backend: Backend): { backend: "wasm" | "reference"; runtime?: Runtime } {
  return backend === "reference" ? { backend: "reference" } : { backend: "wasm", runtime: runtimes.get(backend)! };
}

function layerOn(backend: Backend, c: LayerCase): RecurrentLayer {
  return createLayer(c.kind, { ...layerOptions(c), ...backendOptions(backend) });
}

/** Which axis of the input (and output) is time: 1 for batched batch-first, else 0. */
function timeAxis(c: LayerCase): number {
  return c.batched && c.batchFirst ? 1 : 0;
}

/** Steps [t0, t1) of a tensor along `axis` (0 or 1). */
function sliceTime(x: Tensor, axis: number, t0: number, t1: number): Tensor {
  const shape = [...x.shape];
  const T = shape[axis];
  const outer = axis === 0 ? 1 : shape[0];
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  shape[axis] = t1 - t0;
  const data = new Float32Array(outer * (t1 - t0) * inner);
  for (let o = 0; o < outer; o++) {
    data.set(x.data.subarray((o * T + t0) * inner, (o * T + t1) * inner), o * (t1 - t0) * inner);
  }
  return { shape, data };
}

/** The inverse of sliceTime over a list of consecutive chunks. */
function concatTime(parts: Tensor[], axis: number): Tensor {
  const shape = [...parts[0].shape];
  shape[axis] = parts.reduce((n, p) => n + p.shape[axis], 0);
  const outer = axis === 0 ? 1 : shape[0];
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  let t0 = 0;
  for (const p of parts) {
    const n = p.shape[axis];
    for (let o = 0; o < outer; o++) {
      data.set(p.data.subarray(o * n * inner, (o + 1) * n * inner), (o * shape[axis] + t0) * inner);
    }
    t0 += n;
  }
  return { shape, data };
}

/** Cuts T steps into chunks of the given lengths (the last one trimmed, more chunks of 1 if they fall short). */
function chunkBounds(T: number, lengths: number[]): [number, number][] {
  const out: [number, number][] = [];
  let t = 0;
  for (const n of lengths) {
    if (t >= T) break;
    out.push([t, Math.min(T, t + n)]);
    t = Math.min(T, t + n);
  }
  for (; t < T; t++) out.push([t, t + 1]);
  return out;
}

/** Streams `input` in the given chunks from the state set by resetState and checks the result against forward. */
function checkStreamEqualsForward(layer: RecurrentLayer, c: LayerCase, bounds: [number, number][]): void {
  const { input, state } = caseData(c);
  const whole = layer.forward(input, state);
  // resetState needs h0 whenever c0 is given: zeros are what forward assumes for a missing h0
  const { P, LD } = caseDims(c);
  const h0 = state.h0 ?? (state.c0 ? { shape: c.batched ? [LD, c.B, P] : [LD, P], data: new Float32Array(LD * c.B * P) } : undefined);
  layer.resetState(h0 ? { h0, c0: state.c0 } : undefined);
  const axis = timeAxis(c);
  const outs: Tensor[] = [];
  let last: LayerResult | undefined;
  for (const [t0, t1] of bounds) {
    last = layer.stream(sliceTime(input, axis, t0, t1));
    outs.push(last.output);
  }
  expectBitwise("streamed output", concatTime(outs, axis), whole.output);
  expectBitwise("last chunk's hN", last!.hN, whole.hN);
  const s = layer.state!;
  expect(s).not.toBeNull();
  expectBitwise("state.h0", s.h0, whole.hN);
  if (c.kind === "lstm") {
    expectBitwise("last chunk's cN", last!.cN, whole.cN);
    expectBitwise("state.c0", s.c0, whole.cN);
  } else {
    expect(s.c0).toBeUndefined();
  }
}

const chunkLengths = fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 12 });

describe.each(BACKENDS)("stream() on %s", (backend) => {
  it.each(KINDS)("%s: random chunks give bitwise the output and state of one forward", (kind: Kind) => {
    const cases = layerCaseArb({ kinds: [kind], bidirectional: false, maxT: 12, maxB: 4 });
    fc.assert(fc.property(cases, chunkLengths, (c, lengths) => {
      const layer = layerOn(backend, c);
      try {
        checkStreamEqualsForward(layer, c, chunkBounds(c.T, lengths));
        // the same layer again, one step at a time, after resetState (the previous stream's state is forgotten)
        checkStreamEqualsForward(layer, c, chunkBounds(c.T, [1]));
      } finally {
        layer.dispose();
      }
    }), { numRuns: backend === "reference" ? 80 : 150 });
  });
});

describe("stream() state handling", () => {
  const rt = () => runtimes.get("simd")!;

  it("state is null before the first call and after resetState(); resetState() restarts from zeros", () => {
    const layer = createLayer("lstm", { inputSize: 3, hiddenSize: 5, numLayers: 2, seed: 11, runtime: rt() });
    expect(layer.state).toBeNull();
    const next = rng(5);
    const x = randomTensor([6, 2, 3], next);
    const h0 = randomTensor([2, 2, 5], next);
    const c0 = randomTensor([2, 2, 5], next);
    layer.stream(x);
    expect(layer.state).not.toBeNull();
    layer.resetState();
    expect(layer.state).toBeNull();
    expectBitwise("after resetState()", layer.stream(x).output, layer.forward(x).output);
    layer.resetState({ h0, c0 });
    expect(layer.state!.h0).toEqual(h0);
    expect(layer.state!.c0).toEqual(c0);
    expectBitwise("from resetState({h0, c0})", layer.stream(x).output, layer.forward(x, { h0, c0 }).output);
    // h0 alone: c0 starts at zeros
    layer.resetState({ h0 });
    expectBitwise("from resetState({h0})", layer.stream(x).output, layer.forward(x, { h0 }).output);
    layer.dispose();
  });

  it("continuing a stream continues the state: two chunks differ from two fresh starts", () => {
    const layer = createLayer("gru", { inputSize: 2, hiddenSize: 3, seed: 4, runtime: rt() });
    const x = randomTensor([2, 1, 2], rng(9));
    const a = layer.stream(x).output.data.slice();
    const b = layer.stream(x).output.data.slice();
    expect(Array.from(b)).not.toEqual(Array.from(a));
    layer.dispose();
  });

  it("writing into a stream() result or into the state getter's tensors does not change where the stream continues", () => {
    const layer = createLayer("lstm", { inputSize: 3, hiddenSize: 4, seed: 8, runtime: rt() });
    const x = randomTensor([4, 2, 3], rng(12));
    const want = layer.forward(x);
    const first = layer.stream(sliceTime(x, 0, 0, 2));
    first.hN.data.fill(0); // a caller reusing its result buffers
    first.cN!.data.fill(0);
    const s = layer.state!;
    s.h0!.data.fill(5);
    s.c0!.data.fill(5);
    const rest = layer.stream(sliceTime(x, 0, 2, 4));
    expectBitwise("hN after the caller wrote into earlier results", rest.hN, want.hN);
    layer.dispose();
  });

  it("a bidirectional layer refuses stream() with RnnError 'state' and keeps working", () => {
    for (const kind of KINDS) {
      const layer = createLayer(kind, { inputSize: 3, hiddenSize: 4, bidirectional: true, seed: 2, runtime: rt() });
      const x = randomTensor([5, 2, 3], rng(1));
      const before = layer.forward(x);
      expectRnnError(() => layer.stream(x), "state", "stream()", "bidirectional");
      expect(layer.state).toBeNull();
      expectBitwise("forward after the refused stream", layer.forward(x).output, before.output);
      layer.dispose();
    }
  });

  it("a chunk whose batch size does not match the carried state is a shape error naming h0; the state is kept", () => {
    const layer = createLayer("lstm", { inputSize: 3, hiddenSize: 4, seed: 2, runtime: rt() });
    const next = rng(3);
    const x = randomTensor([4, 2, 3], next);
    layer.stream(sliceTime(x, 0, 0, 2));
    const kept = layer.state!;
    expectRnnError(() => layer.stream(randomTensor([2, 3, 3], next)), "shape", "h0", "[1, 3, 4]");
    expect(layer.state!.h0).toEqual(kept.h0);
    const rest = layer.stream(sliceTime(x, 0, 2, 4));
    expectBitwise("after the refused chunk", rest.hN, layer.forward(x).hN);
    layer.dispose();
  });

  it("resetState checks: c0 without h0 is 'missing'; c0 on a GRU fails on the next stream() as 'unexpected'", () => {
    const lstm = createLayer("lstm", { inputSize: 3, hiddenSize: 4, seed: 2, runtime: rt() });
    expectRnnError(() => lstm.resetState({ c0: randomTensor([1, 1, 4], rng(1)) }), "missing", "h0", "c0");
    lstm.dispose();
    const gru = createLayer("gru", { inputSize: 3, hiddenSize: 4, seed: 2, runtime: rt() });
    gru.resetState({ h0: randomTensor([1, 1, 4], rng(1)), c0: randomTensor([1, 1, 4], rng(2)) });
    expectRnnError(() => gru.stream(randomTensor([2, 1, 3], rng(3))), "unexpected", "c0");
    gru.dispose();
  });
});

// ---------------------------------------------------------------------------------------------------------
// Cells

/** A layer's parameters under cell names: weight_ih_l0 -> weight_ih. */
function cellNames(t: Record<string, Tensor>): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k.replace(/_l0$/, ""), v]));
}

function cellClass(kind: Kind): typeof LSTMCell | typeof GRUCell | typeof RNNCell {
  return kind === "lstm" ? LSTMCell : kind === "gru" ? GRUCell : RNNCell;
}

describe.each(BACKENDS)("cells on %s", (backend) => {
  it.each(KINDS)("%sCell stepped T times equals a one-layer layer over T steps, bitwise", (kind: Kind) => {
    const cases = layerCaseArb({ kinds: [kind], maxLayers: 1, bidirectional: false, maxT: 10 });
    fc.assert(fc.property(cases, fc.boolean(), (c0, viaFromTorch) => {
      const c: LayerCase = { ...c0, batchFirst: false, projSize: 0 }; // cells have no projection
      const layer = layerOn(backend, c);
      const { input, state } = caseData(c);
      const kindOptions = {
        ...backendOptions(backend),
        ...(kind === "rnn" ? { nonlinearity: c.nonlinearity } : {}),
        ...(kind === "gru" ? { resetAfter: c.resetAfter } : {}),
      };
      const opts = { inputSize: c.inputSize, hiddenSize: c.hiddenSize, bias: c.bias, ...kindOptions };
      const weights = cellNames(layer.toTorch());
      let cell: RecurrentCell;
      if (viaFromTorch) {
        cell = asCell(fromTorch(weights, kindOptions));
      } else {
        const Cls = cellClass(kind) as new (o: typeof opts, p: Record<string, Float32Array>) => RecurrentCell;
        cell = new Cls(opts, flatParams(weights));
      }
      try {
        expect(cell).toBeInstanceOf(cellClass(kind));
        const whole = layer.forward(input, state);
        const { T, B, inputSize: I, hiddenSize: H } = c;
        const rowShape = c.batched ? [B, I] : [I];
        const stateShape = c.batched ? [B, H] : [H];
        let h: Tensor | undefined = state.h0 ? { shape: stateShape, data: state.h0.data } : undefined;
        let cc: Tensor | undefined = state.c0 ? { shape: stateShape, data: state.c0.data } : undefined;
        for (let t = 0; t < T; t++) {
          const x = { shape: rowShape, data: input.data.slice(t * B * I, (t + 1) * B * I) };
          const r = cell.forward(x, { ...(h ? { h } : {}), ...(cc ? { c: cc } : {}) });
          expect(r.h.shape).toEqual(stateShape);
          const want = { shape: stateShape, data: whole.output.data.subarray(t * B * H, (t + 1) * B * H) };
          expectBitwise(`h at step ${t}`, r.h, want);
          h = r.h;
          if (kind === "lstm") cc = r.c;
          else expect(r.c).toBeUndefined();
        }
        expectBitwise("final h", h, { shape: stateShape, data: whole.hN.data });
        if (kind === "lstm") expectBitwise("final c", cc, { shape: stateShape, data: whole.cN!.data });
      } finally {
        cell.dispose();
        layer.dispose();
      }
    }), { numRuns: 100 });
  });
});
