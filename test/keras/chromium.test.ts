// test/keras/chromium.test.ts: rnn-wasm/keras in headless Chromium (test/js-runtimes/browser.ts launches it; a static
// server on 127.0.0.1 serves the repository). test/keras/browser/index.html imports the browser entries from the
// build (npm test builds first; alone: npm run build:ts), fetches a committed .keras file (Embedding(mask_zero) ->
// Bidirectional LSTM) as a browser app would and predicts; the output must be the stored one within 1e-5 (as
// test/keras/files.test.ts).
import type { Server } from "node:http";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { maxAbsDiff } from "../../src/index.js";
import { launchChromium } from "../js-runtimes/browser.js";
import { staticServer } from "../js-runtimes/helpers.js";
import { io } from "./helpers.js";

describe("rnn-wasm/keras in headless Chromium", () => {
  let browser: Browser;
  let server: Server;
  let result: { build: string; shape: number[]; data: number[] };

  beforeAll(async () => {
    const s = await staticServer();
    server = s.server;
    ({ browser } = await launchChromium());
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${s.url}/test/keras/browser/index.html`);
    await page.waitForFunction(() => "result" in window || "failure" in window, null, { timeout: 60_000 });
    const failure = await page.evaluate(() => (window as unknown as { failure?: string }).failure);
    expect(failure, errors.join("\n")).toBeUndefined();
    result = await page.evaluate(() => (window as unknown as { result: typeof result }).result);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    if (server) await new Promise((resolve) => server.close(resolve));
  });

  it("the .keras file fetched by the page predicts the expected output within 1e-5", () => {
    const want = io("embedding_bidirectional");
    expect(result.shape).toEqual(want.outputShape);
    expect(maxAbsDiff(Float32Array.from(result.data), Float32Array.from(want.output))).toBeLessThan(1e-5);
  });
});
