// cli/test/bench.test.ts: `rnn-wasm bench` as a user runs it. `--quick` runs for real (a few seconds on one build);
// the full suite takes minutes, so only its refusal is tested, from a copy of the package laid out as npm installs
// it (dist/ and build/, no bench/ sources) and from one that has the sources but not tsx. The quick bench restates
// the suite's workloads (an installed package has no bench/), so they are compared with bench/peers/workloads.ts.
import { cpSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { WORKLOADS, WORKLOAD_IDS } from "../../bench/peers/workloads.js";
import { QUICK_WORKLOADS } from "../src/quick-bench.js";
import { cli, CLI_ROOT, describeRun, ROOT, requireBuild, run, tempDir, type Run } from "./helpers.js";

// Asked of a fresh Node, as the CLI will be: this worker may have had V8's relaxed-SIMD flag set by another test file.
const relaxedRuns = run(process.execPath, ["--input-type=module", "-e",
  `const { supportsBuild } = await import(${JSON.stringify(join(ROOT, "dist/src/index.js"))}); process.exit((await supportsBuild("relaxed")) ? 0 : 1)`]).code === 0;

beforeAll(() => requireBuild());

function expectFailure(r: Run, code: 1 | 2, message: RegExp): void {
  expect(r.code, describeRun(r)).toBe(code);
  expect(r.stderr, describeRun(r)).toMatch(/^rnn-wasm: /);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/internal error|    at /);
}

describe("bench --quick", () => {
  it("--json: the five workloads on the simd build, positive times, each checked against the reference", () => {
    const r = cli(["bench", "--quick", "--json", "--build", "simd", "--runs", "3"]);
    expect(r.code, describeRun(r)).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ suite: "quick", samples: 3, builds: ["simd"], skipped: [], checkTolerance: 1e-4 });
    expect(report.machine.node).toBe(process.version);
    expect(report.results.map((x: { workload: string }) => x.workload)).toEqual([...WORKLOAD_IDS]);
    for (const x of report.results) {
      expect(x.build).toBe("simd");
      expect(x.medianMs, x.workload).toBeGreaterThan(0);
      expect(x.time, x.workload).toBeCloseTo(x.unit === "µs/step" ? x.medianMs * 1000 : x.medianMs, 9);
      expect(x.gflops, x.workload).toBeCloseTo(x.flopPerCall / (x.medianMs / 1000) / 1e9, 6);
      expect(x.samples).toBe(3);
      expect(x.maxAbsDiff, x.workload).toBeLessThanOrEqual(1e-4);
      expect(x.maxAbsDiff, `${x.workload}: a zero difference would mean the check compared a backend with itself`).toBeGreaterThan(0);
    }
  });

  it("text: a table row per workload with its unit and GFLOP/s", () => {
    const r = cli(["bench", "--quick", "--build", "simd", "--runs", "1"]);
    expect(r.code, describeRun(r)).toBe(0);
    for (const w of QUICK_WORKLOADS) {
      expect(r.stdout).toMatch(new RegExp(`^${w.id} +${w.description.replace(/[+()]/g, "\\$&")} +simd +\\d+\\.\\d+ ${w.unit.replace("/", "\\/")} +\\d+\\.\\d\\d +\\d\\.\\de-\\d+$`, "m"));
    }
    expect(r.stdout).toMatch(/npm run bench/);
  });

  it("runs the benchmark suite's workloads, in its order, with the issue's shapes and FLOP counts", () => {
    expect(QUICK_WORKLOADS.map((w) => w.id)).toEqual([...WORKLOAD_IDS]);
    const shape = (id: string) => { const w = WORKLOADS[id as keyof typeof WORKLOADS]; return [w.kind, w.I, w.H, w.B, w.T, w.flopPerCall]; };
    for (const w of QUICK_WORKLOADS) expect([w.kind, w.I, w.H, w.B, w.T, w.flopPerCall], w.id).toEqual(shape(w.id));
    // issue 4's definitions: LSTM step 2·4H·(I+H)·B, GRU 2·3H·(I+H)·B; W-stream one step per call; W-train 3 forwards
    expect(shape("W-stream")).toEqual(["lstm", 64, 256, 1, 128, 2 * 4 * 256 * 320]);
    expect(shape("W-seq")).toEqual(["lstm", 64, 256, 1, 128, 2 * 4 * 256 * 320 * 128]);
    expect(shape("W-batch")).toEqual(["lstm", 128, 256, 64, 64, 2 * 4 * 256 * 384 * 64 * 64]);
    expect(shape("W-gru")).toEqual(["gru", 64, 256, 1, 128, 2 * 3 * 256 * 320 * 128]);
    expect(shape("W-train")).toEqual(["lstm", 32, 128, 32, 32, 3 * 2 * 4 * 128 * 160 * 32 * 32]);
  });

  it.skipIf(relaxedRuns)("--build relaxed where the engine cannot run it says how to (exit 1)", () => {
    expectFailure(cli(["bench", "--quick", "--build", "relaxed"]), 1, /cannot run --build relaxed: this engine does not validate relaxed SIMD .*--experimental-wasm-relaxed-simd/);
  });

  it("bad option values (exit 2)", () => {
    expectFailure(cli(["bench", "--quick", "--build", "avx"]), 2, /option '--build <build>' argument 'avx' is invalid. Allowed choices are relaxed, simd, scalar/);
    expectFailure(cli(["bench", "--quick", "--runs", "0"]), 2, /option '--runs <n>' argument '0' is invalid. expected a positive integer/);
    expectFailure(cli(["bench", "--quick", "--runs", "1e9"]), 2, /option '--runs <n>' argument '1e9' is invalid. expected a positive integer up to 1,000\./);
    expectFailure(cli(["bench", "--runs", "3"]), 2, /--runs applies to --quick/);
    expectFailure(cli(["bench", "--build", "simd"]), 2, /--build applies to --quick/);
  });
});

