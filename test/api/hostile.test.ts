// test/api/hostile.test.ts: the library findings of an adversarial run, each reproduced as it was found. Sizes that
// wrapped at 2^31 and corrupted other layers, a 272-byte file that built 10^11 layers, unchecked constructor
// weights, sizes checked only after allocating, contract breaks (ignored or unchecked options, TypeErrors); layers
// dropped without dispose() that held their wasm memory for ever are finding 9, in finalization.test.ts (it depends
// on the engine's garbage collector, so the Node 24 pass runs it). Every refusal must be an RnnError with a
// code, leave the runtime's counters where they were and leave other layers untouched.
import { describe, it, expect, beforeAll } from "vitest";
import {
  Adam, Embedding, fromTorch, GRU, Linear, LSTM, LSTMCell, RNN, RNNCell, SGD, Sequential, LastStep, clipGradNorm, clipGradValue,
  loadSafetensors, saveSafetensors, tensor, type RecurrentLayer, type Runtime, type Tensor,
} from "../../src/index.js";
import { roundUp4, roundUp8, paramBlockFloats, paramLayout } from "../../src/layout.js";
import { MAX_LAYERS, makeSpec } from "../../src/architecture.js";
import { expectRnnError, memorySnapshot } from "./helpers.js";
import { expectBitwise } from "../helpers/compare.js";
import { randomTensor, rng } from "../helpers/random.js";
import { runtimeFor } from "../helpers/runtimes.js";

let rt: Runtime;
beforeAll(async () => {
  rt = await runtimeFor("simd");
});

/** `bad` must throw RnnError(code, ...parts) and leave the runtime's counters as they were. */
function refused(bad: () => unknown, code: Parameters<typeof expectRnnError>[1], ...parts: (string | RegExp)[]): void {
  const mem = memorySnapshot(rt);
  expectRnnError(bad, code, ...parts);
  expect(memorySnapshot(rt), "memory counters after the refused call").toEqual(mem);
}

describe("1. sizes are exact past 2^31 and checked before anything is allocated", () => {
  it("roundUp4 and roundUp8 are exact beyond 32 bits (they were (n + 3) & ~3)", () => {
    for (const n of [2 ** 31 - 1, 2 ** 31, 2 ** 32 + 1, 5e9 + 3, 2 ** 52 + 4]) {
      expect(roundUp4(n)).toBe(Math.ceil(n / 4) * 4);
      expect(roundUp4(n)).toBeGreaterThanOrEqual(n);
      expect(roundUp8(n) % 8).toBe(0);
      expect(roundUp8(n)).toBeGreaterThanOrEqual(n);
    }
  });

  it("an inference workspace beyond a block ([2, 1e7, 1] into an LSTM(1, 64)) is refused and other layers keep their weights and outputs", () => {
    const next = rng(1);
    const others: RecurrentLayer[] = [];
    for (let i = 0; i < 24; i++) {
      const kind = [LSTM, GRU, RNN][i % 3];
      others.push(new kind({ inputSize: 3, hiddenSize: 5 + (i % 7), numLayers: 1 + (i % 2), seed: i, runtime: rt }));
    }
    const x = randomTensor([4, 2, 3], next);
    const weightsBefore = others.map((l) => l.toTorch());
    const outputsBefore = others.map((l) => l.forward(x).output);
    const lstm = new LSTM({ inputSize: 1, hiddenSize: 64, seed: 1, runtime: rt });
    const huge = tensor([2, 1e7, 1], new Float32Array(2e7));
    refused(() => lstm.forward(huge), "memory", "inference workspace", "T = 2, B = 10000000", "GiB");
    others.forEach((l, i) => {
      expectBitwise(`layer ${i}'s output`, l.forward(x).output, outputsBefore[i]);
      for (const [name, t] of Object.entries(l.toTorch())) expectBitwise(`layer ${i}'s ${name}`, t, weightsBefore[i][name]);
    });
    // the layer that refused still runs
    expect(lstm.forward(randomTensor([3, 2, 1], next)).output.shape).toEqual([3, 2, 64]);
    for (const l of [...others, lstm]) l.dispose();
  });

  it("a training workspace beyond a block (LSTM(1, 2^20, projSize 1), T = 4096: 64 GiB of input projection) is refused, not allocated short", () => {
    const lstm = new LSTM({ inputSize: 1, hiddenSize: 2 ** 20, projSize: 1, seed: 1, runtime: rt });
    refused(() => lstm.forward(tensor([4096, 1, 1]), { train: true }), "memory", "training workspace", "T = 4096, B = 1");
    lstm.dispose();
  });

  it("the closed-form parameter size equals the laid-out one", () => {
    const next = rng(7);
    for (let i = 0; i < 200; i++) {
      const kind = (["lstm", "gru", "rnn"] as const)[i % 3];
      const H = 1 + Math.floor(next() * 13);
      const spec = makeSpec(kind, {
        inputSize: 1 + Math.floor(next() * 11), hiddenSize: H, numLayers: 1 + Math.floor(next() * 3),
        bidirectional: next() < 0.5, bias: next() < 0.7, ...(kind === "lstm" && H > 1 && next() < 0.5 ? { projSize: 1 + Math.floor(next() * (H - 1)) } : {}),
      });
      expect(paramBlockFloats(spec), JSON.stringify(spec)).toBe(paramLayout(spec).totalFloats);
    }
  });
});

