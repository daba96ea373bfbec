// test/js-runtimes/node24.test.ts: the package on Node 24 beside the machine's Node, both importing it by name as a user
// does (the "node" export condition). Node 24 validates relaxed SIMD without flags, so init() picks the relaxed build
// there; Node 20 does not, so init() falls back to the plain SIMD build. The Node 24 binary comes from the npm
// registry (scripts/node24.mjs); `npm test` also runs the engine-dependent suite on it (the script test:node24).
import { describe, expect, it } from "vitest";
import { node24 } from "../../scripts/node24.mjs";
import { layerDiffs, nodeParity } from "./helpers.js";

const NODE24 = node24();

describe("Node 24 and Node 20", () => {
  if (!NODE24.path) console.log(`Node 24 parity skipped: ${NODE24.reason}`);

  it.skipIf(!NODE24.path)("Node 24 picks relaxed SIMD without flags; Node 20 picks plain SIMD, and relaxed only with its flag", () => {
    const node24 = nodeParity(NODE24.path!);
    expect(node24.node).toMatch(/^v24\./);
    expect(node24.defaultBuild).toBe("relaxed");
    expect(node24.supports).toEqual({ relaxed: true, simd: true, scalar: true });

    // the Node running the suite: 20 on the project's machines (its V8 validates relaxed SIMD only with the flag)
    const node20 = nodeParity(process.execPath);
    const hostRelaxed = Number(process.versions.node.split(".")[0]) >= 22;
    expect(node20.defaultBuild).toBe(hostRelaxed ? "relaxed" : "simd");
    expect(node20.supports).toEqual({ relaxed: hostRelaxed, simd: true, scalar: true });
    const node20Relaxed = nodeParity(process.execPath, ["--experimental-wasm-relaxed-simd"]);
    expect(node20Relaxed.defaultBuild).toBe("relaxed");

    // same build, same bits up to 1e-6 across V8 versions
    for (const [build, reference] of [["simd", node20], ["scalar", node20], ["relaxed", node20Relaxed]] as const) {
      for (const [layer, d] of Object.entries(layerDiffs(node24.outputs[build], reference.outputs[build]))) {
        expect(d, `${build} ${layer}`).toBeLessThanOrEqual(1e-6);
      }
    }
  });
});
