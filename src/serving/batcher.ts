// src/serving/batcher.ts: dynamic batching (Triton's dynamic batcher, TorchServe's batch_size/max_batch_delay):
// items submitted one at a time are collected into batches for one `run` call each.
//   - a batch holds at most maxBatch items, oldest first; when several slots are free, what waits is shared evenly
//     among them (idle threads are used rather than one full batch and idle slots);
//   - it starts when one of `concurrency` slots is free and either maxBatch items wait or the oldest has waited
//     maxWaitMs (0: as soon as a slot is free, with whatever waits);
//   - at most maxQueue items wait; one more is refused at once ('overloaded'), so a saturated server sheds load
//     instead of queueing without bound;
//   - an item whose AbortSignal fires while it waits, or that is withdrawn, leaves the queue ('aborted'); once its
//     batch started it runs;
//   - a `run` that throws or rejects fails only the items of its batch.
// Runtime-neutral: setTimeout and performance.now only. Not Date.now: its whole milliseconds would let an item that
// arrived at 5.9 ms count as due at 6.0 under maxWaitMs 1, halving the average wait a batch gets to fill.
import { RnnError } from "../errors.js";
import { describeValue, knownKeys, optionsObject } from "../options.js";

/** Limits of a {@link DynamicBatcher}. */
export interface BatcherOptions {
  /** Most items in one batch (at least 1). */
  maxBatch: number;
  /** How long the oldest waiting item may wait for others to join it, in ms (0: no waiting). */
  maxWaitMs: number;
  /** Most items waiting (not yet in a running batch); one more is refused with 'overloaded' (at least 1). */
  maxQueue: number;
  /** Most batches running at once (at least 1): for a model in one thread, 1. */
  concurrency: number;
}

