// bench/serve/check.ts: before anything is timed, each server's answers are compared with the library run in this
// process on the same model and input (a fast wrong answer is not a result): a whole sequence as JSON and as raw
// float32, and a stream of CHECK_STEPS one-step requests (sessions for `rnn-wasm serve`, the state carried by the
// client for the naive server) against the first CHECK_STEPS steps of one forward over the sequence.
import { readFileSync } from "node:fs";
import { fromTorch, init, loadSafetensors, RecurrentLayer, type Tensor } from "../../src/index.js";
import { rows, sequenceBinary, sequenceJson, stepRow, type ServedFile } from "./model.js";
import type { RunningServer } from "./servers.js";

export const CHECK_STEPS = 5;
/** Largest |server - in-process| accepted: a batched call may sum in another order than a single one. */
export const CHECK_TOLERANCE = 1e-4;

export interface CheckResult {
  sequenceJson: number | string;
  sequenceBinary: number | string;
  stream: number | string;
  /** Every value within CHECK_TOLERANCE. */
  ok: boolean;
}

/** The layer's output [T, D*P] for the file's input, computed in this process. */
export async function expectedOutput(f: ServedFile): Promise<Float32Array> {
  await init();
  const { tensors } = loadSafetensors(readFileSync(f.path));
  const rnn: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(tensors)) if (!name.startsWith("head.")) rnn[name] = t;
  const layer = fromTorch(rnn);
  if (!(layer instanceof RecurrentLayer)) throw new Error("the model file holds a cell, not a layer");
  try {
    return layer.forward({ shape: [f.T, f.I], data: f.input }).output.data;
  } finally {
    layer.dispose();
  }
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k] - b[k]));
  return m;
}

async function post(url: string, headers: Record<string, string>, body: string | Buffer): Promise<Response> {
  const res = await fetch(url, { method: "POST", headers, body: typeof body === "string" ? body : new Uint8Array(body), signal: AbortSignal.timeout(30_000) });
  if (res.status !== 200) throw new Error(`${res.status}: ${(await res.text()).slice(0, 300)}`);
  return res;
}

/** The max abs difference, or what went wrong. */
async function attempt(f: () => Promise<number>): Promise<number | string> {
  try {
    return await f();
  } catch (e) {
    return String((e as Error).message);
  }
}

export async function checkServer(server: RunningServer, f: ServedFile, expected: Float32Array): Promise<CheckResult> {
  const W = expected.length / f.T;
  const predict = `${server.url}/v1/predict`;
  const sequenceJsonDiff = await attempt(async () => {
    const body = (await (await post(predict, { "content-type": "application/json" }, sequenceJson(f))).json()) as { output: number[][] };
    return maxDiff(body.output.flat(), expected);
  });
  const sequenceBinaryDiff = await attempt(async () => {
    const res = await post(predict, { "content-type": "application/octet-stream", "x-shape": `${f.T},${f.I}` }, sequenceBinary(f));
    return maxDiff(new Float32Array(await res.arrayBuffer()), expected);
  });
  const streamDiff = await attempt(async () => {
    let state: unknown;
    const id = `check-${process.pid}-${Date.now()}`;
    let worst = 0;
    for (let t = 0; t < CHECK_STEPS; t++) {
      const input = rows(stepRow(f, t), f.I);
      const [url, body] = server.spec.id === "naive"
        ? [predict, state === undefined ? { input } : { input, state }]
        : [`${server.url}/v1/sessions/${id}/step`, { input }];
      const answer = (await (await post(url, { "content-type": "application/json" }, JSON.stringify(body))).json()) as { output: number[][]; state?: unknown };
      state = answer.state;
      worst = Math.max(worst, maxDiff(answer.output.flat(), expected.subarray(t * W, (t + 1) * W)));
    }
    if (server.spec.id !== "naive") await fetch(`${server.url}/v1/sessions/${id}`, { method: "DELETE" });
    return worst;
  });
  const ok = [sequenceJsonDiff, sequenceBinaryDiff, streamDiff].every((d) => typeof d === "number" && d <= CHECK_TOLERANCE);
  return { sequenceJson: sequenceJsonDiff, sequenceBinary: sequenceBinaryDiff, stream: streamDiff, ok };
}
