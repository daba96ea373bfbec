// test/serving/batcher.test.ts: DynamicBatcher's rules, with vitest's fake timers (maxWaitMs) and a `run` whose
// batches the test settles itself, so nothing depends on the machine's speed or the wall clock.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RnnError } from "../../src/index.js";
import { DynamicBatcher, type BatcherOptions } from "../../src/serving/index.js";

/** A run whose batches wait until the test settles them; records each batch's items. */
function controlledRun() {
  const batches: { items: number[]; resolve: (r: string[]) => void; reject: (e: unknown) => void }[] = [];
  const run = (items: number[]) => new Promise<string[]>((resolve, reject) => batches.push({ items, resolve, reject }));
  const answer = (i: number) => batches[i].resolve(batches[i].items.map((x) => `r${x}`));
  return { run, batches, answer };
}

const options = (o: Partial<BatcherOptions> = {}): BatcherOptions => ({ maxBatch: 4, maxWaitMs: 5, maxQueue: 8, concurrency: 1, ...o });

/** Lets promise callbacks run (no timers). */
const flush = () => new Promise<void>((r) => queueMicrotask(() => setImmediate(r)));

/**
 * The end of the cancellation tests: item 0's batch (started before the cancel) answers r0, then the next batch holds
 * item 2 alone (item 1 was taken out of the queue) and answers r2.
 */
async function runsOnWithoutItem1(answer: (k: number) => void, batches: { items: number[] }[], p0: Promise<unknown>, p2: Promise<unknown>): Promise<void> {
  answer(0);
  expect(await p0).toBe("r0");
  await flush();
  answer(1);
  expect(await p2).toBe("r2");
  expect(batches.map((x) => x.items)).toEqual([[0], [2]]);
}

