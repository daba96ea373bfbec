// test/serving/worker-pool.test.ts: ModelPool (rnn-wasm/worker-pool), as built (dist/: the pool's workers run the
// shipped dist/rnn-wasm.pool-worker.js, so `npm run build` comes first, as `npm test`'s pretest does). Its answers
// are bitwise a ServedModel's in this thread on the same build (the pool only moves buffers), concurrent requests
// share batches (counted by onBatch), and the queue, cancellation and close behave as the batcher's do. Order of
// events is forced with threads: 1 and a first request that occupies the worker; nothing asserts on time.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GRU, LSTM, RnnError, saveSafetensors, type Tensor } from "rnn-wasm";
import { ModelPool } from "rnn-wasm/worker-pool";
import { ServedModel } from "../../src/serving/index.js";
import { expectSameBits } from "../helpers/compare.js";
import { randomF32, randomTensor, rng } from "../helpers/random.js";
import { runtimeFor } from "../helpers/runtimes.js";

/** An LSTM(5 -> 7, proj 3, 2 layers) with a Linear(3 -> 2) head: every field of a result is exercised. */
function lstmWithHead(): Uint8Array {
  const lstm = new LSTM({ inputSize: 5, hiddenSize: 7, projSize: 3, numLayers: 2, seed: 3, backend: "reference" });
  const next = rng(4);
  return saveSafetensors({ ...lstm.toTorch(), "head.weight": randomTensor([2, 3], next), "head.bias": randomTensor([2], next) });
}

/** A model big enough that one request keeps a worker busy for a while (so others queue behind it). */
function bigModel(): Uint8Array {
  return saveSafetensors(new GRU({ inputSize: 64, hiddenSize: 192, seed: 1, backend: "reference" }).toTorch());
}

async function rejection(p: Promise<unknown>): Promise<RnnError> {
  const e = await p.then(() => new Error("resolved"), (err: unknown) => err);
  expect(e).toBeInstanceOf(RnnError);
  return e as RnnError;
}

