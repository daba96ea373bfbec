// src/worker-pool/index.ts: the entry `rnn-wasm/worker-pool` (Node only: node:worker_threads). Bundled as
// dist/rnn-wasm.worker-pool.js, sharing its modules with `rnn-wasm` (one RnnError class); the workers run
// dist/rnn-wasm.pool-worker.js, shipped beside it.

/**
 * A model served from Node worker threads: {@link ModelPool} loads the model once in each worker, batches
 * concurrent requests (as `rnn-wasm/serving`'s DynamicBatcher does) and runs each batch in an idle worker, so the
 * event loop only moves buffers. Node only.
 *
 * @example
 * ```ts
 * import { ModelPool } from "rnn-wasm/worker-pool";
 * const pool = await ModelPool.create("model.safetensors");
 * const { output } = await pool.predict({ shape: [5, pool.info.inputSize], data: new Float32Array(5 * pool.info.inputSize) });
 * await pool.close();
 * ```
 *
 * @packageDocumentation
 */
export { ModelPool } from "./pool.js";
export type { ModelPoolOptions, PredictOptions, Prediction } from "./pool.js";