describe("bench --help", () => {
  it("describes both modes, exit 0", () => {
    const r = cli(["bench", "--help"]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toMatch(/^Usage: rnn-wasm bench \[options\]/);
    for (const text of ["--quick", "--json", "--build <build>", "--runs <n>", "npm run bench", "W-stream, W-seq, W-batch, W-gru, W-train", "tsx"]) expect(r.stdout).toContain(text);
    expect(cli(["--help"]).stdout).toMatch(/^ {2}bench \[options\] +run the benchmark suite/m);
  });
});

describe("bench without --quick, outside a clone of the repository", () => {
  /**
   * The CLI package as npm installs it (package.json, dist/, data/) at `dir`/node_modules/rnn-wasm-cli, or at `dir`/cli
   * beside a copy of the repository's package.json with `inRepo`; every dependency but `omit` linked in.
   */
  function installedCopy(omit: string[], inRepo = false): { dir: string; cli: string } {
    const dir = tempDir();
    const pkg = inRepo ? join(dir, "cli") : join(dir, "node_modules", "rnn-wasm-cli");
    mkdirSync(join(dir, "node_modules"), { recursive: true });
    for (const part of ["package.json", "dist", "data"]) cpSync(join(CLI_ROOT, part), join(pkg, part), { recursive: true });
    for (const dep of readdirSync(join(ROOT, "node_modules"))) {
      if (!omit.includes(dep) && dep !== ".bin" && dep !== "rnn-wasm-cli") symlinkSync(join(ROOT, "node_modules", dep), join(dir, "node_modules", dep));
    }
    if (inRepo) cpSync(join(ROOT, "package.json"), join(dir, "package.json"));
    return { dir, cli: join(pkg, "dist/cli.js") };
  }

  it("without the bench/ sources: says so, and what to run instead (exit 1)", () => {
    const { dir, cli: bin } = installedCopy([]);
    const r = run(process.execPath, [bin, "bench"], { cwd: dir });
    expectFailure(r, 1, /the benchmark suite's sources are not here \(package\.json has no 'bench' script in .*node_modules\): an installed package does not ship bench\//);
    expect(r.stderr).toMatch(/Run 'rnn-wasm bench --quick'.*clone the rnn-wasm repository, run 'npm install' there, then 'npm run bench'/);
  });

  it("with the sources but without tsx: names tsx (exit 1)", () => {
    const { dir, cli: bin } = installedCopy(["tsx"], true);
    symlinkSync(join(ROOT, "bench"), join(dir, "bench"));
    mkdirSync(join(dir, "node_modules", ".bin"));
    writeFileSync(join(dir, "node_modules", ".bin", "README"), "tsx is deliberately absent\n");
    const r = run(process.execPath, [bin, "bench", "--json"], { cwd: dir });
    expectFailure(r, 1, /tsx is not installed in .*: the suite runs bench\/\*\.ts with tsx, a development dependency/);
    expect(r.stdout).toBe("");
  });
});

