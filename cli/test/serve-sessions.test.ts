// cli/test/serve-sessions.test.ts: batching and sessions of `rnn-wasm serve` over real HTTP.
//   batching   concurrent requests of different lengths, with and without a state, run as one batched forward
//              (--max-wait-ms 10 s and --max-batch N: the batch starts exactly when the N-th request arrives, so the
//              test does not depend on timing) and each answer is BITWISE what the plain layer gives that request
//              alone (the library runs each row of a batch with the same sums in the same order: see
//              test/serving/served-model.test.ts); the batch-size histogram shows the one batch.
//   sessions   a stream sent in chunks, in any of the three formats, gives the outputs the whole sequence in one
//              request gives (within 1e-6: a chunk's input projection is one matmul over its own steps, so the sums are the
//              same but this test does not rely on it); steps counted; a failed step leaves the state; TTL; the
//              cap on sessions (429 with Retry-After); DELETE; ids; bidirectional models refused.
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSafetensors, maxAbsDiff } from "rnn-wasm";
import { call, f32, expected, metric, nested, rawBody, rows, safetensorsBody, serve, smallModels, type TestServer } from "./serve-helpers.js";

let models: Awaited<ReturnType<typeof smallModels>>;
let batching: TestServer, lstm: TestServer, gru: TestServer, capped: TestServer, bidir: TestServer;
const BATCH = 6;

beforeAll(async () => {
  models = await smallModels();
  [batching, lstm, gru, capped, bidir] = await Promise.all([
    serve({ model: models.lstmHead.file, maxBatch: BATCH, maxWaitMs: 10_000 }), // beyond what the option takes: the test sets it directly
    serve({ model: models.lstmHead.file }),
    serve({ model: models.gru.file, sessionTtl: 0.3 }),
    serve({ model: models.gru.file, maxSessions: 2 }),
    serve({ model: models.rnnBidir.file }),
  ]);
});
afterAll(async () => {
  await Promise.all([batching, lstm, gru, capped, bidir].map((s) => s?.close()));
});

const flat = (m: number[][]) => Float32Array.from(m.flat());

describe("dynamic batching", () => {
  it(`${BATCH} concurrent requests of different lengths run as one batch, each answer bitwise the plain layer's for it alone`, async () => {
    const { layer, head } = models.lstmHead;
    const requests = Array.from({ length: BATCH }, (_, k) => ({ input: rows(1 + ((k * 5) % 9), 3, 100 + k), ...(k % 2 ? { state: { h: rows(2, 5, 200 + k), c: rows(2, 5, 300 + k) } } : {}) }));
    const answers = await Promise.all(requests.map((json) => call(`${batching.url}/v1/predict`, { json })));
    answers.forEach((a, k) => {
      expect(a.status, a.text).toBe(200);
      const want = expected(layer, requests[k].input, requests[k].state, head);
      expect(f32(a.json.output), `request ${k}`).toEqual(nested(want.output, 5));
      expect(f32(a.json.head), `request ${k}`).toEqual(nested(want.head!, 2));
      expect(f32(a.json.state), `request ${k}`).toEqual({ h: nested(want.h, 5), c: nested(want.c!, 5) });
    });
    const m = (await call(`${batching.url}/metrics`)).text;
    expect(metric(m, "rnn_wasm_batch_size_count")).toBe(1);
    expect(metric(m, "rnn_wasm_batch_size_sum")).toBe(BATCH);
  });

  it("a batch mixes formats and session steps", async () => {
    const { layer, head } = models.lstmHead;
    const inputs = Array.from({ length: BATCH }, (_, k) => rows(2 + k, 3, 400 + k));
    const answers = await Promise.all(inputs.map((input, k) => {
      const url = `${batching.url}${k < 3 ? "/v1/predict" : `/v1/sessions/mix-${k}/step`}`;
      if (k % 3 === 0) return call(url, { json: { input } });
      return call(url, { method: "POST", ...(k % 3 === 1 ? rawBody(input) : safetensorsBody({ input })) });
    }));
    answers.forEach((a, k) => {
      expect(a.status, a.text).toBe(200);
      const want = expected(layer, inputs[k], undefined, head);
      const output = k % 3 === 0 ? flat(a.json.output) : k % 3 === 1 ? new Float32Array(a.bytes.buffer, a.bytes.byteOffset, a.bytes.byteLength / 4) : loadSafetensors(a.bytes).tensors.output.data;
      expect(maxAbsDiff(output, want.output), `request ${k}`).toBe(0);
    });
  });
});

