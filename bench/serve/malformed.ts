// bench/serve/malformed.ts: malformed requests mixed into valid load. Each malformed request must be answered 4xx
// with a JSON body {"error": "..."}; each valid one 200 (204 for a DELETE of a session the mix made); the server
// must still answer /healthz and a whole sequence at the end, and its memory (RSS) is sampled along the way.
// Bounded: exactly `malformed` + valid requests from a seeded schedule, `concurrency` at a time, each with a
// timeout, the whole phase with a deadline. Requests go through node:http (each answer is checked one by one,
// which autocannon does not do), on kept-alive connections except for the oversized bodies (a fresh connection
// each: the server may close it without reading the body).
import { Agent, request, type OutgoingHttpHeaders } from "node:http";
import { mulberry32 } from "../../src/index.js";
import { rows, sequenceBinary, sequenceJson, stepRow, type ServedFile } from "./model.js";
import { memorySample, type MemorySample, type RunningServer } from "./servers.js";

export interface Sent {
  method: string;
  path: string;
  headers: OutgoingHttpHeaders;
  /** A body, or for an oversized one the bytes to stream in 64 KiB chunks until the server answers. */
  body?: string | Buffer | { streamBytes: number; declare: boolean };
}

interface Case {
  name: string;
  valid: boolean;
  build(k: number): Sent;
}

export interface MalformedOptions {
  malformed: number;
  /** Valid requests per malformed one. */
  validRatio: number;
  concurrency: number;
  maxBody: number;
  maxSteps: number;
  deadlineS: number;
}

export interface CaseTally {
  valid: boolean;
  sent: number;
  /** Status -> count ("reset" when the connection failed before any answer, "timeout"). */
  statuses: Record<string, number>;
  /** Answers whose status was wrong (not 4xx for malformed, not 2xx for valid) or, for a 4xx, whose body was not a JSON {error}. */
  wrong: number;
  example?: string;
}

export interface MalformedResult {
  malformed: number;
  valid: number;
  byCase: Record<string, CaseTally>;
  /** Over all malformed requests, then over all valid ones: status -> count. */
  malformedStatuses: Record<string, number>;
  validStatuses: Record<string, number>;
  wrong: number;
  elapsedS: number;
  finishedInTime: boolean;
  /** After the mix: /healthz and a whole sequence answered 200. */
  stillServing: boolean;
  memory: MemorySample[];
}

const json = (path: string, body: string, method = "POST"): Sent => ({ method, path, headers: { "content-type": "application/json" }, body });
const raw = (path: string, shape: string | null, body: Buffer): Sent => ({
  method: "POST", path, headers: { "content-type": "application/octet-stream", ...(shape === null ? {} : { "x-shape": shape }) }, body,
});

