// cli/test/forecast-demo.test.ts: `rnn-wasm forecast-demo`, what `npm start` runs (main() in-process). It must beat
// the seasonal-naive baseline clearly (half its RMSE and MAE or better) with its default seed and with two others,
// print numbers that agree with the data (the baseline's error and the truth are recomputed here from the CSV),
// write its charts, and save a model that `rnn-wasm predict` forecasts the same numbers with. How long it takes is
// not asserted (bench/ measures speed); that it finds data/ from any working directory is binary.test.ts's.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cliInProcess, describeRun, requireLibraryBuild, ROOT, tempDir, type Run, CLI_ROOT } from "./helpers.js";

const CSV = join(CLI_ROOT, "data/co2-concentration.csv");
let dir: string;
let runs: { seed: number; run: Run }[];

/** The CSV's CO2 column (its last 36 rows are consecutive months: the file's gaps are all before 1965). */
function co2(): { months: string[]; values: number[] } {
  const rows = readFileSync(CSV, "utf8").trim().split("\n").slice(1).map((l) => l.split(","));
  return { months: rows.map((r) => r[0].slice(0, 7)), values: rows.map((r) => Number(r[1])) };
}

function errorsOf(stdout: string): { model: { rmse: number; mae: number }; baseline: { rmse: number; mae: number } } {
  const m = /^forecast error: +RMSE (\d+\.\d+), MAE (\d+\.\d+) over the 24 held-out steps$/m.exec(stdout);
  const b = /^seasonal naive \(12\): +RMSE (\d+\.\d+), MAE (\d+\.\d+)/m.exec(stdout);
  expect(m, stdout).not.toBeNull();
  expect(b, stdout).not.toBeNull();
  return { model: { rmse: Number(m![1]), mae: Number(m![2]) }, baseline: { rmse: Number(b![1]), mae: Number(b![2]) } };
}

beforeAll(async () => {
  requireLibraryBuild();
  dir = tempDir();
  const demo = async (seed: number, extra: string[]) => ({ seed, run: await cliInProcess(["forecast-demo", "--seed", String(seed), ...extra]) });
  runs = [
    await demo(1, ["--chart", join(dir, "co2.svg"), "--loss-chart", join(dir, "loss.svg"), "--out", join(dir, "co2.safetensors")]),
    await demo(2, []),
    await demo(3, []),
  ];
}, 120_000);

