// cli/test/run.test.ts: `rnn-wasm run` as a user runs it (main() in-process) on files, against PyTorch's results.
// Each PyTorch fixture (test/fixtures, from scripts/make_fixtures.py) is split into a model file (the state_dict)
// and an input file (input, h0, c0); the output file must hold PyTorch's output, h_n, c_n (h, c for cells) with
// the same shapes, within 1e-5 (the tolerance test/torch/fixtures.test.ts justifies for these sizes).
// Then every error path: message on stderr as `rnn-wasm: ...` naming the problem, exit 1 (failure) or 2 (usage).
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadSafetensors, type Tensor } from "rnn-wasm";
import { cliInProcess, describeRun, FIXTURES, maxAbsDiff, ROOT, readTensors, requireLibraryBuild, tempDir, writeTensors, type Run } from "./helpers.js";

const TOL = 1e-5;
const INPUTS = new Set(["input", "h0", "c0"]);
const RESULTS = new Set(["output", "h_n", "c_n", "h", "c"]);
const FILES = readdirSync(FIXTURES).filter((f) => f.endsWith(".safetensors")).sort();

let dir: string;

interface Fixture {
  model: string;
  input: string;
  want: Record<string, Tensor>;
  flags: string[];
}

/** Splits a fixture into model and input files, and the command-line flags its options need. */
function prepare(file: string): Fixture {
  const { tensors, metadata } = loadSafetensors(readFileSync(join(FIXTURES, file)));
  const weights: Record<string, Tensor> = {}, inputs: Record<string, Tensor> = {}, want: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (INPUTS.has(name)) inputs[name] = t;
    else if (RESULTS.has(name)) want[name] = t;
    else weights[name] = t;
  }
  const o = JSON.parse(metadata.options);
  const family = metadata.kind.replace("_cell", "");
  const flags: string[] = [];
  if (o.batchFirst && !metadata.kind.endsWith("_cell")) flags.push("--batch-first");
  if (family === "rnn" && o.nonlinearity === "relu") flags.push("--nonlinearity", "relu");
  if (family === "gru" && o.resetAfter === false) flags.push("--reset-before");
  const base = join(dir, file.replace(".safetensors", ""));
  return { model: writeTensors(`${base}.model.safetensors`, weights), input: writeTensors(`${base}.input.safetensors`, inputs), want, flags };
}

function expectFailure(r: Run, code: 1 | 2, message: RegExp): void {
  expect(r.code, describeRun(r)).toBe(code);
  expect(r.stderr, describeRun(r)).toMatch(/^rnn-wasm: /);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/internal error|    at /); // a message, not a stack trace
}

beforeAll(() => {
  requireLibraryBuild();
  dir = tempDir();
});

