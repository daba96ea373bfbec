// test/api/quantize-sequential.test.ts: quantize(sequential) (src/quantized.ts, QuantizedSequential):
//   - its recurrent layers are quantized, its Linear / Embedding / LastStep modules copied in float32: forward is
//     BITWISE the chain run by hand (quantize(layer).forward, then the float modules), since it runs the same code on
//     the same numbers; and close to the float model (int8 within 2.5% of the output's largest value, int12 within
//     0.25%: the bounds test/api/quantize.test.ts holds single layers to, at PyTorch's initialisation);
//   - the copies are copies: same weights bit for bit, new objects; the float model is untouched and each of the two
//     can be disposed without the other; a module of your own is shared and left to its owner;
//   - stream: true in chunks is bitwise one forward over the whole sequence; resetState starts again;
//   - training calls throw RnnError 'state' (an optimizer refuses it); a Sequential without a recurrent layer, a
//     missing dtype and use after dispose are refused with their codes, and a refusal frees what it made.
import { beforeAll, describe, expect, it } from "vitest";
import {
  Adam, Embedding, GRU, LastStep, Linear, LSTM, QuantizedLayer, QuantizedSequential, RNN, Sequential, init, quantize,
  type Module, type Runtime, type Tensor,
} from "../../src/index.js";
import { expectRnnError } from "./helpers.js";
import { expectSameBits, maxAbs } from "../helpers/compare.js";
import { randomTensor, rng } from "../helpers/random.js";
import { runtimeFor } from "../helpers/runtimes.js";

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

let runtime: Runtime;

beforeAll(async () => {
  await init();
  runtime = await runtimeFor("simd"); // a runtime of its own, so blocksInUse counts this file's blocks only
});

/** LSTM 5 -> 23 (2 layers), its last step, a Linear head to 3 outputs. */
function lstmHead(backend: "wasm" | "reference"): Sequential {
  const o = backend === "wasm" ? { runtime } : { backend };
  return new Sequential([
    new LSTM({ inputSize: 5, hiddenSize: 23, numLayers: 2, seed: 1, ...o }),
    new LastStep(),
    new Linear({ inFeatures: 23, outFeatures: 3, seed: 2, ...o }),
  ]);
}

