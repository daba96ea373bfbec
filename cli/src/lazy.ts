// cli/src/lazy.ts: a CommonJS dependency loaded on its first use instead of when the CLI starts. main.ts imports every
// command's module to register it, so a top-level import is paid by every command, and by `rnn-wasm --version`; the
// terminal chart (asciichart), the progress bar (cli-progress) and the CSV reader (csv-parse) are needed by a few.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** A function returning the module `id` (required once, on the first call). */
export function lazyRequire<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(id) as T);
}
