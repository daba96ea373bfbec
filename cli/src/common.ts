// cli/src/common.ts: what the commands share: the two error kinds and their exit codes, reading safetensors files
// with messages that name the file, writing output files atomically, finding the package's own data, and
// describing a model.
//   exit 0  success
//   exit 1  failure: a file is missing, unreadable or malformed, a tensor is missing or has the wrong shape, ...
//   exit 2  usage: unknown command or option, a bad option value, options that contradict each other or the model
// Output files are rendered in memory, then written by writeOutputFiles: each to a temporary file in its target's
// directory (`.<name>.<pid>.<random>.tmp`), flushed to disk, then renamed over the target, so a failed write (a full
// disk, a killed process) never leaves a truncated target or destroys the file that was there; on an error the
// temporary file is removed (a process killed mid-write leaves it, beside an intact target). checkOutputs() makes
// the same checks before any work, so a bad path fails in a second, not after training.
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { basename, dirname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { InvalidArgumentError } from "commander";
import { loadSafetensors, RnnError, type SafetensorsFile, type Spec } from "rnn-wasm";

/**
 * Where a command writes: process.stdout / process.stderr when run as `rnn-wasm`, or a test's collector when main()
 * runs in-process. `isTTY` means a terminal: colors, help wrapped to `columns`, and training progress as a bar redrawn
 * in place (cli-progress then moves the cursor, so a stream that says isTTY must be a tty.WriteStream).
 */
export interface CliStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** What one run of the command line reads and writes besides its arguments and files (main.ts). */
export interface CliIo {
  stdout: CliStream;
  stderr: CliStream;
  /** The environment the output depends on: NO_COLOR (https://no-color.org) turns colors off on a terminal. */
  env: Readonly<Record<string, string | undefined>>;
}

/** A failure the user can fix by changing files or data (exit 1). The message is printed after `rnn-wasm: `. */
export class CliError extends Error {
  readonly exitCode = 1;
}

/** A mistake in the command line itself (exit 2). */
export class UsageError extends Error {
  readonly exitCode = 2;
}

/** Reads a whole safetensors file; every failure names the file and what is wrong with it. */
export function readSafetensorsFile(path: string, role: string): SafetensorsFile {
  return parseSafetensorsFile(readFileBytes(path, role), path, role);
}

/** Reads a whole file; a failure names the file, as `<role> file '<path>' ...`. */
export function readFileBytes(path: string, role: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === "ENOENT") throw new CliError(`${role} file '${path}' not found`);
    if (err.code === "EISDIR") throw new CliError(`${role} file '${path}' is a directory, not a safetensors file`);
    throw new CliError(`cannot read ${role} file '${path}': ${err.message}`);
  }
}

/** Parses the bytes of a safetensors file read from `path`; a failure names the file and what is wrong with it. */
export function parseSafetensorsFile(bytes: Uint8Array, path: string, role: string): SafetensorsFile {
  try {
    return loadSafetensors(bytes);
  } catch (e) {
    // The reader's messages already say "safetensors: <what is wrong>".
    if (e instanceof RnnError) throw new CliError(`${role} file '${path}' is not a readable safetensors file: ${e.message.replace(/^safetensors: /, "")}`);
    throw e;
  }
}

/** A file a command writes, rendered in memory first. `role` names it in messages ("model file", "loss chart"). */
export interface OutputFile {
  path: string;
  role: string;
  data: Uint8Array | string;
}

/** The file-system calls writeOutputFiles makes: node:fs's, or (in a test) ones that fail on purpose. */
export interface WriteIo {
  openSync(path: string, flags: string): number;
  writeSync(fd: number, data: Uint8Array, offset: number, length: number): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
}

export const NODE_IO: WriteIo = {
  openSync: (path, flags) => openSync(path, flags),
  writeSync: (fd, data, offset, length) => writeSync(fd, data, offset, length),
  fsyncSync: (fd) => fsyncSync(fd),
  closeSync: (fd) => closeSync(fd),
  renameSync: (from, to) => renameSync(from, to),
  unlinkSync: (path) => unlinkSync(path),
};

