// cli/test/helpers.ts: running the command line and reading what it wrote. The CLI's tests call main() in-process
// (cliInProcess: the CLI's sources, no Node start-up, no wasm compiled again per run); binary.test.ts spawns the
// built `rnn-wasm` binary (cli/dist/cli.js) for what needs a real process (cliSpawned; cli() and run() are the same,
// blocking, for the library's example tests). Both use the library's build (dist/): requireLibraryBuild() fails with
// advice when it is missing or older than its sources, and requireBuild() when cli/dist/ is too, rather than testing
// a stale build.
import { execFile, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { loadSafetensors, saveSafetensors, type Tensor } from "rnn-wasm";
import { main, type CliStream } from "../src/main.js";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** The CLI package: cli/ in the repository. */
export const CLI_ROOT = join(ROOT, "cli");
export const CLI = join(CLI_ROOT, "dist/cli.js");
export const FIXTURES = join(ROOT, "test/fixtures");

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Throws a clear error when the library's dist/ or the CLI's cli/dist/ is missing, or older than a src/ file it is built from. */
export function requireBuild(): void {
  checkBuild(true);
}

/** requireBuild() for the library alone: what in-process tests run the CLI's sources on. */
export function requireLibraryBuild(): void {
  checkBuild(false);
}

function checkBuild(binary: boolean): void {
  if (binary && !existsSync(CLI)) throw new Error(`${relative(ROOT, CLI)} does not exist: run \`npm run build\` before the CLI tests`);
  const stale: string[] = [];
  // the library's src/ builds to dist/src/, the CLI's cli/src/ to cli/dist/
  const walk = (dir: string, srcRoot: string, distRoot: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const src = join(dir, e.name);
      if (e.isDirectory()) walk(src, srcRoot, distRoot);
      else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) {
        const built = join(distRoot, relative(srcRoot, src)).replace(/\.ts$/, ".js");
        if (!existsSync(built) || statSync(built).mtimeMs < statSync(src).mtimeMs) stale.push(relative(ROOT, src));
      }
    }
  };
  walk(join(ROOT, "src"), join(ROOT, "src"), join(ROOT, "dist/src"));
  if (binary) walk(join(CLI_ROOT, "src"), join(CLI_ROOT, "src"), join(CLI_ROOT, "dist"));
  for (const build of ["simd", "scalar"]) {
    if (!existsSync(join(ROOT, `build/rnn-${build}.wasm`))) stale.push(`build/rnn-${build}.wasm (missing)`);
  }
  if (stale.length) throw new Error(`the build is older than ${stale.slice(0, 5).join(", ")}${stale.length > 5 ? ", ..." : ""}: run \`npm run build\` before the CLI tests`);
}

/** A stream that keeps what is written to it: as a pipe would deliver it, or as a terminal `columns` wide would. */
function collector(terminal?: { columns: number }): CliStream & { text(): string } {
  const chunks: string[] = [];
  return { write: (text: string) => chunks.push(text), isTTY: Boolean(terminal), columns: terminal?.columns, text: () => chunks.join("") };
}

/**
 * Runs `rnn-wasm ...args` in this process (main() from the CLI's sources) and returns its exit code and output. By
 * default stdout and stderr are pipes and NO_COLOR is set, as for the spawned binary; `stdoutTerminal` makes stdout a
 * terminal of that many columns, with `env` as the environment (stderr stays a pipe: a progress bar needs a real tty).
 */
export async function cliInProcess(args: string[], options: { stdoutTerminal?: number; env?: Record<string, string> } = {}): Promise<Run> {
  const stdout = collector(options.stdoutTerminal ? { columns: options.stdoutTerminal } : undefined), stderr = collector();
  const code = await main(args, { stdout, stderr, env: options.env ?? { NO_COLOR: "1" } });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** Runs `node <bin> ...args` (by default the built binary, cli/dist/cli.js) in a process of its own; its exit code and output. */
export function cliSpawned(args: string[], options: { cwd?: string; bin?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [options.bin ?? CLI, ...args], {
      cwd: options.cwd ?? ROOT, encoding: "utf8", timeout: 60_000, env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
    }, (error, stdout, stderr) => {
      if (error && typeof error.code !== "number") reject(Object.assign(error, { stdout, stderr })); // not started, or killed
      else resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
    });
  });
}

/** cliSpawned(), blocking. */
export function cli(args: string[], options: { cwd?: string; timeout?: number } = {}): Run {
  return run(process.execPath, [CLI, ...args], options);
}

/** Runs `command ...args` (blocking) and returns its exit code and output. */
export function run(command: string, args: string[], options: { cwd?: string; timeout?: number } = {}): Run {
  const r: SpawnSyncReturns<string> = spawnSync(command, args, {
    cwd: options.cwd ?? ROOT,
    encoding: "utf8",
    timeout: options.timeout ?? 60_000,
    env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** What a failed run printed, for assertion messages. */
export function describeRun(r: Run): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "rnn-wasm-cli-"));
}

export function readTensors(path: string): Record<string, Tensor> {
  return loadSafetensors(readFileSync(path)).tensors;
}

export function writeTensors(path: string, tensors: Record<string, Tensor>): string {
  writeFileSync(path, saveSafetensors(tensors));
  return path;
}

export { maxAbsDiff } from "rnn-wasm";
