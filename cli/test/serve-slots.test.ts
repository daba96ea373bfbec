// cli/test/serve-slots.test.ts: the answer slots (cli/src/serve/answer-slots.ts), through a real server.
//   reuse      a few small slots shared by a burst of requests of different lengths: every answer is bitwise the
//              plain layer's, whether it came through a slot, was transferred because no slot was free, or was
//              larger than a slot (both fallbacks happen: /metrics counts answers by how they came)
//   ownership  after a mixed load (valid, malformed, clients that leave while queued, while their batch runs, and
//              while their large answer is being written) every slot is given back: rnn_wasm_answer_slots_in_use
//              returns to 0 and the server still answers
//   none       --answer-slots 0: every answer transferred, the same bits
//   the pool   AnswerSlots alone: lends each slot once until given back, -1 when none is free, ignores a slot given
//              back twice (so that every path may give back), and writeToSlot refuses bytes larger than a slot
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { fromTorch, init, loadSafetensors, tensor, type RecurrentLayer } from "rnn-wasm";
import { AnswerSlots, writeToSlot } from "../src/serve/answer-slots.js";
import { call, DEMO_MODEL, expected, metric, rawBody, rows, serve, type TestServer } from "./serve-helpers.js";

let layer: RecurrentLayer;
let I: number, F: number;
beforeAll(async () => {
  await init();
  const tensors = loadSafetensors(readFileSync(DEMO_MODEL)).tensors;
  layer = fromTorch(tensors) as RecurrentLayer;
  I = tensors["weight_ih_l0"]?.shape[1] ?? Object.entries(tensors).find(([k]) => k.endsWith("weight_ih_l0"))![1].shape[1];
  F = layer.forward(tensor([1, I])).output.shape[1];
});

