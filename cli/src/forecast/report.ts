// cli/src/forecast/report.ts: a forecast with everything shown about it, for `predict` and `forecast-demo`:
// the history it starts from, the forecast, the truth where the data holds it (with --holdout), the errors, and
// optionally the seasonal-naive baseline; rendered as a table, a terminal chart, an SVG chart or JSON.
import type Asciichart from "asciichart";
import { lazyRequire } from "../lazy.js";
import type { LineChart } from "../charts.js";
import { terminalChart } from "../terminal-chart.js";
import { forecastErrors, historyNeeded, recursiveForecast, seasonalNaive, type Errors, type ForecastModel } from "./forecast.js";
import { CliError, UsageError } from "../common.js";

const asciichart = lazyRequire<typeof Asciichart>("asciichart");

export interface ForecastRequest {
  horizon: number;
  /** Forecast from before the last `holdout` values, so the truth is known (0: from the end). */
  holdout: number;
  /** Season of the seasonal-naive baseline (e.g. 12 for monthly data); none when undefined. */
  season?: number;
}

export interface ForecastReport {
  /** The values the forecast starts after. */
  history: number[];
  forecast: number[];
  /** The held-out values the forecast covers (may be shorter than the horizon, or empty). */
  truth: number[];
  errors?: Errors;
  baseline?: { season: number; forecast: number[]; errors?: Errors };
}

/** Forecasts `r.horizon` steps after values[0, n - holdout); `what` names the data in errors. */
export function makeReport(model: ForecastModel, values: readonly number[], r: ForecastRequest, what: string): ForecastReport {
  if (r.holdout >= values.length) throw new UsageError(`--holdout ${r.holdout} leaves no history: ${what} has ${values.length} values`);
  const history = values.slice(0, values.length - r.holdout);
  const need = historyNeeded(model);
  if (history.length < need) {
    const lag = model.difference ? ` plus ${model.difference} for its differences` : "";
    throw new CliError(`${what} has ${history.length} values${r.holdout ? ` before the ${r.holdout} held out` : ""}; the model needs at least ${need} (its window of ${model.window}${lag})`);
  }
  if (r.season !== undefined && history.length < r.season) {
    throw new CliError(`the seasonal-naive baseline needs a whole season of history (${r.season} values); ${what} has ${history.length}`);
  }
  const truth = values.slice(history.length, history.length + r.horizon);
  const forecast = recursiveForecast(model, history, r.horizon, what);
  const report: ForecastReport = { history, forecast, truth };
  if (truth.length) report.errors = forecastErrors(forecast, truth);
  if (r.season !== undefined) {
    const b = seasonalNaive(history, r.season, r.horizon);
    report.baseline = { season: r.season, forecast: b, ...(truth.length ? { errors: forecastErrors(b, truth) } : {}) };
  }
  return report;
}

/** Numbers as the table prints them: enough digits for the data's scale. */
export function formatter(values: readonly number[]): (v: number) => string {
  // a loop, not Math.max(...values): a long forecast would pass more arguments than a call takes
  const scale = values.reduce((m, v) => (Number.isFinite(v) ? Math.max(m, Math.abs(v)) : m), 1e-9);
  const digits = scale >= 1000 ? 1 : scale >= 10 ? 2 : scale >= 1 ? 3 : 4;
  return (v) => v.toFixed(digits);
}

/**
 * One row per step: its label (a 1-based row number of the data, or a date), the forecast, and where known the
 * truth and the error (forecast - truth), and the baseline.
 */
