// test/keras/chromium.test.ts: rnn-wasm/keras in headless Chromium (test/js-runtimes/browser.ts launches it; a static
// server on 127.0.0.1 serves the repository). test/keras/browser/index.html imports the browser entries from the
// build (npm test builds first; alone: npm run build:ts), fetches a committed .keras file (Embedding(mask_zero) ->
// Bidirectional LSTM) as a browser app would and predicts; the output must be the stored one within 1e-5 (as
// test/keras/files.test.ts).
import { beforeAll, describe, expect, it } from "vitest";
import { maxAbsDiff } from "../../src/index.js";
import { pageResult } from "../js-runtimes/browser.js";
import { io } from "./helpers.js";

describe("rnn-wasm/keras in headless Chromium", () => {
  let result: { build: string; shape: number[]; data: number[] };

  beforeAll(async () => {
    result = await pageResult<typeof result>("test/keras/browser/index.html");
  }, 90_000);

  it("the .keras file fetched by the page predicts the expected output within 1e-5", () => {
    const want = io("embedding_bidirectional");
    expect(result.shape).toEqual(want.outputShape);
    expect(maxAbsDiff(Float32Array.from(result.data), Float32Array.from(want.output))).toBeLessThan(1e-5);
  });
});