/** Polls /metrics until the slots in use are 0 (their owners answered or closed), for at most `ms`. */
async function slotsInUseSettles(url: string, ms = 10_000): Promise<{ inUse: number; text: string }> {
  const until = performance.now() + ms;
  for (;;) {
    const text = (await call(`${url}/metrics`)).text;
    const inUse = metric(text, "rnn_wasm_answer_slots_in_use")!;
    if (inUse === 0 || performance.now() > until) return { inUse, text };
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A raw request whose client leaves: `when` "sent" right after its body is sent (the request is queued or in its
 * batch), "answering" once the answer's headers arrive, without reading its body (the answer is being written).
 * Resolves once the socket is closed.
 */
function leaving(url: string, input: number[][], when: "sent" | "answering"): Promise<void> {
  const { body, headers } = rawBody(input);
  return new Promise((resolve) => {
    const req = request(new URL("/v1/predict", url), { method: "POST", headers, agent: false }, (res) => {
      res.pause(); // nothing read: the server's write of a large answer cannot finish
      if (when === "answering") setTimeout(() => req.destroy(), 20);
    });
    req.on("error", () => undefined);
    req.on("close", () => resolve());
    req.end(body);
    if (when === "sent") setImmediate(() => req.destroy());
  });
}

describe("answer slots", () => {
  let server: TestServer;
  afterAll(async () => server?.close());

  it("a few small slots shared by a burst: every answer bitwise the plain layer's, through a slot or transferred", async () => {
    // 3 slots of 4 KiB: an answer of up to 4 steps x F floats fits (F = 256: 4 KiB), 5 and 6 steps do not; with
    // batches of up to 8 and 3 slots, most requests of a batch find none free.
    server = await serve({ model: DEMO_MODEL, threads: 1, maxBatch: 8, maxWaitMs: 5, answerSlots: 3, answerSlotBytes: 4096 });
    expect(F * 4 * 4).toBeLessThanOrEqual(4096);
    expect(F * 5 * 4).toBeGreaterThan(4096);
    const inputs = Array.from({ length: 24 }, (_, k) => rows(1 + (k % 6), I, 100 + k));
    const answers = await Promise.all(inputs.map((x) => {
      const { body, headers } = rawBody(x);
      return call(`${server.url}/v1/predict`, { method: "POST", body, headers });
    }));
    answers.forEach((a, k) => {
      expect(a.status, a.text).toBe(200);
      expect(a.headers.get("x-shape")).toBe(`${inputs[k].length},${F}`);
      expect(new Float32Array(a.bytes.slice().buffer)).toEqual(expected(layer, inputs[k]).output);
    });
    const m = (await call(`${server.url}/metrics`)).text;
    expect(metric(m, "rnn_wasm_answers_total", 'via="slot"')).toBeGreaterThan(0);
    expect(metric(m, "rnn_wasm_answers_total", 'via="transfer"')).toBeGreaterThan(0);
    expect((await slotsInUseSettles(server.url)).inUse).toBe(0);
  });

  it("every slot comes back after valid, malformed and abandoned requests, and the server still answers", async () => {
    await server.close();
    // Slots as large as an 8192-step answer (8 MiB with F = 256), so that an answer a client stops reading is still
    // being written from its slot when the client leaves: loopback TCP holds about 4 MiB unread (Linux's default
    // tcp_wmem maximum, plus the receiver's first window). 4 of them for batches of up to 8.
    const steps = 8192;
    server = await serve({ model: DEMO_MODEL, threads: 1, maxBatch: 8, maxWaitMs: 5, maxSteps: steps, answerSlots: 4, answerSlotBytes: steps * F * 4 });
    const valid = Array.from({ length: 12 }, (_, k) => rows(1 + (k % 3), I, 200 + k));
    const load = [
      ...valid.map((x) => {
        const { body, headers } = rawBody(x);
        return call(`${server.url}/v1/predict`, { method: "POST", body, headers });
      }),
      ...Array.from({ length: 6 }, () => call(`${server.url}/v1/predict`, { method: "POST", body: new Uint8Array(4 * I), headers: { "content-type": "application/octet-stream", "x-shape": `2,${I}` } })),
      ...Array.from({ length: 6 }, (_, k) => call(`${server.url}/v1/predict`, { json: { input: [[...rows(1, I, k)[0].slice(1), NaN]] } })),
    ];
    const gone = [
      ...Array.from({ length: 6 }, (_, k) => leaving(server.url, rows(3, I, 300 + k), "sent")),
      ...Array.from({ length: 2 }, (_, k) => leaving(server.url, rows(steps, I, 400 + k), "answering")),
    ];
    const answers = await Promise.all(load);
    await Promise.all(gone);
    answers.slice(0, valid.length).forEach((a, k) => expect(new Float32Array(a.bytes.slice().buffer)).toEqual(expected(layer, valid[k]).output));
    expect(answers.slice(valid.length).map((a) => a.status)).toEqual(Array(12).fill(400));
    const { inUse, text } = await slotsInUseSettles(server.url);
    expect(inUse).toBe(0);
    expect(metric(text, "rnn_wasm_answers_total", 'via="slot"')).toBeGreaterThan(0);
    const after = await call(`${server.url}/v1/predict`, { json: { input: rows(2, I, 9) } });
    expect(after.status).toBe(200);
    expect((await slotsInUseSettles(server.url)).inUse).toBe(0);
  });

  it("--answer-slots 0: every answer is transferred, with the same bits", async () => {
    await server.close();
    server = await serve({ model: DEMO_MODEL, threads: 1, answerSlots: 0 });
    const inputs = [rows(2, I, 1), rows(5, I, 2)];
    for (const x of inputs) {
      const { body, headers } = rawBody(x);
      const a = await call(`${server.url}/v1/predict`, { method: "POST", body, headers });
      expect(new Float32Array(a.bytes.slice().buffer)).toEqual(expected(layer, x).output);
    }
    const m = (await call(`${server.url}/metrics`)).text;
    expect(metric(m, "rnn_wasm_answers_total", 'via="slot"')).toBe(0);
    expect(metric(m, "rnn_wasm_answers_total", 'via="transfer"')).toBe(2);
  });
});

describe("AnswerSlots", () => {
  it("lends each slot once until it is given back; -1 when none is free; a second give is ignored", () => {
    const slots = new AnswerSlots(2, 8);
    const a = slots.take(), b = slots.take();
    expect(new Set([a, b])).toEqual(new Set([0, 1]));
    expect(slots.take()).toBe(-1);
    expect(slots.inUse).toBe(2);
    slots.give(a);
    slots.give(a); // ignored: a is free already, and must not be lent twice
    slots.give(-1);
    expect(slots.inUse).toBe(1);
    expect(slots.take()).toBe(a);
    expect(slots.take()).toBe(-1);
  });

  it("writeToSlot writes into its slot alone and refuses bytes larger than a slot", () => {
    const slots = new AnswerSlots(3, 4);
    expect(writeToSlot(slots.shared, 1, Uint8Array.of(1, 2, 3))).toBe(3);
    expect(writeToSlot(slots.shared, 2, Uint8Array.of(1, 2, 3, 4, 5))).toBe(-1);
    expect(writeToSlot(slots.shared, -1, Uint8Array.of(1))).toBe(-1);
    expect([...new Uint8Array(slots.shared.buffer)]).toEqual([0, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 0]);
    expect([...slots.view(1, 3)]).toEqual([1, 2, 3]);
  });
});
