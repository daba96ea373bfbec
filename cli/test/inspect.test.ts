// cli/test/inspect.test.ts: `rnn-wasm inspect` as a user runs it (main() in-process) on model files. The architecture
// it reports is checked against what scripts/make_fixtures.py recorded in each PyTorch fixture's metadata (the
// options PyTorch's module was built with, and the key prefix), so inspect is held to PyTorch, not to itself.
// Then the text form, files with tensors beside the model (a trained head, a fixture's inputs), dtypes as stored,
// and every error path: message on stderr as `rnn-wasm: ...`, exit 1 (failure) or 2 (usage).
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { LSTM, Linear, loadSafetensors, saveSafetensors, type Tensor } from "rnn-wasm";
import { cliInProcess, describeRun, FIXTURES, requireLibraryBuild, tempDir, writeTensors, type Run, CLI_ROOT } from "./helpers.js";

const DEMO = join(CLI_ROOT, "data/lstm-demo.safetensors");
const FIXTURE_FILES = readdirSync(FIXTURES).filter((f) => f.endsWith(".safetensors")).sort();

let dir: string;

beforeAll(() => {
  requireLibraryBuild();
  dir = tempDir();
});

function json(r: Run): Record<string, any> {
  expect(r.code, describeRun(r)).toBe(0);
  expect(r.stderr, describeRun(r)).toBe("");
  return JSON.parse(r.stdout);
}

function expectFailure(r: Run, code: 1 | 2, message: RegExp): void {
  expect(r.code, describeRun(r)).toBe(code);
  expect(r.stdout, describeRun(r)).toBe("");
  expect(r.stderr, describeRun(r)).toMatch(/^rnn-wasm: /);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/internal error|    at /); // a message, not a stack trace
}

/** A safetensors file written by hand, so a tensor can be stored as F16 (saveSafetensors writes F32 only). */
function writeWithDtypes(path: string, entries: { name: string; dtype: "F32" | "F16"; shape: number[] }[]): string {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const e of entries) {
    const bytes = e.shape.reduce((a, b) => a * b, 1) * (e.dtype === "F32" ? 4 : 2);
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const text = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(text.length));
  writeFileSync(path, Buffer.concat([length, text, Buffer.alloc(offset)])); // zeros: 0 in F16 and in F32
  return path;
}

