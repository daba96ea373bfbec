// bench/render-tables.ts: renders the saved bench summaries as the tables of docs/benchmarks.md:
//   bench/results/lstm-seq.summary.json    between <!-- bench:lstm-seq:start --> and <!-- bench:lstm-seq:end -->
//   bench/results/train-step.summary.json  between <!-- bench:train-step:start --> and <!-- bench:train-step:end -->
//   bench/results/workloads.json           between <!-- bench:workloads:start --> and <!-- bench:workloads:end -->
//   bench/results/workloads.cold-start.json  between <!-- bench:cold-start:start --> and <!-- bench:cold-start:end -->
// Each bench calls updateBenchmarkTables() with its summary after a run; run this file alone (`npx tsx
// bench/render-tables.ts`) to re-render every saved summary without measuring again. test/docs/samples.test.ts
// checks that the page holds exactly what renderSuite() makes of the saved summaries.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { MachineInfo } from "./machine.js";

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
  /** The machine (machine.ts); runs saved before the load average was recorded have none. */
  machine: Omit<MachineInfo, "loadAverage1m"> & { loadAverage1m?: [number, number] };
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

/** One system's row in a workload table (bench/workloads.bench.ts). */
export interface WorkloadRow {
  /** Peer id (bench/peers/*.ts), 'pytorch' for PyTorch. */
  peer: string;
  label: string;
  /** ours: rnn-wasm; js-wasm: the JavaScript/WebAssembly peers the "fastest peer" ratio is taken over; native. */
  group: "ours" | "js-wasm" | "native";
  /** timed; cannot (the peer cannot express the workload); failed (its check); skipped (too slow, or absent); error. */
  status: "timed" | "cannot" | "failed" | "skipped" | "error";
  /** Why it is not timed, or, for a speed-only row, why it is not checked. */
  reason?: string;
  /** Timed but not checked: the peer computes a different function (brain.js' LSTM). */
  speedOnly?: boolean;
  /** What the check compared with ('reference', or 'reference GRU, reset-before'). */
  checkedAgainst?: string;
  /** What the check left out, and why. */
  checkNote?: string;
  /** How it was timed: 'benny', or one call at a time for slow calls, or PyTorch's own loop. */
  timing?: string;
  /** Slow calls timed one by one: each call, milliseconds. */
  sampleMs?: number[];
  /** Largest |peer - reference| over the checked values. */
  maxAbsDiff?: number;
  /** Median per timed call (a sequence, a step, a training step), milliseconds. */
  medianMs?: number;
  meanMs?: number;
  /** benchmark.js relative margin of error of the mean, percent. */
  rmePercent?: number;
  samples?: number;
  /** The median in the workload's unit (µs for W-stream, else ms). */
  value?: number;
  gflops?: number;
  /** W-batch: timesteps x batch per second. */
  stepsTimesBatchPerSec?: number;
  /** The fastest checked JavaScript/WebAssembly peer's median / this median (> 1: this row is faster). */
  vsFastestJsWasm?: number;
  /** onnxruntime-node's median / this median. */
  vsOrtNative?: number;
  /** PyTorch's median / this median. */
  vsPytorch?: number;
  /** onnxruntime-web's median / this median (issue 14's targets name it). */
  vsOrtWeb?: number;
  /**
   * A quantized model (issue 14): its storage and the integer form it runs (ours: 'q16' int16 lanes, 'q8' the
   * relaxed dot-add) or the engine (PyTorch's quantized backend).
   */
  quantized?: { dtype: string; form?: string; engine?: string };
  /** A quantized row: largest |row - the float32 reference| over the checked values (the quantization's error). */
  errorVsFloat?: number;
  /** A quantized row: the same system's float32 median / this median (ours: the same wasm build). */
  vsFloat32?: number;
  /** The label of that float32 row. */
  vsFloat32Of?: string;
}

