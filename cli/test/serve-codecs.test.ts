// cli/test/serve-codecs.test.ts: the body codecs of `rnn-wasm serve` (cli/src/serve/codecs.ts) on their own, without
// a server: what each format reads, the message and code of each refusal (the field path as a client writes it),
// and what the answers hold. serve.test.ts checks the same over HTTP for a sample of them.
import { describe, expect, it } from "vitest";
import { loadSafetensors, saveSafetensors, tensor } from "rnn-wasm";
import { BodyError, decodeBody, encodeAnswer, float32Json, type DecodeOptions } from "../src/serve/codecs.js";
import { answerFormat, formatOf, type ModelInfo } from "../src/serve/protocol.js";

const LSTM: ModelInfo = { kind: "lstm", inputSize: 3, outputSize: 4, headSize: 0, stateShape: { h: [2, 4], c: [2, 5] }, bidirectional: false, description: "LSTM" };
const GRU: ModelInfo = { kind: "gru", inputSize: 3, outputSize: 4, headSize: 1, stateShape: { h: [1, 4] }, bidirectional: false, description: "GRU" };
const json = (v: unknown) => new TextEncoder().encode(typeof v === "string" ? v : JSON.stringify(v));
const opts = (o: Partial<DecodeOptions> = {}): DecodeOptions => ({ format: "json", maxSteps: 10, session: false, ...o });

function refusal(f: () => unknown): { status: number; code: string; message: string } {
  try {
    f();
  } catch (e) {
    if (e instanceof BodyError) return { status: e.status, code: e.code, message: e.message };
    throw e;
  }
  throw new Error("not refused");
}