describe("run on the PyTorch fixtures", () => {
  it.each(FILES)("%s", async (file) => {
    const fx = prepare(file);
    const out = join(dir, file.replace(".safetensors", ".out.safetensors"));
    const r = await cliInProcess(["run", "--model", fx.model, "--input", fx.input, "--out", out, ...fx.flags]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toMatch(/^wrote '/);
    const got = readTensors(out);
    expect(Object.keys(got).sort()).toEqual(Object.keys(fx.want).sort());
    for (const [name, want] of Object.entries(fx.want)) {
      expect(got[name].shape, `${file}: ${name} shape`).toEqual(want.shape);
      const d = maxAbsDiff(got[name].data, want.data);
      expect(d, `${file}: ${name} max |cli - torch| = ${d}`).toBeLessThanOrEqual(TOL);
    }
  });

  it("runs on the reference backend and on the scalar build, and --kind states the kind", async () => {
    const fx = prepare("lstm_2layer_bidir_state.safetensors");
    for (const extra of [["--backend", "reference"], ["--build", "scalar"], ["--kind", "lstm"]]) {
      const out = join(dir, `variant${extra.join("")}.safetensors`);
      const r = await cliInProcess(["run", "--model", fx.model, "--input", fx.input, "--out", out, ...extra]);
      expect(r.code, describeRun(r)).toBe(0);
      expect(maxAbsDiff(readTensors(out).output.data, fx.want.output.data)).toBeLessThanOrEqual(TOL);
    }
  });

  it("notes tensors of the input file it ignores", async () => {
    const fx = prepare("gru_basic_state.safetensors");
    const input = writeTensors(join(dir, "extra.safetensors"), { ...readTensors(fx.input), h_0: { shape: [1], data: new Float32Array(1) } });
    const r = await cliInProcess(["run", "--model", fx.model, "--input", input, "--out", join(dir, "extra.out.safetensors")]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stderr).toMatch(/note: ignoring 'h_0'/);
  });
});

describe("run --json", () => {
  it("prints what was written: the file, each tensor's shape (as in the file), the model, the input, where it ran", async () => {
    const fx = prepare("lstm_proj_bidir_state.safetensors");
    const out = join(dir, "json.out.safetensors");
    const r = await cliInProcess(["run", "--model", fx.model, "--input", fx.input, "--out", out, "--json"]);
    expect(r.code, describeRun(r)).toBe(0);
    const summary = JSON.parse(r.stdout);
    const written = readTensors(out);
    expect(summary).toMatchObject({
      out,
      bytes: readFileSync(out).byteLength,
      model: { file: fx.model, description: "LSTM(inputSize 6, hiddenSize 9, 2 layers, bidirectional, projSize 5)", kind: "lstm", cell: false },
      input: { file: fx.input, tensors: { input: [5, 2, 6], h0: [4, 2, 5], c0: [4, 2, 9] }, ignored: [] },
      backend: "wasm",
    });
    expect(summary.tensors).toEqual(Object.fromEntries(Object.entries(written).map(([n, t]) => [n, t.shape])));
    expect(Object.keys(summary.tensors).sort()).toEqual(["c_n", "h_n", "output"]);
    expect(["relaxed", "simd", "scalar"]).toContain(summary.build);
    expect(summary.ms).toBeGreaterThan(0);
    expect(maxAbsDiff(written.output.data, fx.want.output.data)).toBeLessThanOrEqual(TOL); // --json changes the report, not the run
  });

  it("a cell on the reference backend: h and c, build null; ignored input tensors listed (the note stays on stderr)", async () => {
    const fx = prepare("lstm_cell_state.safetensors");
    const input = writeTensors(join(dir, "cell-extra.safetensors"), { ...readTensors(fx.input), notes: { shape: [1], data: new Float32Array(1) } });
    const out = join(dir, "cell-json.out.safetensors");
    const r = await cliInProcess(["run", "--model", fx.model, "--input", input, "--out", out, "--backend", "reference", "--json"]);
    expect(r.code, describeRun(r)).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ tensors: { h: [2, 11], c: [2, 11] }, backend: "reference", build: null, model: { kind: "lstm", cell: true } });
    expect(summary.input.ignored).toEqual(["notes"]);
    expect(r.stderr).toMatch(/note: ignoring 'notes'/);
  });

  it("errors stay on stderr with the same exit codes, and stdout stays empty", async () => {
    const fx = prepare("lstm_basic.safetensors");
    const missing = await cliInProcess(["run", "--model", join(dir, "nope.safetensors"), "--input", fx.input, "--out", join(dir, "x.safetensors"), "--json"]);
    expectFailure(missing, 1, /model file '.*nope\.safetensors' not found/);
    expect(missing.stdout).toBe("");
    const usage = await cliInProcess(["run", "--model", fx.model, "--input", fx.input, "--out", join(dir, "x.safetensors"), "--json", "--reset-before"]);
    expectFailure(usage, 2, /--reset-before is a GRU option/);
    expect(usage.stdout).toBe("");
  });
});

