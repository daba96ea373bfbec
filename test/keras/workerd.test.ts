// test/keras/workerd.test.ts: rnn-wasm/keras inside workerd (the Cloudflare Workers runtime, run by Miniflare), loaded
// from the repository's build unbundled (test/keras/workerd/keras-worker.js): the zip and HDF5 readers run there (no
// eval, no new Function, no package import left in dist/src/keras), and the fixtures give their expected outputs
// within 1e-5 (as test/keras/files.test.ts). Needs the build (npm test builds first; alone: npm run build:ts).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { maxAbsDiff } from "../../src/index.js";
import { io, kerasFile } from "./helpers.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

describe("rnn-wasm/keras in workerd", () => {
  let mf: Miniflare;
  let base: URL;

  beforeAll(async () => {
    mf = new Miniflare({
      modules: true,
      modulesRoot: ROOT,
      scriptPath: join(ROOT, "test/keras/workerd/keras-worker.js"),
      modulesRules: [{ type: "ESModule", include: ["**/*.js"] }, { type: "CompiledWasm", include: ["**/*.wasm"] }],
      compatibilityDate: "2026-04-01",
    });
    base = await mf.ready;
  }, 60_000);

  afterAll(async () => {
    await mf?.dispose();
  });

  const post = async (file: Uint8Array, x: { shape: number[]; data: number[] }) => {
    const res = await fetch(base, { method: "POST", body: file.slice().buffer, headers: { "x-input": JSON.stringify(x) } });
    return { status: res.status, json: await res.json() as { shape: number[]; data: number[]; error?: string } };
  };

  it.each([["lstm_dense", "lstm_dense_gzip"], ["embedding_bidirectional", "embedding_bidirectional"], ["gru_reset_after", "gru_reset_after"]])("%s (%s.keras): the expected output", async (name, file) => {
    const want = io(name);
    const { status, json } = await post(kerasFile(file), { shape: want.inputShape, data: want.input });
    expect(status, JSON.stringify(json)).toBe(200);
    expect(json.shape).toEqual(want.outputShape);
    expect(maxAbsDiff(Float32Array.from(json.data), Float32Array.from(want.output))).toBeLessThan(1e-5);
  });

  it("the bundled readers (dist/src/keras/readers.js) hold no eval or new Function and import nothing", () => {
    const code = readFileSync(join(ROOT, "dist/src/keras/readers.js"), "utf8");
    expect(code).toMatch(/unzipSync/); // the libraries are in it
    expect(code.match(/\beval\s*\(|new\s+Function\b|\bFunction\s*\(/g)).toBeNull();
    expect(code.match(/^\s*import\b|\bimport\s*\(|\brequire\s*\(/gm)).toBeNull();
  });

  it("a truncated file: RnnError('format') from the same class the workerd entry exports", async () => {
    const want = io("lstm_dense");
    const { status, json } = await post(kerasFile("lstm_dense").subarray(0, 1000), { shape: want.inputShape, data: want.input });
    expect(status).toBe(400);
    expect(json.error).toMatch(/^RnnError format: the \.keras file is not a whole zip archive/);
  });
});
