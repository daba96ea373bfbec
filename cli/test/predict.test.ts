// cli/test/predict.test.ts: `rnn-wasm predict` as a user runs it (main() in-process), on a model `rnn-wasm train`
// made from a synthetic seasonal series. The first forecast step is recomputed here from the file's weights and
// metadata with the library's layers (an oracle independent of the forecasting code); the truth, the seasonal-naive
// baseline and the errors are recomputed from the CSV; the text table and --json must agree. Then every error path:
// message on stderr as `rnn-wasm: ...`, exit 1 (failure) or 2 (usage).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { fromTorch, init, LastStep, Linear, loadSafetensors, saveSafetensors, Sequential, tensor, type RecurrentLayer } from "rnn-wasm";
import { expectFailure, seasonalSeries, writeSeriesCsv } from "./forecast-helpers.js";
import { cliInProcess, describeRun, requireLibraryBuild, tempDir, CLI_ROOT } from "./helpers.js";

const N = 200, WINDOW = 12, LAG = 12;
let dir: string;
let csv: string;
let model: string;
/** The column as the CSV holds it (4 decimals). */
let values: number[];

beforeAll(async () => {
  requireLibraryBuild();
  dir = tempDir();
  csv = writeSeriesCsv(dir, "series.csv", seasonalSeries(N));
  values = readFileSync(csv, "utf8").trim().split("\n").slice(1).map((l) => Number(l.split(",")[1]));
  model = join(dir, "m.safetensors");
  const r = await cliInProcess(["train", "--data", csv, "--column", "value", "--window", String(WINDOW), "--difference", String(LAG), "--hidden", "8", "--epochs", "15", "--out", model]);
  expect(r.code, describeRun(r)).toBe(0);
  await init();
});

const predict = (...args: string[]) => cliInProcess(["predict", "--model", model, "--data", csv, ...args]);

/** The model's first step after history[0, end), computed from the file with the library's own layers. */
function firstStep(end: number): number {
  const { tensors, metadata } = loadSafetensors(readFileSync(model));
  const mean = Number(metadata.mean), std = Number(metadata.std);
  const x = tensor([WINDOW, 1, 1]);
  for (let s = 0; s < WINDOW; s++) {
    const t = end - WINDOW + s; // the change over LAG steps ending at t
    x.data[s] = (values[t] - values[t - LAG] - mean) / std;
  }
  const net = new Sequential([fromTorch(tensors) as RecurrentLayer, new LastStep(), Linear.fromTorch(tensors, { prefix: "head." })]);
  const z = net.forward(x).data[0];
  net.dispose();
  return values[end - LAG] + z * std + mean;
}

function rmse(a: number[], b: number[]): number {
  return Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0) / a.length);
}

