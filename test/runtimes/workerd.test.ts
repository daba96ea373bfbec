// test/runtimes/workerd.test.ts: the package inside workerd, the Cloudflare Workers runtime, run locally by
// Miniflare and reached over HTTP on loopback.
//   1. The example (examples/cloudflare-worker) as `wrangler deploy --dry-run --outdir` bundles it: its endpoints,
//      its answers against PyTorch's, chunked streams against one request, and its 4xx errors.
//   2. A parity Worker loaded from the repository unbundled: init() picks relaxed SIMD, compiling from bytes is
//      refused (why the workerd entry imports Modules), and every build's outputs match Node's within 1e-6.
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSafetensors, type Tensor } from "../../src/index.js";
import type { ParityResult } from "./parity-case.js";
import {
  bundleExample, COMPATIBILITY_DATE, describeProc, EXAMPLE, layerDiffs, maxDiff, MODULE_RULES, nodeParity, ROOT,
} from "./helpers.js";

describe("the example Worker, bundled by wrangler, in workerd", () => {
  let mf: Miniflare;
  let base: URL;
  let files: string[];
  let outdir: string;
  const sample = loadSafetensors(readFileSync(join(EXAMPLE, "sample.safetensors"))).tensors as Record<string, Tensor>;
  const I = 64, H = 256;
  const steps = (t: Tensor, from: number, to: number) =>
    Array.from({ length: to - from }, (_, k) => Array.from(t.data.subarray((from + k) * I, (from + k + 1) * I)));

  const post = async (body: unknown, path = "/predict") => {
    const res = await fetch(new URL(path, base), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: res.status, type: res.headers.get("content-type"), json: await res.json() };
  };

  beforeAll(async () => {
    const bundle = bundleExample();
    outdir = bundle.outdir;
    expect(bundle.log.code, describeProc(bundle.log)).toBe(0);
    files = readdirSync(outdir);
    mf = new Miniflare({
      modules: true,
      scriptPath: join(outdir, "index.js"),
      modulesRoot: outdir, // module names are paths relative to this; workerd refuses ".."
      modulesRules: MODULE_RULES,
      compatibilityDate: COMPATIBILITY_DATE,
    });
    base = await mf.ready;
    expect(base.hostname).toMatch(/^(127\.0\.0\.1|localhost)$/);
  });

  afterAll(async () => {
    await mf?.dispose();
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  });

  it("the bundle holds the Worker, the three wasm builds and the model", () => {
    expect(files).toContain("index.js");
    for (const build of ["relaxed", "simd", "scalar"]) expect(files.some((f) => f.endsWith(`rnn-${build}.wasm`))).toBe(true);
    expect(files.some((f) => f.endsWith("model.safetensors"))).toBe(true);
  });

  it("GET / describes the model and the build workerd runs (relaxed SIMD)", async () => {
    const res = await fetch(new URL("/", base));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ model: "lstm", inputSize: I, hiddenSize: H, numLayers: 1, build: "relaxed", maxSteps: 1024 });
  });

  it("POST /predict answers what PyTorch computed for the sample, within 1e-5", async () => {
    const r = await post({ input: steps(sample.input, 0, 6) });
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/application\/json/);
    expect(r.json.build).toBe("relaxed");
    expect(r.json.output).toHaveLength(6);
    expect(maxDiff(r.json.output.flat(), sample.output.data)).toBeLessThan(1e-5);
    expect(maxDiff(r.json.state.h, sample.h_n.data)).toBeLessThan(1e-5);
    expect(maxDiff(r.json.state.c, sample.c_n.data)).toBeLessThan(1e-5);
  });

  it("a stream sent in chunks, each with the state the previous response returned, equals one request", async () => {
    const whole = (await post({ input: steps(sample.input, 0, 6) })).json;
    const first = (await post({ input: steps(sample.input, 0, 1) })).json;
    const second = (await post({ input: steps(sample.input, 1, 4), state: first.state })).json;
    const third = (await post({ input: steps(sample.input, 4, 6), state: second.state })).json;
    // JSON carries each float32 exactly (as the shortest double that rounds to it), so the same bits
    expect([...first.output, ...second.output, ...third.output]).toEqual(whole.output);
    expect(third.state).toEqual(whole.state);
  });

  it.each([
    ["not JSON", "{input: [", 400, /not valid JSON/],
    ["not an object", [1, 2], 400, /must be a JSON object/],
    ["no input", {}, 400, /"input" must be a non-empty array/],
    ["an unknown field", { input: [new Array(I).fill(0)], steps: 3 }, 400, /unknown field "steps"/],
    ["a short timestep", { input: [new Array(I).fill(0), new Array(I - 1).fill(0)] }, 400, /input\[1\] has 63 numbers; the model takes 64/],
    ["a string in a timestep", { input: [[...new Array(I - 1).fill(0), "x"]] }, 400, /input\[0\]\[63\] is "x", not a finite number/],
    ["a state of the wrong size", { input: [new Array(I).fill(0)], state: { h: [1, 2], c: [] } }, 400, /state.h has 2 numbers; the model takes 256/],
    ["a missing cell state", { input: [new Array(I).fill(0)], state: { h: new Array(H).fill(0) } }, 400, /state.c must be an array of 256 numbers/],
    ["too many timesteps", { input: new Array(1025).fill(new Array(I).fill(0)) }, 413, /1025 timesteps; at most 1024/],
  ])("rejects %s with a JSON error naming the problem", async (_what, body, status, message) => {
    const r = await post(body);
    expect(r.status).toBe(status);
    expect(r.type).toMatch(/application\/json/);
    expect(r.json.error).toMatch(message);
  });

  it("answers 405 to GET /predict and 404 to another path, in JSON", async () => {
    const get = await fetch(new URL("/predict", base));
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    expect((await get.json()).error).toMatch(/use POST/);
    const missing = await post({}, "/nope");
    expect(missing.status).toBe(404);
    expect(missing.json.error).toMatch(/no route \/nope/);
  });
});

