// cli/test/train.test.ts: `rnn-wasm train` as a user runs it (main() in-process) on CSV files. The model file must
// hold the settings predict needs (normalisation checked against the training part computed here), load with
// fromTorch and `rnn-wasm run`, come out the same for the same seed, and keep the best epoch's weights when early
// stopping (its validation loss recomputed here from the saved weights). Then every error path with its message
// and exit code. Runs are small (a few epochs, hidden 8) so the file takes seconds.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { fromTorch, init, LastStep, Linear, loadSafetensors, mseLoss, Sequential, tensor, type RecurrentLayer } from "rnn-wasm";
import { expectFailure, seasonalSeries, writeSeriesCsv } from "./forecast-helpers.js";
import { cliInProcess, describeRun, readTensors, requireLibraryBuild, tempDir, writeTensors, CLI_ROOT } from "./helpers.js";

const N = 200;
const SERIES = seasonalSeries(N);
let dir: string;
let csv: string;

beforeAll(async () => {
  requireLibraryBuild();
  dir = tempDir();
  csv = writeSeriesCsv(dir, "series.csv", SERIES);
  await init();
});

const small = ["--window", "12", "--hidden", "8", "--epochs", "4"];
const train = (...args: string[]) => cliInProcess(["train", "--data", csv, "--column", "value", ...args]);

