// cli/test/keras.test.ts: `rnn-wasm run --model model.keras` and `rnn-wasm inspect model.keras` (main() in-process) on
// the Keras 3 fixtures of scripts/make_keras_fixtures.mjs (test/fixtures/keras/: each .keras file with its input and
// expected output in <name>.json, TensorFlow.js 4.22's predict on the same weights with Keras 3's differences
// applied). Each file's input is written as the input file and 'output' compared with the expected output within
// 1e-5, the tolerance test/keras/files.test.ts uses for the same files through fromKeras (float32 sums over a few
// steps; the measured differences there are at most 1.2e-7, and a wrong gate order, activation or mask rule moves
// outputs by 1e-2 or more). Then the errors: a truncated file, an archive without model.weights.h5, an input file
// with several tensors, a wrong input shape, flags that do not apply; and inspect's report against the file's own
// config.json and metadata.json, read here with fflate.
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { strFromU8, unzipSync, zipSync } from "fflate";
import { beforeAll, describe, expect, it } from "vitest";
import { cliInProcess, describeRun, FIXTURES, maxAbsDiff, readTensors, requireLibraryBuild, tempDir, writeTensors, type Run } from "./helpers.js";

const TOL = 1e-5;
const DIR = join(FIXTURES, "keras");

interface Io { inputShape: number[]; input: number[]; outputShape: number[]; output: number[] }
const io = (name: string): Io => JSON.parse(readFileSync(join(DIR, `${name}.json`), "utf8"));
const kerasPath = (name: string) => join(DIR, `${name}.keras`);

/** [expected output (<name>.json), .keras file]: every fixture. */
const CASES: [name: string, file: string][] = [
  ["lstm_dense", "lstm_dense"],
  ["lstm_dense", "lstm_dense_gzip"],
  ["lstm_hard_sigmoid", "lstm_hard_sigmoid"],
  ["lstm_hard_sigmoid_keras2", "lstm_hard_sigmoid_keras2"],
  ["embedding_bidirectional", "embedding_bidirectional"],
  ["functional_stack", "functional_stack"],
  ["gru_reset_after", "gru_reset_after"],
];

let dir: string;

beforeAll(() => {
  requireLibraryBuild();
  dir = tempDir();
});

/** The input file of fixture `name`, its one tensor named `tensorName`. */
function inputFile(name: string, tensorName = "input"): string {
  const d = io(name);
  return writeTensors(join(dir, `${name}.${tensorName}.safetensors`), { [tensorName]: { shape: d.inputShape, data: Float32Array.from(d.input) } });
}

function expectFailure(r: Run, code: 1 | 2, message: RegExp): void {
  expect(r.code, describeRun(r)).toBe(code);
  expect(r.stderr, describeRun(r)).toMatch(/^rnn-wasm: /);
  expect(r.stderr, describeRun(r)).toMatch(message);
  expect(r.stderr).not.toMatch(/internal error|    at /);
}

function members(path: string): Record<string, Uint8Array> {
  return unzipSync(new Uint8Array(readFileSync(path)));
}