describe("inspect --json on the PyTorch fixtures", () => {
  it("reports each fixture's architecture and prefix as PyTorch's module had them", async () => {
    const runs: Run[] = [];
    for (const file of FIXTURE_FILES) runs.push(await cliInProcess(["inspect", join(FIXTURES, file), "--json"]));
    for (const [k, file] of FIXTURE_FILES.entries()) {
      const { metadata, tensors } = loadSafetensors(readFileSync(join(FIXTURES, file)));
      const o = JSON.parse(metadata.options);
      const cell = metadata.kind.endsWith("_cell");
      const got = json(runs[k]);
      const want = {
        kind: metadata.kind.replace("_cell", ""),
        cell,
        inputSize: o.inputSize,
        hiddenSize: o.hiddenSize,
        numLayers: cell ? 1 : o.numLayers,
        bidirectional: cell ? false : o.bidirectional,
        projSize: o.projSize,
        bias: o.bias,
        prefix: metadata.prefix,
      };
      expect(Object.fromEntries(Object.keys(want).map((k) => [k, got[k]])), file).toEqual(want);
      // The model's tensors and the others partition the file; the parameter count is the model's values.
      const names = [...got.tensors, ...got.extraTensors].map((t: { name: string }) => t.name).sort();
      expect(names, file).toEqual(Object.keys(tensors).sort());
      expect(got.parameters, file).toBe(got.tensors.reduce((n: number, t: { name: string }) => n + tensors[t.name].data.length, 0));
      expect(got.metadata, file).toEqual(metadata);
    }
  });

  it("a layer file: every field, named as the layer options", async () => {
    const got = json(await cliInProcess(["inspect", DEMO, "--json"]));
    expect(got).toEqual({
      file: DEMO,
      class: "LSTM",
      kind: "lstm",
      cell: false,
      inputSize: 64,
      hiddenSize: 256,
      numLayers: 1,
      bidirectional: false,
      projSize: 0,
      bias: true,
      notRecorded: ["batchFirst"],
      prefix: "",
      parameters: 4 * 256 * (64 + 256) + 2 * 4 * 256,
      tensors: [
        { name: "weight_ih_l0", dtype: "F32", shape: [1024, 64] },
        { name: "weight_hh_l0", dtype: "F32", shape: [1024, 256] },
        { name: "bias_ih_l0", dtype: "F32", shape: [1024] },
        { name: "bias_hh_l0", dtype: "F32", shape: [1024] },
      ],
      extraTensors: [],
      metadata: loadSafetensors(readFileSync(DEMO)).metadata,
      bytes: readFileSync(DEMO).byteLength,
    });
  });

  it("a cell file: class LSTMCell, names without _l0, the fixture's inputs as extra tensors", async () => {
    const got = json(await cliInProcess(["inspect", join(FIXTURES, "lstm_cell_state.safetensors"), "--json"]));
    expect(got.class).toBe("LSTMCell");
    expect(got.notRecorded).toEqual([]);
    expect(got.tensors.map((t: { name: string }) => t.name)).toEqual(["weight_ih", "weight_hh", "bias_ih", "bias_hh"]);
    expect(got.extraTensors.map((t: { name: string }) => t.name).sort()).toEqual(["c", "c0", "h", "h0", "input"]);
  });

  it("a bidirectional, projected, two-layer LSTM: tensors in PyTorch's state_dict order", async () => {
    const got = json(await cliInProcess(["inspect", join(FIXTURES, "lstm_proj_bidir_state.safetensors"), "--json"]));
    const order: string[] = [];
    for (const sfx of ["_l0", "_l0_reverse", "_l1", "_l1_reverse"]) for (const role of ["weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr"]) order.push(role + sfx);
    expect(got.tensors.map((t: { name: string }) => t.name)).toEqual(order);
    expect(got.tensors.find((t: { name: string }) => t.name === "weight_ih_l1").shape).toEqual([36, 10]); // 2 directions x projSize 5
    expect(got.tensors.find((t: { name: string }) => t.name === "weight_hr_l0_reverse").shape).toEqual([5, 9]);
  });

  it("a prefixed state_dict: the prefix, and names kept whole", async () => {
    const got = json(await cliInProcess(["inspect", join(FIXTURES, "rnn_relu_b1_prefixed.safetensors"), "--json"]));
    expect(got).toMatchObject({ class: "RNN", prefix: "model.rnn.", numLayers: 2, notRecorded: ["nonlinearity", "batchFirst"] });
    expect(got.tensors[0]).toEqual({ name: "model.rnn.weight_ih_l0", dtype: "F32", shape: [7, 17] });
  });

  it("dtypes as the file stores them (F16 here), not as they are read", async () => {
    const path = writeWithDtypes(join(dir, "f16.safetensors"), [
      { name: "weight_ih", dtype: "F16", shape: [6, 3] },
      { name: "weight_hh", dtype: "F16", shape: [6, 2] },
      { name: "bias_ih", dtype: "F32", shape: [6] },
      { name: "bias_hh", dtype: "F32", shape: [6] },
    ]);
    const got = json(await cliInProcess(["inspect", path, "--json"]));
    expect(got).toMatchObject({ class: "GRUCell", inputSize: 3, hiddenSize: 2 });
    expect(got.tensors.map((t: { dtype: string }) => t.dtype)).toEqual(["F16", "F16", "F32", "F32"]);
  });
});

