// cli/test/tfjs.test.ts: `rnn-wasm run --model model.json` and `rnn-wasm inspect model.json` (main() in-process) on the
// TensorFlow.js fixture of scripts/make_tfjs_fixtures.mjs (test/fixtures/tfjs/lstm: what tfjs 4.22's model.save wrote
// for Masking -> LSTM(16) -> Dense(1), and tfjs's own predict on a batch of 2). The model is copied with its weight
// file into a folder of its own, the batch written as the input file, and 'output' compared with tfjs's within 1e-5,
// the tolerance test/tfjs/ uses for the same model through fromTfjs (float32 sums over 10 steps of 16 units). Then
// the errors: a missing or short weight file, an input file with several tensors, a wrong input shape, flags that
// do not apply; and inspect's report.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cliInProcess, describeRun, FIXTURES, maxAbsDiff, readTensors, requireLibraryBuild, tempDir, writeTensors, type Run } from "./helpers.js";

const TOL = 1e-5;
const FIXTURE = join(FIXTURES, "tfjs/lstm");
const io = JSON.parse(readFileSync(join(FIXTURE, "io.json"), "utf8")) as { inputShape: number[]; input: number[]; outputShape: number[]; output: number[] };
const manifestPaths = (json: { weightsManifest: { paths: string[] }[] }) => json.weightsManifest.flatMap((g) => g.paths);
let dir: string;
let input: string;

beforeAll(() => {
  requireLibraryBuild();
  dir = tempDir();
  input = writeTensors(join(dir, "x.safetensors"), { input: { shape: io.inputShape, data: Float32Array.from(io.input) } });
});

/** The fixture's model.json and its weight files in a new folder `name` (`keep` false: model.json alone). */
function copyModel(name: string, keep = true): string {
  const to = join(dir, name);
  mkdirSync(to);
  copyFileSync(join(FIXTURE, "model.json"), join(to, "model.json"));
  if (keep) for (const p of manifestPaths(JSON.parse(readFileSync(join(FIXTURE, "model.json"), "utf8")))) copyFileSync(join(FIXTURE, p), join(to, p));
  return join(to, "model.json");
}

function expectFailure(r: Run, code: 1 | 2, message: RegExp): void {
  expect(r.code, describeRun(r)).toBe(code);
  expect(r.stderr, describeRun(r)).toMatch(/^rnn-wasm: /);
  expect(r.stderr, describeRun(r)).toMatch(message);
  expect(r.stderr).not.toMatch(/internal error|    at /);
}

describe("run --model model.json", () => {
  it("writes tfjs's predict as 'output', on both backends", async () => {
    const model = copyModel("run");
    for (const extra of [[], ["--backend", "reference"]]) {
      const out = join(dir, `y${extra.join("")}.safetensors`);
      const r = await cliInProcess(["run", "--model", model, "--input", input, "--out", out, ...extra]);
      expect(r.code, describeRun(r)).toBe(0);
      expect(r.stdout).toMatch(/^wrote '.*' \(output \[\d+, \d+\]; \d+ bytes\): TensorFlow.js Sequential \(Masking, LSTM, Dense\) on /);
      const got = readTensors(out);
      expect(Object.keys(got)).toEqual(["output"]);
      expect(got.output.shape).toEqual(io.outputShape);
      const d = maxAbsDiff(got.output.data, Float32Array.from(io.output));
      expect(d, `max |cli - tfjs| = ${d}`).toBeLessThanOrEqual(TOL);
    }
  });

  it("the input file's only tensor feeds the model whatever its name; --json says format tfjs", async () => {
    const model = copyModel("json");
    const x = writeTensors(join(dir, "x-named.safetensors"), { batch: { shape: io.inputShape, data: Float32Array.from(io.input) } });
    const out = join(dir, "json.safetensors");
    const r = await cliInProcess(["run", "--model", model, "--input", x, "--out", out, "--json"]);
    expect(r.code, describeRun(r)).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ model: { file: model, format: "tfjs" }, input: { tensors: { batch: io.inputShape }, ignored: [] }, tensors: { output: io.outputShape } });
    expect(maxAbsDiff(readTensors(out).output.data, Float32Array.from(io.output))).toBeLessThanOrEqual(TOL);
  });

  it("a model.json under another name is recognised by its first bytes", async () => {
    const model = copyModel("renamed");
    const other = join(dir, "renamed", "model.txt");
    copyFileSync(model, other);
    const out = join(dir, "renamed.safetensors");
    const r = await cliInProcess(["run", "--model", other, "--input", input, "--out", out]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(maxAbsDiff(readTensors(out).output.data, Float32Array.from(io.output))).toBeLessThanOrEqual(TOL);
  });
});

