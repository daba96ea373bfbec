// test/cli/readme.test.ts: every code sample in README.md runs. A sample is either
//   <!-- example: examples/x.mjs -->          followed by a fence: must equal that file (which examples.test.ts runs)
//   <!-- example: examples/x.mjs#name -->     ... or the lines between `// #region name` and `// #endregion` in it
//   <!-- run -->                              followed by a sh fence: each line is run from the repository root
// and no other fenced sample exists (```text blocks are diagrams, not code), so nothing in the README escapes the tests. Also checks the README opens
// with the two commands for a fresh machine, and that .ci/run runs exactly those.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { describeRun, requireBuild, ROOT, run } from "./helpers.js";

const README = readFileSync(join(ROOT, "README.md"), "utf8");
const FENCE = /^```(\w*)\n([\s\S]*?)^```$/gm;

interface Sample {
  marker: string;
  lang: string;
  body: string;
}

/** Every fenced block with the HTML comment on the line before it (or "" when there is none). */
function samples(): Sample[] {
  const out: Sample[] = [];
  for (const m of README.matchAll(FENCE)) {
    const before = README.slice(0, m.index).trimEnd().split("\n").pop() ?? "";
    const marker = /^<!-- (.+) -->$/.exec(before)?.[1] ?? "";
    out.push({ marker, lang: m[1], body: m[2].replace(/\n$/, "") });
  }
  return out;
}

/** A file, or the lines of one region of it (`// #region name` ... `// #endregion`; `# region` in Python). */
function source(ref: string): string {
  const [file, name] = ref.split("#");
  const text = readFileSync(join(ROOT, file), "utf8").replace(/\n$/, "");
  if (!name) return text;
  const lines = text.split("\n");
  const start = lines.findIndex((l) => new RegExp(`^\\s*(//|#) ?#?region ${name}\\s*$`).test(l));
  if (start < 0) throw new Error(`${file} has no region '${name}'`);
  const end = lines.findIndex((l, i) => i > start && /^\s*(\/\/|#) ?#?endregion\b/.test(l));
  return lines.slice(start + 1, end).join("\n");
}

beforeAll(() => requireBuild());

describe("README.md", () => {
  it("opens with the two commands for a fresh machine, and .ci/run runs exactly those", () => {
    const first = samples()[0];
    expect(first.body).toBe("npm install && npm start\nnpm test");
    expect(README.indexOf("```")).toBeLessThan(400);
    const ci = readFileSync(join(ROOT, ".ci/run"), "utf8");
    expect(ci).toMatch(/^npm install && npm start$/m);
    expect(ci).toMatch(/^npm test$/m);
  });

  it("every sample is an example file, a region of one, or a command this test runs", () => {
    const loose = samples().slice(1).filter((s) => s.lang !== "text" && !/^(example: \S+|run)$/.test(s.marker));
    expect(loose.map((s) => s.body.split("\n")[0])).toEqual([]);
  });

  it.each(samples().filter((s) => s.marker.startsWith("example: ")).map((s) => [s.marker.slice(9), s] as const))(
    "shows %s exactly as it is",
    (ref, sample) => {
      expect(sample.body).toBe(source(ref));
    },
  );

  it.each(samples().filter((s) => s.marker === "run").map((s, k) => [k, s] as const))("command block %i runs", (_k, sample) => {
    for (const line of sample.body.split("\n").filter((l) => l.trim() && !l.startsWith("#"))) {
      const r = run("bash", ["-euo", "pipefail", "-c", line]);
      expect(r.code, `${line}\n${describeRun(r)}`).toBe(0);
    }
  });

  it("has the benchmark tables between their markers", () => {
    expect(README).toMatch(/<!-- bench:lstm-seq:start -->\n[\s\S]*\| wasm SIMD \|[\s\S]*<!-- bench:lstm-seq:end -->/);
    expect(README).toMatch(/<!-- bench:train-step:start -->\n[\s\S]*\| wasm SIMD \|[\s\S]*<!-- bench:train-step:end -->/);
  });
});