/** What an errno means for a file we write, in words. */
function writeProblem(err: NodeJS.ErrnoException, path: string): string {
  const dir = dirname(path);
  switch (err.code) {
    case "ENOENT": return `directory '${dir}' does not exist`;
    case "ENOTDIR": return `'${dir}' is not a directory`;
    case "EISDIR": return "it is a directory";
    case "EACCES": case "EPERM": return `permission denied in '${dir}'`;
    case "EROFS": return `'${dir}' is on a read-only file system`;
    case "ENOSPC": return "no space left on the device";
    case "EDQUOT": return "disk quota exceeded";
    case "ENAMETOOLONG": return "the name is too long";
    default: return err.message ?? String(err);
  }
}

/**
 * Where a write to `path` really lands: a symbolic link is followed (so the link stays a link and its target is
 * replaced), and a device or pipe (/dev/null, /dev/stdout) is written in place, since it cannot be renamed over.
 */
function writeTarget(path: string): { path: string; special: boolean; exists: boolean } {
  try {
    const s = statSync(path);
    if (!s.isFile()) return { path, special: !s.isDirectory(), exists: true };
    return { path: realpathSync(path), special: false, exists: true };
  } catch {
    return { path, special: false, exists: false }; // not there (yet): the rename creates it
  }
}

/** Best effort: flushes a directory's entries, so a rename in it survives a power cut (not every system allows it). */
function syncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // a directory that cannot be opened or flushed (Windows, some network file systems): the rename itself is done
  }
}

/** `.<name>.<pid>.<random>.tmp` beside `path` (the name cut short so the whole stays within NAME_MAX). */
function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path).slice(0, 128)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
}

function removeQuietly(path: string, io: WriteIo): void {
  try {
    io.unlinkSync(path);
  } catch {
    // already gone, or the directory went away: nothing of ours is left to remove
  }
}

/** Writes `data` to a new temporary file beside `path` and flushes it; returns the temporary file's path. */
function writeTemp(path: string, data: Uint8Array, io: WriteIo): string {
  const temp = tempPathFor(path);
  const fd = io.openSync(temp, "wx");
  try {
    for (let at = 0; at < data.byteLength;) at += io.writeSync(fd, data, at, data.byteLength - at);
    io.fsyncSync(fd);
  } catch (e) {
    try { io.closeSync(fd); } catch { /* reported: the write's error */ }
    removeQuietly(temp, io);
    throw e;
  }
  try {
    io.closeSync(fd);
  } catch (e) {
    removeQuietly(temp, io);
    throw e;
  }
  return temp;
}

const bytesOf = (data: Uint8Array | string): Uint8Array => (typeof data === "string" ? new TextEncoder().encode(data) : data);

/**
 * Writes every file or none: each goes to a temporary file in its target's directory and is flushed; only when all
 * are written are they renamed over their targets. On a failure the temporary files are removed, the targets are
 * left as they were, and the CliError names the file and the problem. `io` is for tests.
 */
export function writeOutputFiles(files: readonly OutputFile[], io: WriteIo = NODE_IO): void {
  const targets = files.map((f) => writeTarget(f.path));
  const temps: (string | null)[] = [];
  let k = 0;
  try {
    for (; k < files.length; k++) {
      const data = bytesOf(files[k].data);
      if (targets[k].special) temps.push(null);
      else temps.push(writeTemp(targets[k].path, data, io));
    }
  } catch (e) {
    for (const t of temps) if (t) removeQuietly(t, io);
    const kept = files.length > 1 ? "; nothing was written" : targets[k].exists ? "; the existing file is unchanged" : "";
    throw new CliError(`cannot write ${files[k].role} '${files[k].path}': ${writeProblem(e as NodeJS.ErrnoException, targets[k].path)}${kept}`);
  }
  const written: string[] = [];
  for (k = 0; k < files.length; k++) {
    try {
      if (targets[k].special) writeFileSync(targets[k].path, bytesOf(files[k].data));
      else io.renameSync(temps[k]!, targets[k].path);
      written.push(`'${files[k].path}'`);
    } catch (e) {
      for (const t of temps.slice(k)) if (t) removeQuietly(t, io);
      const already = written.length ? `; ${written.join(", ")} ${written.length > 1 ? "were" : "was"} written` : "";
      throw new CliError(`cannot write ${files[k].role} '${files[k].path}': ${writeProblem(e as NodeJS.ErrnoException, targets[k].path)}${already}`);
    }
  }
  if (io === NODE_IO) for (const dir of new Set(targets.filter((t) => !t.special).map((t) => dirname(t.path)))) syncDirectory(dir);
}

