// test/onnx/chromium.test.ts: rnn-wasm/onnx in headless Chromium (test/js-runtimes/browser.ts launches it; a static
// server on 127.0.0.1 serves the repository). test/onnx/browser/index.html imports the browser entries from the
// build (npm test builds first; alone: npm run build:ts) and runs fixtures of each kind; their outputs must be the
// expected ones within 1e-5.
import { beforeAll, describe, expect, it } from "vitest";
import { maxAbsDiff } from "../../src/index.js";
import { pageResult } from "../js-runtimes/browser.js";
import { loadCase, numbers } from "./fixtures.js";

const CASES = ["torch/lstm_bidirectional_lengths", "attributes/lstm_everything", "exported/gru_2layer_bidirectional_head", "glue/test_slice_neg_steps"];

describe("rnn-wasm/onnx in headless Chromium", () => {
  let result: { build: string; cases: Record<string, Record<string, { shape: number[]; data: number[] }>> };

  beforeAll(async () => {
    result = await pageResult<typeof result>(`test/onnx/browser/index.html?cases=${CASES.join(",")}`);
  }, 90_000);

  it.each(CASES)("%s: the expected outputs", (ref) => {
    const [group, name] = ref.split("/");
    const c = loadCase(group, name);
    for (const [out, want] of Object.entries(c.expected)) {
      const got = result.cases[ref][out];
      expect(got.shape).toEqual(want.shape);
      expect(maxAbsDiff(Float32Array.from(got.data), Float32Array.from(numbers(want)))).toBeLessThan(1e-5);
    }
  });
});
