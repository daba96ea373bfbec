// cli/test/forecast-units.test.ts: the pieces of train/predict in-process, each against numbers worked out by hand:
// differencing, the split by time and its minimum rows, the window layout, normalisation, the recursive forecast
// (driven by an oracle that knows the series, so any slip in lags or indices shows), the seasonal-naive baseline,
// the errors, the monthly calendar, the metadata round trip, the progress output, the terminal chart, and the chart spec.
import { PassThrough } from "node:stream";
import asciichart from "asciichart";
import { describe, expect, it } from "vitest";
import { lineChartSpec, lineChartSvg } from "../src/charts.js";
import { CliError } from "../src/common.js";
import { monthlyCalendar } from "../src/forecast/calendar.js";
import { forecastErrors, historyNeeded, recursiveForecast, seasonalNaive, type ForecastModel } from "../src/forecast/forecast.js";
import { forecasterMetadata, parseForecasterMetadata, type ForecasterInfo } from "../src/forecast/model-file.js";
import type { ForecastNetwork } from "../src/forecast/network.js";
import { minimumRows, modelSeries, normalisationOf, normalise, splitByTime, windowBatch } from "../src/forecast/series.js";
import { TrainingProgress } from "../src/progress.js";
import { terminalChart } from "../src/terminal-chart.js";

describe("series", () => {
  it("modelSeries: the values (lag 0) or their differences over the lag", () => {
    const s = [1, 4, 9, 16, 25];
    expect(modelSeries(s, 0)).toEqual(s);
    expect(modelSeries(s, 1)).toEqual([3, 5, 7, 9]);
    expect(modelSeries(s, 3)).toEqual([15, 21]);
  });

  it("splitByTime: the last fraction validates, at least one target when the fraction is above 0", () => {
    const s = splitByTime(100, 10, 0.1);
    expect(s.trainEnd).toBe(90);
    expect(s.trainTargets).toEqual(Array.from({ length: 80 }, (_, k) => 10 + k));
    expect(s.validationTargets).toEqual(Array.from({ length: 10 }, (_, k) => 90 + k));
    expect(splitByTime(30, 5, 0.001).validationTargets).toEqual([29]);
    expect(splitByTime(30, 5, 0)).toEqual({ trainEnd: 30, trainTargets: Array.from({ length: 25 }, (_, k) => 5 + k), validationTargets: [] });
  });

  it("minimumRows is the boundary: that many rows leave a training (and a validation) window, one fewer does not", () => {
    for (const [window, fraction, lag] of [[12, 0.1, 0], [24, 0.1, 0], [36, 0.05, 12], [5, 0, 1], [1, 0.5, 0], [10, 0.3, 3]]) {
      const rows = minimumRows(window, fraction, lag);
      const fits = (n: number) => {
        const s = splitByTime(n - lag, window, fraction);
        return s.trainTargets.length >= 1 && (fraction === 0 || s.validationTargets.length >= 1);
      };
      expect(fits(rows), `${window} ${fraction} ${lag}: ${rows}`).toBe(true);
      expect(fits(rows - 1), `${window} ${fraction} ${lag}: ${rows - 1}`).toBe(false);
    }
    expect(minimumRows(12, 0.1, 0)).toBe(14); // the number train's error quotes for --window 12
  });

  it("windowBatch: x [W, B, 1] time-major with x[s, b] = z[t_b - W + s], y[b] = z[t_b]", () => {
    const z = Array.from({ length: 20 }, (_, i) => i * 10);
    const { x, y } = windowBatch(z, [5, 9, 19], 3);
    expect(x.shape).toEqual([3, 3, 1]);
    expect(Array.from(x.data)).toEqual([20, 60, 160, 30, 70, 170, 40, 80, 180]);
    expect(y.shape).toEqual([3, 1]);
    expect(Array.from(y.data)).toEqual([50, 90, 190]);
  });

  it("normalisationOf: mean and population std of the first `end` values; a constant part gets std 1", () => {
    const n = normalisationOf([2, 4, 4, 4, 5, 5, 7, 9, 1000], 8);
    expect(n).toEqual({ mean: 5, std: 2 });
    expect(normalise([5, 9], n)).toEqual([0, 2]);
    expect(normalisationOf([3, 3, 3])).toEqual({ mean: 3, std: 1 });
  });
});

