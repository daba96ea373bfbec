// test/keras/helpers.ts: the fixtures of scripts/make_keras_fixtures.mjs (a .keras file and its input and expected
// output), and a way to rewrite a .keras file's members for the error tests (fflate, the devDependency fromKeras
// bundles).
import { readFileSync } from "node:fs";
import { strFromU8, strToU8, unzipSync, zipSync } from "fflate";

const DIR = new URL("../fixtures/keras/", import.meta.url);

/** The bytes of test/fixtures/keras/<name>.keras. */
export function kerasFile(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(`${name}.keras`, DIR)));
}

/** The input and expected output stored beside a fixture. */
export interface Io {
  notes: string;
  inputShape: number[];
  input: number[];
  outputShape: number[];
  output: number[];
}

export function io(name: string): Io {
  return JSON.parse(readFileSync(new URL(`${name}.json`, DIR), "utf8"));
}

/** The archive's members. */
export function members(bytes: Uint8Array): Record<string, Uint8Array> {
  return unzipSync(bytes);
}

/** A .keras file with the members of `bytes` changed by `edit` (a member set to undefined is left out). */
export function rezip(bytes: Uint8Array, edit: Record<string, Uint8Array | undefined>): Uint8Array {
  const files: Record<string, Uint8Array> = { ...unzipSync(bytes) };
  for (const [k, v] of Object.entries(edit)) {
    if (v === undefined) delete files[k];
    else files[k] = v;
  }
  return zipSync(files, { level: 0 });
}

/** The file with its config.json changed by `edit` (given the parsed JSON, changing it in place). */
export function withConfig(bytes: Uint8Array, edit: (config: any) => void): Uint8Array {
  const config = JSON.parse(strFromU8(unzipSync(bytes)["config.json"]));
  edit(config);
  return rezip(bytes, { "config.json": strToU8(JSON.stringify(config)) });
}

export { strToU8 };
