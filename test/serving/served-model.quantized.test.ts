// test/serving/served-model.quantized.test.ts: ServedModel serving a quantized model file (saveQuantized's format).
//
// Property, on random models (LSTM with and without projSize, GRU both forms, RNN tanh and relu, 1-2 layers,
// bidirectional, batch-first files, with and without a float32 head beside the file's tensors; int8 in both forms and
// int12; Q8 not on the relaxed build where V8 computes its dot-add wrongly) and batches of 1-6 requests of different lengths, with or without h0/c0, on every wasm build and on the
// reference:
//   1. run(batch)[b] is BITWISE run([batch[b]]), as for float models (test/serving/served-model.test.ts says why a
//      batch row's numbers come from that row alone). The quantized layers keep that: the input and the state are
//      quantized per batch row (one scale per row: src/reference/quant.ts), the integer products are exact, and the
//      float32 scaling and gate maths are per element; so any difference is a bug, and none is allowed.
//   2. run([request]) is bitwise what loadQuantized(file) gives for that sequence alone (unbatched, without lengths),
//      then the head: the server answers with the model the file holds, not another quantization of it.
// Reading: the format is told by its metadata; ServedModel.dtype; a cell's file serves as the one-layer layer; options
// that repeat the file's architecture are accepted and ones that contradict it refused; a bad file or head leaves no
// wasm memory behind.
import { beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  Linear, LSTM, LSTMCell, GRU, init, loadQuantized, loadSafetensors, quantize, saveQuantized, saveSafetensors,
  type Build, type IntTensor, type QuantizedLayer, type Runtime, type Tensor,
} from "../../src/index.js";
import { ServedModel, type SequenceRequest, type SequenceResult } from "../../src/serving/index.js";
import { createLayer, caseDims, expectRnnError, layerCaseArb, layerOptions } from "../api/helpers.js";
import { expectSameBits } from "../helpers/compare.js";
import { randomF32, randomTensor, rng } from "../helpers/random.js";
import { TEST_BUILDS, runtimeFor } from "../helpers/runtimes.js";

const runtimes = new Map<Build, Runtime>();
/** V8 11.3 (Node 20) computes the relaxed dot-add wrongly until the function tiers up (test/kernels/quant.test.ts): forcing Q8 on its relaxed build is unsound, and 'auto' never picks it there. */
const RELAXED_DOT_SOUND = Number(process.versions.v8.split(".")[0]) >= 12;

beforeAll(async () => {
  await init();
  for (const b of TEST_BUILDS) runtimes.set(b, await runtimeFor(b));
});

/** A quantized model file, with `head` (float32 tensors under "head.") written beside its own tensors. */
function quantizedFile(q: Parameters<typeof saveQuantized>[0], head: Record<string, Tensor> = {}): Uint8Array {
  const file = loadSafetensors(saveQuantized(q));
  const all: Record<string, Tensor | IntTensor> = { ...file.tensors, ...file.integers, ...head };
  return saveSafetensors(all, file.metadata);
}