describe("JSON bodies", () => {
  it("reads input [T, I] and a state into row-major float32", () => {
    const r = decodeBody(json({ input: [[1, 2, 3], [4, 5, 6.5]], state: { h: [[1, 1, 1, 1], [2, 2, 2, 2]], c: [[0, 0, 0, 0, 1], [0, 0, 0, 0, 2]] } }), LSTM, opts());
    expect(r.steps).toBe(2);
    expect(Array.from(r.input)).toEqual([1, 2, 3, 4, 5, 6.5]);
    expect(Array.from(r.h0!)).toEqual([1, 1, 1, 1, 2, 2, 2, 2]);
    expect(r.c0!.length).toBe(10);
    expect(decodeBody(json({ input: [[0.1, 0.2, 0.3]] }), LSTM, opts()).input[0]).toBe(Math.fround(0.1));
  });

  const cases: [string, string | object, ModelInfo, Partial<DecodeOptions>, [number, string, string]][] = [
    ["bare NaN", '{"input": [[1, 2, 3], [4, NaN, 6]]}', LSTM, {}, [400, "nonfinite", "input[1][1] is NaN, not a finite number"]],
    ["bare -Infinity", '{"input": [[-Infinity, 2, 3]]}', LSTM, {}, [400, "nonfinite", "input[0][0] is -Infinity, not a finite number"]],
    ["NaN inside a string is a string", '{"input": [["NaN", 2, 3]]}', LSTM, {}, [400, "invalid_body", 'input[0][0] is "NaN", not a number']],
    ["1e999 parses as Infinity", '{"input": [[1e999, 2, 3]]}', LSTM, {}, [400, "nonfinite", "input[0][0] is Infinity, not a finite number"]],
    ["beyond float32", '{"input": [[1, -4e38, 3]]}', LSTM, {}, [400, "nonfinite", "input[0][1] is -4e+38, beyond float32's range (±3.4e38)"]],
    ["null", { input: [[1, null, 3]] }, LSTM, {}, [400, "invalid_body", "input[0][1] is null, not a number"]],
    ["a row that is not an array", { input: [[1, 2, 3], 7] }, LSTM, {}, [400, "invalid_body", "input[1] is 7, not an array of 3 numbers"]],
    ["input not an array", { input: "abc" }, LSTM, {}, [400, "invalid_body", 'input is "abc", not an array of rows of 3 numbers']],
    ["every row short", { input: [[1, 2], [3, 4]] }, LSTM, {}, [400, "shape", "input has 2 rows of 2 numbers; the model takes 3"]],
    ["one row long", { input: [[1, 2, 3], [1, 2, 3, 4]] }, LSTM, {}, [400, "shape", "input[1] has 4 numbers; the model takes 3"]],
    ["too many steps", { input: Array(11).fill([0, 0, 0]) }, LSTM, {}, [413, "too_many_steps", "input has 11 steps; this server takes at most 10 per request (--max-steps)"]],
    ["input missing", {}, LSTM, {}, [400, "invalid_body", 'input is missing; send {"input": [[3 numbers], ...one row per timestep]}']],
    ["an array body", [[1, 2, 3]], LSTM, {}, [400, "invalid_body", 'the body is an array; send an object {"input": [[3 numbers], ...one row per timestep]}']],
    ["state of too few rows", { input: [[1, 2, 3]], state: { h: [[1, 1, 1, 1]] } }, LSTM, {}, [400, "shape", "state.h has 1 row; the model's state has 2"]],
    ["state.c row short", { input: [[1, 2, 3]], state: { h: [[0, 0, 0, 0], [0, 0, 0, 0]], c: [[0, 0, 0, 0, 0], [0, 0]] } }, LSTM, {}, [400, "shape", "state.c[1] has 2 numbers; the model's cell state rows have 5"]],
    ["state.c on a GRU", { input: [[1, 2, 3]], state: { h: [[0, 0, 0, 0]], c: [[0]] } }, GRU, {}, [400, "invalid_body", "state.c is an LSTM's cell state; a GRU has none"]],
    ["state.x", { input: [[1, 2, 3]], state: { h: [[0, 0, 0, 0]], x: 1 } }, GRU, {}, [400, "invalid_body", 'unknown field state.x; a state has "h"']],
    ["state in a session", { input: [[1, 2, 3]], state: { h: [[0, 0, 0, 0]] } }, GRU, { session: true }, [400, "invalid_body", "state is not taken by a session's step: the session keeps its own state (send a state to /v1/predict)"]],
  ];
  it.each(cases)("%s", (_name, body, info, o, [status, code, message]) => {
    expect(refusal(() => decodeBody(json(body), info, opts(o)))).toEqual({ status, code, message });
  });

  it("text that is not JSON: V8's message after ours", () => {
    expect(refusal(() => decodeBody(json('{"input": [[1, 2'), LSTM, opts()))).toMatchObject({ status: 400, code: "invalid_json", message: expect.stringMatching(/^the body is not valid JSON: ./) });
  });

  it("invalid UTF-8 is named as such", () => {
    expect(refusal(() => decodeBody(Uint8Array.of(0x7b, 0xff, 0x7d), LSTM, opts()))).toEqual({ status: 400, code: "invalid_json", message: "the body is not valid UTF-8, so not JSON" });
  });
});

describe("raw float32 bodies", () => {
  const raw = (values: number[]) => new Uint8Array(Float32Array.from(values).buffer);
  it("reads [T, I] with X-Shape; an unaligned body is read too", () => {
    expect(Array.from(decodeBody(raw([1, 2, 3, 4, 5, 6]), LSTM, opts({ format: "raw", shape: "2, 3" })).input)).toEqual([1, 2, 3, 4, 5, 6]);
    const shifted = new Uint8Array(13);
    shifted.set(raw([7, 8, 9]), 1);
    expect(Array.from(decodeBody(shifted.subarray(1), LSTM, opts({ format: "raw", shape: "1,3" })).input)).toEqual([7, 8, 9]);
  });
  const cases: [string, number[], string | undefined, [number, string, string]][] = [
    ["no X-Shape", [1, 2, 3], undefined, [400, "invalid_header", "a raw float32 body needs the header X-Shape: T,3 (steps, then features)"]],
    ["a malformed X-Shape", [1, 2, 3], "1x3", [400, "invalid_header", 'X-Shape is "1x3"; it should be T,3 (steps, then features: two whole numbers)']],
    ["other features", [1, 2, 3, 4], "1,4", [400, "shape", "X-Shape says 4 features per step; the model takes 3"]],
    ["0 steps", [], "0,3", [400, "shape", "X-Shape says 0 steps; send at least one"]],
    ["too many steps", [1, 2, 3], "11,3", [413, "too_many_steps", "input has 11 steps; this server takes at most 10 per request (--max-steps)"]],
    ["a short body", [1, 2, 3], "2,3", [400, "shape", "the body has 12 bytes; X-Shape 2,3 needs 24 (2 x 3 float32)"]],
    ["Infinity", [1, 2, 3, 4, Infinity, 6], "2,3", [400, "nonfinite", "input[1][1] is Infinity, not a finite number"]],
  ];
  it.each(cases)("%s", (_name, values, shape, [status, code, message]) => {
    const body = values.length ? raw(values) : Uint8Array.of(0);
    expect(refusal(() => decodeBody(body, LSTM, opts({ format: "raw", shape })))).toEqual({ status, code, message });
  });
});

