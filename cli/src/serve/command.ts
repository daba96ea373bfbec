// cli/src/serve/command.ts: `rnn-wasm serve`: registers the command and runs the server until SIGTERM or SIGINT,
// then drains (server.ts's close: stop accepting, answer what is in flight, end the pool) and returns, exit 0. A
// second signal while draining closes every connection at once. The one line on stdout names the URL once the
// server listens; logs are JSON lines on stderr.
import type { Command } from "commander";
import type { CliIo } from "../common.js";
import { addServeOptions, resolveServeOptions, type ServeOptions } from "./options.js";

const HELP = `
Endpoints (every error is JSON: {"error": "<what is wrong>", "code": "<short code>"}):
  POST   /v1/predict           a whole sequence, as JSON:
                               {"input": [[I numbers], ...one row per step], "state"?: {"h", "c"}}
                               -> {"output": [[D*P numbers], ...], "head"?: [...], "state": {"h", "c"?}}
                               or raw float32 (application/octet-stream, header X-Shape: T,I),
                               or safetensors (application/vnd.safetensors: input, h0, c0
                               -> output, head, h_n, c_n)
  POST   /v1/sessions/ID/step  the next chunk of a stream: the same bodies without a state, which
                               the server keeps; answers output (and head) and "steps"
  DELETE /v1/sessions/ID       ends a session (204; 404 when there is none)
  GET    /v1/model             the model's sizes
  GET    /healthz              200, or 503 while draining
  GET    /metrics              Prometheus text

Example (from the repository root):
  $ rnn-wasm serve --model cli/data/lstm-demo.safetensors --port 8080
  $ curl -s localhost:8080/v1/predict -H 'content-type: application/json' -d '{"input": [[...64 numbers]]}'`;

export function registerServe(program: Command, io: CliIo): void {
  const command = program
    .command("serve")
    .summary("serve a model over HTTP: batched, on worker threads, with sessions for streams")
    .description("Serve a recurrent model over HTTP (fastify): requests are batched (--max-batch, --max-wait-ms) and run on a pool of worker threads, each with its own copy of the model; streams keep their state in sessions.");
  addServeOptions(command)
    .addHelpText("after", HELP)
    .action(async (flags: ServeOptions) => {
      const o = resolveServeOptions(flags);
      // The signals are watched from the start: one during start-up stops the server as soon as it is up.
      const signals = watchSignals();
      try {
        // loaded here, not at the top: fastify and prom-client take ~150 ms to import, which every other command
        // (and `rnn-wasm --version`) would pay
        const { startServer } = await import("./server.js");
        const server = await startServer(o, io.stderr);
        signals.onForce = () => server.forceClose();
        io.stdout.write(`rnn-wasm serve: ${server.info.description} from '${o.model}' on ${server.threads} thread${server.threads > 1 ? "s" : ""}, listening at ${server.url}\n`);
        await signals.first;
        await server.close();
      } finally {
        signals.dispose();
      }
    });
}

/** SIGTERM and SIGINT: `first` resolves on the first; a second calls onForce (closes every connection at once). */
function watchSignals(): { first: Promise<void>; onForce?: () => void; dispose(): void } {
  let count = 0;
  let stop!: () => void;
  const watch = {
    first: new Promise<void>((resolve) => (stop = resolve)),
    onForce: undefined as (() => void) | undefined,
    dispose: () => {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
    },
  };
  function onSignal() {
    if (++count === 1) stop();
    else watch.onForce?.();
  }
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  return watch;
}