interface Waiting<Item, Result> {
  item: Item;
  since: number;
  resolve: (r: Result) => void;
  reject: (e: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

function positiveInteger(name: string, v: unknown): number {
  if (!Number.isSafeInteger(v) || (v as number) < 1) throw new RnnError("unexpected", `${name} must be a whole number >= 1, got ${describeValue(v)}`);
  return v as number;
}

/**
 * Collects submitted items into batches for one `run` call each: at most `maxBatch` items, started when a slot is
 * free and the batch is full or its oldest item has waited `maxWaitMs`. See {@link BatcherOptions}.
 *
 * @typeParam Item what a caller submits (for a {@link ServedModel}: a {@link SequenceRequest})
 * @typeParam Result what `run` returns for one item
 * @example
 * ```ts
 * const batcher = new DynamicBatcher(async (items: SequenceRequest[]) => model.run(items),
 *   { maxBatch: 16, maxWaitMs: 1, maxQueue: 256, concurrency: 1 });
 * const { output } = await batcher.submit({ input, steps: 5 }); // runs with whatever else arrived within 1 ms
 * await batcher.close();
 * ```
 */
export class DynamicBatcher<Item, Result> {
  /** Called with each batch's size as it starts (for metrics: a batch-size histogram). */
  onBatch?: (size: number) => void;
  private readonly run: (items: Item[]) => Promise<Result[]>;
  private readonly options: BatcherOptions;
  private readonly queue: Waiting<Item, Result>[] = [];
  private running = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closing: Promise<void> | null = null;
  private drained: (() => void) | null = null;

  /**
   * A batcher over `run`.
   *
   * @param run answers a batch: one result per item, in order (a wrong count rejects the batch's items)
   * @param options the limits; see {@link BatcherOptions}
   * @throws RnnError `unexpected` for a limit that is not a whole number >= 1 (maxWaitMs: a number >= 0)
   */
  constructor(run: (items: Item[]) => Promise<Result[]>, options: BatcherOptions) {
    if (typeof run !== "function") throw new RnnError("unexpected", `DynamicBatcher needs a run function, got ${describeValue(run)}`);
    const o = optionsObject("DynamicBatcher options", options) as BatcherOptions;
    knownKeys("DynamicBatcher", o, ["maxBatch", "maxWaitMs", "maxQueue", "concurrency"]);
    if (typeof o.maxWaitMs !== "number" || !(o.maxWaitMs >= 0) || !Number.isFinite(o.maxWaitMs)) {
      throw new RnnError("unexpected", `maxWaitMs must be a number of milliseconds >= 0, got ${describeValue(o.maxWaitMs)}`);
    }
    this.options = {
      maxBatch: positiveInteger("maxBatch", o.maxBatch),
      maxWaitMs: o.maxWaitMs,
      maxQueue: positiveInteger("maxQueue", o.maxQueue),
      concurrency: positiveInteger("concurrency", o.concurrency),
    };
    this.run = run;
  }

  /** Items waiting for a batch. */
  get queued(): number {
    return this.queue.length;
  }

  /** Batches running. */
  get inFlight(): number {
    return this.running;
  }

  /**
   * Queues `item` for the next batch.
   *
   * @param item what `run` gets, among its batch
   * @param signal cancels the item while it waits (once its batch started, it runs and its result is returned)
   * @returns the item's result
   * @throws (rejects) RnnError `overloaded` when maxQueue items wait, `aborted` when `signal` fires before the item's
   *   batch starts (or has already fired), `closed` after close(); whatever `run` threw for the item's batch
   */
  submit(item: Item, signal?: AbortSignal): Promise<Result> {
    if (this.closing) return Promise.reject(new RnnError("closed", "this batcher is closed and takes no more requests"));
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.queue.length >= this.options.maxQueue) {
      return Promise.reject(new RnnError("overloaded", `the queue is full (maxQueue ${this.options.maxQueue} requests wait); try again later`));
    }
    return new Promise<Result>((resolve, reject) => {
      const w: Waiting<Item, Result> = { item, since: performance.now(), resolve, reject, signal };
      if (signal) {
        w.onAbort = () => void this.leave(this.queue.indexOf(w), abortError(signal)); // not queued: already in a batch
        signal.addEventListener("abort", w.onAbort, { once: true });
      }
      this.queue.push(w);
      this.schedule();
    });
  }

  /**
   * Takes a waiting item out of the queue, as an AbortSignal firing would, for a caller that knows its item is no
   * longer wanted (a server whose client left) without making an AbortController per item.
   *
   * @param item the very object given to submit
   * @param why said in the rejection's message: `the request was cancelled before it ran: <why>`
   * @returns true when the item was waiting (its submit rejects with 'aborted'); false when its batch has already
   *   started (it runs, and its result is returned) or it is unknown
   */
  withdraw(item: Item, why?: string): boolean {
    return this.leave(this.queue.findIndex((w) => w.item === item), cancelled(why));
  }

  /** Takes the waiting item at `at` (-1: none) out of the queue, rejecting it with `error`; whether there was one. */
  private leave(at: number, error: RnnError): boolean {
    if (at < 0) return false;
    const [w] = this.queue.splice(at, 1);
    if (w.onAbort) w.signal!.removeEventListener("abort", w.onAbort);
    w.reject(error);
    this.settle();
    return true;
  }

  /**
   * Refuses new items ('closed'), starts what waits without waiting further, and resolves once every batch has
   * settled. Safe to call twice (the same promise).
   */
  close(): Promise<void> {
    if (!this.closing) {
      this.closing = new Promise<void>((resolve) => (this.drained = resolve));
      this.schedule();
      this.settle();
    }
    return this.closing;
  }

  /**
   * Starts every batch that may start now, and arms the timer for the oldest item that must wait. Once batches
   * start, what waits is shared evenly among the free slots (16 items and 2 free slots: two batches of 8, not one
   * of 16 and an idle slot), so idle threads are used; under load slots free one at a time and batches stay full.
   */
  private schedule(): void {
    const { maxBatch, maxWaitMs, concurrency } = this.options;
    let starting = false;
    while (this.running < concurrency && this.queue.length > 0) {
      const due = this.queue[0].since + maxWaitMs;
      const now = performance.now();
      if (!starting && this.queue.length < maxBatch && maxWaitMs > 0 && !this.closing && now < due) {
        this.arm(due - now);
        return;
      }
      starting = true;
      const free = concurrency - this.running;
      this.start(this.queue.splice(0, Math.min(maxBatch, Math.ceil(this.queue.length / free))));
    }
  }

  private arm(ms: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.schedule();
    }, ms);
  }

  private start(batch: Waiting<Item, Result>[]): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    for (const w of batch) if (w.onAbort) w.signal!.removeEventListener("abort", w.onAbort);
    this.running++;
    this.onBatch?.(batch.length);
    let results: Promise<Result[]>;
    try {
      results = Promise.resolve(this.run(batch.map((w) => w.item)));
    } catch (e) {
      results = Promise.reject(e);
    }
    // The slot is freed and the next batch started before this one's items are settled: their callers' code (a
    // server writing each answer) then runs while the next batch computes, not before it starts.
    const next = () => {
      this.running--;
      this.schedule();
    };
    results.then(
      (out) => {
        next();
        if (!Array.isArray(out) || out.length !== batch.length) {
          const e = new RnnError("state", `the batch's run returned ${Array.isArray(out) ? out.length : describeValue(out)} results for ${batch.length} items`);
          for (const w of batch) w.reject(e);
        } else {
          batch.forEach((w, i) => w.resolve(out[i]));
        }
      },
      (e) => {
        next();
        for (const w of batch) w.reject(e);
      },
    ).finally(() => this.settle());
  }

  /** Resolves close() once nothing waits and nothing runs. */
  private settle(): void {
    if (this.drained && this.queue.length === 0 && this.running === 0) {
      this.drained();
      this.drained = null;
    }
  }
}

function abortError(signal: AbortSignal): RnnError {
  return cancelled(signal.reason instanceof Error ? signal.reason.message : undefined);
}

/** The 'aborted' error of an item taken out of the queue, saying why when known. */
function cancelled(why: string | undefined): RnnError {
  return new RnnError("aborted", `the request was cancelled before it ran${why ? `: ${why}` : ""}`);
}