export interface WorkloadResult {
  id: string;
  description: string;
  kind: "lstm" | "gru";
  shape: { I: number; H: number; B: number; T: number };
  unit: "µs/step" | "ms/sequence" | "ms/call" | "ms/step";
  stepsPerCall: number;
  flopPerCall: number;
  /** Label of the fastest checked JavaScript/WebAssembly peer, or null. */
  fastestJsWasm: string | null;
  date: string;
  machine: BenchSummary["machine"];
  rows: WorkloadRow[];
}

export interface WorkloadsSummary {
  suite: "workloads";
  command: string;
  /** By workload id; a run with --only replaces its workloads and keeps the others. */
  workloads: Partial<Record<string, WorkloadResult>>;
  /**
   * On Node 20, the second pass on Node 24 (its relaxed build runs int8 on the relaxed dot-add): the inference
   * workloads' float32, int8 and ONNX Runtime rows, rendered in the quantized table only.
   */
  node24?: { node: string; workloads: Partial<Record<string, WorkloadResult>> };
  /**
   * The same Node 24 pass with V8's --no-enable-avx-vnni, on a CPU that has AVX-VNNI: the relaxed dot-add compiled
   * without the VNNI instruction, as on CPUs without it (the same CPU, not another one), rendered as its own table.
   */
  node24WithoutVnni?: {
    node: string;
    v8Flags: string[];
    /** bench/vnni-probe.ts on that Node with and without the flags: ns per relaxed dot-add, best of its calls. */
    probe: { nsPerDotWithVnni: number; nsPerDotWithout: number };
    workloads: Partial<Record<string, WorkloadResult>>;
  };
  /**
   * W-seq and W-gru inside workerd (bench/peers/workerd.ts), timed from Node, with onnxruntime-node (in Node) for the
   * native ratio: rendered as its own table.
   */
  workerd?: {
    /** The workerd npm package's version. */
    workerd: string;
    /** The int8 form quantize() picked on each build in workerd. */
    forms: { simd: string; relaxed: string };
    workloads: Partial<Record<string, WorkloadResult>>;
  };
}

/** One system's cold start (bench/cold-start.ts). */
export interface ColdStartRow {
  peer: string;
  label: string;
  status: "timed" | "skipped" | "error";
  reason?: string;
  speedOnly?: boolean;
  runs: number;
  /** Medians over the runs, milliseconds: import alone; import to the first output; spawn to the output line. */
  importMs?: number;
  fromImportMs?: number;
  fromProcessStartMs?: number;
  /** Every run's fromImportMs. */
  fromImportRuns?: number[];
  /** Largest |first output - reference| over the values the child printed (the last step's h). */
  maxAbsDiff?: number;
}

export interface ColdStartSummary {
  suite: "cold-start";
  description: string;
  date: string;
  machine: BenchSummary["machine"];
  command: string;
  rows: ColdStartRow[];
}

export type AnySummary = BenchSummary | TrainStepSummary | WorkloadsSummary | ColdStartSummary;

/** The page the tables live in. */
export const BENCHMARKS_DOC = fileURLToPath(new URL("../docs/benchmarks.md", import.meta.url));
export const SUITES = ["lstm-seq", "train-step", "workloads", "cold-start"] as const;
const SUMMARY_FILES: Record<string, string> = { workloads: "workloads.json", "cold-start": "workloads.cold-start.json" };
/** The saved summary a suite's table is rendered from. */
export const summaryPath = (suite: string) => fileURLToPath(new URL(`./results/${SUMMARY_FILES[suite] ?? `${suite}.summary.json`}`, import.meta.url));
/** The comment lines a suite's table sits between in docs/benchmarks.md. */
export const markers = (suite: string) => [`<!-- bench:${suite}:start -->`, `<!-- bench:${suite}:end -->`] as const;

