// cli/src/forecast-demo.ts: `rnn-wasm forecast-demo` (what `npm start` runs): an LSTM learns the Mauna Loa CO2
// record (data/co2-concentration.csv, monthly since 1958), forecasts its last 24 months without having seen them,
// and is scored against the seasonal-naive baseline (each month's value a year earlier). Trains and forecasts
// through the same code as `train` and `predict`.
//   calendar: the file skips months without a measurement (5 of them); the series is put on a gapless monthly
//             calendar and each missing month interpolated linearly between its neighbours (calendar.ts), so
//             12 steps back is always a year back
//   model:    year-on-year differences s[t] - s[t-12] (the trend and the season are then what the baseline
//             already knows; the LSTM learns how the yearly rise itself moves), windows of 36 months
// Then the same forecast with the LSTM's weights quantized to int8 (quantize() of the network: issue 14's target is an
// RMSE within 5% of float32's, cli/test/forecast-int8.test.ts), printed beside it.
// Exits 1 if the LSTM does not beat the baseline: the demo's claim is checked every time it runs.
import { join } from "node:path";
import type { Command } from "commander";
import { quantize, tensor, type QuantizedSequential } from "rnn-wasm";
import { lineChartSvg } from "./charts.js";
import { CliError, packageRoot, positiveInt, writeOutputFiles, type CliIo } from "./common.js";
import { numericColumn, readCsv, textColumn } from "./csv.js";
import { monthlyCalendar } from "./forecast/calendar.js";
import type { ForecastModel } from "./forecast/forecast.js";
import { ForecastNetwork } from "./forecast/network.js";
import { errorLines, makeReport, reportChart, reportTable, reportTerminalChart, type ForecastReport } from "./forecast/report.js";
import type { TrainSettings } from "./forecast/trainer.js";
import { seedValue } from "./option-values.js";
import { useColor } from "./terminal-chart.js";
import { checkTrainOutputs, trainAndRender, trainSummary, wroteLines, type TrainTargets } from "./train.js";

const DATA_FILE = "data/co2-concentration.csv";
const DATE_COLUMN = "Date";
const VALUE_COLUMN = "CO2";
const HOLDOUT = 24;
const SEASON = 12;
/** Years of history the SVG chart shows before the forecast; months the terminal chart shows (one column each). */
const CHART_YEARS = 10;
const TERMINAL_MONTHS = 36;

/** Chosen on the data before the held-out months (validation: the last 5%, 37 months); seeds 1 to 4 all land well under the baseline. */
export const DEMO_SETTINGS: TrainSettings = {
  kind: "lstm", hidden: 32, layers: 1, window: 36, difference: SEASON, epochs: 150, lr: 0.003, seed: 1, batch: 32, patience: 30, validation: 0.05, clip: 1,
};

interface DemoFlags {
  seed: number;
  epochs: number;
  out?: string;
  chart?: string;
  lossChart?: string;
}

export function registerForecastDemo(program: Command, io: CliIo): void {
  program
    .command("forecast-demo")
    .summary("train an LSTM on the Mauna Loa CO2 record, forecast its last 24 months, compare with seasonal naive")
    .description(
      `Trains an LSTM on ${DATA_FILE} (monthly CO2 at Mauna Loa since 1958) without its last ${HOLDOUT} months, forecasts ` +
      `those months, and prints the error (RMSE, MAE) of the forecast and of the seasonal-naive baseline (each month's ` +
      `value ${SEASON} months earlier). Exits 1 if the LSTM does not beat the baseline. This is what \`npm start\` runs.`,
    )
    .option("--seed <n>", "seed of the initial weights and of the order of the windows (0 to 4294967295)", seedValue, DEMO_SETTINGS.seed)
    .option("--epochs <n>", "most epochs (training stops early when the validation loss stops improving)", positiveInt, DEMO_SETTINGS.epochs)
    .option("--out <file>", "also save the model (then try `rnn-wasm predict --model <file> ...`)")
    .option("--chart <file.svg>", "draw history, truth, forecast and baseline to an SVG file")
    .option("--loss-chart <file.svg>", "draw the loss per epoch to an SVG file")
    .addHelpText("after", `\nEquivalent to:\n  $ rnn-wasm train --data ${DATA_FILE} --column ${VALUE_COLUMN} --window ${DEMO_SETTINGS.window} --difference ${SEASON} --validation ${DEMO_SETTINGS.validation} --patience ${DEMO_SETTINGS.patience} --epochs ${DEMO_SETTINGS.epochs} ...\n  $ rnn-wasm predict ... --horizon ${HOLDOUT} --holdout ${HOLDOUT} --season ${SEASON}\non the series with its missing months filled in, and without the last ${HOLDOUT} months in training.`)
    .action(async (flags: DemoFlags) => {
      await forecastDemo(flags, io);
    });
}

/**
 * "int8 weights:  RMSE 0.775, MAE 0.689 (RMSE +0.0% against float32)": the forecast of the same months with the
 * network quantized (the LSTM int8, the head float32), aligned under errorLines' numbers.
 */