describe("2. a file cannot make us build an absurd number of layers", () => {
  const small = () => new LSTM({ inputSize: 1, hiddenSize: 1, bias: false, seed: 1, backend: "reference" }).toTorch();

  it("a safetensors file naming weight_ih_l99999999999 is refused by its first missing layer", () => {
    const tensors: Record<string, Tensor> = { ...small(), weight_ih_l99999999999: tensor([4, 1]) };
    const bytes = saveSafetensors(tensors);
    expect(bytes.length).toBeLessThan(400);
    refused(() => fromTorch(loadSafetensors(bytes).tensors), "missing", "'weight_ih_l1'", "layer 99999999999");
  });

  it("numLayers is bounded in the API", () => {
    refused(() => new LSTM({ inputSize: 1, hiddenSize: 1, numLayers: 100000, runtime: rt }), "shape", "numLayers", String(MAX_LAYERS));
    refused(() => new RNN({ inputSize: 1, hiddenSize: 1, numLayers: 2 ** 53, runtime: rt }), "shape", "numLayers");
  });

  it("a layer missing in the middle of a stack is named with its shape", () => {
    const w = new GRU({ inputSize: 2, hiddenSize: 3, numLayers: 3, seed: 1, backend: "reference" }).toTorch();
    delete w.weight_ih_l1;
    refused(() => fromTorch(w), "missing", "'weight_ih_l1'", "[9, 3]");
  });
});

describe("3. weights passed to constructors are checked as fromTorch checks them", () => {
  const I = 1, H = 3;
  const good = () => new LSTM({ inputSize: I, hiddenSize: H, seed: 4, backend: "reference" }).toTorch();
  const flat = (t: Record<string, Tensor>) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.data]));

  for (const backend of ["wasm", "reference"] as const) {
    it(`${backend}: a short weight_ih_l0 is 'shape' naming it; missing, extra and NaN weights are refused`, () => {
      const options = { inputSize: I, hiddenSize: H, backend, ...(backend === "wasm" ? { runtime: rt } : {}) };
      refused(() => new LSTM(options, { ...flat(good()), weight_ih_l0: new Float32Array(2) }), "shape", "'weight_ih_l0' has 2 values", "[12, 1]");
      const missing = flat(good());
      delete missing.bias_hh_l0;
      refused(() => new LSTM(options, missing), "missing", "'bias_hh_l0'", "[12]");
      refused(() => new LSTM(options, { ...flat(good()), weight_ih_l1: new Float32Array(12) }), "unexpected", "'weight_ih_l1'");
      refused(() => new LSTM(options, { ...flat(good()), weight_hh_l0: Array.from({ length: 36 }, () => 0) as never }), "dtype", "'weight_hh_l0'", "Array");
      refused(() => new LSTM(options, { ...flat(good()), bias_ih_l0: new Float64Array(12) as never }), "dtype", "'bias_ih_l0'");
      const nan = flat(good());
      nan.weight_hh_l0 = nan.weight_hh_l0.slice();
      nan.weight_hh_l0[5] = NaN;
      refused(() => new LSTM(options, nan), "nonfinite", "weight_hh_l0", "flat index 5");
      new LSTM({ ...options, nanPolicy: "propagate" }, nan).dispose();
      refused(() => new LSTM(options, null as never), "dtype", "weights must be an object");
    });
  }

  it("tensors as toTorch() returns them are accepted, and give the same layer", () => {
    const src = new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true, seed: 9, runtime: rt });
    const copy = new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true, runtime: rt }, src.toTorch());
    const x = randomTensor([5, 2, I], rng(3));
    expectBitwise("output", copy.forward(x).output, src.forward(x).output);
    const wrongShape = { ...src.toTorch(), weight_hh_l1: tensor([3, 12]) };
    refused(() => new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true, runtime: rt }, wrongShape), "shape", "weight_hh_l1", "[12, 3]");
    src.dispose();
    copy.dispose();
  });

  it("cells, Linear and Embedding check theirs too", () => {
    refused(() => new RNNCell({ inputSize: 2, hiddenSize: 2, runtime: rt }, { weight_ih: new Float32Array(3) }), "shape", "'weight_ih'");
    refused(() => new Linear({ inFeatures: 3, outFeatures: 2, runtime: rt }, { weight: new Float32Array(5), bias: new Float32Array(2) }), "shape", "'weight'", "[2, 3]");
    refused(() => new Linear({ inFeatures: 3, outFeatures: 2, runtime: rt }, { weight: new Float32Array(6) }), "missing", "'bias'");
    refused(() => new Linear({ inFeatures: 3, outFeatures: 2, bias: false, runtime: rt }, { weight: new Float32Array(6), bias: new Float32Array(2) }), "unexpected", "bias");
    refused(() => new Linear({ inFeatures: 3, outFeatures: 2, runtime: rt }, { weight: tensor([3, 2]), bias: tensor([2]) }), "shape", "weight", "[2, 3]");
    const lin = new Linear({ inFeatures: 3, outFeatures: 2, runtime: rt }, { weight: tensor([2, 3], Float32Array.of(1, 2, 3, 4, 5, 6)), bias: tensor([2]) });
    expect(Array.from(lin.forward(tensor([1, 3], Float32Array.of(1, 0, 0))).data)).toEqual([1, 4]);
    lin.dispose();
    refused(() => new Embedding({ numEmbeddings: 4, embeddingDim: 2, runtime: rt }, new Float32Array(7)), "shape", "'weight' has 7 values", "Embedding(4, 2)");
    refused(() => new Embedding({ numEmbeddings: 4, embeddingDim: 2, runtime: rt }, [1, 2] as never), "dtype", "'weight'", "Array");
  });
});