/** Where and how a suite was measured: one line under its table. */
function machineLine(s: BenchSummary | TrainStepSummary, agreement: string): string {
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

/** 3 significant digits (more for large numbers, which keep their integer digits). */
function sig(v: number): string {
  if (v >= 1000) return Math.round(v).toLocaleString("en-US");
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  if (v >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}
const times = (x: number | undefined) => (x === undefined ? "" : x >= 10 ? `${x.toFixed(1)}x` : x >= 0.01 ? `${x.toFixed(2)}x` : `${x.toPrecision(1)}x`);
const gflops = (x: number) => (x >= 0.01 ? x.toFixed(2) : x.toPrecision(1));
/** A note as a sentence. */
const sentence = (t: string) => (/[.!?]$/.test(t) ? t : t + ".");
const unitName = (u: WorkloadResult["unit"]) => (u === "µs/step" ? "µs / step" : u.replace("/", " / "));
const WORKLOAD_ORDER = ["W-stream", "W-seq", "W-batch", "W-gru", "W-train"];

/** Footnote letters for one table: the same text gets the same letter. */
class Notes {
  private readonly texts: string[] = [];
  ref(note: string): string {
    const text = sentence(note);
    let k = this.texts.indexOf(text);
    if (k < 0) k = this.texts.push(text) - 1;
    return `[${String.fromCharCode(97 + k)}]`;
  }
  lines(): string[] {
    return this.texts.map((t, k) => `[${String.fromCharCode(97 + k)}] ${t}`);
  }
}

/** The rows of one workload's table, and its notes. */
function renderWorkload(r: WorkloadResult): string {
  const notes = new Notes();
  const timed = r.rows.filter((x) => x.status === "timed");
  const has = (key: "vsOrtNative" | "vsPytorch" | "vsFloat32") => timed.some((x) => x[key] !== undefined);
  const quantized = has("vsFloat32");
  const batch = r.id === "W-batch";
  const head = ["system", unitName(r.unit), "±"];
  if (batch) head.push("steps·batch / s");
  head.push("GFLOP/s", "speed vs fastest JS/WASM peer");
  if (has("vsOrtNative")) head.push("speed vs ONNX Runtime native");
  if (has("vsPytorch")) head.push("speed vs PyTorch");
  if (quantized) head.push("quantized: speed vs its float32", "quantized: error vs float32");
  head.push("check: max abs diff");
  const lines = [
    `**${r.id}**: ${r.description} (${(r.flopPerCall / 1e6).toFixed(r.flopPerCall < 1e7 ? 2 : 1)} MFLOP per ${r.id === "W-stream" ? "step" : r.id === "W-train" ? "training step" : "call"}):`,
    "",
    `| ${head.join(" | ")} |`,
    `|---|${head.slice(1).map(() => "---:").join("|")}|`,
  ];
  for (const x of r.rows) {
    const cells = [x.label];
    if (x.status === "timed") {
      const slow = x.timing && x.timing !== "benny" && !x.peer.startsWith("pytorch") ? ` ${notes.ref(x.timing)}` : "";
      cells.push(sig(x.value!) + slow, x.rmePercent === undefined ? "n/a" : `${x.rmePercent.toFixed(1)}%`);
      if (batch) cells.push(Math.round(x.stepsTimesBatchPerSec!).toLocaleString("en-US"));
      cells.push(gflops(x.gflops!), times(x.vsFastestJsWasm));
      if (has("vsOrtNative")) cells.push(times(x.vsOrtNative));
      if (has("vsPytorch")) cells.push(times(x.vsPytorch));
      if (quantized) cells.push(times(x.vsFloat32) + (x.vsFloat32Of ? ` ${notes.ref(`against ${x.vsFloat32Of}`)}` : ""),
        x.errorVsFloat === undefined ? "" : x.errorVsFloat.toExponential(1));
      cells.push(x.speedOnly ? `speed only ${notes.ref(x.reason!)}` : x.maxAbsDiff!.toExponential(1) +
        (x.checkedAgainst && x.checkedAgainst !== "reference" ? ` ${notes.ref(`checked against our ${x.checkedAgainst}`)}` : "") +
        (x.checkNote ? ` ${notes.ref(x.checkNote)}` : ""));
    } else {
      const mark = notes.ref(x.reason ?? x.status);
      cells.push(`— ${mark}`, "");
      if (batch) cells.push("");
      cells.push("", "");
      if (has("vsOrtNative")) cells.push("");
      if (has("vsPytorch")) cells.push("");
      if (quantized) cells.push("", "");
      cells.push(x.status === "failed" ? `fails: ${x.maxAbsDiff!.toExponential(1)}` : "—");
    }
    lines.push(`| ${cells.join(" | ")} |`);
  }
  const m = r.machine;
  lines.push("", [...notes.lines(), `Measured ${r.date.slice(0, 10)}` +
    (m.loadAverage1m ? `, 1-minute load average ${m.loadAverage1m[0]} before, ${m.loadAverage1m[1]} after` : "") + "."].join("  \n"));
  return lines.join("\n");
}

/** The comparison: a summary of rnn-wasm against the peers, then one table per workload. */
export function renderWorkloads(s: WorkloadsSummary): string {
  const results = WORKLOAD_ORDER.map((id) => s.workloads[id]).filter((r): r is WorkloadResult => !!r);
  const row = (r: WorkloadResult, peer: string) => r.rows.find((x) => x.peer === peer && x.status === "timed");
  const value = (x: WorkloadRow | undefined, unit: string) => (x ? `${sig(x.value!)} ${unit}` : "—");
  const lines = [
    "| workload | rnn-wasm SIMD | rnn-wasm relaxed SIMD | fastest JS/WASM peer | speed-up (SIMD / relaxed) | ONNX Runtime native | speed-up (SIMD / relaxed) | PyTorch | speed-up (SIMD / relaxed) |",
    "|---|---:|---:|---|---:|---:|---:|---:|---:|",
  ];
  for (const r of results) {
    const unit = r.unit === "µs/step" ? "µs" : "ms";
    const simd = row(r, "rnn-wasm-simd"), relaxed = row(r, "rnn-wasm-relaxed");
    const fastest = r.rows.find((x) => x.label === r.fastestJsWasm && x.status === "timed");
    const ort = row(r, "ort-node"), torch = row(r, "pytorch");
    const both = (key: "vsFastestJsWasm" | "vsOrtNative" | "vsPytorch") =>
      simd?.[key] !== undefined ? `${times(simd[key])} / ${times(relaxed?.[key]) || "—"}` : "—";
    lines.push(`| ${r.id} (${unitName(r.unit)}) | ${value(simd, unit)} | ${value(relaxed, unit)} | ` +
      `${fastest ? `${value(fastest, unit)} (${fastest.label})` : "—"} | ${both("vsFastestJsWasm")} | ${value(ort, unit)} | ${both("vsOrtNative")} | ` +
      `${value(torch, unit)} | ${both("vsPytorch")} |`);
  }
  const m = results[0]?.machine;
  const pieces = [lines.join("\n")];
  const node24 = s.node24 ? WORKLOAD_ORDER.map((id) => s.node24!.workloads[id]).filter((r): r is WorkloadResult => !!r) : [];
  const quantized = renderQuantizedSummary([...results, ...node24]);
  if (quantized) pieces.push(quantized);
  if (s.node24WithoutVnni) pieces.push(renderWithoutVnni(s.node24WithoutVnni));
  if (s.workerd) pieces.push(renderWorkerd(s.workerd));
  pieces.push(...results.map(renderWorkload));
  if (m) {
    pieces.push(`Machine: ${m.cpu} (${m.logicalCpus} logical CPUs, ${m.platform} ${m.arch}), Node ${m.node}, one thread for every system` +
      (m.flags.length ? `; ${m.flags.join(", ")}` : "") + `. Regenerate with \`${s.command}\` (or \`npx tsx bench/workloads.bench.ts --only W-seq\` ` +
      "for one workload); results in `bench/results/workloads.json` and, with every sample, `bench/results/workloads.<workload>.json`.");
  }
  return pieces.join("\n\n");
}

/** "yes" / "no" for a CPU flag, in the sentence that states the machine's VNNI support. */
function vnniLine(m: WorkloadResult["machine"]): string {
  const v = m.vnni;
  if (v === undefined) return "";
  if (v === null) return "The CPU's VNNI support was not read (no /proc/cpuinfo).";
  return `VNNI on this CPU (${m.cpu}, /proc/cpuinfo flags): avx_vnni ${v.avxVnni ? "yes" : "no"}, avx512_vnni ${v.avx512Vnni ? "yes" : "no"}.`;
}

/**
 * Issue 14's ratios, one line per quantized row: the same system's float32 (ours: the same wasm build), ONNX Runtime
 * Web and onnxruntime-node (one thread) over this row's time, all from the same run; null when no workload has one.
 */
function renderQuantizedSummary(results: WorkloadResult[]): string | null {
  const lines = [
    "| workload | Node | quantized system | time | speed vs its float32 | speed vs ONNX Runtime Web | speed vs ONNX Runtime native | error vs float32 |",
    "|---|---|---|---:|---:|---:|---:|---:|",
    ...quantizedRows(results, (r) => r.machine.node.replace(/^v/, "")),
  ];
  const machine = results.find((r) => r.rows.some((x) => x.quantized && x.status === "timed"))?.machine;
  if (!machine) return null;
  const nodes = new Set(results.filter((r) => r.rows.some((x) => x.quantized && x.status === "timed")).map((r) => r.machine.node));
  const note = "Quantized weights ([issue 14](quantization.md)), from the same run as the tables below: \"its float32\" is the same " +
    "system's float32 row (ours: the same wasm build), \"error\" the largest difference from our float32 reference over " +
    "the checked values. The form names how int8 runs: q16 (int8 values in int16 lanes, `i32x4.dot_i16x8_s`) or q8 " +
    "(int8 x 7-bit activations, the relaxed SIMD dot-add, which `quantize()` picks only where the engine computes it " +
    "correctly and faster: not on Node 20, whose V8 miscomputes it before tier-up).";
  const passes = nodes.size > 1
    ? `The Node ${[...nodes].map((n) => n.replace(/^v/, "")).join(" and Node ")} rows come from two processes of the same run (the second ` +
      "a pass of `bench/workloads.bench.ts` on Node 24, with its own float32 and ONNX Runtime rows for the ratios)."
    : "";
  return [note, "", ...lines, "", [vnniLine(machine), passes].filter(Boolean).join(" ")].join("\n");
}

/** One line per timed quantized row of `results`: its ratios (see renderQuantizedSummary); `where` fills the second column. */
function quantizedRows(results: WorkloadResult[], where: (r: WorkloadResult) => string): string[] {
  const lines: string[] = [];
  for (const r of results) {
    const unit = r.unit === "µs/step" ? "µs" : "ms";
    for (const x of r.rows.filter((row) => row.quantized && row.status === "timed")) {
      lines.push(`| ${r.id} | ${where(r)} | ${x.label} | ${sig(x.value!)} ${unit} | ${times(x.vsFloat32) || "—"} | ` +
        `${times(x.vsOrtWeb) || "—"} | ${times(x.vsOrtNative) || "—"} | ${x.errorVsFloat === undefined ? "—" : x.errorVsFloat.toExponential(1)} |`);
    }
  }
  return lines;
}

/** The rows of a pass that were not timed, as one sentence each (the peer and why), for the line under its table. */
function untimed(results: WorkloadResult[]): string[] {
  return results.flatMap((r) => r.rows.filter((x) => x.status !== "timed").map((x) => `${r.id}, ${x.label}: ${sentence(x.reason ?? x.status)}`));
}

/** The Node 24 pass with V8's --no-enable-avx-vnni: issue 14's "CPUs without AVX-VNNI" rows, emulated on this CPU. */
function renderWithoutVnni(pass: NonNullable<WorkloadsSummary["node24WithoutVnni"]>): string {
  const results = WORKLOAD_ORDER.map((id) => pass.workloads[id]).filter((r): r is WorkloadResult => !!r);
  const flags = pass.v8Flags.map((f) => `\`${f}\``).join(" ");
  const { nsPerDotWithVnni: on, nsPerDotWithout: off } = pass.probe;
  const m = results[0]?.machine;
  return [
    `**CPUs without AVX-VNNI, emulated by V8's flag on this CPU.** The same pass on Node ${pass.node.replace(/^v/, "")} again, ` +
      `started with ${flags}, which makes V8 compile the relaxed dot-add without the AVX-VNNI instruction, into the ` +
      "multiply-add sequence it emits for CPUs that lack it. It is the same CPU with the instruction turned off in the " +
      "compiler, not another CPU: everything else (the rest of the code, the caches, the clock) is this machine's, and a CPU that " +
      `lacks AVX-VNNI differs in more than that instruction. The flag changes the code: a loop of relaxed dot-adds ` +
      `shaped like the q8 kernel's ([\`bench/vnni-probe.ts\`](../bench/vnni-probe.ts)) took ${on.toFixed(3)} ns per dot-add ` +
      `with AVX-VNNI and ${off.toFixed(3)} ns with the flag (${(off / on).toFixed(2)}x), its sums exact on both. ` +
      "The float32 rows do not use the dot-add; their ratios are against this pass's own float32 and ONNX Runtime rows.",
    "",
    "| workload | Node | quantized system, VNNI instruction off | time | speed vs its float32 | speed vs ONNX Runtime Web | speed vs ONNX Runtime native | error vs float32 |",
    "|---|---|---|---:|---:|---:|---:|---:|",
    ...quantizedRows(results, () => `${pass.node.replace(/^v/, "")}, ${flags}`),
    "",
    [...untimed(results), m ? `Measured ${results[0].date.slice(0, 10)}` +
      (m.loadAverage1m ? `, 1-minute load average ${m.loadAverage1m[0]} before, ${m.loadAverage1m[1]} after` : "") + "." : ""].filter(Boolean).join("  \n"),
  ].join("\n");
}

/** W-seq and W-gru inside workerd: every row (ours float32 and int8, onnxruntime-node in Node), timed from Node. */
function renderWorkerd(pass: NonNullable<WorkloadsSummary["workerd"]>): string {
  const results = WORKLOAD_ORDER.map((id) => pass.workloads[id]).filter((r): r is WorkloadResult => !!r);
  const notes = new Notes();
  const lines = [
    `**In workerd** (the \`workerd\` package ${pass.workerd}, the Cloudflare Workers runtime, run locally by Miniflare): W-seq ` +
      "and W-gru by the package's workerd entry inside a Worker ([`bench/workerd/bench-worker.js`](../bench/workerd/bench-worker.js)), " +
      "each output checked as the Node rows' are before timing. A deployed Worker's clock does not move while a request computes " +
      "(a Spectre mitigation) and Miniflare's counts whole milliseconds, so Node times it: one request runs N forwards (after a warm-up request), and its round trip " +
      "less an empty request's, over N, is one sample. `quantize()` picked " +
      `${pass.forms.relaxed} on the relaxed build and ${pass.forms.simd} on the SIMD build there` +
      (pass.forms.relaxed !== "q8" ? "; the q8 row asks for the relaxed dot-add by name" : " (a clock that cannot time the two forms gives q8: docs/quantization.md)") +
      ". ONNX Runtime native runs in the Node process that drives the pass, for the ratio.",
    "",
    "| workload | system | ms / sequence | ± | speed vs its float32 | speed vs ONNX Runtime native | error vs float32 | check: max abs diff |",
    "|---|---|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of results) {
    for (const x of r.rows) {
      if (x.status !== "timed") {
        lines.push(`| ${r.id} | ${x.label} | — ${notes.ref(x.reason ?? x.status)} | | | | | ${x.status === "failed" ? `fails: ${x.maxAbsDiff!.toExponential(1)}` : "—"} |`);
        continue;
      }
      const check = x.maxAbsDiff!.toExponential(1) + (x.checkedAgainst && x.checkedAgainst !== "reference" ? ` ${notes.ref(`checked against our ${x.checkedAgainst}`)}` : "");
      lines.push(`| ${r.id} | ${x.label} | ${sig(x.value!)} | ${x.rmePercent === undefined ? "n/a" : `${x.rmePercent.toFixed(1)}%`} | ` +
        `${times(x.vsFloat32) || "—"} | ${times(x.vsOrtNative) || "—"} | ${x.errorVsFloat === undefined ? "—" : x.errorVsFloat.toExponential(1)} | ${check} |`);
    }
  }
  const m = results[0]?.machine;
  lines.push("", [...notes.lines(), m ? `Measured ${results[0].date.slice(0, 10)}, driven from Node ${m.node.replace(/^v/, "")}` +
    (m.loadAverage1m ? `, 1-minute load average ${m.loadAverage1m[0]} before, ${m.loadAverage1m[1]} after` : "") + "." : ""].filter(Boolean).join("  \n"));
  return lines.join("\n");
}

/** Cold start: a fresh process per system, from import to the first W-seq output. */
export function renderColdStart(s: ColdStartSummary): string {
  const notes = new Notes();
  const lines = [
    s.description,
    "",
    "| system | import, ms | import to first output, ms | process spawn to first output, ms | check: max abs diff |",
    "|---|---:|---:|---:|---:|",
  ];
  for (const r of s.rows) {
    if (r.status !== "timed") {
      lines.push(`| ${r.label} | — ${notes.ref(r.reason ?? r.status)} | | | — |`);
      continue;
    }
    const check = r.speedOnly ? `speed only ${notes.ref(r.reason!)}` : r.maxAbsDiff!.toExponential(1);
    lines.push(`| ${r.label} | ${sig(r.importMs!)} | ${sig(r.fromImportMs!)} | ${sig(r.fromProcessStartMs!)} | ${check} |`);
  }
  const m = s.machine;
  lines.push("", [...notes.lines(), `Medians of ${s.rows.find((r) => r.status === "timed")?.runs ?? 0} runs per system, measured ${s.date.slice(0, 10)} ` +
    `on the same machine (Node ${m.node}` + (m.loadAverage1m ? `, 1-minute load average ${m.loadAverage1m[0]} before, ${m.loadAverage1m[1]} after` : "") +
    `). Regenerate with \`npx tsx bench/cold-start.ts\` (part of \`${s.command}\`); results in \`bench/results/workloads.cold-start.json\`.`].join("  \n"));
  return lines.join("\n");
}

/** The Markdown that goes between a suite's markers. */
export function renderSuite(s: AnySummary): string {
  if (s.suite === "workloads") return renderWorkloads(s as WorkloadsSummary);
  if (s.suite === "cold-start") return renderColdStart(s as ColdStartSummary);
  return s.suite === "train-step" ? renderTrainStepTable(s as TrainStepSummary) : renderTable(s as BenchSummary);
}

/**
 * Rewrites the table of `summary`'s suite (default: the saved lstm-seq summary) in docs/benchmarks.md; returns the
 * page's path, or null when the page lacks that suite's markers.
 */
export function updateBenchmarkTables(summary?: AnySummary, docPath = BENCHMARKS_DOC): string | null {
  const s = summary ?? (JSON.parse(readFileSync(summaryPath("lstm-seq"), "utf8")) as BenchSummary);
  if (!existsSync(docPath)) return null;
  const [START, END] = markers(s.suite);
  const text = readFileSync(docPath, "utf8");
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) return null;
  writeFileSync(docPath, text.slice(0, start + START.length) + "\n" + renderSuite(s) + "\n" + text.slice(end));
  return docPath;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const suite of SUITES) {
    if (!existsSync(summaryPath(suite))) {
      console.log(`${summaryPath(suite)} does not exist (run \`npm run bench\`); skipped`);
      continue;
    }
    const path = updateBenchmarkTables(JSON.parse(readFileSync(summaryPath(suite), "utf8")) as AnySummary);
    if (!path) {
      console.error(`docs/benchmarks.md has no ${markers(suite).join(" ... ")} markers`);
      process.exitCode = 1;
    } else console.log(`Updated the ${suite} table in ${path}`);
  }
}
