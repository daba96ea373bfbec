// src/cli/terminal-chart.ts: a line chart drawn with box characters (asciichart) for the terminal. asciichart draws
// every series from column 0, so a series that continues another (a forecast after its history) is given as the
// whole line, history included; series are drawn in order, later ones over earlier ones, so give the one that
// should stay visible where they overlap (the known values) last.
import asciichart from "asciichart";

export interface TerminalSeries {
  name: string;
  values: number[];
  /** An asciichart color (asciichart.blue, ...); used only when colors are on. */
  color: string;
}

/** Columns of the plot, not counting the axis labels: fits an 80-column terminal. */
const MAX_WIDTH = 66;

/** Whether to color output written to `stream`: a terminal, and no NO_COLOR (https://no-color.org). */
export function useColor(stream: NodeJS.WriteStream): boolean {
  return Boolean(stream.isTTY) && !process.env.NO_COLOR;
}

/** Every k-th value (and the last), so a long series fits MAX_WIDTH columns. */
function thin(values: number[], k: number): number[] {
  if (k <= 1) return values;
  const out = values.filter((_, i) => i % k === 0);
  if ((values.length - 1) % k !== 0) out.push(values[values.length - 1]);
  return out;
}

/** The chart and a legend line under it; `height` is the number of rows of the plot. */
export function terminalChart(series: TerminalSeries[], options: { height?: number; color: boolean }): string {
  const longest = Math.max(...series.map((s) => s.values.length));
  const k = Math.ceil(longest / MAX_WIDTH);
  const lines = series.map((s) => thin(s.values, k));
  const plot = asciichart.plot(lines, {
    height: options.height ?? 12,
    colors: options.color ? series.map((s) => s.color) : undefined,
    format: (x: number) => x.toFixed(2).padStart(10),
  });
  const legend = series.map((s) => (options.color ? asciichart.colored(`── ${s.name}`, s.color) : `${s.name}`)).join("   ");
  const scale = k > 1 ? `  (one column per ${k} steps)` : "";
  return `${plot}\n${" ".repeat(12)}${legend}${scale}`;
}