describe("forecast-demo", () => {
  it("beats the seasonal-naive baseline by at least half, with seeds 1, 2 and 3", () => {
    const { values } = co2();
    const n = values.length;
    const truth = values.slice(n - 24);
    const naive = truth.map((_, k) => values[n - 36 + (k % 12)]); // the last observed year, repeated
    const rmse = Math.sqrt(naive.reduce((s, v, k) => s + (v - truth[k]) ** 2, 0) / 24);
    const mae = naive.reduce((s, v, k) => s + Math.abs(v - truth[k]), 0) / 24;
    for (const { seed, run } of runs) {
      expect(run.code, `seed ${seed}\n${describeRun(run)}`).toBe(0);
      const e = errorsOf(run.stdout);
      expect(e.baseline.rmse).toBeCloseTo(rmse, 3);
      expect(e.baseline.mae).toBeCloseTo(mae, 3);
      expect(e.model.rmse, `seed ${seed}`).toBeLessThan(e.baseline.rmse / 2);
      expect(e.model.mae, `seed ${seed}`).toBeLessThan(e.baseline.mae / 2);
      expect(run.stdout).toMatch(new RegExp(`the model's RMSE is \\d+\\.\\dx lower`));
    }
  });

  it("says how it treats the missing months and what it holds out, and prints a table of the 24 months", () => {
    const out = runs[0].run.stdout;
    expect(out).toMatch(/^rnn-wasm forecast-demo: monthly CO2 at Mauna Loa \(ppm\), 1958-03 to 2020-04: 746 months$/m);
    expect(out).toMatch(/^  5 months without a measurement filled by linear interpolation \(1958-06, 1958-10, 1964-02, 1964-03, 1964-04\)$/m);
    expect(out).toMatch(/^  training on the 722 months before 2018-05; the last 24 months are held out$/m);
    expect(out).toMatch(/^trained LSTM\(hidden 32, 1 layer\) on column 'CO2' .* to predict the change over 12 steps from 36 past values$/m);
    const { months, values } = co2();
    const rows = [...out.matchAll(/^  (\d{4}-\d{2}) +(\d+\.\d+) +(\d+\.\d+) +(-?\d+\.\d+) +(\d+\.\d+)$/gm)];
    expect(rows.map((r) => r[1])).toEqual(months.slice(-24));
    rows.forEach((r, k) => {
      expect(r[3]).toBe(values[values.length - 24 + k].toFixed(2)); // truth
      expect(r[5]).toBe(values[values.length - 36 + (k % 12)].toFixed(2)); // seasonal naive
    });
    expect(runs[0].run.stderr).toMatch(/^epoch +1\/150  train \d\.\d{5}  validation \d\.\d{5}\*  [\d,]+ windows\/s$/m);
    expect(out).toMatch(/^done in \d+\.\d s$/m); // its time, stated (not asserted: bench/ measures speed)
  });

  it("writes the forecast and loss charts", () => {
    const chart = readFileSync(join(dir, "co2.svg"), "utf8");
    for (const text of ["Mauna Loa CO2: LSTM forecast of the last 24 months", "history", "truth (held out)", "forecast", "seasonal naive (12)", "CO2 (ppm)", ">2019<"]) expect(chart).toContain(text);
    const loss = readFileSync(join(dir, "loss.svg"), "utf8");
    for (const text of ["training", "validation", "epoch"]) expect(loss).toContain(text);
  });

  it("saves a model that `rnn-wasm predict` forecasts the same 24 months with", async () => {
    const r = await cliInProcess(["predict", "--model", join(dir, "co2.safetensors"), "--data", CSV, "--horizon", "24", "--holdout", "24", "--json"]);
    expect(r.code, describeRun(r)).toBe(0);
    const demo = [...runs[0].run.stdout.matchAll(/^  \d{4}-\d{2} +(\d+\.\d+) /gm)].map((m) => m[1]);
    expect(JSON.parse(r.stdout).forecast.map((v: number) => v.toFixed(2))).toEqual(demo);
  });

  it("is what npm start runs, writing the chart the README shows", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    expect(pkg.scripts.start).toBe("npm run build && node cli/dist/cli.js forecast-demo --chart docs/co2-forecast.svg --loss-chart docs/co2-loss.svg");
    expect(existsSync(join(ROOT, "docs/co2-forecast.svg"))).toBe(true);
    expect(existsSync(join(ROOT, "docs/co2-loss.svg"))).toBe(true);
    expect(readFileSync(join(ROOT, "README.md"), "utf8")).toContain("](docs/co2-forecast.svg)");
  });

  it("--help, and a bad --seed (exit 2)", async () => {
    const [help, bad] = [await cliInProcess(["forecast-demo", "--help"]), await cliInProcess(["forecast-demo", "--seed", "x"])];
    expect(help.code, describeRun(help)).toBe(0);
    expect(help.stdout).toMatch(/^Usage: rnn-wasm forecast-demo \[options\]/);
    for (const flag of ["--seed <n>", "--epochs <n>", "--out <file>", "--chart <file.svg>", "--loss-chart <file.svg>"]) expect(help.stdout).toContain(flag);
    expect(help.stdout.replace(/\s+/g, " ")).toContain("Exits 1 if the LSTM does not beat the baseline. This is what `npm start` runs.");
    expect(bad.code, describeRun(bad)).toBe(2);
    expect(bad.stderr).toMatch(/^rnn-wasm: option '--seed <n>' argument 'x' is invalid/);
  });
});
