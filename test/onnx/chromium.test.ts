// test/onnx/chromium.test.ts: rnn-wasm/onnx in headless Chromium (test/js-runtimes/browser.ts launches it; a static
// server on 127.0.0.1 serves the repository). test/onnx/browser/index.html imports the browser entries from the
// build (npm test builds first; alone: npm run build:ts) and runs fixtures of each kind; their outputs must be the
// expected ones within 1e-5.
import type { Server } from "node:http";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { maxAbsDiff } from "../../src/index.js";
import { launchChromium } from "../js-runtimes/browser.js";
import { staticServer } from "../js-runtimes/helpers.js";
import { loadCase, numbers } from "./fixtures.js";

const CASES = ["torch/lstm_bidirectional_lengths", "attributes/lstm_everything", "exported/gru_2layer_bidirectional_head", "glue/test_slice_neg_steps"];

describe("rnn-wasm/onnx in headless Chromium", () => {
  let browser: Browser;
  let server: Server;
  let result: { build: string; cases: Record<string, Record<string, { shape: number[]; data: number[] }>> };

  beforeAll(async () => {
    const s = await staticServer();
    server = s.server;
    ({ browser } = await launchChromium());
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${s.url}/test/onnx/browser/index.html?cases=${CASES.join(",")}`);
    await page.waitForFunction(() => "result" in window || "failure" in window, null, { timeout: 60_000 });
    const failure = await page.evaluate(() => (window as unknown as { failure?: string }).failure);
    expect(failure, errors.join("\n")).toBeUndefined();
    result = await page.evaluate(() => (window as unknown as { result: typeof result }).result);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    if (server) await new Promise((resolve) => server.close(resolve));
  });

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
