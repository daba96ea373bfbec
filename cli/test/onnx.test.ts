// cli/test/onnx.test.ts: `rnn-wasm run --model model.onnx` and `rnn-wasm inspect model.onnx` (main() in-process) on the
// ONNX fixtures of scripts/make_onnx_fixtures.py: each case's model written as a .onnx file, its feeds as a
// safetensors input file (float32 as F32, int32 sequence_lens as I32; one case as I64 and one as whole-number floats),
// and the output file compared with the fixture's expected outputs within 1e-5, the tolerance test/onnx/ uses for the
// same cases through fromOnnx (PyTorch's float64 results or a float64 model of the spec, rounded to float32; the wasm
// layers' float32 sums stay below it at these sizes). Then the errors: wrong or missing input names, shapes, integer
// inputs with fractions, malformed files, flags that do not apply; and inspect's report.
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Tensor } from "rnn-wasm";
import type { IntTensor } from "rnn-wasm/onnx";
import { loadCase, numbers, type OnnxCase } from "../../test/onnx/fixtures.js";
import { cliInProcess, describeRun, maxAbsDiff, readTensors, requireLibraryBuild, tempDir, type Run } from "./helpers.js";

const TOL = 1e-5;
let dir: string;

beforeAll(() => {
  requireLibraryBuild();
  dir = tempDir();
});

/**
 * A safetensors file of float32 (F32) and integer tensors (I32, or I64 with `int64`), written here because the
 * library's writer stores float32 and the int8/int16 of quantized weights only.
 */
function writeFeeds(path: string, feeds: Record<string, Tensor | IntTensor>, int64 = false): string {
  const header: Record<string, unknown> = {};
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (const [name, t] of Object.entries(feeds)) {
    let bytes: Uint8Array, dtype: string;
    if (t.data instanceof Float32Array) {
      bytes = new Uint8Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength)); dtype = "F32";
    } else if (int64 || t.data instanceof BigInt64Array) {
      bytes = new Uint8Array(BigInt64Array.from(t.data as ArrayLike<number | bigint>, (v) => BigInt(v)).buffer); dtype = "I64";
    } else {
      bytes = new Uint8Array(Int32Array.from(t.data as Int32Array).buffer); dtype = "I32";
    }
    header[name] = { dtype, shape: t.shape, data_offsets: [at, at + bytes.length] };
    chunks.push(bytes);
    at += bytes.length;
  }
  const head = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + head.length + at);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let put = 8 + head.length;
  for (const c of chunks) { out.set(c, put); put += c.length; }
  writeFileSync(path, out);
  return path;
}

interface Files { model: string; input: string; c: OnnxCase }

function prepare(group: string, name: string, options: { int64?: boolean; feeds?: Record<string, Tensor | IntTensor> } = {}): Files {
  const c = loadCase(group, name);
  const model = join(dir, `${name}.onnx`);
  writeFileSync(model, c.model);
  const input = writeFeeds(join(dir, `${name}${options.int64 ? ".i64" : ""}.in.safetensors`), options.feeds ?? c.feeds, options.int64);
  return { model, input, c };
}

function expectOutputs(out: string, c: OnnxCase): void {
  const got = readTensors(out);
  expect(Object.keys(got).sort()).toEqual(Object.keys(c.expected).sort());
  for (const [name, want] of Object.entries(c.expected)) {
    expect(got[name].shape, `${c.name}: ${name} shape`).toEqual(want.shape);
    const d = maxAbsDiff(got[name].data, Float32Array.from(numbers(want)));
    expect(d, `${c.name}: ${name} max |cli - expected| = ${d}`).toBeLessThanOrEqual(TOL);
  }
}

function expectFailure(r: Run, code: 1 | 2, message: RegExp): void {
  expect(r.code, describeRun(r)).toBe(code);
  expect(r.stderr, describeRun(r)).toMatch(/^rnn-wasm: /);
  expect(r.stderr, describeRun(r)).toMatch(message);
  expect(r.stderr).not.toMatch(/internal error|    at /);
}

