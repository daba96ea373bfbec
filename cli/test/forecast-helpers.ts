// cli/test/forecast-helpers.ts: what the train, predict and forecast-demo tests share: a synthetic seasonal series as
// a CSV file, and the failure check every error path uses.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { describeRun, type Run } from "./helpers.js";

/** Exit code, `rnn-wasm: ` and the message on stderr, nothing on stdout, and no stack trace. */
export function expectFailure(r: Run, code: 1 | 2, message: RegExp): void {
  expect(r.code, describeRun(r)).toBe(code);
  expect(r.stdout, describeRun(r)).toBe("");
  expect(r.stderr, describeRun(r)).toMatch(/^rnn-wasm: /m);
  expect(r.stderr, describeRun(r)).toMatch(message);
  expect(r.stderr).not.toMatch(/internal error|    at /);
}

/** A trend, a 12-step season and a little deterministic wobble: what a forecaster should learn quickly. */
export function seasonalSeries(n: number): number[] {
  return Array.from({ length: n }, (_, t) => 50 + 0.1 * t + 3 * Math.sin((2 * Math.PI * t) / 12) + 0.2 * Math.sin(t * 1.7));
}

/** Writes `step,value,label` rows (label is text, to test a non-numeric column); returns the path. */
export function writeSeriesCsv(dir: string, name: string, values: readonly number[]): string {
  const rows = values.map((v, t) => `${t},${v.toFixed(4)},m${t}`);
  const path = join(dir, name);
  writeFileSync(path, ["step,value,label", ...rows].join("\n") + "\n");
  return path;
}
