// test/fuzz/options.test.ts: hostile arguments at every public entry point: constructor options and weights, forward
// inputs, states, lengths and options, streaming, backward gradients, Linear, Embedding, optimizers and clipping.
// Each call must return or throw an RnnError; a refused call must leave its model giving bitwise the same outputs,
// and disposing everything must give every block back. Bounded in cases and time (test/fuzz/hostile.ts).
import fc from "fast-check";
import { describe, it, expect, beforeAll } from "vitest";
import {
  Adam, AdamW, Embedding, GRU, GRUCell, Linear, LSTM, LSTMCell, RNN, RNNCell, SGD, clipGradNorm, clipGradValue, crossEntropyLoss,
  gradNorm, mseLoss, type RecurrentCell, type RecurrentLayer, type Runtime, type Tensor,
} from "../../src/index.js";
import { memorySnapshot } from "../api/helpers.js";
import { expectBitwise } from "../helpers/compare.js";
import { randomTensor, rng } from "../helpers/random.js";
import { runtimeFor } from "../helpers/runtimes.js";
import { SMALL_SIZES, Tally, budget, choiceArb, report, sizeArb, survives } from "./hostile.js";

let rt: Runtime;
beforeAll(async () => {
  rt = await runtimeFor("simd");
});

const CONSTRUCTORS = { LSTM, GRU, RNN, LSTMCell, GRUCell, RNNCell } as const;

/** A hostile value for any option: a hostile size, a near-miss enum, a wrong type. */
const hostileValueArb = fc.oneof(sizeArb, fc.constantFrom<unknown>("yes", "eror", "cpu", "LSTM", "sigmoid", 0, {}, undefined));
const OPTION_KEYS = ["inputSize", "hiddenSize", "numLayers", "projSize", "bidirectional", "batchFirst", "bias", "nonlinearity",
  "resetAfter", "backend", "nanPolicy", "seed", "runtime", "hidden_size", "numlayers"];

/**
 * Constructor options: valid ones for the kind (so that accepted models are common), with up to two keys set to a
 * hostile value (so that each refusal can be traced to one or two bad options).
 */
const layerOptionsArb = fc.record({
  name: fc.constantFrom(...Object.keys(CONSTRUCTORS)),
  inputSize: fc.constantFrom(...SMALL_SIZES),
  hiddenSize: fc.constantFrom(...SMALL_SIZES),
  numLayers: fc.integer({ min: 1, max: 3 }),
  flags: fc.tuple(fc.boolean(), fc.boolean(), fc.boolean(), fc.boolean()),
  backend: fc.constantFrom("wasm", "reference"),
  seed: fc.integer(),
  bad: fc.array(fc.tuple(fc.constantFrom(...OPTION_KEYS), hostileValueArb), { maxLength: 2 }),
}).map(({ name, inputSize, hiddenSize, numLayers, flags: [bidirectional, batchFirst, bias, variant], backend, seed, bad }) => {
  const cell = name.endsWith("Cell");
  const kind = name.slice(0, cell ? -4 : undefined);
  const options: Record<string, unknown> = { inputSize, hiddenSize, bias, backend, seed, runtime: rt };
  if (!cell) Object.assign(options, { numLayers, bidirectional, batchFirst });
  if (kind === "RNN") options.nonlinearity = variant ? "relu" : "tanh";
  if (kind === "GRU") options.resetAfter = variant;
  if (kind === "LSTM" && !cell && variant && hiddenSize > 1) options.projSize = hiddenSize - 1;
  for (const [key, value] of bad) options[key] = value;
  return { name, options };
});

/** A model the calls below run against, with a probe whose output must not change when a call is refused. */
interface Subject {
  model: RecurrentLayer | RecurrentCell;
  probe: Tensor;
  probeOutput: Tensor;
}

function subject(model: RecurrentLayer | RecurrentCell): Subject {
  const I = model.spec.inputSize;
  const probe = randomTensor("stream" in model ? [4, 2, I] : [2, I], rng(I + 17));
  const out = model.forward(probe as never);
  return { model, probe, probeOutput: "output" in out ? out.output : out.h };
}