const CASES: [string, string][] = [
  ["exported", "lstm_2layer_head"], ["exported", "gru_2layer_bidirectional_head"], ["exported", "lstm_bidirectional_batch_first_states"],
  ["exported", "gru_batch_first_states"], ["exported", "rnn_relu_2layer_bidirectional"], ["exported", "rnn_tanh_no_head_states"],
  ["attributes", "lstm_bidirectional_seq_lens"], ["attributes", "gru_seq_lens_float"], ["attributes", "lstm_everything"],
  ["conformance", "test_lstm_with_peepholes"],
];

describe("run --model x.onnx", () => {
  it.each(CASES)("%s/%s: every graph output under its name, as expected", async (group, name) => {
    const f = prepare(group, name);
    const out = join(dir, `${name}.out.safetensors`);
    const r = await cliInProcess(["run", "--model", f.model, "--input", f.input, "--out", out]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toMatch(/^wrote '.*' \(.*\): ONNX model \(\d+ nodes?: /);
    expectOutputs(out, f.c);
  });

  it("sequence_lens as I64, and on the reference backend", async () => {
    const f = prepare("attributes", "rnn_bidirectional_seq_lens", { int64: true });
    for (const extra of [[], ["--backend", "reference"]]) {
      const out = join(dir, `i64${extra.join("")}.out.safetensors`);
      const r = await cliInProcess(["run", "--model", f.model, "--input", f.input, "--out", out, ...extra]);
      expect(r.code, describeRun(r)).toBe(0);
      expectOutputs(out, f.c);
    }
  });

  it("a model file without the .onnx extension is recognised by its first bytes", async () => {
    const f = prepare("exported", "lstm_2layer_head");
    const model = join(dir, "model-without-extension");
    copyFileSync(f.model, model);
    const out = join(dir, "noext.out.safetensors");
    const r = await cliInProcess(["run", "--model", model, "--input", f.input, "--out", out]);
    expect(r.code, describeRun(r)).toBe(0);
    expectOutputs(out, f.c);
  });

  it("--json: format onnx, the graph's inputs read, every output's shape", async () => {
    const f = prepare("exported", "lstm_bidirectional_batch_first_states");
    const out = join(dir, "json.out.safetensors");
    const r = await cliInProcess(["run", "--model", f.model, "--input", f.input, "--out", out, "--json"]);
    expect(r.code, describeRun(r)).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ out, bytes: readFileSync(out).byteLength, model: { file: f.model, format: "onnx" }, input: { file: f.input, ignored: [] }, backend: "wasm" });
    expect(s.model.kind).toBeUndefined();
    expect(s.input.tensors).toEqual(Object.fromEntries(Object.entries(f.c.feeds).map(([n, t]) => [n, t.shape])));
    expect(s.tensors).toEqual(Object.fromEntries(Object.entries(f.c.expected).map(([n, t]) => [n, t.shape])));
  });
});

