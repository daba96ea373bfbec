// test/onnx/workerd.test.ts: rnn-wasm/onnx inside workerd (the Cloudflare Workers runtime, run by Miniflare), loaded
// from the repository's build unbundled (test/onnx/workerd/onnx-worker.js): the protobuf reader runs there (no eval,
// no new Function, no package import left in dist/src/onnx), and fixtures give the expected outputs within 1e-5.
// Needs the build (npm test builds first; alone: npm run build:ts).
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { maxAbsDiff } from "../../src/index.js";
import { loadCase } from "./fixtures.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

describe("rnn-wasm/onnx in workerd", () => {
  let mf: Miniflare;
  let base: URL;

  beforeAll(async () => {
    mf = new Miniflare({
      modules: true,
      modulesRoot: ROOT,
      scriptPath: join(ROOT, "test/onnx/workerd/onnx-worker.js"),
      modulesRules: [{ type: "ESModule", include: ["**/*.js"] }, { type: "CompiledWasm", include: ["**/*.wasm"] }],
      compatibilityDate: "2026-04-01",
    });
    base = await mf.ready;
  }, 60_000);

  afterAll(async () => {
    await mf?.dispose();
  });

  const post = async (model: Uint8Array, feeds: Record<string, unknown>) => {
    const body = Object.fromEntries(Object.entries(feeds).map(([k, v]) => {
      const t = v as { shape: number[]; data: Float32Array | Int32Array };
      return [k, { shape: t.shape, dtype: t.data instanceof Int32Array ? "int32" : "float32", data: Array.from(t.data) }];
    }));
    const res = await fetch(base, { method: "POST", body: model.slice().buffer, headers: { "x-feeds": JSON.stringify(body) } });
    return { status: res.status, json: await res.json() as Record<string, { shape: number[]; data: number[] }> & { error?: string } };
  };

  it.each([["torch", "lstm_bidirectional_lengths"], ["attributes", "lstm_everything"], ["conformance", "test_gru_batchwise"]])("%s/%s: the expected outputs", async (group, name) => {
    const c = loadCase(group, name);
    const { status, json } = await post(c.model, c.feeds);
    expect(status, JSON.stringify(json)).toBe(200);
    for (const [out, want] of Object.entries(c.expected)) {
      expect(json[out].shape).toEqual(want.shape);
      expect(maxAbsDiff(Float32Array.from(json[out].data), want.data as Float32Array)).toBeLessThan(1e-5);
    }
  });

  it("a truncated file: RnnError('format') from the same class the workerd entry exports", async () => {
    const c = loadCase("torch", "gru");
    const { status, json } = await post(c.model.subarray(0, 100), c.feeds);
    expect(status).toBe(400);
    expect(json.error).toMatch(/^RnnError format: ONNX file is malformed or truncated/);
  });
});
