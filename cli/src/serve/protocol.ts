// cli/src/serve/protocol.ts: what the server's main thread and its pool's workers (worker.ts) send each other, and
// the model facts both need. The main thread only moves bytes: it sends each request's raw body with the headers
// that say how to read it (and a session's state), the worker decodes, checks, runs one batched forward for the
// whole batch, and returns each request's answer already encoded: written into the answer slot the main thread lent
// it (answer-slots.ts), or, when it got none or the answer is larger than a slot, in a buffer transferred back.
// Request bodies and states cross threads transferred, not copied.
import type { Kind } from "rnn-wasm";
import type { AnswerSlotsShared } from "./answer-slots.js";

/** The three body formats, by the media type that names each. */
export type BodyFormat = "json" | "raw" | "safetensors";

export const MEDIA_TYPES: Record<BodyFormat, string> = {
  json: "application/json",
  raw: "application/octet-stream",
  safetensors: "application/vnd.safetensors",
};

/** Each format by its media type, and [format, media type] in MEDIA_TYPES' order: made once, read per request. */
const FORMAT_OF_TYPE = new Map(Object.entries(MEDIA_TYPES).map(([format, name]) => [name, format as BodyFormat]));
const FORMATS = Object.entries(MEDIA_TYPES) as [BodyFormat, string][];

/** The format a media type names (parameters such as `; charset=utf-8` ignored), or undefined for any other. */
export function formatOf(mediaType: string | undefined): BodyFormat | undefined {
  if (mediaType === undefined) return undefined;
  const exact = FORMAT_OF_TYPE.get(mediaType); // what clients send, without a string made
  if (exact) return exact;
  return FORMAT_OF_TYPE.get(mediaType.split(";")[0].trim().toLowerCase());
}

/**
 * The answer's format: the first of the three an Accept header names (`application/json` asks a binary request for
 * a JSON answer), else the request's own (absent, `*` + `/*` or anything else).
 */
export function answerFormat(accept: string | undefined, request: BodyFormat): BodyFormat {
  if (!accept) return request;
  const exact = FORMAT_OF_TYPE.get(accept);
  if (exact) return exact;
  const lower = accept.toLowerCase();
  let best = request, bestAt = Infinity;
  for (const [format, name] of FORMATS) {
    const at = lower.indexOf(name);
    if (at >= 0 && at < bestAt) {
      best = format;
      bestAt = at;
    }
  }
  return best;
}

/** What the served model is, as the codecs and the routes need it (ServedModel's own fields, as plain data). */
export interface ModelInfo {
  kind: Kind;
  /** Features per timestep: I. */
  inputSize: number;
  /** Features per output row: D*P. */
  outputSize: number;
  /** O, the head's outputs per step; 0 when the model has no head. */
  headSize: number;
  /** [D*L, P] and, for an LSTM, [D*L, H]. */
  stateShape: { h: [number, number]; c?: [number, number] };
  bidirectional: boolean;
  /** `LSTM(inputSize 64, hiddenSize 256, 1 layer)` (+ `, head 1`): for the start line and the logs. */
  description: string;
}

/** A session's recurrent state, as the main thread keeps it: h [D*L, P] and c [D*L, H] (LSTM), row-major. */
export interface State {
  h: Float32Array;
  c?: Float32Array;
}

/** One HTTP request as the worker receives it. */
export interface WorkerRequest {
  /** The raw body; its buffer is transferred to the worker (so it is the body's alone). */
  body: Uint8Array;
  format: BodyFormat;
  answer: BodyFormat;
  /** The X-Shape header (raw bodies): `T,I`. */
  shape?: string;
  /** Present for a session's step: the state before it (undefined for a new session: zeros) and its steps so far. */
  session?: { state?: State; steps: number };
  /** The answer slot lent for this request's answer, or -1 (none free). */
  slot: number;
}

/** One HTTP answer as the worker returns it, encoded. */
export interface WorkerResult {
  status: number;
  contentType: string;
  /** The answer's length in its request's slot, or -1 when the answer came in `bytes` instead. */
  slotLength: number;
  /** The answer's body when it is not in a slot; its buffer is transferred back. */
  bytes?: Uint8Array;
  headers?: Record<string, string>;
  /** A session step that succeeded: the state after it, and the steps it took. */
  session?: { state: State; steps: number };
}

/** A worker's wasm memory, reported with every answer (for /metrics): the linear memory's size, and blocks in use. */
export interface WorkerMemory {
  threadId: number;
  memoryBytes: number;
  blocksInUse: number;
}

/** What a batch task returns: one result per request, in order, and the worker's memory after it. */
export interface BatchAnswer {
  results: WorkerResult[];
  memory: WorkerMemory;
}

/** A batch as the pool runs it: `ping` only answers once the worker has loaded its model (start-up). */
export type WorkerTask = { kind: "batch"; requests: WorkerRequest[] } | { kind: "ping" };

/** What the worker is started with (piscina's workerData). */
export interface WorkerData {
  /** The model file's bytes, shared by every worker and copied by each. */
  model: SharedArrayBuffer;
  options: ModelLoadOptions;
  maxSteps: number;
  /** Added to the worker thread's nice value at start (Linux only: elsewhere a process has one priority). */
  nice: number;
  /** The answer slots' memory (answer-slots.ts). */
  answerSlots: AnswerSlotsShared;
}

/** How to read the model file: ServedModelOptions as plain data. */
export interface ModelLoadOptions {
  prefix?: string;
  headPrefix?: string;
  kind?: Kind;
  nonlinearity?: "tanh" | "relu";
  resetAfter?: boolean;
  build?: "relaxed" | "simd" | "scalar";
}

/** `{"error": "...", "code": "..."}`: every error answer, from either thread. */
export function errorJson(message: string, code: string): string {
  return JSON.stringify({ error: message, code });
}
