// bench/render-readme.ts: renders bench/results/lstm-seq.summary.json as the README's table, between
// <!-- bench:lstm-seq:start --> and <!-- bench:lstm-seq:end -->. The bench calls it after a run; run it alone
// (`npx tsx bench/render-readme.ts`) to re-render the committed results without measuring again.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

export interface CaseSummary {
  name: string;
  build: string;
  /** Median time for one sequence (T steps), milliseconds. */
  medianMs: number;
  meanMs: number;
  /** benchmark.js relative margin of error of the mean, percent. */
  rmePercent: number;
  samples: number;
  /** Sequences per second at the median time. */
  opsPerSec: number;
  stepsPerSec: number;
  gflops: number;
  /** medianMs / the fastest case's medianMs (1 for the fastest). */
  timeVsFastest: number;
  /** The reference's medianMs / this medianMs. */
  speedupVsReference: number;
  maxAbsDiffVsReference: number;
}

export interface BenchSummary {
  suite: string;
  description: string;
  shape: { I: number; H: number; B: number; T: number };
  flopPerSequence: number;
  date: string;
  machine: {
    node: string;
    v8: string;
    cpu: string;
    logicalCpus: number;
    platform: string;
    arch: string;
    /** os.loadavg()[0] before and after the run: other work on the machine slows every case. */
    loadAverage1m?: [number, number];
    flags: string[];
  };
  command: string;
  results: CaseSummary[];
}

const START = "<!-- bench:lstm-seq:start -->";
const END = "<!-- bench:lstm-seq:end -->";
const README = fileURLToPath(new URL("../README.md", import.meta.url));
const SUMMARY = fileURLToPath(new URL("./results/lstm-seq.summary.json", import.meta.url));

/** The markdown between the markers: the table and one line on where and how it was measured. */
export function renderTable(s: BenchSummary): string {
  const { I, H, B, T } = s.shape;
  const lines = [
    `LSTM, one layer, I=${I} H=${H} B=${B} T=${T} (one call runs the whole sequence; ${(s.flopPerSequence / 1e6).toFixed(1)} MFLOP per call, ` +
      "counting 2·4H·(I+H)·B per step):",
    "",
    "| case | median ms / sequence | ± | steps/s | GFLOP/s | time vs fastest | speed-up vs reference |",
    "|---|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of s.results) {
    lines.push(`| ${r.name} | ${r.medianMs.toFixed(2)} | ${r.rmePercent.toFixed(1)}% | ${Math.round(r.stepsPerSec).toLocaleString("en-US")} | ` +
      `${r.gflops.toFixed(2)} | ${r.timeVsFastest.toFixed(2)}x | ${r.speedupVsReference.toFixed(1)}x |`);
  }
  const m = s.machine;
  lines.push(
    "",
    `Measured ${s.date.slice(0, 10)} on ${m.cpu} (${m.logicalCpus} logical CPUs, ${m.platform} ${m.arch}), Node ${m.node}, one thread` +
      (m.loadAverage1m ? ` (1-minute load average ${m.loadAverage1m[0]} before, ${m.loadAverage1m[1]} after)` : "") +
      (m.flags.length ? `; ${m.flags.join(", ")}` : "") +
      `. Every case's output agreed with the reference within 1e-4 before timing. Regenerate with \`${s.command}\` ` +
      "(results in `bench/results/lstm-seq.json` and `bench/results/lstm-seq.summary.json`).",
  );
  return lines.join("\n");
}

/** Rewrites the README's table from `summary` (default: the saved one); returns the README's path, or null without markers. */
export function updateReadme(summary?: BenchSummary, readmePath = README): string | null {
  const s = summary ?? (JSON.parse(readFileSync(SUMMARY, "utf8")) as BenchSummary);
  if (!existsSync(readmePath)) return null;
  const text = readFileSync(readmePath, "utf8");
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) return null;
  writeFileSync(readmePath, text.slice(0, start + START.length) + "\n" + renderTable(s) + "\n" + text.slice(end));
  return readmePath;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const path = updateReadme();
  if (!path) {
    console.error(`README.md has no ${START} ... ${END} markers`);
    process.exitCode = 1;
  } else console.log(`Updated the table in ${path}`);
}
