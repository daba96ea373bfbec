// bench/workloads.bench.ts: rnn-wasm compared with the libraries a user would otherwise pick (issue 4), on the
// workloads of bench/peers/workloads.ts, all in this run: rnn-wasm (wasm SIMD, wasm relaxed SIMD, the TypeScript
// reference), TensorFlow.js (cpu and wasm backends), ONNX Runtime (onnxruntime-web's wasm backend in Node, and
// onnxruntime-node, native), brain.js where it can express a workload, and PyTorch (a subprocess, when Debian's
// python3-torch is installed). One thread everywhere.
//
//   npx tsx bench/workloads.bench.ts                     every workload (part of `npm run bench`)
//   npx tsx bench/workloads.bench.ts --only W-seq        one workload (or a comma-separated list)
//   options: --peers <ids> (a partial run: results to the temporary directory)  --max-time <s>  --no-pytorch
//            --no-docs  --out <folder> (results, chart and a copy of docs/benchmarks.md there: a trial run)
//            (--help lists them)
//   npx tsx bench/workloads.bench.ts --only W-stream,W-seq,W-gru,W-batch --max-time 0.3 --out /tmp/smoke   a quick trial
//
// On Node 20 a second pass follows on Node 24 (scripts/node24.mjs's binary; --no-node24 skips it), where the relaxed
// build runs int8 on the relaxed dot-add (issue 14's Node 24 targets): the inference workloads on our float32 and
// int8 rows and ONNX Runtime, in a child process of its own, saved under "node24" in the summary and rendered in the
// quantized table only. Two more passes follow, for issue 14's targets this machine cannot otherwise show:
//   - CPUs without AVX-VNNI (--no-without-vnni skips it): on a CPU with AVX-VNNI, the Node 24 pass again with V8's
//     --no-enable-avx-vnni, which compiles the relaxed dot-add without the VNNI instruction (the same CPU with the
//     instruction turned off in the compiler, not another CPU). bench/vnni-probe.ts first times a relaxed dot-add loop
//     on Node 24 with and without the flag, to show that the flag changes the code. Saved under "node24WithoutVnni".
//   - workerd (--no-workerd skips it): W-seq and W-gru inside workerd (bench/peers/workerd.ts: float32 and int8 on
//     both builds, each output checked like the Node rows', timed from Node by round trips), with onnxruntime-node in
//     this process for the native ratio. Saved under "workerd".
//
// For each workload every peer gets the same weights (bench/models/<model>.safetensors, or the .onnx exported from
// the same module) and the same input. Before timing, each peer's result is compared with our reference (see
// CheckValues in bench/peers/workloads.ts); a peer that differs by more than 1e-4 is reported as failing the check
// and not timed. Peers that cannot express a workload get "—" and the reason. Timing is benny's (benchmark.js):
// median per call and the relative margin of error; PyTorch times itself the same way (bench/peers/pytorch_bench.py);
// a call slower than 1 s is timed one call at a time (at most three, within 12 s; a call over 12 s is timed once),
// so that the whole bench stays within minutes.
// Writes
//   bench/results/workloads.<id>.json   benny's result per workload (every sample)
//   bench/results/workloads.json        the summary: per workload and peer, median, spread, GFLOP/s, ratios, check
//   bench/results/workloads.svg         the chart (bench/chart.ts)
// and rewrites the tables in docs/benchmarks.md between <!-- bench:workloads:start --> and <!-- bench:workloads:end -->.
import v8 from "node:v8";
// Node 20 validates relaxed SIMD only behind this flag; it must be set before any wasm is compiled (importing the
// library compiles nothing). The relaxed rows are labelled with it.
v8.setFlagsFromString("--experimental-wasm-relaxed-simd");

import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Command, InvalidArgumentError } from "commander";
import { add, complete, configure, cycle, save, suite } from "benny";
import { maxAbsDiff } from "../src/compare.js";
import { cpuVnni, loadNow, machineInfo, NODE_MAJOR } from "./machine.js";
import { writeChart } from "./chart.js";
import { BENCHMARKS_DOC, updateBenchmarkTables, type WorkloadResult, type WorkloadRow, type WorkloadsSummary } from "./render-tables.js";
import { brainPeer } from "./peers/brain.js";
import { ortPeer } from "./peers/ort.js";
import { pytorchMissing, runPytorch, type PytorchRun } from "./peers/pytorch.js";
import { ourBuildAvailable, quantForm, quantizedPeer, RELAXED_DOT_SOUND, rnnWasmPeer } from "./peers/rnn-wasm.js";
import { tfjsPeer } from "./peers/tfjs.js";
import { startWorkerd, WORKERD_WORKLOADS, workerdPeers } from "./peers/workerd.js";
import type { VnniProbeResult } from "./vnni-probe.js";
import {
  QUANT_TOLERANCE, STREAM_CHECK_STEPS, TOLERANCE, TORCH_QUANT_TOLERANCE, WORKLOAD_IDS, WORKLOADS, loadWorkloadData, sampleStats,
  type CheckValues, type OwnTiming, type Peer, type Runner, type Workload, type WorkloadData, type WorkloadId,
} from "./peers/workloads.js";

