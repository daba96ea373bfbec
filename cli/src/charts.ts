// cli/src/charts.ts: line charts as standalone SVG files, for any command: named series of (x, y) points, axis
// titles, numbers or dates on x, a linear or log y scale. A vega-lite 5 spec is compiled to vega and rendered
// headless (`renderer: "none"`: no canvas, no browser, no network), so it runs in plain Node offline.
// vega and vega-lite take about half a second to import, so they load on the first chart, not with the CLI.
// Charts are rendered to a string; the commands write them with writeOutputFiles (common.ts), with their other files.
export interface ChartSeries {
  name: string;
  /** x is a number, or an ISO date ("2018-03-01") when the chart's xType is "temporal". */
  points: { x: number | string; y: number }[];
  /** Drawn dashed (e.g. a baseline next to the forecast). */
  dashed?: boolean;
  /** A CSS color; default from a fixed palette by the series' position. */
  color?: string;
}

export interface LineChart {
  title?: string;
  xTitle: string;
  yTitle: string;
  /** Default "quantitative"; "temporal" reads x as dates (UTC). */
  xType?: "quantitative" | "temporal";
  /** Default "linear"; "log" for losses that fall by orders of magnitude (needs y > 0). */
  yScale?: "linear" | "log";
  /** Plot area in pixels; default 720 x 320. */
  width?: number;
  height?: number;
  series: ChartSeries[];
}

/** Tableau-10's first colors: distinct, readable on white, and what vega-lite users expect. */
const PALETTE = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#9d755d", "#bab0ac"];
const DASH = [6, 4];

/** The vega-lite spec of a chart (exported for tests and for anyone who wants to restyle it). */
export function lineChartSpec(c: LineChart): Record<string, unknown> {
  const names = c.series.map((s) => s.name);
  const values = c.series.flatMap((s) => s.points.map((p) => ({ x: p.x, y: p.y, series: s.name, dashed: Boolean(s.dashed) })));
  const temporal = c.xType === "temporal";
  // Solid and dashed series are two layers sharing one color scale: a strokeDash encoding would want a legend
  // of its own, which vega-lite then reports as conflicting with the color legend.
  const line = (dashed: boolean) => ({
    mark: { type: "line", strokeWidth: 1.6, clip: true, ...(dashed ? { strokeDash: DASH } : {}) },
    transform: [{ filter: dashed ? "datum.dashed" : "!datum.dashed" }],
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    ...(c.title ? { title: c.title } : {}),
    width: c.width ?? 720,
    height: c.height ?? 320,
    background: "white",
    data: { values },
    encoding: {
      x: {
        field: "x",
        type: temporal ? "temporal" : "quantitative",
        title: c.xTitle,
        ...(temporal ? { scale: { type: "utc" }, axis: { format: "%Y" } } : { scale: { zero: false } }),
      },
      y: { field: "y", type: "quantitative", title: c.yTitle, scale: c.yScale === "log" ? { type: "log" } : { zero: false } },
      color: {
        field: "series",
        type: "nominal",
        title: null,
        sort: names,
        scale: { domain: names, range: c.series.map((s, i) => s.color ?? PALETTE[i % PALETTE.length]) },
        legend: { orient: "top-left", fillColor: "white" },
      },
    },
    layer: c.series.some((s) => s.dashed) ? [line(false), line(true)] : [line(false)],
  };
}

/** Renders a chart to an SVG document. */
export async function lineChartSvg(c: LineChart): Promise<string> {
  const [vegaLite, vega] = await Promise.all([import("vega-lite"), import("vega")]);
  const compiled = vegaLite.compile(lineChartSpec(c) as unknown as Parameters<typeof vegaLite.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
