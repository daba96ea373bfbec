// A Cloudflare Worker that serves a PyTorch LSTM (nn.LSTM(64, 256), saved with safetensors' save_file) with rnn-wasm.
//
//   GET  /          the model: kind, sizes, and the wasm build this isolate runs
//   POST /predict   {"input": [[64 numbers], ...], "state"?: {"h": [256 numbers], "c": [256 numbers]}}
//                   -> {"output": [[256 numbers], ...], "state": {"h": [...], "c": [...]}, "build": "relaxed"}
//
// A stream is fed in chunks: each response carries the state after its last step, and the next request sends it
// back, so the Worker keeps nothing between requests and any isolate can serve the next chunk. The chunks give
// the same output as one request with the whole sequence. Bad requests get a 4xx with {"error": "..."} naming
// the problem: a body over the limit (request.js: maxBodyBytes) gets 413 before it is read, a content-type other
// than application/json 415, and errors from the library are told in the request's terms (http.js: libraryError).
//
// "rnn-wasm" resolves to the package's workerd entry (export condition "workerd"), which imports the wasm as
// WebAssembly.Module objects: Workers refuse to compile wasm from bytes.
import { init, fromTorch, loadSafetensors, RnnError } from "rnn-wasm";
import modelFile from "../model.safetensors"; // an ArrayBuffer: wrangler.toml's Data rule
import { clip, errorResponse, HttpError, json, libraryError, readJson, requireFinite } from "./http.js";
import { MAX_STEPS, maxBodyBytes, parseRequest } from "./request.js";

let loading = null; // the model, loaded once per isolate on the first request
function getModel() {
  loading ??= (async () => {
    const runtime = await init(); // the fastest build this engine runs: relaxed SIMD on workerd
    const lstm = fromTorch(loadSafetensors(new Uint8Array(modelFile)).tensors);
    return { lstm, build: runtime.build, maxBodyBytes: maxBodyBytes(lstm.spec) };
  })();
  return loading;
}

async function predict(request) {
  const { lstm, build, maxBodyBytes } = await getModel();
  const body = await readJson(request, maxBodyBytes); // 415, 413 or 400 before anything is parsed
  const { input, h0, c0 } = parseRequest(body, lstm.spec);
  const I = lstm.spec.inputSize, H = lstm.spec.hiddenSize;
  let result;
  try {
    result = lstm.forward(input, { h0, c0 }); // unbatched: output [T, H], hN and cN [1, H]
  } catch (e) {
    if (e instanceof RnnError) throw libraryError(e, [["input", input.data, I], ["state.h", h0?.data, 0], ["state.c", c0?.data, 0]]);
    throw e;
  }
  const { output, hN, cN } = result;
  requireFinite([["output", output.data, H], ["state.h", hN.data, 0], ["state.c", cN.data, 0]]);
  const rows = [];
  for (let t = 0; t < input.shape[0]; t++) rows.push(Array.from(output.data.subarray(t * H, (t + 1) * H)));
  return json({ output: rows, state: { h: Array.from(hN.data), c: Array.from(cN.data) }, build });
}

/** GET /: the model's sizes, the build this isolate runs, and what one request may carry. */
async function describeModel() {
  const { lstm, build, maxBodyBytes } = await getModel();
  const { kind, inputSize, hiddenSize, numLayers } = lstm.spec;
  return json({ model: kind, inputSize, hiddenSize, numLayers, build, maxSteps: MAX_STEPS, maxBodyBytes });
}

/** Each path with the methods it takes (others get 405 with Allow), what to tell a client, and its handler. */
const ROUTES = {
  "/": { methods: ["GET", "HEAD"], use: "use GET", handle: describeModel },
  "/predict": { methods: ["POST"], use: "use POST with a JSON body", handle: predict },
};

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    try {
      const route = Object.hasOwn(ROUTES, pathname) ? ROUTES[pathname] : undefined;
      if (route === undefined) throw new HttpError(404, `no route ${clip(pathname)}: use POST /predict (or GET / for the model)`);
      if (!route.methods.includes(request.method)) {
        throw new HttpError(405, `${clip(request.method)} ${pathname}: ${route.use}`, { allow: route.methods.join(", ") });
      }
      return await route.handle(request);
    } catch (e) {
      if (e instanceof HttpError) return errorResponse(e);
      console.error(e);
      return json({ error: "internal error" }, 500);
    }
  },
};
