// cli/src/bench.ts: `rnn-wasm bench`: the benchmark suite, or with --quick a few-second subset.
//   rnn-wasm bench            runs `npm run bench` at the repository's root (bench/*.ts under tsx: minutes; needs a clone
//                             of the repository, since an installed package ships neither bench/ nor tsx)
//   rnn-wasm bench --quick    the five workloads on rnn-wasm's wasm builds (src/cli/quick-bench.ts): seconds
// --json prints a JSON object on stdout instead of text (with the full suite, the suite's own output goes to stderr
// and the JSON holds the summaries it wrote to bench/results/).
import { spawnSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { Option, type Command } from "commander";
import { BUILDS, supportsBuild, type Build } from "rnn-wasm";
import { CliError, UsageError, jsonText, packageRoot, type CliIo } from "./common.js";
import { MAX_TIMED_RUNS, positiveIntUpTo } from "./option-values.js";
import { CHECK_TOLERANCE, DEFAULT_SAMPLES, QUICK_WORKLOADS, quickBench, type QuickResult } from "./quick-bench.js";

interface BenchOptions {
  quick?: boolean;
  json?: boolean;
  build?: Build;
  runs?: number;
}

const EXAMPLES = `
Without --quick this runs 'npm run bench' in the rnn-wasm repository: the inference and training suites on
every build and the reference, then the comparison with TensorFlow.js, ONNX Runtime, brain.js and PyTorch
(several minutes). It needs the repository's bench/ sources and its development dependencies (tsx, the
peers), which an installed package does not include; --quick needs neither.

--quick times the suite's five workloads (W-stream, W-seq, W-batch, W-gru, W-train) on rnn-wasm alone, each
checked first against the reference backend, on each wasm build this engine runs except the scalar one
(or the one --build names), and prints the median time and GFLOP/s.

Examples:
  $ rnn-wasm bench --quick
  $ rnn-wasm bench --quick --build simd --json`;

export function registerBench(program: Command, io: CliIo): void {
  program
    .command("bench")
    .summary("run the benchmark suite, or a few-second subset with --quick")
    .description("Run rnn-wasm's benchmark suite (npm run bench, in a clone of the repository), or with --quick its five\n" +
      "workloads on rnn-wasm alone, in a few seconds.")
    .option("--quick", "the five workloads on rnn-wasm's wasm builds only, a few samples each (seconds, no peers)")
    .option("--json", "print a JSON object instead of text")
    .addOption(new Option("--build <build>", "--quick: time this wasm build only (default: relaxed and simd, where the engine runs them)").choices([...BUILDS]))
    .option("--runs <n>", `--quick: samples per workload (default ${DEFAULT_SAMPLES}, at most ${MAX_TIMED_RUNS})`, positiveIntUpTo(MAX_TIMED_RUNS))
    .addHelpText("after", EXAMPLES)
    .action(async (options: BenchOptions) => {
      if (options.quick) await runQuick(options, io);
      else runFullSuite(options, io);
    });
}

const machine = () => ({
  node: process.version,
  cpu: cpus()[0]?.model?.trim() ?? "unknown",
  logicalCpus: cpus().length,
  platform: process.platform,
  arch: process.arch,
  loadAverage1m: loadavg()[0],
});

const RELAXED_ADVICE = "this engine does not validate relaxed SIMD (Node >= 22 does; on Node 20 run `node --experimental-wasm-relaxed-simd dist/cli.js bench --quick`)";

async function runQuick(o: BenchOptions, io: CliIo): Promise<void> {
  const samples = o.runs ?? DEFAULT_SAMPLES;
  const builds: Build[] = [];
  const skipped: { build: Build; reason: string }[] = [];
  for (const build of o.build ? [o.build] : (["relaxed", "simd"] as Build[])) {
    if (await supportsBuild(build)) builds.push(build);
    else skipped.push({ build, reason: build === "relaxed" ? RELAXED_ADVICE : `this engine does not validate the ${build} build` });
  }
  if (builds.length === 0) throw new CliError(`cannot run --build ${o.build}: ${skipped[0].reason}`);

  const print = (line: string) => { if (!o.json) io.stdout.write(line + "\n"); };
  const m = machine();
  print(`rnn-wasm bench --quick: the benchmark suite's five workloads on rnn-wasm alone (median of ${samples} samples each)`);
  print(`Node ${m.node} on ${m.cpu} (${m.logicalCpus} logical CPUs, ${m.platform} ${m.arch}, load ${m.loadAverage1m.toFixed(2)}); one thread.`);
  for (const s of skipped) print(`  ${s.build}: skipped: ${s.reason}`);
  print("");
  const widths = { id: 9, what: Math.max(...QUICK_WORKLOADS.map((w) => w.description.length)), build: 8, time: 18, gflops: 8 };
  print(`${"workload".padEnd(widths.id)} ${"what".padEnd(widths.what)} ${"build".padEnd(widths.build)} ${"median".padStart(widths.time)} ${"GFLOP/s".padStart(widths.gflops)}  vs reference`);
  const results: QuickResult[] = [];
  for (const build of builds) {
    results.push(...await quickBench(build, samples, (r) => {
      const time = `${r.time.toFixed(r.time < 10 ? 3 : 2)} ${r.unit}`;
      const check = `${r.maxAbsDiff.toExponential(1)}${r.maxAbsDiff <= CHECK_TOLERANCE ? "" : "  DISAGREES"}`;
      print(`${r.workload.padEnd(widths.id)} ${r.description.padEnd(widths.what)} ${r.build.padEnd(widths.build)} ${time.padStart(widths.time)} ${r.gflops.toFixed(2).padStart(widths.gflops)}  ${check}`);
    }));
  }
  print("");
  print(`"vs reference" is the largest |wasm - reference backend| over each workload's first steps (must be <= ${CHECK_TOLERANCE.toExponential(0)});`);
  print("the full suite, with TensorFlow.js, ONNX Runtime, brain.js and PyTorch: `npm run bench` in a clone of the repository.");
  if (o.json) {
    const report = { suite: "quick", date: new Date().toISOString(), machine: m, samples, checkTolerance: CHECK_TOLERANCE, builds, skipped, results };
    io.stdout.write(jsonText(report) + "\n");
  }
  // Not NaN-safe with `>`: a NaN difference must fail too.
  const failed = results.filter((r) => !(r.maxAbsDiff <= CHECK_TOLERANCE));
  if (failed.length) {
    throw new CliError(`${failed.map((r) => `${r.workload} on ${r.build}`).join(", ")}: wasm differs from the reference backend by more than ${CHECK_TOLERANCE.toExponential(0)}`);
  }
}

/** What `npm run bench` needs that only a clone of the repository has; null when everything is there. */
export function missingForFullSuite(root: string): string | null {
  let script: string | undefined;
  try {
    script = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts?.bench;
  } catch {
    script = undefined;
  }
  const files = script ? [...script.matchAll(/bench\/[\w./-]+\.ts/g)].map((m) => m[0]) : [];
  const absent = files.filter((f) => !existsSync(join(root, f)));
  if (!script || files.length === 0 || absent.length) {
    const what = !script ? "package.json has no 'bench' script" : `${(absent.length ? absent : ["bench/*.ts"]).join(", ")} ${absent.length === 1 ? "is" : "are"} missing`;
    return `the benchmark suite's sources are not here (${what} in ${root}): an installed package does not ship bench/`;
  }
  if (!existsSync(join(root, "node_modules", ".bin", "tsx"))) {
    return `tsx is not installed in ${root}: the suite runs bench/*.ts with tsx, a development dependency (npm install in the repository installs it)`;
  }
  return null;
}

/** Runs `npm run bench`, which writes to this process's own stdout and stderr (a terminal, if it is one), not io's. */
function runFullSuite(o: BenchOptions, io: CliIo): void {
  if (o.build || o.runs) throw new UsageError(`${o.build ? "--build" : "--runs"} applies to --quick; the full suite's scripts take their own options (e.g. npx tsx bench/workloads.bench.ts --help)`);
  // In a clone of the repository the CLI package is its cli/ folder, and the suite belongs to the repository's root;
  // an installed CLI's parent is a node_modules folder, which has neither the suite nor its script.
  const root = dirname(packageRoot());
  const missing = missingForFullSuite(root);
  if (missing) {
    throw new CliError(`${missing}. Run 'rnn-wasm bench --quick' for the five workloads on rnn-wasm alone (a few seconds), ` +
      "or, for the whole suite with the other libraries, clone the rnn-wasm repository, run 'npm install' there, then 'npm run bench'.");
  }
  const started = Date.now();
  // With --json, stdout carries the JSON alone, so the suite's progress goes to stderr.
  const r = spawnSync("npm", ["run", "bench"], { cwd: root, stdio: ["inherit", o.json ? 2 : "inherit", "inherit"] });
  if (r.error) {
    const err = r.error as NodeJS.ErrnoException;
    throw new CliError(err.code === "ENOENT" ? "cannot run 'npm run bench': npm is not on the PATH" : `cannot run 'npm run bench': ${err.message}`);
  }
  if (r.status !== 0) throw new CliError(`'npm run bench' in ${root} failed (exit ${r.status ?? r.signal}); its output is above`);
  if (o.json) io.stdout.write(jsonText({ suite: "full", command: "npm run bench", root, summaries: summariesSince(join(root, "bench", "results"), started) }) + "\n");
}

/** The summaries the suite wrote to `dir` since `since` (ms): JSON files whose top-level object names its suite. */
function summariesSince(dir: string, since: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith(".json")).sort() : []) {
    const path = join(dir, f);
    if (statSync(path).mtimeMs < since) continue;
    try {
      const json = JSON.parse(readFileSync(path, "utf8"));
      if (typeof json?.suite === "string") out[f] = json;
    } catch {
      // a benny sample file being rewritten, or not JSON: not a summary
    }
  }
  return out;
}