describe("inspect (text)", () => {
  it("a layer file: architecture, parameters, tensors, metadata", async () => {
    const r = await cliInProcess(["inspect", DEMO]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toMatch(/^.*lstm-demo\.safetensors: LSTM, 329,728 parameters\n/);
    expect(r.stdout).toMatch(/^ {2}kind +lstm \(a sequence layer: fromTorch builds an LSTM, as torch\.nn\.LSTM\)$/m);
    for (const line of [/^ {2}inputSize +64$/m, /^ {2}hiddenSize +256$/m, /^ {2}numLayers +1$/m, /^ {2}bidirectional +false$/m, /^ {2}bias +true$/m]) expect(r.stdout).toMatch(line);
    expect(r.stdout).toMatch(/^ {2}not recorded +batchFirst/m);
    expect(r.stdout).toMatch(/^tensors of the LSTM \(4\):\n {2}weight_ih_l0 +F32 +\[1024, 64\] +65,536$/m);
    expect(r.stdout).toMatch(/^metadata \(5\):$/m);
    expect(r.stdout).toMatch(/^ {2}description +demo model: nn\.LSTM/m);
  });

  it("a model written with a head (as `train` writes one): the head is listed apart", async () => {
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 8, backend: "reference", seed: 1 });
    const head = new Linear({ inFeatures: 8, outFeatures: 1, backend: "reference", seed: 2 });
    const tensors: Record<string, Tensor> = { ...lstm.toTorch() };
    for (const [name, t] of Object.entries(head.toTorch())) tensors[`head.${name}`] = t;
    const path = join(dir, "with-head.safetensors");
    writeFileSync(path, saveSafetensors(tensors, { producer: "a test" }));
    const r = await cliInProcess(["inspect", path]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toMatch(/^other tensors \(2, not part of the LSTM\):\n {2}head\.bias +F32 +\[1\]\n {2}head\.weight +F32 +\[1, 8\]$/m);
    expect(r.stdout).toMatch(/^ {2}producer +a test$/m);
    expect(r.stdout).toContain(`${path}: LSTM, ${4 * 8 * (3 + 8) + 2 * 4 * 8} parameters`);
  });

  it("long metadata values are cut short in text, whole in --json", async () => {
    const lstm = new LSTM({ inputSize: 2, hiddenSize: 3, backend: "reference", seed: 1 });
    const history = JSON.stringify(Array.from({ length: 40 }, (_, epoch) => ({ epoch, loss: 1 / (epoch + 1) })));
    const path = join(dir, "long-metadata.safetensors");
    writeFileSync(path, saveSafetensors(lstm.toTorch(), { training: history, note: "short" }));
    const r = await cliInProcess(["inspect", path]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toContain(`  training  ${history.slice(0, 64)}... (${history.length} characters; --json shows all)\n`);
    expect(r.stdout).toMatch(/^ {2}note +short$/m);
    expect(json(await cliInProcess(["inspect", path, "--json"])).metadata).toEqual({ training: history, note: "short" });
  });

  it("a cell file shows no layer fields", async () => {
    const r = await cliInProcess(["inspect", join(FIXTURES, "gru_cell_reset_before_state.safetensors")]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toMatch(/^ {2}kind +gru \(a one-step cell: fromTorch builds a GRUCell, as torch\.nn\.GRUCell\)$/m);
    expect(r.stdout).not.toMatch(/^ {2}(numLayers|bidirectional|projSize) /m);
    expect(r.stdout).toMatch(/^ {2}not recorded +resetAfter/m); // this fixture is reset-before: the file cannot say so
  });

  it("a file whose weights hold NaN (layer 0's weight_ih and weight_hh too) is described, not refused", async () => {
    const path = join(dir, "nan-weights.safetensors");
    const tensors = new LSTM({ inputSize: 2, hiddenSize: 3, numLayers: 2, backend: "reference", seed: 1 }).toTorch();
    tensors.weight_ih_l0.data[0] = NaN;
    tensors.weight_hh_l0.data[1] = Infinity;
    writeTensors(path, tensors);
    expect(json(await cliInProcess(["inspect", path, "--json"]))).toMatchObject({ kind: "lstm", inputSize: 2, hiddenSize: 3, numLayers: 2 });
  });

  it("--prefix chooses one of several recurrent modules", async () => {
    const path = join(dir, "two-modules.safetensors");
    const enc = new LSTM({ inputSize: 3, hiddenSize: 4, backend: "reference", seed: 1 }).toTorch();
    const dec = new LSTM({ inputSize: 4, hiddenSize: 5, numLayers: 2, backend: "reference", seed: 1 }).toTorch();
    const tensors: Record<string, Tensor> = {};
    for (const [n, t] of Object.entries(enc)) tensors[`encoder.${n}`] = t;
    for (const [n, t] of Object.entries(dec)) tensors[`decoder.${n}`] = t;
    writeTensors(path, tensors);
    const got = json(await cliInProcess(["inspect", path, "--prefix", "decoder.", "--json"]));
    expect(got).toMatchObject({ prefix: "decoder.", inputSize: 4, hiddenSize: 5, numLayers: 2 });
    expect(got.extraTensors.map((t: { name: string }) => t.name)).toEqual(Object.keys(enc).map((n) => `encoder.${n}`).sort());
    expectFailure(await cliInProcess(["inspect", path]), 1, /holds several recurrent modules \('decoder\.', 'encoder\.'\); pass --prefix to choose one/);
  });
});

describe("inspect --help", () => {
  it("describes the command and its options, exit 0", async () => {
    const r = await cliInProcess(["inspect", "--help"]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toMatch(/^Usage: rnn-wasm inspect \[options\] <model>/);
    for (const text of ["--json", "--prefix <prefix>", "kind, inputSize, hiddenSize", "rnn-wasm inspect data/lstm-demo.safetensors"]) expect(r.stdout).toContain(text);
    expect((await cliInProcess(["--help"])).stdout).toMatch(/^ {2}inspect \[options\] <model> +show the architecture/m);
  });
});

describe("inspect errors", () => {
  it("a missing file (exit 1)", async () => {
    expectFailure(await cliInProcess(["inspect", join(dir, "nope.safetensors")]), 1, /model file '.*nope\.safetensors' not found/);
  });

  it("a directory (exit 1)", async () => {
    expectFailure(await cliInProcess(["inspect", dir]), 1, /model file '.*' is a directory, not a safetensors file/);
  });

  it("a file that is not safetensors, and a truncated one (exit 1)", async () => {
    const text = join(dir, "text.safetensors");
    writeFileSync(text, "this is not a safetensors file\n");
    expectFailure(await cliInProcess(["inspect", text]), 1, /model file '.*text\.safetensors' is not a readable safetensors file: header length \d+ exceeds/);
    const whole = readFileSync(DEMO);
    const truncated = join(dir, "truncated.safetensors");
    writeFileSync(truncated, whole.subarray(0, whole.length - 100));
    expectFailure(await cliInProcess(["inspect", truncated]), 1, /model file '.*truncated\.safetensors' is not a readable safetensors file: .*beyond the data buffer/);
  });

  it("a file with no recurrent weights names the tensors it has (exit 1)", async () => {
    const r = await cliInProcess(["inspect", join(CLI_ROOT, "data/lstm-demo.input.safetensors")]);
    expectFailure(r, 1, /holds no recurrent weights \(no weight_ih_l0, or weight_ih for a cell, under any prefix\); its tensors: c_n F32 \[1, 1, 256\], h_n F32 \[1, 1, 256\], input F32 \[128, 1, 64\], output F32 \[128, 1, 256\]/);
  });

  it("a --prefix the file does not have names the modules it has (exit 1)", async () => {
    expectFailure(await cliInProcess(["inspect", DEMO, "--prefix", "encoder."]), 1, /has no recurrent weights under prefix 'encoder\.' \(its recurrent modules: '' \(no prefix\)\)/);
  });

  it("an incomplete or misshapen state_dict names the tensor (exit 1)", async () => {
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, backend: "reference", seed: 1 }).toTorch();
    const { bias_hh_l0: _, ...noBias } = lstm;
    expectFailure(await cliInProcess(["inspect", writeTensors(join(dir, "no-bias-hh.safetensors"), noBias)]), 1,
      /model file '.*no-bias-hh\.safetensors': missing tensor 'bias_hh_l0' of shape \[16\]/);
    const bad = { ...lstm, weight_hh_l0: { shape: [15, 4], data: new Float32Array(60) } };
    expectFailure(await cliInProcess(["inspect", writeTensors(join(dir, "bad-rows.safetensors"), bad)]), 1,
      /weight_hh_l0 has shape \[15,4\]: its rows are not 4, 3 or 1 times the hidden size 4/);
  });

  it("a dtype the reader does not take names the tensor (exit 1)", async () => {
    const path = join(dir, "i64.safetensors");
    const text = Buffer.from(JSON.stringify({ steps: { dtype: "I64", shape: [1], data_offsets: [0, 8] } }));
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(text.length));
    writeFileSync(path, Buffer.concat([length, text, Buffer.alloc(8)]));
    expectFailure(await cliInProcess(["inspect", path]), 1, /tensor "steps" has dtype I64; only F32, F16, BF16, F64, I8 and I16 can be read/);
  });

  it("no model argument, an unknown option (exit 2)", async () => {
    expectFailure(await cliInProcess(["inspect"]), 2, /missing required argument 'model'/);
    expectFailure(await cliInProcess(["inspect", DEMO, "--frobnicate"]), 2, /unknown option '--frobnicate'/);
  });
});