describe("train", () => {
  it("writes a model with the metadata predict needs, a loss chart, and progress lines on a non-terminal stderr", async () => {
    const out = join(dir, "m.safetensors"), chart = join(dir, "loss.svg");
    const r = await train(...small, "--out", out, "--chart", chart);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toMatch(/^trained LSTM\(hidden 8, 1 layer\) on column 'value' of '.*series\.csv' to predict the next value from 12 past values$/m);
    expect(r.stdout).toMatch(/^  200 values: 168 training windows, 20 validation windows \(the last 10%\)$/m);
    expect(r.stdout).toMatch(/ran all 4 epochs in \d+\.\d s; best epoch [1-4]: training MSE \d\.\d{5}, validation MSE \d\.\d{5} \(normalised\)/);
    expect(r.stdout).toMatch(/^wrote model '.*m\.safetensors' \([\d,]+ bytes; the best epoch's weights\)$/m);
    expect(r.stdout).toMatch(/^wrote loss chart '.*loss\.svg'$/m);
    // stderr is a pipe here: plain lines, one per epoch for 4 epochs, and no bar redrawn with carriage returns
    expect(r.stderr).not.toMatch(/\r|\x1b\[/);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(4);
    lines.forEach((line, k) => expect(line).toMatch(new RegExp(`^epoch ${k + 1}/4  train \\d\\.\\d{5}  validation \\d\\.\\d{5}[* ]  [\\d,]+ windows/s$`)));

    const file = loadSafetensors(readFileSync(out));
    const m = file.metadata;
    expect(m).toMatchObject({ format: "rnn-wasm forecaster", format_version: "1", kind: "lstm", window: "12", column: "value", difference: "0", producer: "rnn-wasm train" });
    // 200 values, the last round(200 * 0.1) = 20 validate: mean and std of the first 180 (as written to the CSV)
    const part = readFileSync(csv, "utf8").trim().split("\n").slice(1, 181).map((l) => Number(l.split(",")[1]));
    const mean = part.reduce((a, b) => a + b) / part.length;
    const std = Math.sqrt(part.reduce((a, b) => a + (b - mean) ** 2, 0) / part.length);
    expect(Number(m.mean)).toBeCloseTo(mean, 10);
    expect(Number(m.std)).toBeCloseTo(std, 10);
    expect(JSON.parse(m.train_options)).toEqual({ kind: "lstm", hidden: 8, layers: 1, window: 12, difference: 0, epochs: 4, lr: 0.003, seed: 1, batch: 32, patience: 20, validation: 0.1, clip: 1 });
    expect(JSON.parse(m.training)).toMatchObject({ rows: 200, train_windows: 168, validation_windows: 20, epochs_run: 4, stopped_early: false });
    const shapes = Object.fromEntries(Object.entries(file.tensors).map(([n, t]) => [n, t.shape]));
    expect(shapes).toEqual({
      "rnn.weight_ih_l0": [32, 1], "rnn.weight_hh_l0": [32, 8], "rnn.bias_ih_l0": [32], "rnn.bias_hh_l0": [32],
      "head.weight": [1, 8], "head.bias": [1],
    });

    const svg = readFileSync(chart, "utf8");
    expect(svg).toMatch(/^<svg /);
    for (const text of ["training", "validation", "epoch", "MSE (normalised)", "LSTM on 'value': loss per epoch (best: epoch"]) expect(svg).toContain(text);
  });

  it("the model file loads with fromTorch and runs with `rnn-wasm run` (a PyTorch state_dict under rnn. and head.)", async () => {
    const out = join(dir, "for-run.safetensors");
    expect((await train(...small, "--out", out)).code).toBe(0);
    const tensors = readTensors(out);
    const layer = fromTorch(tensors) as RecurrentLayer; // finds the rnn. prefix, ignores head.*
    expect(layer.spec).toMatchObject({ kind: "lstm", inputSize: 1, hiddenSize: 8, numLayers: 1 });
    const head = Linear.fromTorch(tensors, { prefix: "head." });
    expect([head.outFeatures, head.inFeatures]).toEqual([1, 8]);
    const x = tensor([12, 2, 1], Float32Array.from({ length: 24 }, (_, i) => Math.sin(i)));
    const want = layer.forward(x).output;
    layer.dispose();
    head.dispose();

    const input = writeTensors(join(dir, "run-input.safetensors"), { input: x });
    const y = join(dir, "run-output.safetensors");
    const r = await cliInProcess(["run", "--model", out, "--input", input, "--out", y]);
    expect(r.code, describeRun(r)).toBe(0);
    const got = readTensors(y).output;
    expect(got.shape).toEqual([12, 2, 8]);
    for (let i = 0; i < want.data.length; i++) expect(Math.abs(got.data[i] - want.data[i])).toBeLessThan(1e-5);
  });

  it("is deterministic for a given --seed, and another seed gives other weights", async () => {
    const [a, b, c] = ["a", "b", "c"].map((n) => join(dir, `seed-${n}.safetensors`));
    const runs = await Promise.all([
      train(...small, "--seed", "7", "--out", a),
      train(...small, "--seed", "7", "--out", b),
      train(...small, "--seed", "8", "--out", c),
    ]);
    for (const r of runs) expect(r.code, describeRun(r)).toBe(0);
    expect(Buffer.compare(readFileSync(a), readFileSync(b))).toBe(0);
    expect(readTensors(a)["rnn.weight_hh_l0"].data).not.toEqual(readTensors(c)["rnn.weight_hh_l0"].data);
  });

  it("stops early after --patience epochs without a better validation loss and keeps the best epoch's weights", async () => {
    const out = join(dir, "early.safetensors");
    const r = await train("--window", "12", "--hidden", "8", "--epochs", "300", "--patience", "2", "--lr", "0.02", "--out", out, "--json");
    expect(r.code, describeRun(r)).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.stoppedEarly).toBe(true);
    expect(j.epochsRun).toBeLessThan(300);
    expect(j.bestEpoch).toBe(j.epochsRun - 2);
    const best = j.history[j.bestEpoch - 1];
    for (const h of j.history) expect(h.validation).toBeGreaterThanOrEqual(best.validation);
    expect(r.stderr).toMatch(new RegExp(`^epoch +${j.epochsRun}/300 `, "m")); // the stopping epoch is printed

    // The saved weights are the best epoch's: their validation loss, recomputed here, is the one reported for it.
    const file = loadSafetensors(readFileSync(out));
    expect(JSON.parse(file.metadata.training)).toMatchObject({ best_epoch: j.bestEpoch, epochs_run: j.epochsRun, stopped_early: true });
    const mean = Number(file.metadata.mean), std = Number(file.metadata.std);
    const values = readFileSync(join(dir, "series.csv"), "utf8").trim().split("\n").slice(1).map((l) => (Number(l.split(",")[1]) - mean) / std);
    const targets = Array.from({ length: 20 }, (_, k) => 180 + k); // the last 20 of 200 validate
    const x = tensor([12, 20, 1]), y = tensor([20, 1]);
    targets.forEach((t, b) => {
      for (let s = 0; s < 12; s++) x.data[s * 20 + b] = values[t - 12 + s];
      y.data[b] = values[t];
    });
    const model = new Sequential([fromTorch(file.tensors) as RecurrentLayer, new LastStep(), Linear.fromTorch(file.tensors, { prefix: "head." })]);
    const loss = mseLoss(model.forward(x), y).loss;
    model.dispose();
    expect(Math.abs(loss - best.validation)).toBeLessThan(1e-5 * Math.max(1, best.validation));
  });

  it("--json: one object with the settings and the loss per epoch", async () => {
    const r = await train(...small, "--kind", "gru", "--layers", "2", "--difference", "12", "--batch", "16", "--out", join(dir, "gru.safetensors"), "--json");
    expect(r.code, describeRun(r)).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ column: "value", values: 200, trainWindows: 188 - 12 - 19, validationWindows: 19, epochsRun: 4, stoppedEarly: false });
    expect(j.settings).toMatchObject({ kind: "gru", hidden: 8, layers: 2, window: 12, difference: 12, batch: 16 });
    expect(j.history.map((h: { epoch: number }) => h.epoch)).toEqual([1, 2, 3, 4]);
    const m = loadSafetensors(readFileSync(join(dir, "gru.safetensors")));
    expect(m.metadata).toMatchObject({ kind: "gru", difference: "12" });
    expect(m.tensors["rnn.weight_hh_l1"].shape).toEqual([24, 8]); // GRU: 3 gates x 8, second layer
  });

  it("--kind rnn, --validation 0 (no validation, no early stopping), on the CO2 file's 'adjusted CO2' column", async () => {
    const out = join(dir, "rnn.safetensors");
    const r = await cliInProcess(["train", "--data", join(CLI_ROOT, "data/co2-concentration.csv"), "--column", "adjusted CO2", "--kind", "rnn", ...small, "--validation", "0", "--out", out, "--json"]);
    expect(r.code, describeRun(r)).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ values: 741, trainWindows: 741 - 12, validationWindows: 0, epochsRun: 4, bestEpoch: 4 });
    expect(j.history.every((h: { validation: unknown }) => h.validation === null)).toBe(true);
    expect(loadSafetensors(readFileSync(out)).metadata).toMatchObject({ kind: "rnn", column: "adjusted CO2" });
  });

  it("trains on exactly the fewest rows its message asks for", async () => {
    // 14 rows, window 12: one validates (round(1.4) = 1), 13 train, leaving one training window
    const r = await cliInProcess(["train", "--data", writeSeriesCsv(dir, "fourteen.csv", SERIES.slice(0, 14)), "--column", "value", ...small, "--out", join(dir, "14.safetensors")]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toMatch(/14 values: 1 training windows, 1 validation windows/);
  });

  it("--help lists every option, with its default", async () => {
    const r = await cliInProcess(["train", "--help"]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toMatch(/^Usage: rnn-wasm train \[options\]/);
    for (const flag of ["--data <file>", "--column <name>", "--out <file>", "--kind <kind>", "--hidden <n>", "--layers <n>", "--window <n>", "--difference <lag>", "--epochs <n>", "--lr <x>", "--seed <n>", "--batch <n>", "--patience <n>", "--validation <fraction>", "--clip <norm>", "--chart <file.svg>", "--json"]) {
      expect(r.stdout).toContain(flag);
    }
    const help = r.stdout.replace(/\s+/g, " "); // commander wraps long lines
    expect(help).toMatch(/--kind <kind> recurrent layer \(choices: "lstm", "gru", "rnn", default: "lstm"\)/);
    expect(help).toMatch(/--epochs <n> most passes over the training windows \(default: 100\)/);
  });
});