describe("predict", () => {
  it("prints a table of the forecast after the end of the column, and a terminal chart", async () => {
    const r = await predict("--horizon", "6");
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^LSTM forecaster '.*m\.safetensors' \(window 12, differences over 12 steps\): 6 steps of column 'value' of '.*series\.csv', from its end \(row 200\)$/m);
    expect(r.stdout).toMatch(/^  step +forecast$/m);
    const rows = [...r.stdout.matchAll(/^  row (\d+) +(-?\d+\.\d+)$/gm)];
    expect(rows.map((m) => Number(m[1]))).toEqual([201, 202, 203, 204, 205, 206]);
    expect(Math.abs(Number(rows[0][2]) - firstStep(N))).toBeLessThan(0.006); // printed to 2 decimals
    expect(r.stdout).toMatch(/┤/); // asciichart's axis
    expect(r.stdout).toMatch(/^ +•• forecast {3}── history$/m); // its legend: without colors the forecast is drawn in dots
    const plot = r.stdout.split("\n").filter((l) => l.includes("┤") || l.includes("┼"));
    const firstDot = Math.min(...plot.map((l) => l.indexOf("•")).filter((i) => i >= 0));
    expect(firstDot).toBe(12 + 47); // the 48 values of history fill columns 12..58; the forecast leaves the last one
    expect(r.stdout).not.toMatch(/\x1b\[/); // no colors into a pipe
  });

  it("on a terminal: the chart in colors (the forecast in box lines, not dots), unless NO_COLOR is set", async () => {
    const color = await cliInProcess(["predict", "--model", model, "--data", csv, "--horizon", "6"], { stdoutTerminal: 100, env: {} });
    expect(color.code, describeRun(color)).toBe(0);
    expect(color.stdout).toMatch(/\x1b\[\d+m/);
    expect(color.stdout).not.toContain("•");
    const plain = await cliInProcess(["predict", "--model", model, "--data", csv, "--horizon", "6"], { stdoutTerminal: 100, env: { NO_COLOR: "1" } });
    expect(plain.stdout).not.toMatch(/\x1b\[/);
    expect(plain.stdout).toMatch(/^ +•• forecast {3}── history$/m);
  });

  it("--json: `forecast` holds --horizon numbers, equal to the text table's and to the oracle's first step", async () => {
    const [text, json] = await Promise.all([predict("--horizon", "5"), predict("--horizon", "5", "--json")]);
    expect(json.code, describeRun(json)).toBe(0);
    const j = JSON.parse(json.stdout);
    expect(j).toMatchObject({ column: "value", horizon: 5, holdout: 0, startsAfterRow: 200 });
    expect(j.forecast).toHaveLength(5);
    expect(j.forecast.every((v: unknown) => typeof v === "number" && Number.isFinite(v))).toBe(true);
    expect(j).not.toHaveProperty("truth");
    expect(j.forecast[0]).toBeCloseTo(firstStep(N), 4);
    const table = [...text.stdout.matchAll(/^  row \d+ +(-?\d+\.\d+)$/gm)].map((m) => Number(m[1]));
    expect(table).toEqual(j.forecast.map((v: number) => Number(v.toFixed(2))));
  });

  it("--holdout and --season: the truth, the errors and the seasonal-naive baseline, recomputed from the CSV", async () => {
    const [text, json] = await Promise.all([
      predict("--horizon", "8", "--holdout", "10", "--season", "12"),
      predict("--horizon", "8", "--holdout", "10", "--season", "12", "--json"),
    ]);
    expect(json.code, describeRun(json)).toBe(0);
    const j = JSON.parse(json.stdout);
    const start = N - 10;
    expect(j.startsAfterRow).toBe(start);
    expect(j.truth).toEqual(values.slice(start, start + 8));
    expect(j.forecast[0]).toBeCloseTo(firstStep(start), 4);
    expect(j.errors.rmse).toBeCloseTo(rmse(j.forecast, j.truth), 10);
    expect(j.errors.mae).toBeCloseTo(j.forecast.reduce((s: number, v: number, i: number) => s + Math.abs(v - j.truth[i]), 0) / 8, 10);
    expect(j.errors.steps).toBe(8);
    expect(j.baseline.method).toBe("seasonal naive");
    expect(j.baseline.forecast).toEqual(values.slice(start - 12, start - 4)); // each step's value 12 rows earlier
    expect(j.baseline.errors.rmse).toBeCloseTo(rmse(j.baseline.forecast, j.truth), 10);

    expect(text.code, describeRun(text)).toBe(0);
    expect(text.stdout).toMatch(/from row 190 \(holding out the last 10\)/);
    expect(text.stdout).toMatch(/^  step +forecast +truth +error +seasonal naive$/m);
    const rows = [...text.stdout.matchAll(/^  row (\d+) +(\S+) +(\S+) +(\S+) +(\S+)$/gm)];
    expect(rows).toHaveLength(8);
    rows.forEach((m, k) => {
      expect(Number(m[1])).toBe(start + k + 1);
      expect(m.slice(2)).toEqual([j.forecast[k], j.truth[k], j.forecast[k] - j.truth[k], values[start + k - 12]].map((v) => v.toFixed(2)));
    });
    expect(text.stdout).toContain(`forecast error:        RMSE ${j.errors.rmse.toFixed(3)}, MAE ${j.errors.mae.toFixed(3)} over the 8 held-out steps`);
    expect(text.stdout).toContain(`seasonal naive (12):   RMSE ${j.baseline.errors.rmse.toFixed(3)}, MAE ${j.baseline.errors.mae.toFixed(3)}`);
  });

  it("a horizon past the held-out values: truth for the steps it has", async () => {
    const r = await predict("--horizon", "6", "--holdout", "3", "--json");
    const j = JSON.parse(r.stdout);
    expect(j.forecast).toHaveLength(6);
    expect(j.truth).toEqual(values.slice(N - 3));
    expect(j.errors.steps).toBe(3);
  });

  it("--chart draws history, truth, forecast and baseline to SVG", async () => {
    const chart = join(dir, "forecast.svg");
    const r = await predict("--horizon", "12", "--holdout", "12", "--season", "12", "--chart", chart);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toMatch(/^wrote chart '.*forecast\.svg'$/m);
    const svg = readFileSync(chart, "utf8");
    expect(svg).toMatch(/^<svg /);
    for (const text of ["history", "truth (held out)", "forecast", "seasonal naive (12)", "LSTM forecast of 'value' (last 12 held out)", ">row<"]) expect(svg).toContain(text);
    expect(svg).toMatch(/stroke-dasharray="6,4"/); // the baseline is dashed
  });

  it("--column: another column than the model's (here the same values under another name)", async () => {
    const other = join(dir, "renamed.csv");
    writeFileSync(other, readFileSync(csv, "utf8").replace("step,value,label", "step,y,label"));
    const r = await cliInProcess(["predict", "--model", model, "--data", other, "--column", "y", "--horizon", "3", "--json"]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(JSON.parse(r.stdout).forecast[0]).toBeCloseTo(firstStep(N), 4);
  });

  it("--help lists every option", async () => {
    const r = await cliInProcess(["predict", "--help"]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toMatch(/^Usage: rnn-wasm predict \[options\]/);
    for (const flag of ["--model <file>", "--data <file>", "--column <name>", "--horizon <n>", "--holdout <n>", "--season <n>", "--chart <file.svg>", "--json"]) expect(r.stdout).toContain(flag);
  });
});

describe.concurrent("predict errors", () => {
  /** The trained model's tensors with some metadata changed. */
  function withMetadata(name: string, change: Record<string, string | undefined>): string {
    const { tensors, metadata } = loadSafetensors(readFileSync(model));
    const meta: Record<string, string> = { ...metadata };
    for (const [k, v] of Object.entries(change)) {
      if (v === undefined) delete meta[k];
      else meta[k] = v;
    }
    const path = join(dir, name);
    writeFileSync(path, saveSafetensors(tensors, meta));
    return path;
  }
  const withModel = (path: string, ...args: string[]) => cliInProcess(["predict", "--model", path, "--data", csv, "--horizon", "3", ...args]);

  it("missing model file (exit 1)", async () => {
    expectFailure(await withModel(join(dir, "nope.safetensors")), 1, /model file '.*nope\.safetensors' not found/);
  });

  it("malformed model file (exit 1)", async () => {
    const junk = join(dir, "junk.safetensors");
    writeFileSync(junk, "not a model at all\n");
    expectFailure(await withModel(junk), 1, /model file '.*junk\.safetensors' is not a readable safetensors file: header length \d+ exceeds/);
    const whole = readFileSync(model);
    const cut = join(dir, "cut.safetensors");
    writeFileSync(cut, whole.subarray(0, whole.length - 8));
    expectFailure(await withModel(cut), 1, /model file '.*cut\.safetensors' is not a readable safetensors file/);
  });

  it("a model file that is not a forecaster: a PyTorch state_dict (exit 1)", async () => {
    expectFailure(await withModel(join(CLI_ROOT, "data/lstm-demo.safetensors")), 1,
      /model file '.*lstm-demo\.safetensors' is not a forecasting model made by `rnn-wasm train` \(its metadata has no 'format'\): train one with `rnn-wasm train`; a PyTorch state_dict runs with `rnn-wasm run`/);
    expectFailure(await withModel(withMetadata("other-format.safetensors", { format: "something else" })), 1, /is not a forecasting model .*\(its metadata says format 'something else'\)/);
  });

  it("a forecaster with bad or newer metadata (exit 1)", async () => {
    expectFailure(await withModel(withMetadata("bad-window.safetensors", { window: "abc" })), 1,
      /model file '.*bad-window\.safetensors': metadata 'window' is 'abc', expected a positive integer; train the model again/);
    expectFailure(await withModel(withMetadata("no-std.safetensors", { std: undefined })), 1, /no-std\.safetensors': its metadata has no 'std'/);
    expectFailure(await withModel(withMetadata("bad-kind.safetensors", { kind: "transformer" })), 1, /metadata 'kind' is 'transformer', expected lstm, gru, rnn/);
    expectFailure(await withModel(withMetadata("v2.safetensors", { format_version: "2" })), 1, /v2\.safetensors' is a forecaster of format version 2; this rnn-wasm reads version 1: update rnn-wasm/);
  });

  it("a forecaster whose tensors do not fit its metadata (exit 1)", async () => {
    // metadata says GRU, the weights are an LSTM's: 4H rows where a GRU has 3H
    expectFailure(await withModel(withMetadata("kind-mismatch.safetensors", { kind: "gru" })), 1, /kind-mismatch\.safetensors': .*rnn\.weight_ih_l0.*shape/);
    const { tensors, metadata } = loadSafetensors(readFileSync(model));
    delete tensors["head.weight"];
    const headless = join(dir, "headless.safetensors");
    writeFileSync(headless, saveSafetensors(tensors, metadata));
    expectFailure(await withModel(headless), 1, /headless\.safetensors': missing tensor 'head\.weight'/);
  });

  it("data errors: missing file, bad column, non-numeric values, too few rows (exit 1)", async () => {
    expectFailure(await cliInProcess(["predict", "--model", model, "--data", join(dir, "nope.csv"), "--horizon", "3"]), 1, /data file '.*nope\.csv' not found/);
    expectFailure(await withModel(model, "--column", "nope"), 1, /has no column 'nope'; its columns are 'step', 'value', 'label'/);
    const renamed = join(dir, "no-value-column.csv");
    writeFileSync(renamed, readFileSync(csv, "utf8").replace("step,value,label", "step,y,label"));
    expectFailure(await cliInProcess(["predict", "--model", model, "--data", renamed, "--horizon", "3"]), 1,
      /data file '.*no-value-column\.csv' has no column 'value', the one the model was trained on; its columns are 'step', 'y', 'label': name one with --column/);
    expectFailure(await withModel(model, "--column", "label"), 1, /line 2: column 'label' is 'm0', not a number/);
    const short = writeSeriesCsv(dir, "short.csv", seasonalSeries(20));
    expectFailure(await cliInProcess(["predict", "--model", model, "--data", short, "--horizon", "3"]), 1,
      /column 'value' of '.*short\.csv' has 20 values; the model needs at least 24 \(its window of 12 plus 12 for its differences\)/);
    expectFailure(await withModel(model, "--holdout", "180"), 1, /has 20 values before the 180 held out; the model needs at least 24/);
  });

  it("bad option values (exit 2)", async () => {
    expectFailure(await withModel(model, "--horizon", "0"), 2, /option '--horizon <n>' argument '0' is invalid\. expected a positive integer/);
    expectFailure(await withModel(model, "--holdout", "-2"), 2, /option '--holdout <n>' argument '-2' is invalid/);
    expectFailure(await withModel(model, "--season", "0"), 2, /option '--season <n>' argument '0' is invalid/);
    expectFailure(await withModel(model, "--holdout", "200"), 2, /--holdout 200 leaves no history: column 'value' of '.*series\.csv' has 200 values/);
    expectFailure(await cliInProcess(["predict", "--model", model, "--data", csv]), 2, /required option '--horizon <n>' not specified/);
  });

  it("a chart in a directory that does not exist (exit 1, before forecasting)", async () => {
    const chart = join(dir, "no-such-dir", "f.svg");
    expectFailure(await withModel(model, "--chart", chart), 1, /cannot write chart '.*no-such-dir\/f\.svg': directory '.*no-such-dir' does not exist/);
    expect(existsSync(chart)).toBe(false);
  });
});