describe("run --model x.onnx: errors", () => {
  const run = (f: { model: string; input: string }, ...extra: string[]) =>
    cliInProcess(["run", "--model", f.model, "--input", f.input, "--out", join(dir, "err.out.safetensors"), ...extra]);

  it("an input file whose names are not the graph's: the graph's inputs listed with types and shapes", async () => {
    const f = prepare("exported", "lstm_bidirectional_batch_first_states");
    const renamed = { ...f.c.feeds, x: f.c.feeds.input };
    delete (renamed as Record<string, unknown>).input;
    const input = writeFeeds(join(dir, "renamed.safetensors"), renamed);
    expectFailure(await run({ model: f.model, input }), 1,
      /input file '.*renamed\.safetensors' has no tensor named 'input' and holds 'x', which is not an input of the graph \(model '.*' takes input FLOAT \[.*\], h0 FLOAT/);
    const { h0: _h0, ...withoutH0 } = f.c.feeds;
    const missing = writeFeeds(join(dir, "missing.safetensors"), withoutH0);
    expectFailure(await run({ model: f.model, input: missing }), 1, /has no tensor named 'h0' \(model/);
  });

  it("a feed of the wrong shape, and an integer input with a fraction", async () => {
    const f = prepare("attributes", "lstm_seq_lens_float");
    const X = f.c.feeds.X as Tensor;
    const wide = writeFeeds(join(dir, "wide.safetensors"), { ...f.c.feeds, X: { shape: [X.shape[0], X.shape[1], X.shape[2] + 1], data: new Float32Array(X.shape[0] * X.shape[1] * (X.shape[2] + 1)) } });
    const [T, B, I] = X.shape;
    expectFailure(await run({ model: f.model, input: wide }), 1,
      new RegExp(`feed X has shape \\[${T}, ${B}, ${I + 1}\\], expected \\[${T}, ${B}, ${I}\\] \\(input file '.*wide\\.safetensors'; model '.*' takes X FLOAT`));
    const lens = f.c.feeds.sequence_lens as Tensor;
    const fraction = writeFeeds(join(dir, "fraction.safetensors"), { ...f.c.feeds, sequence_lens: { shape: lens.shape, data: Float32Array.from(lens.data, (v) => v - 0.5) } });
    expectFailure(await run({ model: f.model, input: fraction }), 1, /sequence_lens\[0\] = [\d.]+ is not a whole number of steps/);
  });

  it("a truncated model, an input file that is not safetensors, and flags a model file records", async () => {
    const f = prepare("exported", "lstm_2layer_head");
    const cut = join(dir, "cut.onnx");
    writeFileSync(cut, readFileSync(f.model).subarray(0, 300));
    expectFailure(await run({ model: cut, input: f.input }), 1, /model file '.*cut\.onnx' \(ONNX\): ONNX file is malformed or truncated/);
    const junk = join(dir, "junk.safetensors");
    writeFileSync(junk, "not a safetensors file at all");
    expectFailure(await run({ model: f.model, input: junk }), 1, /input file '.*junk\.safetensors' is not a readable safetensors file/);
    expectFailure(await run(f, "--batch-first"), 2, /--batch-first does not apply to model '.*\.onnx': .* is an ONNX model, which records its architecture/);
    expectFailure(await run(f, "--kind", "gru", "--reset-before"), 2, /--kind, --reset-before do not apply/);
  });
});

describe("inspect x.onnx", () => {
  it("inputs and outputs with types and shapes, recurrent nodes with their sizes and weights, operator counts", async () => {
    const f = prepare("exported", "lstm_2layer_head");
    const r = await cliInProcess(["inspect", f.model, "--json"]);
    expect(r.code, describeRun(r)).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ file: f.model, format: "onnx", bytes: readFileSync(f.model).byteLength });
    expect(report.inputs.map((v: { name: string }) => v.name)).toEqual(Object.keys(f.c.feeds));
    expect(report.outputs.map((v: { name: string }) => v.name)).toEqual(Object.keys(f.c.expected));
    expect(report.inputs[0]).toMatchObject({ elemType: "FLOAT" });
    expect(Object.values(report.operators).reduce((a: number, b) => a + (b as number), 0)).toBe(report.nodes);
    // scripts/make_onnx_fixtures.py: nn.LSTM(3, 5, num_layers=2) and a Linear head: one LSTM node per layer
    expect(report.operators.LSTM).toBe(2);
    expect(report.recurrent).toHaveLength(2);
    const [first, second] = report.recurrent;
    expect(first).toMatchObject({ operator: "LSTM", direction: "forward", hiddenSize: first.weights.R[2], inputSize: 3 });
    expect(first.weights.W).toEqual([1, 4 * first.hiddenSize, 3]);
    expect(second.inputSize).toBe(first.hiddenSize);

    const text = await cliInProcess(["inspect", f.model]);
    expect(text.code, describeRun(text)).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^${f.model.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: ONNX model, ${report.nodes} nodes, 2 recurrent`));
    expect(text.stdout).toMatch(/inputs \(1\):\n {2}input {2}FLOAT {2}\[/);
    expect(text.stdout).toMatch(/\(LSTM\): hidden_size \d+, input_size 3, direction forward\n.*\n? {4}weights {5}W \[1, \d+, 3\], R \[/);
    expect(text.stdout).toMatch(/operators \(\d+\):\n(.*\n)* {2}LSTM +2/);
  });

  it("attributes as the file sets them; weights fed at run time said so", async () => {
    const f = prepare("attributes", "lstm_everything");
    const r = await cliInProcess(["inspect", f.model, "--json"]);
    expect(r.code, describeRun(r)).toBe(0);
    const [node] = JSON.parse(r.stdout).recurrent;
    expect(node).toMatchObject({ operator: "LSTM", direction: "bidirectional", weights: {} });
    expect(Object.keys(node.attributes)).toEqual(expect.arrayContaining(["activations", "clip", "layout"]));
    const text = await cliInProcess(["inspect", f.model]);
    expect(text.stdout).toMatch(/attributes {2}.*activations \[.*\].*clip [\d.]+/);
    expect(text.stdout).toMatch(/weights {5}none in the file \(fed at run time\)/);
  });

  it("a malformed model and --prefix are errors", async () => {
    const cut = join(dir, "cut2.onnx");
    writeFileSync(cut, loadCase("exported", "gru_batch_first_states").model.subarray(0, 200));
    expectFailure(await cliInProcess(["inspect", cut]), 1, /model file '.*cut2\.onnx' \(ONNX\): ONNX file is malformed or truncated/);
    const f = prepare("exported", "gru_batch_first_states");
    expectFailure(await cliInProcess(["inspect", f.model, "--prefix", "rnn."]), 2, /--prefix picks a module of a safetensors state_dict; model '.*' is an ONNX model/);
  });
});


describe("a quantized ONNX LSTM (com.microsoft.DynamicQuantizeLSTM)", () => {
  // scripts/make_onnx_dq_lstm_fixtures.mjs: ONNX Runtime's outputs; test/onnx/dynamic-quantize-lstm.test.ts explains
  // the 1e-2 (the two runtimes quantize the activations differently; measured differences <= 3.5e-3)
  const doc = JSON.parse(readFileSync(new URL("../../test/fixtures/onnx/dynamic-quantize-lstm/int8_per_direction_bidirectional_states.json", import.meta.url), "utf8"));
  const tensorOf = (t: { dtype: string; shape: number[]; data: string | number[] }): Tensor | IntTensor => {
    if (t.dtype !== "float32") return { shape: t.shape, data: Int32Array.from(t.data as number[]) };
    const b = Buffer.from(t.data as string, "base64");
    return { shape: t.shape, data: new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length)) };
  };

  it("runs with its int32 sequence_lens and states, within 1e-2 of ONNX Runtime; inspect names the operator and its weights", async () => {
    const model = join(dir, "dq.onnx");
    writeFileSync(model, Buffer.from(doc.model, "base64"));
    const input = writeFeeds(join(dir, "dq.in.safetensors"), Object.fromEntries(Object.entries(doc.inputs).map(([k, v]) => [k, tensorOf(v as never)])));
    const out = join(dir, "dq.out.safetensors");
    const r = await cliInProcess(["run", "--model", model, "--input", input, "--out", out]);
    expect(r.code, describeRun(r)).toBe(0);
    const got = readTensors(out);
    for (const [name, t] of Object.entries(doc.outputs)) {
      const want = tensorOf(t as never) as Tensor;
      expect(got[name].shape).toEqual(want.shape);
      expect(maxAbsDiff(got[name].data, want.data), name).toBeLessThanOrEqual(1e-2);
    }
    const report = JSON.parse((await cliInProcess(["inspect", model, "--json"])).stdout);
    const [node] = report.recurrent;
    const [D, I, N] = node.weights.W;
    expect(node).toMatchObject({ operator: "com.microsoft.DynamicQuantizeLSTM", direction: "bidirectional", hiddenSize: N / 4, inputSize: I });
    expect(node.weights).toMatchObject({ R: [D, N / 4, N], W_scale: [D], R_zero_point: [D] });
  });
});
