// test/docs/typedoc.test.ts: the API reference builds without a warning. typedoc.json asks TypeDoc to warn about
// every public export (and member) without a TSDoc comment, every broken {@link}, and every type the docs
// reference but leave out, and to treat warnings as errors; this runs it as `npm run docs` does, without writing
// the HTML (--emit none). A second run on a two-line program with one undocumented export and one broken link
// checks that the configuration does fail on those, so the first run passing means something.
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TYPEDOC = join(ROOT, "node_modules/typedoc/bin/typedoc");

/** Runs TypeDoc without blocking, so the two runs below overlap (each takes seconds). */
function typedoc(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" };
    execFile(process.execPath, [TYPEDOC, ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000, env }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, output: `${stdout}${stderr}` });
    });
  });
}

describe.concurrent("API reference (TypeDoc)", () => {
  it("every public export is documented and every link resolves: typedoc --emit none passes without a warning", async () => {
    const r = await typedoc(["--emit", "none"]);
    expect(r.output).not.toMatch(/\[(warning|error)\]/);
    expect(r.code, r.output).toBe(0);
  });

  it("the configuration fails on an undocumented export and on a broken link", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rnn-wasm-typedoc-"));
    writeFileSync(join(dir, "x.ts"), "/** Links to {@link Nowhere}. */\nexport function linked(): void {}\nexport function undocumented(): number {\n  return 1;\n}\n");
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({
      compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, types: [] },
      include: ["x.ts"],
    }));
    writeFileSync(join(dir, "typedoc.json"), JSON.stringify({ extends: [join(ROOT, "typedoc.json")], entryPoints: ["./x.ts"], tsconfig: "./tsconfig.json" }));
    const r = await typedoc(["--options", join(dir, "typedoc.json"), "--emit", "none"]);
    expect(r.code, r.output).not.toBe(0);
    expect(r.output).toMatch(/undocumented \(CallSignature\).* does not have any documentation/);
    expect(r.output).toMatch(/Failed to resolve link to "Nowhere"/);
  });
});