/** An output file the command line names: `option` is the flag that named it, for usage errors. */
export interface OutputPath {
  path: string;
  role: string;
  option: string;
}

/**
 * Fails now, before any work, when a file could not be written where it is asked for: an empty path, a directory
 * that does not exist or is not a directory, a target that is a directory, a directory where a file cannot be
 * created (checked by creating and removing a temporary file, which also catches a read-only file system), two
 * outputs naming one file, or an output naming one of the command's `inputs` (`{ path, option }`).
 */
export function checkOutputs(outputs: readonly OutputPath[], inputs: readonly { path: string; option: string }[] = []): void {
  const seen: { real: string; option: string }[] = inputs.map((i) => ({ real: realOrResolved(i.path), option: i.option }));
  for (const o of outputs) {
    if (o.path === "") throw new UsageError(`${o.option} is empty: name the ${o.role} to write`);
    const real = realOrResolved(o.path);
    const same = seen.find((s) => s.real === real);
    if (same) throw new UsageError(`${o.option} and ${same.option} name the same file '${o.path}'`);
    seen.push({ real, option: o.option });
    checkOutputPath(o.path, o.role);
  }
}

function realOrResolved(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

function checkOutputPath(path: string, role: string): void {
  const fail = (why: string) => new CliError(`cannot write ${role} '${path}': ${why}`);
  if (path.endsWith("/") || path.endsWith(sep)) throw fail("the path ends with a '/', so it names a directory");
  const target = writeTarget(path);
  if (target.special) return; // a device or pipe: written in place, nothing to create beside it
  try {
    if (statSync(target.path).isDirectory()) throw fail("it is a directory");
  } catch (e) {
    if (e instanceof CliError) throw e;
    // not there: the directory's checks below say whether it can be
  }
  const dir = dirname(target.path);
  try {
    if (!statSync(dir).isDirectory()) throw fail(`'${dir}' is not a directory`);
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw fail(writeProblem(e as NodeJS.ErrnoException, target.path));
  }
  let probe: string;
  try {
    probe = writeTemp(target.path, new Uint8Array(0), NODE_IO);
  } catch (e) {
    throw fail(writeProblem(e as NodeJS.ErrnoException, target.path));
  }
  removeQuietly(probe, NODE_IO);
}

/**
 * The package root (the folder of rnn-wasm's package.json), found by walking up from this file, so the CLI finds
 * data/ whether it runs from dist/ (built) or src/ (tsx), and from any working directory.
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      try {
        if (JSON.parse(readFileSync(manifest, "utf8")).name === "rnn-wasm-cli") return dir;
      } catch {
        // not ours or not JSON: keep walking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new CliError("cannot find rnn-wasm-cli's package.json above the CLI script");
    dir = parent;
  }
}

/** `LSTM(inputSize 64, hiddenSize 256, 1 layer)` and so on: what a loaded model is, for messages. */
export function describeSpec(s: Spec): string {
  const name = s.kind.toUpperCase() + (s.cell ? "Cell" : "");
  const parts = [`inputSize ${s.inputSize}`, `hiddenSize ${s.hiddenSize}`];
  if (!s.cell) parts.push(`${s.numLayers} layer${s.numLayers > 1 ? "s" : ""}`);
  if (s.bidirectional) parts.push("bidirectional");
  if (s.projSize) parts.push(`projSize ${s.projSize}`);
  if (!s.bias) parts.push("no bias");
  if (s.kind === "rnn") parts.push(s.nonlinearity);
  if (s.kind === "gru" && !s.resetAfter) parts.push("reset before");
  if (!s.cell && s.batchFirst) parts.push("batch first");
  return `${name}(${parts.join(", ")})`;
}

/** `[128, 1, 64]` */
export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/** JSON for `--json` output: indented two spaces, with arrays of numbers (shapes) kept on one line. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/\[\s+([-+\d.eE,\s]+?)\s+\]/g, (_, inner: string) => `[${inner.split(/,\s*/).join(", ")}]`);
}

/** Parses a positive integer option value (commander passes strings; its error becomes a usage error). */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError("expected a positive integer.");
  return n;
}
