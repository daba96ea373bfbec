// test/api/stream-out.test.ts: stream()'s `out` option, forward's carried over to streaming (issue 14: nothing
// allocated per call in steady state, for a stream stepped one chunk at a time). On the wasm float engine, the
// reference backend and int8 (wasm and reference), LSTM (with its cN), GRU and RNN: a stream fed through `out` gives,
// chunk by chunk, bitwise what a stream fed without it gives (out starts full of NaN, and is reused for every chunk);
// the state it keeps is its own copy (writing into out's hN afterwards changes nothing); a chunk refused for its `out`
// leaves the stream where it was; 50 steps with `out` allocate no wasm memory. No tolerance: the same engine computes
// both streams.
import { beforeAll, describe, expect, it } from "vitest";
import { quantize, type LayerOptions, type LayerResult, type LayerState, type Runtime, type Tensor } from "../../src/index.js";
import { createLayer, expectRnnError, memorySnapshot } from "./helpers.js";
import { expectBitwise } from "../helpers/compare.js";
import { randomTensor, rng } from "../helpers/random.js";
import { runtimeFor } from "../helpers/runtimes.js";

let rt: Runtime;
beforeAll(async () => {
  rt = await runtimeFor("simd");
});

type Out = { output: Tensor; hN: Tensor; cN?: Tensor };

/** What stream() is called on: a float or a quantized layer. */
interface Streamable {
  stream(input: Tensor, options?: { out?: Out }): LayerResult;
  resetState(initial?: LayerState): void;
  dispose(): void;
}

type Kind = "lstm" | "gru" | "rnn";
const KINDS: { kind: Kind; options: LayerOptions }[] = [
  { kind: "lstm", options: { inputSize: 5, hiddenSize: 7, projSize: 3, numLayers: 2 } },
  { kind: "gru", options: { inputSize: 4, hiddenSize: 9 } },
  { kind: "rnn", options: { inputSize: 6, hiddenSize: 5, numLayers: 2, nonlinearity: "relu" } },
];

const ENGINES: { name: string; make(kind: Kind, o: LayerOptions): Streamable }[] = [
  { name: "wasm float32", make: (k, o) => createLayer(k, { ...o, runtime: rt }) },
  { name: "reference", make: (k, o) => createLayer(k, { ...o, backend: "reference" }) },
  { name: "int8 (q16)", make: (k, o) => quantized(k, o, "wasm") },
  { name: "int8 reference", make: (k, o) => quantized(k, o, "reference") },
];

function quantized(kind: Kind, o: LayerOptions, backend: "wasm" | "reference"): Streamable {
  const float = createLayer(kind, { ...o, runtime: rt });
  try {
    return quantize(float, { dtype: "int8", form: "q16", backend, ...(backend === "wasm" ? { runtime: rt } : {}) });
  } finally {
    float.dispose();
  }
}

/** `body` on the same layer made twice: two streams from identical weights (the seed fixes them), disposed after. */
function withTwins(e: (typeof ENGINES)[number], c: (typeof KINDS)[number], body: (plain: Streamable, viaOut: Streamable) => void): void {
  const plain = e.make(c.kind, { ...c.options, seed: 7 }), viaOut = e.make(c.kind, { ...c.options, seed: 7 });
  try {
    body(plain, viaOut);
  } finally {
    plain.dispose();
    viaOut.dispose();
  }
}

const nan = (shape: readonly number[]): Tensor => ({ shape: [...shape], data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(NaN) });
const outFor = (r: LayerResult): Out => (r.cN ? { output: nan(r.output.shape), hN: nan(r.hN.shape), cN: nan(r.cN.shape) } : { output: nan(r.output.shape), hN: nan(r.hN.shape) });

function expectSame(what: string, got: LayerResult, want: LayerResult): void {
  expectBitwise(`${what} output`, got.output, want.output);
  expectBitwise(`${what} hN`, got.hN, want.hN);
  if (want.cN) expectBitwise(`${what} cN`, got.cN, want.cN);
}

