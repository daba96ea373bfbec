// test/tfjs/chromium.test.ts: rnn-wasm/tfjs in headless Chromium (test/js-runtimes/browser.ts launches it; a static
// server on 127.0.0.1 serves the repository). test/tfjs/browser/index.html imports the browser entries from the build
// (npm test builds first; alone: npm run build:ts), fetches the committed tfjs model as a browser app would and
// predicts; the output must be tfjs's within 1e-5.
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { maxAbsDiff } from "../../src/index.js";
import { pageResult } from "../js-runtimes/browser.js";

const io = JSON.parse(readFileSync(new URL("../fixtures/tfjs/lstm/io.json", import.meta.url), "utf8"));

describe("rnn-wasm/tfjs in headless Chromium", () => {
  let result: { build: string; shape: number[]; data: number[] };

  beforeAll(async () => {
    result = await pageResult<typeof result>("test/tfjs/browser/index.html");
  }, 90_000);

  it("the model fetched from its files predicts tfjs's output within 1e-5", () => {
    expect(result.shape).toEqual(io.outputShape);
    expect(maxAbsDiff(Float32Array.from(result.data), Float32Array.from(io.output))).toBeLessThan(1e-5);
  });
});
