// A Cloudflare Worker that serves a PyTorch LSTM (nn.LSTM(64, 256), saved with safetensors' save_file) with rnn-wasm.
//
//   GET  /          the model: kind, sizes, and the wasm build this isolate runs
//   POST /predict   {"input": [[64 numbers], ...], "state"?: {"h": [256 numbers], "c": [256 numbers]}}
//                   -> {"output": [[256 numbers], ...], "state": {"h": [...], "c": [...]}, "build": "relaxed"}
//
// A stream is fed in chunks: each response carries the state after its last step, and the next request sends it
// back, so the Worker keeps nothing between requests and any isolate can serve the next chunk. The chunks give
// the same output as one request with the whole sequence. Bad requests get a 4xx with {"error": "..."} naming
// the problem.
//
// "rnn-wasm" resolves to the package's workerd entry (export condition "workerd"), which imports the wasm as
// WebAssembly.Module objects: Workers refuse to compile wasm from bytes.
import { init, fromTorch, loadSafetensors, RnnError } from "rnn-wasm";
import modelFile from "../model.safetensors"; // an ArrayBuffer: wrangler.toml's Data rule

/** Timesteps one request may carry (a bound on the CPU one request can take). */
const MAX_STEPS = 1024;

let loading = null; // the model, loaded once per isolate on the first request
function getModel() {
  loading ??= (async () => {
    const runtime = await init(); // the fastest build this engine runs: relaxed SIMD on workerd
    const lstm = fromTorch(loadSafetensors(new Uint8Array(modelFile)).tensors);
    return { lstm, build: runtime.build };
  })();
  return loading;
}

class BadRequest extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const json = (body, status = 200, headers = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

/** A JSON array of `n` finite numbers, as float32; `what` names it in the error. */
function vector(value, n, what) {
  if (!Array.isArray(value)) throw new BadRequest(400, `${what} must be an array of ${n} numbers`);
  if (value.length !== n) throw new BadRequest(400, `${what} has ${value.length} numbers; the model takes ${n}`);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if (typeof value[i] !== "number" || !Number.isFinite(value[i])) {
      throw new BadRequest(400, `${what}[${i}] is ${JSON.stringify(value[i])}, not a finite number`);
    }
    out[i] = value[i];
  }
  return out;
}

/** The request body: input [T, I] and the optional state, checked against the model's sizes. */
function parseRequest(body, spec) {
  const I = spec.inputSize, H = spec.hiddenSize;
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new BadRequest(400, 'the body must be a JSON object: {"input": [[...], ...], "state"?: {"h": [...], "c": [...]}}');
  }
  for (const key of Object.keys(body)) {
    if (key !== "input" && key !== "state") throw new BadRequest(400, `unknown field "${key}": expected "input" and optionally "state"`);
  }
  const { input, state } = body;
  if (!Array.isArray(input) || input.length === 0) {
    throw new BadRequest(400, `"input" must be a non-empty array of timesteps, each an array of ${I} numbers`);
  }
  if (input.length > MAX_STEPS) throw new BadRequest(413, `"input" has ${input.length} timesteps; at most ${MAX_STEPS} per request`);
  const T = input.length;
  const x = new Float32Array(T * I);
  input.forEach((step, t) => x.set(vector(step, I, `input[${t}]`), t * I));
  let h0, c0;
  if (state !== undefined) {
    if (state === null || typeof state !== "object") throw new BadRequest(400, '"state" must be {"h": [...], "c": [...]} from a previous response');
    h0 = { shape: [1, H], data: vector(state.h, H, "state.h") };
    c0 = { shape: [1, H], data: vector(state.c, H, "state.c") };
  }
  return { input: { shape: [T, I], data: x }, h0, c0 };
}

async function predict(request) {
  let body;
  try {
    body = await request.json();
  } catch (e) {
    throw new BadRequest(400, `the body is not valid JSON (${e.message})`);
  }
  const { lstm, build } = await getModel();
  const { input, h0, c0 } = parseRequest(body, lstm.spec);
  const { output, hN, cN } = lstm.forward(input, { h0, c0 }); // unbatched: output [T, H], hN and cN [1, H]
  const H = lstm.spec.hiddenSize;
  const rows = [];
  for (let t = 0; t < input.shape[0]; t++) rows.push(Array.from(output.data.subarray(t * H, (t + 1) * H)));
  return json({ output: rows, state: { h: Array.from(hN.data), c: Array.from(cN.data) }, build });
}

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    try {
      if (pathname === "/predict") {
        if (request.method !== "POST") throw new BadRequest(405, `${request.method} /predict: use POST with a JSON body`);
        return await predict(request);
      }
      if (pathname === "/") {
        const { lstm, build } = await getModel();
        const { kind, inputSize, hiddenSize, numLayers } = lstm.spec;
        return json({ model: kind, inputSize, hiddenSize, numLayers, build, maxSteps: MAX_STEPS });
      }
      throw new BadRequest(404, `no route ${pathname}: use POST /predict (or GET / for the model)`);
    } catch (e) {
      if (e instanceof BadRequest) return json({ error: e.message }, e.status, e.status === 405 ? { allow: "POST" } : {});
      if (e instanceof RnnError) return json({ error: e.message, code: e.code }, 400);
      throw e;
    }
  },
};
