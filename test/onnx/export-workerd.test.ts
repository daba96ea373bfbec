// test/onnx/export-workerd.test.ts: toOnnx inside workerd (the Cloudflare Workers runtime, run by Miniflare), from the
// repository's build unbundled (test/onnx/workerd/export-worker.js): the protobuf writer runs there (no eval, no new
// Function, no package import left in dist/src/onnx). The Worker trains a seeded model one step and writes it; the
// same steps here in Node, on the source, give the same graph (same nodes, same size), and both fromOnnx in the
// Worker and fromOnnx here on the Worker's file give this model's outputs within 1e-5. Not the same bytes: workerd
// runs the relaxed-SIMD build (fused multiply-add) where Node 20 runs plain SIMD, so the trained weights differ in
// their last bits (the outputs by 3e-8 in our run).
// Needs the build (npm test builds first; alone: npm run build:ts).
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GRU, init, LastStep, Linear, maxAbsDiff, mseLoss, Sequential, SGD, tensor } from "../../src/index.js";
import { fromOnnx, toOnnx } from "../../src/onnx/index.js";
import { readModel } from "../../src/onnx/proto.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

describe("toOnnx in workerd", () => {
  let mf: Miniflare;
  let base: URL;

  beforeAll(async () => {
    await init();
    mf = new Miniflare({
      modules: true,
      modulesRoot: ROOT,
      scriptPath: join(ROOT, "test/onnx/workerd/export-worker.js"),
      modulesRules: [{ type: "ESModule", include: ["**/*.js"] }, { type: "CompiledWasm", include: ["**/*.wasm"] }],
      compatibilityDate: "2026-04-01",
    });
    base = await mf.ready;
  }, 60_000);

  afterAll(async () => {
    await mf?.dispose();
  });

  it("writes a trained model's file that fromOnnx runs with the model's outputs", async () => {
    const seed = 5;
    const res = await fetch(new URL(`?seed=${seed}`, base));
    const json = await res.json() as { bytes: number[]; output: { shape: number[]; data: number[] }; error?: string };
    expect(res.status, json.error).toBe(200);

    const model = new Sequential([
      new GRU({ inputSize: 3, hiddenSize: 5, bidirectional: true, batchFirst: true, seed }),
      new LastStep(),
      new Linear({ inFeatures: 10, outFeatures: 2, seed: seed + 1 }),
    ]);
    const x = tensor([2, 4, 3], Float32Array.from({ length: 24 }, (_, i) => Math.sin(i)));
    const sgd = new SGD(model, { lr: 0.1 });
    model.backward(mseLoss(model.forward(x, { train: true }), tensor([2, 2])).grad);
    sgd.step();
    const want = model.forward(x);
    expect(json.output.shape).toEqual(want.shape);
    expect(maxAbsDiff(Float32Array.from(json.output.data), want.data)).toBeLessThan(1e-5);
    const bytes = Uint8Array.from(json.bytes), ours = toOnnx(model);
    expect(bytes.length).toBe(ours.length);
    const ops = (b: Uint8Array) => readModel(b).graph.nodes.map((n) => `${n.opType} ${n.inputs.join(",")} -> ${n.outputs.join(",")}`);
    expect(ops(bytes)).toEqual(ops(ours));
    const onnx = fromOnnx(bytes);
    expect(maxAbsDiff(onnx.run({ input: x }).output.data, want.data)).toBeLessThan(1e-5);
    onnx.dispose();
    model.dispose();
  });
});
