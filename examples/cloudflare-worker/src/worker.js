// src/worker.js: a Cloudflare Worker that serves a PyTorch recurrent model with rnn-wasm: any nn.LSTM, nn.GRU or nn.RNN (layers,
// directions, projection), optionally with an nn.Linear head on every step, from one state_dict saved as
// safetensors (model.js says what the file may hold, and the wrangler.toml vars that say what it does not).
// Sizes below: I inputSize, P projSize or hiddenSize, H hiddenSize, L numLayers, D directions, O the numbers per
// step (the head's outFeatures, or D*P without a head).
//
//   GET  /          the model: kind, sizes, layers, directions, head, state shapes, limits, and the wasm build
//   POST /predict   {"input": [[I numbers] x T], "state"?: {"h": [[P numbers] x D*L], "c": [[H numbers] x D*L]}}
//                   -> {"output": [[O numbers] x T], "state": {"h": ..., "c": ...}, "build": "relaxed"}
//                   ("c" for an LSTM only; the state is PyTorch's h_n and c_n, in their layout)
//
// A stream is fed in chunks: each response carries the state after its last step, and the next request sends it
// back, so the Worker keeps nothing between requests and any isolate can serve the next chunk. The chunks give the
// same output as one request with the whole sequence. A bidirectional model cannot be streamed (its reverse
// direction starts at the end of the whole sequence): send each sequence whole; a state sent to it is the initial
// state, as PyTorch's h0.
// Bad requests get a 4xx with {"error": "..."} naming the problem with the model's sizes: a body over the limit
// (request.js: limits) gets 413 before it is read, a content-type other than application/json 415, and errors from
// the library are told in the request's terms (http.js: libraryError). A model file the Worker cannot serve gets
// 500 with the reason on every request (and in the log).
//
// This module is the Worker without its model: src/index.js gives it model.safetensors (float32, a PyTorch
// state_dict), src/index-int8.js model.int8.safetensors (a quantized model file: `rnn-wasm quantize`, model.js).
// "rnn-wasm" resolves to the package's workerd entry (export condition "workerd"), which imports the wasm as
// WebAssembly.Module objects: Workers refuse to compile wasm from bytes.
import { init, RnnError } from "rnn-wasm";
import { clip, errorResponse, HttpError, json, libraryError, readJson, requireFinite } from "./http.js";
import { describe, loadModel, ModelError } from "./model.js";
import { parseRequest } from "./request.js";

/**
 * The Worker serving the model file `modelFile` (an ArrayBuffer: a module bundled by wrangler.toml's Data rule):
 * src/index.js serves model.safetensors, src/index-int8.js model.int8.safetensors.
 *
 * @param {ArrayBuffer} modelFile
 */
export function modelWorker(modelFile) {
  let loading = null; // the model, loaded once per isolate on the first request
  const getModel = (env) => {
    loading ??= (async () => {
      const runtime = await init(); // the fastest build this engine runs: relaxed SIMD on workerd
      return { ...loadModel(new Uint8Array(modelFile), env), build: runtime.build };
    })();
    return loading;
  };
  return {
    async fetch(request, env) {
      return respond(request, env, getModel);
    },
  };
}

/** [[width numbers] x rows] from a flat [rows, width] array, as a response carries it. */
function rows(data, width) {
  const out = [];
  for (let k = 0; k < data.length; k += width) out.push(Array.from(data.subarray(k, k + width)));
  return out;
}

async function predict(request, env, getModel) {
  const model = await getModel(env);
  const { layer, head, sizes, build } = model;
  const body = await readJson(request, model.maxBodyBytes); // 415, 413 or 400 before anything is parsed
  const { input, h0, c0 } = parseRequest(body, sizes, model.maxSteps);
  const fields = [["input", input.data, sizes.inputSize], ["state.h", h0?.data, sizes.hWidth], ["state.c", c0?.data, sizes.cWidth]];
  const run = (f) => {
    try {
      return f();
    } catch (e) {
      throw e instanceof RnnError ? libraryError(e, fields) : e;
    }
  };
  // unbatched: output [T, D*P], hN [D*L, P], cN [D*L, H]
  let { output, hN, cN } = run(() => layer.forward(input, { h0, c0 }));
  requireFinite([
    [head ? "the recurrent layer's output" : "output", output.data, output.shape[1]],
    ["state.h", hN.data, sizes.hWidth],
    ["state.c", cN?.data, sizes.cWidth],
  ]);
  if (head) {
    output = run(() => head.forward(output)); // [T, D*P] -> [T, O]
    requireFinite([["output", output.data, sizes.outputSize]]);
  }
  const state = { h: rows(hN.data, sizes.hWidth), ...(cN ? { c: rows(cN.data, sizes.cWidth) } : {}) };
  return json({ output: rows(output.data, sizes.outputSize), state, build });
}

/** GET /: the model's sizes and state shapes, what one request may carry, and the build this isolate runs. */
async function describeModel(_request, env, getModel) {
  const model = await getModel(env);
  return json(describe(model, model.build));
}

/** Each path with the methods it takes (others get 405 with Allow), what to tell a client, and its handler. */
const ROUTES = {
  "/": { methods: ["GET", "HEAD"], use: "use GET", handle: describeModel },
  "/predict": { methods: ["POST"], use: "use POST with a JSON body", handle: predict },
};

/** Routes one request; `getModel(env)` gives the model (loading it on the isolate's first request). */
async function respond(request, env, getModel) {
  const { pathname } = new URL(request.url);
  try {
    const route = Object.hasOwn(ROUTES, pathname) ? ROUTES[pathname] : undefined;
    if (route === undefined) throw new HttpError(404, `no route ${clip(pathname)}: use POST /predict (or GET / for the model)`);
    if (!route.methods.includes(request.method)) {
      throw new HttpError(405, `${clip(request.method)} ${pathname}: ${route.use}`, { allow: route.methods.join(", ") });
    }
    return await route.handle(request, env, getModel);
  } catch (e) {
    if (e instanceof HttpError) return errorResponse(e);
    if (e instanceof ModelError) {
      console.error(`the model cannot be served: ${e.message}`);
      return json({ error: `the Worker's model cannot be served: ${e.message}` }, 500);
    }
    console.error(e);
    return json({ error: "internal error" }, 500);
  }
}
