// cli/test/quantized.test.ts: quantized model files on the command line (main() in-process): `rnn-wasm quantize` writes
// one from a PyTorch state_dict, `inspect` describes it (dtype, sizes, bytes against float32's) and `run` runs it to
// the library's bits (loadQuantized on the same file and backend) and close to PyTorch's float output; flags that a
// quantized file makes needless are usage errors; inconsistent files fail naming the tensor.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { createRuntime, loadQuantized, loadSafetensors, saveSafetensors, type QuantizedCell, type QuantizedLayer, type Tensor } from "rnn-wasm";
import { CLI_ROOT, FIXTURES, cliInProcess, describeRun, readTensors, requireLibraryBuild, tempDir, writeTensors, type Run } from "./helpers.js";

const DEMO = join(CLI_ROOT, "data/lstm-demo.safetensors");
const DEMO_INPUT = join(CLI_ROOT, "data/lstm-demo.input.safetensors");

let dir: string;

beforeAll(() => {
  requireLibraryBuild();
  dir = tempDir();
});

function expectFailure(r: Run, code: 1 | 2, message: RegExp): void {
  expect(r.code, describeRun(r)).toBe(code);
  expect(r.stderr, describeRun(r)).toMatch(/^rnn-wasm: /);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/internal error|    at /);
}

const bits = (t: Tensor) => Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length));

async function quantizeDemo(dtype: "int8" | "int12"): Promise<string> {
  const out = join(dir, `demo-${dtype}.safetensors`);
  const r = await cliInProcess(["quantize", "--model", DEMO, "--dtype", dtype, "--out", out]);
  expect(r.code, describeRun(r)).toBe(0);
  expect(r.stdout).toMatch(new RegExp(`^wrote '.*demo-${dtype}.safetensors' \\(LSTM\\(inputSize 64, hiddenSize 256, 1 layer\\) quantized ${dtype}: \\d+ bytes, 0\\.${dtype === "int8" ? "26" : "51"} of the 1319672 of the float32 file\\)\\n$`));
  return out;
}