describe("run --help", () => {
  it("lists every option and exits 0", async () => {
    const r = await cliInProcess(["run", "--help"]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toMatch(/^Usage: rnn-wasm run \[options\]/);
    for (const flag of ["--model <file>", "--input <file>", "--out <file>", "--kind <kind>", "--nonlinearity <fn>", "--batch-first", "--reset-before", "--backend <name>", "--build <build>", "--nan-policy <policy>", "--json"]) {
      expect(r.stdout).toContain(flag);
    }
  });

  it("the program's help lists the commands; `help run` works too", async () => {
    const top = await cliInProcess(["--help"]);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/Usage: rnn-wasm/);
    expect(top.stdout).toMatch(/run \[options\]/);
    expect(top.stdout).toMatch(/demo \[options\]/);
    const help = await cliInProcess(["help", "run"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: rnn-wasm run/);
    expect((await cliInProcess(["demo", "--help"])).stdout).toMatch(/Usage: rnn-wasm demo/);
    expect((await cliInProcess(["--version"])).stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version);
  });
});

describe("run errors", () => {
  let fx: Fixture;
  let out: string;
  beforeAll(() => {
    fx = prepare("lstm_basic.safetensors"); // LSTM inputSize 5, hiddenSize 7, input [6, 3, 5]
    out = join(dir, "errors.out.safetensors");
  });
  const runWith = (model: string, input: string, ...extra: string[]) => cliInProcess(["run", "--model", model, "--input", input, "--out", out, ...extra]);

  it("missing model file (exit 1)", async () => {
    expectFailure(await runWith(join(dir, "nope.safetensors"), fx.input), 1, /model file '.*nope\.safetensors' not found/);
    expect(existsSync(out)).toBe(false);
  });

  it("missing input file (exit 1)", async () => {
    expectFailure(await runWith(fx.model, join(dir, "nope.safetensors")), 1, /input file '.*nope\.safetensors' not found/);
  });

  it("a directory instead of a file (exit 1)", async () => {
    expectFailure(await runWith(dir, fx.input), 1, /model file '.*' is a directory/);
  });

  it("malformed model file: not safetensors at all (exit 1)", async () => {
    const bad = join(dir, "text.safetensors");
    writeFileSync(bad, "this is not a safetensors file\n");
    expectFailure(await runWith(bad, fx.input), 1, /model file '.*text\.safetensors' is not a readable safetensors file: header length \d+ exceeds/);
  });

  it("malformed input file: truncated (exit 1)", async () => {
    const whole = readFileSync(fx.input);
    const bad = join(dir, "truncated.safetensors");
    writeFileSync(bad, whole.subarray(0, whole.length - 10));
    expectFailure(await runWith(fx.model, bad), 1, /input file '.*truncated\.safetensors' is not a readable safetensors file: .*(trailing|beyond)/);
  });

  it("input file without an `input` tensor (exit 1)", async () => {
    const noInput = writeTensors(join(dir, "no-input.safetensors"), { x: { shape: [6, 3, 5], data: new Float32Array(90) } });
    expectFailure(await runWith(fx.model, noInput), 1, /input file '.*no-input\.safetensors' has no tensor named 'input' \(it holds 'x'\)/);
  });

  it("input of the wrong shape (exit 1)", async () => {
    const wrong = writeTensors(join(dir, "wrong-shape.safetensors"), { input: { shape: [6, 3, 4], data: new Float32Array(72) } });
    expectFailure(await runWith(fx.model, wrong), 1, /input has shape \[6, 3, 4\], expected \[\*, \*, 5\].*LSTM\(inputSize 5, hiddenSize 7/);
  });

  it("h0 of the wrong shape (exit 1)", async () => {
    const wrong = writeTensors(join(dir, "wrong-h0.safetensors"), { ...readTensors(fx.input), h0: { shape: [1, 2, 7], data: new Float32Array(14) } });
    expectFailure(await runWith(fx.model, wrong), 1, /h0 has shape \[1, 2, 7\], expected \[1, 3, 7\]/);
  });

  it("c0 for a GRU (exit 1)", async () => {
    const gru = prepare("gru_basic_state.safetensors");
    const withC0 = writeTensors(join(dir, "gru-c0.safetensors"), { ...readTensors(gru.input), c0: { shape: [1, 3, 7], data: new Float32Array(21) } });
    expectFailure(await runWith(gru.model, withC0), 1, /c0 is only for an LSTM/);
  });

  it("NaN in the input names the flat index, and --nan-policy propagate lets it through", async () => {
    const x = readTensors(fx.input).input;
    x.data[11] = NaN;
    const nan = writeTensors(join(dir, "nan.safetensors"), { input: x });
    expectFailure(await runWith(fx.model, nan), 1, /input holds NaN at flat index 11; pass --nan-policy propagate/);
    expect((await runWith(fx.model, nan, "--nan-policy", "propagate")).code).toBe(0);
  });

  it("unknown --kind value (exit 2)", async () => {
    expectFailure(await runWith(fx.model, fx.input, "--kind", "lstn"), 2, /option '--kind <kind>' argument 'lstn' is invalid. Allowed choices are lstm, gru, rnn/);
  });

  it("--kind that contradicts the weights names the tensor (exit 1)", async () => {
    expectFailure(await runWith(fx.model, fx.input, "--kind", "gru"), 1, /model file '.*': weight_ih_l0 has shape \[28, 5\], expected \[21, 5\]/);
  });

  it("options for another kind of model (exit 2)", async () => {
    expectFailure(await runWith(fx.model, fx.input, "--nonlinearity", "relu"), 2, /--nonlinearity is an RNN option, but model '.*' is an LSTM/);
    expectFailure(await runWith(fx.model, fx.input, "--reset-before"), 2, /--reset-before is a GRU option, but model '.*' is an LSTM/);
    expectFailure(await runWith(fx.model, fx.input, "--kind", "lstm", "--reset-before"), 2, /--reset-before is a GRU option, but --kind is lstm/);
    const cell = prepare("lstm_cell_state.safetensors");
    expectFailure(await runWith(cell.model, cell.input, "--batch-first"), 2, /--batch-first is for sequence layers, but model '.*' is an LSTMCell/);
  });

  it("a missing required option, an unknown option, an unknown command, no command (exit 2)", async () => {
    expectFailure(await cliInProcess(["run", "--model", fx.model, "--input", fx.input]), 2, /required option '--out <file>' not specified/);
    expectFailure(await runWith(fx.model, fx.input, "--frobnicate"), 2, /unknown option '--frobnicate'/);
    expectFailure(await cliInProcess(["frobnicate"]), 2, /unknown command 'frobnicate'/);
    const none = await cliInProcess([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/Usage: rnn-wasm/);
  });

  it("an output directory that does not exist (exit 1)", async () => {
    const r = await cliInProcess(["run", "--model", fx.model, "--input", fx.input, "--out", join(dir, "no/such/dir/y.safetensors")]);
    expectFailure(r, 1, /cannot write output file '.*y\.safetensors': directory '.*no\/such\/dir' does not exist/);
  });
});
