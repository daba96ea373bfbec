// cli/test/train-limits.test.ts: issue 10's command-line findings end to end, through the command line (main()
// in-process; the pieces are tested one by one in robustness.test.ts): bad output paths fail before the first epoch
// and leave an existing model as it was; absurd sizes are refused at once with the option and its limit, never a
// hang or a stack trace; a column near 1e300 trains, and predict refuses data its model's float32 network cannot
// take. Ctrl-C ending a run of --epochs 1e9 needs a real process: binary.test.ts.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { init, loadSafetensors } from "rnn-wasm";
import { forecasterFileBytes } from "../src/forecast/model-file.js";
import { ForecastNetwork } from "../src/forecast/network.js";
import { normalisationOf } from "../src/forecast/series.js";
import { expectFailure, seasonalSeries, writeSeriesCsv } from "./forecast-helpers.js";
import { cliInProcess, describeRun, requireLibraryBuild, tempDir } from "./helpers.js";

let dir: string;
let csv: string;
/** An (untrained) forecaster of window 12 normalised for the series: what predict needs, made without training. */
let model: string;
beforeAll(async () => {
  requireLibraryBuild();
  dir = tempDir();
  csv = writeSeriesCsv(dir, "series.csv", seasonalSeries(200));
  await init();
  const network = ForecastNetwork.create({ kind: "lstm", hidden: 4, layers: 1 }, 1);
  const info = { kind: "lstm", window: 12, column: "value", difference: 0, normalisation: normalisationOf(seasonalSeries(180)), trainOptions: {}, training: {}, producer: "test" } as const;
  model = join(dir, "model.safetensors");
  writeFileSync(model, forecasterFileBytes(network.stateDict(), info));
  network.dispose();
});

const small = ["--window", "12", "--hidden", "4", "--epochs", "2"];
const train = (...args: string[]) => cliInProcess(["train", "--data", csv, "--column", "value", ...args]);
const leftovers = (d: string) => readdirSync(d).filter((n) => n.endsWith(".tmp"));

describe.concurrent("train: output paths are checked before the first epoch", () => {
  it("--out naming a directory fails before training (it failed after every epoch)", async () => {
    const r = await train(...small, "--out", dir);
    expectFailure(r, 1, /cannot write model file '.*': it is a directory/);
    expect(r.stderr).not.toMatch(/epoch/);
  });

  it("an existing model and a --chart that cannot be written: refused before training, the model left byte for byte", async () => {
    const d = join(dir, "keep");
    mkdirSync(join(d, "chart-is-a-dir"), { recursive: true });
    const model = join(d, "m.safetensors");
    writeFileSync(model, "the model from yesterday");
    const r = await train(...small, "--out", model, "--chart", join(d, "chart-is-a-dir"));
    expectFailure(r, 1, /cannot write loss chart '.*chart-is-a-dir': it is a directory/);
    expect(r.stderr).not.toMatch(/epoch/);
    expect(readFileSync(model, "utf8")).toBe("the model from yesterday");
    expect(leftovers(d)).toEqual([]);
  });

  it("--out \"\" is a usage error (it trained and wrote nothing, exit 0)", async () => {
    expectFailure(await train(...small, "--out", ""), 2, /--out is empty: name the model file to write/);
  });
});

describe.concurrent("absurd sizes: refused at once, naming the option and its limit", () => {
  it.each([
    [["--hidden", "100000"], 2, /option '--hidden <n>' argument '100000' is invalid\. expected a positive integer up to 1,024\./],
    [["--layers", "100000"], 2, /option '--layers <n>' argument '100000' is invalid\. expected a positive integer up to 16\./],
    [["--window", "1e9"], 1, /has 200 values; --window 1000000000 with --validation 0\.1 needs at least 1,111,111,112/],
    [["--difference", "1e12"], 1, /--difference 1000000000000 with --validation 0\.1 needs at least 1,000,000,000,028/],
    [["--epochs", "1e308"], 2, /option '--epochs <n>' argument '1e308' is invalid\. expected a positive integer\./],
  ] as const)("train %s", async (args, code, message) => {
    expectFailure(await train(...args, "--out", join(dir, "never.safetensors")), code, message);
    expect(existsSync(join(dir, "never.safetensors"))).toBe(false);
  });

  it("predict --horizon 1e9 (it ran silently for ever)", async () => {
    const r = await cliInProcess(["predict", "--model", model, "--data", csv, "--horizon", "1e9"]);
    expectFailure(r, 2, /option '--horizon <n>' argument '1e9' is invalid\. expected a positive integer up to 100,000\./);
  });

  it("demo --runs 1e9 (it would have kept a billion timings)", async () => {
    expectFailure(await cliInProcess(["demo", "--runs", "1e9"]), 2, /option '--runs <n>' argument '1e9' is invalid\. expected a positive integer up to 1,000\./);
  });

  it("--batch 1e9 takes every training window at once", async () => {
    const r = await train(...small, "--batch", "1e9", "--out", join(dir, "batch.safetensors"), "--json");
    expect(r.code, describeRun(r)).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ trainWindows: 168, epochsRun: 2 });
  });
});

describe("huge values", () => {
  it("a column near 1e300 trains (it exited 0 with std = Infinity and a model that learned nothing)", async () => {
    const big = join(dir, "big.csv");
    writeFileSync(big, ["t,v", ...seasonalSeries(200).map((v, t) => `${t},${v * 1e300}`)].join("\n") + "\n");
    const out = join(dir, "big.safetensors");
    const r = await cliInProcess(["train", "--data", big, "--column", "v", ...small, "--out", out, "--json"]);
    expect(r.code, describeRun(r)).toBe(0);
    const meta = loadSafetensors(readFileSync(out)).metadata;
    expect(Number(meta.std) / 1e300).toBeGreaterThan(1);
    expect(Number(meta.std) / 1e300).toBeLessThan(10);

    // predict with it, on the same data: finite forecasts and errors near 1e300, end to end; a model of the
    // ordinary-sized series on that data is refused with the row (it was "input holds Infinity ...; pass nanPolicy:
    // 'propagate'", the library's advice to a programmer)
    const [own, other] = await Promise.all([
      cliInProcess(["predict", "--model", out, "--data", big, "--horizon", "3", "--holdout", "3", "--season", "12", "--json"]),
      cliInProcess(["predict", "--model", model, "--data", big, "--column", "v", "--horizon", "3"]),
    ]);
    expect(own.code, describeRun(own)).toBe(0);
    const j = JSON.parse(own.stdout);
    for (const v of [...j.forecast, j.errors.rmse, j.errors.mae, j.baseline.errors.rmse]) expect(v / 1e300).toBeGreaterThan(0);
    for (const v of j.forecast) expect(v / 1e300).toBeLessThan(100);
    expectFailure(other, 1,
      /column 'v' of '.*big\.csv', row 189: [\d.e+]+ normalises to [\d.]+e\+\d+ \(mean [\d.]+, standard deviation [\d.]+ of the training part\), beyond the ±1\.84e\+19 the network's float32 arithmetic can take/);
  });
});
