// cli/test/binary.test.ts: the built `rnn-wasm` binary (cli/dist/cli.js) in processes of its own, for what the
// in-process tests (main() from the sources) cannot show:
//   start-up     the built file runs under node and prints its version: the build, the bin wrapper (cli.ts); and
//                starting loads only what the command runs (a module hook lists what `--version` imports)
//   exit codes   one command per code (0, 1, 2), each as the process's own exit status, set by the wrapper
//   working dir  data/ is found from the script's location, from any working directory
//   EPIPE        a reader that closes stdout early (`rnn-wasm demo | head -1`) is not an error: exit 0, no message
//   Ctrl-C       SIGINT ends a training of --epochs 1e9 at once and leaves no file behind
//   installs     `bench` without --quick refuses outside a clone, judged from where the package is installed, so it
//                runs from copies of the package laid out as npm installs it
// The commands' behaviour and messages are tested in-process, one file per command.
import { execFile, spawn } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { seasonalSeries, writeSeriesCsv } from "./forecast-helpers.js";
import { CLI, CLI_ROOT, cliSpawned, describeRun, ROOT, requireBuild, tempDir, type Run } from "./helpers.js";

/** Exit code, stderr that starts `rnn-wasm: ` and holds the message, nothing on stdout, and no stack trace. */
function expectFailure(r: Run, code: 1 | 2, message: RegExp): void {
  expect(r.code, describeRun(r)).toBe(code);
  expect(r.stdout, describeRun(r)).toBe("");
  expect(r.stderr, describeRun(r)).toMatch(/^rnn-wasm: /);
  expect(r.stderr, describeRun(r)).toMatch(message);
  expect(r.stderr).not.toMatch(/internal error|    at /);
}

let dir: string;
beforeAll(() => {
  requireBuild();
  dir = tempDir();
});

describe.concurrent("the binary", () => {
  it("starts and prints the package's version (exit 0)", async () => {
    const r = await cliSpawned(["--version"]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(join(CLI_ROOT, "package.json"), "utf8")).version);
  });

  it("starting loads only what the command runs: --version imports no server, no model-format reader, no chart", async () => {
    // A loader hook in the child prints every module it resolves. fastify and prom-client took 150 ms of every
    // command's start-up when serve's server was a top-level import of main.ts's command modules.
    const hook = `data:text/javascript,export async function resolve(s, c, next) { const r = await next(s, c); ` +
      `if (!r.url.startsWith("node:")) process.stderr.write("loaded " + r.url + "\\n"); return r; }`;
    const register = `data:text/javascript,import { register } from "node:module"; register(${JSON.stringify(hook)});`;
    const r = await new Promise<Run>((resolve) => execFile(process.execPath, ["--import", register, CLI, "--version"],
      { cwd: ROOT, encoding: "utf8" }, (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr })));
    expect(r.code, describeRun(r)).toBe(0);
    const loaded = r.stderr.split("\n").filter((l) => l.startsWith("loaded ")).map((l) => l.slice(7));
    expect(loaded.some((u) => u.endsWith("/dist/main.js")), describeRun(r)).toBe(true); // the hook saw the CLI's own modules
    const heavy = /\/node_modules\/(fastify|prom-client|piscina|csv-parse|cli-progress|asciichart)\/|\/dist\/(serve\/server|run-onnx|run-keras|run-tfjs|inspect-onnx|inspect-keras|inspect-tfjs)\.js$|rnn-wasm\.(onnx|keras|tfjs|serving|worker-pool)\.js$/;
    expect(loaded.filter((u) => heavy.test(u))).toEqual([]);
  });

  it("exit 0: demo from another working directory finds its data", async () => {
    const r = await cliSpawned(["demo", "--runs", "1"], { cwd: tmpdir() });
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toMatch(/data\/lstm-demo\.safetensors/);
    expect(r.stdout).toMatch(/agrees/);
  });

  it("exit 1: a missing model file, named on stderr, nothing on stdout", async () => {
    const r = await cliSpawned(["inspect", join(dir, "nope.safetensors")]);
    expectFailure(r, 1, /model file '.*nope\.safetensors' not found/);
  });

  it("exit 2: no command, the usage on stderr", async () => {
    const r = await cliSpawned([]);
    expect(r.code, describeRun(r)).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/Usage: rnn-wasm/);
  });

  it("a reader that closes stdout early: exit 0, no message", async () => {
    const child = spawn(process.execPath, [CLI, "demo", "--runs", "1"], { cwd: ROOT });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal })));
    child.stdout.once("data", () => child.stdout.destroy()); // `| head -1`: the first line read, then the pipe closed
    expect(await ended, stderr).toEqual({ code: 0, signal: null });
    expect(stderr).toBe("");
  });

  it("--epochs 1e9 runs until Ctrl-C, which ends it at once and leaves no file", async () => {
    const d = join(dir, "interrupted");
    mkdirSync(d);
    const csv = writeSeriesCsv(dir, "series.csv", seasonalSeries(200));
    const child = spawn(process.execPath, [CLI, "train", "--data", csv, "--column", "value", "--window", "12", "--hidden", "4", "--epochs", "1e9", "--validation", "0", "--out", join(d, "m.safetensors")], { cwd: ROOT });
    let stderr = "";
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
    await new Promise<void>((resolve) => child.stderr.on("data", (chunk) => {
      stderr += chunk;
      if (/^epoch +1\/1000000000 /m.test(stderr)) resolve(); // training has begun
    }));
    child.kill("SIGINT");
    expect(await ended).toEqual({ code: null, signal: "SIGINT" });
    expect(readdirSync(d)).toEqual([]);
  });
});

