// test/tfjs/chromium.test.ts: rnn-wasm/tfjs in headless Chromium (test/js-runtimes/browser.ts launches it; a static
// server on 127.0.0.1 serves the repository). test/tfjs/browser/index.html imports the browser entries from the build
// (npm test builds first; alone: npm run build:ts), fetches the committed tfjs model as a browser app would and
// predicts; the output must be tfjs's within 1e-5.
import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { maxAbsDiff } from "../../src/index.js";
import { launchChromium } from "../js-runtimes/browser.js";
import { staticServer } from "../js-runtimes/helpers.js";

const io = JSON.parse(readFileSync(new URL("../fixtures/tfjs/lstm/io.json", import.meta.url), "utf8"));

describe("rnn-wasm/tfjs in headless Chromium", () => {
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
    await page.goto(`${s.url}/test/tfjs/browser/index.html`);
    await page.waitForFunction(() => "result" in window || "failure" in window, null, { timeout: 60_000 });
    const failure = await page.evaluate(() => (window as unknown as { failure?: string }).failure);
    expect(failure, errors.join("\n")).toBeUndefined();
    result = await page.evaluate(() => (window as unknown as { result: typeof result }).result);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    if (server) await new Promise((resolve) => server.close(resolve));
  });

  it("the model fetched from its files predicts tfjs's output within 1e-5", () => {
    expect(result.shape).toEqual(io.outputShape);
    expect(maxAbsDiff(Float32Array.from(result.data), Float32Array.from(io.output))).toBeLessThan(1e-5);
  });
});
