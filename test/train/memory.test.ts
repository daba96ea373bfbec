// Training leaves wasm memory flat: many cycles of create model / optimizer / forward(train) / backward / step /
// dispose return the runtime's blocksInUse and bytesInUse to where they started, and the linear memory
// (memoryBytes, which only grows) stays at its size after a warm-up. Each test has its own runtime, so the
// counters see only its blocks.
import { describe, it, expect } from "vitest";
import {
  Adam, AdamW, clipGradNorm, clipGradValue, crossEntropyLoss, Embedding, GRU, LastStep, Linear, LSTM, mseLoss, SGD, Sequential,
  type Optimizer, type Runtime,
} from "../../src/index.js";
import { randomTensor, rng } from "../helpers/random.js";
import { runtimeFor } from "../helpers/runtimes.js";

const CYCLES = 2_000;
const WARMUP = 100;
// The mix below reaches its allocator steady state later: TLSF grows memory once more (128 -> 256 KiB, live set
// ~75 KB) around cycle 350 while the free lists settle into the interleaving of three model kinds, then stays
// at that size (checked to 20,000 cycles). A leak would keep growing, so the mix's warm-up is half the cycles.
const MIX_WARMUP = CYCLES / 2;

function snapshot(rt: Runtime): { blocks: number; bytes: number } {
  return { blocks: rt.blocksInUse, bytes: rt.bytesInUse };
}

describe("training cycles leave wasm memory flat", () => {
  it(`${CYCLES} cycles of LSTM + Linear / Adam / forward(train) / backward / clip / step / dispose`, async () => {
    const rt = await runtimeFor("simd");
    const start = snapshot(rt);
    const x = randomTensor([5, 3, 4], rng(1)), target = randomTensor([3, 2], rng(2));
    let afterWarmup = 0;
    for (let i = 0; i < CYCLES; i++) {
      const model = new Sequential([
        new LSTM({ inputSize: 4, hiddenSize: 6, seed: i, runtime: rt }),
        new LastStep(),
        new Linear({ inFeatures: 6, outFeatures: 2, seed: i + 1, runtime: rt }),
      ]);
      const opt = new Adam(model, { lr: 1e-2 });
      const y = model.forward(x, { train: true });
      model.backward(mseLoss(y, target).grad);
      clipGradNorm(model, 1);
      opt.step();
      opt.dispose();
      model.dispose();
      if (i === WARMUP - 1) afterWarmup = rt.memoryBytes;
      if (i % 500 === 499) expect(rt.blocksInUse, `blocks after cycle ${i}`).toBe(start.blocks);
    }
    expect(snapshot(rt)).toEqual(start);
    expect(rt.memoryBytes).toBe(afterWarmup);
  });

  it(`${CYCLES} cycles over a mix of models, optimizers and dispose orders (up to 3 alive at once); memory flat over the second half`, async () => {
    const rt = await runtimeFor("relaxed");
    const start = snapshot(rt);
    type Job = { model: Sequential; opt: Optimizer; run(): void };
    const jobs: ((seed: number) => Job)[] = [
      (seed) => {
        const model = new Sequential([new LSTM({ inputSize: 3, hiddenSize: 5, numLayers: 2, projSize: 2, seed, runtime: rt }), new LastStep(), new Linear({ inFeatures: 2, outFeatures: 3, seed, runtime: rt })]);
        const x = randomTensor([4, 2, 3], rng(seed));
        return { model, opt: new AdamW(model, { amsgrad: true }), run: () => model.backward(crossEntropyLoss(model.forward(x, { train: true }), [0, 2]).grad) };
      },
      (seed) => {
        const model = new Sequential([new Embedding({ numEmbeddings: 9, embeddingDim: 4, seed, runtime: rt }), new GRU({ inputSize: 4, hiddenSize: 7, batchFirst: true, seed, runtime: rt }), new LastStep(), new Linear({ inFeatures: 7, outFeatures: 1, seed, runtime: rt })]);
        const tokens = { shape: [3, 6], data: Float32Array.from({ length: 18 }, (_, k) => (k * 5 + seed) % 9) };
        return { model, opt: new SGD(model, { lr: 0.1, momentum: 0.9, nesterov: true }), run: () => { model.backward(mseLoss(model.forward(tokens, { train: true }), randomTensor([3, 1], rng(seed))).grad); clipGradValue(model, 0.5); } };
      },
      (seed) => {
        const T = 2 + (seed % 5); // workspaces of several sizes
        const model = new Sequential([new LSTM({ inputSize: 2, hiddenSize: 9, bidirectional: true, seed, runtime: rt }), new Linear({ inFeatures: 18, outFeatures: 2, seed, runtime: rt })]);
        const x = randomTensor([T, 3, 2], rng(seed));
        return { model, opt: new Adam(model, { weightDecay: 0.01 }), run: () => model.backward(mseLoss(model.forward(x, { train: true }), randomTensor([T, 3, 2], rng(seed + 1))).grad) };
      },
    ];
    const alive: Job[] = [];
    let afterWarmup = 0;
    for (let i = 0; i < CYCLES; i++) {
      const job = jobs[i % jobs.length](i);
      job.run();
      job.opt.step();
      alive.push(job);
      if (alive.length > 3) {
        const old = alive.shift()!;
        // alternate which goes first: an optimizer may outlive its model (it must still free its own blocks)
        if (i % 2) { old.opt.dispose(); old.model.dispose(); } else { old.model.dispose(); old.opt.dispose(); }
      }
      if (i === MIX_WARMUP - 1) afterWarmup = rt.memoryBytes;
    }
    for (const j of alive) { j.opt.dispose(); j.model.dispose(); }
    expect(snapshot(rt)).toEqual(start);
    expect(rt.memoryBytes).toBe(afterWarmup);
  });

  it("steady-state training allocates nothing: 500 steps of one model keep blocks, bytes and memory constant after the first", async () => {
    const rt = await runtimeFor("scalar");
    const model = new Sequential([new LSTM({ inputSize: 3, hiddenSize: 4, seed: 1, runtime: rt }), new LastStep(), new Linear({ inFeatures: 4, outFeatures: 2, seed: 2, runtime: rt })]);
    const opt = new Adam(model);
    const x = randomTensor([6, 2, 3], rng(3)), target = randomTensor([2, 2], rng(4));
    const step = () => {
      opt.zeroGrad();
      model.backward(mseLoss(model.forward(x, { train: true }), target).grad);
      clipGradNorm(model, 1);
      opt.step();
    };
    step();
    const first = { ...snapshot(rt), memory: rt.memoryBytes };
    for (let i = 0; i < 500; i++) step();
    expect({ ...snapshot(rt), memory: rt.memoryBytes }).toEqual(first);
    opt.dispose();
    model.dispose();
    expect(snapshot(rt)).toEqual({ blocks: 0, bytes: 0 });
  });
});