const RESULTS = fileURLToPath(new URL("./results/", import.meta.url));
/** A call slower than this is timed by timeSlowCase instead of benny. */
const SLOW_CALL_MS = 1_000;
/** What timeSlowCase may spend on one case. */
const SLOW_BUDGET_MS = 12_000;

interface Options {
  only: WorkloadId[];
  peers: string[] | null;
  maxTime: number;
  pytorch: boolean;
  docs: boolean;
  out: string | null;
  node24: boolean;
  withoutVnni: boolean;
  workerd: boolean;
}

function parseOptions(argv: string[]): Options {
  const list = (v: string) => v.split(",").map((s) => s.trim()).filter(Boolean);
  const program = new Command()
    .name("workloads.bench.ts")
    .description("rnn-wasm against TensorFlow.js, ONNX Runtime, brain.js and PyTorch on the issue-4 workloads")
    .option("--only <ids>", `workloads to run, comma-separated (${WORKLOAD_IDS.join(", ")})`, (v) => {
      const ids = list(v);
      for (const id of ids) if (!(WORKLOAD_IDS as readonly string[]).includes(id)) throw new InvalidArgumentError(`unknown workload '${id}'`);
      return ids as WorkloadId[];
    })
    .option("--peers <ids>", "peers to run, comma-separated ids (see the results JSON; 'pytorch' for PyTorch); the reference " +
      "always runs; results go to the temporary directory", list)
    .option("--max-time <seconds>", "benny's maxTime per case", (v) => {
      const s = Number(v);
      if (!(s > 0)) throw new InvalidArgumentError("expected a positive number of seconds");
      return s;
    }, 2)
    .option("--no-pytorch", "skip the PyTorch subprocess")
    .option("--no-docs", "do not rewrite the tables in docs/benchmarks.md or the chart")
    .option("--out <folder>", "a trial run: the results, the chart and a copy of docs/benchmarks.md with the tables go to " +
      "this folder; bench/results/ and docs/ are left as they are")
    .option("--no-node24", "on Node 20, skip the second pass of the quantized rows on Node 24")
    .option("--no-without-vnni", "skip the pass on Node 24 with V8's --no-enable-avx-vnni (CPUs without AVX-VNNI, emulated)")
    .option("--no-workerd", "skip the pass of W-seq and W-gru inside workerd")
    .parse(argv);
  const o = program.opts<{
    only?: WorkloadId[]; peers?: string[]; maxTime: number; pytorch: boolean; docs: boolean; out?: string; node24: boolean;
    withoutVnni: boolean; workerd: boolean;
  }>();
  return {
    only: o.only ?? [...WORKLOAD_IDS], peers: o.peers ?? null, maxTime: o.maxTime, pytorch: o.pytorch, docs: o.docs,
    out: o.out ?? null, node24: o.node24, withoutVnni: o.withoutVnni, workerd: o.workerd,
  };
}

/** Every JavaScript-side peer, in the order the tables list them. */
async function allPeers(): Promise<Peer[]> {
  const peers: Peer[] = [];
  for (const build of ["simd", "relaxed"] as const) {
    if (await ourBuildAvailable(build)) peers.push(rnnWasmPeer(build));
    else console.log(`rnn-wasm ${build}: skipped, this engine does not validate the ${build} build`);
  }
  peers.push(rnnWasmPeer("simd", { resetBefore: true }), rnnWasmPeer("reference"));
  // Quantized (issue 14): int8 on each build, in the form quantize() picks there; int12 on the SIMD build. quantize()
  // picks the relaxed dot-add (q8) by timing both forms at first use, which a busy machine can tip to q16: where the
  // engine computes q8 correctly, a q8 row is then named as well, so the relaxed dot-add is always measured.
  for (const [build, dtype] of [["simd", "int8"], ["relaxed", "int8"], ["simd", "int12"]] as const) {
    if (!(await ourBuildAvailable(build))) continue;
    const form = await quantForm(build, dtype);
    peers.push(quantizedPeer(build, dtype, form));
    if (build === "relaxed" && form !== "q8" && RELAXED_DOT_SOUND) peers.push(quantizedPeer(build, dtype, "q8", { named: true }));
  }
  peers.push(tfjsPeer("cpu"), tfjsPeer("wasm"), ortPeer("web"), brainPeer(), ortPeer("node"));
  return peers;
}

