// cli/test/bench.test.ts: `rnn-wasm bench` as a user runs it (main() in-process). `--quick` runs for real (a few
// seconds on one build); the full suite takes minutes, so only its refusals are tested: the usage errors here, and
// from a copy of the package laid out as npm installs it in binary.test.ts (the package's location is the point).
// The quick bench times the suite's workloads (cli/src/workloads.ts defines them for both): they are held to issue 4's
// shapes and FLOP counts and to the model files the suite's peers load (bench/models/).
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { supportsBuild } from "rnn-wasm";
import { MODELS_DIR, WORKLOADS, WORKLOAD_IDS } from "../../bench/peers/workloads.js";
import { QUICK_WORKLOADS } from "../src/quick-bench.js";
import { cliInProcess, describeRun, requireLibraryBuild, type Run } from "./helpers.js";

// Asked of this process, where the command runs: another test file in this worker may have set V8's relaxed-SIMD flag.
const relaxedRuns = await supportsBuild("relaxed");

beforeAll(() => requireLibraryBuild());

function expectFailure(r: Run, code: 1 | 2, message: RegExp): void {
  expect(r.code, describeRun(r)).toBe(code);
  expect(r.stderr, describeRun(r)).toMatch(/^rnn-wasm: /);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/internal error|    at /);
}

describe("bench --quick", () => {
  it("--json: the five workloads on the simd build, positive times, each checked against the reference", async () => {
    const r = await cliInProcess(["bench", "--quick", "--json", "--build", "simd", "--runs", "3"]);
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

  it("text: a table row per workload with its unit and GFLOP/s", async () => {
    const r = await cliInProcess(["bench", "--quick", "--build", "simd", "--runs", "1"]);
    expect(r.code, describeRun(r)).toBe(0);
    for (const w of QUICK_WORKLOADS) {
      expect(r.stdout).toMatch(new RegExp(`^${w.id} +${w.description.replace(/[+()]/g, "\\$&")} +simd +\\d+\\.\\d+ ${w.unit.replace("/", "\\/")} +\\d+\\.\\d\\d +\\d\\.\\de-\\d+$`, "m"));
    }
    expect(r.stdout).toMatch(/npm run bench/);
  });

  it("runs the benchmark suite's workloads, in its order, with the issue's shapes and FLOP counts, the shapes of the suite's model files", async () => {
    // The quick bench's workloads and the suite's (bench/peers/workloads.ts) are both made from cli/src/workloads.ts, so
    // comparing the two proves nothing: each is held to issue 4's numbers, and to the model file the suite's peers load.
    expect(QUICK_WORKLOADS.map((w) => w.id)).toEqual(["W-stream", "W-seq", "W-batch", "W-gru", "W-train"]);
    const shape = (id: string) => { const w = QUICK_WORKLOADS.find((q) => q.id === id)!; return [w.kind, w.I, w.H, w.B, w.T, w.flopPerCall]; };
    // issue 4's definitions: LSTM step 2·4H·(I+H)·B, GRU 2·3H·(I+H)·B; W-stream one step per call; W-train 3 forwards
    expect(shape("W-stream")).toEqual(["lstm", 64, 256, 1, 128, 2 * 4 * 256 * 320]);
    expect(shape("W-seq")).toEqual(["lstm", 64, 256, 1, 128, 2 * 4 * 256 * 320 * 128]);
    expect(shape("W-batch")).toEqual(["lstm", 128, 256, 64, 64, 2 * 4 * 256 * 384 * 64 * 64]);
    expect(shape("W-gru")).toEqual(["gru", 64, 256, 1, 128, 2 * 3 * 256 * 320 * 128]);
    expect(shape("W-train")).toEqual(["lstm", 32, 128, 32, 32, 3 * 2 * 4 * 128 * 160 * 32 * 32]);
    for (const w of QUICK_WORKLOADS) {
      const r = await cliInProcess(["inspect", join(MODELS_DIR, `${WORKLOADS[w.id].model}.safetensors`), "--json"]);
      expect(r.code, describeRun(r)).toBe(0);
      const model = JSON.parse(r.stdout);
      expect([model.kind, model.inputSize, model.hiddenSize, model.numLayers], w.id).toEqual([w.kind, w.I, w.H, 1]);
    }
  });

  it.skipIf(relaxedRuns)("--build relaxed where the engine cannot run it says how to (exit 1)", async () => {
    expectFailure(await cliInProcess(["bench", "--quick", "--build", "relaxed"]), 1, /cannot run --build relaxed: this engine does not validate relaxed SIMD .*--experimental-wasm-relaxed-simd/);
  });

  it("bad option values (exit 2)", async () => {
    expectFailure(await cliInProcess(["bench", "--quick", "--build", "avx"]), 2, /option '--build <build>' argument 'avx' is invalid. Allowed choices are relaxed, simd, scalar/);
    expectFailure(await cliInProcess(["bench", "--quick", "--runs", "0"]), 2, /option '--runs <n>' argument '0' is invalid. expected a positive integer/);
    expectFailure(await cliInProcess(["bench", "--quick", "--runs", "1e9"]), 2, /option '--runs <n>' argument '1e9' is invalid. expected a positive integer up to 1,000\./);
    expectFailure(await cliInProcess(["bench", "--runs", "3"]), 2, /--runs applies to --quick/);
    expectFailure(await cliInProcess(["bench", "--build", "simd"]), 2, /--build applies to --quick/);
  });
});

describe("bench --help", () => {
  it("describes both modes, exit 0", async () => {
    const r = await cliInProcess(["bench", "--help"]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toMatch(/^Usage: rnn-wasm bench \[options\]/);
    for (const text of ["--quick", "--json", "--build <build>", "--runs <n>", "npm run bench", "W-stream, W-seq, W-batch, W-gru, W-train", "tsx"]) expect(r.stdout).toContain(text);
    expect((await cliInProcess(["--help"])).stdout).toMatch(/^ {2}bench \[options\] +run the benchmark suite/m);
  });
});
