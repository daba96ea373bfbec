// cli/src/serve/worker.ts: one thread of the server's pool (piscina loads this file in each worker). At start it
// loads its own wasm runtime and its own copy of the model (from the file's bytes, shared by the main thread), once.
// Each task is a batch of raw requests (protocol.ts): every body is decoded and checked here, off the event loop; a
// bad one gets its own 4xx answer and the others still run, as ONE batched forward (ServedModel.run); every answer
// is encoded here and written into the answer slot its request was lent (answer-slots.ts), or, without one or when
// it does not fit, its bytes go back transferred, as a session's new state does.
import { getPriority, setPriority } from "node:os";
import { threadId } from "node:worker_threads";
import { move, workerData, transferableSymbol, valueSymbol } from "piscina";
import { init, RnnError } from "rnn-wasm";
import { ServedModel, type SequenceRequest, type SequenceResult } from "rnn-wasm/serving";
import { writeToSlot } from "./answer-slots.js";
import { BodyError, decodeBody, encodeAnswer, encodeError, ownBytes, ownFloats, type DecodedRequest, type EncodedAnswer } from "./codecs.js";
import { modelInfo, servedModelOptions } from "./model.js";
import type { BatchAnswer, ModelInfo, WorkerData, WorkerMemory, WorkerRequest, WorkerResult, WorkerTask } from "./protocol.js";

const data = workerData as WorkerData;
lowerPriority(data.nice);
const runtime = await init(undefined, data.options.build ? { build: data.options.build } : {});
const model = ServedModel.fromSafetensors(new Uint8Array(data.model).slice(), servedModelOptions(data.options));
const info: ModelInfo = modelInfo(model);

/**
 * Lowers this thread's CPU priority by `nice` (serve's --worker-nice), so that under saturation the HTTP thread runs
 * as soon as it has work: it answers /healthz and moves bytes, and a batch waits for it to hand requests over. On
 * Linux a nice value belongs to each thread, and setpriority() on "0" changes the calling thread's alone; elsewhere
 * it would change the whole process's, the HTTP thread's included, so there this does nothing.
 */
function lowerPriority(nice: number): void {
  if (nice <= 0 || process.platform !== "linux") return;
  try {
    setPriority(0, Math.min(19, getPriority(0) + nice));
  } catch {
    // not permitted (a sandbox without setpriority): the threads keep the HTTP thread's priority
  }
}

/** A result to piscina: its value, and the buffers to transfer (not copy) with it. */
function transferred<T>(value: T, buffers: ArrayBuffer[]): unknown {
  return move({ [transferableSymbol]: buffers, [valueSymbol]: value } as unknown as Parameters<typeof move>[0]);
}

/** An encoded answer as the main thread gets it: its bytes in the request's slot when they fit there. */
function result(status: number, encoded: EncodedAnswer, slot: number): WorkerResult {
  const slotLength = writeToSlot(data.answerSlots, slot, encoded.bytes);
  const out: WorkerResult = { status, contentType: encoded.contentType, slotLength };
  if (slotLength < 0) out.bytes = ownBytes(encoded.bytes); // transferred: a buffer of its own
  if (encoded.headers) out.headers = encoded.headers;
  return out;
}

function errorResult(status: number, message: string, code: string, slot: number): WorkerResult {
  return result(status, encodeError(message, code), slot);
}

/**
 * ONE batched forward of the requests. A batch the wasm memory cannot hold even in halves (ServedModel.run halves it
 * down to single requests before it gives up) is run one request at a time, so that only a request too big alone
 * fails, with its error.
 */
function runAll(requests: SequenceRequest[]): (SequenceResult | RnnError)[] {
  try {
    return model.run(requests, { checked: true }); // runBatch checked each one
  } catch (e) {
    if (!(e instanceof RnnError && e.code === "memory")) throw e;
  }
  return requests.map((r) => {
    try {
      return model.run([r], { checked: true })[0];
    } catch (e) {
      if (e instanceof RnnError && e.code === "memory") return e;
      throw e;
    }
  });
}

/**
 * A raw answer is the output's bytes as they are: the model writes the output straight into the request's answer
 * slot when it fits there, saving a copy and an allocation per answer. Undefined: no slot, or too small.
 */
function outputInSlot(slot: number, steps: number): Float32Array | undefined {
  const { buffer, slotBytes } = data.answerSlots;
  const floats = steps * info.outputSize;
  return slot >= 0 && 4 * floats <= slotBytes ? new Float32Array(buffer, slot * slotBytes, floats) : undefined;
}

/** Decodes, checks, runs and encodes a batch: one result per request, in order. */
function runBatch(requests: WorkerRequest[]): WorkerResult[] {
  const results: (WorkerResult | undefined)[] = new Array(requests.length);
  const runnable: { at: number; request: DecodedRequest }[] = [];
  requests.forEach((r, at) => {
    try {
      const decoded = decodeBody(r.body, info, { format: r.format, shape: r.shape, maxSteps: data.maxSteps, session: r.session !== undefined });
      if (r.session?.state) {
        decoded.h0 = r.session.state.h;
        decoded.c0 = r.session.state.c;
      }
      model.check(decoded as SequenceRequest); // the codecs checked every field; this is the model's own word on it
      if (r.answer === "raw") decoded.output = outputInSlot(r.slot, decoded.steps);
      runnable.push({ at, request: decoded });
    } catch (e) {
      if (e instanceof BodyError) results[at] = errorResult(e.status, e.message, e.code, r.slot);
      else if (e instanceof RnnError) results[at] = errorResult(400, e.message, e.code, r.slot);
      else throw e;
    }
  });
  if (runnable.length) {
    const answers = runAll(runnable.map((r) => r.request));
    runnable.forEach(({ at }, k) => {
      const r = requests[at], a = answers[k];
      if (a instanceof RnnError) return void (results[at] = errorResult(413, `the request does not fit this server's wasm memory: ${a.message}`, "too_large", r.slot));
      const steps = r.session ? r.session.steps + runnable[k].request.steps : undefined;
      results[at] = result(200, encodeAnswer(a, info, r.answer, steps), r.slot);
      if (r.session) results[at]!.session = { state: { h: ownFloats(a.hN), ...(a.cN ? { c: ownFloats(a.cN) } : {}) }, steps: steps! };
    });
  }
  return results as WorkerResult[];
}

const memory = (): WorkerMemory => ({ threadId, memoryBytes: runtime.memoryBytes, blocksInUse: runtime.blocksInUse });

/** The pool's task handler: a batch, or a ping that answers once this worker has its model (start-up). */
export default function handle(task: WorkerTask): unknown {
  if (task.kind === "ping") return memory();
  const results = runBatch(task.requests);
  const buffers = new Set<ArrayBuffer>();
  for (const r of results) {
    if (r.bytes) buffers.add(r.bytes.buffer as ArrayBuffer);
    if (r.session) {
      buffers.add(r.session.state.h.buffer as ArrayBuffer);
      if (r.session.state.c) buffers.add(r.session.state.c.buffer as ArrayBuffer);
    }
  }
  return transferred<BatchAnswer>({ results, memory: memory() }, [...buffers]);
}