async function rejection(p: Promise<unknown>): Promise<RnnError> {
  const e = await p.then(() => new Error("resolved"), (err: unknown) => err);
  expect(e).toBeInstanceOf(RnnError);
  return e as RnnError;
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("DynamicBatcher", () => {
  it("starts a batch when maxBatch items wait, without waiting for maxWaitMs", async () => {
    const { run, batches, answer } = controlledRun();
    const b = new DynamicBatcher(run, options({ maxBatch: 3, concurrency: 1 }));
    const sizes: number[] = [];
    b.onBatch = (n) => sizes.push(n);
    const results = [1, 2, 3].map((x) => b.submit(x));
    expect(batches.map((x) => x.items)).toEqual([[1, 2, 3]]);
    expect(b.inFlight).toBe(1);
    answer(0);
    expect(await Promise.all(results)).toEqual(["r1", "r2", "r3"]);
    expect(sizes).toEqual([3]);
  });

  it("shares what waits evenly among free slots when batches start (no slot idles while another gets everything)", async () => {
    const { run, batches, answer } = controlledRun();
    const b = new DynamicBatcher(run, options({ maxBatch: 8, maxWaitMs: 5, concurrency: 3, maxQueue: 32 }));
    const ps = Array.from({ length: 7 }, (_, i) => b.submit(i));
    expect(batches).toHaveLength(0); // fewer than maxBatch: they wait
    vi.advanceTimersByTime(5);
    expect(batches.map((x) => x.items)).toEqual([[0, 1, 2], [3, 4], [5, 6]]);
    [0, 1, 2].forEach(answer);
    await Promise.all(ps);
    await flush();
    // maxBatch items arriving at once start at once, shared among the three free slots; those after them wait
    const more = Array.from({ length: 11 }, (_, i) => b.submit(100 + i));
    expect(batches.slice(3).map((x) => x.items.length)).toEqual([3, 3, 2]);
    expect(b.queued).toBe(3);
    answer(3); // one slot frees: the 3 waiting have not waited 5 ms, so they wait for it
    await flush();
    expect(batches).toHaveLength(6);
    vi.advanceTimersByTime(5);
    expect(batches.slice(6).map((x) => x.items)).toEqual([[108, 109, 110]]); // one free slot: one batch
    [4, 5, 6].forEach(answer);
    await Promise.all(more);
  });

  it("waits up to maxWaitMs from the oldest item for others to join, then runs what waits", async () => {
    const { run, batches, answer } = controlledRun();
    const b = new DynamicBatcher(run, options({ maxWaitMs: 5 }));
    const p1 = b.submit(1);
    vi.advanceTimersByTime(3);
    const p2 = b.submit(2);
    vi.advanceTimersByTime(1);
    expect(batches).toHaveLength(0);
    expect(b.queued).toBe(2);
    vi.advanceTimersByTime(1); // the oldest has waited 5 ms
    expect(batches.map((x) => x.items)).toEqual([[1, 2]]);
    answer(0);
    expect(await Promise.all([p1, p2])).toEqual(["r1", "r2"]);
  });

  it("maxWaitMs 0 runs as soon as a slot is free; items arriving while the slot is busy form the next batch", async () => {
    const { run, batches, answer } = controlledRun();
    const b = new DynamicBatcher(run, options({ maxWaitMs: 0, maxBatch: 2 }));
    const ps = [1, 2, 3, 4, 5].map((x) => b.submit(x));
    expect(batches.map((x) => x.items)).toEqual([[1]]);
    expect(b.queued).toBe(4);
    answer(0);
    await flush();
    expect(batches.map((x) => x.items)).toEqual([[1], [2, 3]]);
    answer(1);
    await flush();
    answer(2);
    await flush();
    expect(batches.map((x) => x.items)).toEqual([[1], [2, 3], [4, 5]]);
    expect(await Promise.all(ps)).toEqual(["r1", "r2", "r3", "r4", "r5"]);
  });

  it("runs at most `concurrency` batches at once", async () => {
    const { run, batches, answer } = controlledRun();
    const b = new DynamicBatcher(run, options({ maxBatch: 1, maxWaitMs: 0, concurrency: 2 }));
    const ps = [1, 2, 3].map((x) => b.submit(x));
    expect(batches).toHaveLength(2);
    expect(b.inFlight).toBe(2);
    answer(1);
    await flush();
    expect(batches).toHaveLength(3);
    answer(0);
    answer(2);
    expect(await Promise.all(ps)).toEqual(["r1", "r2", "r3"]);
    await flush();
    expect(b.inFlight).toBe(0);
  });

  it("refuses an item beyond maxQueue waiting ones with 'overloaded' (items in a running batch do not count)", async () => {
    const { run, batches, answer } = controlledRun();
    const b = new DynamicBatcher(run, options({ maxBatch: 2, maxWaitMs: 0, maxQueue: 2 }));
    const first = b.submit(0); // runs at once
    const waiting = [b.submit(1), b.submit(2)];
    const e = await rejection(b.submit(3));
    expect(e.code).toBe("overloaded");
    expect(e.message).toContain("maxQueue 2");
    answer(0);
    await first;
    await flush();
    answer(1);
    expect(await Promise.all(waiting)).toEqual(["r1", "r2"]);
    expect(batches.map((x) => x.items)).toEqual([[0], [1, 2]]);
  });

  it("an AbortSignal that fires while the item waits takes it out of the queue ('aborted'); once started it runs", async () => {
    const { run, batches, answer } = controlledRun();
    const b = new DynamicBatcher(run, options({ maxBatch: 2, maxWaitMs: 0 }));
    const started = new AbortController();
    const p0 = b.submit(0, started.signal); // starts at once
    const waits = new AbortController();
    const p1 = b.submit(1, waits.signal);
    const p2 = b.submit(2);
    waits.abort(new Error("client went away"));
    started.abort();
    const e = await rejection(p1);
    expect(e.code).toBe("aborted");
    expect(e.message).toContain("client went away");
    expect(b.queued).toBe(1);
    const already = new AbortController();
    already.abort();
    expect((await rejection(b.submit(9, already.signal))).code).toBe("aborted");
    await runsOnWithoutItem1(answer, batches, p0, p2);
  });

  it("withdraw takes a waiting item out of the queue ('aborted') and returns false once its batch started", async () => {
    const { run, batches, answer } = controlledRun();
    const started = { x: 0 }, waiting = { x: 1 }, other = { x: 2 };
    const runs = new DynamicBatcher((items: { x: number }[]) => run(items.map((i) => i.x)), options({ maxBatch: 2, maxWaitMs: 0 }));
    const p0 = runs.submit(started); // starts at once
    const p1 = runs.submit(waiting);
    const p2 = runs.submit(other);
    expect(runs.withdraw(started)).toBe(false);
    expect(runs.withdraw(waiting, "the client closed the connection")).toBe(true);
    expect(runs.withdraw(waiting)).toBe(false); // already out
    const e = await rejection(p1);
    expect(e.code).toBe("aborted");
    expect(e.message).toContain("the client closed the connection");
    expect(runs.queued).toBe(1);
    await runsOnWithoutItem1(answer, batches, p0, p2);
  });

  it("a run that throws or rejects fails only its own batch's items, and later batches run", async () => {
    const calls: number[][] = [];
    const b = new DynamicBatcher(async (items: number[]) => {
      calls.push(items);
      if (items.includes(13)) throw new RnnError("shape", "bad batch");
      return items.map((x) => x * 2);
    }, options({ maxBatch: 2, maxWaitMs: 0 }));
    const ps = [12, 13, 14, 15].map((x) => b.submit(x).then((r) => r, (e: RnnError) => e.message));
    expect(await Promise.all(ps)).toEqual([24, "bad batch", "bad batch", 30]);
    expect(calls).toEqual([[12], [13, 14], [15]]);
    const sync = new DynamicBatcher<number, number>(() => { throw new Error("sync throw"); }, options({ maxWaitMs: 0 }));
    await expect(sync.submit(1)).rejects.toThrow("sync throw");
    const short = new DynamicBatcher(async () => [1], options({ maxBatch: 2 }));
    const [x, y] = [short.submit(1), short.submit(2)]; // one batch of 2, one result: the whole batch fails
    expect((await rejection(x)).message).toContain("1 results for 2 items");
    expect((await rejection(y)).code).toBe("state");
  });

  it("close() refuses new items, runs what waits at once, and resolves when every batch has settled", async () => {
    const { run, batches, answer } = controlledRun();
    const b = new DynamicBatcher(run, options({ maxBatch: 2, maxWaitMs: 1000 }));
    const ps = [1, 2, 3].map((x) => b.submit(x));
    expect(batches).toHaveLength(1); // [1, 2]; 3 waits for more
    let closed = false;
    const closing = b.close().then(() => (closed = true));
    expect(b.close()).toBe(b.close());
    expect((await rejection(b.submit(4))).code).toBe("closed");
    answer(0);
    await flush();
    expect(batches.map((x) => x.items)).toEqual([[1, 2], [3]]); // not after 1000 ms: at once
    expect(closed).toBe(false);
    answer(1);
    await closing;
    expect(await Promise.all(ps)).toEqual(["r1", "r2", "r3"]);
    const idle = new DynamicBatcher(run, options());
    await idle.close(); // nothing to wait for
  });

  it("refuses options that are not limits", () => {
    const run = async (xs: number[]) => xs;
    for (const [bad, name] of [
      [{ maxBatch: 0 }, "maxBatch"], [{ maxQueue: 1.5 }, "maxQueue"], [{ concurrency: -1 }, "concurrency"],
      [{ maxWaitMs: -1 }, "maxWaitMs"], [{ maxWaitMs: Infinity }, "maxWaitMs"], [{ maxWait: 1 }, "maxWait"],
    ] as const) {
      expect(() => new DynamicBatcher(run, { ...options(), ...bad } as BatcherOptions)).toThrow(name);
    }
    expect(() => new DynamicBatcher(null as never, options())).toThrow(RnnError);
  });
});