describe("safetensors bodies", () => {
  const st = (t: Record<string, [number[], number[]]>) => saveSafetensors(Object.fromEntries(Object.entries(t).map(([k, [shape, v]]) => [k, tensor(shape, Float32Array.from(v))])));
  it("reads input, h0, c0", () => {
    const r = decodeBody(st({ input: [[1, 3], [1, 2, 3]], h0: [[1, 4], [0, 0, 0, 1]] }), GRU, opts({ format: "safetensors" }));
    expect([Array.from(r.input), Array.from(r.h0!)]).toEqual([[1, 2, 3], [0, 0, 0, 1]]);
  });
  const cases: [string, Record<string, [number[], number[]]>, ModelInfo, boolean, [number, string, string]][] = [
    ["no input", { x: [[1], [1]] }, GRU, false, [400, "invalid_body", "unknown tensor 'x'; the body takes 'input', 'h0'"]],
    ["input missing", { h0: [[1, 4], [0, 0, 0, 0]] }, GRU, false, [400, "invalid_body", "the body has no tensor 'input' [T, 3]"]],
    ["c0 on a GRU", { input: [[1, 3], [1, 2, 3]], c0: [[1, 4], [0, 0, 0, 0]] }, GRU, false, [400, "invalid_body", "tensor 'c0' is an LSTM's cell state; a GRU has none"]],
    ["rank 3 input", { input: [[1, 1, 3], [1, 2, 3]] }, GRU, false, [400, "shape", "input has shape [1, 1, 3]; expected [T, 3] (steps, features)"]],
    ["h0 of the wrong shape", { input: [[1, 3], [1, 2, 3]], h0: [[4], [0, 0, 0, 0]] }, GRU, false, [400, "shape", "h0 has shape [4]; the model's state is [1, 4] (layers x directions, features)"]],
    ["NaN in c0", { input: [[1, 3], [1, 2, 3]], h0: [[2, 4], Array(8).fill(0)], c0: [[2, 5], [0, 0, 0, 0, 0, 0, NaN, 0, 0, 0]] }, LSTM, false, [400, "nonfinite", "c0[1][1] is NaN, not a finite number"]],
    ["h0 in a session", { input: [[1, 3], [1, 2, 3]], h0: [[1, 4], [0, 0, 0, 0]] }, GRU, true, [400, "invalid_body", "tensor 'h0' is not taken by a session's step: the session keeps its own state (send a state to /v1/predict)"]],
  ];
  it.each(cases)("%s", (_name, tensors, info, session, [status, code, message]) => {
    expect(refusal(() => decodeBody(st(tensors), info, opts({ format: "safetensors", session })))).toEqual({ status, code, message });
  });
  it("a body that is not safetensors", () => {
    expect(refusal(() => decodeBody(new Uint8Array(4), GRU, opts({ format: "safetensors" })))).toMatchObject({ status: 400, code: "invalid_body", message: expect.stringMatching(/^the body is not a readable safetensors file: file is 4 bytes/) });
  });
});

