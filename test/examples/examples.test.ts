// test/examples/examples.test.ts: the programs in examples/ run as a user runs them (`node examples/x.mjs`,
// `npx tsx examples/x.ts`), importing the package by its name "rnn-wasm" (Node's self-reference resolves it to
// dist/ through package.json's exports), and exit 0; each asserts its own claims. The Python exporter runs when
// a python3 with torch is present, and `rnn-wasm run` must reproduce the PyTorch output it saved.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cli, describeRun, maxAbsDiff, readTensors, requireBuild, ROOT, run, tempDir } from "../../cli/test/helpers.js";

const EXAMPLES = join(ROOT, "examples");
const FILES = readdirSync(EXAMPLES).filter((f) => /\.(mjs|ts)$/.test(f)).sort();
const PYTHON = "/usr/bin/python3";
const hasTorch = spawnSync(PYTHON, ["-c", "import torch"], { encoding: "utf8" }).status === 0;

beforeAll(() => requireBuild());

describe("examples", () => {
  it("has the examples the README promises", () => {
    for (const f of ["quickstart.mjs", "pytorch-model.mjs", "streaming.mjs", "cells.mjs", "layers.mjs", "cell-kinds.mjs"]) expect(FILES).toContain(f);
    for (const f of ["train-sine.mjs", "train-layer.mjs", "train-tbptt.mjs", "train-lengths.mjs", "train-finetune.mjs", "optimizers.mjs"]) expect(FILES).toContain(f);
  });

  it.each(FILES)("%s runs and exits 0", (file) => {
    const args = file.endsWith(".ts") ? ["--import", "tsx", join(EXAMPLES, file)] : [join(EXAMPLES, file)];
    const r = run(process.execPath, args);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(0);
    expect(r.stderr, describeRun(r)).not.toMatch(/Error|Warning/);
  });

  it.skipIf(!hasTorch)("export_pytorch.py: PyTorch's own float32 output is what `rnn-wasm run` computes", () => {
    const dir = tempDir();
    const py = run(PYTHON, [join(EXAMPLES, "export_pytorch.py"), dir], { timeout: 120_000 });
    expect(py.code, describeRun(py)).toBe(0);
    const r = cli(["run", "--model", join(dir, "m.safetensors"), "--input", join(dir, "x.safetensors"), "--out", join(dir, "y.safetensors")]);
    expect(r.code, describeRun(r)).toBe(0);
    const got = readTensors(join(dir, "y.safetensors"));
    const want = readTensors(join(dir, "torch-y.safetensors"));
    for (const name of ["output", "h_n", "c_n"]) {
      expect(got[name].shape).toEqual(want[name].shape);
      // PyTorch ran in float32 here (its own summation order), so allow a little more than the float64 fixtures.
      expect(maxAbsDiff(got[name].data, want[name].data), name).toBeLessThanOrEqual(1e-5);
    }
  });
});