describe("6. sizes are checked before weights are drawn", () => {
  it("hiddenSize 1e6 and 20000 are 'memory' errors naming the parameters' size, before any JavaScript weights exist", () => {
    const arrayBytes = process.memoryUsage().arrayBuffers;
    refused(() => new LSTM({ inputSize: 1, hiddenSize: 1e6, runtime: rt }), "memory", "parameters of an LSTM", "hiddenSize 1000000", "TiB");
    refused(() => new LSTM({ inputSize: 1, hiddenSize: 20000, runtime: rt }), "memory", "parameters of an LSTM", "GiB");
    refused(() => new GRU({ inputSize: 1, hiddenSize: 20000, backend: "reference" }), "memory", "parameters of a GRU");
    refused(() => new Linear({ inFeatures: 1e6, outFeatures: 1e6, runtime: rt }), "memory", "Linear(1000000, 1000000)");
    refused(() => new Embedding({ numEmbeddings: 1e9, embeddingDim: 64, runtime: rt }), "memory", "Embedding(1000000000, 64)");
    // the 6.4 GB of weights an LSTM(1, 20000) would have drawn were never allocated
    expect(process.memoryUsage().arrayBuffers - arrayBytes).toBeLessThan(64 * 2 ** 20);
  });

  it("a tensor too large for one array is 'memory', a negative size 'shape'", () => {
    expectRnnError(() => tensor([-1]), "shape", "[-1]");
    expectRnnError(() => tensor([2, 1.5]), "shape");
    expectRnnError(() => tensor([2 ** 20, 2 ** 20, 2 ** 20]), "memory", "floats");
    expectRnnError(() => tensor([2], [1, 2] as never), "dtype", "Float32Array");
  });
});

