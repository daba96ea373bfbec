// test/examples/vanishing-gradients.test.ts: examples/vanishing-gradients/run.mjs, run as a user runs it, on its
// --quick configuration (recall the first input after k = 1, 2 and 20 steps of noise; up to 40 training steps):
// the quantities its charts draw are measured at the right step and are sane, the claims the gradient chart makes
// at initialisation hold, and its shortcut (an unclipped run that would repeat a clipped run which never clipped is
// not run again) gives what running it gives. The two runs (with and without the shortcut) go side by side.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { describeRun, requireBuild, ROOT, tempDir } from "../../cli/test/helpers.js";
import { runAsync } from "../helpers/process.js";

const SCRIPT = join(ROOT, "examples/vanishing-gradients/run.mjs");
const CELLS = ["RNN", "GRU", "LSTM", "LSTM+fb1"];

interface Gradient {
  perUnit: number;
  lastStep: number;
  plain: number;
  underflowed: number;
}
interface Run {
  cell: string;
  k: number;
  clip: boolean;
  hiddenSize: number;
  parameters: number;
  steps: number;
  accuracy: number;
  trainLoss: number;
  gradientAtInit: Gradient;
  gradientTrained: Gradient;
  gradNorm: { median: number; max: number; stepsAboveMaxNorm: number };
  curve: { step: number; accuracy: number; loss: number | null }[];
  reused?: boolean;
  seconds: number;
}
interface Results {
  config: { ks: number[]; steps: number; stopLoss: number; S: number; D: number };
  runs: Run[];
}

async function experiment(extra: string[] = []): Promise<Results & { dir: string }> {
  const dir = tempDir();
  const r = await runAsync(process.execPath, [SCRIPT, "--quick", "--out", dir, ...extra], { cwd: ROOT });
  expect(r.code, describeRun(r)).toBe(0);
  return { ...JSON.parse(readFileSync(join(dir, "results.json"), "utf8")), dir };
}

/** A run's measured values, without its timing and without the `reused` mark. */
const measured = ({ seconds, reused, ...rest }: Run) => rest;

