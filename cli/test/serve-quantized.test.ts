// cli/test/serve-quantized.test.ts: `rnn-wasm serve --model int8.safetensors` serves a quantized model file (issue
// 14), over real HTTP on a loopback port (the server started in this process, its workers the built worker.js):
//   - the demo LSTM quantized by `rnn-wasm quantize --dtype int8`, and an int12 LSTM with a float32 head written beside
//     its tensors: /v1/model describes them as the float model's sizes;
//   - /v1/predict answers BITWISE what loadQuantized(file) gives in this process (the workers run the same wasm build
//     and pick the same integer form: 'auto' decides from the engine, the same here and there), and within the
//     quantization's error of the float32 model (int8: 2.5% of the output's largest value, the bound
//     test/api/quantize.test.ts holds layers to; the demo LSTM measured 0.6% in examples/quantize.mjs);
//   - concurrent requests of different lengths, batched by the server (--max-batch N with a long --max-wait-ms: the
//     batch starts exactly when the N-th arrives), each bitwise its answer alone (test/serving/served-model.quantized
//     .test.ts says why: every row is quantized and computed on its own);
//   - a session's chunks give the whole sequence's outputs (stream() of a quantized layer in chunks is bitwise one
//     forward: test/api/quantize.test.ts; compared within 1e-6 as serve-sessions.test.ts compares float models).
import { join } from "node:path";
import { readFileSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromTorch, init, Linear, loadQuantized, loadSafetensors, LSTM, quantize, saveQuantized, saveSafetensors, tensor, type QuantizedLayer, type RecurrentLayer, type Tensor } from "rnn-wasm";
import { call, DEMO_MODEL, f32, nested, rawBody, rows, serve, type TestServer } from "./serve-helpers.js";
import { cliInProcess, describeRun, readTensors, requireLibraryBuild, tempDir } from "./helpers.js";

const BATCH = 5;
let dir: string;
let int8File: string, headFile: string;
let int8: TestServer, batching: TestServer, withHead: TestServer;
let head: Linear;

/** loadQuantized(file)'s answer for one sequence [T, I] from zeros, and the head's at every step when given. */
function quantizedAnswer(file: string, input: number[][], linear?: Linear): { output: Float32Array; h: Float32Array; c?: Float32Array; head?: Float32Array } {
  const q = loadQuantized(readFileSync(file)) as QuantizedLayer;
  try {
    const r = q.forward(tensor([input.length, input[0].length], Float32Array.from(input.flat())));
    return { output: r.output.data, h: r.hN.data, ...(r.cN ? { c: r.cN.data } : {}), ...(linear ? { head: linear.forward(r.output).data } : {}) };
  } finally {
    q.dispose();
  }
}

beforeAll(async () => {
  requireLibraryBuild();
  await init();
  dir = tempDir();
  int8File = join(dir, "int8.safetensors");
  const made = await cliInProcess(["quantize", "--model", DEMO_MODEL, "--dtype", "int8", "--out", int8File]);
  expect(made.code, describeRun(made)).toBe(0);
  // an int12 LSTM 3 -> 7 with a Linear(7 -> 2) head beside its tensors, as a user would add one to saveQuantized's file
  const lstm = new LSTM({ inputSize: 3, hiddenSize: 7, seed: 21 });
  head = new Linear({ inFeatures: 7, outFeatures: 2, seed: 22 });
  const q = quantize(lstm, { dtype: "int12" });
  const file = loadSafetensors(saveQuantized(q));
  const headTensors: Record<string, Tensor> = Object.fromEntries(Object.entries(head.toTorch()).map(([k, v]) => [`head.${k}`, v]));
  headFile = join(dir, "int12-head.safetensors");
  writeFileSync(headFile, saveSafetensors({ ...file.tensors, ...file.integers, ...headTensors }, file.metadata));
  writeFileSync(join(dir, "int12.safetensors"), saveQuantized(q));
  q.dispose();
  lstm.dispose();
  [int8, batching, withHead] = await Promise.all([
    serve({ model: int8File }),
    serve({ model: int8File, maxBatch: BATCH, maxWaitMs: 10_000 }),
    serve({ model: headFile }),
  ]);
});
afterAll(async () => {
  await Promise.all([int8, batching, withHead].map((s) => s?.close()));
  head?.dispose();
});