describe("the package's workerd entry, unbundled, against Node", () => {
  let mf: Miniflare;
  let base: URL;
  let inWorkerd: ParityResult;

  beforeAll(async () => {
    mf = new Miniflare({
      modules: true,
      modulesRoot: ROOT,
      scriptPath: join(ROOT, "test/runtimes/workerd/parity-worker.js"),
      modulesRules: MODULE_RULES,
      compatibilityDate: COMPATIBILITY_DATE,
    });
    base = await mf.ready;
    const res = await fetch(new URL("/", base));
    expect(res.status, await res.clone().text()).toBe(200);
    inWorkerd = await res.json();
  });

  afterAll(async () => {
    await mf?.dispose();
  });

  it("workerd refuses to compile wasm from bytes, and accepts an imported Module as init's source", async () => {
    const bytes = await (await fetch(new URL("/compile-from-bytes", base))).json();
    expect(bytes).toEqual({ compiled: false, error: expect.stringMatching(/code generation disallowed/) });
    expect(await (await fetch(new URL("/init-module", base))).json()).toEqual({ build: "simd", platform: "workerd" });
  });

  it("init() picks relaxed SIMD, and every build runs", () => {
    expect(inWorkerd.defaultBuild).toBe("relaxed");
    expect(inWorkerd.supports).toEqual({ relaxed: true, simd: true, scalar: true });
  });

  it("simd and scalar outputs match Node 20's within 1e-6, relaxed matches Node 20's relaxed (flag) within 1e-6", () => {
    const node = nodeParity(process.execPath);
    const nodeRelaxed = nodeParity(process.execPath, ["--experimental-wasm-relaxed-simd"]);
    expect(node.defaultBuild).toBe(node.supports.relaxed ? "relaxed" : "simd");
    for (const build of ["simd", "scalar"] as const) {
      for (const [layer, d] of Object.entries(layerDiffs(inWorkerd.outputs[build], node.outputs[build]))) {
        expect(d, `${build} ${layer}`).toBeLessThanOrEqual(1e-6);
      }
    }
    for (const [layer, d] of Object.entries(layerDiffs(inWorkerd.outputs.relaxed, nodeRelaxed.outputs.relaxed))) {
      expect(d, `relaxed ${layer}`).toBeLessThanOrEqual(1e-6);
    }
  });
});
