// test/api/memory.test.ts: wasm memory stays flat. Many create/forward/dispose cycles return the runtime's
// blocksInUse and bytesInUse to where they started and leave the wasm memory size (memoryBytes) where it was
// after a warm-up; a layer's workspace grows only when a call needs more than it has, and steady-state calls
// (forward, stream, cells) allocate nothing. Each test has its own runtime, so the counters see only its layers.
import { describe, it, expect } from "vitest";
import {
  GRUCell, LSTM, LSTMCell, RNNCell, type Kind, type LayerOptions, type RecurrentCell, type RecurrentLayer, type Runtime,
} from "../../src/index.js";
import { createLayer, memorySnapshot } from "./helpers.js";
import { randomTensor, rng } from "../helpers/random.js";
import { runtimeFor } from "../helpers/runtimes.js";

const CYCLES = 10_000;
const WARMUP = 100;

interface Job {
  make(rt: Runtime, seed: number): RecurrentLayer | RecurrentCell;
  input: { shape: number[]; data: Float32Array };
}

function layerJob(kind: Kind, options: Omit<LayerOptions, "runtime">, T: number, B: number): Job {
  return {
    make: (rt, seed) => createLayer(kind, { ...options, seed, runtime: rt }),
    input: randomTensor(options.batchFirst ? [B, T, options.inputSize] : [T, B, options.inputSize], rng(T * 31 + B)),
  };
}

function cellJob(make: (rt: Runtime, seed: number) => RecurrentCell, I: number, B: number): Job {
  return { make, input: randomTensor([B, I], rng(I * 7 + B)) };
}

/** Varied kinds and sizes, so the allocator sees blocks of many sizes (params and workspaces of each). */
const MIX: Job[] = [
  layerJob("lstm", { inputSize: 8, hiddenSize: 16 }, 4, 2),
  layerJob("gru", { inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true }, 3, 1),
  layerJob("rnn", { inputSize: 17, hiddenSize: 23, nonlinearity: "relu", batchFirst: true }, 7, 5),
  layerJob("lstm", { inputSize: 5, hiddenSize: 9, projSize: 4, numLayers: 3 }, 2, 3),
  layerJob("gru", { inputSize: 1, hiddenSize: 1, resetAfter: false }, 1, 1),
  layerJob("lstm", { inputSize: 19, hiddenSize: 22, bidirectional: true, bias: false }, 8, 4),
  cellJob((rt, seed) => new LSTMCell({ inputSize: 6, hiddenSize: 11, seed, runtime: rt }), 6, 3),
  cellJob((rt, seed) => new GRUCell({ inputSize: 2, hiddenSize: 13, seed, runtime: rt }), 2, 1),
  cellJob((rt, seed) => new RNNCell({ inputSize: 9, hiddenSize: 3, seed, runtime: rt }), 9, 2),
];

function run(owner: RecurrentLayer | RecurrentCell, input: Job["input"]): void {
  (owner as { forward(x: Job["input"]): unknown }).forward(input);
}

describe("many create / forward / dispose cycles", () => {
  it(`${CYCLES} cycles of a small LSTM (I=8 H=16 T=4 B=2) leave no block behind and memory flat`, async () => {
    const rt = await runtimeFor("simd");
    const start = memorySnapshot(rt);
    const x = randomTensor([4, 2, 8], rng(1));
    let afterWarmup = 0;
    for (let i = 0; i < CYCLES; i++) {
      const layer = new LSTM({ inputSize: 8, hiddenSize: 16, seed: i, runtime: rt });
      layer.forward(x);
      layer.dispose();
      if (i === WARMUP - 1) afterWarmup = rt.memoryBytes;
      if (i % 1000 === 999) expect(rt.blocksInUse, `blocks after cycle ${i}`).toBe(start.blocks);
    }
    expect(rt.blocksInUse).toBe(start.blocks);
    expect(rt.bytesInUse).toBe(start.bytes);
    expect(rt.memoryBytes).toBe(afterWarmup);
  });

  it(`${CYCLES} cycles over a mix of kinds and sizes, up to 3 alive at once, leave counters at the start and memory flat`, async () => {
    const rt = await runtimeFor("relaxed");
    const start = memorySnapshot(rt);
    const alive: (RecurrentLayer | RecurrentCell)[] = [];
    let afterWarmup = 0;
    for (let i = 0; i < CYCLES; i++) {
      // a fixed schedule (period MIX.length), so the warm-up already sees every combination of live blocks
      const job = MIX[i % MIX.length];
      const owner = job.make(rt, i);
      run(owner, job.input);
      alive.push(owner);
      if (alive.length > 3) alive.shift()!.dispose();
      if (i === WARMUP - 1) afterWarmup = rt.memoryBytes;
    }
    for (const o of alive) o.dispose();
    expect(rt.blocksInUse).toBe(start.blocks);
    expect(rt.bytesInUse).toBe(start.bytes);
    expect(rt.memoryBytes).toBe(afterWarmup);
  });
});