/** Every malformed kind, and the valid requests they are mixed with. */
function cases(f: ServedFile, o: MalformedOptions): Case[] {
  const I = f.I, T = f.T;
  const zeros = (n: number) => Array.from({ length: n }, () => 0);
  const seq = sequenceJson(f);
  const bin = sequenceBinary(f);
  const withValue = (v: string) => seq.replace(/^(\{"input":\[\[)([^,]+)/, `$1${v}`); // the first number replaced
  const floats = (patch: (x: Float32Array) => void) => {
    const x = new Float32Array(f.input);
    patch(x);
    return Buffer.from(x.buffer);
  };
  const malformed: [string, (k: number) => Sent][] = [
    ["bad JSON: cut in half", () => json("/v1/predict", seq.slice(0, seq.length >> 1))],
    ["bad JSON: not JSON", () => json("/v1/predict", "{input: [[1, 2, 3]]")],
    ["bad JSON: NaN literal", () => json("/v1/predict", withValue("NaN"))],
    ["JSON not an object", () => json("/v1/predict", "[1,2,3]")],
    ["no input field", () => json("/v1/predict", JSON.stringify({ inputs: [zeros(I)] }))],
    ["input not an array", () => json("/v1/predict", JSON.stringify({ input: "x" }))],
    ["input empty", () => json("/v1/predict", JSON.stringify({ input: [] }))],
    ["wrong shape: a row of I-1", () => json("/v1/predict", JSON.stringify({ input: [zeros(I), zeros(I - 1), zeros(I)] }))],
    ["wrong shape: flat input", () => json("/v1/predict", JSON.stringify({ input: zeros(I) }))],
    ["a string for a number", () => json("/v1/predict", withValue('"NaN"'))],
    ["null for a number", () => json("/v1/predict", withValue("null"))],
    ["Infinity (1e999)", () => json("/v1/predict", withValue("1e999"))],
    ["state of the wrong shape", () => json("/v1/predict", JSON.stringify({ input: [zeros(I)], state: { h: [zeros(3)], c: [zeros(3)] } }))],
    ["too many steps", () => json("/v1/predict", JSON.stringify({ input: Array.from({ length: o.maxSteps + 1 }, () => zeros(I)) }))],
    ["oversized, Content-Length", () => ({ method: "POST", path: "/v1/predict", headers: { "content-type": "application/json" }, body: { streamBytes: 2 * o.maxBody, declare: true } })],
    ["oversized, chunked", () => ({ method: "POST", path: "/v1/predict", headers: { "content-type": "application/json" }, body: { streamBytes: 2 * o.maxBody, declare: false } })],
    ["raw float32 without X-Shape", () => raw("/v1/predict", null, bin)],
    ["X-Shape of the wrong width", () => raw("/v1/predict", `${T},${I - 1}`, bin)],
    ["X-Shape not numbers", () => raw("/v1/predict", "abc", bin)],
    ["raw body truncated", () => raw("/v1/predict", `${T},${I}`, bin.subarray(0, bin.length - 100))],
    ["raw NaN", () => raw("/v1/predict", `${T},${I}`, floats((x) => (x[5] = NaN)))],
    ["raw Infinity", () => raw("/v1/predict", `${T},${I}`, floats((x) => (x[T * I - 1] = -Infinity)))],
    ["wrong content type (text/plain)", () => ({ method: "POST", path: "/v1/predict", headers: { "content-type": "text/plain" }, body: seq })],
    ["no content type", () => ({ method: "POST", path: "/v1/predict", headers: {}, body: seq })],
    ["garbage safetensors", () => ({ method: "POST", path: "/v1/predict", headers: { "content-type": "application/vnd.safetensors" }, body: Buffer.from("\u0010\u0000\u0000\u0000\u0000\u0000\u0000\u0000{not json at all}") })],
    ["DELETE of an unknown session", (k) => ({ method: "DELETE", path: `/v1/sessions/never-made-${k}`, headers: {} })],
    ["session id of 200 characters", () => json(`/v1/sessions/${"x".repeat(200)}/step`, JSON.stringify({ input: [zeros(I)] }))],
    ["session step, bad JSON", (k) => json(`/v1/sessions/mix-bad-${k % 64}/step`, '{"input": [[1,2')],
    ["session step, wrong shape", (k) => json(`/v1/sessions/mix-bad-${k % 64}/step`, JSON.stringify({ input: [zeros(I + 1)] }))],
    ["unknown route", () => json("/v1/nothing", seq)],
    ["GET /v1/predict", () => ({ method: "GET", path: "/v1/predict", headers: {} })],
  ];
  const valid: [string, (k: number) => Sent][] = [
    ["valid: sequence, JSON", () => json("/v1/predict", seq)],
    ["valid: sequence, raw float32", () => raw("/v1/predict", `${T},${I}`, bin)],
    ["valid: session step, JSON", (k) => json(`/v1/sessions/mix-${k % 32}/step`, JSON.stringify({ input: rows(stepRow(f, k), I) }))],
  ];
  return [
    ...malformed.map(([name, build]) => ({ name, valid: false, build })),
    ...valid.map(([name, build]) => ({ name, valid: true, build })),
  ];
}

interface Answer {
  status: number | "reset" | "timeout";
  contentType: string;
  body: string;
}

const TIMEOUT_MS = 30_000;

function send(server: RunningServer, s: Sent, agent: Agent): Promise<Answer> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (a: Answer) => {
      if (!settled) {
        settled = true;
        resolve(a);
      }
    };
    const stream = typeof s.body === "object" && !Buffer.isBuffer(s.body) ? s.body : null;
    const headers: OutgoingHttpHeaders = { ...s.headers };
    if (stream?.declare) headers["content-length"] = stream.streamBytes;
    const req = request(new URL(s.path, server.url), { method: s.method, headers, agent: stream ? false : agent, timeout: TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        done({ status: res.statusCode ?? 0, contentType: String(res.headers["content-type"] ?? ""), body: Buffer.concat(chunks).toString("utf8") });
        if (stream) req.destroy(); // stop sending what the server refused
      });
      res.on("error", () => done({ status: "reset", contentType: "", body: "" }));
    });
    req.on("timeout", () => {
      req.destroy();
      done({ status: "timeout", contentType: "", body: "" });
    });
    req.on("error", () => done({ status: "reset", contentType: "", body: "" }));
    if (stream) {
      const chunk = Buffer.alloc(65536, 0x20); // spaces: valid JSON whitespace, never a complete body
      let left = stream.streamBytes;
      const pump = () => {
        while (left > 0 && !settled && !req.destroyed) {
          const n = Math.min(left, chunk.length);
          left -= n;
          if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void req.once("drain", pump);
        }
        if (left === 0 && !req.destroyed) req.end();
      };
      pump();
    } else {
      req.end(s.body as string | Buffer | undefined);
    }
  });
}

