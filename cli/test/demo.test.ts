// cli/test/demo.test.ts: `rnn-wasm demo`, the PyTorch check: it must finish quickly, say that every backend
// agrees with PyTorch, and print the throughput table, from the repository root and from any other directory.
import { tmpdir } from "node:os";
import { beforeAll, expect, it } from "vitest";
import { cli, describeRun, requireBuild } from "./helpers.js";

beforeAll(() => requireBuild());

it("runs the bundled model on each supported build and the reference, agreeing with PyTorch", () => {
  const started = Date.now();
  const r = cli(["demo"]);
  const seconds = (Date.now() - started) / 1000;
  expect(r.code, describeRun(r)).toBe(0);
  expect(seconds, "the demo must finish well under 30 s").toBeLessThan(20);
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

it("finds its data from another working directory", () => {
  const r = cli(["demo", "--runs", "1"], { cwd: tmpdir() });
  expect(r.code, describeRun(r)).toBe(0);
  expect(r.stdout).toMatch(/data\/lstm-demo\.safetensors/);
  expect(r.stdout).toMatch(/agrees/);
});

it("rejects a bad --runs (exit 2)", () => {
  const r = cli(["demo", "--runs", "0"]);
  expect(r.code, describeRun(r)).toBe(2);
  expect(r.stderr).toMatch(/^rnn-wasm: option '--runs <n>' argument '0' is invalid/);
});