/** maxAbsDiff, with a missing side counted as a mismatch. */
function diffOf(a: Float32Array | undefined, b: Float32Array | undefined): number {
  return a && b ? maxAbsDiff(a, b) : NaN;
}

/** Largest difference between what a peer gave and the reference, over what both give (NaN when nothing matches). */
function compare(got: CheckValues, want: CheckValues): number {
  const diffs: number[] = [];
  if (got.output) diffs.push(diffOf(got.output, want.output));
  if (got.h) diffs.push(diffOf(got.h, want.h));
  if (got.c) diffs.push(diffOf(got.c, want.c));
  if (got.losses) diffs.push(...got.losses.map((l, k) => Math.abs(l - want.losses![k])));
  if (got.headWeight) diffs.push(diffOf(got.headWeight, want.headWeight));
  if (got.lstmWeights) diffs.push(diffOf(got.lstmWeights, want.lstmWeights));
  return diffs.length ? Math.max(...diffs.map((d) => (Number.isNaN(d) ? Infinity : d))) : NaN;
}

/** Calls the check makes, to estimate one call's time from it. */
const callsInCheck = (w: Workload) => (w.id === "W-stream" ? STREAM_CHECK_STEPS : w.id === "W-train" ? 2 : 1);

/** benny's options for a case whose one call takes `ms`: fewer samples for slower ones, so the suite stays short. */
function caseOptions(ms: number, maxTime: number) {
  return ms > 50 ? { minSamples: 5, maxTime } : { minSamples: 10, maxTime };
}

/**
 * A call slower than SLOW_CALL_MS is timed here rather than by benny (whose calibration and preparation would run
 * it several more times): up to three more calls within SLOW_BUDGET_MS, median and benchmark.js' relative margin of
 * error; when not even one more call fits, the check's own call is the one sample.
 */
async function timeSlowCase(runner: Runner, checkCallMs: number): Promise<OwnTiming> {
  const n = Math.min(3, Math.floor(SLOW_BUDGET_MS / checkCallMs));
  if (n === 0) {
    return { medianMs: checkCallMs, meanMs: checkCallMs, samples: 1, sampleMs: [checkCallMs],
      timing: `timed once, on the check's call: a call takes over ${SLOW_BUDGET_MS / 1000} s` };
  }
  const ms: number[] = [];
  for (let k = 0; k < n; k++) {
    const t0 = performance.now();
    await runner.run();
    ms.push(performance.now() - t0);
  }
  return { ...sampleStats(ms),
    timing: `timed one call at a time (${n} call${n > 1 ? "s" : ""}) rather than by benny: a call takes over ${SLOW_CALL_MS / 1000} s` };
}

interface Timed {
  peer: Peer;
  runner: Runner;
  row: WorkloadRow;
  callMs: number;
}

