// bench/chart.ts: the comparison chart, drawn as plain SVG (no browser, no CDN): one group of horizontal bars per
// workload (and cold start), one bar per system, on one logarithmic time axis, so every workload's bars can be read
// against the same gridlines (shorter is faster). Reads bench/results/workloads.json and, when present,
// bench/results/workloads.cold-start.json; writes bench/results/workloads.svg.
//   npx tsx bench/chart.ts     redraw from the saved results without measuring
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { ColdStartSummary, WorkloadResult, WorkloadsSummary } from "./render-tables.js";

const RESULTS = fileURLToPath(new URL("./results/", import.meta.url));
const ORDER = ["W-stream", "W-seq", "W-batch", "W-gru", "W-train"];

/** One colour per system, by peer id; rnn-wasm in blues. */
const COLOURS: Record<string, string> = {
  "rnn-wasm-simd": "#1f5fa8",
  "rnn-wasm-relaxed": "#2b8fd6",
  "rnn-wasm-simd-reset-before": "#6aaee0",
  "rnn-wasm-reference": "#a9cdea",
  "rnn-wasm-simd-int8": "#0f7a4a",
  "rnn-wasm-relaxed-int8": "#2fb36f",
  "rnn-wasm-relaxed-int8-q8": "#5cc98f",
  "rnn-wasm-simd-int12": "#86d4a8",
  "tfjs-cpu": "#e8710a",
  "tfjs-wasm": "#f6ae5b",
  "ort-web": "#7b4fb0",
  "ort-node": "#b89ad9",
  brain: "#8c5a3c",
  pytorch: "#c9302c",
  "pytorch-qint8": "#e57f7c",
};

interface Bar {
  label: string;
  peer: string;
  /** Seconds per call, or null for a row that is not timed. */
  seconds: number | null;
  /** What is printed after the bar (or instead of it). */
  text: string;
  faded?: boolean;
}

interface Group {
  title: string;
  bars: Bar[];
}

