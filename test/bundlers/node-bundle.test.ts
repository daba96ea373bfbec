// test/bundlers/node-bundle.test.ts: a Node server that uses the packed package, bundled by esbuild
// (--platform=node --format=esm) with docs/bundlers.md's recipe (fixtures/commands.sh#esbuild-node): the bundle and
// the build/ folder copied beside it are moved away from the app (no node_modules), started from another working
// directory, and must answer what the unbundled server answers. Without the copied files, init() must fail naming
// every path it looked in and the fix. A CommonJS bundle (no import.meta) finds the files the same way.
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppResult, describeProc, FIXTURES, packed, removePacked, type Proc, region, run, sh, tempDir, unpackInto } from "./helpers.js";

const BUILDS = ["relaxed", "simd", "scalar"];

/** Starts `node file` in `cwd` on a free port and returns its first answer, or how it exited before listening. */
function serve(file: string, cwd: string): Promise<{ answer?: AppResult; exit?: Proc }> {
  return new Promise((resolve) => {
    const child: ChildProcess = spawn(process.execPath, [file], { cwd, env: { ...process.env, PORT: "0" }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill(), 30_000);
    child.stderr!.on("data", (d) => (stderr += d));
    child.stdout!.on("data", async (d) => {
      stdout += d;
      const port = /listening on (\d+)/.exec(stdout)?.[1];
      if (!port) return;
      try {
        resolve({ answer: await (await fetch(`http://127.0.0.1:${port}/`)).json() });
      } finally {
        child.kill();
      }
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ exit: { code, stdout, stderr } });
    });
  });
}

describe("an esbuild bundle of a Node server (--platform=node --format=esm)", () => {
  let root: string;
  let app: string;
  let deployed: string;
  let unbundled: AppResult;
  let bundled: { answer?: AppResult; exit?: Proc };
  let missing: Proc;
  let cjs: Proc;

  beforeAll(async () => {
    const { tgz } = await packed();
    root = tempDir("node-bundle");
    app = join(root, "app");
    unpackInto(tgz, app);
    cpSync(join(FIXTURES, "node/server.js"), join(app, "server.js"));
    cpSync(join(FIXTURES, "node/script-cjs.js"), join(app, "script-cjs.js"));
    const [recipe, bare, cjsBuild, plain] = await Promise.all([
      sh(region("test/bundlers/fixtures/commands.sh", "esbuild-node"), app),
      run("esbuild", ["server.js", "--bundle", "--platform=node", "--format=esm", "--outfile=bare/server.mjs", "--log-level=warning"], app),
      run("esbuild", ["script-cjs.js", "--bundle", "--platform=node", "--format=cjs", "--outfile=cjs/script.cjs", "--log-level=error"], app),
      serve("server.js", app),
    ]);
    for (const p of [recipe, bare, cjsBuild]) expect(p.code, describeProc(p)).toBe(0);
    expect(plain.answer, describeProc(plain.exit ?? { code: 0, stdout: "", stderr: "" })).toBeDefined();
    unbundled = plain.answer!;
    // what a deployment would carry: the bundle and its build/ folder, away from the app and its node_modules
    deployed = join(root, "deployed");
    cpSync(join(app, "dist"), deployed, { recursive: true });
    cpSync(join(app, "bare"), join(root, "bare"), { recursive: true });
    cpSync(join(app, "cjs"), join(root, "cjs"), { recursive: true });
    cpSync(join(app, "dist/build"), join(root, "cjs/build"), { recursive: true });
    rmSync(app, { recursive: true });
    [bundled, missing, cjs] = await Promise.all([
      serve(join(deployed, "server.mjs"), root),
      run(process.execPath, [join(root, "bare/server.mjs")], root),
      run(process.execPath, [join(root, "cjs/script.cjs")], root),
    ]);
  }, 120_000);

  afterAll(async () => {
    if (root) rmSync(root, { recursive: true, force: true });
    await removePacked();
  });

  it("the recipe puts the three .wasm files in build/ beside the bundle", () => {
    expect(readdirSync(deployed).sort()).toEqual(["build", "server.mjs"]);
    expect(readdirSync(join(deployed, "build")).sort()).toEqual(BUILDS.map((b) => `rnn-${b}.wasm`).sort());
  });

  it("the bundle, moved away from node_modules, answers exactly what the unbundled server answers", () => {
    expect(bundled.answer, describeProc(bundled.exit ?? { code: 0, stdout: "", stderr: "" })).toBeDefined();
    expect(bundled.answer!.build).toBe(unbundled.build);
    expect(bundled.answer!.output).toHaveLength(20);
    expect(bundled.answer!.output).toEqual(unbundled.output);
  });

  it("without build/ beside it, init() fails naming every path it looked in and the fix", () => {
    expect(missing.code).toBe(1);
    const dir = join(root, "bare");
    const file = `rnn-${unbundled.build}.wasm`; // the first build this Node runs: simd on Node 20, relaxed on 24
    const looked = [join(dir, "build", file), join(dir, "../build", file), join(dir, "../../build", file)];
    expect(missing.stderr).toContain(`RnnError: cannot find ${file} (looked in ${looked.join(", ")}).`);
    expect(missing.stderr).toContain("copy node_modules/rnn-wasm/build/*.wasm into a build/ folder beside the bundle");
  });

  it("a CommonJS bundle (import.meta empty) finds build/ beside it through __filename", () => {
    expect(cjs.code, describeProc(cjs)).toBe(0);
    expect(JSON.parse(cjs.stdout)).toEqual(unbundled);
  });
});