describe("8. every entry point validates its arguments", () => {
  const lstmWeights = () => new LSTM({ inputSize: 2, hiddenSize: 3, numLayers: 2, seed: 5, backend: "reference" }).toTorch();

  it("nanPolicy 'propagate' applies to layer 0's weight_ih and weight_hh too", () => {
    for (const name of ["weight_ih_l0", "weight_hh_l0", "weight_hh_l1"]) {
      const w = lstmWeights();
      w[name].data[0] = NaN;
      refused(() => fromTorch(w, { runtime: rt }), "nonfinite", name);
      const layer = fromTorch(w, { runtime: rt, nanPolicy: "propagate" }) as RecurrentLayer;
      expect(layer.toTorch()[name].data[0]).toBeNaN();
      layer.dispose();
    }
  });

  it("fromTorch's kind, nanPolicy and other options are checked", () => {
    const rnnWeights = new RNN({ inputSize: 2, hiddenSize: 3, seed: 1, backend: "reference" }).toTorch();
    refused(() => fromTorch(rnnWeights, { kind: "LSTM" as never, runtime: rt }), "unexpected", "kind", "'LSTM'");
    refused(() => fromTorch(rnnWeights, { kind: "xyz" as never, runtime: rt }), "unexpected", "kind");
    refused(() => fromTorch(rnnWeights, { kind: "lstm", runtime: rt }), "shape", "weight_ih_l0");
    refused(() => fromTorch(rnnWeights, { nanPolicy: "eror" as never, runtime: rt }), "unexpected", "nanPolicy", "'eror'");
    refused(() => fromTorch(rnnWeights, { prefx: "a." } as never), "unexpected", "prefx");
    refused(() => fromTorch(rnnWeights, { nonlinearity: "sigmoid" as never, runtime: rt }), "unexpected", "nonlinearity");
  });

  it("a misspelt nanPolicy, backend or option is an error everywhere, not a silent default", () => {
    refused(() => new LSTM({ inputSize: 1, hiddenSize: 2, nanPolicy: "Error" as never, runtime: rt }), "unexpected", "nanPolicy");
    refused(() => new LSTMCell({ inputSize: 1, hiddenSize: 2, nanPolicy: "ignore" as never, runtime: rt }), "unexpected", "nanPolicy");
    refused(() => new Linear({ inFeatures: 1, outFeatures: 2, nanPolicy: 0 as never, runtime: rt }), "unexpected", "nanPolicy");
    refused(() => new GRU({ inputSize: 1, hiddenSize: 2, backend: "cpu" as never }), "unexpected", "backend");
    refused(() => new GRU({ inputSize: 1, hiddenSize: 2, hidden_size: 3 } as never), "unexpected", "hidden_size");
    refused(() => new RNN({ inputSize: 1, hiddenSize: 2, bidirectional: "yes" as never, runtime: rt }), "unexpected", "bidirectional");
    refused(() => new LSTM({ inputSize: 1, hiddenSize: 2, seed: "one" as never, runtime: rt }), "unexpected", "seed");
    refused(() => new LSTM({ inputSize: 1, hiddenSize: 2, runtime: {} as never }), "unexpected", "runtime");
    refused(() => new LSTM("lstm" as never), "unexpected", "LSTM options");
  });

  it("null options and gradients, hostile option values: RnnErrors, never TypeErrors", () => {
    const lstm = new LSTM({ inputSize: 2, hiddenSize: 3, seed: 2, runtime: rt });
    const x = randomTensor([4, 1, 2], rng(2));
    expectBitwise("forward(x, null)", lstm.forward(x, null as never).output, lstm.forward(x).output);
    lstm.forward(x, { train: true });
    expect(lstm.backward(null as never).dInput.shape).toEqual([4, 1, 2]);
    refused(() => lstm.forward(x, 5 as never), "unexpected", "forward options");
    refused(() => lstm.forward(x, { train: "yes" } as never), "unexpected", "train");
    refused(() => lstm.forward(x, { lenghts: [1] } as never), "unexpected", "lenghts");
    refused(() => lstm.forward(x, { lengths: "4" as never }), "dtype", "lengths");
    refused(() => lstm.stream(x, { train: 1 } as never), "unexpected", "train");
    refused(() => lstm.resetState(7 as never), "unexpected", "resetState");
    refused(() => lstm.forward(null as never), "dtype", "input");
    lstm.dispose();
    refused(() => lstm.state, "disposed");
    const lin = new Linear({ inFeatures: 2, outFeatures: 1, runtime: rt });
    refused(() => lin.forward(tensor([1, 2]), "train" as never), "unexpected", "Linear.forward");
    expect(lin.forward(tensor([1, 2]), null as never).shape).toEqual([1, 1]);
    refused(() => new SGD(lin, { lr: "0.1" as never }), "unexpected", "lr");
    refused(() => new SGD(lin, { lr: Infinity }), "unexpected", "lr");
    refused(() => new Adam(lin, { betas: 0.9 as never }), "unexpected", "betas");
    refused(() => new Adam(lin, { amsgrad: "no" as never }), "unexpected", "amsgrad");
    refused(() => new Adam(5 as never), "unexpected", "not a model");
    refused(() => new Adam([lin, null] as never), "unexpected", "models[1]");
    refused(() => clipGradNorm(lin, "1" as never), "unexpected", "maxNorm");
    refused(() => clipGradValue(lin, NaN), "unexpected", "clipValue");
    refused(() => new Sequential([lin, new LastStep({ batchFirst: 1 as never })]), "unexpected", "batchFirst");
    refused(() => new Sequential([lin, 5 as never]), "unexpected", "modules[1]");
    refused(() => new Sequential([lin]).forward(tensor([1, 2]), { stream: "yes" } as never), "unexpected", "stream");
    lin.dispose();
  });
});