const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function formatSeconds(s: number): string {
  const [v, unit] = s < 1e-3 ? [s * 1e6, "µs"] : s < 1 ? [s * 1e3, "ms"] : [s, "s"];
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${unit}`;
}

function workloadGroup(r: WorkloadResult): Group {
  const per = r.unit === "µs/step" ? "per step" : r.unit === "ms/sequence" ? "per sequence" : r.unit === "ms/step" ? "per training step" : "per call";
  return {
    title: `${r.id} · ${r.description.replace(/ \(lr 1e-3\)$/, "")} · time ${per}`,
    bars: r.rows.map((x): Bar => {
      if (x.status === "timed") {
        const seconds = x.medianMs! / 1000;
        return { label: x.label, peer: x.peer, seconds, text: formatSeconds(seconds) + (x.speedOnly ? " (speed only: another function)" : ""), faded: x.speedOnly };
      }
      const why = x.status === "cannot" ? "cannot express this workload" : x.status === "failed" ? "fails the check" : "not timed";
      return { label: x.label, peer: x.peer, seconds: null, text: `— ${why}` };
    }),
  };
}

function coldStartGroup(c: ColdStartSummary): Group {
  return {
    title: "Cold start · a fresh process, import to the first W-seq output",
    bars: c.rows.map((x): Bar => x.status === "timed"
      ? { label: x.label, peer: x.peer, seconds: x.fromImportMs! / 1000, text: formatSeconds(x.fromImportMs! / 1000) + (x.speedOnly ? " (speed only)" : ""), faded: x.speedOnly }
      : { label: x.label, peer: x.peer, seconds: null, text: "— not measured" }),
  };
}

/** The SVG for the given groups. */
export function renderChart(groups: Group[], subtitle: string): string {
  const W = 980, LABEL = 300, PLOT = 470, ROW = 18, BAR = 12, GROUP_HEAD = 30, TOP = 70, AXIS = 24;
  const all = groups.flatMap((g) => g.bars.map((b) => b.seconds)).filter((s): s is number => s !== null && s > 0);
  const lo = Math.floor(Math.log10(Math.min(...all)));
  const hi = Math.ceil(Math.log10(Math.max(...all)));
  const x = (s: number) => LABEL + ((Math.log10(s) - lo) / (hi - lo)) * PLOT;
  const height = TOP + AXIS + groups.reduce((h, g) => h + GROUP_HEAD + g.bars.length * ROW, 0) + AXIS + 20;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" ` +
      `font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${height}" fill="#ffffff"/>`,
    `<text x="16" y="26" font-size="16" font-weight="600">rnn-wasm and other libraries: time per workload (log scale, shorter is faster)</text>`,
    `<text x="16" y="46" fill="#555">${escape(subtitle)}</text>`,
  ];
  const plotTop = TOP + AXIS, plotBottom = height - AXIS - 20;
  // Decade gridlines and labels, above and below the plot.
  for (let d = lo; d <= hi; d++) {
    const gx = x(10 ** d).toFixed(1);
    out.push(`<line x1="${gx}" y1="${plotTop - 4}" x2="${gx}" y2="${plotBottom}" stroke="#d9d9d9"/>`);
    const tick = d < -3 ? `${10 ** (d + 6)} µs` : d < 0 ? `${10 ** (d + 3)} ms` : `${10 ** d} s`;
    for (const y of [plotTop - 8, plotBottom + 14]) out.push(`<text x="${gx}" y="${y}" text-anchor="middle" fill="#555">${tick}</text>`);
    if (d < hi) for (const m of [2, 5]) {
      const mx = x(m * 10 ** d).toFixed(1);
      out.push(`<line x1="${mx}" y1="${plotTop}" x2="${mx}" y2="${plotBottom}" stroke="#f0f0f0"/>`);
    }
  }
  let y = plotTop;
  for (const g of groups) {
    out.push(`<text x="16" y="${y + 20}" font-weight="600">${escape(g.title)}</text>`);
    y += GROUP_HEAD;
    for (const b of g.bars) {
      const mid = y + ROW / 2;
      const ours = b.peer.startsWith("rnn-wasm");
      out.push(`<text x="${LABEL - 8}" y="${mid + 4}" text-anchor="end"${ours ? ' font-weight="600"' : ""}>${escape(b.label)}</text>`);
      if (b.seconds !== null) {
        const end = x(b.seconds);
        const colour = COLOURS[b.peer] ?? "#888888";
        out.push(`<rect x="${LABEL}" y="${(mid - BAR / 2).toFixed(1)}" width="${Math.max(1, end - LABEL).toFixed(1)}" height="${BAR}" fill="${colour}"` +
          `${b.faded ? ' fill-opacity="0.45" stroke="' + colour + '" stroke-dasharray="3 2"' : ""}/>`);
        out.push(`<text x="${(end + 6).toFixed(1)}" y="${mid + 4}" fill="#222">${escape(b.text)}</text>`);
      } else {
        out.push(`<text x="${LABEL + 6}" y="${mid + 4}" fill="#888">${escape(b.text)}</text>`);
      }
      y += ROW;
    }
  }
  out.push(`<line x1="${LABEL}" y1="${plotTop}" x2="${LABEL}" y2="${plotBottom}" stroke="#888"/>`);
  out.push("</svg>");
  return out.join("\n") + "\n";
}

/**
 * Redraws bench/results/workloads.svg from the saved results (or draws `summary` at `path`: a trial run's); returns
 * its path.
 */
export function writeChart(summary: WorkloadsSummary = JSON.parse(readFileSync(RESULTS + "workloads.json", "utf8")) as WorkloadsSummary,
  path = RESULTS + "workloads.svg"): string {
  const results = ORDER.map((id) => summary.workloads[id]).filter((r): r is WorkloadResult => !!r);
  const groups = results.map(workloadGroup);
  const coldPath = RESULTS + "workloads.cold-start.json";
  if (existsSync(coldPath)) groups.push(coldStartGroup(JSON.parse(readFileSync(coldPath, "utf8")) as ColdStartSummary));
  const m = results[0]?.machine;
  const dates = results.map((r) => r.date.slice(0, 10)).sort();
  const subtitle = m
    ? `${m.cpu}, ${m.logicalCpus} logical CPUs, Node ${m.node}, one thread; measured ${dates[0]}${dates.at(-1) !== dates[0] ? ` to ${dates.at(-1)}` : ""} (bench/results/workloads.json)`
    : "";
  writeFileSync(path, renderChart(groups, subtitle));
  return path;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) console.log(`Wrote ${writeChart()}`);
