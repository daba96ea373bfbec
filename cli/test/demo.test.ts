// cli/test/demo.test.ts: `rnn-wasm demo` (main() in-process), the PyTorch check: it must say that every backend agrees
// with PyTorch and print the throughput table. How long it takes is not asserted (bench/ measures speed); that it
// finds its data from any working directory is binary.test.ts's.
import { beforeAll, expect, it } from "vitest";
import { cliInProcess, describeRun, requireLibraryBuild } from "./helpers.js";

beforeAll(() => requireLibraryBuild());

it("runs the bundled model on each supported build and the reference, agreeing with PyTorch", async () => {
  const r = await cliInProcess(["demo"]);
  expect(r.code, describeRun(r)).toBe(0);
  for (const backend of ["wasm simd", "wasm scalar", "reference"]) {
    expect(r.stdout, describeRun(r)).toMatch(new RegExp(`^  ${backend} +output +\\d\\.\\de-\\d+ +h_n +\\S+ +c_n +\\S+ +agrees$`, "m"));
  }
  // relaxed SIMD: agrees where the engine validates it, and says why it was skipped where it does not
  expect(r.stdout).toMatch(/^  wasm relaxed +(output .* agrees|skipped: .+)$/m);
  expect(r.stdout).not.toMatch(/DISAGREES/);
  expect(r.stdout).toMatch(/ms\/sequence +steps\/s +GFLOP\/s +vs reference/);
  expect(r.stdout).toMatch(/^  wasm simd +\d+\.\d+ +[\d,]+ +\d+\.\d+ +\d+\.\dx +\d+$/m);
  expect(r.stdout).toMatch(/^  reference +\d+\.\d+ +[\d,]+ +\d+\.\d+ +1\.0x +\d+$/m);
});

it("rejects a bad --runs (exit 2)", async () => {
  const r = await cliInProcess(["demo", "--runs", "0"]);
  expect(r.code, describeRun(r)).toBe(2);
  expect(r.stderr).toMatch(/^rnn-wasm: option '--runs <n>' argument '0' is invalid/);
});