describe("forecast", () => {
  /** A network stand-in that returns, in normalised units, the true next model value of `truth`. */
  function oracle(truth: (t: number) => number, lag: number, start: number, norm: { mean: number; std: number }): ForecastModel["network"] {
    let t = start;
    const next = () => {
      const change = lag ? truth(t) - truth(t - lag) : truth(t);
      t++;
      return (change - norm.mean) / norm.std;
    };
    return { next } as unknown as ForecastNetwork;
  }
  const series = (t: number) => 100 + 0.3 * t + 5 * Math.sin((2 * Math.PI * t) / 12) + 0.01 * t * t; // trend, season, curvature

  it.each([0, 1, 12])("recursiveForecast with lag %i continues the series exactly when each step is predicted right", (lag) => {
    const normalisation = { mean: 1.5, std: 4 };
    const history = Array.from({ length: 60 }, (_, t) => series(t));
    const model: ForecastModel = { network: oracle(series, lag, 60, normalisation), window: 24, difference: lag, normalisation };
    const got = recursiveForecast(model, history, 30);
    expect(got).toHaveLength(30);
    got.forEach((v, h) => expect(v).toBeCloseTo(series(60 + h), 9));
    expect(historyNeeded(model)).toBe(24 + lag);
  });

  it("recursiveForecast feeds each prediction back: the network sees the window slide over its own outputs", () => {
    const windows: number[][] = [];
    const network = { next: (w: readonly number[]) => (windows.push([...w]), w[w.length - 1] + 1) } as unknown as ForecastNetwork;
    const out = recursiveForecast({ network, window: 3, difference: 0, normalisation: { mean: 0, std: 1 } }, [1, 2, 3, 4], 3);
    expect(windows).toEqual([[2, 3, 4], [3, 4, 5], [4, 5, 6]]);
    expect(out).toEqual([5, 6, 7]);
  });

  it("seasonalNaive: each step's value one season earlier, the last season repeated beyond it", () => {
    const history = [10, 11, 12, 13, 20, 21, 22, 23]; // season 4
    expect(seasonalNaive(history, 4, 9)).toEqual([20, 21, 22, 23, 20, 21, 22, 23, 20]);
    expect(seasonalNaive([1, 2, 3], 1, 2)).toEqual([3, 3]); // season 1: the last value
  });

  it("forecastErrors: RMSE and MAE over the steps with a truth", () => {
    expect(forecastErrors([1, 2, 3, 99], [2, 4, 3])).toEqual({ rmse: Math.sqrt(5 / 3), mae: 1, steps: 3 });
  });
});

