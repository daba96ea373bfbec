// cli/src/main.ts: the `rnn-wasm` command line as a function: main(args, io) parses the arguments, runs the command
// and returns the exit code, writing only to io's streams. cli.ts (the binary) calls it with the process's own; the
// tests call it in-process. One file per command in cli/src/. Errors go to stderr as `rnn-wasm: <what is wrong>`;
// exit codes: 0 success, 1 failure, 2 usage error.
// Nothing here or in the commands calls process.exit, writes to process.stdout/stderr, or keeps state from one call
// to the next (the library's default runtime, init(), is shared, as in any program using it). The one exception is
// `bench` without --quick, which hands the process's own descriptors to `npm run bench` (minutes of output a pipe
// would hold back).
// Every command's module is imported here to register its options, so what only a command's run needs is imported
// when it runs (serve's server with fastify and prom-client, the ONNX, Keras and TF.js readers; lazy.ts for the
// chart, progress bar and CSV reader): `rnn-wasm --version` took 0.42 s, 0.22 now, of which Node itself 0.11 on our
// machines (binary.test.ts checks what it loads).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Command, CommanderError } from "commander";
import { CliError, UsageError, packageRoot, type CliIo } from "./common.js";
import { registerBench } from "./bench.js";
import { registerDemo } from "./demo.js";
import { registerForecastDemo } from "./forecast-demo.js";
import { registerInspect } from "./inspect.js";
import { registerPredict } from "./predict.js";
import { registerQuantize } from "./quantize.js";
import { registerRun } from "./run.js";
import { registerServe } from "./serve/command.js";
import { useColor } from "./terminal-chart.js";
import { registerTrain } from "./train.js";

export type { CliIo, CliStream } from "./common.js";

const USAGE_HINT = "(see 'rnn-wasm --help', or 'rnn-wasm <command> --help')";

function version(): string {
  try {
    return JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")).version;
  } catch {
    return "unknown";
  }
}

/** The program for one run: every command writes through `io`. */
function program(io: CliIo): Command {
  const cli = new Command("rnn-wasm")
    .description("LSTM, GRU and RNN in WebAssembly SIMD, with PyTorch's weights, shapes and results.")
    .version(version(), "-V, --version")
    .showHelpAfterError(USAGE_HINT)
    .configureOutput({
      // help, version and commander's own errors ("error: unknown option '--x'", in our format) through io
      writeOut: (text) => void io.stdout.write(text),
      writeErr: (text) => void io.stderr.write(text),
      outputError: (text, write) => write(`rnn-wasm: ${text.replace(/^error: /, "")}`),
      // help wraps to a terminal's width, and to commander's 80 columns elsewhere
      getOutHelpWidth: () => (io.stdout.isTTY ? io.stdout.columns : undefined) ?? 80,
      getErrHelpWidth: () => (io.stderr.isTTY ? io.stderr.columns : undefined) ?? 80,
      getOutHasColors: () => useColor(io.stdout, io.env),
      getErrHasColors: () => useColor(io.stderr, io.env),
    })
    // Throw instead of exiting, so main() picks the exit code; subcommands made with .command() inherit this and
    // the output configuration.
    .exitOverride();
  registerRun(cli, io);
  registerInspect(cli, io);
  registerQuantize(cli, io);
  registerBench(cli, io);
  registerTrain(cli, io);
  registerPredict(cli, io);
  registerForecastDemo(cli, io);
  registerDemo(cli, io);
  registerServe(cli, io);
  return cli;
}

/** Exit code for a CommanderError: help and version are successes, everything else is a usage error. */
function commanderExitCode(e: CommanderError): number {
  if (e.code === "commander.helpDisplayed" || e.code === "commander.version") return 0;
  if (e.code === "commander.help") return e.exitCode === 0 ? 0 : 2; // help shown because no command was given
  return 2;
}

/**
 * Runs the command line `args` (the arguments after `rnn-wasm`, as process.argv.slice(2)) and returns its exit code;
 * output and error messages go to `io`. Relative paths in `args` are relative to process.cwd().
 */
export async function main(args: readonly string[], io: CliIo): Promise<number> {
  try {
    await program(io).parseAsync([...args], { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return commanderExitCode(e);
    if (e instanceof UsageError) {
      io.stderr.write(`rnn-wasm: ${e.message}\n${USAGE_HINT}\n`);
      return e.exitCode;
    }
    if (e instanceof CliError) {
      io.stderr.write(`rnn-wasm: ${e.message}\n`);
      return e.exitCode;
    }
    // RnnError from the library names its problem; anything else is a bug, so show where it happened.
    const err = e as Error;
    io.stderr.write(err?.name === "RnnError" ? `rnn-wasm: ${err.message}\n` : `rnn-wasm: internal error: ${err?.stack ?? String(e)}\n`);
    return 1;
  }
}
