// bench/workerd/bench-worker.js: the workload bench's Worker (bench/peers/workerd.ts starts it in workerd through
// Miniflare, loaded from the repository unbundled as test/js-runtimes/workerd/parity-worker.js is): it imports the
// package's workerd entry (workerd/index.js, over the built dist/ and build/*.wasm), so what it times is what a Worker
// that installs the package runs. Workers' clocks do not move while a request computes (a Spectre mitigation), so
// nothing is timed here: Node times the round trips of /run requests and subtracts an empty one's.
//   GET  /forms                  the int8 form quantize() picks on each build here ('auto', the default): it is
//                                chosen once per runtime, so a small layer's quantize() tells
//   POST /setup?key=K            header x-setup: {build, dtype?, form?, shape: [T, B, I], modelBytes}; body: the
//                                model's safetensors bytes, then the input (float32, [T, B, I]). Builds the layer
//                                (fromTorch, then quantize() for a dtype), keeps it under K, runs one forward and
//                                answers its output (float32 bytes; headers x-build, x-form) for Node to check
//   POST /run?key=K&n=N          N forwards of K's layer on its input (N = 0: the empty request Node subtracts)
//   POST /dispose?key=K          frees K's layer
import { createRuntime, fromTorch, loadSafetensors, LSTM, quantize } from "../../workerd/index.js";

/** One runtime per build, as one Worker would hold it. */
const runtimes = new Map();
const runtimeFor = (build) => {
  if (!runtimes.has(build)) runtimes.set(build, createRuntime(undefined, { build }));
  return runtimes.get(build);
};

/** Layers set up by /setup, by key: { layer, input }. */
const cases = new Map();

async function setup(key, request) {
  const { build, dtype, form, shape, modelBytes } = JSON.parse(request.headers.get("x-setup"));
  const body = new Uint8Array(await request.arrayBuffer());
  const runtime = await runtimeFor(build);
  const float = fromTorch(loadSafetensors(body.subarray(0, modelBytes)).tensors, { runtime });
  let layer = float;
  if (dtype) {
    try {
      layer = quantize(float, { dtype, form: form ?? "auto", runtime });
    } finally {
      float.dispose();
    }
  }
  const input = { shape, data: new Float32Array(body.slice(modelBytes).buffer) };
  cases.get(key)?.layer.dispose();
  cases.set(key, { layer, input });
  const output = layer.forward(input).output.data;
  return new Response(output.slice().buffer, {
    headers: { "content-type": "application/octet-stream", "x-build": runtime.build, "x-form": layer.form ?? "" },
  });
}

function run(key, n) {
  if (n === 0) return Response.json({ n });
  const c = cases.get(key);
  if (!c) return Response.json({ error: `no case '${key}'` }, { status: 404 });
  for (let i = 0; i < n; i++) c.layer.forward(c.input);
  return Response.json({ n });
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const key = url.searchParams.get("key") ?? "";
    try {
      switch (url.pathname) {
        case "/forms": {
          const forms = {};
          for (const build of ["simd", "relaxed"]) {
            const runtime = await runtimeFor(build);
            const float = new LSTM({ inputSize: 4, hiddenSize: 4, seed: 1, runtime });
            const q = quantize(float, { dtype: "int8", runtime });
            forms[build] = q.form;
            q.dispose();
            float.dispose();
          }
          return Response.json({ forms });
        }
        case "/setup":
          return await setup(key, request);
        case "/run":
          return run(key, Number(url.searchParams.get("n") ?? "1"));
        case "/dispose":
          cases.get(key)?.layer.dispose();
          cases.delete(key);
          return Response.json({ disposed: key });
        default:
          return Response.json({ error: `no route ${url.pathname}` }, { status: 404 });
      }
    } catch (e) {
      return Response.json({ error: String(e?.stack ?? e) }, { status: 500 });
    }
  },
};
