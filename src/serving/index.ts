// src/serving/index.ts: the entry `rnn-wasm/serving`: what a server needs to answer many requests with one model,
// in any runtime (no node: imports): ServedModel (a model loaded once, requests run as one batched forward),
// DynamicBatcher (concurrent requests collected into batches) and SessionStore (per-stream state for sequence
// batching). It shares its modules with `rnn-wasm` (one runtime, one RnnError class: import both from there),
// so call init() from `rnn-wasm`.

/**
 * Serving many requests with one model: {@link ServedModel} loads a PyTorch state_dict once and answers several
 * single-sequence requests in one batched forward, {@link DynamicBatcher} collects concurrent requests into such
 * batches, and {@link SessionStore} keeps the recurrent state of streams between their requests. Runs wherever
 * `rnn-wasm` runs; `rnn-wasm/worker-pool` runs the same off the main thread in Node.
 *
 * @example
 * ```ts
 * import { init } from "rnn-wasm";
 * import { DynamicBatcher, ServedModel } from "rnn-wasm/serving";
 * await init();
 * const model = ServedModel.fromSafetensors(bytes);
 * const batcher = new DynamicBatcher(async (items) => model.run(items), { maxBatch: 16, maxWaitMs: 1, maxQueue: 256, concurrency: 1 });
 * const { output, hN } = await batcher.submit({ input: new Float32Array(5 * model.inputSize), steps: 5 });
 * ```
 *
 * @packageDocumentation
 */
export { ServedModel } from "./served-model.js";
export type { SequenceRequest, SequenceResult, RunOptions, ModelInfo, StateShape } from "./served-model.js";
export type { ServedModelOptions } from "./model-file.js";
export { DynamicBatcher } from "./batcher.js";
export type { BatcherOptions } from "./batcher.js";
export { SessionStore } from "./session-store.js";
export type { SessionStoreOptions, SessionState, SessionUpdate } from "./session-store.js";