describe("run --model model.json: errors", () => {
  const run = (model: string, x = input, ...extra: string[]) => cliInProcess(["run", "--model", model, "--input", x, "--out", join(dir, "err.safetensors"), ...extra]);

  it("a missing weight file is named, with where it was looked for", async () => {
    const model = copyModel("alone", false);
    expectFailure(await run(model), 1, /weight file '.*alone\/weights\.bin' not found \(model '.*model\.json' names '\.\/weights\.bin' in weightsManifest\[0\]: the weight files must sit beside model\.json/);
  });

  it("a weight file of the wrong size, model.json that is not JSON or has no manifest", async () => {
    const model = copyModel("short");
    const weights = join(dir, "short", "weights.bin");
    const size = readFileSync(weights).byteLength;
    writeFileSync(weights, readFileSync(weights).subarray(0, size - 4));
    expectFailure(await run(model), 1, new RegExp(`weight files of weightsManifest\\[0\\] \\('\\./weights\\.bin'\\) hold ${size - 4} bytes, but its \\d+ weights need ${size}`));
    writeFileSync(model, "{ not json");
    expectFailure(await run(model), 1, /model file '.*short\/model\.json' is not valid JSON/);
    writeFileSync(model, JSON.stringify({ modelTopology: {} }));
    expectFailure(await run(model), 1, /has no weightsManifest/);
  });

  it("an input file with several tensors and none named 'input'; an input of the wrong shape; flags a model file records", async () => {
    const model = copyModel("errors");
    const two = writeTensors(join(dir, "two.safetensors"), { a: { shape: [1], data: new Float32Array(1) }, b: { shape: [1], data: new Float32Array(1) } });
    expectFailure(await run(model, two), 1, /input file '.*two\.safetensors' holds 'a', 'b': a TensorFlow.js model takes one tensor/);
    const [B, T, F] = io.inputShape;
    const wide = writeTensors(join(dir, "wide.safetensors"), { input: { shape: [B, T, F + 1], data: new Float32Array(B * T * (F + 1)) } });
    expectFailure(await run(model, wide), 1, new RegExp(`\\(input file '.*wide\\.safetensors', tensor 'input' \\[${B}, ${T}, ${F + 1}\\]; model TensorFlow.js Sequential`));
    expectFailure(await run(model, input, "--nonlinearity", "relu"), 2, /--nonlinearity does not apply to model '.*model\.json': .* is a TensorFlow.js model.json, which records its architecture/);
  });

  it("with several tensors, the one named 'input' feeds the model and the others are noted", async () => {
    const model = copyModel("extra");
    const x = writeTensors(join(dir, "extra.safetensors"), { input: { shape: io.inputShape, data: Float32Array.from(io.input) }, notes: { shape: [1], data: new Float32Array(1) } });
    const r = await run(model, x);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stderr).toMatch(/note: ignoring 'notes'/);
  });
});

describe("inspect model.json", () => {
  it("the layers with their options, the manifest's weights and the weight files", async () => {
    const model = copyModel("inspect");
    const json = JSON.parse(readFileSync(model, "utf8"));
    const r = await cliInProcess(["inspect", model, "--json"]);
    expect(r.code, describeRun(r)).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ file: model, format: "tfjs", class: "Sequential", kerasVersion: json.modelTopology.keras_version });
    expect(report.layers.map((l: { className: string }) => l.className)).toEqual(json.modelTopology.config.layers.map((l: { class_name: string }) => l.class_name));
    const lstm = report.layers.find((l: { className: string }) => l.className === "LSTM");
    expect(lstm.options).toMatchObject({ units: 16, activation: "tanh", recurrent_activation: "sigmoid", return_sequences: false });
    const manifest = json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights);
    expect(report.weights.map((w: { name: string; shape: number[] }) => [w.name, w.shape])).toEqual(manifest.map((w: { name: string; shape: number[] }) => [w.name, w.shape]));
    expect(report.parameters).toBe(manifest.reduce((n: number, w: { shape: number[] }) => n + w.shape.reduce((a, b) => a * b, 1), 0));
    expect(report.files).toEqual(manifestPaths(json).map((p) => ({ path: p, bytes: readFileSync(join(dir, "inspect", p)).byteLength })));

    const text = await cliInProcess(["inspect", model]);
    expect(text.code, describeRun(text)).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`: TensorFlow.js Sequential, 3 layers, ${report.parameters.toLocaleString("en-US")} parameters`));
    expect(text.stdout).toMatch(/\n {2}LSTM +lstm_LSTM1 +units 16, activation tanh, recurrent_activation sigmoid/);
    expect(text.stdout).toMatch(/weight files \(1\):\n {2}\.\/weights\.bin {2}[\d,]+ bytes/);
  });

  it("a model fromTfjs refuses is an error naming it; --prefix is a usage error", async () => {
    const model = copyModel("refused");
    const json = JSON.parse(readFileSync(model, "utf8"));
    json.modelTopology.config.layers[1].class_name = "ConvLSTM2D";
    writeFileSync(model, JSON.stringify(json));
    expectFailure(await cliInProcess(["inspect", model]), 1, /model file '.*refused\/model\.json' \(TensorFlow.js\): .*ConvLSTM2D/);
    expectFailure(await cliInProcess(["inspect", model, "--prefix", "x."]), 2, /--prefix picks a module of a safetensors state_dict; model '.*' is a TensorFlow.js model.json/);
  });
});