function int8Line(model: ForecastModel, values: readonly number[], float: ForecastReport): string {
  const q = quantize(model.network.model, { dtype: "int8" });
  try {
    const network = { next: (window: readonly number[]) => nextValue(q, window) } as Pick<ForecastNetwork, "next">;
    // recursiveForecast asks the network for next(window) only
    const report = makeReport({ ...model, network: network as ForecastNetwork }, values, { horizon: HOLDOUT, holdout: HOLDOUT }, `column '${VALUE_COLUMN}'`);
    const e = report.errors!, change = (e.rmse / float.errors!.rmse - 1) * 100;
    const label = "int8 weights:".padEnd(errorLines(float)[0].indexOf("RMSE"));
    return `${label}RMSE ${e.rmse.toFixed(3)}, MAE ${e.mae.toFixed(3)}  (RMSE ${change >= 0 ? "+" : ""}${change.toFixed(1)}% against float32)`;
  } finally {
    q.dispose();
  }
}

/** The next normalised value after one window, from the quantized network. */
function nextValue(q: QuantizedSequential, window: readonly number[]): number {
  return q.forward(tensor([window.length, 1, 1], Float32Array.from(window))).data[0];
}

/**
 * Runs the demo, printing to io.stdout (training progress to io.stderr). Its files (--out, --loss-chart, --chart) are checked before training
 * and written together at the end, so a failure leaves none of them half done.
 */
export async function forecastDemo(o: DemoFlags, io: CliIo): Promise<void> {
  const print = (line: string) => void io.stdout.write(line + "\n");
  const started = performance.now();
  const path = join(packageRoot(), DATA_FILE);
  const targets: TrainTargets = { column: VALUE_COLUMN, data: DATA_FILE, dataPath: path, out: o.out, chart: o.lossChart };
  checkTrainOutputs(targets, o.chart !== undefined ? [{ path: o.chart, role: "chart", option: "--chart" }] : []);
  const table = readCsv(path);
  const monthly = monthlyCalendar(textColumn(table, DATE_COLUMN), numericColumn(table, VALUE_COLUMN), `data file '${path}'`);
  const { months, values } = monthly;
  const trainValues = values.slice(0, values.length - HOLDOUT);

  print(`rnn-wasm forecast-demo: monthly CO2 at Mauna Loa (ppm), ${months[0].slice(0, 7)} to ${months[months.length - 1].slice(0, 7)}: ${values.length} months`);
  print(`  ${monthly.filled.length} months without a measurement filled by linear interpolation (${monthly.filled.map((m) => m.slice(0, 7)).join(", ")})`);
  print(`  training on the ${trainValues.length} months before ${months[trainValues.length].slice(0, 7)}; the last ${HOLDOUT} months are held out`);
  print("");

  const settings = { ...DEMO_SETTINGS, seed: o.seed, epochs: o.epochs };
  const outcome = await trainAndRender(trainValues, settings, targets, io.stderr);
  for (const line of trainSummary(outcome)) print(line);
  print("");

  const network = ForecastNetwork.load(outcome.result.stateDict, settings.kind);
  try {
    const model = { network, window: settings.window, difference: settings.difference, normalisation: outcome.result.normalisation };
    const report = makeReport(model, values, { horizon: HOLDOUT, holdout: HOLDOUT, season: SEASON }, `column '${VALUE_COLUMN}'`);
    const n = report.history.length;
    print(`Forecast of the ${HOLDOUT} held-out months (ppm):`);
    for (const line of reportTable(report, (k) => months[n + k].slice(0, 7))) print(line);
    print("");
    print(reportTerminalChart(report, useColor(io.stdout, io.env), TERMINAL_MONTHS));
    print("");
    for (const line of errorLines(report)) print(line);
    print(int8Line(model, values, report));

    const files = [...outcome.files];
    if (o.chart !== undefined) {
      const chart = reportChart(report, {
        title: `Mauna Loa CO2: LSTM forecast of the last ${HOLDOUT} months`, xTitle: "month", yTitle: "CO2 (ppm)",
        tail: CHART_YEARS * 12, x: (i) => months[i], temporal: true,
      });
      files.push({ path: o.chart, role: "chart", data: await lineChartSvg(chart) });
    }
    writeOutputFiles(files);
    if (files.length) print("");
    for (const line of wroteLines(outcome)) print(line);
    if (o.chart !== undefined) print(`wrote chart '${o.chart}'`);
    print(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    const lstm = report.errors!, baseline = report.baseline!.errors!;
    if (!(lstm.rmse < baseline.rmse && lstm.mae < baseline.mae)) {
      throw new CliError(`the LSTM (RMSE ${lstm.rmse.toFixed(3)}) did not beat the seasonal-naive baseline (RMSE ${baseline.rmse.toFixed(3)}) with --seed ${o.seed} --epochs ${o.epochs}`);
    }
  } finally {
    network.dispose();
  }
}
