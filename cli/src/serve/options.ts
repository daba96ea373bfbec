// cli/src/serve/options.ts: the options of `rnn-wasm serve`, their defaults and the limits that refuse absurd values
// (a usage error, exit 2, naming the option and its range). Every size that costs memory or time is bounded.
import { availableParallelism } from "node:os";
import { InvalidArgumentError, Option, type Command } from "commander";
import { BUILDS, type Build, type Kind, type Nonlinearity } from "rnn-wasm";
import { UsageError } from "../common.js";
import { positiveIntUpTo } from "../option-values.js";

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/** What `rnn-wasm serve` is started with (commander's camel-cased names). */
export interface ServeOptions {
  model: string;
  prefix?: string;
  headPrefix: string;
  kind?: Kind;
  nonlinearity?: Nonlinearity;
  resetBefore?: boolean;
  build?: Build;
  host: string;
  port: number;
  threads: number;
  maxBatch: number;
  maxWaitMs: number;
  maxQueue: number;
  maxBody: number;
  maxSteps: number;
  sessionTtl: number;
  maxSessions: number;
  maxSessionBytes: number;
  drainTimeout: number;
  workerNice: number;
  /** Answer slots (answer-slots.ts); 0: none, every answer transferred. */
  answerSlots: number;
  answerSlotBytes: number;
  logLevel: LogLevel;
}

/** The defaults, and the largest value each option takes. */
export const SERVE_DEFAULTS = {
  host: "127.0.0.1",
  port: 8080,
  headPrefix: "head.",
  maxBatch: 16,
  maxWaitMs: 1,
  maxQueue: 256,
  maxBody: 16 * 2 ** 20,
  maxSteps: 4096,
  sessionTtl: 300,
  maxSessions: 10_000,
  maxSessionBytes: 256 * 2 ** 20,
  drainTimeout: 30,
  workerNice: 10,
  answerSlotBytes: 512 * 2 ** 10,
  logLevel: "info" as LogLevel,
};

export const SERVE_LIMITS = {
  /** Each thread holds a wasm instance and a copy of the weights: more than this on one machine is a typo. */
  threads: 256,
  /** A batch's padded input is maxBatch x maxSteps x I floats in one wasm memory. */
  maxBatch: 1024,
  /** A batch that waited this long is no longer a batching delay but an outage. */
  maxWaitMs: 1000,
  maxQueue: 1_000_000,
  /** Bodies are held whole in memory. */
  maxBody: 2 ** 30,
  maxSteps: 1_000_000,
  /** A week. */
  sessionTtl: 7 * 24 * 3600,
  maxSessions: 10_000_000,
  maxSessionBytes: 2 ** 34,
  drainTimeout: 3600,
  /** Linux's nice values go from -20 to 19. */
  workerNice: 19,
  /** The slots are one SharedArrayBuffer: count x size stays under 2^31 bytes with these two. */
  answerSlots: 65_536,
  answerSlotBytes: 2 ** 15 * 1024,
};

const LOG_LEVELS: LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/** A port: 0 (any free one) to 65535. */
function port(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError("expected a port number from 0 to 65535 (0: any free port).");
  return n;
}

/** A number of seconds above 0 and at most `max` (fractions allowed: 0.5). */
function seconds(max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("expected a number of seconds above 0.");
    if (n > max) throw new InvalidArgumentError(`expected a number of seconds up to ${max.toLocaleString("en-US")}.`);
    return n;
  };
}

/** Milliseconds from 0 to `max`. */
function milliseconds(max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || n < 0 || n > max) throw new InvalidArgumentError(`expected a number of milliseconds from 0 to ${max}.`);
    return n;
  };
}

/** A byte count: a whole number, or one with a binary suffix (64k, 16m, 1g: KiB, MiB, GiB), from 1 to `max`. */
export function bytes(max: number): (value: string) => number {
  return (value) => {
    const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([kmg])?i?b?\s*$/i.exec(value);
    const n = m ? Number(m[1]) * 1024 ** " kmg".indexOf((m[2] ?? " ").toLowerCase()) : NaN;
    if (!Number.isFinite(n) || n < 1 || !Number.isInteger(n)) throw new InvalidArgumentError("expected a number of bytes, such as 1048576, 64k or 16m.");
    if (n > max) throw new InvalidArgumentError(`expected at most ${max.toLocaleString("en-US")} bytes.`);
    return n;
  };
}

/** A whole number from 0 to `max`. */
function intUpTo(max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isInteger(n) || n < 0 || n > max) throw new InvalidArgumentError(`expected a whole number from 0 to ${max}.`);
    return n;
  };
}

const fmt = (n: number) => n.toLocaleString("en-US");