describe("ModelPool", () => {
  const file = lstmWithHead();
  let pool: ModelPool;
  beforeAll(async () => {
    pool = await ModelPool.create(file, { threads: 2, build: "simd", maxBatch: 4, maxWaitMs: 0 });
  });
  afterAll(() => pool.close());

  it("answers bitwise what a ServedModel in this thread answers, for every request of concurrent batches", async () => {
    expect(pool.info).toEqual({ kind: "lstm", inputSize: 5, outputSize: 3, headSize: 2, stateShape: { h: [2, 3], c: [2, 7] }, bidirectional: false });
    using local = ServedModel.fromSafetensors(file, { runtime: await runtimeFor("simd") });
    const next = rng(5);
    const requests = Array.from({ length: 11 }, (_, i) => ({
      input: randomF32((1 + (i % 6)) * 5, next), steps: 1 + (i % 6),
      ...(i % 3 ? { h0: randomF32(6, next) } : {}), ...(i % 2 ? { c0: randomF32(14, next) } : {}),
    }));
    const sizes: number[] = [];
    pool.onBatch = (n) => sizes.push(n);
    const got = await Promise.all(requests.map((r) => pool.predict({ shape: [r.steps, 5], data: r.input }, {
      ...(r.h0 ? { h0: { shape: [2, 3], data: r.h0 } } : {}), ...(r.c0 ? { c0: { shape: [2, 7], data: r.c0 } } : {}),
    })));
    pool.onBatch = undefined;
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(11);
    const want = requests.map((r) => local.run([r])[0]);
    got.forEach((g, i) => {
      expect(g.output.shape).toEqual([requests[i].steps, 3]);
      expect(g.head!.shape).toEqual([requests[i].steps, 2]);
      expect(g.hN.shape).toEqual([2, 3]);
      expect(g.cN!.shape).toEqual([2, 7]);
      for (const k of ["output", "head", "hN", "cN"] as const) expectSameBits(`request ${i} ${k}`, g[k]!.data, want[i][k]!);
    });
    // the caller's tensors are copied, not moved: still usable
    expect(requests[0].input.length).toBe(5);
  });

  it("a bad request is refused alone (the worker checks each), its batch-mates answered; shapes are checked at once", async () => {
    const ok = randomTensor([3, 5], rng(1));
    const nan: Tensor = { shape: [2, 5], data: Float32Array.from({ length: 10 }, (_, i) => (i === 7 ? NaN : 0)) };
    // b's handler is attached at once: a and b may run in different batches, so b can be refused while a is awaited
    const [a, b, c] = [pool.predict(ok), rejection(pool.predict(nan)), pool.predict(ok)];
    expect((await a).output.shape).toEqual([3, 3]);
    const e = await b;
    expect(e.code).toBe("nonfinite");
    expect(e.message).toContain("input");
    expect((await c).output.shape).toEqual([3, 3]);
    expect((await rejection(pool.predict({ shape: [2, 4], data: new Float32Array(8) }))).code).toBe("shape");
    expect((await rejection(pool.predict(ok, { h0: { shape: [1, 3], data: new Float32Array(3) } }))).message).toContain("h0");
  });

  it("reads a model from a path; refuses options it does not know, and a model that is not one, with the worker's RnnError", async () => {
    expect((await rejection(ModelPool.create(file, { threads: 0 }))).message).toContain("threads");
    expect((await rejection(ModelPool.create(file, { runtime: {} } as never))).message).toContain("runtime");
    const e = await rejection(ModelPool.create(new Uint8Array(8), { threads: 1 }));
    expect(e.code).toBe("format");
    const missing = await rejection(ModelPool.create("/nonexistent/model.safetensors", { threads: 1 }));
    expect(missing.code).toBe("missing");
    expect(missing.message).toContain("/nonexistent/model.safetensors");
    const dir = mkdtempSync(join(tmpdir(), "rnn-wasm-pool-"));
    try {
      writeFileSync(join(dir, "model.safetensors"), file);
      const fromPath = await ModelPool.create(join(dir, "model.safetensors"), { threads: 1 });
      expect(fromPath.info).toEqual(pool.info);
      await fromPath.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("ModelPool: batching, the queue, cancellation and close (one worker, kept busy by a long first request)", () => {
  const file = bigModel();
  const long = randomTensor([400, 64], rng(1));
  const short = randomTensor([2, 64], rng(2));

  it("requests that arrive while the worker is busy share the next batch", async () => {
    const pool = await ModelPool.create(file, { threads: 1, maxBatch: 8, maxWaitMs: 0 });
    try {
      const sizes: number[] = [];
      pool.onBatch = (n) => sizes.push(n);
      const first = pool.predict(long); // starts at once, alone
      const rest = Array.from({ length: 5 }, () => pool.predict(short)); // wait behind it
      expect(pool.queued).toBe(5);
      await Promise.all([first, ...rest]);
      expect(sizes).toEqual([1, 5]);
      const again = pool.predict(long);
      const many = Array.from({ length: 10 }, () => pool.predict(short)); // at most maxBatch in one batch
      await Promise.all([again, ...many]);
      expect(sizes).toEqual([1, 5, 1, 8, 2]);
    } finally {
      await pool.close();
    }
  });

  it("beyond maxQueue waiting requests: 'overloaded'; an aborted waiting request: 'aborted'", async () => {
    const pool = await ModelPool.create(file, { threads: 1, maxQueue: 2, maxWaitMs: 0 });
    try {
      const first = pool.predict(long);
      const abort = new AbortController();
      const queued = [pool.predict(short, { signal: abort.signal }), pool.predict(short)];
      const full = await rejection(pool.predict(short));
      expect(full.code).toBe("overloaded");
      expect(full.message).toContain("maxQueue 2");
      abort.abort();
      expect((await rejection(queued[0])).code).toBe("aborted");
      const already = new AbortController();
      already.abort();
      expect((await rejection(pool.predict(short, { signal: already.signal }))).code).toBe("aborted");
      await Promise.all([first, queued[1]]);
    } finally {
      await pool.close();
    }
  });

  it("close() with requests running and queued answers them all, then refuses ('closed')", async () => {
    const pool = await ModelPool.create(file, { threads: 1, maxBatch: 2, maxWaitMs: 0 });
    const inFlight = [pool.predict(long), pool.predict(short), pool.predict(short), pool.predict(short)];
    const closing = pool.close();
    expect((await rejection(pool.predict(short))).message).toContain("ModelPool is closed");
    const answers = await Promise.all(inFlight);
    expect(answers.map((a) => a.output.shape[0])).toEqual([400, 2, 2, 2]);
    await closing;
    expect((await rejection(pool.predict(short))).code).toBe("closed");
  });

  it("a worker that dies fails only its running batch; with no worker left, later requests reject 'closed'", async () => {
    const pool = await ModelPool.create(file, { threads: 1, maxWaitMs: 0 });
    try {
      const running = pool.predict(long);
      const worker = (pool as unknown as { threads: { worker: { terminate(): Promise<number> } }[] }).threads[0].worker;
      await worker.terminate(); // as a crash would: the batch in it is lost
      await expect(running).rejects.toThrow(/worker exited/);
      expect((await rejection(pool.predict(short))).message).toContain("every worker");
    } finally {
      await pool.close();
    }
  });

  it("the event loop stays free while a worker runs: a setInterval keeps ticking during a long request", async () => {
    const pool = await ModelPool.create(file, { threads: 1 });
    try {
      let ticks = 0;
      const timer = setInterval(() => ticks++, 1);
      const during = await pool.predict(randomTensor([1500, 64], rng(3))).then(() => ticks);
      clearInterval(timer);
      expect(during).toBeGreaterThan(0); // an inline forward would have run to its end without one tick
    } finally {
      await pool.close();
    }
  });
});

it("a pool whose model fails leaves no worker, a closed pool neither: the process ends by itself", () => {
  const script = fileURLToPath(new URL("./fixtures/pool-lifetime.mjs", import.meta.url));
  const r = spawnSync(process.execPath, [script], { encoding: "utf8", timeout: 30_000 });
  expect(r.signal, `killed: the process did not end by itself\n${r.stderr}`).toBeNull();
  expect(r.status, r.stderr).toBe(0);
  const [failed, served] = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  expect(failed).toMatchObject({ rnnError: true, code: "unexpected" });
  expect(failed.message).toContain("'extra.weight'");
  expect(served).toEqual({ outputShape: [2, 4] });
});
