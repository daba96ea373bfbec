// src/worker-pool/pool.ts: ModelPool, a model served from node:worker_threads so the event loop stays free.
//   main thread: predict() checks shapes, copies the request once into buffers of its own, and submits it to a
//     DynamicBatcher (bounded queue, maxBatch, maxWaitMs, abort while queued) whose `concurrency` is the number of
//     workers; each batch goes to an idle worker with its buffers transferred (moved, not copied again);
//   each worker (worker.ts): its own wasm runtime and ServedModel, loaded once; checks every request alone (a bad
//     one is refused without spoiling its batch), runs the rest as one ServedModel.run, transfers the results back.
// close() drains the batcher (what is queued still runs), then terminates the workers.
import { availableParallelism, cpus } from "node:os";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { RnnError } from "../errors.js";
import { describeValue, knownKeys, optionsObject } from "../options.js";
import { checkTensor, type Tensor } from "../tensor.js";
import { BUILDS, type Build } from "../runtime.js";
import { DynamicBatcher } from "../serving/batcher.js";
import { SERVED_MODEL_KEYS, type ServedModelOptions } from "../serving/model-file.js";
import type { ModelInfo, SequenceRequest } from "../serving/served-model.js";
import { buffersOf, type CrossError, type FromWorker, type Outcome, type RunBatch, type WorkerSetup } from "./messages.js";

// The worker script is shipped beside this module's bundle (dist/rnn-wasm.worker-pool.js). The URL is built from a
// variable so that bundlers do not try to resolve it; in a CommonJS bundle import.meta is empty and __filename is it.
const HERE = import.meta.url ?? pathToFileURL(__filename).href;
const WORKER_FILE = "./rnn-wasm.pool-worker.js";

/** How to read the model, and the pool's threads and batching limits. */
export interface ModelPoolOptions extends Omit<ServedModelOptions, "runtime" | "seed"> {
  /** Worker threads, each with its own copy of the model; default `os.availableParallelism()`. */
  threads?: number;
  /** Most requests in one batched forward; default 16. */
  maxBatch?: number;
  /** How long the oldest queued request waits for others to join its batch, in ms; default 1. */
  maxWaitMs?: number;
  /** Most requests waiting for a worker; one more is refused with 'overloaded'. Default 1024. */
  maxQueue?: number;
  /** The wasm build every worker loads (default: the fastest this engine runs, as `init()` picks). */
  build?: Build;
}

/** Per-request options of {@link ModelPool.predict}. */
export interface PredictOptions {
  /** Initial h, `[LD, P]`; zeros when absent. */
  h0?: Tensor;
  /** LSTM only: initial c, `[LD, H]`; zeros when absent. */
  c0?: Tensor;
  /** Cancels the request while it waits for a worker ('aborted'); once its batch started it runs to the end. */
  signal?: AbortSignal;
}

/** What {@link ModelPool.predict} answers: PyTorch's `output, h_n, c_n` of one sequence, and the head's output. */
export interface Prediction {
  /** `[T, D*P]`: the last layer's h at every step. */
  output: Tensor;
  /** `[T, O]`: the head at every step, when the model has one. */
  head?: Tensor;
  /** `[LD, P]`: the state after the last step. */
  hN: Tensor;
  /** LSTM only, `[LD, H]`. */
  cN?: Tensor;
}

const POOL_KEYS = [...SERVED_MODEL_KEYS.filter((k) => k !== "runtime" && k !== "seed"), "threads", "maxBatch", "maxWaitMs", "maxQueue", "build"];

function fromCross(e: CrossError): Error {
  return e.code ? new RnnError(e.code, e.message) : new Error(e.message);
}

/** One worker and the batch it is running. */
class Thread {
  alive = true;
  private nextId = 0;
  private pending: { id: number; resolve: (o: Outcome[]) => void; reject: (e: Error) => void } | null = null;

  constructor(readonly worker: Worker, onDeath: (t: Thread) => void) {
    worker.on("message", (m: FromWorker) => {
      if (m.type !== "done" || m.id !== this.pending?.id) return;
      const p = this.pending;
      this.pending = null;
      p.resolve(m.outcomes);
    });
    const die = (why: string) => {
      if (!this.alive) return;
      this.alive = false;
      this.pending?.reject(new Error(`a ModelPool worker ${why} while running a batch`));
      this.pending = null;
      onDeath(this);
    };
    worker.on("error", (e: Error) => die(`failed (${e.message})`));
    worker.on("exit", (code) => die(`exited with code ${code}`));
  }

  run(requests: SequenceRequest[]): Promise<Outcome[]> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.pending = { id, resolve, reject };
      const message: RunBatch = { id, requests };
      this.worker.postMessage(message, buffersOf(requests.flatMap((r) => [r.input, r.h0, r.c0])));
    });
  }
}

