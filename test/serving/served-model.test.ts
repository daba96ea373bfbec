// test/serving/served-model.test.ts: ServedModel.run's one batched forward against each request run alone.
//
// Property, on random models (LSTM with and without projSize, GRU both forms, RNN tanh and relu, 1-2 layers,
// bidirectional, with and without an nn.Linear head, sizes mostly not multiples of 4) and batches of 1-6 requests
// of different lengths, each with or without h0/c0, on every wasm build and on the reference:
//   1. run(batch)[b] is BITWISE run([batch[b]]): padding with lengths changes nothing a request sees (requests within
//      2x of each other's length share a forward; lengths 1-7 give several forwards per batch, all compared). Why exact:
//      every kernel computes each batch row's numbers from that row alone, summing each dot product in the same
//      order whatever B is (the gemm tiles over rows, never across them, and the K loop is the same), and the steps
//      past a row's length neither read nor write its state. The head (one Linear over every real step) is
//      row-wise in the same way. So any difference is a bug, and the test demands none.
//   2. run([request]) equals the plain layer, unbatched, without lengths (forward(input [T, I], { h0, c0 }) then
//      the head): the stacking and splitting are checked against code that does not stack, also bitwise.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import fc from "fast-check";
import {
  fromTorch, init, Linear, RnnError, saveSafetensors, type Build, type RecurrentLayer, type Runtime, type Tensor,
} from "../../src/index.js";
import { ServedModel, type SequenceRequest, type SequenceResult } from "../../src/serving/index.js";
import { createLayer, caseDims, expectRnnError, layerCaseArb, layerOptions, type LayerCase } from "../api/helpers.js";
import { expectSameBits } from "../helpers/compare.js";
import { randomF32, randomTensor, rng } from "../helpers/random.js";
import { TEST_BUILDS, runtimeFor } from "../helpers/runtimes.js";

const runtimes = new Map<Build, Runtime>();

beforeAll(async () => {
  await init();
  for (const b of TEST_BUILDS) runtimes.set(b, await runtimeFor(b));
});

interface RequestCase {
  steps: number;
  withH0: boolean;
  withC0: boolean;
}

const requestsArb = fc.array(
  fc.record({ steps: fc.integer({ min: 1, max: 7 }), withH0: fc.boolean(), withC0: fc.boolean() }),
  { minLength: 1, maxLength: 6 },
);

/** The state_dict of a case's layer under "rnn.", with a random head under "head." when headSize > 0. */
function modelTensors(c: LayerCase, headSize: number): Record<string, Tensor> {
  const layer = createLayer(c.kind, { ...layerOptions(c), backend: "reference" });
  const tensors: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(layer.toTorch())) tensors["rnn." + k] = v;
  layer.dispose();
  if (headSize > 0) {
    const { D, P } = caseDims(c);
    const next = rng(c.seed ^ 0x5eed);
    tensors["head.weight"] = randomTensor([headSize, D * P], next);
    if (c.bias) tensors["head.bias"] = randomTensor([headSize], next);
  }
  return tensors;
}

function requestsFor(model: ServedModel, cases: RequestCase[], seed: number): SequenceRequest[] {
  const next = rng(seed);
  const [LD, P] = model.stateShape.h;
  return cases.map((r) => ({
    input: randomF32(r.steps * model.inputSize, next),
    steps: r.steps,
    ...(r.withH0 ? { h0: randomF32(LD * P, next) } : {}),
    ...(r.withC0 && model.stateShape.c ? { c0: randomF32(model.stateShape.c[0] * model.stateShape.c[1], next) } : {}),
  }));
}

function expectSameResult(what: string, got: SequenceResult, want: SequenceResult): void {
  expect(Object.keys(got).sort(), `${what}: fields`).toEqual(Object.keys(want).sort());
  for (const key of ["output", "head", "hN", "cN"] as const) {
    if (want[key]) expectSameBits(`${what}.${key}`, got[key]!, want[key]!);
  }
}

/** What the plain layer and head give for one request: forward over [T, I] without lengths. */
function plainResult(tensors: Record<string, Tensor>, c: LayerCase, backend: { backend?: "reference"; runtime?: Runtime }, r: SequenceRequest): SequenceResult {
  const layer = fromTorch(Object.fromEntries(Object.entries(tensors).filter(([k]) => k.startsWith("rnn."))), {
    ...backend, prefix: "rnn.", ...(c.kind === "rnn" ? { nonlinearity: c.nonlinearity } : {}), ...(c.kind === "gru" ? { resetAfter: c.resetAfter } : {}),
  }) as RecurrentLayer;
  const { LD, P } = caseDims(c);
  const y = layer.forward({ shape: [r.steps, c.inputSize], data: r.input }, {
    ...(r.h0 ? { h0: { shape: [LD, P], data: r.h0 } } : {}),
    ...(r.c0 ? { c0: { shape: [LD, c.hiddenSize], data: r.c0 } } : {}),
  });
  layer.dispose();
  const out: SequenceResult = { output: y.output.data, hN: y.hN.data, ...(y.cN ? { cN: y.cN.data } : {}) };
  if (tensors["head.weight"]) {
    const head = Linear.fromTorch(tensors, { ...backend, prefix: "head." });
    out.head = head.forward(y.output).data;
    head.dispose();
  }
  return out;
}