describe("answers", () => {
  const result = { output: Float32Array.of(0.5, -1, 2, 3, 4, 5, 6, 7), head: Float32Array.of(1, 2), hN: Float32Array.of(1, 2, 3, 4) };
  it("JSON: output, head and state; a session's step: steps instead of the state; non-finite values as null", () => {
    const text = (steps?: number) => JSON.parse(new TextDecoder().decode(encodeAnswer(result, GRU, "json", steps).bytes));
    expect(text()).toEqual({ output: [[0.5, -1, 2, 3], [4, 5, 6, 7]], head: [[1], [2]], state: { h: [[1, 2, 3, 4]] } });
    expect(text(7)).toEqual({ output: [[0.5, -1, 2, 3], [4, 5, 6, 7]], head: [[1], [2]], steps: 7 });
    const odd = encodeAnswer({ ...result, output: Float32Array.of(NaN, Infinity, 1e-7, -0, 1, 2, 3, 4) }, GRU, "json");
    expect(JSON.parse(new TextDecoder().decode(odd.bytes)).output[0].map((v: number | null) => (v === null ? v : Math.fround(v)))).toEqual([null, null, Math.fround(1e-7), -0]);
  });
  it("raw: the output's bytes and X-Shape; safetensors: every tensor, a session's without the state and with its steps", () => {
    const raw = encodeAnswer(result, GRU, "raw", 3);
    expect(raw.headers).toEqual({ "x-shape": "2,4", "x-session-steps": "3" });
    expect(Array.from(new Float32Array(raw.bytes.buffer))).toEqual(Array.from(result.output));
    const st = loadSafetensors(encodeAnswer(result, GRU, "safetensors").bytes);
    expect(Object.fromEntries(Object.entries(st.tensors).map(([k, t]) => [k, t.shape]))).toEqual({ output: [2, 4], head: [2, 1], h_n: [1, 4] });
    expect(st.metadata).toEqual({});
    const step = loadSafetensors(encodeAnswer(result, GRU, "safetensors", 9).bytes);
    expect([Object.keys(step.tensors).sort(), step.metadata]).toEqual([["head", "output"], { steps: "9" }]);
  });
});

describe("float32 in JSON", () => {
  it("9 significant digits at most, trailing zeros dropped, reading back to the same float32", () => {
    const cases: [number, string][] = [[0.3, "0.300000012"], [1, "1"], [-2.5, "-2.5"], [0.0001, "0.0000999999975"], [1e-30, "1e-30"],
      [123456.789, "123456.789"], [65504, "65504"], [-3.4e38, "-3.39999995e+38"], [1e9, "1000000000"], [0.015625, "0.015625"], [-0, "-0"], [0, "0"]];
    for (const [x, text] of cases) {
      const f = Math.fround(x);
      expect(float32Json(f), String(x)).toBe(text);
      expect(Math.fround(JSON.parse(float32Json(f))), String(x)).toBe(f);
    }
    expect([NaN, Infinity, -Infinity].map(float32Json)).toEqual(["null", "null", "null"]);
  });

  it("reads back exactly: 100,000 random float32 bit patterns, and the neighbours of every power of ten in range", () => {
    const bits = new Uint32Array(1), value = new Float32Array(bits.buffer);
    let seed = 1;
    const bad: number[] = [];
    const check = () => {
      const x = value[0];
      if (Number.isFinite(x) && Math.fround(Number(float32Json(x))) !== x && bad.length < 5) bad.push(x);
    };
    for (let k = 0; k < 100_000; k++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      bits[0] = k % 2 ? seed : (seed & 0x807fffff) | ((98 + (seed % 60)) << 23); // half of them within 1e-4 .. 1e9
      check();
    }
    for (let e = -5; e <= 10; e++) {
      value[0] = 10 ** e;
      const at = bits[0];
      for (let d = -300; d <= 300; d++) {
        bits[0] = at + d;
        check();
      }
    }
    expect(bad).toEqual([]);
  });
});

describe("media types", () => {
  it("Content-Type picks the format, parameters ignored; Accept picks the answer's", () => {
    expect(["application/json; charset=utf-8", "Application/Octet-Stream", "application/vnd.safetensors", "text/plain", undefined].map(formatOf)).toEqual(["json", "raw", "safetensors", undefined, undefined]);
    expect(answerFormat(undefined, "raw")).toBe("raw");
    expect(answerFormat("*/*", "raw")).toBe("raw");
    expect(answerFormat("application/json", "raw")).toBe("json");
    expect(answerFormat("application/vnd.safetensors, application/json;q=0.5", "json")).toBe("safetensors");
  });
});
