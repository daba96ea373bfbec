// src/worker-pool/messages.ts: what ModelPool's main thread and its workers say to each other. Every Float32Array
// crosses in a buffer of its own, listed in the transfer list (moved, not copied).
import type { RnnErrorCode } from "../errors.js";
import type { Build } from "../runtime.js";
import type { ModelInfo, SequenceRequest, SequenceResult } from "../serving/served-model.js";
import type { ServedModelOptions } from "../serving/model-file.js";

/** The worker's workerData: the model (bytes, or a path the worker reads) and how to read it. */
export interface WorkerSetup {
  model: Uint8Array | string;
  options: Omit<ServedModelOptions, "runtime">;
  build?: Build;
}

/** An error as it crosses threads: an RnnError keeps its code. */
export interface CrossError {
  code?: RnnErrorCode;
  message: string;
}

/** main -> worker: run one batch. */
export interface RunBatch {
  id: number;
  requests: SequenceRequest[];
}

/** One request's outcome: its result, or why it was refused (the others of its batch still run). */
export type Outcome = { result: SequenceResult } | { error: CrossError };

/** worker -> main. */
export type FromWorker =
  | { type: "ready"; info: ModelInfo }
  | { type: "failed"; error: CrossError }
  | { type: "done"; id: number; outcomes: Outcome[] };

export function crossError(e: unknown): CrossError {
  const err = e as { code?: unknown; message?: unknown; name?: unknown };
  const message = typeof err?.message === "string" ? err.message : String(e);
  return err?.name === "RnnError" && typeof err.code === "string" ? { code: err.code as RnnErrorCode, message } : { message };
}

/** Every ArrayBuffer in `results`, for the transfer list. */
export function buffersOf(arrays: (Float32Array | undefined)[]): ArrayBuffer[] {
  return arrays.filter((a): a is Float32Array => a !== undefined).map((a) => a.buffer as ArrayBuffer);
}