function requestsFor(model: ServedModel, cases: { steps: number; withH0: boolean; withC0: boolean }[], seed: number): SequenceRequest[] {
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

/** What loadQuantized(file) (without the head's tensors, which it refuses) and the head give for one request alone: forward over [T, I], no lengths. */
function aloneResult(file: Uint8Array, head: Record<string, Tensor>, backend: { backend?: "reference"; runtime?: Runtime; form?: "q16" | "q8" }, r: SequenceRequest): SequenceResult {
  using q = loadQuantized(file, backend) as QuantizedLayer;
  const s = q.spec;
  const LD = (s.bidirectional ? 2 : 1) * s.numLayers, P = s.projSize || s.hiddenSize;
  const y = q.forward({ shape: [r.steps, s.inputSize], data: r.input }, {
    ...(r.h0 ? { h0: { shape: [LD, P], data: r.h0 } } : {}),
    ...(r.c0 ? { c0: { shape: [LD, s.hiddenSize], data: r.c0 } } : {}),
  });
  const out: SequenceResult = { output: y.output.data, hN: y.hN.data, ...(y.cN ? { cN: y.cN.data } : {}) };
  if (head["head.weight"]) {
    using linear = Linear.fromTorch(head, { ...(backend.backend ? { backend: backend.backend } : { runtime: backend.runtime }), prefix: "head." });
    out.head = linear.forward(y.output).data;
  }
  return out;
}

const caseArb = fc.record({
  layer: layerCaseArb({ maxLayers: 2 }),
  quant: fc.constantFrom(["int8", "q16"], ["int8", "q8"], ["int12", "q16"]) as fc.Arbitrary<["int8" | "int12", "q16" | "q8"]>,
  headSize: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5 })),
  requests: fc.array(fc.record({ steps: fc.integer({ min: 1, max: 7 }), withH0: fc.boolean(), withC0: fc.boolean() }), { minLength: 1, maxLength: 6 }),
  dataSeed: fc.integer({ min: 0, max: 0x7fffffff }),
});

describe("ServedModel on a quantized model file: one batched forward gives each request what it gets alone, bitwise", () => {
  for (const where of [...TEST_BUILDS, "reference"] as const) {
    it(`on ${where === "reference" ? "the reference backend" : `the ${where} build`}`, () => {
      fc.assert(fc.property(caseArb, ({ layer: c, quant: [dtype, form], headSize, requests: cases, dataSeed }) => {
        if (where === "relaxed" && form === "q8" && !RELAXED_DOT_SOUND) return;
        const backend = where === "reference" ? { backend: "reference" as const } : { runtime: runtimes.get(where)! };
        const float = createLayer(c.kind, { ...layerOptions(c), backend: "reference" });
        const q = quantize(float, { dtype, backend: "reference" });
        float.dispose();
        const head: Record<string, Tensor> = {};
        if (headSize > 0) {
          const { D, P } = caseDims(c);
          const next = rng(c.seed ^ 0x5eed);
          head["head.weight"] = randomTensor([headSize, D * P], next);
          if (c.bias) head["head.bias"] = randomTensor([headSize], next);
        }
        const bare = saveQuantized(q), file = quantizedFile(q, head);
        q.dispose();
        using model = ServedModel.fromSafetensors(file, { ...backend, form });
        expect(model.dtype).toBe(dtype);
        expect(model.headSize).toBe(headSize);
        const requests = requestsFor(model, cases, dataSeed);
        const batched = model.run(requests);
        expect(batched).toHaveLength(requests.length);
        requests.forEach((r, b) => {
          const alone = model.run([r])[0];
          expectSameResult(`request ${b} of ${requests.length}`, batched[b], alone);
          if (b === 0) expectSameResult("alone vs loadQuantized", alone, aloneResult(bare, head, { ...backend, form }, r));
        });
      }), { numRuns: where === "reference" ? 30 : 60 });
    });
  }
});