export function reportTable(r: ForecastReport, label: (step: number) => string): string[] {
  const f = formatter([...r.history.slice(-1), ...r.forecast]);
  const columns = ["step", "forecast", ...(r.truth.length ? ["truth", "error"] : []), ...(r.baseline ? ["seasonal naive"] : [])];
  const rows = r.forecast.map((v, k) => {
    const cells = [label(k), f(v)];
    if (r.truth.length) cells.push(k < r.truth.length ? f(r.truth[k]) : "", k < r.truth.length ? f(v - r.truth[k]) : "");
    if (r.baseline) cells.push(f(r.baseline.forecast[k]));
    return cells;
  });
  const widths = columns.map((c, j) => Math.max(c.length, ...rows.map((row) => row[j].length)));
  const line = (cells: string[]) => "  " + cells.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join("  ");
  return [line(columns), ...rows.map(line)];
}

/** "RMSE 0.774, MAE 0.689 over the 24 held-out steps", with the baseline's under it when there is one. */
export function errorLines(r: ForecastReport): string[] {
  if (!r.errors) return [];
  const f = (e: Errors) => `RMSE ${e.rmse.toFixed(3)}, MAE ${e.mae.toFixed(3)}`;
  const rows: [string, string][] = [["forecast error:", `${f(r.errors)} over the ${r.errors.steps} held-out steps`]];
  if (r.baseline?.errors) {
    const ratio = r.baseline.errors.rmse / r.errors.rmse;
    const compared = ratio >= 1 ? `${ratio.toFixed(1)}x lower` : `${(1 / ratio).toFixed(1)}x higher`;
    rows.push([`seasonal naive (${r.baseline.season}):`, `${f(r.baseline.errors)}  (the model's RMSE is ${compared})`]);
  }
  const width = Math.max(...rows.map(([label]) => label.length)) + 3;
  return rows.map(([label, text]) => label.padEnd(width) + text);
}

/**
 * The last `tail` history values with the forecast and the truth after them, for the terminal (the baseline stays
 * in the table and the SVG chart: a third line in a few rows of box characters hides the other two).
 */
export function reportTerminalChart(r: ForecastReport, color: boolean, tail: number): string {
  const past = r.history.slice(-tail);
  return terminalChart([
    { name: "forecast", values: [...past, ...r.forecast], color: asciichart().red, plain: "•", from: past.length },
    { name: r.truth.length ? "history and truth" : "history", values: [...past, ...r.truth], color: asciichart().blue },
  ], { color, height: 14 });
}

/**
 * The SVG chart: the last `tail` history values, the truth, the forecast and the baseline. `x(i)` places the
 * i-th value of the whole series (history then the steps after it): a row number or a date.
 */
export function reportChart(r: ForecastReport, o: { title: string; xTitle: string; yTitle: string; tail: number; x: (i: number) => number | string; temporal?: boolean }): LineChart {
  const n = r.history.length;
  const from = Math.max(0, n - o.tail);
  const points = (values: readonly number[], start: number) => values.map((y, k) => ({ x: o.x(start + k), y }));
  // The forecast and the truth start at the last known value, so their lines join the history's.
  const last = { x: o.x(n - 1), y: r.history[n - 1] };
  return {
    title: o.title,
    xTitle: o.xTitle,
    yTitle: o.yTitle,
    xType: o.temporal ? "temporal" : "quantitative",
    series: [
      { name: "history", points: points(r.history.slice(from), from), color: "#4c78a8" },
      ...(r.truth.length ? [{ name: "truth (held out)", points: [last, ...points(r.truth, n)], color: "#54a24b" }] : []),
      { name: "forecast", points: [last, ...points(r.forecast, n)], color: "#e45756" },
      ...(r.baseline ? [{ name: `seasonal naive (${r.baseline.season})`, points: [last, ...points(r.baseline.forecast, n)], color: "#9d755d", dashed: true }] : []),
    ],
  };
}

/** The report as plain data for --json. */
export function reportJson(r: ForecastReport): Record<string, unknown> {
  return {
    forecast: r.forecast,
    ...(r.truth.length ? { truth: r.truth, errors: r.errors } : {}),
    ...(r.baseline ? { baseline: { method: "seasonal naive", ...r.baseline } } : {}),
  };
}