/** Starts one worker and resolves with the model's sizes once it has loaded, or rejects with why it could not. */
function startWorker(setup: WorkerSetup): { worker: Worker; ready: Promise<ModelInfo> } {
  const worker = new Worker(new URL(WORKER_FILE, HERE), { workerData: setup });
  const ready = new Promise<ModelInfo>((resolve, reject) => {
    const onMessage = (m: FromWorker) => {
      if (m.type === "ready") resolve(m.info);
      else if (m.type === "failed") reject(fromCross(m.error));
      if (m.type !== "done") worker.off("message", onMessage);
    };
    worker.on("message", onMessage);
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new RnnError("init", `a ModelPool worker exited with code ${code} before loading the model`)));
  });
  return { worker, ready };
}

/**
 * A model served from worker threads (Node only): each worker loads its own wasm runtime and copy of the model
 * once; concurrent {@link ModelPool.predict} calls are batched (at most `maxBatch`, waiting at most `maxWaitMs`)
 * and each batch runs as one batched forward in an idle worker, so the event loop only moves buffers. The queue is
 * bounded (`maxQueue`; beyond it 'overloaded'), a request can be cancelled while it waits, and `close()` drains.
 *
 * @example
 * ```ts
 * import { tensor } from "rnn-wasm";
 * import { ModelPool } from "rnn-wasm/worker-pool";
 * const pool = await ModelPool.create("model.safetensors", { threads: 2, maxBatch: 16, maxWaitMs: 1 });
 * const { output, hN } = await pool.predict(tensor([5, pool.info.inputSize])); // output [5, outputSize]
 * await pool.close();
 * ```
 */
export class ModelPool {
  /** The model's sizes, as the workers loaded it. */
  readonly info: ModelInfo;
  /** Called with each batch's size as it is sent to a worker (for metrics, or a test counting batches). */
  onBatch?: (size: number) => void;
  private readonly threads: Thread[];
  private readonly idle: Thread[];
  private readonly waiting: { resolve: (t: Thread) => void; reject: (e: Error) => void }[] = [];
  private readonly batcher: DynamicBatcher<SequenceRequest, Outcome>;
  private closing: Promise<void> | null = null;

  private constructor(workers: Worker[], info: ModelInfo, limits: { maxBatch: number; maxWaitMs: number; maxQueue: number }) {
    this.info = info;
    this.threads = workers.map((w) => new Thread(w, (t) => this.lost(t)));
    this.idle = [...this.threads];
    this.batcher = new DynamicBatcher((requests) => this.runBatch(requests), { ...limits, concurrency: workers.length });
    this.batcher.onBatch = (size) => this.onBatch?.(size);
  }

