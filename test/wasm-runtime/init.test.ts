// init() and createRuntime(): every source a runtime can hand us (a compiled Module as in Workers, bytes, a
// fetch Response, a file URL or path), build selection, and the errors when loading cannot work.
import { describe, it, expect } from "vitest";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { init, createRuntime, getRuntime, maxAbsDiff, supportsBuild, LSTM, RnnError } from "../../src/index.js";

const simdUrl = new URL("../../build/rnn-simd.wasm", import.meta.url);
const simdBytes = () => new Uint8Array(readFileSync(fileURLToPath(simdUrl)));

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof RnnError ? e.code : `not an RnnError: ${String(e)}`;
  }
  return undefined;
}

// A tiny forward pass whose result only depends on the kernels, to check each loaded runtime works.
function runOnce(runtime: Awaited<ReturnType<typeof createRuntime>>): Float32Array {
  const layer = new LSTM({ inputSize: 3, hiddenSize: 5, seed: 7, runtime });
  const x = { shape: [2, 1, 3], data: new Float32Array([0.1, -0.2, 0.3, 0.4, 0.5, -0.6]) };
  const out = layer.forward(x).output.data;
  layer.dispose();
  return out;
}

describe("before init()", () => {
  it("a wasm layer cannot be created and the error says to call init()", async () => {
    expect(codeOf(() => getRuntime())).toBe("init");
    expect(() => new LSTM({ inputSize: 2, hiddenSize: 2 })).toThrow(/init\(\)/);
    // the reference backend needs no wasm
    const ref = new LSTM({ inputSize: 2, hiddenSize: 2, backend: "reference" });
    ref.dispose();
  });
});

describe("sources", () => {
  it("loads the package's own file by default and returns the same runtime on a second call", async () => {
    const a = await init();
    const b = await init();
    expect(a).toBe(b);
    expect(getRuntime()).toBe(a);
    expect(["relaxed", "simd", "scalar"]).toContain(a.build);
  });

  it("accepts a WebAssembly.Module, bytes, an ArrayBuffer, a Response, a file URL and a path, all computing the same", async () => {
    const bytes = simdBytes();
    const sources = [
      new WebAssembly.Module(bytes),
      bytes,
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
      new Response(bytes),
      simdUrl,
      simdUrl.href,
      fileURLToPath(simdUrl),
    ];
    const expected = runOnce(await createRuntime(undefined, { build: "simd" }));
    for (const source of sources) {
      const rt = await createRuntime(source, { build: "simd" });
      expect(rt.build).toBe("simd");
      expect(runOnce(rt)).toEqual(expected);
      expect(rt.blocksInUse).toBe(0);
    }
  });

  it("init(source) replaces the default runtime", async () => {
    const before = await init();
    const after = await init(simdBytes(), { build: "simd" });
    expect(after).not.toBe(before);
    expect(getRuntime()).toBe(after);
  });

  it("names the problem when the source is not wasm, missing, or a failed fetch", async () => {
    await expect(createRuntime(new Uint8Array([1, 2, 3]))).rejects.toMatchObject({ code: "init" });
    await expect(createRuntime("/nonexistent/rnn.wasm")).rejects.toThrow(/cannot read the wasm file \/nonexistent\/rnn.wasm/);
    await expect(createRuntime(new Response("nope", { status: 404, statusText: "Not Found" }))).rejects.toThrow(/HTTP 404/);
    // a host's fallback page answered with 200, and a server that is not there: each says what it got and what to do
    await expect(createRuntime(new Response("<!DOCTYPE html><html>", { status: 200 }))).rejects.toThrow(/is not a wasm file \(it begins "<!DOCTYPE html><html>"\); the \.wasm files must be served/);
    await expect(createRuntime("http://127.0.0.1:9/build/rnn-simd.wasm")).rejects.toThrow(/cannot fetch the wasm from http:\/\/127\.0\.0\.1:9\/build\/rnn-simd\.wasm: .*; the \.wasm files must be served/);
  });
});

describe("builds", () => {
  it("simd and scalar load on Node 20 and agree; relaxed is refused with a reason where the engine lacks it", async () => {
    const simd = runOnce(await createRuntime(undefined, { build: "simd" }));
    const scalar = runOnce(await createRuntime(undefined, { build: "scalar" }));
    // same per-element operation order in both builds (assembly/math.ts), so the same bits
    expect(scalar).toEqual(simd);
    if (await supportsBuild("relaxed")) {
      const relaxed = runOnce(await createRuntime(undefined, { build: "relaxed" }));
      expect(maxAbsDiff(relaxed, simd)).toBeLessThan(1e-6);
    } else {
      await expect(createRuntime(undefined, { build: "relaxed" })).rejects.toThrow(/relaxed SIMD needs/);
    }
  });
});