describe("monthlyCalendar", () => {
  it("fills missing months by linear interpolation between the rows around each gap", () => {
    const m = monthlyCalendar(["1999-11-01", "1999-12-01", "2000-03-01", "2000-04"], [10, 12, 18, 20], "data");
    expect(m.months).toEqual(["1999-11-01", "1999-12-01", "2000-01-01", "2000-02-01", "2000-03-01", "2000-04-01"]);
    expect(m.values).toEqual([10, 12, 14, 16, 18, 20]);
    expect(m.filled).toEqual(["2000-01-01", "2000-02-01"]);
  });

  it("refuses dates it cannot read and rows out of order", () => {
    expect(() => monthlyCalendar(["2000-01", "2000-13"], [1, 2], "data file 'x'")).toThrow(/data file 'x', row 2: date '2000-13' is not YYYY-MM or YYYY-MM-DD/);
    expect(() => monthlyCalendar(["2000-02", "2000-02-15"], [1, 2], "f")).toThrow(/row 2: month 2000-02-15 does not come after the previous row's 2000-02/);
    expect(() => monthlyCalendar(["01/02/2000"], [1], "f")).toThrow(CliError);
  });
});

describe("forecaster metadata", () => {
  const info: ForecasterInfo = {
    kind: "gru", window: 36, column: "adjusted CO2", difference: 12, normalisation: { mean: 0.1 + 0.2, std: Math.PI / 7 },
    trainOptions: { hidden: 8, lr: 0.003 }, training: { best_epoch: 3 }, producer: "rnn-wasm train",
  };

  it("round-trips every field, doubles bit for bit", () => {
    const meta = forecasterMetadata(info);
    expect(Object.values(meta).every((v) => typeof v === "string")).toBe(true);
    expect(meta.format).toBe("rnn-wasm forecaster");
    expect(meta.format_version).toBe("1");
    expect(parseForecasterMetadata(meta, "m")).toEqual(info);
  });

  it.each([
    ["window", "0", /metadata 'window' is '0', expected a positive integer/],
    ["difference", "-1", /metadata 'difference' is '-1', expected a whole number of steps/],
    ["mean", "NaN", /metadata 'mean' is 'NaN', expected a finite number/],
    ["std", "0", /metadata 'std' is '0', expected a positive number/],
    ["train_options", "[1]", /metadata 'train_options' is '\[1\]', expected a JSON object/],
    ["format_version", "x", /metadata 'format_version' is 'x', expected a positive integer/],
  ])("refuses %s = %s", (key, value, message) => {
    expect(() => parseForecasterMetadata({ ...forecasterMetadata(info), [key]: value }, "model file 'm'")).toThrow(message);
  });
});

describe("TrainingProgress", () => {
  const report = (epoch: number, epochs: number) => ({ epoch, epochs, trainLoss: 1 / epoch, validationLoss: 2 / epoch, windowsPerSecond: 12345.6, best: epoch % 2 === 1 });

  function stream(tty: boolean): { out: NodeJS.WriteStream; text: () => string } {
    const s = new PassThrough();
    let text = "";
    s.on("data", (d) => (text += d));
    Object.assign(s, { isTTY: tty, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
    return { out: s as unknown as NodeJS.WriteStream, text: () => text };
  }

  it("without a terminal: a line every ceil(epochs / 20) epochs, the first and the last, and the stopping epoch", () => {
    const s = stream(false);
    const p = new TrainingProgress(100, s.out);
    for (let e = 1; e <= 37; e++) p.update(report(e, 100));
    p.stop(report(37, 100));
    const epochs = s.text().trim().split("\n").map((l) => Number(/^epoch +(\d+)\/100 /.exec(l)![1]));
    expect(epochs).toEqual([1, 5, 10, 15, 20, 25, 30, 35, 37]);
    expect(s.text()).toContain("epoch   1/100  train 1.00000  validation 2.00000*  12,346 windows/s\n");
    expect(s.text()).not.toMatch(/\r|\x1b/);
  });

  it("on a terminal: a cli-progress bar redrawn in place with the epoch, the losses and the speed", () => {
    const s = stream(true);
    const p = new TrainingProgress(3, s.out);
    for (let e = 1; e <= 3; e++) p.update(report(e, 3));
    p.stop(report(3, 3));
    expect(s.text()).toMatch(/epoch 3\/3 [█░]{24} train 0\.33333 {2}validation 0\.66667\* {2}12,346 windows\/s/); // the bar: 24 cells
  });
});

describe("terminalChart", () => {
  const series = [
    { name: "known", values: [0, 1, 2, 3, 4, 5], color: "" },
    { name: "guess", values: [0, 1, 2, 3, 4, 3, 2, 1], color: "", plain: "*", from: 4 },
  ];

  it("without colors: the `plain` series in its character, only from its own part on, over the others", () => {
    const text = terminalChart(series, { color: false, height: 5 });
    const rows = text.split("\n");
    const plot = rows.slice(0, -1);
    expect(rows[rows.length - 1]).toBe(`${" ".repeat(12)}── known   ** guess`);
    const stars = plot.flatMap((l) => [...l].map((c, i) => (c === "*" ? i : -1)).filter((i) => i >= 0));
    expect(Math.min(...stars)).toBe(12 + 3); // the segment from value 3 (the last known) to value 4 (the first guess)
    expect(Math.max(...stars)).toBe(12 + 6); // the segment from value 6 to value 7
    expect(plot.join("")).toMatch(/[╭╯─]/); // the known series keeps its box lines
  });

  it("with colors: one asciichart plot, the legend in the series' colors", () => {
    const text = terminalChart([{ ...series[0], color: asciichart.blue }, { ...series[1], color: asciichart.red }], { color: true, height: 5 });
    expect(text).toContain(asciichart.colored("── guess", asciichart.red));
    expect(text).not.toContain("*");
  });
});

describe("charts", () => {
  const chart = {
    title: "t", xTitle: "step", yTitle: "value",
    series: [{ name: "a", points: [{ x: 1, y: 1 }, { x: 2, y: 3 }] }, { name: "b", dashed: true, points: [{ x: 1, y: 2 }, { x: 2, y: 2 }] }],
  };

  it("lineChartSpec: one color per series in the given order; dashed series in their own layer", () => {
    const spec = lineChartSpec(chart) as { encoding: { color: { scale: { domain: string[] } } }; layer: { mark: { strokeDash?: number[] } }[] };
    expect(spec.encoding.color.scale.domain).toEqual(["a", "b"]);
    expect(spec.layer.map((l) => l.mark.strokeDash ?? null)).toEqual([null, [6, 4]]);
    expect((lineChartSpec({ ...chart, series: [chart.series[0]] }) as { layer: unknown[] }).layer).toHaveLength(1);
  });

  it("lineChartSvg renders offline to an SVG with the titles and the legend", async () => {
    const svg = await lineChartSvg(chart);
    expect(svg).toMatch(/^<svg /);
    for (const text of [">t<", ">step<", ">value<", ">a<", ">b<"]) expect(svg).toContain(text);
    expect(svg).toMatch(/stroke-dasharray="6,4"/);
  });
});
