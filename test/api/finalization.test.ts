// test/api/finalization.test.ts: finding 9 of the adversarial run (hostile.test.ts): layers dropped without
// dispose() held their wasm memory for ever. A FinalizationRegistry now frees what a collected owner held (as a leak
// detector: dispose() is the way to free). It depends on V8's garbage collector, so the Node 24 pass runs it too.
import { runInNewContext } from "node:vm";
import v8 from "node:v8";
import { describe, it, expect } from "vitest";
import { Adam, Linear, LSTM } from "../../src/index.js";
import { collectedOwners } from "../../src/blocks.js";
import { memorySnapshot } from "./helpers.js";
import { randomTensor, rng } from "../helpers/random.js";
import { runtimeFor } from "../helpers/runtimes.js";

describe("9. layers dropped without dispose() give their wasm memory back", () => {
  it("20,000 layers, Linears and optimizers created and dropped leave the runtime's blocks and memory flat", async () => {
    v8.setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const own = await runtimeFor("simd");
    const settle = async () => {
      for (let i = 0; i < 4; i++) {
        gc();
        await new Promise((r) => setTimeout(r, 0));
      }
    };
    const x = randomTensor([6, 2, 8], rng(5));
    const before = memorySnapshot(own);
    const collectedBefore = collectedOwners();
    const round = (n: number) => {
      for (let i = 0; i < n; i++) {
        const lstm = new LSTM({ inputSize: 8, hiddenSize: 16, seed: i, runtime: own });
        lstm.forward(x, { train: i % 10 === 0 });
        if (i % 50 === 0) {
          const head = new Linear({ inFeatures: 16, outFeatures: 2, runtime: own });
          void new Adam([lstm, head]);
        }
      }
    };
    round(2000);
    await settle();
    const afterFirst = memorySnapshot(own);
    for (let r = 1; r < 10; r++) {
      round(2000);
      await settle();
    }
    const after = memorySnapshot(own);
    // every dropped owner's blocks were freed, so later rounds reuse the memory the first one grew to
    expect(after.blocks, "blocks still held after collection").toBe(before.blocks);
    expect(after.bytes).toBe(before.bytes);
    expect(after.memory, "wasm memory after 10 rounds vs after 1").toBe(afterFirst.memory);
    expect(collectedOwners() - collectedBefore).toBeGreaterThanOrEqual(20000);
  });
});