const caseArb = fc.record({
  layer: layerCaseArb({ maxLayers: 2 }),
  headSize: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5 })),
  requests: requestsArb,
  dataSeed: fc.integer({ min: 0, max: 0x7fffffff }),
});

describe("ServedModel.run: one batched forward gives each request what it gets alone, bitwise", () => {
  for (const where of [...TEST_BUILDS, "reference"] as const) {
    it(`on ${where === "reference" ? "the reference backend" : `the ${where} build`}`, () => {
      fc.assert(fc.property(caseArb, ({ layer: c, headSize, requests: cases, dataSeed }) => {
        const backend = where === "reference" ? { backend: "reference" as const } : { runtime: runtimes.get(where)! };
        const tensors = modelTensors(c, headSize);
        const model = ServedModel.fromTensors(tensors, {
          ...backend, ...(c.kind === "rnn" ? { nonlinearity: c.nonlinearity } : {}), ...(c.kind === "gru" ? { resetAfter: c.resetAfter } : {}),
        });
        try {
          expect(model.headSize).toBe(tensors["head.weight"] ? headSize : 0);
          const requests = requestsFor(model, cases, dataSeed);
          const batched = model.run(requests);
          expect(batched).toHaveLength(requests.length);
          requests.forEach((r, b) => {
            const alone = model.run([r])[0];
            expectSameResult(`request ${b} of ${requests.length}`, batched[b], alone);
            if (b === 0) expectSameResult("alone vs the plain layer", alone, plainResult(tensors, c, backend, r));
          });
        } finally {
          model.dispose();
        }
      }), { numRuns: where === "reference" ? 60 : 100 });
    });
  }
});

describe("ServedModel.run: a larger batch (33 requests, sizes that fill several SIMD tiles and leave tails)", () => {
  for (const where of [...TEST_BUILDS, "reference"] as const) {
    it(`on ${where === "reference" ? "the reference backend" : `the ${where} build`}`, () => {
      const c: LayerCase = {
        kind: "lstm", inputSize: 21, hiddenSize: 45, numLayers: 2, bidirectional: true, batchFirst: false, bias: true,
        projSize: 19, nonlinearity: "tanh", resetAfter: true, T: 1, B: 1, batched: true, withH0: true, withC0: true, seed: 7, dataSeed: 8,
      };
      const backend = where === "reference" ? { backend: "reference" as const } : { runtime: runtimes.get(where)! };
      using model = ServedModel.fromTensors(modelTensors(c, 3), backend);
      const cases = Array.from({ length: 33 }, (_, i) => ({ steps: 1 + ((i * 7) % 9), withH0: i % 3 !== 0, withC0: i % 2 === 0 }));
      const requests = requestsFor(model, cases, 9);
      const batched = model.run(requests);
      requests.forEach((r, b) => expectSameResult(`request ${b}`, batched[b], model.run([r])[0]));
    });
  }
});

