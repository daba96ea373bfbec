// src/cli/common.ts: what the commands share: the two error kinds and their exit codes, reading and writing
// safetensors files with messages that name the file, finding the package's own data, and describing a model.
//   exit 0  success
//   exit 1  failure: a file is missing, unreadable or malformed, a tensor is missing or has the wrong shape, ...
//   exit 2  usage: unknown command or option, a bad option value, options that contradict each other or the model
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { InvalidArgumentError } from "commander";
import { loadSafetensors, saveSafetensors, RnnError, type SafetensorsFile, type Spec, type Tensor } from "../index.js";

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

/** Writes float32 tensors as a safetensors file. */
export function writeSafetensorsFile(path: string, tensors: Record<string, Tensor>, metadata?: Record<string, string>): number {
  const bytes = saveSafetensors(tensors, metadata);
  try {
    writeFileSync(path, bytes);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === "ENOENT") throw new CliError(`cannot write output file '${path}': its directory does not exist`);
    throw new CliError(`cannot write output file '${path}': ${err.message}`);
  }
  return bytes.byteLength;
}

/**
 * The package root (the folder of rnn-wasm's package.json), found by walking up from this file, so the CLI finds
 * data/ whether it runs from dist/src/cli/ (built) or src/cli/ (tsx), and from any working directory.
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      try {
        if (JSON.parse(readFileSync(manifest, "utf8")).name === "rnn-wasm") return dir;
      } catch {
        // not ours or not JSON: keep walking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new CliError("cannot find rnn-wasm's package.json above the CLI script");
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
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a positive integer.");
  return n;
}
