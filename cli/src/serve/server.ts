// cli/src/serve/server.ts: the HTTP server of `rnn-wasm serve` (fastify), its worker pool (piscina) and its batcher.
//   main thread   reads each body as raw bytes (up to --max-body; beyond: 413 without reading on), submits it to the
//                 DynamicBatcher (rnn-wasm/serving), which hands batches of up to --max-batch requests to the pool,
//                 one batch per free thread; writes the bytes each request's answer came back as, from the answer
//                 slot it lent the request (answer-slots.ts) when the answer is there. It also keeps the
//                 sessions' state (rnn-wasm/serving's SessionStore: TTL, caps, one step of a session at a time) and the metrics. It never parses or builds a model body.
//   pool          --threads workers (worker.ts), each with its own wasm runtime and copy of the model: decode, check,
//                 one batched forward, encode.
// Routes: POST /v1/predict, POST /v1/sessions/:id/step, DELETE /v1/sessions/:id, GET /v1/model, GET /healthz,
// GET /metrics; every error is JSON {"error", "code"}. close() drains: new requests get 503 and the listener closes,
// requests in flight are answered, then the pool stops.
import { existsSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Fastify, { LogController, type FastifyReply, type FastifyRequest } from "fastify";
import { Piscina } from "piscina";
import { RnnError } from "rnn-wasm";
import { DynamicBatcher, SessionStore } from "rnn-wasm/serving";
import { CliError, packageRoot, type CliStream } from "../common.js";
import { AnswerSlots } from "./answer-slots.js";
import { ownBytes } from "./codecs.js";
import { ServerMetrics } from "./metrics.js";
import { loadOptions, readModel } from "./model.js";
import { answerFormat, errorJson, formatOf, MEDIA_TYPES, type BatchAnswer, type ModelInfo, type WorkerData, type WorkerMemory, type WorkerRequest, type WorkerResult, type WorkerTask } from "./protocol.js";

import type { ServeOptions } from "./options.js";

/** A running server. */
export interface ServerHandle {
  /** `http://HOST:PORT`, with the port it really listens on. */
  url: string;
  info: ModelInfo;
  threads: number;
  /** Drains and stops: new requests 503, the listener closed, requests in flight answered, the pool ended. Safe to call twice. */
  close(): Promise<void>;
  /** Closes every connection at once, answered or not (a second signal, or --drain-timeout passed). */
  forceClose(): void;
}

/** The longest a request may take to arrive whole (Node answers 408 after it). */
const REQUEST_TIMEOUT_MS = 120_000;

/** 1 to 128 characters of A-Z a-z 0-9 _ . : - */
export const SESSION_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

/** A session's step that was answered with an error: the session's state stays as it was. */
class StepFailed extends Error {}

const ROUTES = "POST /v1/predict, POST /v1/sessions/:id/step, DELETE /v1/sessions/:id, GET /v1/model, GET /healthz, GET /metrics";
const ACCEPTED = `${MEDIA_TYPES.json}, ${MEDIA_TYPES.raw} (with X-Shape: T,I) or ${MEDIA_TYPES.safetensors}`;

/** The worker's file: beside this one when built (dist/serve/), the build's when this runs from the sources (tests). */
export function workerFile(): string {
  const here = fileURLToPath(import.meta.url);
  const file = here.endsWith(".ts") ? join(packageRoot(), "dist/serve/worker.js") : join(dirname(here), "worker.js");
  if (!existsSync(file)) throw new CliError(`the server's worker '${file}' is missing: run 'npm run build'`);
  return file;
}

/** The most bytes of a refused body read and dropped (discardRest) before its connection is closed instead. */
export function discardLimit(maxBody: number): number {
  return Math.max(16 * 2 ** 20, 2 * maxBody);
}

/** How long a connection closed after a 413 keeps reading what its client still sends (lingerOnClose). */
const LINGER_MS = 5_000;

/**
 * After a 413, the rest of the refused body is still on its way. Closing the connection with bytes unread makes the
 * kernel reset it, and a reset can throw away the 413 before the client reads it (the load benchmark saw 132 of 646
 * oversized requests lost so). So the rest is read and dropped, as RFC 9112 section 9.6 advises: the connection
 * stays open for the next request when the client keeps it alive, and when it is to close (the client asked so,
 * or the body announces more than `limit` bytes), it closes lingering (lingerOnClose). Past `limit` bytes read, or
 * LINGER_MS after the answer, the connection is closed at once (a client still sending may then see the reset).
 */
function discardRest(request: IncomingMessage, reply: FastifyReply, limit: number): void {
  if (Number(request.headers["content-length"]) > limit) reply.header("connection", "close"); // not worth reading
  else reply.removeHeader("connection"); // fastify's, on any body it could not read: "close"
  const socket = request.socket;
  let read = 0;
  request.on("data", (chunk: Buffer) => {
    read += chunk.length;
    if (read > limit) socket.destroy();
  });
  request.resume();
  lingerOnClose(socket);
}

/**
 * Makes this connection's close, when Node's HTTP server closes it after an answer that says `Connection: close`,
 * a lingering one: our side is shut (the answer and a FIN go out), then what the client still sends is read until it
 * closes its side, for at most LINGER_MS. Node's own close (socket.destroySoon) destroys the socket as soon as the
 * answer is written, with the client's bytes unread: the reset this avoids.
 */
function lingerOnClose(socket: Socket): void {
  socket.destroySoon = function lingeringClose(this: Socket) {
    this.end();
    const timer = setTimeout(() => this.destroy(), LINGER_MS);
    timer.unref();
    this.once("end", () => this.destroy()); // the client has closed its side
    this.once("close", () => clearTimeout(timer));
  };
}

/** A reply's serializer that sends its payload as it is (an answer slot's bytes). */
const asIs = (payload: unknown) => payload as string;

/** The body sent to a client that has already left. */
const EMPTY = Buffer.alloc(0);

/** An answer from this thread: JSON {"error", "code"}. */
function sendError(reply: FastifyReply, status: number, message: string, code: string): FastifyReply {
  return reply.code(status).type(MEDIA_TYPES.json).send(errorJson(message, code));
}

/** Starts the pool (every worker loaded) and the HTTP server; resolves once it listens. */
export async function startServer(o: ServeOptions, logTo: CliStream): Promise<ServerHandle> {
  const { bytes, info } = await readModel(o.model, loadOptions(o));
  const shared = new SharedArrayBuffer(bytes.byteLength);
  new Uint8Array(shared).set(bytes);
  const slots = new AnswerSlots(o.answerSlots, o.answerSlotBytes);
  const workerData: WorkerData = { model: shared, options: loadOptions(o), maxSteps: o.maxSteps, nice: o.workerNice, answerSlots: slots.shared };
  const wasm = new Map<number, WorkerMemory>(); // each worker's memory, by thread, as it last reported it
  const pool = new Piscina({ filename: workerFile(), minThreads: o.threads, maxThreads: o.threads, idleTimeout: Infinity, concurrentTasksPerWorker: 1, workerData });
  try {
    for (const m of await everyWorkerLoaded(pool, o.threads)) wasm.set(m.threadId, m);
  } catch (e) {
    await pool.destroy();
    throw new CliError(`a worker could not load model '${o.model}': ${(e as Error).message}`);
  }

  /** Gives a request's slot back (the worker is done with it, and no answer is being written from it). */
  const release = (r: WorkerRequest) => {
    slots.give(r.slot);
    r.slot = -1;
  };
  // Each request of a batch is lent a free slot for its answer while the batch runs; the slots whose answer came back
  // elsewhere (none free, too large, the batch failed) are given back here, the others by answer() once written.
  const runBatch = async (requests: WorkerRequest[]): Promise<WorkerResult[]> => {
    const transferList: ArrayBuffer[] = new Array(requests.length);
    for (let k = 0; k < requests.length; k++) {
      requests[k].slot = slots.take();
      transferList[k] = requests[k].body.buffer as ArrayBuffer;
    }
    let answer: BatchAnswer;
    try {
      answer = await pool.run({ kind: "batch", requests } satisfies WorkerTask, { transferList });
    } catch (e) {
      requests.forEach(release);
      throw e;
    }
    wasm.set(answer.memory.threadId, answer.memory);
    const results = answer.results;
    if (results.length !== requests.length) requests.forEach(release); // the batcher rejects such an answer
    else {
      for (let k = 0; k < requests.length; k++) {
        if (results[k].slotLength >= 0) slots.written++;
        else {
          slots.fallbacks++;
          release(requests[k]);
        }
      }
    }
    return results;
  };
  const batcher = new DynamicBatcher<WorkerRequest, WorkerResult>(runBatch, { maxBatch: o.maxBatch, maxWaitMs: o.maxWaitMs, maxQueue: o.maxQueue, concurrency: o.threads });
  const sessions = new SessionStore({ stateShape: info.stateShape, ttlMs: o.sessionTtl * 1000, maxSessions: o.maxSessions, maxBytes: o.maxSessionBytes, sweepIntervalMs: Math.min(o.sessionTtl * 1000, 10_000) });
  let waitingForTurn = 0; // session steps waiting for their session's earlier steps
  const metrics = new ServerMetrics({ queued: () => batcher.queued + waitingForTurn, inFlight: () => batcher.inFlight, sessions: () => sessions.size, sessionBytes: () => sessions.bytes, wasm: () => [...wasm.values()], slots });
  batcher.onBatch = (size) => metrics.batchSize.observe(size);

  const app = Fastify({
    logger: { level: o.logLevel, stream: { write: (line: string) => void logTo.write(line) } },
    logController: new LogController({ disableRequestLogging: true }), // one line per request at debug: onResponse below
    return503OnClosing: false, // answered below, as JSON
    bodyLimit: o.maxBody,
    requestTimeout: REQUEST_TIMEOUT_MS, // a client that sends its request slowly does not hold a connection for ever
    routerOptions: { maxParamLength: 1024 }, // a longer session id is named in our 400, not a bare 414
  });
  let draining = false;
  const logEachRequest = o.logLevel === "debug" || o.logLevel === "trace"; // so that no log object is made otherwise

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(Object.values(MEDIA_TYPES), { parseAs: "buffer", bodyLimit: o.maxBody }, (_request, body, done) => done(null, body));

  // The hooks take a callback rather than being async: an async hook costs a promise per request.
  app.addHook("onRequest", (request, reply, done) => {
    if (!draining || request.routeOptions.url === "/healthz") return done(); // /healthz answers 503 itself
    sendError(reply, 503, "the server is shutting down; send this request to another replica", "draining"); // answered: done() is not called
  });
  // While draining, every answer (those in flight included) closes its connection, so no keep-alive connection
  // outlives the drain.
  app.addHook("onSend", (_request, reply, _payload, done) => {
    if (draining) reply.header("connection", "close");
    done();
  });
  app.addHook("onResponse", (request, reply, done) => {
    const route = request.routeOptions.url ?? "unmatched";
    metrics.answered(route, reply.statusCode, reply.elapsedTime / 1000);
    if (logEachRequest) request.log.debug({ method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 100) / 100 }, "answered");
    done();
  });

  app.setErrorHandler((error: Error & { code?: string; statusCode?: number }, request, reply) => {
    if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      discardRest(request.raw, reply, discardLimit(o.maxBody));
      return sendError(reply, 413, `the body is larger than this server takes (--max-body ${o.maxBody} bytes)`, "body_too_large");
    }
    if (error.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
      return sendError(reply, 415, `Content-Type ${JSON.stringify(request.headers["content-type"] ?? "")} is not taken; send ${ACCEPTED}`, "unsupported_media_type");
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) return sendError(reply, status, error.message, "bad_request"); // fastify's own (a malformed Content-Length, ...)
    request.log.error({ err: error }, "internal error");
    return sendError(reply, 500, `internal error: ${error.message}`, "internal");
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, 404, `no route ${request.method} ${request.url.split("?")[0]}; this server answers ${ROUTES}`, "not_found"));

  /** Submits one request's body to the batcher and writes its answer. */
  async function answer(request: FastifyRequest, reply: FastifyReply, session?: WorkerRequest["session"]): Promise<WorkerResult | undefined> {
    const format = formatOf(request.headers["content-type"]);
    if (!format || !(request.body instanceof Uint8Array)) {
      const type = request.headers["content-type"];
      sendError(reply, 415, type ? `Content-Type ${JSON.stringify(type)} is not taken; send ${ACCEPTED}` : `the request has no Content-Type; send ${ACCEPTED}`, "unsupported_media_type");
      return undefined;
    }
    const shape = request.headers["x-shape"];
    const item: WorkerRequest = {
      body: ownBytes(request.body), // a body in Node's shared pool is copied, so that transferring it detaches nothing else
      format,
      answer: answerFormat(request.headers.accept, format),
      shape: typeof shape === "string" ? shape : undefined,
      session,
      slot: -1,
    };
    // The response's 'close' comes after its last byte was handed to the kernel, or when its connection is lost:
    // then the slot the answer is written from is given back; a request still queued leaves the queue.
    let writingFrom = -1;
    reply.raw.once("close", () => {
      if (writingFrom >= 0) slots.give(writingFrom);
      else if (!reply.raw.writableFinished) batcher.withdraw(item, "the client closed the connection");
      writingFrom = -1;
    });
    let result: WorkerResult;
    try {
      result = await batcher.submit(item);
    } catch (e) {
      if (e instanceof RnnError && e.code === "overloaded") {
        reply.header("retry-after", "1");
        sendError(reply, 429, `the server is busy (${o.maxQueue} requests wait, --max-queue); retry after a second`, "overloaded");
      } else if (e instanceof RnnError && e.code === "closed") {
        sendError(reply, 503, "the server is shutting down; send this request to another replica", "draining");
      } else if (e instanceof RnnError && e.code === "aborted") {
        sendError(reply, 499, "the client closed the connection before the request ran", "aborted"); // no one reads it
      } else {
        request.log.error({ err: e }, "batch failed");
        sendError(reply, 500, `internal error: ${(e as Error).message}`, "internal");
      }
      return undefined;
    }
    reply.code(result.status).type(result.contentType);
    if (result.headers) reply.headers(result.headers);
    if (result.slotLength < 0) reply.send(Buffer.from(result.bytes!.buffer, result.bytes!.byteOffset, result.bytes!.byteLength));
    else if (reply.raw.closed) {
      release(item); // the client left while its batch ran: nothing will be written
      reply.send(EMPTY);
    } else {
      writingFrom = item.slot;
      item.slot = -1;
      // fastify sends a Buffer as it is only when its memory is an ArrayBuffer; this one's is shared, and without
      // a serializer of its own fastify would serialize it as JSON.
      reply.serializer(asIs).send(slots.view(writingFrom, result.slotLength));
    }
    return result;
  }

  app.post("/v1/predict", (request, reply) => answer(request, reply).then(() => reply));

  app.post<{ Params: { id: string } }>("/v1/sessions/:id/step", async (request, reply) => {
    const { id } = request.params;
    if (!SESSION_ID.test(id)) return sendError(reply, 400, `session id ${JSON.stringify(id.slice(0, 140))} is not 1 to 128 characters of A-Z a-z 0-9 _ . : -`, "invalid_session_id");
    if (info.bidirectional) return sendError(reply, 400, `sessions need a unidirectional model, and this one is bidirectional (${info.description}): its reverse direction starts from each sequence's end; send whole sequences to /v1/predict`, "bidirectional");
    if (!formatOf(request.headers["content-type"])) return answer(request, reply).then(() => reply); // the 415, before the session is touched
    // Steps waiting for their session's turn hold their bodies too: they count against --max-queue with the batcher's.
    if (waitingForTurn + batcher.queued >= o.maxQueue) {
      reply.header("retry-after", "1");
      return sendError(reply, 429, `the server is busy (${o.maxQueue} requests wait, --max-queue); retry after a second`, "overloaded");
    }
    waitingForTurn++;
    let waiting = true;
    const turnTaken = () => {
      if (waiting) waitingForTurn--;
      waiting = false;
    };
    try {
      await sessions.step(id, async (state) => {
        turnTaken();
        const result = await answer(request, reply, { state: { h: state.h, ...(state.c ? { c: state.c } : {}) }, steps: state.steps });
        if (!result?.session) throw new StepFailed(); // answered already (an error): the state stays as it was
        return { h: result.session.state.h, c: result.session.state.c, steps: result.session.steps - state.steps, result };
      });
    } catch (e) {
      if (e instanceof StepFailed) return reply;
      if (e instanceof RnnError && e.code === "overloaded") {
        reply.header("retry-after", "1");
        return sendError(reply, 429, `${e.message} (--max-sessions ${o.maxSessions}, --max-session-bytes ${o.maxSessionBytes})`, "too_many_sessions");
      }
      if (e instanceof RnnError && e.code === "closed") return sendError(reply, 503, "the server is shutting down; send this request to another replica", "draining");
      throw e;
    } finally {
      turnTaken();
    }
    return reply;
  });

  app.delete<{ Params: { id: string } }>("/v1/sessions/:id", async (request, reply) => {
    const { id } = request.params;
    if (!SESSION_ID.test(id)) return sendError(reply, 400, `session id ${JSON.stringify(id.slice(0, 140))} is not 1 to 128 characters of A-Z a-z 0-9 _ . : -`, "invalid_session_id");
    if (!sessions.delete(id)) return sendError(reply, 404, `no session ${JSON.stringify(id)} (never started, ended, or forgotten after --session-ttl ${o.sessionTtl} s)`, "unknown_session");
    return reply.code(204).send();
  });

  app.get("/v1/model", async (_request, reply) => {
    const { description, ...rest } = info;
    return reply.type(MEDIA_TYPES.json).send(JSON.stringify({ ...rest, description, threads: o.threads, maxBatch: o.maxBatch, maxSteps: o.maxSteps, maxBody: o.maxBody }));
  });

  app.get("/healthz", async (_request, reply) => {
    return reply.code(draining ? 503 : 200).type(MEDIA_TYPES.json).send(JSON.stringify({ status: draining ? "draining" : "ok" }));
  });

  app.get("/metrics", async (_request, reply) => reply.type(metrics.contentType).send(await metrics.text()));

  let address: string;
  try {
    address = await app.listen({ host: o.host, port: o.port });
  } catch (e) {
    await batcher.close();
    await sessions.close();
    await pool.destroy();
    const err = e as NodeJS.ErrnoException;
    if (err.code === "EADDRINUSE") throw new CliError(`cannot listen on ${o.host}:${o.port}: the port is in use (--port 0 picks a free one)`);
    if (err.code === "EADDRNOTAVAIL" || err.code === "ENOTFOUND") throw new CliError(`cannot listen on ${o.host}: no such address on this machine`);
    if (err.code === "EACCES") throw new CliError(`cannot listen on ${o.host}:${o.port}: permission denied (ports below 1024 need privileges)`);
    throw new CliError(`cannot listen on ${o.host}:${o.port}: ${err.message}`);
  }
  const port = (app.server.address() as { port: number }).port;
  const host = o.host.includes(":") ? `[${o.host}]` : o.host;
  void address;

  let closing: Promise<void> | null = null;
  const forceClose = () => {
    app.server.closeAllConnections();
  };
  const close = (): Promise<void> => {
    if (!closing) {
      draining = true;
      closing = (async () => {
        app.log.info({ inFlight: batcher.inFlight, queued: batcher.queued }, "draining");
        const timer = setTimeout(() => {
          app.log.warn(`requests still in flight after --drain-timeout ${o.drainTimeout} s: closing their connections`);
          forceClose();
        }, o.drainTimeout * 1000);
        try {
          await app.close(); // the listener closes now; this resolves once every request in flight is answered
          await batcher.close();
        } finally {
          clearTimeout(timer);
          await sessions.close();
          await pool.destroy();
        }
        app.log.info("stopped");
      })();
    }
    return closing;
  };

  app.log.info({ url: `http://${host}:${port}`, model: o.model, description: info.description, threads: o.threads }, "listening");
  return { url: `http://${host}:${port}`, info, threads: o.threads, close, forceClose };
}

/**
 * Resolves once every worker has loaded the model (each answers a ping only then), with each one's memory; rejects
 * with a worker's error.
 */
async function everyWorkerLoaded(pool: Piscina, threads: number): Promise<WorkerMemory[]> {
  const seen = new Map<number, WorkerMemory>();
  for (let round = 0; round < 20 && seen.size < threads; round++) {
    const answers = await Promise.all(Array.from({ length: threads }, () => pool.run({ kind: "ping" } satisfies WorkerTask) as Promise<WorkerMemory>));
    for (const a of answers) seen.set(a.threadId, a);
  }
  return [...seen.values()];
}