describe("workspace growth", () => {
  it("repeated forwards with the same or smaller T and B allocate nothing; a larger one grows the workspace once", async () => {
    const rt = await runtimeFor("scalar");
    const layer = new LSTM({ inputSize: 8, hiddenSize: 16, numLayers: 2, seed: 1, runtime: rt });
    const x = (T: number, B: number) => randomTensor([T, B, 8], rng(T * 10 + B));
    layer.forward(x(4, 2));
    const first = memorySnapshot(rt);
    expect(first.blocks).toBe(2); // parameters and workspace
    for (const [T, B] of [[4, 2], [4, 2], [1, 1], [3, 2], [4, 1], [2, 2]]) {
      layer.forward(x(T, B));
      expect(memorySnapshot(rt), `after T=${T} B=${B}`).toEqual(first);
    }
    layer.forward(randomTensor([4, 8], rng(3))); // unbatched, B = 1
    expect(memorySnapshot(rt)).toEqual(first);

    layer.forward(x(8, 2)); // more steps: the workspace is replaced by a larger one (free, then alloc)
    const grown = memorySnapshot(rt);
    expect(grown.blocks).toBe(first.blocks);
    expect(grown.bytes).toBeGreaterThan(first.bytes);
    for (const [T, B] of [[8, 2], [8, 1], [4, 2], [1, 1], [8, 2]]) {
      layer.forward(x(T, B));
      expect(memorySnapshot(rt), `after T=${T} B=${B}`).toEqual(grown);
    }
    layer.forward(x(8, 3)); // more rows: grows once more
    const grown2 = memorySnapshot(rt);
    expect(grown2.bytes).toBeGreaterThan(grown.bytes);
    expect(grown2.blocks).toBe(first.blocks);
    for (let i = 0; i < 20; i++) layer.forward(x(8, 3));
    expect(memorySnapshot(rt)).toEqual(grown2);
    layer.dispose();
    expect(rt.blocksInUse).toBe(0);
    expect(rt.bytesInUse).toBe(0);
  });

  it("streaming one step at a time and stepping a cell allocate nothing after the first call", async () => {
    const rt = await runtimeFor("simd");
    const layer = createLayer("gru", { inputSize: 4, hiddenSize: 6, numLayers: 2, seed: 2, runtime: rt });
    const step = randomTensor([1, 3, 4], rng(4));
    layer.stream(step);
    const s = memorySnapshot(rt);
    for (let i = 0; i < 200; i++) layer.stream(step);
    expect(memorySnapshot(rt)).toEqual(s);
    const cell = new LSTMCell({ inputSize: 4, hiddenSize: 6, seed: 2, runtime: rt });
    const row = randomTensor([3, 4], rng(5));
    let state = cell.forward(row);
    const c = memorySnapshot(rt);
    for (let i = 0; i < 200; i++) state = cell.forward(row, state);
    expect(memorySnapshot(rt)).toEqual(c);
    cell.dispose();
    layer.dispose();
    expect(rt.blocksInUse).toBe(0);
  });

  it("the reference backend uses no wasm memory", async () => {
    const rt = await runtimeFor("simd");
    const layer = createLayer("lstm", { inputSize: 4, hiddenSize: 6, backend: "reference", runtime: rt, seed: 1 });
    layer.forward(randomTensor([3, 2, 4], rng(1)));
    expect(rt.blocksInUse).toBe(0);
    layer.dispose();
  });
});
