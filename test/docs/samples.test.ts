// test/docs/samples.test.ts: every code sample in README.md and docs/*.md is tested, every relative link resolves,
// and the benchmark tables are what the saved results render to. A fenced sample is one of
//   <!-- example: examples/x.mjs -->        followed by a fence: must equal that file (examples.test.ts runs it)
//   <!-- example: examples/x.mjs#name -->   ... or the lines between `// #region name` and `// #endregion` in it
//   <!-- run -->                            followed by a sh fence: each line is run from the repository root
//   <!-- install -->                        followed by a sh fence: exactly `npm install <this package's name>`
//   ```text                                 a diagram or a program's output; one that starts `$ rnn-wasm ...` must be
//                                           exactly what that command prints
// and no other fenced sample exists, so nothing in the docs escapes the tests. A Python sample in README.md must
// also run as pasted (when a python3 with torch is present). The README opens with the two commands for a fresh
// machine, which .ci/run runs exactly, and stays a few screens long.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { BENCHMARKS_DOC, markers, renderSuite, summaryPath, SUITES, type AnySummary } from "../../bench/render-tables.js";
import { region } from "../bundlers/helpers.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLI = join(ROOT, "cli/dist/cli.js");
const PYTHON = "/usr/bin/python3";
const PAGES = ["README.md", ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`)];
const text = (page: string) => readFileSync(join(ROOT, page), "utf8");
const README = text("README.md");
const NAME = JSON.parse(text("package.json")).name as string;
const FENCE = /^```(\w*)\n([\s\S]*?)^```$/gm;

interface Sample {
  page: string;
  marker: string;
  lang: string;
  body: string;
}

/** Every fenced block of a page, with the HTML comment on the line before it (or "" when there is none). */
function samples(page: string): Sample[] {
  const md = text(page);
  const out: Sample[] = [];
  for (const m of md.matchAll(FENCE)) {
    const before = md.slice(0, m.index).trimEnd().split("\n").pop() ?? "";
    const marker = /^<!-- (.+) -->$/.exec(before)?.[1] ?? "";
    out.push({ page, marker, lang: m[1], body: m[2].replace(/\n$/, "") });
  }
  return out;
}
const ALL = PAGES.flatMap(samples);

/** A file, or the lines of one region of it (`// #region name` ... `// #endregion`; `# region` in Python). */
function source(ref: string): string {
  const [file, name] = ref.split("#");
  return region(file, name);
}

function run(command: string, args: string[], cwd = ROOT) {
  const r = spawnSync(command, args, { cwd, encoding: "utf8", timeout: 120_000, env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" } });
  if (r.error) throw r.error;
  return { code: r.status, out: `exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`, stdout: r.stdout };
}

function requireBuild(): void {
  if (!existsSync(CLI)) throw new Error(`${relative(ROOT, CLI)} does not exist: run \`npm run build\` before the docs' command samples`);
}

/** GitHub's anchor for each heading of a page (lower case, punctuation dropped, spaces to hyphens, -1 for repeats). */
function anchors(md: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of md.replace(FENCE, "").matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const base = m[1].toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

/** Every relative link target of a page (outside code), as written. */
function links(md: string): string[] {
  const prose = md.replace(FENCE, "").replace(/`[^`\n]*`/g, "");
  return [...prose.matchAll(/\]\(([^)\s]+)(?: +"[^"]*")?\)/g)].map((m) => m[1]).filter((l) => !/^[a-z]+:/i.test(l));
}

const hasTorch = spawnSync(PYTHON, ["-c", "import torch"], { encoding: "utf8" }).status === 0;

describe("README.md", () => {
  it("opens with the two commands for a fresh machine, and .ci/run runs exactly those", () => {
    const first = samples("README.md")[0];
    expect(first.body).toBe("npm install && npm start\nnpm test");
    const fence = README.indexOf("```");
    expect(fence, "the commands come before the first section").toBeLessThan(README.indexOf("\n## "));
    expect(README.slice(0, fence).split("\n").length, "the commands are on the first screen").toBeLessThanOrEqual(30);
    const ci = readFileSync(join(ROOT, ".ci/run"), "utf8");
    expect(ci).toMatch(/^npm install && npm start$/m);
    expect(ci).toMatch(/^npm test$/m);
  });

  it("is a few screens: at most 300 lines, the rest in docs/", () => {
    expect(README.split("\n").length).toBeLessThanOrEqual(300);
  });

  it("shows how to install the package by its name", () => {
    expect(samples("README.md").filter((s) => s.marker === "install").map((s) => s.body)).toEqual([`npm install ${NAME}`]);
  });

  it("links every page of docs/, and docs/README.md (the index) links every page too", () => {
    const index = text("docs/README.md");
    for (const page of PAGES.filter((p) => p.startsWith("docs/") && p !== "docs/README.md")) {
      expect(README, page).toContain(`](${page})`);
      expect(index, page).toContain(`](${page.slice(5)})`);
    }
  });

  it.skipIf(!hasTorch).each(samples("README.md").filter((s) => s.lang === "python").map((s, k) => [k, s] as const))(
    "Python sample %i runs as pasted",
    (_k, sample) => {
      const dir = mkdtempSync(join(tmpdir(), "rnn-wasm-readme-py-"));
      try {
        writeFileSync(join(dir, "pasted.py"), sample.body + "\n");
        const r = run(PYTHON, ["pasted.py"], dir);
        expect(r.code, r.out).toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe.each(PAGES)("%s", (page) => {
  const mine = ALL.filter((s) => s.page === page);

  it("every sample is an example file, a region of one, a command this test runs, or text", () => {
    const loose = mine.filter((s, k) => !(page === "README.md" && k === 0) && s.lang !== "text" && !/^(example: \S+|run|install)$/.test(s.marker));
    expect(loose.map((s) => s.body.split("\n")[0])).toEqual([]);
  });

  it("installs the package by its name", () => {
    for (const s of mine.filter((x) => x.marker === "install")) expect(s.body).toBe(`npm install ${NAME}`);
  });

  it("every relative link points at a file that exists (and a heading that exists)", () => {
    const broken: string[] = [];
    for (const link of links(text(page))) {
      const [path, anchor] = link.split("#");
      const target = path ? join(ROOT, dirname(page), decodeURI(path)) : join(ROOT, page);
      if (!existsSync(target)) broken.push(`${link}: no such file`);
      else if (anchor !== undefined && target.endsWith(".md") && statSync(target).isFile() && !anchors(readFileSync(target, "utf8")).has(anchor)) {
        broken.push(`${link}: no heading with that anchor`);
      }
    }
    expect(broken).toEqual([]);
  });
});

describe("samples", () => {
  const examples = ALL.filter((s) => s.marker.startsWith("example: "));
  it.each(examples.map((s) => [`${s.page}: ${s.marker.slice(9)}`, s] as const))("%s is shown exactly as it is", (_name, sample) => {
    expect(sample.body).toBe(source(sample.marker.slice(9)));
  });

  const commands = ALL.filter((s) => s.marker === "run");
  it.each(commands.map((s, k) => [`${s.page} #${k}`, s] as const))("command block %s runs", (_name, sample) => {
    requireBuild();
    for (const line of sample.body.split("\n").filter((l) => l.trim() && !l.startsWith("#"))) {
      const r = run("bash", ["-euo", "pipefail", "-c", line]);
      expect(r.code, `${line}\n${r.out}`).toBe(0);
    }
  });

  const outputs = ALL.filter((s) => s.lang === "text" && s.body.startsWith("$ rnn-wasm "));
  it.each(outputs.map((s) => [`${s.page}: ${s.body.split("\n")[0]}`, s] as const))("%s prints what is shown", (_name, sample) => {
    requireBuild();
    const [command, ...shown] = sample.body.split("\n");
    const r = run(process.execPath, [CLI, ...command.slice("$ rnn-wasm ".length).split(" ")]);
    expect(r.code, r.out).toBe(0);
    expect(r.stdout).toBe(shown.join("\n") + "\n");
  });
});

describe("docs/benchmarks.md", () => {
  const page = readFileSync(BENCHMARKS_DOC, "utf8");
  it.each(SUITES.map((s) => [s]))("holds the %s table exactly as `npx tsx bench/render-tables.ts` renders the saved results", (suite) => {
    const [start, end] = markers(suite);
    const between = new RegExp(`${start}\\n([\\s\\S]*?)\\n${end}`).exec(page);
    expect(between, `docs/benchmarks.md has no ${start} ... ${end}`).not.toBeNull();
    expect(between![1]).toMatch(/\| (rnn-wasm, )?wasm SIMD \|/);
    if (existsSync(summaryPath(suite))) {
      expect(between![1]).toBe(renderSuite(JSON.parse(readFileSync(summaryPath(suite), "utf8")) as AnySummary));
    }
  });
});