describe("quantize, inspect and run on the demo model", () => {
  it.each(["int8", "int12"] as const)("%s: quantize writes the file, inspect describes it, run runs it", async (dtype) => {
    const file = await quantizeDemo(dtype);
    const meta = loadSafetensors(readFileSync(file)).metadata;
    expect([meta.format, meta.dtype, meta.producer, meta.source]).toEqual(["rnn-wasm quantized", dtype, "rnn-wasm quantize", DEMO]);

    const j = await cliInProcess(["inspect", file, "--json"]);
    expect(j.code, describeRun(j)).toBe(0);
    const report = JSON.parse(j.stdout);
    expect([report.class, report.kind, report.inputSize, report.hiddenSize, report.numLayers, report.parameters]).toEqual(["LSTM", "lstm", 64, 256, 1, 329728]);
    expect(report.quantized).toEqual({
      dtype, formatVersion: "2", weights: 327680, scales: 2048,
      dataBytes: 327680 * (dtype === "int8" ? 1 : 2) + (2048 + 2048) * 4, float32Bytes: 329728 * 4,
    });
    expect(report.tensors.map((t: { name: string; dtype: string }) => `${t.name} ${t.dtype}`)).toEqual([
      `weight_ih_l0 ${dtype === "int8" ? "I8" : "I16"}`, "weight_ih_l0.scale F32", `weight_hh_l0 ${dtype === "int8" ? "I8" : "I16"}`,
      "weight_hh_l0.scale F32", "bias_ih_l0 F32", "bias_hh_l0 F32",
    ]);
    const t = await cliInProcess(["inspect", file]);
    expect(t.code, describeRun(t)).toBe(0);
    expect(t.stdout).toMatch(new RegExp(`: quantized ${dtype} LSTM, 329,728 parameters`));
    expect(t.stdout).toMatch(new RegExp(`quantized +${dtype} \\(I(8|16) weights\\), format 'rnn-wasm quantized' version 2`));
    expect(t.stdout).toMatch(/data +[\d.]+ (KiB|MiB), 0\.(26|51) of float32's 1\.3 MiB/);
    expect(t.stdout).toMatch(/batchFirst +false/);

    const out = join(dir, `y-${dtype}.safetensors`);
    const r = await cliInProcess(["run", "--model", file, "--input", DEMO_INPUT, "--out", out, "--build", "simd", "--json"]);
    expect(r.code, describeRun(r)).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.model.quantized).toEqual({ dtype, form: "q16" });
    expect(summary.model.description).toBe(`LSTM(inputSize 64, hiddenSize 256, 1 layer) quantized ${dtype} (q16)`);
    const got = readTensors(out);
    // the library's bits on the same file and build
    const rt = await createRuntime(undefined, { build: "simd" });
    const q = loadQuantized(readFileSync(file), { runtime: rt }) as QuantizedLayer;
    const inputs = readTensors(DEMO_INPUT);
    const want = q.forward(inputs.input, { h0: inputs.h0, c0: inputs.c0 });
    expect(bits(got.output)).toEqual(bits(want.output));
    expect(bits(got.h_n)).toEqual(bits(want.hN));
    q.dispose();
    // and close to PyTorch's float output
    const torch = loadSafetensors(readFileSync(DEMO_INPUT)).tensors;
    if (torch.output) {
      let err = 0, top = 0;
      for (let i = 0; i < got.output.data.length; i++) {
        err = Math.max(err, Math.abs(got.output.data[i] - torch.output.data[i]));
        top = Math.max(top, Math.abs(torch.output.data[i]));
      }
      expect(err / top).toBeLessThan(dtype === "int8" ? 0.03 : 0.003);
    }
  });

  it("run on the reference backend gives the reference engine's bits", async () => {
    const file = await quantizeDemo("int8");
    const out = join(dir, "y-ref.safetensors");
    const r = await cliInProcess(["run", "--model", file, "--input", DEMO_INPUT, "--out", out, "--backend", "reference"]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toMatch(/quantized int8 \(q16\) on the reference backend/);
    const inputs = readTensors(DEMO_INPUT);
    const q = loadQuantized(readFileSync(file), { backend: "reference" }) as QuantizedLayer;
    expect(bits(readTensors(out).output)).toEqual(bits(q.forward(inputs.input, { h0: inputs.h0, c0: inputs.c0 }).output));
    q.dispose();
  });
});

describe("other models", () => {
  it("a GRU cell (reset before) and a relu RNN: quantize records the flags, run needs none", async () => {
    const fixture = loadSafetensors(readFileSync(join(FIXTURES, "gru_cell_reset_before_state.safetensors"))).tensors;
    const cellWeights = Object.fromEntries(Object.entries(fixture).filter(([n]) => /^(weight|bias)_/.test(n)));
    const cases: { fixture: string; flags: string[]; cell: boolean }[] = [
      { fixture: writeTensors(join(dir, "gru-cell.safetensors"), cellWeights), flags: ["--reset-before"], cell: true },
    ];
    const rnnWeights = { weight_ih_l0: { shape: [6, 3], data: Float32Array.from({ length: 18 }, (_, i) => Math.sin(i)) }, weight_hh_l0: { shape: [6, 6], data: Float32Array.from({ length: 36 }, (_, i) => 0.3 * Math.cos(i)) } };
    cases.push({ fixture: writeTensors(join(dir, "rnn.safetensors"), rnnWeights), flags: ["--nonlinearity", "relu"], cell: false });
    for (const c of cases) {
      const file = join(dir, `q-${c.cell ? "cell" : "rnn"}.safetensors`);
      const r = await cliInProcess(["quantize", "--model", c.fixture, "--dtype", "int8", "--out", file, ...c.flags]);
      expect(r.code, describeRun(r)).toBe(0);
      const q = loadQuantized(readFileSync(file), { backend: "reference" });
      if (c.cell) expect(q.spec.resetAfter).toBe(false);
      else expect(q.spec.nonlinearity).toBe("relu");
      q.dispose();
    }
    const input = writeTensors(join(dir, "rnn-input.safetensors"), { input: { shape: [4, 2, 3], data: Float32Array.from({ length: 24 }, (_, i) => Math.cos(i)) } });
    const out = join(dir, "rnn-out.safetensors");
    const r = await cliInProcess(["run", "--model", join(dir, "q-rnn.safetensors"), "--input", input, "--out", out]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toMatch(/RNN\(inputSize 3, hiddenSize 6, 1 layer, no bias, relu\) quantized int8/);
    expect(readTensors(out).output.shape).toEqual([4, 2, 6]);
    const q = loadQuantized(readFileSync(join(dir, "q-rnn.safetensors")), { backend: "reference" }) as QuantizedLayer | QuantizedCell;
    expect(q.spec.cell).toBe(false);
    q.dispose();
    // H = 6 and I = 3 are padded in the file's packed order (rows to 8, columns to an even count): inspect counts the
    // model's 6*3 + 6*6 weights, and the stored padding only in the bytes
    const j = await cliInProcess(["inspect", join(dir, "q-rnn.safetensors"), "--json"]);
    expect(j.code, describeRun(j)).toBe(0);
    const report = JSON.parse(j.stdout);
    const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
    const stored = report.tensors.filter((t: { dtype: string }) => t.dtype === "I8").reduce((n: number, t: { shape: number[] }) => n + numel(t.shape), 0);
    expect(stored).toBeGreaterThan(54);
    expect([report.parameters, report.quantized.weights]).toEqual([54, 54]);
    expect(report.quantized.dataBytes).toBe(stored + report.quantized.scales * 4);
  });
});

describe("errors", () => {
  it("run refuses the flags a quantized file records (usage, exit 2)", async () => {
    const file = await quantizeDemo("int8");
    for (const flags of [["--kind", "lstm"], ["--batch-first"], ["--kind", "lstm", "--batch-first"]]) {
      const r = await cliInProcess(["run", "--model", file, "--input", DEMO_INPUT, "--out", join(dir, "never.safetensors"), ...flags]);
      expectFailure(r, 2, /do(es)? not apply to model .*: a quantized model file records its architecture/);
    }
  });

  it("inspect and run name the tensor of an inconsistent file (exit 1)", async () => {
    const file = await quantizeDemo("int8");
    const { tensors, integers, metadata } = loadSafetensors(readFileSync(file));
    const bad = join(dir, "bad.safetensors");
    writeFileSync(bad, saveSafetensors({ ...tensors, ...integers, "weight_hh_l0.scale": { shape: [7], data: new Float32Array(7) } }, metadata));
    expectFailure(await cliInProcess(["inspect", bad]), 1, /model file '.*bad.safetensors': .*'weight_hh_l0.scale' has shape \[7\], expected \[1024\]/);
    expectFailure(await cliInProcess(["run", "--model", bad, "--input", DEMO_INPUT, "--out", join(dir, "never.safetensors")]), 1, /'weight_hh_l0.scale' has shape \[7\]/);
    const nan = join(dir, "nan.safetensors");
    const scale = tensors["weight_ih_l0.scale"].data.slice();
    scale[3] = NaN;
    writeFileSync(nan, saveSafetensors({ ...tensors, ...integers, "weight_ih_l0.scale": { shape: [1024], data: scale } }, metadata));
    expectFailure(await cliInProcess(["run", "--model", nan, "--input", DEMO_INPUT, "--out", join(dir, "never.safetensors")]), 1, /'weight_ih_l0.scale' holds NaN at index 3; pass --nan-policy propagate/);
    const v3 = join(dir, "v3.safetensors");
    writeFileSync(v3, saveSafetensors({ ...tensors, ...integers }, { ...metadata, format_version: "3" }));
    expectFailure(await cliInProcess(["inspect", v3]), 1, /format_version '3' is not one this version of rnn-wasm reads/);
  });

  it("quantize refuses a missing --dtype, an unknown one, and flags that contradict the model", async () => {
    const out = join(dir, "never.safetensors");
    expectFailure(await cliInProcess(["quantize", "--model", DEMO, "--out", out]), 2, /--dtype/);
    expectFailure(await cliInProcess(["quantize", "--model", DEMO, "--out", out, "--dtype", "int4"]), 2, /int4/);
    expectFailure(await cliInProcess(["quantize", "--model", DEMO, "--out", out, "--dtype", "int8", "--reset-before"]), 2, /--reset-before is a GRU option, but model .* is an LSTM/);
    expectFailure(await cliInProcess(["quantize", "--model", join(dir, "missing.safetensors"), "--out", out, "--dtype", "int8"]), 1, /not found/);
  });
});
