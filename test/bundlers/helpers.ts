// test/bundlers/helpers.ts: the package as a user gets it, for the bundler and consumer tests. `packed()` runs
// `npm pack` of the repository once per test file (about 2 s; --ignore-scripts: `npm test` has built dist/ and
// build/ already, and `prepare` would build them again). `unpackInto()` puts the tarball's files in an app's
// node_modules/rnn-wasm, which is what `npm install <tgz>` does for a package without dependencies, in 5 ms
// instead of 1.7 s (and instead of 11 s while the package still declares the CLI's dependencies); the consumer
// test (test/package) runs the real `npm install`. Commands run asynchronously, so builds overlap.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { maxAbsDiff } from "../../src/compare.js";
import { probeBuild } from "../../src/wasm-source.js";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const FIXTURES = join(ROOT, "test/bundlers/fixtures");
/** The repository's tools (esbuild, vite, wrangler, tsc) on PATH, as in an app's npm scripts. */
export const BIN = join(ROOT, "node_modules/.bin");

export interface Proc {
  code: number | null;
  stdout: string;
  stderr: string;
}

export const describeProc = (p: Proc) => `exit ${p.code}\n--- stdout\n${p.stdout}\n--- stderr\n${p.stderr}`;

/** Runs a command without blocking the test's event loop; the repository's tools are on PATH. */
export function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<Proc> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, PATH: `${BIN}${delimiter}${process.env.PATH}`, NO_COLOR: "1", FORCE_COLOR: "0", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill(), 120_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs each line of a shell snippet (a region of fixtures/commands.sh) with bash in `cwd`, stopping at the first failure. */
export function sh(snippet: string, cwd: string, env: Record<string, string> = {}): Promise<Proc> {
  return run("bash", ["-euo", "pipefail", "-c", snippet], cwd, env);
}

/** A file, or the lines between `// #region name` (or `# #region name`) and the next `#endregion` in it. */
export function region(file: string, name?: string): string {
  const text = readFileSync(join(ROOT, file), "utf8").replace(/\n$/, "");
  if (!name) return text;
  const lines = text.split("\n");
  const start = lines.findIndex((l) => new RegExp(`^\\s*(//|#) ?#?region ${name}\\s*$`).test(l));
  if (start < 0) throw new Error(`${file} has no region '${name}'`);
  const end = lines.findIndex((l, i) => i > start && /^\s*(\/\/|#) ?#?endregion\b/.test(l));
  return lines.slice(start + 1, end).join("\n");
}

export interface PackedFile {
  path: string;
  size: number;
}

export interface Packed {
  /** The tarball's path. */
  tgz: string;
  /** Its size in bytes, and the sum of its files' sizes. */
  size: number;
  unpackedSize: number;
  files: PackedFile[];
}

let packing: Promise<Packed> | null = null;

/** `npm pack` of the repository into a fresh temporary folder, once per test file. */
export function packed(): Promise<Packed> {
  packing ??= (async () => {
    for (const f of ["dist/src/index.js", "dist/rnn-wasm.node.js", "build/rnn-simd.wasm"]) {
      if (!existsSync(join(ROOT, f))) throw new Error(`${f} does not exist: run \`npm run build\` before the package tests`);
    }
    const dir = mkdtempSync(join(tmpdir(), "rnn-wasm-pack-"));
    const p = await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], ROOT);
    if (p.code !== 0) throw new Error(`npm pack failed\n${describeProc(p)}`);
    const [info] = JSON.parse(p.stdout.slice(p.stdout.indexOf("["))) as Array<{ filename: string; size: number; unpackedSize: number; files: PackedFile[] }>;
    return { tgz: join(dir, info.filename), size: info.size, unpackedSize: info.unpackedSize, files: info.files.map(({ path, size }) => ({ path, size })) };
  })();
  return packing;
}

/** Removes the folder `packed()` made (call in afterAll). */
export async function removePacked(): Promise<void> {
  const p = await packing?.catch(() => null);
  if (p) rmSync(dirname(p.tgz), { recursive: true, force: true });
  packing = null;
}

/** Writes the tarball's files (npm's `package/` prefix dropped) into `dir`: a tar reader for npm's plain ustar. */
export function untar(tgz: string, dir: string): void {
  const tar = gunzipSync(readFileSync(tgz));
  const text = (at: number, length: number) => tar.toString("utf8", at, at + length).replace(/\0[\s\S]*$/, "");
  let longName: string | null = null; // from a pax header ('x'), for the entry after it
  for (let at = 0; at + 512 <= tar.length && tar[at] !== 0;) {
    const size = parseInt(text(at + 124, 12).trim() || "0", 8);
    const prefix = text(at + 345, 155);
    const name = longName ?? (prefix ? `${prefix}/` : "") + text(at, 100);
    const type = text(at + 156, 1);
    longName = null;
    if (type === "x") longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(tar.toString("utf8", at + 512, at + 512 + size))?.[1] ?? null;
    if (type === "0" || type === "") {
      const path = join(dir, name.replace(/^package\//, ""));
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, tar.subarray(at + 512, at + 512 + size));
    }
    at += 512 + Math.ceil(size / 512) * 512;
  }
}

/** Makes `app` (if needed) with a package.json, and the packed package as its node_modules/rnn-wasm. */
export function unpackInto(tgz: string, app: string): void {
  mkdirSync(app, { recursive: true });
  if (!existsSync(join(app, "package.json"))) {
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }, null, 2));
  }
  untar(tgz, join(app, "node_modules/rnn-wasm"));
}

/** A fresh temporary folder. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `rnn-wasm-${prefix}-`));
}

/** Largest |a[i] - b[i]| of two apps' outputs (NaN when the lengths differ). */
export function outputDiff(a: AppResult, b: AppResult): number {
  return maxAbsDiff(Float32Array.from(a.output), Float32Array.from(b.output));
}

/** What the apps put on `window.result` (or print, in Node and workerd). */
export interface AppResult {
  build: string;
  output: number[];
}

/** The flag Node 20 needs to run relaxed SIMD, which Node 24 runs without and refuses as a "bad option". */
export const RELAXED_FLAGS = probeBuild("relaxed") ? [] : ["--experimental-wasm-relaxed-simd"];

/** The app's main.js run by Node (the package's "node" export), with relaxed SIMD enabled so that it picks the build
 *  Chromium and workerd pick: fixtures/browser/in-node.mjs. */
export async function inNode(app: string, flags = RELAXED_FLAGS): Promise<AppResult> {
  const p = await run(process.execPath, [...flags, "in-node.mjs"], app);
  if (p.code !== 0) throw new Error(`in-node.mjs failed\n${describeProc(p)}`);
  return JSON.parse(p.stdout.trim().split("\n").pop()!);
}
