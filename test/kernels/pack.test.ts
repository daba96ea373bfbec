// packWeights (wasm) must lay a PyTorch (G*R, C) matrix out exactly as src/layout.ts's pack does: the engine
// loads every model through the kernel, and toTorch()/the tests read it back with the TypeScript unpack.
// Pure data movement, so the comparison is bit for bit, zero padding included.
import { describe, it, expect, beforeAll } from "vitest";
import fc from "fast-check";
import { BUILDS, loadRuntimes, packed, withWasm } from "./harness.js";
import { expectSameBits } from "../helpers/compare.js";
import { randomF32, rng } from "../helpers/random.js";
import { type Runtimes } from "../helpers/runtimes.js";
import { gateWidth, packedSize, roundUp4 } from "../../src/layout.js";
import { makeSpec, type Spec } from "../../src/architecture.js";

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

// The engine sizes each gates buffer with layout.ts's gateWidth; the kernels index it with their own
// lstmGateWidth/gruGateWidth. A disagreement would read or write past a step's gates, so they are compared here.
describe("gate buffer widths: the kernels' own (wasm) vs layout.ts's gateWidth, all builds", () => {
  let rts: Runtimes;
  beforeAll(async () => {
    rts = await loadRuntimes();
  });

  it("agree for every hidden size 1..67, with and without an LSTM projection (projSize < hiddenSize, as PyTorch requires)", () => {
    for (const build of BUILDS) {
      const k = rts[build].kernels;
      for (let H = 1; H <= 67; H++) {
        const spec = (kind: Spec["kind"], projSize: number) => makeSpec(kind, { inputSize: 3, hiddenSize: H, projSize });
        expect(k.lstmGateWidth(H, 0), `lstm H=${H} (${build})`).toBe(gateWidth(spec("lstm", 0)));
        if (H > 1) expect(k.lstmGateWidth(H, 1), `lstm H=${H} projSize 1 (${build})`).toBe(gateWidth(spec("lstm", 1)));
        expect(k.gruGateWidth(H), `gru H=${H} (${build})`).toBe(gateWidth(spec("gru", 0)));
      }
    }
  });
});
