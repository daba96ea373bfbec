// cli/src/terminal-chart.ts: a line chart drawn with box characters (asciichart) for the terminal. asciichart draws
// every series from column 0, so a series that continues another (a forecast after its history) is given as the
// whole line, context included, with `from` saying where its own part starts.
//   with colors:    one asciichart plot, each series in its color; later series are drawn over earlier ones
//   without colors  (a pipe, NO_COLOR): box lines alone could not be told apart, so a series may set `plain`, a
//                   character it is drawn with instead; each series is plotted alone on the same scale, and the
//                   character grids are laid over each other, the `plain` series on top and only from `from` on
import type Asciichart from "asciichart";
import { lazyRequire } from "./lazy.js";
import type { CliIo, CliStream } from "./common.js";

const asciichart = lazyRequire<typeof Asciichart>("asciichart");

export interface TerminalSeries {
  name: string;
  values: number[];
  /** An asciichart color (asciichart.blue, ...); used only when colors are on. */
  color: string;
  /** Without colors: draw this series with this character (e.g. "•") instead of box lines. */
  plain?: string;
  /** Index of the first value that is this series' own; earlier ones only place it (default 0). */
  from?: number;
}

/** Columns of the plot, not counting the axis labels: fits an 80-column terminal. */
const MAX_WIDTH = 66;
/** Every axis label is padded to this width, so the plot's columns start at the same character in every row. */
const LABEL_WIDTH = 10;
/** The character of the segment from value x to x + 1 is at DATA_START + x (after the label, a space, the axis). */
const DATA_START = LABEL_WIDTH + 2;
/** asciichart's symbols: two axis marks, two unused, then the line's horizontal, corner and vertical pieces. */
type Symbols = [string, string, string, string, string, string, string, string, string, string];
const BOX: Symbols = ["┼", "┤", "╶", "╴", "─", "╰", "╭", "╮", "╯", "│"];

/** Whether to color output written to `stream`: a terminal, and no NO_COLOR in `env` (https://no-color.org). */
export function useColor(stream: CliStream, env: CliIo["env"]): boolean {
  return Boolean(stream.isTTY) && !env.NO_COLOR;
}

/** Every k-th value (and the last), so a long series fits MAX_WIDTH columns. */
function thin(values: number[], k: number): number[] {
  if (k <= 1) return values;
  const out = values.filter((_, i) => i % k === 0);
  if ((values.length - 1) % k !== 0) out.push(values[values.length - 1]);
  return out;
}

/** The plain-character rendering: each series alone, then laid over each other cell by cell. */
function overlay(lines: number[][], series: TerminalSeries[], config: Asciichart.PlotConfig, k: number): string {
  const grids = lines.map((l, j) => {
    const c = series[j].plain;
    const symbols: Symbols = c ? [BOX[0], BOX[1], BOX[2], BOX[3], c, c, c, c, c, c] : BOX;
    return asciichart().plot(l, { ...config, symbols }).split("\n").map((row) => [...row]);
  });
  const order = series.map((_, j) => j).sort((a, b) => Number(Boolean(series[a].plain)) - Number(Boolean(series[b].plain)));
  const width = Math.max(...grids.map((g) => g[0].length));
  return grids[0].map((_, y) => Array.from({ length: width }, (_, p) => {
    let cell = " ";
    for (const j of order) {
      const c = grids[j][y][p];
      if (c === undefined || c === " ") continue;
      const own = Math.ceil((series[j].from ?? 0) / k) - 1; // the segment leading into the series' own part
      if (p >= DATA_START - 1 && p - DATA_START < own) continue;
      cell = c;
    }
    return cell;
  }).join("").trimEnd()).join("\n");
}

/** The chart and a legend line under it; `height` is the number of rows of the plot. */
export function terminalChart(series: TerminalSeries[], options: { height?: number; color: boolean }): string {
  const longest = Math.max(...series.map((s) => s.values.length));
  const k = Math.ceil(longest / MAX_WIDTH);
  const lines = series.map((s) => thin(s.values, k));
  const all = lines.flat();
  const config = { height: options.height ?? 12, min: Math.min(...all), max: Math.max(...all), format: (x: number) => x.toFixed(2).padStart(LABEL_WIDTH) };
  const plain = !options.color && series.some((s) => s.plain);
  const plot = plain ? overlay(lines, series, config, k) : asciichart().plot(lines, { ...config, colors: options.color ? series.map((s) => s.color) : undefined });
  const key = (s: TerminalSeries) => (options.color ? asciichart().colored(`── ${s.name}`, s.color) : `${plain && s.plain ? s.plain.repeat(2) : "──"} ${s.name}`);
  const scale = k > 1 ? `  (one column per ${k} steps)` : "";
  return `${plot}\n${" ".repeat(DATA_START)}${series.map(key).join("   ")}${scale}`;
}