describe("stream with out", () => {
  for (const c of KINDS) {
    for (const e of ENGINES) {
      it(`${c.kind}, ${e.name}: chunk by chunk bitwise a stream without out, in out's own tensors`, () => {
        withTwins(e, c, (plain, viaOut) => {
          const next = rng(11);
          const B = 2, I = c.options.inputSize;
          // chunks of equal T in a row reuse out as it is; a new T needs a new out.output (hN and cN stay)
          const chunks = [3, 3, 1, 1, 4].map((T) => randomTensor([T, B, I], next));
          let out: Out | null = null;
          for (const [k, x] of chunks.entries()) {
            const want = plain.stream(x);
            if (!out) out = outFor(want);
            else if (out.output.shape[0] !== want.output.shape[0]) out = { output: nan(want.output.shape), hN: out.hN, cN: out.cN };
            const got = viaOut.stream(x, { out });
            expect(got.output, `chunk ${k}: output is out's`).toBe(out.output);
            expect(got.hN, `chunk ${k}: hN is out's`).toBe(out.hN);
            if (want.cN) expect(got.cN, `chunk ${k}: cN is out's`).toBe(out.cN);
            expectSame(`chunk ${k}`, got, want);
          }
        });
      });
    }
  }

  it("keeps its own copy of the state: writing into out's hN and cN afterwards changes nothing", () => {
    for (const e of ENGINES) {
      withTwins(e, KINDS[0], (plain, viaOut) => {
        const next = rng(12);
        const x1 = randomTensor([2, 1, 5], next), x2 = randomTensor([2, 1, 5], next);
        const out = outFor(plain.stream(x1));
        viaOut.stream(x1, { out });
        out.hN.data.fill(1e6);
        out.cN!.data.fill(-1e6);
        expectSame(e.name, viaOut.stream(x2), plain.stream(x2));
      });
    }
  });

  it("a chunk refused for its out leaves the stream where it was", () => {
    for (const e of ENGINES) {
      withTwins(e, KINDS[1], (plain, viaOut) => {
        const next = rng(13);
        const x1 = randomTensor([3, 2, 4], next), x2 = randomTensor([3, 2, 4], next);
        const want1 = plain.stream(x1);
        viaOut.stream(x1);
        const wrong = { output: nan([3, 2, 8]), hN: nan(want1.hN.shape) }; // 8 features, not 9
        expectRnnError(() => viaOut.stream(x2, { out: wrong }), "shape", "out.output");
        const hNOverInput = { shape: want1.hN.shape, data: x2.data.subarray(0, want1.hN.data.length) }; // forward reads x2 while writing
        expectRnnError(() => viaOut.stream(x2, { out: { output: nan(want1.output.shape), hN: hNOverInput } }), "unexpected", "shares memory");
        expect(wrong.output.data.every(Number.isNaN), `${e.name}: a refused call wrote into out`).toBe(true);
        expectSame(`${e.name}, the chunk after the refusals`, viaOut.stream(x2), plain.stream(x2));
      });
    }
  });

  it("50 steps with out: every result in out's tensors, no wasm memory allocated (float32 and int8)", () => {
    for (const e of ENGINES.filter((x) => !x.name.includes("reference"))) {
      const layer = e.make("lstm", { inputSize: 8, hiddenSize: 16, seed: 3 });
      try {
        const next = rng(14);
        const xs = Array.from({ length: 50 }, () => randomTensor([1, 1, 8], next));
        const out = outFor(layer.stream(xs[0]));
        layer.stream(xs[1], { out });
        const before = memorySnapshot(rt);
        for (const x of xs.slice(2)) {
          const r = layer.stream(x, { out });
          expect(r.output === out.output && r.hN === out.hN && r.cN === out.cN, `${e.name}: results in out's tensors`).toBe(true);
        }
        expect(memorySnapshot(rt), e.name).toEqual(before);
      } finally {
        layer.dispose();
      }
    }
  });
});