describe.concurrent("bench without --quick, outside a clone of the repository", () => {
  /**
   * The CLI package as npm installs it (package.json, dist/, data/) at `dir`/node_modules/rnn-wasm-cli, or at `dir`/cli
   * beside a copy of the repository's package.json with `inRepo`; every dependency but `omit` linked in.
   */
  function installedCopy(omit: string[], inRepo = false): { dir: string; bin: string } {
    const dir = tempDir();
    const pkg = inRepo ? join(dir, "cli") : join(dir, "node_modules", "rnn-wasm-cli");
    mkdirSync(join(dir, "node_modules"), { recursive: true });
    for (const part of ["package.json", "dist", "data"]) cpSync(join(CLI_ROOT, part), join(pkg, part), { recursive: true });
    for (const dep of readdirSync(join(ROOT, "node_modules"))) {
      if (!omit.includes(dep) && dep !== ".bin" && dep !== "rnn-wasm-cli") symlinkSync(join(ROOT, "node_modules", dep), join(dir, "node_modules", dep));
    }
    if (inRepo) cpSync(join(ROOT, "package.json"), join(dir, "package.json"));
    return { dir, bin: join(pkg, "dist/cli.js") };
  }

  it("without the bench/ sources: says so, and what to run instead (exit 1)", async () => {
    const { dir, bin } = installedCopy([]);
    const r = await cliSpawned(["bench"], { cwd: dir, bin });
    expectFailure(r, 1, /the benchmark suite's sources are not here \(package\.json has no 'bench' script in .*node_modules\): an installed package does not ship bench\//);
    expect(r.stderr).toMatch(/Run 'rnn-wasm bench --quick'.*clone the rnn-wasm repository, run 'npm install' there, then 'npm run bench'/);
  });

  it("with the sources but without tsx: names tsx (exit 1)", async () => {
    const { dir, bin } = installedCopy(["tsx"], true);
    symlinkSync(join(ROOT, "bench"), join(dir, "bench"));
    mkdirSync(join(dir, "node_modules", ".bin"));
    writeFileSync(join(dir, "node_modules", ".bin", "README"), "tsx is deliberately absent\n");
    const r = await cliSpawned(["bench", "--json"], { cwd: dir, bin });
    expectFailure(r, 1, /tsx is not installed in .*: the suite runs bench\/\*\.ts with tsx, a development dependency/);
    expect(r.stdout).toBe("");
  });
});