describe("examples/vanishing-gradients", () => {
  let quick: Results & { dir: string };
  let noShortcut: Promise<Results & { dir: string }>;
  const find = (cell: string, k: number, clip = false) => quick.runs.find((r) => r.cell === cell && r.k === k && r.clip === clip)!;
  const init = (cell: string, k: number) => find(cell, k).gradientAtInit.perUnit;
  beforeAll(async () => {
    requireBuild();
    noShortcut = experiment(["--no-shortcut"]);
    noShortcut.catch(() => {}); // awaited (and reported) by its test
    quick = await experiment();
  });

  it("trains every cell, all 64 units wide, at every k, with and without clipping, and writes both charts", () => {
    const { runs, dir } = quick;
    expect(quick.config.ks).toEqual([1, 2, 20]);
    expect(runs.map((r) => `${r.cell} ${r.k} ${r.clip}`).sort()).toEqual(CELLS.flatMap((c) => [1, 2, 20].flatMap((k) => [`${c} ${k} false`, `${c} ${k} true`])).sort());
    // equal width; parameters (8 inputs: 4 key features, 4 noise): 1, 3 and 4 blocks of 64 * (8 + 64 + 2)
    const blocks: Record<string, number> = { RNN: 1, GRU: 3, LSTM: 4, "LSTM+fb1": 4 };
    for (const r of runs) {
      expect(r.hiddenSize).toBe(64);
      expect(r.parameters, r.cell).toBe(blocks[r.cell] * 64 * (8 + 64 + 2));
    }
    for (const name of ["accuracy.svg", "gradient.svg"]) {
      const svg = readFileSync(join(dir, name), "utf8");
      expect(svg.startsWith("<svg"), name).toBe(true);
      // a legend entry (gradient.svg) or a panel title with the parameter count (accuracy.svg) for each cell
      for (const cell of CELLS) expect(svg, `${name} names ${cell}`).toMatch(new RegExp(`>${cell.replace("+", "\\+")}( \\(\\d+ parameters\\))?<`));
    }
  });

  it("measures finite, positive gradients and accuracies between 0 and 1, and stops only a run that has solved the task", () => {
    for (const r of quick.runs) {
      const what = `${r.cell} k=${r.k} clip=${r.clip}`;
      expect(r.accuracy, what).toBeGreaterThanOrEqual(0);
      expect(r.accuracy, what).toBeLessThanOrEqual(1);
      for (const g of [r.gradientAtInit, r.gradientTrained]) {
        for (const v of [g.perUnit, g.lastStep, g.plain]) {
          expect(Number.isFinite(v) && v > 0, `${what}: ${JSON.stringify(g)}`).toBe(true);
        }
        expect(g.underflowed, what).toBe(0);
      }
      expect(Number.isFinite(r.gradNorm.max) && r.gradNorm.max >= r.gradNorm.median && r.gradNorm.median > 0, what).toBe(true);
      expect(r.curve.at(-1)!.step, what).toBe(r.steps);
      if (r.steps < quick.config.steps) expect(r.trainLoss, what).toBeLessThan(quick.config.stopLoss);
      else expect(r.steps, what).toBe(quick.config.steps);
    }
  });

  it("measures the gradient at the key's step, t - k, not at a later one", () => {
    // at initialisation, the gradient that reaches the key at distance k >= 1 has passed through k recurrent steps;
    // the same measure at the last step t itself (distance 0) is larger, for every cell and k. Measuring at
    // t - k + 1 (or at t) would make them equal at k = 1. (After training, the key's step may well get more.)
    for (const r of quick.runs) expect(r.gradientAtInit.perUnit, `${r.cell} k=${r.k}`).toBeLessThan(r.gradientAtInit.lastStep);
    // and it falls with every step back at initialisation: k = 1 > k = 2 > k = 20
    for (const cell of CELLS) {
      expect(init(cell, 2), cell).toBeLessThan(init(cell, 1));
      expect(init(cell, 20), cell).toBeLessThan(init(cell, 2) / 10);
    }
  });

  it("at initialisation, the RNN's gradient decays fastest per step and the forget bias slows the LSTM's", () => {
    const perStep = (cell: string) => (init(cell, 20) / init(cell, 2)) ** (1 / 18);
    // measured: about 0.55 (RNN), 0.62 (GRU), 0.61 (LSTM), 0.82 (LSTM+fb1)
    for (const cell of ["GRU", "LSTM", "LSTM+fb1"]) expect(perStep("RNN"), cell).toBeLessThan(perStep(cell));
    expect(perStep("RNN")).toBeLessThan(0.6);
    expect(perStep("LSTM+fb1")).toBeGreaterThan(0.75);
    expect(perStep("LSTM+fb1")).toBeGreaterThan(perStep("LSTM") + 0.15);
    expect(init("LSTM+fb1", 20)).toBeGreaterThan(100 * init("LSTM", 20));
    // clipping acts on parameter gradients after the backward pass: at initialisation both runs measure the same
    for (const r of quick.runs.filter((r) => r.clip)) expect(r.gradientAtInit).toEqual(find(r.cell, r.k).gradientAtInit);
  });

  it("learns the short lag and not the long one in 40 steps: chance is 25%", () => {
    for (const cell of ["RNN", "GRU", "LSTM+fb1"]) expect(find(cell, 2).accuracy, cell).toBeGreaterThan(0.8);
    for (const cell of CELLS) expect(find(cell, 20).accuracy, cell).toBeLessThan(0.5);
  });

  it("reuses an unclipped run only when it would have repeated the clipped one exactly", async () => {
    const full = (await noShortcut).runs;
    expect(full.some((r) => r.reused)).toBe(false);
    expect(quick.runs.some((r) => r.reused)).toBe(true);
    expect(quick.runs.map(measured)).toEqual(full.map(measured));
    // and the shortcut does not hide a difference: where clipping acted, the two runs differ
    const acted = full.filter((r) => r.clip && r.gradNorm.stepsAboveMaxNorm > 0);
    expect(acted.length).toBeGreaterThan(0);
    for (const r of acted) {
      const twin = full.find((u) => u.cell === r.cell && u.k === r.k && !u.clip)!;
      expect(measured(twin)).not.toEqual({ ...measured(r), clip: false });
    }
  });
});
