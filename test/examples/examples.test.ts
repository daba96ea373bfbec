// test/examples/examples.test.ts: the programs in examples/ run as a user runs them (`node examples/x.mjs`,
// `npx tsx examples/x.ts`), importing the package by its name "rnn-wasm" (Node's self-reference resolves it to
// dist/ through package.json's exports), and exit 0; each asserts its own claims. The Python exporter runs when
// a python3 with torch is present, and `rnn-wasm run` must reproduce the PyTorch output it saved.
// Each program has a process of its own, two at a time (a Python importing torch keeps one core busy for seconds).
// A module that other examples import to do a shared step (pytorch-files.mjs, which writes the files the PyTorch
// examples load) runs inside each of them rather than again on its own: their exit 0 and clean stderr are its own.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { beforeAll, describe, expect, it } from "vitest";
import { cli, describeRun, maxAbsDiff, readTensors, requireBuild, ROOT, tempDir } from "../../cli/test/helpers.js";
import { limit, runAsync } from "../helpers/process.js";

const EXAMPLES = join(ROOT, "examples");
const FILES = readdirSync(EXAMPLES).filter((f) => /\.(mjs|ts)$/.test(f)).sort();
/** Each example's relative imports of other examples: `import ... from "./x.mjs"` or `import "./x.mjs"`. */
const IMPORTS = new Map(FILES.map((f) => [f, [...readFileSync(join(EXAMPLES, f), "utf8").matchAll(/^import (?:[^"';]* from )?["']\.\/([^"']+)["']/gm)].map((m) => m[1])]));
const IMPORTED = new Set([...IMPORTS.values()].flat());
const PYTHON = "/usr/bin/python3";
// whether torch is installed, without importing it (two seconds): find_spec only looks it up
const hasTorch = spawnSync(PYTHON, ["-c", "import importlib.util, sys; sys.exit(importlib.util.find_spec('torch') is None)"]).status === 0;

const twoAtATime = limit(2);

beforeAll(() => requireBuild());

describe("examples", () => {
  it("has the examples the README promises", () => {
    for (const f of ["quickstart.mjs", "pytorch-model.mjs", "streaming.mjs", "cells.mjs", "layers.mjs", "cell-kinds.mjs"]) expect(FILES).toContain(f);
    for (const f of ["train-sine.mjs", "train-layer.mjs", "train-tbptt.mjs", "train-lengths.mjs", "train-finetune.mjs", "optimizers.mjs"]) expect(FILES).toContain(f);
  });

  it("runs every shared module inside the examples that import it", () => {
    expect([...IMPORTED].sort()).toEqual(["pytorch-files.mjs"]);
    for (const f of IMPORTED) expect(FILES, `${f}, imported by an example`).toContain(f);
    expect(FILES.filter((f) => IMPORTS.get(f)!.includes("pytorch-files.mjs"))).toEqual(["pytorch-head.mjs", "run-pytorch-lstm.mjs"]);
  });

  it.concurrent.for(FILES.filter((f) => !IMPORTED.has(f)))("%s runs and exits 0", async (file, { expect }) => {
    const args = file.endsWith(".ts") ? ["--import", "tsx", join(EXAMPLES, file)] : [join(EXAMPLES, file)];
    const r = await twoAtATime(() => runAsync(process.execPath, args, { cwd: ROOT }));
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(0);
    expect(r.stderr, describeRun(r)).not.toMatch(/Error|Warning/);
  });

  it.concurrent("export_pytorch.py: PyTorch's own float32 output is what `rnn-wasm run` computes", async ({ expect, skip }) => {
    skip(!hasTorch, "no python3 with torch here");
    const dir = tempDir();
    const py = await twoAtATime(() => runAsync(PYTHON, [join(EXAMPLES, "export_pytorch.py"), dir], { cwd: ROOT, timeout: 120_000 }));
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
