// test/examples/vanishing-gradients.test.ts: examples/vanishing-gradients/run.mjs, run as a user runs it, on its
// --quick configuration (k = 2 and 20, 40 training steps): the quantities its charts draw are measured and sane,
// the claim the gradient chart makes at initialisation holds, and its shortcut (an unclipped run that would repeat
// a clipped run which never clipped is not run again) gives what running it gives.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { describeRun, requireBuild, ROOT, run, tempDir } from "../cli/helpers.js";

const SCRIPT = join(ROOT, "examples/vanishing-gradients/run.mjs");

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
  accuracy: number;
  gradientAtInit: Gradient;
  gradientTrained: Gradient;
  gradNorm: { median: number; max: number; stepsAboveMaxNorm: number };
  curve: { step: number; accuracy: number }[];
  reused?: boolean;
  seconds: number;
}

function experiment(extra: string[] = []): { runs: Run[]; dir: string } {
  const dir = tempDir();
  const r = run(process.execPath, [SCRIPT, "--quick", "--out", dir, ...extra]);
  expect(r.code, describeRun(r)).toBe(0);
  return { runs: JSON.parse(readFileSync(join(dir, "results.json"), "utf8")).runs, dir };
}

/** A run's measured values, without its timing and without the `reused` mark. */
const measured = ({ seconds, reused, ...rest }: Run) => rest;

describe("examples/vanishing-gradients", () => {
  let quick: { runs: Run[]; dir: string };
  beforeAll(() => {
    requireBuild();
    quick = experiment();
  });

  it("trains every cell at every k, with and without clipping, and writes both charts", () => {
    const { runs, dir } = quick;
    expect(runs.map((r) => `${r.cell} ${r.k} ${r.clip}`).sort()).toEqual(
      ["RNN", "GRU", "LSTM", "LSTM+fb1"].flatMap((c) => [2, 20].flatMap((k) => [`${c} ${k} false`, `${c} ${k} true`])).sort(),
    );
    for (const name of ["accuracy.svg", "gradient.svg"]) {
      const svg = readFileSync(join(dir, name), "utf8");
      expect(svg.startsWith("<svg"), name).toBe(true);
      // a legend entry (gradient.svg) or a panel title with the hidden size (accuracy.svg) for each cell
      for (const cell of ["RNN", "GRU", "LSTM", "LSTM+fb1"]) expect(svg, `${name} names ${cell}`).toMatch(new RegExp(`>${cell.replace("+", "\\+")}( \\(\\d+ units\\))?<`));
    }
  });

  it("measures finite, positive gradients and accuracies between 0 and 1", () => {
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
      expect(r.curve.at(-1)!.step).toBe(40);
    }
  });

  it("at initialisation, the gradient reaching the key is orders of magnitude smaller at k = 20 than at k = 2, most of all for the RNN", () => {
    const init = (cell: string, k: number) => quick.runs.find((r) => r.cell === cell && r.k === k && !r.clip)!.gradientAtInit.perUnit;
    for (const cell of ["RNN", "GRU", "LSTM", "LSTM+fb1"]) expect(init(cell, 20), cell).toBeLessThan(init(cell, 2) / 10);
    expect(init("RNN", 20)).toBeLessThan(init("RNN", 2) / 1e4);
    // the forget bias slows the decay: what the chart shows as the flatter purple line
    expect(init("LSTM+fb1", 20)).toBeGreaterThan(100 * init("LSTM", 20));
    // clipping acts on parameter gradients after the backward pass: at initialisation both runs measure the same
    for (const r of quick.runs.filter((r) => r.clip)) {
      expect(r.gradientAtInit).toEqual(quick.runs.find((u) => u.cell === r.cell && u.k === r.k && !u.clip)!.gradientAtInit);
    }
  });

  it("learns the short lag: the RNN recalls the key 2 steps back", () => {
    // 40 steps are enough at k = 2 for the RNN (the fastest learner there); chance is 25%
    expect(quick.runs.find((r) => r.cell === "RNN" && r.k === 2 && !r.clip)!.accuracy).toBeGreaterThan(0.8);
  });

  it("reuses an unclipped run only when it would have repeated the clipped one exactly", () => {
    const full = experiment(["--no-shortcut"]).runs;
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