describe.concurrent("train errors", () => {
  const out = () => join(dir, "never.safetensors");

  it("missing data file, or a directory (exit 1)", async () => {
    expectFailure(await cliInProcess(["train", "--data", join(dir, "nope.csv"), "--column", "value", "--out", out()]), 1, /data file '.*nope\.csv' not found/);
    expectFailure(await cliInProcess(["train", "--data", dir, "--column", "value", "--out", out()]), 1, /data file '.*' is a directory, not a CSV file/);
  });

  it("a column that is not there: lists those that are (exit 1)", async () => {
    expectFailure(await cliInProcess(["train", "--data", csv, "--column", "Value", "--out", out()]), 1,
      /data file '.*series\.csv' has no column 'Value'; its columns are 'step', 'value', 'label' \(names are case-sensitive\)/);
  });

  it("non-numeric and empty values: the line and the value (exit 1)", async () => {
    expectFailure(await cliInProcess(["train", "--data", csv, "--column", "label", "--out", out()]), 1,
      /data file '.*series\.csv', line 2: column 'label' is 'm0', not a number/);
    const holes = join(dir, "holes.csv");
    writeFileSync(holes, "t,v\n0,1.5\n1,2.5\n2,\n3,4\n");
    expectFailure(await cliInProcess(["train", "--data", holes, "--column", "v", "--out", out()]), 1, /holes\.csv', line 4: column 'v' is empty/);
  });

  it("a file that is not CSV, or empty (exit 1)", async () => {
    const ragged = join(dir, "ragged.csv");
    writeFileSync(ragged, "a,b\n1,2\n3,4,5\n");
    expectFailure(await cliInProcess(["train", "--data", ragged, "--column", "a", "--out", out()]), 1, /data file '.*ragged\.csv' is not valid CSV: .*line 3/);
    const empty = join(dir, "empty.csv");
    writeFileSync(empty, "\n");
    expectFailure(await cliInProcess(["train", "--data", empty, "--column", "a", "--out", out()]), 1, /data file '.*empty\.csv' is empty: expected a header row/);
  });

  it("too few rows for the window: says how many it needs (exit 1)", async () => {
    const thirteen = writeSeriesCsv(dir, "thirteen.csv", SERIES.slice(0, 13));
    expectFailure(await cliInProcess(["train", "--data", thirteen, "--column", "value", "--window", "12", "--out", out()]), 1,
      /column 'value' of '.*thirteen\.csv' has 13 values; --window 12 with --validation 0\.1 needs at least 14: use a shorter --window, or more rows/);
  });

  it("wrong --kind (exit 2)", async () => {
    expectFailure(await train("--kind", "transformer", "--out", out()), 2, /option '--kind <kind>' argument 'transformer' is invalid\. Allowed choices are lstm, gru, rnn\./);
  });

  it.each([
    ["--epochs", "0", "expected a positive integer"],
    ["--hidden", "2.5", "expected a positive integer"],
    ["--window", "x", "expected a positive integer"],
    ["--lr", "0", "expected a number above 0"],
    ["--lr", "fast", "expected a number above 0"],
    ["--clip", "-1", "expected a number above 0"],
    ["--validation", "0.6", "expected a fraction from 0 to 0.5"],
    ["--difference", "-1", "expected a whole number, 0 or more"],
    ["--seed", "1.5", "expected a whole number from 0 to 4294967295"],
  ])("bad value %s %s (exit 2)", async (flag, value, why) => {
    const r = await train(flag, value, "--out", out());
    expectFailure(r, 2, new RegExp(`option '${flag} <[a-z]+>' argument '${value.replace(".", "\\.")}' is invalid\\. ${why}`));
  });

  it("training that diverges: says which options to lower (exit 1)", async () => {
    expectFailure(await train(...small, "--lr", "1e30", "--clip", "1e30", "--out", out()), 1,
      /training diverged in epoch 1 \(the loss or a gradient became NaN or Infinity\): lower --lr \(now 1e\+30\) or --clip \(now 1e\+30\)/);
  });

  it("a required option missing (exit 2)", async () => {
    expectFailure(await cliInProcess(["train", "--data", csv, "--column", "value"]), 2, /required option '--out <file>' not specified/);
  });

  it("an output directory that does not exist: refused before training (exit 1)", async () => {
    const r = await train(...small, "--out", join(dir, "no-such-dir", "m.safetensors"));
    expectFailure(r, 1, /cannot write model file '.*no-such-dir\/m\.safetensors': directory '.*no-such-dir' does not exist/);
    expect(r.stderr).not.toMatch(/epoch/);
    expectFailure(await train(...small, "--out", out(), "--chart", join(dir, "missing", "loss.svg")), 1, /cannot write loss chart '.*missing\/loss\.svg'/);
  });
});
