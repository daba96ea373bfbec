// test/js-runtimes/workerd/budget-worker.js: measures, inside workerd, the CPU time the example Worker spends on one
// request. It calls the example's fetch handler directly (no HTTP), N times in a row, with a W-stream-sized request
// (one timestep of 64 features, with the 256-unit state the previous answer returned). Workers' clocks only move at
// I/O (a Spectre mitigation), so the loop is bracketed by two timer waits and the time between them, less the
// waits, is the loop's. Bundled by wrangler (wrangler.budget.toml) so "rnn-wasm" resolves as in the example.
import worker from "../../../examples/cloudflare-worker/src/index.js";
import { createRuntime, fromTorch, loadSafetensors } from "rnn-wasm";
import modelFile from "../../../examples/cloudflare-worker/model.safetensors";

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

export default {
  async fetch(request) {
    const n = Number(new URL(request.url).searchParams.get("n") ?? "200");
    const step = Array.from({ length: 64 }, (_, i) => Math.sin(i));
    const call = async (state) => {
      const res = await worker.fetch(new Request("http://worker/predict", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(state ? { input: [step], state } : { input: [step] }),
      }));
      if (res.status !== 200) throw new Error(await res.text());
      return (await res.json()).state;
    };
    let state = await call(null); // loads the model
    await tick();
    const t0 = Date.now();
    for (let i = 0; i < n; i++) state = await call(state);
    await tick();
    const loopMs = Date.now() - t0;
    // the same two waits around nothing, to subtract
    await tick();
    const e0 = Date.now();
    await tick();
    const emptyMs = Date.now() - e0;
    // the forward pass alone (one step from a state, the model the example serves), without JSON or a Request
    const lstm = fromTorch(loadSafetensors(new Uint8Array(modelFile)).tensors, { runtime: await createRuntime() });
    const x = { shape: [1, 64], data: Float32Array.from(step) };
    let h0 = { shape: [1, 256], data: new Float32Array(256) }, c0 = { shape: [1, 256], data: new Float32Array(256) };
    await tick();
    const f0 = Date.now();
    for (let i = 0; i < n; i++) ({ hN: h0, cN: c0 } = lstm.forward(x, { h0, c0 }));
    await tick();
    const forwardMs = Date.now() - f0;
    lstm.dispose();
    return Response.json({
      n, loopMs, emptyMs, usPerRequest: ((loopMs - emptyMs) * 1000) / n, usPerForward: ((forwardMs - emptyMs) * 1000) / n,
    });
  },
};