describe("rnn-wasm serve --model <quantized file>", () => {
  it("/v1/model describes the quantized model with the float model's sizes", async () => {
    const [q, h] = [await call(`${int8.url}/v1/model`), await call(`${withHead.url}/v1/model`)];
    expect(q.status, q.text).toBe(200);
    expect(q.json).toMatchObject({ kind: "lstm", inputSize: 64, outputSize: 256, headSize: 0, stateShape: { h: [1, 256], c: [1, 256] }, bidirectional: false });
    expect(h.json).toMatchObject({ kind: "lstm", inputSize: 3, outputSize: 7, headSize: 2, stateShape: { h: [1, 7], c: [1, 7] } });
  });

  it("/v1/predict: bitwise loadQuantized's answer, within int8's error of the float32 model", async () => {
    const input = rows(9, 64, 1);
    const r = await call(`${int8.url}/v1/predict`, { json: { input } });
    expect(r.status, r.text).toBe(200);
    const want = quantizedAnswer(int8File, input);
    expect(f32(r.json.output)).toEqual(nested(want.output, 256));
    expect(f32(r.json.state)).toEqual({ h: nested(want.h, 256), c: nested(want.c!, 256) });
    const float = fromTorch(readTensors(DEMO_MODEL)) as RecurrentLayer;
    const exact = float.forward(tensor([9, 64], Float32Array.from(input.flat()))).output.data;
    float.dispose();
    const got = Float32Array.from((r.json.output as number[][]).flat());
    let err = 0, top = 0;
    exact.forEach((v, i) => {
      err = Math.max(err, Math.abs(got[i] - v));
      top = Math.max(top, Math.abs(v));
    });
    expect(err / top, `error ${err} against the float model's largest output ${top}`).toBeLessThan(0.025);
    expect(err, "an int8 model is not the float one").toBeGreaterThan(0);
  });

  it("a float32 head beside an int12 file's tensors answers head [T, O]; raw float32 gives the same numbers", async () => {
    const input = rows(4, 3, 2);
    const r = await call(`${withHead.url}/v1/predict`, { json: { input } });
    expect(r.status, r.text).toBe(200);
    const want = quantizedAnswer(join(dir, "int12.safetensors"), input, head);
    expect(f32(r.json.output)).toEqual(nested(want.output, 7));
    expect(f32(r.json.head)).toEqual(nested(want.head!, 2));
    const raw = await call(`${withHead.url}/v1/predict`, { method: "POST", ...rawBody(input) });
    expect(raw.status, raw.text).toBe(200);
    expect(nested(new Float32Array(raw.bytes.buffer, raw.bytes.byteOffset, raw.bytes.byteLength / 4), 7)).toEqual(f32(r.json.output));
  });

  it(`${BATCH} concurrent requests of different lengths run as one batch, each answer bitwise its answer alone`, async () => {
    const inputs = Array.from({ length: BATCH }, (_, k) => rows(2 + ((k * 3) % 7), 64, 50 + k));
    const answers = await Promise.all(inputs.map((input) => call(`${batching.url}/v1/predict`, { json: { input } })));
    answers.forEach((a, k) => {
      expect(a.status, a.text).toBe(200);
      const want = quantizedAnswer(int8File, inputs[k]);
      expect(f32(a.json.output), `request ${k}`).toEqual(nested(want.output, 256));
      expect(f32(a.json.state), `request ${k}`).toEqual({ h: nested(want.h, 256), c: nested(want.c!, 256) });
    });
    const metrics = (await call(`${batching.url}/metrics`)).text;
    expect(metrics).toMatch(new RegExp(`^rnn_wasm_batch_size_sum ${BATCH}$`, "m"));
  });

  it("a session's chunks give the outputs of the whole sequence", async () => {
    const input = rows(8, 64, 9);
    const whole = quantizedAnswer(int8File, input);
    const outputs: number[][] = [];
    for (const [from, to] of [[0, 3], [3, 4], [4, 8]]) {
      const r = await call(`${int8.url}/v1/sessions/q-1/step`, { json: { input: input.slice(from, to) } });
      expect(r.status, r.text).toBe(200);
      outputs.push(...(r.json.output as number[][]));
    }
    const got = Float32Array.from(outputs.flat());
    let err = 0;
    got.forEach((v, i) => (err = Math.max(err, Math.abs(v - whole.output[i]))));
    expect(err).toBeLessThanOrEqual(1e-6);
  });

  it("options that contradict what the quantized file records are refused at start, naming the file", async () => {
    await expect(serve({ model: int8File, kind: "gru" })).rejects.toThrow(/int8\.safetensors.*records kind "lstm"/);
  });
});
