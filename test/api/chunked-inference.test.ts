// test/api/chunked-inference.test.ts: inference projects the input a chunk of timesteps at a time
// (src/layout.ts chunkSteps: about INFERENCE_CHUNK_ROWS rows of T*B per chunk), carrying the states from chunk to
// chunk; a training forward keeps the whole sequence and so runs it as one chunk. Both compute each output
// element with the same operations in the same order (gemm gives a row the same bits in any block), so on
// shapes that span several chunks, in both directions, with lengths, initial states, stacking and projection,
// inference must equal the training forward bit for bit, on every build. Then the memory this saves: a W-batch
// call fits in the weights plus twice its output.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { LSTM, type Runtime } from "../../src/index.js";
import { chunkSteps, INFERENCE_CHUNK_ROWS } from "../../src/layout.js";
import { caseData, createLayer, layerCaseArb, layerOptions, type LayerCase } from "./helpers.js";
import { expectBitwise } from "../helpers/compare.js";
import { rng } from "../helpers/random.js";
import { TEST_BUILDS, runtimeFor } from "../helpers/runtimes.js";

const rts = {} as Record<(typeof TEST_BUILDS)[number], Runtime>;
beforeAll(async () => {
  for (const build of TEST_BUILDS) rts[build] = await runtimeFor(build);
});

/** Batched cases of B 13..70 rows and T 2..30 steps: chunks of 4..20 steps, so most span several. */
const chunkedCase = fc
  .tuple(layerCaseArb({ maxLayers: 2 }), fc.integer({ min: 13, max: 70 }), fc.integer({ min: 2, max: 30 }), fc.boolean())
  .map(([c, B, T, withLengths]) => ({ c: { ...c, batched: true, B, T } as LayerCase, withLengths }));

describe("inference in chunks of timesteps", () => {
  it("splits long batched sequences into several chunks, and batch-1 sequences up to 256 steps into one", () => {
    expect(INFERENCE_CHUNK_ROWS).toBe(256);
    expect(chunkSteps(64, 64)).toBe(4); // W-batch: 16 chunks
    expect(chunkSteps(128, 1)).toBe(128); // W-seq: one chunk
    expect(chunkSteps(1000, 1)).toBe(256);
    expect(chunkSteps(30, 37)).toBe(7); // 7, 7, 7, 7, 2
    expect(chunkSteps(3, 1000)).toBe(1);
  });

  for (const build of TEST_BUILDS) {
    it(`${build}: equals the one-chunk training forward bit for bit (output, hN, cN)`, () => {
      fc.assert(
        fc.property(chunkedCase, ({ c, withLengths }) => {
          const layer = createLayer(c.kind, { ...layerOptions(c), runtime: rts[build] });
          try {
            const { input, state } = caseData(c);
            const next = rng(c.dataSeed ^ 0x5bd1e995);
            const lengths = withLengths ? Array.from({ length: c.B }, () => 1 + Math.floor(next() * c.T)) : undefined;
            const chunked = layer.forward(input, { ...state, lengths });
            const whole = layer.forward(input, { ...state, lengths, train: true });
            const what = `${c.kind} B=${c.B} T=${c.T} (chunks of ${chunkSteps(c.T, c.B)}) ${JSON.stringify(layerOptions(c))}${lengths ? ` lengths ${lengths}` : ""}`;
            expectBitwise(`${what}: output`, chunked.output, whole.output);
            expectBitwise(`${what}: hN`, chunked.hN, whole.hN);
            if (c.kind === "lstm") expectBitwise(`${what}: cN`, chunked.cN, whole.cN);
          } finally {
            layer.dispose();
          }
        }),
        { numRuns: 40, seed: 0x2026 + build.length },
      );
    });
  }

  it("a W-batch call (LSTM I=128 H=256, B=64, T=64) grows wasm memory to at most the weights plus twice the output", async () => {
    const rt = await runtimeFor("simd"); // a runtime of its own: memoryBytes counts everything it ever held
    const [I, H, B, T] = [128, 256, 64, 64];
    const lstm = new LSTM({ inputSize: I, hiddenSize: H, seed: 7, runtime: rt });
    const x = { shape: [T, B, I], data: new Float32Array(T * B * I).fill(0.25) };
    lstm.forward(x);
    const weightBytes = 4 * (4 * H * (I + H) + 2 * 4 * H);
    const outputBytes = 4 * T * B * H;
    const bound = weightBytes + 2 * outputBytes;
    expect(rt.memoryBytes, `wasm memory ${rt.memoryBytes} bytes, bound ${bound}`).toBeLessThanOrEqual(bound);
    const grown = rt.memoryBytes;
    lstm.forward(x); // steady state: the same call allocates nothing more
    expect(rt.memoryBytes).toBe(grown);
    lstm.dispose();
  });
});