/** Adds serve's options to its command. */
export function addServeOptions(command: Command): Command {
  const d = SERVE_DEFAULTS, L = SERVE_LIMITS;
  return command
    .requiredOption("--model <file>", "the model: a PyTorch state_dict saved as safetensors (an nn.LSTM, nn.GRU or nn.RNN, optionally with an nn.Linear head), or a file from 'rnn-wasm train'")
    .option("--prefix <prefix>", "the recurrent module's key prefix, such as 'encoder.lstm.' (default: found in the file)")
    .option("--head-prefix <prefix>", "where the optional Linear head's weight and bias are", d.headPrefix)
    .addOption(new Option("--kind <kind>", "the model's kind (default: inferred from the weights)").choices(["lstm", "gru", "rnn"]))
    .addOption(new Option("--nonlinearity <fn>", "RNN only: the activation (default tanh; a state_dict does not record it)").choices(["tanh", "relu"]))
    .option("--reset-before", "GRU only: apply the reset gate before the recurrent matmul (PyTorch applies it after)")
    .addOption(new Option("--build <build>", "wasm build (default: the fastest this engine supports)").choices([...BUILDS]))
    .option("--host <address>", "the address to listen on (0.0.0.0: every interface)", d.host)
    .option("--port <n>", "the port to listen on (0: any free port; the line printed at start names it)", port, d.port)
    .option("--threads <n>", `worker threads, each with its own copy of the model (default: this machine's parallelism, ${availableParallelism()}; at most ${L.threads})`, positiveIntUpTo(L.threads))
    .option("--max-batch <n>", `most requests run as one batched forward (at most ${fmt(L.maxBatch)})`, positiveIntUpTo(L.maxBatch), d.maxBatch)
    .option("--max-wait-ms <ms>", `how long a request may wait for others to join its batch (0 to ${L.maxWaitMs})`, milliseconds(L.maxWaitMs), d.maxWaitMs)
    .option("--max-queue <n>", "most requests waiting for a thread; beyond it: 429 with Retry-After", positiveIntUpTo(L.maxQueue), d.maxQueue)
    .option("--max-body <bytes>", "largest request body (such as 1048576, 64k, 16m); larger: 413, the rest read and dropped (up to 16 MiB or twice this, then the connection is closed)", bytes(L.maxBody), d.maxBody)
    .option("--max-steps <n>", "most timesteps in one request; more: 413", positiveIntUpTo(L.maxSteps), d.maxSteps)
    .option("--session-ttl <seconds>", "a session unused this long is forgotten", seconds(L.sessionTtl), d.sessionTtl)
    .option("--max-sessions <n>", "most sessions kept; a new one beyond it is refused (429) until others end or expire", positiveIntUpTo(L.maxSessions), d.maxSessions)
    .option("--max-session-bytes <bytes>", "most bytes of state kept for all sessions together (such as 256m)", bytes(L.maxSessionBytes), d.maxSessionBytes)
    .option("--drain-timeout <seconds>", "on SIGTERM or SIGINT, how long to wait for requests in flight before closing their connections", seconds(L.drainTimeout), d.drainTimeout)
    .option("--worker-nice <n>", `Linux: how much lower the worker threads' CPU priority is than the HTTP thread's (a nice increment, 0 to ${L.workerNice}; 0: the same). Under saturation the HTTP thread, which answers /healthz and moves bytes, then runs as soon as it has work`, intUpTo(L.workerNice), d.workerNice)
    .option("--answer-slots <n>", `answers written into reusable shared buffers instead of a fresh one each (0 to ${fmt(L.answerSlots)}; default 2 x --threads x --max-batch, in at most 1 GiB; 0: none). An answer that finds none free, or is larger than one, is sent the old way`, intUpTo(L.answerSlots))
    .option("--answer-slot-bytes <bytes>", "the size of one answer slot (such as 512k): the largest answer a slot holds (a JSON answer takes about 12 bytes a number, a raw one 4)", bytes(L.answerSlotBytes), d.answerSlotBytes)
    .addOption(new Option("--log-level <level>", "structured logs (JSON lines on stderr): 'debug' adds one line per request").choices(LOG_LEVELS).default(d.logLevel));
}

/** Fills the defaults commander cannot know (--threads) and checks what the options say together. */
export function resolveServeOptions(o: Partial<ServeOptions> & { model: string }): ServeOptions {
  const out = { ...SERVE_DEFAULTS, ...o, threads: o.threads ?? Math.min(availableParallelism(), SERVE_LIMITS.threads) } as ServeOptions;
  // Two batches' answers per thread (one being written to the sockets while the next computes), in at most 1 GiB.
  out.answerSlots ??= Math.min(2 * out.threads * out.maxBatch, SERVE_LIMITS.answerSlots, Math.floor(2 ** 30 / out.answerSlotBytes));
  if (out.answerSlots * out.answerSlotBytes > 2 ** 31) throw new UsageError(`--answer-slots ${out.answerSlots} x --answer-slot-bytes ${out.answerSlotBytes} is more than 2 GiB of answer slots`);
  if (out.kind && out.nonlinearity && out.kind !== "rnn") throw new UsageError(`--nonlinearity is an RNN option, but --kind is ${out.kind}`);
  if (out.kind && out.resetBefore && out.kind !== "gru") throw new UsageError(`--reset-before is a GRU option, but --kind is ${out.kind}`);
  return out;
}