function probeUnchanged(s: Subject): void {
  const out = s.model.forward(s.probe as never);
  expectBitwise("probe output after a refused call", "output" in out ? out.output : out.h, s.probeOutput);
}

/** A shape: mostly sizes near the model's, sometimes hostile dims or rank. */
const dimArb = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(1, 2, 3, 4, 5) }, { weight: 1, arbitrary: fc.constantFrom(0, -1, 1.5, 2 ** 31, 2 ** 32, NaN) });
const shapeArb = fc.array(dimArb, { minLength: 0, maxLength: 4 });
/** A tensor-like value: consistent data for its shape, or data of another length or type, or not a tensor at all. */
const tensorArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ shape: shapeArb, fill: fc.constantFrom(0.5, -2, NaN, Infinity, 3e38), lie: fc.constantFrom(0, 0, 0, 1, -1) }).map(({ shape, fill, lie }) => {
    let n = 1;
    for (const d of shape) n *= d;
    const length = Number.isSafeInteger(n) && n >= 0 && n < 4096 ? Math.max(0, n + lie) : 7;
    const data = new Float32Array(length).fill(0.25);
    if (length > 0 && fill !== 0.5) data[length - 1] = fill;
    return { shape, data } as Tensor;
  }) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(null, {}, { shape: [1], data: [1] }, { shape: "1", data: new Float32Array(1) }, { shape: [1], data: new Float64Array(1) }, "x", 5) },
);
/** What forward, stream and backward take as options or gradients. */
const callOptionsArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant({}) },
  { weight: 2, arbitrary: fc.record({ train: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({
    h0: tensorArb, c0: tensorArb, h: tensorArb, c: tensorArb, train: choiceArb([true, false], ["yes", 1]),
    lengths: fc.oneof(fc.array(fc.constantFrom(1, 2, 3, 4, 0, -1, 1.5, 99, NaN), { maxLength: 4 }), fc.constantFrom<unknown>("2", null, {}, Int32Array.of(2, 2))),
    output: tensorArb, hN: tensorArb, cN: tensorArb, extra: fc.constant(1),
  }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(null, undefined, 5, "train", [], true) },
);

describe("hostile constructor options", () => {
  it("layers and cells: built and run, or refused with an RnnError, and every block given back", () => {
    const tally = new Tally();
    const details = fc.check(fc.property(layerOptionsArb, ({ name, options }) => {
      const before = memorySnapshot(rt);
      const Make = CONSTRUCTORS[name as keyof typeof CONSTRUCTORS] as new (o: object) => RecurrentLayer | RecurrentCell;
      const model = tally.record(survives(() => new Make(options)));
      if (model) {
        const s = model.spec;
        const x = randomTensor(s.cell ? [2, s.inputSize] : [3, 2, s.inputSize], rng(1));
        survives(() => model.forward(x as never));
        model.dispose();
      }
      expect(memorySnapshot(rt).blocks).toBe(before.blocks);
      expect(memorySnapshot(rt).bytes).toBe(before.bytes);
    }), budget(2000, 6));
    report("layer and cell options", tally, details);
  });
});

describe("hostile calls on live models", () => {
  it("forward, stream, resetState, backward: each returns or is refused, and a refused call changes nothing", () => {
    const before = memorySnapshot(rt);
    const subjects = [
      subject(new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, projSize: 2, seed: 1, runtime: rt })),
      subject(new GRU({ inputSize: 2, hiddenSize: 5, bidirectional: true, batchFirst: true, seed: 2, runtime: rt })),
      subject(new RNN({ inputSize: 4, hiddenSize: 3, nonlinearity: "relu", seed: 3, backend: "reference" })),
      subject(new LSTMCell({ inputSize: 3, hiddenSize: 4, seed: 4, runtime: rt })),
      subject(new GRUCell({ inputSize: 2, hiddenSize: 3, resetAfter: false, seed: 5, runtime: rt })),
    ];
    const tally = new Tally();
    const calls = fc.constantFrom("forward", "stream", "resetState", "backward", "state", "trainThenBackward");
    const details = fc.check(fc.property(fc.nat(subjects.length - 1), calls, fc.boolean(), tensorArb, callOptionsArb, (which, call, fits, hostileInput, options) => {
      const s = subjects[which];
      // half the inputs fit the model (T and B vary), so the options and states are what is on trial
      const input = (fits ? randomTensor([1 + (which % 3), ...s.probe.shape.slice(1)], rng(which)) : hostileInput) as never;
      // the calls as a careless caller makes them: any input, any options, on whichever model this is
      const m = s.model as unknown as {
        forward(x: never, o?: never): unknown; backward(o?: never): unknown; stream?(x: never, o?: never): unknown;
        resetState?(o?: never): void; state?: unknown;
      };
      const result = survives(() => {
        switch (call) {
          case "forward": return m.forward(input, options as never);
          case "stream": return m.stream ? m.stream(input, options as never) : m.forward(input, options as never);
          case "resetState": return m.resetState ? (m.resetState(options as never), true) : true;
          case "state": return m.stream ? m.state ?? true : true;
          case "backward": return m.backward(options as never);
          case "trainThenBackward": m.forward(input, { train: true } as never); return m.backward(options as never);
        }
      });
      tally.record(result);
      m.resetState?.();
      if (result === null) probeUnchanged(s);
    }), budget(3000, 8));
    report("calls on live models", tally, details);
    for (const s of subjects) s.model.dispose();
    expect(memorySnapshot(rt).blocks).toBe(before.blocks);
    expect(memorySnapshot(rt).bytes).toBe(before.bytes);
  });
});