describe("ServedModel: reading a model", () => {
  const lstm = () => createLayer("lstm", { inputSize: 3, hiddenSize: 4, seed: 1, backend: "reference" }).toTorch();
  const under = (prefix: string, t: Record<string, Tensor>) => Object.fromEntries(Object.entries(t).map(([k, v]) => [prefix + k, v]));

  it("finds the prefix, reads a head, reports its sizes and shapes, and reads the same from safetensors", () => {
    const tensors = { ...under("encoder.lstm.", lstm()), "head.weight": randomTensor([2, 4], rng(1)), "head.bias": randomTensor([2], rng(2)) };
    using model = ServedModel.fromTensors(tensors);
    expect(model.info).toEqual({ kind: "lstm", inputSize: 3, outputSize: 4, headSize: 2, stateShape: { h: [1, 4], c: [1, 4] }, bidirectional: false });
    using fromFile = ServedModel.fromSafetensors(saveSafetensors(tensors));
    const r: SequenceRequest = { input: randomF32(15, rng(3)), steps: 5 };
    const [a] = model.run([r]);
    expect(a.output).toHaveLength(20);
    expect(a.head).toHaveLength(10);
    expectSameResult("from safetensors", fromFile.run([r])[0], a);
  });

  it("serves a cell (names without _l0) as the one-layer layer it is", () => {
    const layer = lstm();
    const cell = Object.fromEntries(Object.entries(layer).map(([k, v]) => [k.replace(/_l0$/, ""), v]));
    using a = ServedModel.fromTensors(under("cell.", cell));
    using b = ServedModel.fromTensors(layer);
    const r: SequenceRequest = { input: randomF32(9, rng(4)), steps: 3 };
    expectSameResult("cell vs layer", a.run([r])[0], b.run([r])[0]);
  });

  it("refuses a stray tensor, a second recurrent module, a head bias without weight and a head of the wrong width", () => {
    expectRnnError(() => ServedModel.fromTensors({ ...under("rnn.", lstm()), "other.weight": randomTensor([1], rng(1)) }), "unexpected", "'other.weight'", "headPrefix");
    expectRnnError(() => ServedModel.fromTensors({ ...under("a.", lstm()), ...under("b.", lstm()) }), "unexpected", "'a.', 'b.'", "prefix");
    expectRnnError(() => ServedModel.fromTensors({ ...lstm(), "head.bias": randomTensor([2], rng(1)) }), "missing", "head.weight");
    expectRnnError(() => ServedModel.fromTensors({ ...lstm(), "head.weight": randomTensor([2, 5], rng(1)) }), "shape", "head.weight", "[outFeatures, 4]");
    expectRnnError(() => ServedModel.fromTensors(lstm(), { headPrefix: 3 as unknown as string }), "unexpected", "headPrefix");
    expectRnnError(() => ServedModel.fromTensors(lstm(), { batchFirst: true } as never), "unexpected", "batchFirst");
    expectRnnError(() => ServedModel.fromSafetensors(new Uint8Array(3)), "format");
    // a head under another prefix, named
    using named = ServedModel.fromTensors({ ...lstm(), "fc.weight": randomTensor([1, 4], rng(1)) }, { headPrefix: "fc." });
    expect(named.headSize).toBe(1);
  });
});

