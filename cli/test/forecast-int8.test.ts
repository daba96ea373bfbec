// cli/test/forecast-int8.test.ts: issue 14's accuracy target on the CO2 demo: the forecast of the 24 held-out months
// with the model quantized to int8 has an RMSE within 5% of the float32 model's.
//   The model is the demo's: trained here by the demo's own code (trainForecaster with DEMO_SETTINGS, about 3 s per
//   seed: the demo's epochs and early stopping, nothing cut) on the months before the held-out ones, with the demo's
//   seed 1 and seeds 2 and 3 (the seeds forecast-demo.test.ts holds to the baseline). quantize(network.model) turns
//   the demo's Sequential (LSTM -> LastStep -> Linear) into a QuantizedSequential: the LSTM int8, the head float32.
//   The forecast is the demo's recursive one (each month predicted from the previous predictions), so a quantization
//   error is fed back 24 times: the test measures the whole forecast, not one step.
//   5%: the target, two-sided (int8 neither worse nor, by luck, better by more than 5%: a forecast that moved
//   that far is not the float model's any more). Each int8 form is held to it (Q16, what 'auto' picks on Node 20, and
//   Q8, the 7-bit-activation form the relaxed build runs on AVX-VNNI CPUs), and int12 to a tenth of it (0.5%: its
//   error is about a sixteenth of int8's, docs/quantization.md). The RMSEs are printed for docs/quantization.md.
// `rnn-wasm forecast-demo` prints the int8 forecast's errors under the float32 ones: checked against the same bound.
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { init, quantize, tensor, type QuantizedSequential } from "rnn-wasm";
import { numericColumn, readCsv, textColumn } from "../src/csv.js";
import { monthlyCalendar } from "../src/forecast/calendar.js";
import { DEMO_SETTINGS } from "../src/forecast-demo.js";
import { ForecastNetwork } from "../src/forecast/network.js";
import { makeReport } from "../src/forecast/report.js";
import { trainForecaster } from "../src/forecast/trainer.js";
import type { ForecastModel } from "../src/forecast/forecast.js";
import { CLI_ROOT, cliInProcess, describeRun, requireLibraryBuild } from "./helpers.js";

const HOLDOUT = 24, SEASON = 12;
const SEEDS = [1, 2, 3];

interface SeedResult {
  seed: number;
  float: number;
  quantized: { what: string; rmse: number; largestChange: number }[];
}
const results: SeedResult[] = [];

/** The forecast model with `model` (the float Sequential or a quantized copy of it) predicting each next value. */
function withModel(m: ForecastModel, model: QuantizedSequential): ForecastModel {
  // recursiveForecast calls network.next(window) only; the quantized model stands in for the float network there
  const next = (window: readonly number[]) => model.forward(tensor([window.length, 1, 1], Float32Array.from(window))).data[0];
  return { ...m, network: { next } as unknown as ForecastNetwork };
}

beforeAll(async () => {
  requireLibraryBuild();
  await init();
  const table = readCsv(join(CLI_ROOT, "data/co2-concentration.csv"));
  const { values } = monthlyCalendar(textColumn(table, "Date"), numericColumn(table, "CO2"), "co2-concentration.csv");
  const trainValues = values.slice(0, values.length - HOLDOUT);
  for (const seed of SEEDS) {
    const settings = { ...DEMO_SETTINGS, seed };
    const trained = trainForecaster(trainValues, settings);
    const network = ForecastNetwork.load(trained.stateDict, settings.kind);
    try {
      const model: ForecastModel = { network, window: settings.window, difference: settings.difference, normalisation: trained.normalisation };
      const request = { horizon: HOLDOUT, holdout: HOLDOUT, season: SEASON };
      const float = makeReport(model, values, request, "CO2");
      const result: SeedResult = { seed, float: float.errors!.rmse, quantized: [] };
      for (const [dtype, form] of [["int8", "q16"], ["int8", "q8"], ["int12", "q16"]] as const) {
        const q = quantize(network.model, { dtype, form });
        try {
          const r = makeReport(withModel(model, q), values, request, "CO2");
          const largestChange = r.forecast.reduce((m, v, k) => Math.max(m, Math.abs(v - float.forecast[k])), 0);
          result.quantized.push({ what: `${dtype} ${form}`, rmse: r.errors!.rmse, largestChange });
        } finally {
          q.dispose();
        }
      }
      results.push(result);
    } finally {
      network.dispose();
    }
  }
  for (const r of results) {
    console.log(`seed ${r.seed}: float32 RMSE ${r.float.toFixed(4)} ppm; ` + r.quantized.map((q) =>
      `${q.what} ${q.rmse.toFixed(4)} (${((q.rmse / r.float - 1) * 100).toFixed(2)}%, forecast moved <= ${q.largestChange.toFixed(4)} ppm)`).join("; "));
  }
}, 120_000);

describe("the CO2 demo's forecast with int8 weights", () => {
  it("has an RMSE within 5% of the float32 model's, for each int8 form and seeds 1-3; int12 within 0.5%", () => {
    expect(results.map((r) => r.seed)).toEqual(SEEDS);
    for (const r of results) {
      for (const q of r.quantized) {
        const bound = q.what.startsWith("int12") ? 0.005 : 0.05;
        expect(Math.abs(q.rmse / r.float - 1), `seed ${r.seed}, ${q.what}: RMSE ${q.rmse} against float32's ${r.float}`).toBeLessThanOrEqual(bound);
        expect(q.largestChange, `seed ${r.seed}, ${q.what}: the quantized model runs (its forecast is not the float one's bits)`).toBeGreaterThan(0);
      }
    }
  });

  it("is what `rnn-wasm forecast-demo` prints under the float32 errors", async () => {
    const r = await cliInProcess(["forecast-demo"]);
    expect(r.code, describeRun(r)).toBe(0);
    const float = /^forecast error: +RMSE (\d+\.\d+), MAE (\d+\.\d+) over the 24 held-out steps$/m.exec(r.stdout);
    const int8 = /^int8 weights: +RMSE (\d+\.\d+), MAE (\d+\.\d+) +\(RMSE ([+-]\d+\.\d)% against float32\)$/m.exec(r.stdout);
    expect(float, r.stdout).not.toBeNull();
    expect(int8, r.stdout).not.toBeNull();
    // the demo's default seed is 1: its numbers are the first seed's above (printed to 3 decimals)
    const seed1 = results.find((x) => x.seed === 1)!;
    expect(Number(float![1])).toBeCloseTo(seed1.float, 3);
    // the demo quantizes with form 'auto': Q16 or Q8, whichever this engine runs
    const forms = seed1.quantized.filter((q) => q.what.startsWith("int8"));
    expect(forms.some((q) => Math.abs(q.rmse - Number(int8![1])) <= 5e-4), `${int8![1]} against ${forms.map((q) => q.rmse)}`).toBe(true);
    expect(Math.abs(Number(int8![3]))).toBeLessThanOrEqual(5);
    expect(r.stdout.indexOf(int8![0])).toBeGreaterThan(r.stdout.indexOf(float![0]));
  });
});