describe("quantize(sequential)", () => {
  for (const backend of ["wasm", "reference"] as const) {
    it(`quantizes the recurrent layers and copies the rest: bitwise the chain by hand, close to float (${backend})`, () => {
      using model = lstmHead(backend);
      const x = randomTensor([9, 4, 5], rng(3));
      const want = model.forward(x);
      for (const [dtype, bound] of [["int8", 0.025], ["int12", 0.0025]] as const) {
        using q = quantize(model, { dtype, ...(backend === "wasm" ? { runtime } : {}) });
        expect(q).toBeInstanceOf(QuantizedSequential);
        expect(q.dtype).toBe(dtype);
        const [layer, last, head] = q.modules;
        expect(layer).toBeInstanceOf(QuantizedLayer);
        expect((layer as QuantizedLayer).backend).toBe(backend);
        expect(last).toBeInstanceOf(LastStep);
        expect(last).not.toBe(model.modules[1]);
        expect(head).toBeInstanceOf(Linear);
        expect(head).not.toBe(model.modules[2]);
        expect((head as Linear).backend).toBe(backend);
        const floatHead = (model.modules[2] as Linear).toTorch(), copy = (head as Linear).toTorch();
        for (const k of ["weight", "bias"]) expectSameBits(`head ${k}`, copy[k].data, floatHead[k].data);

        const got = q.forward(x);
        expect(got.shape).toEqual([4, 3]);
        const byHand = (head as Linear).forward((last as LastStep).forward((layer as QuantizedLayer).forward(x).output));
        expectSameBits(`${dtype} forward`, got.data, byHand.data);
        const err = maxDiff(got.data, want.data) / maxAbs(want.data);
        expect(err, `${dtype}: error ${err} of the output's largest value`).toBeLessThan(bound);
        expect(q.weightBytes).toBe(backend === "wasm" ? (layer as QuantizedLayer).weightBytes : 0);
      }
      expectSameBits("the float model, after", model.forward(x).data, want.data);
    });
  }

  it("Embedding -> GRU (batch-first) -> Linear at every step; LastStep keeps batchFirst; a module of your own is shared", () => {
    let disposed = 0;
    const scale: Module = { forward: (t: Tensor) => ({ shape: t.shape, data: t.data.map((v) => 2 * v) }), backward: (g) => g, dispose: () => void disposed++ };
    using model = new Sequential([
      new Embedding({ numEmbeddings: 11, embeddingDim: 6, seed: 1 }),
      new GRU({ inputSize: 6, hiddenSize: 17, batchFirst: true, seed: 2 }),
      scale,
      new Linear({ inFeatures: 17, outFeatures: 4, seed: 3 }),
    ]);
    const next = rng(4);
    const ids = { shape: [3, 7], data: Int32Array.from({ length: 21 }, () => Math.floor(next() * 11)) }; // [B, T]
    const want = model.forward(ids as unknown as Tensor);
    const q = quantize(model, { dtype: "int8" });
    expect(q.modules[0]).toBeInstanceOf(Embedding);
    expect(q.modules[0]).not.toBe(model.modules[0]);
    expect(q.modules[2]).toBe(scale);
    const got = q.forward(ids as unknown as Tensor);
    expect(got.shape).toEqual([3, 7, 4]);
    expect(maxDiff(got.data, want.data) / maxAbs(want.data)).toBeLessThan(0.025);
    q.dispose();
    expect(disposed).toBe(0); // your module is the float model's to dispose
    q.dispose(); // twice is safe
    expectSameBits("the float model after the quantized one's dispose", model.forward(ids as unknown as Tensor).data, want.data);

    using withLast = quantize(new Sequential([new RNN({ inputSize: 2, hiddenSize: 5, batchFirst: true, seed: 5 }), new LastStep()]), { dtype: "int12" });
    expect((withLast.modules[1] as LastStep).batchFirst).toBe(true);
    expect(withLast.forward(randomTensor([4, 3, 2], rng(6))).shape).toEqual([4, 5]); // [B, T, F] -> [B, H]
  });

  it("stream: true in chunks is bitwise one forward over the whole sequence; resetState starts again", () => {
    using model = new Sequential([new LSTM({ inputSize: 3, hiddenSize: 9, seed: 1 }), new Linear({ inFeatures: 9, outFeatures: 2, seed: 2 })]);
    using q = quantize(model, { dtype: "int8" });
    const x = randomTensor([10, 2, 3], rng(7));
    const whole = q.forward(x);
    const chunk = (from: number, to: number) => ({ shape: [to - from, 2, 3], data: x.data.subarray(from * 6, to * 6) });
    for (let round = 0; round < 2; round++) {
      const parts = [q.forward(chunk(0, 4), { stream: true }), q.forward(chunk(4, 5), { stream: true }), q.forward(chunk(5, 10), { stream: true })];
      const joined = new Float32Array(parts.flatMap((p) => [...p.data]));
      expectSameBits(`round ${round}: chunks`, joined, whole.data);
      q.resetState();
    }
  });

  it("training calls throw 'state'; no recurrent layer, no dtype and use after dispose are refused; a refusal leaks nothing", () => {
    const blocks = runtime.blocksInUse;
    const model = lstmHead("wasm");
    const q = quantize(model, { dtype: "int8", runtime });
    const x = randomTensor([4, 2, 5], rng(8));
    expectRnnError(() => q.forward(x, { train: true }), "state", "inference only");
    expectRnnError(() => q.backward(), "state", "backward()");
    expectRnnError(() => q.zeroGrad(), "state");
    expectRnnError(() => new Adam(q as never), "state", "parameterBuffers()");
    expectRnnError(() => q.forward(x, { steam: true } as never), "unexpected", "steam");
    q.dispose();
    expectRnnError(() => q.forward(x), "disposed", "quantize the float one again");
    expectRnnError(() => q.weightBytes, "disposed");

    using linearOnly = new Sequential([new Linear({ inFeatures: 2, outFeatures: 1, seed: 1, runtime })]);
    expectRnnError(() => quantize(linearOnly, { dtype: "int8" }), "unexpected", "no recurrent layer");
    // the Linear before the layer is copied first, then the layer's options are refused: the copy is freed
    using linearFirst = new Sequential([new Linear({ inFeatures: 2, outFeatures: 5, seed: 1, runtime }), new LSTM({ inputSize: 5, hiddenSize: 4, seed: 2, runtime })]);
    const before = runtime.blocksInUse;
    expectRnnError(() => quantize(linearFirst, {} as never), "missing", "dtype");
    expectRnnError(() => quantize(linearFirst, { dtype: "int4" } as never), "unexpected", "dtype");
    expect(runtime.blocksInUse).toBe(before);
    model.dispose();
    linearFirst.dispose();
    linearOnly.dispose();
    expect(runtime.blocksInUse).toBe(blocks);
  });
});
