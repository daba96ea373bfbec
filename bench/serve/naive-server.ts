// bench/serve/naive-server.ts: the server a user writes today with rnn-wasm and node:http, the baseline of the
// serving benchmark (bench/serve/run.ts). One process, one thread: each request's body is parsed, the model run
// and the answer encoded inline on the event loop, so a request waits for every one ahead of it, /healthz included.
// It is meant to be honest, not slow: JSON.parse into a Float32Array as a user would, raw float32 bodies copied
// once, the model loaded once. Streams are stateless (the state travels in the request and the answer, as
// examples/cloudflare-worker does), so it has no /v1/sessions.
//
//   node --import tsx bench/serve/naive-server.ts --model M [--host 127.0.0.1] [--port 0] [--max-body BYTES] [--max-steps N]
//
//   POST /v1/predict  application/json  {"input": [[I numbers] x T], "state"?: {"h": [[P] x D*L], "c"?: [[H] x D*L]}}
//                       -> {"output": [[D*P] x T], "head"?: [[O] x T], "state": {"h": ..., "c"?: ...}}
//                     application/octet-stream, X-Shape: T,I  raw little-endian float32 [T, I]
//                       -> octet-stream [T, D*P], X-Shape: T,D*P
//   GET  /healthz     {"status": "ok"}
// Errors are JSON {"error": "...", "code": "..."} with a 4xx status, as the contract of `rnn-wasm serve` has them.
// Prints one line with http://HOST:PORT once it listens.
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { parseArgs } from "node:util";
import { fromTorch, init, Linear, loadSafetensors, RecurrentLayer, RnnError, type Tensor } from "rnn-wasm";

const { values: args } = parseArgs({
  options: {
    model: { type: "string" },
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "0" },
    "max-body": { type: "string", default: String(4 << 20) },
    "max-steps": { type: "string", default: "1024" },
    "head-prefix": { type: "string", default: "head." },
  },
});
if (!args.model) throw new Error("--model is required");
const MAX_BODY = Number(args["max-body"]);
const MAX_STEPS = Number(args["max-steps"]);

await init();
const { tensors } = loadSafetensors(readFileSync(args.model));
const headPrefix = args["head-prefix"]!;
const headTensors: Record<string, Tensor> = {};
const rnnTensors: Record<string, Tensor> = {};
for (const [name, t] of Object.entries(tensors)) (name.startsWith(headPrefix) ? headTensors : rnnTensors)[name] = t;
const loaded = fromTorch(rnnTensors);
if (!(loaded instanceof RecurrentLayer)) throw new Error("the model file holds a cell (weight_ih without _l0); this server serves a layer");
const layer: RecurrentLayer = loaded;
const head = Object.keys(headTensors).length > 0 ? Linear.fromTorch(headTensors, { prefix: headPrefix }) : null;
const spec = layer.spec;
const I = spec.inputSize, H = spec.hiddenSize, P = spec.projSize || H;
const D = spec.bidirectional ? 2 : 1, R = D * spec.numLayers;

class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** The body's bytes; 413 as soon as Content-Length or the bytes read pass MAX_BODY. */
function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > MAX_BODY) return Promise.reject(new HttpError(413, "too_large", `the body is ${declared} bytes; at most ${MAX_BODY}`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        req.removeAllListeners("data");
        req.pause();
        reject(new HttpError(413, "too_large", `the body is more than ${MAX_BODY} bytes`));
      } else chunks.push(chunk);
    });
    req.on("end", () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)));
    req.on("error", reject);
  });
}

/** `rows` arrays of `width` numbers from JSON into `out` at `offset`; 400 naming the field otherwise. */
function fill(out: Float32Array, value: unknown, rows: number, width: number, what: string): void {
  if (!Array.isArray(value) || value.length !== rows) throw new HttpError(400, "shape", `${what} must be an array of ${rows} rows`);
  for (let r = 0; r < rows; r++) {
    const row = value[r];
    if (!Array.isArray(row) || row.length !== width) throw new HttpError(400, "shape", `${what}[${r}] must be an array of ${width} numbers`);
    for (let k = 0; k < width; k++) {
      const v = row[k];
      if (typeof v !== "number" || !Number.isFinite(v)) throw new HttpError(400, "nonfinite", `${what}[${r}][${k}] is not a finite number`);
      out[r * width + k] = v;
    }
  }
}

/** [[width numbers] x rows] from a flat array. */
function rows(data: Float32Array, width: number): number[][] {
  const out: number[][] = [];
  for (let k = 0; k < data.length; k += width) out.push(Array.from(data.subarray(k, k + width)));
  return out;
}