/** Whether an answer is what the case should get. */
function judge(c: Case, a: Answer): boolean {
  if (c.valid) return typeof a.status === "number" && a.status >= 200 && a.status < 300;
  if (typeof a.status !== "number" || a.status < 400 || a.status >= 500) return false;
  if (!a.contentType.startsWith("application/json")) return false;
  try {
    const body = JSON.parse(a.body) as { error?: unknown };
    return typeof body.error === "string" && body.error.length > 0;
  } catch {
    return false;
  }
}

export async function runMalformed(server: RunningServer, f: ServedFile, o: MalformedOptions, log: (s: string) => void): Promise<MalformedResult> {
  const all = cases(f, o);
  const bad = all.filter((c) => !c.valid), good = all.filter((c) => c.valid);
  const nValid = Math.round(o.malformed * o.validRatio);
  // the schedule: every malformed kind in turn, the valid ones in turn, shuffled with a fixed seed
  const schedule: Case[] = [
    ...Array.from({ length: o.malformed }, (_, k) => bad[k % bad.length]),
    ...Array.from({ length: nValid }, (_, k) => good[k % good.length]),
  ];
  const rand = mulberry32(13);
  for (let k = schedule.length - 1; k > 0; k--) {
    const j = Math.floor(rand() * (k + 1));
    [schedule[k], schedule[j]] = [schedule[j], schedule[k]];
  }

  const byCase: Record<string, CaseTally> = {};
  for (const c of all) byCase[c.name] = { valid: c.valid, sent: 0, statuses: {}, wrong: 0 };
  const malformedStatuses: Record<string, number> = {}, validStatuses: Record<string, number> = {};
  const agent = new Agent({ keepAlive: true, maxSockets: o.concurrency });
  const t0 = performance.now();
  const deadline = t0 + o.deadlineS * 1000;
  const memory: MemorySample[] = [await memorySample(server, t0)];
  const every = Math.max(1, Math.floor(schedule.length / 5));
  let next = 0, finished = 0;

  const worker = async () => {
    while (next < schedule.length && performance.now() < deadline) {
      const k = next++;
      const c = schedule[k];
      const a = await send(server, c.build(k), agent);
      const tally = byCase[c.name];
      tally.sent++;
      tally.statuses[a.status] = (tally.statuses[a.status] ?? 0) + 1;
      const all = c.valid ? validStatuses : malformedStatuses;
      all[a.status] = (all[a.status] ?? 0) + 1;
      if (!judge(c, a)) {
        tally.wrong++;
        tally.example ??= a.status === "reset" ? "the connection was reset before any answer arrived"
          : a.status === "timeout" ? `no answer in ${TIMEOUT_MS / 1000} s`
          : `${a.status} ${a.contentType} ${a.body.slice(0, 200)}`;
      }
      if (++finished % every === 0) {
        memory.push(await memorySample(server, t0));
        log(`  malformed mix: ${finished}/${schedule.length}, RSS ${((memory.at(-1)!.rss ?? 0) / 2 ** 20).toFixed(1)} MiB`);
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  const elapsedS = (performance.now() - t0) / 1000;
  agent.destroy();

  // sessions the mix made are ended (a valid DELETE each); then the server must still answer
  for (let k = 0; k < Math.min(32, nValid); k++) await send(server, { method: "DELETE", path: `/v1/sessions/mix-${k}`, headers: {} }, new Agent());
  const health = await fetch(`${server.url}/healthz`).then((r) => r.status).catch(() => 0);
  const seq = await send(server, { method: "POST", path: "/v1/predict", headers: { "content-type": "application/octet-stream", "x-shape": `${f.T},${f.I}` }, body: sequenceBinary(f) }, new Agent());
  await new Promise((r) => setTimeout(r, 2000));
  memory.push(await memorySample(server, t0));

  const sentMalformed = Object.values(byCase).filter((t) => !t.valid).reduce((n, t) => n + t.sent, 0);
  return {
    malformed: sentMalformed,
    valid: Object.values(byCase).filter((t) => t.valid).reduce((n, t) => n + t.sent, 0),
    byCase,
    malformedStatuses,
    validStatuses,
    wrong: Object.values(byCase).reduce((n, t) => n + t.wrong, 0),
    elapsedS: Number(elapsedS.toFixed(1)),
    finishedInTime: finished === schedule.length,
    stillServing: health === 200 && seq.status === 200,
    memory,
  };
}
