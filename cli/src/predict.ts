// cli/src/predict.ts: `rnn-wasm predict`: a multi-step forecast with a model `rnn-wasm train` made, from the end of
// a CSV column (or from before its last --holdout values, to measure the error against what really came), printed
// as a table and a terminal chart, drawn to SVG, or printed as JSON.
import type { Command } from "commander";
import { init } from "rnn-wasm";
import { lineChartSvg } from "./charts.js";
import { CliError, checkOutputs, jsonText, positiveInt, writeOutputFiles, type CliIo } from "./common.js";
import { numericColumn, readCsv } from "./csv.js";
import { readForecasterFile, type LoadedForecaster } from "./forecast/model-file.js";
import { errorLines, makeReport, reportChart, reportJson, reportTable, reportTerminalChart } from "./forecast/report.js";
import { nonNegativeInt, positiveIntUpTo } from "./option-values.js";
import { useColor } from "./terminal-chart.js";

interface PredictFlags {
  model: string;
  data: string;
  column?: string;
  horizon: number;
  holdout: number;
  season?: number;
  chart?: string;
  json?: boolean;
}

/**
 * Most steps one forecast takes. Each step runs the network over a whole window, and the table prints a row per
 * step: 100,000 steps of the default model take seconds and print a table no one reads whole; beyond that a run is
 * a mistake (--horizon 1e9 would run for hours without a word).
 */
export const MAX_HORIZON = 100_000;

/** History shown before the forecast: this many horizons' worth, at least TAIL_MIN values. */
const TAIL_HORIZONS = 3;
const TAIL_MIN = 48;

const EXAMPLES = `
Each step's prediction is fed back as the newest past value for the next one (a recursive forecast).
With --holdout N the forecast starts before the last N values, prints the truth beside it and the error
(RMSE, MAE); --season M adds the seasonal-naive baseline (each step's value M steps earlier) to compare.

Example (from the repository root, after the example of 'rnn-wasm train --help'):
  $ rnn-wasm predict --model co2.safetensors --data data/co2-concentration.csv --horizon 24 --holdout 24 --season 12 --chart co2.svg`;

export function registerPredict(program: Command, io: CliIo): void {
  program
    .command("predict")
    .summary("forecast a CSV column with a model made by 'rnn-wasm train'")
    .description("Forecast the next --horizon values of a CSV column with a model made by `rnn-wasm train`.")
    .requiredOption("--model <file>", "the model, made by 'rnn-wasm train'")
    .requiredOption("--data <file>", "CSV file with a header row")
    .option("--column <name>", "the column to forecast (default: the one the model was trained on)")
    .requiredOption("--horizon <n>", `steps to forecast (at most ${MAX_HORIZON.toLocaleString("en-US")})`, positiveIntUpTo(MAX_HORIZON))
    .option("--holdout <n>", "forecast from before the last N values and compare with them", nonNegativeInt, 0)
    .option("--season <n>", "also forecast with the seasonal-naive baseline of this season length", positiveInt)
    .option("--chart <file.svg>", "draw history, forecast and truth to an SVG file")
    .option("--json", "print one JSON object (forecast: the array of --horizon numbers)")
    .addHelpText("after", EXAMPLES)
    .action(async (flags: PredictFlags) => {
      io.stdout.write((await predictCommand(flags, useColor(io.stdout, io.env))).join("\n") + "\n");
    });
}

/** Runs the command and returns the lines to print; `color`: the terminal chart in colors. */
export async function predictCommand(o: PredictFlags, color: boolean): Promise<string[]> {
  if (o.chart !== undefined) checkOutputs([{ path: o.chart, role: "chart", option: "--chart" }], [{ path: o.model, option: "--model" }, { path: o.data, option: "--data" }]);
  await init();
  const model: LoadedForecaster = readForecasterFile(o.model);
  try {
    const column = o.column ?? model.info.column;
    const table = readCsv(o.data);
    if (!o.column && !table.columns.includes(column)) {
      const have = table.columns.map((c) => `'${c}'`).join(", ");
      throw new CliError(`data file '${o.data}' has no column '${column}', the one the model was trained on; its columns are ${have}: name one with --column`);
    }
    const values = numericColumn(table, column);
    const what = `column '${column}' of '${o.data}'`;
    const report = makeReport(model, values, { horizon: o.horizon, holdout: o.holdout, season: o.season }, what);
    const start = report.history.length; // rows are numbered from 1, so the first forecast is row start + 1
    if (o.chart !== undefined) {
      const title = `${model.info.kind.toUpperCase()} forecast of '${column}'${o.holdout ? ` (last ${o.holdout} held out)` : ""}`;
      const tail = Math.max(TAIL_MIN, TAIL_HORIZONS * o.horizon);
      const svg = await lineChartSvg(reportChart(report, { title, xTitle: "row", yTitle: column, tail, x: (i) => i + 1 }));
      writeOutputFiles([{ path: o.chart, role: "chart", data: svg }]);
    }
    if (o.json) {
      const json = { model: o.model, data: o.data, column, horizon: o.horizon, holdout: o.holdout, startsAfterRow: start, ...reportJson(report), ...(o.chart !== undefined ? { chart: o.chart } : {}) };
      return [jsonText(json)];
    }
    const from = o.holdout ? `from row ${start} (holding out the last ${o.holdout})` : `from its end (row ${start})`;
    const lines = [
      `${model.info.kind.toUpperCase()} forecaster '${o.model}' (window ${model.window}${model.difference ? `, differences over ${model.difference} steps` : ""}): ${o.horizon} steps of ${what}, ${from}`,
      "",
      ...reportTable(report, (k) => `row ${start + k + 1}`),
      "",
      ...errorLines(report),
      ...(report.errors ? [""] : []),
      reportTerminalChart(report, color, Math.max(TAIL_MIN, TAIL_HORIZONS * o.horizon)),
    ];
    if (o.chart !== undefined) lines.push("", `wrote chart '${o.chart}'`);
    return lines;
  } finally {
    model.network.dispose();
  }
}