describe("run --model model.keras", () => {
  it.each(CASES)("%s: %s.keras writes the expected output as 'output' within 1e-5", async (name, file) => {
    const out = join(dir, `${file}.out.safetensors`);
    const r = await cliInProcess(["run", "--model", kerasPath(file), "--input", inputFile(name), "--out", out]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toMatch(/^wrote '.*' \(output \[[\d, ]+\]; \d+ bytes\): Keras \d+\.\d+\.\d+ (Sequential|Functional) \(InputLayer, .*\) on wasm /);
    const got = readTensors(out);
    expect(Object.keys(got)).toEqual(["output"]);
    const want = io(name);
    expect(got.output.shape).toEqual(want.outputShape);
    const d = maxAbsDiff(got.output.data, Float32Array.from(want.output));
    expect(d, `max |cli - expected| = ${d}`).toBeLessThanOrEqual(TOL);
  });

  it("the reference backend too; --json says format keras, the input tensor read under its own name", async () => {
    const out = join(dir, "json.safetensors");
    const x = inputFile("functional_stack", "batch");
    const r = await cliInProcess(["run", "--model", kerasPath("functional_stack"), "--input", x, "--out", out, "--backend", "reference", "--json"]);
    expect(r.code, describeRun(r)).toBe(0);
    const want = io("functional_stack");
    expect(JSON.parse(r.stdout)).toMatchObject({
      model: { file: kerasPath("functional_stack"), format: "keras", description: expect.stringMatching(/^Keras 3\.10\.0 Functional \(InputLayer, Masking, LSTM, Dropout, LSTM, Bidirectional, Dense\)$/) },
      input: { tensors: { batch: want.inputShape }, ignored: [] },
      tensors: { output: want.outputShape },
      backend: "reference",
      build: null,
    });
    expect(maxAbsDiff(readTensors(out).output.data, Float32Array.from(want.output))).toBeLessThanOrEqual(TOL);
  });

  it("a .keras file under another name is recognised by its first bytes (a zip's PK\\x03\\x04)", async () => {
    const renamed = join(dir, "model.bin");
    copyFileSync(kerasPath("lstm_dense"), renamed);
    const out = join(dir, "renamed.safetensors");
    const r = await cliInProcess(["run", "--model", renamed, "--input", inputFile("lstm_dense"), "--out", out]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(maxAbsDiff(readTensors(out).output.data, Float32Array.from(io("lstm_dense").output))).toBeLessThanOrEqual(TOL);
  });

  it("with several tensors, the one named 'input' feeds the model and the others are noted", async () => {
    const d = io("lstm_dense");
    const x = writeTensors(join(dir, "extra.safetensors"), { input: { shape: d.inputShape, data: Float32Array.from(d.input) }, notes: { shape: [1], data: new Float32Array(1) } });
    const out = join(dir, "extra.out.safetensors");
    const r = await cliInProcess(["run", "--model", kerasPath("lstm_dense"), "--input", x, "--out", out]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stderr).toMatch(/note: ignoring 'notes' in input file '.*extra\.safetensors' \(a Keras model takes one tensor: 'input'\)/);
    expect(maxAbsDiff(readTensors(out).output.data, Float32Array.from(d.output))).toBeLessThanOrEqual(TOL);
  });
});

describe("run --model model.keras: errors", () => {
  const run = (model: string, x = inputFile("lstm_dense"), ...extra: string[]) => cliInProcess(["run", "--model", model, "--input", x, "--out", join(dir, "err.safetensors"), ...extra]);

  it("a truncated file, a file that is not a zip, an archive without model.weights.h5", async () => {
    const bytes = readFileSync(kerasPath("lstm_dense"));
    const truncated = join(dir, "truncated.keras");
    writeFileSync(truncated, bytes.subarray(0, bytes.byteLength >> 1));
    expectFailure(await run(truncated), 1, /model file '.*truncated\.keras' \(Keras\): the \.keras file is not a whole zip archive/);
    const text = join(dir, "text.keras");
    writeFileSync(text, "not a model");
    expectFailure(await run(text), 1, /model file '.*text\.keras' \(Keras\): the \.keras file is not a whole zip archive/);
    const { "model.weights.h5": _weights, ...rest } = members(kerasPath("lstm_dense"));
    const noWeights = join(dir, "no-weights.keras");
    writeFileSync(noWeights, zipSync(rest, { level: 0 }));
    expectFailure(await run(noWeights), 1, /model file '.*no-weights\.keras' \(Keras\): the \.keras file has no model\.weights\.h5 \(it holds .*config\.json/);
    const missing = join(dir, "missing.keras");
    expectFailure(await run(missing), 1, /model file '.*missing\.keras' not found/);
  });

  it("an input file with several tensors and none named 'input'; an input of the wrong shape", async () => {
    const two = writeTensors(join(dir, "two.safetensors"), { a: { shape: [1], data: new Float32Array(1) }, b: { shape: [1], data: new Float32Array(1) } });
    expectFailure(await run(kerasPath("lstm_dense"), two), 1, /input file '.*two\.safetensors' holds 'a', 'b': a Keras model takes one tensor/);
    const [B, T, F] = io("lstm_dense").inputShape;
    const wide = writeTensors(join(dir, "wide.safetensors"), { input: { shape: [B, T, F + 1], data: new Float32Array(B * T * (F + 1)) } });
    expectFailure(await run(kerasPath("lstm_dense"), wide), 1, new RegExp(`\\(input file '.*wide\\.safetensors', tensor 'input' \\[${B}, ${T}, ${F + 1}\\]; model Keras 3\\.10\\.0 Sequential \\(InputLayer, LSTM, Dense\\)\\)`));
  });

  it("flags a .keras file records are usage errors", async () => {
    expectFailure(await run(kerasPath("lstm_dense"), undefined, "--kind", "lstm"), 2, /--kind does not apply to model '.*lstm_dense\.keras': .* is a Keras 3 \.keras file, which records its architecture/);
    expectFailure(await run(kerasPath("gru_reset_after"), inputFile("gru_reset_after"), "--reset-before", "--batch-first"), 2, /--batch-first, --reset-before do not apply to model/);
  });
});

describe("inspect model.keras", () => {
  it("the class, Keras version, layers with their options and the weights, as config.json and metadata.json hold them", async () => {
    const path = kerasPath("lstm_dense");
    const files = members(path);
    const config = JSON.parse(strFromU8(files["config.json"]));
    const metadata = JSON.parse(strFromU8(files["metadata.json"]));
    const r = await cliInProcess(["inspect", path, "--json"]);
    expect(r.code, describeRun(r)).toBe(0);
    const report = JSON.parse(r.stdout);
    const [input, lstm, dense] = config.config.layers;
    expect(report).toMatchObject({ file: path, format: "keras", class: config.class_name, kerasVersion: metadata.keras_version, hardSigmoid: "keras3", inputShape: input.config.batch_shape, bytes: readFileSync(path).byteLength });
    expect(report.layers.map((l: { className: string; name: string }) => [l.className, l.name])).toEqual(config.config.layers.map((l: { class_name: string; config: { name: string } }) => [l.class_name, l.config.name]));
    const { units, activation, recurrent_activation, return_sequences, go_backwards } = lstm.config;
    expect(report.layers[1].options).toMatchObject({ units, activation, recurrent_activation, return_sequences, go_backwards });
    expect(report.layers[1].options).not.toHaveProperty("kernel_initializer");
    // the weights' shapes from the layers' sizes: LSTM kernel [F, 4U], recurrent [U, 4U], bias [4U]; Dense [U, D], [D]
    const F = input.config.batch_shape[2], U = lstm.config.units, D = dense.config.units;
    expect(report.weights).toEqual([
      { name: "lstm/kernel", path: "layers/lstm/cell/vars/0", dtype: "float32", shape: [F, 4 * U] },
      { name: "lstm/recurrent_kernel", path: "layers/lstm/cell/vars/1", dtype: "float32", shape: [U, 4 * U] },
      { name: "lstm/bias", path: "layers/lstm/cell/vars/2", dtype: "float32", shape: [4 * U] },
      { name: "dense/kernel", path: "layers/dense/vars/0", dtype: "float32", shape: [U, D] },
      { name: "dense/bias", path: "layers/dense/vars/1", dtype: "float32", shape: [D] },
    ]);
    expect(report.parameters).toBe(4 * U * (F + U + 1) + D * (U + 1));

    const text = await cliInProcess(["inspect", path]);
    expect(text.code, describeRun(text)).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`: Keras Sequential, 3 layers, ${report.parameters} parameters`));
    expect(text.stdout).toMatch(/\n {2}keras_version {2}3\.10\.0 \(hard_sigmoid: Keras 3's relu6\(x \+ 3\) \/ 6\)\n/);
    expect(text.stdout).toMatch(/\n {2}LSTM +lstm +units 8, activation tanh, recurrent_activation sigmoid/);
    expect(text.stdout).toMatch(/\n {2}lstm\/kernel +layers\/lstm\/cell\/vars\/0 +float32 +\[3, 32\] +96\n/);
  });

  it("the Keras version decides hard_sigmoid: a 2.x file says Keras 2's", async () => {
    for (const [file, want] of [["lstm_hard_sigmoid", /3\.10\.0 \(hard_sigmoid: Keras 3's/], ["lstm_hard_sigmoid_keras2", /2\.15\.0 \(hard_sigmoid: Keras 2's 0\.2x \+ 0\.5\)/]] as const) {
      const version = JSON.parse(strFromU8(members(kerasPath(file))["metadata.json"])).keras_version;
      const r = await cliInProcess(["inspect", kerasPath(file), "--json"]);
      expect(JSON.parse(r.stdout)).toMatchObject({ kerasVersion: version, hardSigmoid: version.startsWith("2.") ? "keras2" : "keras3" });
      expect((await cliInProcess(["inspect", kerasPath(file)])).stdout).toMatch(want);
    }
  });

  it("a Bidirectional shows its wrapped layer and per-direction weights; zero_output_for_mask when set", async () => {
    const r = await cliInProcess(["inspect", kerasPath("embedding_bidirectional"), "--json"]);
    expect(r.code, describeRun(r)).toBe(0);
    const report = JSON.parse(r.stdout);
    const bi = report.layers.find((l: { className: string }) => l.className === "Bidirectional");
    expect(bi.options).toMatchObject({ layer: "LSTM", merge_mode: "concat", return_sequences: true, zero_output_for_mask: true });
    expect(report.layers.find((l: { className: string }) => l.className === "Embedding").options).toMatchObject({ mask_zero: true });
    expect(report.weights.filter((w: { path: string }) => w.path.startsWith("layers/bidirectional/backward_layer/cell/vars/")).length).toBe(3);
  });

  it("a model fromKeras refuses is an error naming it; --prefix is a usage error", async () => {
    const files = members(kerasPath("lstm_dense"));
    const config = JSON.parse(strFromU8(files["config.json"]));
    config.config.layers[1].class_name = "ConvLSTM2D";
    const refused = join(dir, "refused.keras");
    writeFileSync(refused, zipSync({ ...files, "config.json": new TextEncoder().encode(JSON.stringify(config)) }, { level: 0 }));
    expectFailure(await cliInProcess(["inspect", refused]), 1, /model file '.*refused\.keras' \(Keras\): .*ConvLSTM2D/);
    expectFailure(await cliInProcess(["inspect", kerasPath("lstm_dense"), "--prefix", "x."]), 2, /--prefix picks a module of a safetensors state_dict; model '.*' is a Keras 3 \.keras file/);
  });
});