/** Everything for one workload: the oracle, every peer's check, benny's timing, then ratios. */
async function measureWorkload(w: Workload, peers: Peer[], pytorch: PytorchRun | string | null, maxTime: number,
  out: { folder: string; prefix: string }): Promise<WorkloadResult> {
  const loadBefore = loadNow();
  const started = performance.now();
  const data: WorkloadData = loadWorkloadData(w);
  console.log(`\n=== ${w.id}: ${w.description}`);

  // The oracle: our TypeScript reference (and, for the GRU, its reset-before form for TensorFlow.js and brain.js).
  const oracle = async (resetBefore: boolean) => {
    const r = await rnnWasmPeer("reference", { resetBefore }).setup(data);
    try {
      return await r.check();
    } finally {
      r.dispose();
    }
  };
  const want = await oracle(false);
  const wantBefore = w.kind === "gru" ? await oracle(true) : null;

  const rows: WorkloadRow[] = [];
  const timed: Timed[] = [];
  for (const peer of peers) {
    const row: WorkloadRow = { peer: peer.id, label: peer.label, group: peer.group, status: "cannot" };
    const reason = peer.cannot(w);
    if (reason) {
      if (peer.id.endsWith("-reset-before")) continue; // a W-gru-only row: nothing to say elsewhere
      if (peer.quantized && w.id === "W-train") continue; // inference only: the training table has no quantized rows
      rows.push({ ...row, reason });
      continue;
    }
    let runner: Runner;
    try {
      runner = await peer.setup(data);
    } catch (e) {
      rows.push({ ...row, status: "error", reason: `setup failed: ${(e as Error).message.split("\n")[0]}` });
      console.log(`${peer.label}: setup failed: ${(e as Error).stack}`);
      continue;
    }
    const t0 = performance.now();
    let got: CheckValues;
    try {
      got = await runner.check();
    } catch (e) {
      runner.dispose();
      rows.push({ ...row, status: "error", reason: `failed to run: ${(e as Error).message.split("\n")[0]}` });
      console.log(`${peer.label}: failed to run: ${(e as Error).stack}`);
      continue;
    }
    const callMs = (performance.now() - t0) / callsInCheck(w);
    if (runner.checkNote) row.checkNote = runner.checkNote;
    const speedOnly = peer.speedOnly?.(w) ?? null;
    if (speedOnly) {
      row.speedOnly = true;
      row.reason = speedOnly;
      console.log(`${peer.label.padEnd(48)} speed only: ${speedOnly}`);
    } else if (runner.mirror) {
      row.quantized = { dtype: peer.quantized!.dtype, form: peer.quantized!.form };
      row.checkedAgainst = runner.mirror.name;
      row.maxAbsDiff = compare(got, runner.mirror.values);
      row.errorVsFloat = compare(got, want);
      console.log(`${peer.label.padEnd(48)} max |peer - ${row.checkedAgainst}| = ${row.maxAbsDiff.toExponential(2)}, ` +
        `max |peer - float32 reference| = ${row.errorVsFloat.toExponential(2)}`);
      if (!(row.maxAbsDiff <= QUANT_TOLERANCE)) {
        runner.dispose();
        rows.push({ ...row, status: "failed", reason: `differs from our ${row.checkedAgainst} by ${row.maxAbsDiff.toExponential(2)} (tolerance ${QUANT_TOLERANCE}): not timed` });
        continue;
      }
    } else {
      const before = w.kind === "gru" && runner.gruForm === "reset-before";
      row.checkedAgainst = before ? "reference GRU, reset-before" : "reference";
      row.maxAbsDiff = compare(got, before ? wantBefore! : want);
      console.log(`${peer.label.padEnd(48)} max |peer - ${row.checkedAgainst}| = ${row.maxAbsDiff.toExponential(2)}`);
      if (!(row.maxAbsDiff <= TOLERANCE)) {
        runner.dispose();
        rows.push({ ...row, status: "failed", reason: `differs from our reference by ${row.maxAbsDiff.toExponential(2)} (tolerance ${TOLERANCE}): not timed` });
        continue;
      }
    }
    row.status = "timed";
    rows.push(row);
    if (runner.time) {
      try {
        Object.assign(row, await runner.time(maxTime));
        console.log(`${peer.label.padEnd(48)} ${row.timing}: median ${row.medianMs!.toPrecision(3)} ms`);
      } catch (e) {
        Object.assign(row, { status: "error", reason: `failed while timed: ${(e as Error).message.split("\n")[0]}` });
        console.log(`${peer.label}: failed while timed: ${(e as Error).stack}`);
      } finally {
        runner.dispose();
      }
      continue;
    }
    if (callMs > SLOW_CALL_MS) {
      Object.assign(row, await timeSlowCase(runner, callMs));
      runner.dispose();
      console.log(`${peer.label.padEnd(48)} ${row.timing}: median ${row.medianMs!.toFixed(0)} ms`);
      continue;
    }
    timed.push({ peer, runner, row, callMs });
  }

  if (timed.length) {
    const summary = await suite(
      `${w.id}: ${w.description}`,
      configure({ cases: { minSamples: 10, maxTime } }),
      ...timed.map((t) => add(t.peer.label, () => t.runner.run(), caseOptions(t.callMs, maxTime))),
      cycle(),
      complete(),
      save({ file: `${out.prefix}.${w.id}`, folder: out.folder, details: true, format: "json" }),
    );
    for (const r of summary.results) {
      Object.assign(timed.find((t) => t.peer.label === r.name)!.row, {
        medianMs: r.details.median * 1000, // benchmark.js samples are seconds per call
        meanMs: r.details.mean * 1000,
        rmePercent: r.details.relativeMarginOfError,
        samples: r.samples,
        timing: "benny",
      });
    }
    for (const t of timed) t.runner.dispose();
  }

  // PyTorch: timed in its own process before this one started measuring; checked here like every peer.
  if (pytorch !== null) {
    const row: WorkloadRow = { peer: "pytorch", label: "PyTorch, one thread", group: "native", status: "skipped" };
    if (typeof pytorch === "string") rows.push({ ...row, reason: pytorch });
    else {
      const p = pytorch.results.get(w.id)!;
      row.label = `PyTorch ${pytorch.torch.split("+")[0]}, one thread (${pytorch.blas})`;
      row.checkedAgainst = "reference";
      row.maxAbsDiff = compare(p.check, want);
      console.log(`${row.label.padEnd(48)} max |peer - reference| = ${row.maxAbsDiff.toExponential(2)}`);
      if (!(row.maxAbsDiff <= TOLERANCE)) rows.push({ ...row, status: "failed", reason: `differs from our reference by ${row.maxAbsDiff.toExponential(2)}: not reported` });
      else rows.push({ ...row, status: "timed", ...p.timing, timing: "pytorch_bench.py (benchmark.js' method)" });
      if (p.quantized) rows.push(pytorchQuantizedRow(pytorch, w, want)); // inference workloads only
    }
  }
  console.log(`${w.id}: measured in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return finish(w, rows, loadBefore, peers);
}

/**
 * PyTorch's quantize_dynamic (qint8) row: checked against the float32 reference within TORCH_QUANT_TOLERANCE (its
 * error is quantization's, reported as the row's error), since there is no exact mirror of its integers here.
 */
function pytorchQuantizedRow(pytorch: PytorchRun, w: Workload, want: CheckValues): WorkloadRow {
  const p = pytorch.results.get(w.id)!.quantized!;
  const row: WorkloadRow = { peer: "pytorch-qint8", label: "", group: "native", status: "timed" };
  row.label = `PyTorch ${pytorch.torch.split("+")[0]} quantize_dynamic qint8 (${p.engine}), one thread`;
  row.quantized = { dtype: "qint8", engine: p.engine };
  row.checkedAgainst = "reference";
  row.checkNote = `checked against our float32 reference within ${TORCH_QUANT_TOLERANCE}, not 1e-4: the difference is quantization's (the error column)`;
  row.maxAbsDiff = row.errorVsFloat = compare(p.check, want);
  console.log(`${row.label.padEnd(48)} max |peer - float32 reference| = ${row.maxAbsDiff.toExponential(2)}`);
  if (!(row.maxAbsDiff <= TORCH_QUANT_TOLERANCE)) {
    return { ...row, status: "failed", reason: `differs from our float32 reference by ${row.maxAbsDiff.toExponential(2)} (tolerance ${TORCH_QUANT_TOLERANCE}): not reported` };
  }
  return { ...row, status: "timed", ...p.timing, timing: "pytorch_bench.py (benchmark.js' method)" };
}

/** The id of the float32 row a quantized row is compared with: the same build (ours), or PyTorch's float32. */
const floatPeerOf = (peers: Peer[], r: WorkloadRow) =>
  r.peer === "pytorch-qint8" ? "pytorch" : peers.find((p) => p.id === r.peer)?.quantized?.floatPeer;

/** Units, GFLOP/s and the ratios, once every row is in. */
function finish(w: Workload, rows: WorkloadRow[], loadBefore: number, peers: Peer[]): WorkloadResult {
  const timed = rows.filter((r) => r.status === "timed" && r.medianMs !== undefined);
  const fastestOf = (keep: (r: WorkloadRow) => boolean) =>
    timed.filter(keep).reduce<WorkloadRow | null>((best, r) => (!best || r.medianMs! < best.medianMs! ? r : best), null);
  const fastestJsWasm = fastestOf((r) => r.group === "js-wasm" && !r.speedOnly);
  const ortNative = fastestOf((r) => r.peer === "ort-node");
  const pytorch = fastestOf((r) => r.peer === "pytorch");
  const ortWeb = fastestOf((r) => r.peer === "ort-web");
  for (const r of timed) {
    const ms = r.medianMs!;
    r.value = w.unit === "µs/step" ? ms * 1000 : ms;
    r.gflops = w.flopPerCall / (ms / 1000) / 1e9;
    if (w.id === "W-batch") r.stepsTimesBatchPerSec = (w.T * w.B) / (ms / 1000);
    if (fastestJsWasm) r.vsFastestJsWasm = fastestJsWasm.medianMs! / ms;
    if (ortNative) r.vsOrtNative = ortNative.medianMs! / ms;
    if (pytorch) r.vsPytorch = pytorch.medianMs! / ms;
    if (ortWeb) r.vsOrtWeb = ortWeb.medianMs! / ms;
    const float = r.quantized ? timed.find((x) => x.peer === floatPeerOf(peers, r)) : undefined;
    if (float) {
      r.vsFloat32 = float.medianMs! / ms;
      r.vsFloat32Of = float.label;
    }
  }
  return {
    id: w.id,
    description: w.description,
    kind: w.kind,
    shape: { I: w.I, H: w.H, B: w.B, T: w.T },
    unit: w.unit,
    stepsPerCall: w.stepsPerCall,
    flopPerCall: w.flopPerCall,
    fastestJsWasm: fastestJsWasm?.label ?? null,
    date: new Date().toISOString(),
    machine: machineInfo(loadBefore),
    rows,
  };
}

/** The Node 24 pass: the inference workloads, our float32 and int8 rows on both builds, and ONNX Runtime. */
const NODE24_WORKLOADS: WorkloadId[] = ["W-stream", "W-seq", "W-batch", "W-gru"];
const NODE24_PEERS = ["rnn-wasm-simd", "rnn-wasm-relaxed", "rnn-wasm-simd-int8", "rnn-wasm-relaxed-int8", "rnn-wasm-relaxed-int8-q8", "ort-web", "ort-node"];

const ROOT = fileURLToPath(new URL("../", import.meta.url));
/** tsx's loader, given to Node with --import (tsx's CLI would start a second process without the parent's V8 flags). */
const TSX_LOADER = pathToFileURL(join(ROOT, "node_modules/tsx/dist/loader.mjs")).href;

/** scripts/node24.mjs's binary, or the reason there is none. */
function node24Binary(): { binary: string } | { reason: string } {
  const found = spawnSync(process.execPath, [join(ROOT, "scripts/node24.mjs")], { encoding: "utf8" });
  const binary = found.stdout.trim();
  return binary ? { binary } : { reason: `no Node 24 binary: ${found.stderr.trim() || `scripts/node24.mjs exited with ${found.status}`}` };
}

/**
 * Runs this bench again on Node 24 (scripts/node24.mjs's binary), with `v8Flags` before the script, for the workloads
 * of `only` that NODE24_WORKLOADS lists, in a child process writing to a temporary folder; returns its summary, or a
 * reason when there is none.
 */
function runNode24Pass(only: WorkloadId[], maxTime: number, v8Flags: string[] = []): NonNullable<WorkloadsSummary["node24"]> | string {
  const ids = only.filter((id) => NODE24_WORKLOADS.includes(id));
  if (!ids.length) return "no inference workload in this run";
  const found = node24Binary();
  if ("reason" in found) return found.reason;
  const folder = mkdtempSync(join(tmpdir(), "rnn-wasm-workloads-node24-"));
  try {
    console.log(`
=== Node 24 pass (${[found.binary, ...v8Flags].join(" ")}): ${ids.join(", ")}`);
    const r = spawnSync(found.binary, [...v8Flags, "--import", TSX_LOADER, fileURLToPath(import.meta.url), "--only", ids.join(","),
      "--peers", NODE24_PEERS.join(","), "--no-pytorch", "--no-docs", "--no-without-vnni", "--no-workerd", "--max-time", String(maxTime),
      "--out", folder], { stdio: "inherit", cwd: ROOT });
    if (r.status !== 0) return `the Node 24 pass exited with ${r.status ?? r.signal}`;
    const pass = JSON.parse(readFileSync(join(folder, "workloads.json"), "utf8")) as WorkloadsSummary;
    const node = Object.values(pass.workloads)[0]?.machine.node ?? "?";
    return { node, workloads: pass.workloads };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** V8's flag that keeps the VNNI instruction out of the code it compiles (V8 >= 12.x; Node 24 has it). */
const NO_VNNI = "--no-enable-avx-vnni";
/** The probe's slowdown under NO_VNNI below which the flag is taken as not changing the code (this CPU: about 1.9x). */
const PROBE_MIN_SLOWDOWN = 1.2;

/** bench/vnni-probe.ts in a Node 24 process with `v8Flags`. */
function probeRelaxedDot(binary: string, v8Flags: string[]): VnniProbeResult {
  const r = spawnSync(binary, [...v8Flags, "--import", TSX_LOADER, join(ROOT, "bench/vnni-probe.ts")], { encoding: "utf8", cwd: ROOT });
  if (r.status !== 0) throw new Error(`bench/vnni-probe.ts ${v8Flags.join(" ")} exited with ${r.status ?? r.signal}: ${r.stderr.trim().slice(0, 500)}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as VnniProbeResult;
}

/**
 * CPUs without AVX-VNNI, emulated: the Node 24 pass with NO_VNNI, on a CPU that has AVX-VNNI. Skipped, with the
 * reason, where the CPU has no AVX-VNNI (the Node 24 pass already is that case), the flag is unknown to the binary,
 * or the probe shows that the flag does not change the relaxed dot-add's speed (or either side computes it wrongly).
 */
function runWithoutVnniPass(only: WorkloadId[], maxTime: number): NonNullable<WorkloadsSummary["node24WithoutVnni"]> | string {
  if (!only.some((id) => NODE24_WORKLOADS.includes(id))) return "no inference workload in this run";
  const vnni = cpuVnni();
  if (vnni === null) return "this CPU's flags cannot be read (no /proc/cpuinfo), so whether it has AVX-VNNI is unknown";
  if (!vnni.avxVnni) return "this CPU has no AVX-VNNI: the Node 24 pass already measures the code a CPU without it runs";
  const found = node24Binary();
  if ("reason" in found) return found.reason;
  const options = spawnSync(found.binary, ["--v8-options"], { encoding: "utf8" }).stdout;
  if (!options.includes(NO_VNNI.replace("--no-", "--"))) return `this Node 24's V8 has no ${NO_VNNI} flag`;
  const withVnni = probeRelaxedDot(found.binary, []), without = probeRelaxedDot(found.binary, [NO_VNNI]);
  const slowdown = without.nsPerDot / withVnni.nsPerDot;
  console.log(`\nRelaxed dot-add probe on Node 24 (bench/vnni-probe.ts): ${withVnni.nsPerDot.toFixed(3)} ns per dot-add with AVX-VNNI, ` +
    `${without.nsPerDot.toFixed(3)} with ${NO_VNNI} (${slowdown.toFixed(2)}x); sums ${withVnni.correct && without.correct ? "exact" : "WRONG"}`);
  if (!withVnni.correct || !without.correct) return `the probe's relaxed dot-add sums are wrong ${withVnni.correct ? `with ${NO_VNNI}` : "with AVX-VNNI"}`;
  if (slowdown < PROBE_MIN_SLOWDOWN) {
    return `${NO_VNNI} slowed the probe's relaxed dot-add by ${slowdown.toFixed(2)}x only (under ${PROBE_MIN_SLOWDOWN}x): taken as not changing the code`;
  }
  const pass = runNode24Pass(only, maxTime, [NO_VNNI]);
  if (typeof pass === "string") return pass;
  if (!Object.values(pass.workloads).every((r) => r!.machine.flags.includes(NO_VNNI))) return `the pass's results do not record ${NO_VNNI} among its process's flags`;
  return { ...pass, v8Flags: [NO_VNNI], probe: { nsPerDotWithVnni: withVnni.nsPerDot, nsPerDotWithout: without.nsPerDot }, workloads: pass.workloads };
}

/**
 * W-seq and W-gru inside workerd (bench/peers/workerd.ts), with onnxruntime-node in this process for the native
 * ratio; benny's per-sample files (ONNX Runtime's) go to a temporary folder. Returns the results, or the reason.
 */
async function runWorkerdPass(only: WorkloadId[], maxTime: number): Promise<NonNullable<WorkloadsSummary["workerd"]> | string> {
  const ids = only.filter((id) => (WORKERD_WORKLOADS as readonly string[]).includes(id));
  if (!ids.length) return "neither W-seq nor W-gru is in this run";
  let host;
  try {
    host = await startWorkerd();
  } catch (e) {
    return `workerd did not start the bench Worker: ${(e as Error).message.split("\n")[0]}`;
  }
  const folder = mkdtempSync(join(tmpdir(), "rnn-wasm-workloads-workerd-"));
  try {
    console.log(`\n=== workerd pass (workerd ${host.workerd}; quantize()'s int8 form there: simd ${host.forms.simd}, relaxed ${host.forms.relaxed}): ${ids.join(", ")}`);
    const peers = [...workerdPeers(host), ortPeer("node")];
    const workloads: NonNullable<WorkloadsSummary["workerd"]>["workloads"] = {};
    for (const id of ids) workloads[id] = await measureWorkload(WORKLOADS[id], peers, null, maxTime, { folder, prefix: "workloads" });
    return { workerd: host.workerd, forms: host.forms, workloads };
  } finally {
    await host.dispose();
    rmSync(folder, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv);
  let peers = await allPeers();
  if (options.peers) {
    const keep = new Set(options.peers);
    peers = peers.filter((p) => keep.has(p.id) || p.id === "rnn-wasm-reference");
  }
  const runTorch = options.pytorch && (!options.peers || options.peers.includes("pytorch"));
  const workloads = options.only.map((id) => WORKLOADS[id]);

  // PyTorch first, in its own process, while this one is idle.
  let pytorch: PytorchRun | string | null = null;
  if (runTorch) {
    pytorch = pytorchMissing();
    if (pytorch === null) {
      console.log("PyTorch: running bench/peers/pytorch_bench.py ...");
      try {
        pytorch = runPytorch(workloads.map(loadWorkloadData), { minSamples: 10, maxTime: options.maxTime });
        console.log(`PyTorch ${pytorch.torch}, ${pytorch.threads} thread, BLAS ${pytorch.blas}: done`);
      } catch (e) {
        pytorch = `PyTorch failed: ${(e as Error).message.split("\n").slice(0, 3).join(" ")}`;
        console.log(pytorch);
      }
    } else console.log(`PyTorch skipped: ${pytorch}`);
  }

  // A run on some peers only is not the comparison: its results go to the temporary directory, not bench/results/.
  // --out: a trial run, all of whose files go to that folder.
  const out = options.out ? { folder: options.out, prefix: "workloads" }
    : options.peers ? { folder: tmpdir(), prefix: "rnn-wasm-workloads.partial" } : { folder: RESULTS, prefix: "workloads" };
  mkdirSync(out.folder, { recursive: true });
  const path = join(out.folder, `${out.prefix}.json`);
  const previous: WorkloadsSummary | null = !options.peers && !options.out && existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as WorkloadsSummary) : null;
  const summary: WorkloadsSummary = {
    suite: "workloads",
    command: "npm run bench",
    workloads: { ...(previous?.workloads ?? {}) },
  };
  for (const w of workloads) {
    summary.workloads[w.id] = await measureWorkload(w, peers, pytorch, options.maxTime, out);
    writeFileSync(path, JSON.stringify(summary, null, 2) + "\n"); // after each workload: a crash keeps the rest
  }
  // The Node 24 pass, when this is Node 20 and the run is the comparison or a trial (--out), not a partial run to tmp.
  if (options.node24 && NODE_MAJOR < 22 && (!options.peers || options.out)) {
    const pass = runNode24Pass(options.only, options.maxTime);
    if (typeof pass === "string") console.log(`Node 24 pass skipped: ${pass}`);
    else {
      summary.node24 = { node: pass.node, workloads: { ...(previous?.node24?.workloads ?? {}), ...pass.workloads } };
      writeFileSync(path, JSON.stringify(summary, null, 2) + "\n");
    }
  }
  // The same conditions for the two passes of issue 14's other targets (the child passes above are given --no-... for both).
  if (options.withoutVnni && (!options.peers || options.out)) {
    const pass = runWithoutVnniPass(options.only, options.maxTime);
    if (typeof pass === "string") console.log(`Node 24 pass without AVX-VNNI skipped: ${pass}`);
    else {
      summary.node24WithoutVnni = { ...pass, workloads: { ...(previous?.node24WithoutVnni?.workloads ?? {}), ...pass.workloads } };
      writeFileSync(path, JSON.stringify(summary, null, 2) + "\n");
    }
  }
  if (options.workerd && (!options.peers || options.out)) {
    const pass = await runWorkerdPass(options.only, options.maxTime);
    if (typeof pass === "string") console.log(`workerd pass skipped: ${pass}`);
    else {
      summary.workerd = { ...pass, workloads: { ...(previous?.workerd?.workloads ?? {}), ...pass.workloads } };
      writeFileSync(path, JSON.stringify(summary, null, 2) + "\n");
    }
  }
  console.log(`\nSaved to: ${path}`);
  if (options.out) {
    const page = join(options.out, "benchmarks.md");
    if (options.docs) {
      copyFileSync(BENCHMARKS_DOC, page);
      updateBenchmarkTables(summary, page);
      console.log(`--out: chart ${writeChart(summary, join(options.out, "workloads.svg"))}, tables in ${page}; bench/results/ and docs/ are left as they are`);
    }
  } else if (options.peers) console.log("--peers: a partial run, so bench/results/, the chart and docs/benchmarks.md are left as they are");
  else if (options.docs) {
    console.log(`Chart: ${writeChart()}`);
    const page = updateBenchmarkTables(summary);
    console.log(page ? `Updated the tables in ${page}` : "docs/benchmarks.md has no bench:workloads markers; tables not written");
  }
}

await main();