describe("ServedModel: requests", () => {
  let model: ServedModel;
  beforeAll(() => {
    model = ServedModel.fromTensors(createLayer("lstm", { inputSize: 3, hiddenSize: 4, numLayers: 2, seed: 1, backend: "reference" }).toTorch());
  });
  afterAll(() => model.dispose());

  it("check() names the field and what it expected", () => {
    const ok = { input: new Float32Array(6), steps: 2 };
    expect(() => model.check(ok)).not.toThrow();
    expectRnnError(() => model.check(null as never), "dtype", "request");
    expectRnnError(() => model.check({ ...ok, steps: 0 }), "shape", "steps");
    expectRnnError(() => model.check({ ...ok, steps: 1.5 }), "shape", "steps");
    expectRnnError(() => model.check({ ...ok, input: [1, 2, 3] as never }), "dtype", "input", "Float32Array");
    expectRnnError(() => model.check({ ...ok, steps: 3 }), "shape", "input has 6 floats", "needs 9");
    expectRnnError(() => model.check({ ...ok, input: Float32Array.of(0, 0, 0, NaN, 0, 0) }), "nonfinite", "input", "index 3");
    expectRnnError(() => model.check({ ...ok, h0: new Float32Array(4) }), "shape", "h0", "[2, 4]");
    expectRnnError(() => model.check({ ...ok, c0: new Float64Array(8) as never }), "dtype", "c0");
    expectRnnError(() => model.check({ ...ok, c0: Float32Array.of(0, 0, 0, 0, 0, 0, 0, Infinity) }), "nonfinite", "c0");
  });

  it("run() checks every request first and names the bad one; an empty batch is no call", () => {
    const good = { input: new Float32Array(6), steps: 2 };
    expectRnnError(() => model.run([good, { ...good, steps: 3 }]), "shape", "requests[1]: input has 6 floats");
    expect(model.run([])).toEqual([]);
  });

  it("c0 is refused for a model without cell state", () => {
    using gru = ServedModel.fromTensors(createLayer("gru", { inputSize: 2, hiddenSize: 3, seed: 1, backend: "reference" }).toTorch());
    expect(gru.stateShape).toEqual({ h: [1, 3] });
    expectRnnError(() => gru.check({ input: new Float32Array(2), steps: 1, c0: new Float32Array(3) }), "unexpected", "c0", "GRU");
  });

  it("each result's arrays have buffers of their own (transferable one at a time)", () => {
    const rs = model.run([{ input: new Float32Array(6), steps: 2 }, { input: new Float32Array(3), steps: 1 }]);
    const buffers = rs.flatMap((r) => [r.output.buffer, r.hN.buffer, r.cN!.buffer]);
    expect(new Set(buffers).size).toBe(buffers.length);
    for (const r of rs) for (const a of [r.output, r.hN, r.cN!]) expect(a.byteLength).toBe(a.buffer.byteLength);
  });

  it("a request's output array is written and returned as the result's output, bitwise what run makes itself", () => {
    const requests = [{ input: randomF32(3 * 3, rng(7)), steps: 3 }, { input: randomF32(1 * 3, rng(8)), steps: 1 }];
    const want = model.run(requests);
    const F = model.outputSize;
    const shared = new SharedArrayBuffer(4 * (8 + 3 * F)); // a view at an offset of memory shared with another thread
    const into = new Float32Array(shared, 32, 3 * F);
    const got = model.run([{ ...requests[0], output: into }, requests[1]]);
    expect(got[0].output).toBe(into);
    expectSameBits("output 0", got[0].output, want[0].output);
    expectSameBits("output 1", got[1].output, want[1].output);
    expectRnnError(() => model.check({ ...requests[0], output: new Float32Array(2 * F) }), "shape", "output", `${3 * F}`);
    expectRnnError(() => model.check({ ...requests[0], output: [] as unknown as Float32Array }), "dtype", "output");
  });

  it("run({ checked: true }) does not check the requests again, and gives the same results", () => {
    const requests = [{ input: randomF32(2 * 3, rng(9)), steps: 2 }, { input: randomF32(3, rng(10)), steps: 1 }];
    const check = vi.spyOn(model, "check");
    try {
      const want = model.run(requests);
      expect(check).toHaveBeenCalledTimes(2);
      const got = model.run(requests, { checked: true });
      expect(check).toHaveBeenCalledTimes(2);
      got.forEach((r, b) => expectSameBits(`output ${b}`, r.output, want[b].output));
    } finally {
      check.mockRestore();
    }
  });

  it("a batch the memory cannot hold runs in halves, with the same results", () => {
    using m = ServedModel.fromTensors(createLayer("gru", { inputSize: 2, hiddenSize: 3, seed: 1, backend: "reference" }).toTorch());
    const requests = Array.from({ length: 5 }, (_, i) => ({ input: randomF32(2 * 3, rng(i)), steps: 3 }));
    const want = requests.map((r) => m.run([r])[0]);
    // the layer inside refuses any batch of more than 2 rows, as it would a workspace beyond one wasm block
    const layer = (m as unknown as { parts: { layer: { forward: (x: Tensor, o: object) => unknown } } }).parts.layer;
    const forward = layer.forward.bind(layer);
    const sizes: number[] = [];
    layer.forward = (x: Tensor, o: object) => {
      sizes.push(x.shape[1]);
      if (x.shape[1] > 2) throw new RnnError("memory", "too big");
      return forward(x, o);
    };
    const got = m.run(requests);
    got.forEach((r, i) => expectSameResult(`request ${i}`, r, want[i]));
    expect(sizes).toEqual([5, 2, 3, 1, 2]);
    layer.forward = () => { throw new RnnError("memory", "too big"); };
    expectRnnError(() => m.run(requests), "memory", "too big");
  });

  it("requests share a forward when each has at least half the longest one's steps; results come back in order", () => {
    using m = ServedModel.fromTensors(createLayer("rnn", { inputSize: 2, hiddenSize: 3, seed: 1, backend: "reference" }).toTorch());
    const layer = (m as unknown as { parts: { layer: { forward: (x: Tensor, o: object) => unknown } } }).parts.layer;
    const forward = layer.forward.bind(layer);
    const forwards: number[][] = [];
    layer.forward = (x: Tensor, o: object) => {
      forwards.push([...(o as { lengths: Int32Array }).lengths]);
      return forward(x, o);
    };
    const steps = [2, 8, 1, 5, 4, 3, 1];
    const requests = steps.map((T, i) => ({ input: randomF32(2 * T, rng(i)), steps: T }));
    const got = m.run(requests);
    expect(forwards).toEqual([[8, 5, 4], [3, 2], [1, 1]]);
    got.forEach((r, i) => expect(r.output).toHaveLength(3 * steps[i]));
    forwards.length = 0;
    m.run(requests.filter((r) => r.steps >= 4));
    expect(forwards).toEqual([[8, 5, 4]]);
  });

  it("dispose() is safe twice; a call after it throws 'disposed'", () => {
    const m = ServedModel.fromTensors(createLayer("rnn", { inputSize: 2, hiddenSize: 3, seed: 1, backend: "reference" }).toTorch());
    m.dispose();
    m.dispose();
    expectRnnError(() => m.run([{ input: new Float32Array(2), steps: 1 }]), "disposed", "ServedModel");
  });
});
