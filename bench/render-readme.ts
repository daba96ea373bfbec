// bench/render-readme.ts: renders the saved bench summaries as the README's tables:
//   bench/results/lstm-seq.summary.json    between <!-- bench:lstm-seq:start --> and <!-- bench:lstm-seq:end -->
//   bench/results/train-step.summary.json  between <!-- bench:train-step:start --> and <!-- bench:train-step:end -->
// Each bench calls updateReadme() with its summary after a run; run this file alone (`npx tsx
// bench/render-readme.ts`) to re-render every saved summary without measuring again.
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

/** One case of the training-step bench (bench/train-step.bench.ts). */
export interface TrainStepCase {
  name: string;
  build: string;
  /** Median time for one training step, milliseconds. */
  medianMs: number;
  meanMs: number;
  /** benchmark.js relative margin of error of the mean, percent. */
  rmePercent: number;
  samples: number;
  stepsPerSec: number;
  /** flopPerStep / median time. */
  gflops: number;
  timeVsFastest: number;
  speedupVsReference: number;
  /** Largest |weight - reference weight| after one step from the shared start. */
  maxAbsDiffVsReference: number;
}

export interface TrainStepSummary {
  suite: "train-step";
  description: string;
  shape: { I: number; H: number; B: number; T: number };
  optimizer: string;
  /** 2·4H·(I+H)·B·T. */
  flopForward: number;
  /** 3 x flopForward: backward counted as twice the forward. */
  flopPerStep: number;
  flopNote: string;
  date: string;
  machine: BenchSummary["machine"];
  command: string;
  results: TrainStepCase[];
}

type AnySummary = BenchSummary | TrainStepSummary;

const README = fileURLToPath(new URL("../README.md", import.meta.url));
const SUITES = ["lstm-seq", "train-step"] as const;
const summaryPath = (suite: string) => fileURLToPath(new URL(`./results/${suite}.summary.json`, import.meta.url));
const markers = (suite: string) => [`<!-- bench:${suite}:start -->`, `<!-- bench:${suite}:end -->`] as const;

/** Where and how a suite was measured: one line under its table. */
function machineLine(s: AnySummary, agreement: string): string {
  const m = s.machine;
  return `Measured ${s.date.slice(0, 10)} on ${m.cpu} (${m.logicalCpus} logical CPUs, ${m.platform} ${m.arch}), Node ${m.node}, one thread` +
    (m.loadAverage1m ? ` (1-minute load average ${m.loadAverage1m[0]} before, ${m.loadAverage1m[1]} after)` : "") +
    (m.flags.length ? `; ${m.flags.join(", ")}` : "") +
    `. ${agreement} Regenerate with \`${s.command}\` ` +
    `(results in \`bench/results/${s.suite}.json\` and \`bench/results/${s.suite}.summary.json\`).`;
}

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
  lines.push("", machineLine(s, "Every case's output agreed with the reference within 1e-4 before timing."));
  return lines.join("\n");
}

/** The training-step table: ms and steps per second, GFLOP/s with backward counted as 2x forward. */
export function renderTrainStepTable(s: TrainStepSummary): string {
  const { I, H, B, T } = s.shape;
  const lines = [
    `One training step of LSTM(I=${I}, H=${H}) + LastStep + Linear(${H}, 1) on B=${B} sequences of T=${T} steps: zeroGrad, ` +
      `forward, MSE loss, backward through time, ${s.optimizer} (${(s.flopPerStep / 1e6).toFixed(1)} MFLOP per step: the forward's ` +
      `2·4H·(I+H)·B·T = ${(s.flopForward / 1e6).toFixed(1)} MFLOP, and the backward counted as twice that):`,
    "",
    "| case | median ms / step | ± | steps/s | GFLOP/s | time vs fastest | speed-up vs reference |",
    "|---|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of s.results) {
    lines.push(`| ${r.name} | ${r.medianMs.toFixed(2)} | ${r.rmePercent.toFixed(1)}% | ${r.stepsPerSec.toFixed(r.stepsPerSec < 10 ? 2 : 1)} | ` +
      `${r.gflops.toFixed(2)} | ${r.timeVsFastest.toFixed(2)}x | ${r.speedupVsReference.toFixed(1)}x |`);
  }
  lines.push("", machineLine(s, "Before timing, one step from the same weights and data left every case's weights within 1e-4 of the reference's."));
  return lines.join("\n");
}

function render(s: AnySummary): string {
  return s.suite === "train-step" ? renderTrainStepTable(s as TrainStepSummary) : renderTable(s as BenchSummary);
}

/**
 * Rewrites the README's table for `summary`'s suite (default: the saved lstm-seq summary); returns the README's
 * path, or null when the README lacks that suite's markers.
 */
export function updateReadme(summary?: AnySummary, readmePath = README): string | null {
  const s = summary ?? (JSON.parse(readFileSync(summaryPath("lstm-seq"), "utf8")) as BenchSummary);
  if (!existsSync(readmePath)) return null;
  const [START, END] = markers(s.suite);
  const text = readFileSync(readmePath, "utf8");
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) return null;
  writeFileSync(readmePath, text.slice(0, start + START.length) + "\n" + render(s) + "\n" + text.slice(end));
  return readmePath;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const suite of SUITES) {
    if (!existsSync(summaryPath(suite))) {
      console.log(`bench/results/${suite}.summary.json does not exist (run \`npm run bench\`); skipped`);
      continue;
    }
    const path = updateReadme(JSON.parse(readFileSync(summaryPath(suite), "utf8")) as AnySummary);
    if (!path) {
      console.error(`README.md has no ${markers(suite).join(" ... ")} markers`);
      process.exitCode = 1;
    } else console.log(`Updated the ${suite} table in ${path}`);
  }
}