describe("ServedModel: reading a quantized model file", () => {
  it("tells the format by its metadata; dtype; a float32 file still serves as float32", () => {
    using lstm = new LSTM({ inputSize: 3, hiddenSize: 6, seed: 1 });
    using floatModel = ServedModel.fromSafetensors(saveSafetensors(lstm.toTorch()));
    expect(floatModel.dtype).toBe("float32");
    using q = quantize(lstm, { dtype: "int12" });
    using served = ServedModel.fromSafetensors(saveQuantized(q));
    expect(served.dtype).toBe("int12");
    expect(served.info).toEqual(floatModel.info);
    const r: SequenceRequest = { input: randomF32(12, rng(1)), steps: 4 };
    const want = q.forward({ shape: [4, 3], data: r.input });
    expectSameBits("output", served.run([r])[0].output, want.output.data);
  });

  it("serves a cell's file as the one-layer layer, and a batch-first layer's as time-major", () => {
    using cell = new LSTMCell({ inputSize: 4, hiddenSize: 5, seed: 2 });
    using layer = new LSTM({ inputSize: 4, hiddenSize: 5, seed: 3, batchFirst: true }, Object.fromEntries(Object.entries(cell.toTorch()).map(([k, v]) => [`${k}_l0`, v.data])));
    using fromCell = ServedModel.fromSafetensors(saveQuantized(quantize(cell, { dtype: "int8" })));
    using fromLayer = ServedModel.fromSafetensors(saveQuantized(quantize(layer, { dtype: "int8" })));
    expect(fromCell.info).toEqual(fromLayer.info);
    const requests = requestsFor(fromCell, [{ steps: 3, withH0: true, withC0: true }, { steps: 5, withH0: false, withC0: false }], 4);
    const [a, b] = [fromCell.run(requests), fromLayer.run(requests)];
    requests.forEach((_, i) => expectSameResult(`request ${i}: cell vs layer`, a[i], b[i]));
  });

  it("accepts options that repeat what the file records, refuses ones that contradict it, and refuses form for a float32 file", () => {
    using gru = new GRU({ inputSize: 2, hiddenSize: 3, resetAfter: false, seed: 1 });
    using q = quantize(gru, { dtype: "int8" });
    const file = saveQuantized(q);
    using same = ServedModel.fromSafetensors(file, { kind: "gru", resetAfter: false, prefix: "", form: "q16" });
    expect(same.kind).toBe("gru");
    expectRnnError(() => ServedModel.fromSafetensors(file, { kind: "lstm" }), "unexpected", "records kind \"gru\"");
    expectRnnError(() => ServedModel.fromSafetensors(file, { resetAfter: true }), "unexpected", "resetAfter");
    expectRnnError(() => ServedModel.fromSafetensors(file, { nonlinearity: "relu" }), "unexpected", "nonlinearity is not an option of the GRU");
    expectRnnError(() => ServedModel.fromSafetensors(file, { prefix: "rnn." }), "unexpected", "no key prefix");
    expectRnnError(() => ServedModel.fromSafetensors(file, { form: "q4" } as never), "unexpected", "form");
    expectRnnError(() => ServedModel.fromSafetensors(saveSafetensors(gru.toTorch()), { form: "q8" }), "unexpected", "form", "quantized model files");
  });

  it("refuses an inconsistent file and a head of the wrong width, leaving no wasm memory behind", async () => {
    const runtime = await runtimeFor("simd");
    using lstm = new LSTM({ inputSize: 3, hiddenSize: 4, seed: 1, backend: "reference" });
    using q = quantize(lstm, { dtype: "int8", backend: "reference" });
    const file = loadSafetensors(saveQuantized(q));
    const blocks = runtime.blocksInUse;
    const wrongHead = quantizedFile(q, { "head.weight": randomTensor([2, 5], rng(1)) });
    expectRnnError(() => ServedModel.fromSafetensors(wrongHead, { runtime }), "shape", "head.weight", "[outFeatures, 4]");
    const stray = saveSafetensors({ ...file.tensors, ...file.integers, "other.weight": randomTensor([1], rng(1)) }, file.metadata);
    expectRnnError(() => ServedModel.fromSafetensors(stray, { runtime }), "format", "'other.weight'");
    const { "weight_hh_l0.scale": _scale, ...noScale } = file.tensors;
    expectRnnError(() => ServedModel.fromSafetensors(saveSafetensors({ ...noScale, ...file.integers }, file.metadata), { runtime }), "format", "weight_hh_l0.scale");
    expect(runtime.blocksInUse).toBe(blocks);
    const model = ServedModel.fromSafetensors(quantizedFile(q, { "head.weight": randomTensor([2, 4], rng(2)) }), { runtime });
    expect(model.headSize).toBe(2);
    model.dispose();
    expect(runtime.blocksInUse).toBe(blocks);
  });
});