describe("sessions", () => {
  it("a stream in chunks (JSON, raw, safetensors) gives the whole sequence's outputs; steps are counted; the state stays in the server", async () => {
    const { layer, head } = models.lstmHead;
    const whole = rows(9, 3, 7);
    const chunks = [whole.slice(0, 4), whole.slice(4, 5), whole.slice(5, 9)];
    const a = await call(`${lstm.url}/v1/sessions/stream-1/step`, { json: { input: chunks[0] } });
    expect(a.status, a.text).toBe(200);
    expect(a.json.steps).toBe(4);
    const b = await call(`${lstm.url}/v1/sessions/stream-1/step`, { method: "POST", ...rawBody(chunks[1]) });
    expect(b.headers.get("x-session-steps")).toBe("5");
    const c = await call(`${lstm.url}/v1/sessions/stream-1/step`, { method: "POST", ...safetensorsBody({ input: chunks[2] }) });
    expect(c.status, c.text).toBe(200);
    const t = loadSafetensors(c.bytes);
    expect(t.metadata.steps).toBe("9");
    const want = expected(layer, whole, undefined, head);
    const streamed = Float32Array.from([...a.json.output.flat(), ...new Float32Array(b.bytes.buffer, b.bytes.byteOffset, 5), ...t.tensors.output.data]);
    expect(maxAbsDiff(streamed, want.output)).toBeLessThanOrEqual(1e-6);
    expect(maxAbsDiff(t.tensors.head.data, want.head!.subarray(5 * 2))).toBeLessThanOrEqual(1e-6);
    expect(Object.keys(t.tensors).sort()).toEqual(["head", "output"]); // the state stays in the server
    expect(a.json.state).toBeUndefined();
    const m = (await call(`${lstm.url}/metrics`)).text;
    expect(metric(m, "rnn_wasm_sessions")).toBe(1);
    expect(metric(m, "rnn_wasm_session_bytes")).toBe(4 * (2 * 5 + 2 * 5));
  });

  it("a step answered with an error leaves the state as it was", async () => {
    const whole = rows(5, 4, 8);
    await call(`${gru.url}/v1/sessions/keep/step`, { json: { input: whole.slice(0, 2) } });
    const bad = await call(`${gru.url}/v1/sessions/keep/step`, { json: { input: [[1, 2, 3]] } });
    expect([bad.status, bad.json.code]).toEqual([400, "shape"]);
    const last = await call(`${gru.url}/v1/sessions/keep/step`, { json: { input: whole.slice(2) } });
    expect(last.json.steps).toBe(5);
    const want = expected(models.gru.layer, whole);
    expect(maxAbsDiff(flat(last.json.output), want.output.subarray(2 * 6))).toBeLessThanOrEqual(1e-6);
  });

  it("a session's body carries no state: 400", async () => {
    const r = await call(`${gru.url}/v1/sessions/s/step`, { json: { input: rows(1, 4), state: { h: rows(1, 6) } } });
    expect([r.status, r.json.code]).toEqual([400, "invalid_body"]);
    expect(r.json.error).toMatch(/^state is not taken by a session's step/);
    const st = await call(`${gru.url}/v1/sessions/s/step`, { method: "POST", ...safetensorsBody({ input: rows(1, 4), h0: rows(1, 6) }) });
    expect([st.status, st.json.error]).toEqual([400, "tensor 'h0' is not taken by a session's step: the session keeps its own state (send a state to /v1/predict)"]);
  });

  it("DELETE ends a session (204), then 404; the id's next step starts from zeros", async () => {
    const input = rows(3, 4, 9);
    await call(`${gru.url}/v1/sessions/del/step`, { json: { input } });
    const del = await call(`${gru.url}/v1/sessions/del`, { method: "DELETE" });
    expect(del.status).toBe(204);
    const again = await call(`${gru.url}/v1/sessions/del`, { method: "DELETE" });
    expect([again.status, again.json.code]).toEqual([404, "unknown_session"]);
    const fresh = await call(`${gru.url}/v1/sessions/del/step`, { json: { input } });
    expect(fresh.json.steps).toBe(3);
    expect(f32(fresh.json.output)).toEqual(nested(expected(models.gru.layer, input).output, 6));
  });

  it("a session unused for --session-ttl is forgotten", async () => {
    const r = await call(`${gru.url}/v1/sessions/brief/step`, { json: { input: rows(1, 4) } });
    expect(r.status).toBe(200);
    await sleep(450); // --session-ttl 0.3
    const del = await call(`${gru.url}/v1/sessions/brief`, { method: "DELETE" });
    expect(del.status).toBe(404);
    const next = await call(`${gru.url}/v1/sessions/brief/step`, { json: { input: rows(1, 4) } });
    expect(next.json.steps).toBe(1);
  });

  it("beyond --max-sessions a new session is refused with 429 and Retry-After; one ended makes room", async () => {
    const step = (id: string) => call(`${capped.url}/v1/sessions/${id}/step`, { json: { input: rows(1, 4) } });
    expect((await step("a")).status).toBe(200);
    expect((await step("b")).status).toBe(200);
    const c = await step("c");
    expect([c.status, c.json.code, c.headers.get("retry-after")]).toEqual([429, "too_many_sessions", "1"]);
    expect(c.json.error).toMatch(/--max-sessions 2/);
    expect((await step("a")).json.steps).toBe(2); // a kept session still steps
    expect((await call(`${capped.url}/v1/sessions/a`, { method: "DELETE" })).status).toBe(204);
    expect((await step("c")).status).toBe(200);
  });

  it("ids: 1 to 128 characters of A-Z a-z 0-9 _ . : -, else 400", async () => {
    for (const id of ["a%20b", "x".repeat(129), "%C3%A9"]) {
      const r = await call(`${gru.url}/v1/sessions/${id}/step`, { json: { input: rows(1, 4) } });
      expect([r.status, r.json.code], id).toEqual([400, "invalid_session_id"]);
    }
    const ok = await call(`${gru.url}/v1/sessions/${"A-z_0.9:x".repeat(14).slice(0, 128)}/step`, { json: { input: rows(1, 4) } });
    expect(ok.status, ok.text).toBe(200);
  });

  it("a bidirectional model refuses sessions (400) and serves whole sequences", async () => {
    const r = await call(`${bidir.url}/v1/sessions/x/step`, { json: { input: rows(2, 3) } });
    expect([r.status, r.json.code]).toEqual([400, "bidirectional"]);
    const input = rows(4, 3, 10);
    const p = await call(`${bidir.url}/v1/predict`, { json: { input } });
    const want = expected(models.rnnBidir.layer, input);
    expect(f32(p.json.output)).toEqual(nested(want.output, 8));
    expect(f32(p.json.state.h)).toEqual(nested(want.h, 4));
  });
});
