#!/usr/bin/env node
// cli/src/cli.ts: the `rnn-wasm` command (package.json "bin"; built to dist/cli.js). One file per command in
// cli/src/. Errors go to stderr as `rnn-wasm: <what is wrong>`; exit codes: 0 success, 1 failure, 2 usage error.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Command, CommanderError } from "commander";
import { CliError, UsageError, packageRoot } from "./common.js";
import { registerBench } from "./bench.js";
import { registerDemo } from "./demo.js";
import { registerForecastDemo } from "./forecast-demo.js";
import { registerInspect } from "./inspect.js";
import { registerPredict } from "./predict.js";
import { registerRun } from "./run.js";
import { registerTrain } from "./train.js";

const USAGE_HINT = "(see 'rnn-wasm --help', or 'rnn-wasm <command> --help')";

function version(): string {
  try {
    return JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")).version;
  } catch {
    return "unknown";
  }
}

function program(): Command {
  const cli = new Command("rnn-wasm")
    .description("LSTM, GRU and RNN in WebAssembly SIMD, with PyTorch's weights, shapes and results.")
    .version(version(), "-V, --version")
    .showHelpAfterError(USAGE_HINT)
    .configureOutput({
      // Commander's own errors ("error: unknown option '--x'") in our format.
      outputError: (text, write) => write(`rnn-wasm: ${text.replace(/^error: /, "")}`),
    })
    // Throw instead of exiting, so main() picks the exit code; subcommands made with .command() inherit this.
    .exitOverride();
  registerRun(cli);
  registerInspect(cli);
  registerBench(cli);
  registerTrain(cli);
  registerPredict(cli);
  registerForecastDemo(cli);
  registerDemo(cli);
  return cli;
}

/** Exit code for a CommanderError: help and version are successes, everything else is a usage error. */
function commanderExitCode(e: CommanderError): number {
  if (e.code === "commander.helpDisplayed" || e.code === "commander.version") return 0;
  if (e.code === "commander.help") return e.exitCode === 0 ? 0 : 2; // help shown because no command was given
  return 2;
}

async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return commanderExitCode(e);
    if (e instanceof UsageError) {
      process.stderr.write(`rnn-wasm: ${e.message}\n${USAGE_HINT}\n`);
      return e.exitCode;
    }
    if (e instanceof CliError) {
      process.stderr.write(`rnn-wasm: ${e.message}\n`);
      return e.exitCode;
    }
    // RnnError from the library names its problem; anything else is a bug, so show where it happened.
    const err = e as Error;
    process.stderr.write(err?.name === "RnnError" ? `rnn-wasm: ${err.message}\n` : `rnn-wasm: internal error: ${err?.stack ?? String(e)}\n`);
    return 1;
  }
}

// `rnn-wasm demo | head`: a reader that stops early is not an error of ours.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw e;
});

process.exitCode = await main(process.argv);