function steps(T: number): number {
  if (!Number.isInteger(T) || T < 1) throw new HttpError(400, "shape", "the input must have at least one timestep");
  if (T > MAX_STEPS) throw new HttpError(413, "too_many_steps", `the input has ${T} timesteps; at most ${MAX_STEPS}`);
  return T;
}

function run(x: Float32Array, T: number, h0?: Float32Array, c0?: Float32Array) {
  const r = layer.forward({ shape: [T, I], data: x }, {
    h0: h0 && { shape: [R, P], data: h0 },
    c0: c0 && { shape: [R, H], data: c0 },
  });
  return { ...r, head: head?.forward(r.output) };
}

async function predict(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const type = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  if (type === "application/json") {
    const bytes = await readBody(req);
    let body: { input?: unknown; state?: { h?: unknown; c?: unknown } };
    try {
      body = JSON.parse(bytes.toString("utf8"));
    } catch (e) {
      throw new HttpError(400, "bad_json", `the body is not valid JSON (${(e as Error).message})`);
    }
    if (body === null || typeof body !== "object" || !Array.isArray(body.input)) throw new HttpError(400, "shape", `"input" must be an array of timesteps`);
    const T = steps(body.input.length);
    const x = new Float32Array(T * I);
    fill(x, body.input, T, I, "input");
    let h0: Float32Array | undefined, c0: Float32Array | undefined;
    if (body.state !== undefined) {
      if (body.state === null || typeof body.state !== "object") throw new HttpError(400, "shape", `"state" must be {"h": ..., "c": ...}`);
      h0 = new Float32Array(R * P);
      fill(h0, body.state.h, R, P, "state.h");
      if (spec.kind === "lstm") {
        c0 = new Float32Array(R * H);
        fill(c0, body.state.c, R, H, "state.c");
      }
    }
    const r = run(x, T, h0, c0);
    send(res, 200, {
      output: rows(r.output.data, D * P),
      ...(r.head ? { head: rows(r.head.data, r.head.shape[1]) } : {}),
      state: { h: rows(r.hN.data, P), ...(r.cN ? { c: rows(r.cN.data, H) } : {}) },
    });
  } else if (type === "application/octet-stream") {
    const shape = String(req.headers["x-shape"] ?? "");
    const m = /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(shape);
    if (!m) throw new HttpError(400, "shape", `X-Shape must be "T,${I}" for a raw float32 body`);
    if (Number(m[2]) !== I) throw new HttpError(400, "shape", `X-Shape says ${m[2]} features; the model takes ${I}`);
    const T = steps(Number(m[1]));
    const bytes = await readBody(req);
    if (bytes.length !== T * I * 4) throw new HttpError(400, "shape", `the body has ${bytes.length} bytes; X-Shape ${T},${I} takes ${T * I * 4}`);
    const x = new Float32Array(T * I);
    new Uint8Array(x.buffer).set(bytes);
    for (let k = 0; k < x.length; k++) {
      if (!Number.isFinite(x[k])) throw new HttpError(400, "nonfinite", `input[${Math.floor(k / I)}][${k % I}] is ${x[k]}`);
    }
    const out = run(x, T).output.data;
    res.writeHead(200, { "content-type": "application/octet-stream", "x-shape": `${T},${D * P}`, "content-length": out.byteLength });
    res.end(Buffer.from(out.buffer, out.byteOffset, out.byteLength));
  } else {
    throw new HttpError(415, "content_type", `content-type must be application/json or application/octet-stream, not "${type}"`);
  }
}

const server = createServer((req, res) => {
  const path = (req.url ?? "/").split("?")[0];
  const handle = async () => {
    if (path === "/healthz" && req.method === "GET") return send(res, 200, { status: "ok" });
    if (path === "/v1/predict" && req.method === "POST") return predict(req, res);
    throw new HttpError(404, "not_found", `no route ${req.method} ${path}`);
  };
  handle().catch((e: unknown) => {
    const status = e instanceof HttpError ? e.status : e instanceof RnnError ? 400 : 500;
    const code = e instanceof HttpError ? e.code : e instanceof RnnError ? e.code : "internal";
    if (status === 413) res.setHeader("connection", "close"); // the rest of the body is not read
    send(res, status, { error: (e as Error).message, code });
  });
});
server.listen(Number(args.port), args.host, () => {
  const a = server.address();
  if (a === null || typeof a === "string") throw new Error("no address");
  console.log(`naive server listening on http://${args.host}:${a.port}`);
});
const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