  /**
   * Starts the workers and loads the model in each; resolves when every one has loaded.
   *
   * @param model a safetensors file's bytes (copied to each worker), or its path (each worker reads it)
   * @param options how to read the model ({@link ServedModelOptions}), threads and batching limits
   * @throws (rejects) RnnError naming the tensor or option as `ServedModel.fromSafetensors` does (the worker's
   *   message and code), `unexpected` for an invalid option, `init` when a worker cannot start; no worker is left
   *   running after a rejection
   */
  static async create(model: Uint8Array | string, options: ModelPoolOptions = {}): Promise<ModelPool> {
    const o = optionsObject("ModelPool options", options) as ModelPoolOptions;
    knownKeys("ModelPool", o, POOL_KEYS);
    if (typeof model !== "string" && !(model instanceof Uint8Array)) {
      throw new RnnError("unexpected", `ModelPool.create takes a safetensors file's bytes (a Uint8Array) or its path, got ${describeValue(model)}`);
    }
    const count = (name: string, v: unknown, fallback: number, min: number) => {
      if (v === undefined) return fallback;
      if (!Number.isSafeInteger(v) || (v as number) < min) throw new RnnError("unexpected", `${name} must be a whole number >= ${min}, got ${describeValue(v)}`);
      return v as number;
    };
    const threads = count("threads", o.threads, typeof availableParallelism === "function" ? availableParallelism() : cpus().length, 1);
    const limits = { maxBatch: count("maxBatch", o.maxBatch, 16, 1), maxWaitMs: o.maxWaitMs ?? 1, maxQueue: count("maxQueue", o.maxQueue, 1024, 1) };
    if (typeof limits.maxWaitMs !== "number" || !(limits.maxWaitMs >= 0) || !Number.isFinite(limits.maxWaitMs)) {
      throw new RnnError("unexpected", `maxWaitMs must be a number of milliseconds >= 0, got ${describeValue(limits.maxWaitMs)}`);
    }
    if (o.build !== undefined && !BUILDS.includes(o.build)) throw new RnnError("unexpected", `build must be ${BUILDS.map((b) => `'${b}'`).join(" or ")}, got ${describeValue(o.build)}`);
    const { threads: _t, maxBatch: _b, maxWaitMs: _w, maxQueue: _q, build, ...served } = o;
    const setup: WorkerSetup = { model, options: served, ...(build ? { build } : {}) };

    const started = Array.from({ length: threads }, () => startWorker(setup));
    const loaded = await Promise.allSettled(started.map((s) => s.ready));
    const failed = loaded.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) {
      await Promise.all(started.map((s) => s.worker.terminate()));
      throw failed.reason;
    }
    return new ModelPool(started.map((s) => s.worker), (loaded[0] as PromiseFulfilledResult<ModelInfo>).value, limits);
  }

  /** Requests waiting for a worker. */
  get queued(): number {
    return this.batcher.queued;
  }

  /** Batches running in workers. */
  get inFlight(): number {
    return this.batcher.inFlight;
  }

  /**
   * Runs one sequence in a worker, batched with whatever else arrives within `maxWaitMs`. The input and states are
   * copied once into buffers that are moved to the worker, so the caller's tensors stay usable.
   *
   * @param input `[T, I]`: one sequence, I = `info.inputSize`
   * @param options initial state and an AbortSignal; see {@link PredictOptions}
   * @returns the sequence's output, head output (if any) and final state, as Tensors
   * @throws (rejects) RnnError `shape`/`dtype` for a malformed tensor, `nonfinite` for NaN (checked in the worker),
   *   `overloaded` when `maxQueue` requests wait, `aborted` when the signal fires first, `closed` after close()
   */
  async predict(input: Tensor, options: PredictOptions = {}): Promise<Prediction> {
    if (this.closing) throw new RnnError("closed", "this ModelPool is closed and takes no more requests");
    const o = optionsObject("predict options", options) as PredictOptions;
    knownKeys("predict", o, ["h0", "c0", "signal"]);
    const { inputSize: I, stateShape, outputSize: F, headSize: O } = this.info;
    const x = checkTensor("input", input, [null, I], "propagate");
    const T = x.shape[0];
    if (T < 1) throw new RnnError("shape", `input has shape [${x.shape.join(", ")}]: it needs at least one timestep`);
    const request: SequenceRequest = { input: new Float32Array(x.data), steps: T };
    if (o.h0 !== undefined) request.h0 = new Float32Array(checkTensor("h0", o.h0, stateShape.h, "propagate").data);
    if (o.c0 !== undefined) {
      if (!stateShape.c) throw new RnnError("unexpected", `c0 is only for an LSTM; a ${this.info.kind.toUpperCase()} has no cell state`);
      request.c0 = new Float32Array(checkTensor("c0", o.c0, stateShape.c, "propagate").data);
    }
    const outcome = await this.batcher.submit(request, o.signal);
    if ("error" in outcome) throw fromCross(outcome.error);
    const r = outcome.result;
    return {
      output: { shape: [T, F], data: r.output },
      ...(r.head ? { head: { shape: [T, O], data: r.head } } : {}),
      hN: { shape: [...stateShape.h], data: r.hN },
      ...(r.cN && stateShape.c ? { cN: { shape: [...stateShape.c], data: r.cN } } : {}),
    };
  }

  /**
   * Refuses new requests ('closed'), lets every queued and running one finish, then terminates the workers.
   * Safe to call twice (the same promise).
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.batcher.close();
      for (const t of this.threads) t.alive = false;
      for (const w of this.waiting.splice(0)) w.reject(new RnnError("closed", "this ModelPool is closed"));
      await Promise.all(this.threads.map((t) => t.worker.terminate()));
    })();
    return this.closing;
  }

  /** A batch from the batcher: on the next idle worker. */
  private async runBatch(requests: SequenceRequest[]): Promise<Outcome[]> {
    const thread = await this.acquire();
    try {
      return await thread.run(requests);
    } finally {
      if (thread.alive) this.release(thread);
    }
  }

  private acquire(): Promise<Thread> {
    const t = this.idle.pop();
    if (t) return Promise.resolve(t);
    if (!this.threads.some((x) => x.alive)) return Promise.reject(new RnnError("closed", "every worker of this ModelPool has exited"));
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private release(t: Thread): void {
    const next = this.waiting.shift();
    if (next) next.resolve(t);
    else this.idle.push(t);
  }

  /** A worker that died: never used again; when none is left, nothing waiting for one can run. */
  private lost(t: Thread): void {
    const at = this.idle.indexOf(t);
    if (at >= 0) this.idle.splice(at, 1);
    if (!this.threads.some((x) => x.alive)) {
      for (const w of this.waiting.splice(0)) w.reject(new RnnError("closed", "every worker of this ModelPool has exited"));
    }
  }
}
