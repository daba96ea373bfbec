// packWeights (wasm) must lay a PyTorch (G*R, C) matrix out exactly as src/layout.ts's pack does: the engine
// loads every model through the kernel, and toTorch()/the tests read it back with the TypeScript unpack.
// Pure data movement, so the comparison is bit for bit, zero padding included.
import { describe, it, beforeAll } from "vitest";
import fc from "fast-check";
import { BUILDS, loadRuntimes, packed, withWasm } from "./harness.js";
import { expectSameBits } from "../helpers/compare.js";
import { randomF32, rng } from "../helpers/random.js";
import { type Runtimes } from "../helpers/runtimes.js";
import { packedSize, roundUp4 } from "../../src/layout.js";

describe("packWeights (wasm) vs layout.ts pack, all builds", () => {
  let rts: Runtimes;
  beforeAll(async () => {
    rts = await loadRuntimes();
  });

  it("gives the same bits, padding included (G 1..5, R 1..37, C 1..41)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 37 }), fc.integer({ min: 1, max: 41 }), fc.integer(),
        (G, R, C, seed) => {
          const src = randomF32(G * R * C, rng(seed));
          const want = packed(src, G, R, C);
          const n = packedSize(C, G * roundUp4(R));
          for (const build of BUILDS) {
            const got = withWasm(rts[build], (w) => {
              const s = w.put(src, "src");
              const d = w.alloc(n, NaN, "dst");
              w.k.packWeights(d, s, G, R, C);
              w.checkGuards("packWeights");
              return w.read(d, n);
            });
            expectSameBits(`packWeights G=${G} R=${R} C=${C} (${build})`, got, want);
          }
        }),
      { numRuns: 300, seed: 0x9ac },
    );
  });
});
