#!/usr/bin/env node
// cli/src/cli.ts: the `rnn-wasm` binary (package.json "bin"; built to dist/cli.js): main() (main.ts) on this process's
// arguments and streams, its result the exit code.
import { main } from "./main.js";

// `rnn-wasm demo | head`: a reader that stops early is not an error of ours.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw e;
});

process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