describe("hostile arguments to Linear, Embedding, optimizers, clipping and losses", () => {
  it("each returns or is refused with an RnnError, and every block is given back", () => {
    const before = memorySnapshot(rt);
    const tally = new Tally();
    const anything = fc.oneof(sizeArb, tensorArb, callOptionsArb, fc.record({ lr: sizeArb, betas: fc.constantFrom<unknown>([0.9, 0.999], [1, 0], 0.9, [NaN, 0.5]), momentum: sizeArb, nesterov: choiceArb([true, false], ["1"]), amsgrad: choiceArb([true], [1]) }, { requiredKeys: [] }));
    const details = fc.check(fc.property(fc.constantFrom("Linear", "Embedding", "SGD", "Adam", "AdamW", "clipGradNorm", "clipGradValue", "gradNorm", "mseLoss", "crossEntropyLoss"), sizeArb, sizeArb, anything, anything, (what, a, b, c, d) => {
      const owned: { dispose(): void }[] = [];
      const keep = <T extends { dispose(): void }>(x: T): T => (owned.push(x), x);
      const lin = keep(new Linear({ inFeatures: 3, outFeatures: 2, seed: 1, runtime: rt }));
      tally.record(survives(() => {
        switch (what) {
          case "Linear": {
            const l = keep(new Linear({ inFeatures: a, outFeatures: b, ...(c as object), runtime: rt } as never));
            return l.forward(d as never);
          }
          case "Embedding": {
            const e = keep(new Embedding({ numEmbeddings: a, embeddingDim: b, runtime: rt } as never));
            return e.forward(c as never, d as never);
          }
          case "SGD": return keep(new SGD([lin, c] as never, d as never)).step();
          case "Adam": return keep(new Adam(lin, c as never)).step();
          case "AdamW": return keep(new AdamW(c as never, d as never)).step();
          case "clipGradNorm": return clipGradNorm(lin, a as never, b as never, c as never);
          case "clipGradValue": return clipGradValue(c as never, a as never);
          case "gradNorm": return gradNorm(lin, a as never);
          case "mseLoss": return mseLoss(c as never, d as never, a as never);
          case "crossEntropyLoss": return crossEntropyLoss(c as never, d as never, b as never);
        }
      }));
      for (const o of owned) o.dispose();
    }), budget(3000, 6));
    report("Linear, Embedding, optimizers, clipping, losses", tally, details);
    expect(memorySnapshot(rt).blocks).toBe(before.blocks);
    expect(memorySnapshot(rt).bytes).toBe(before.bytes);
  });
});
