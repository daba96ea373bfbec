// test/js-runtimes/chromium.test.ts: the package in a browser. Headless Chromium (the system's, or the one the
// @sparticuz/chromium package ships: test/js-runtimes/browser.ts) opens test/js-runtimes/browser/index.html from a static
// server on 127.0.0.1. The page imports the package's browser entry, which fetches the wasm by URL, and runs the parity case;
// its outputs must match Node's within 1e-6 for each build.
import type { Server } from "node:http";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ParityResult } from "./parity-case.js";
import { launchChromium } from "./browser.js";
import { layerDiffs, nodeParity, staticServer } from "./helpers.js";

describe("in headless Chromium", () => {
  let browser: Browser;
  let server: Server;
  let requests: string[];
  let inChromium: ParityResult;
  let version: string;

  beforeAll(async () => {
    const s = await staticServer();
    server = s.server;
    requests = s.requests;
    ({ browser } = await launchChromium());
    version = browser.version();
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${s.url}/test/js-runtimes/browser/index.html`);
    await page.waitForFunction(() => "result" in window || "failure" in window, null, { timeout: 60_000 });
    const failure = await page.evaluate(() => (window as unknown as { failure?: string }).failure);
    expect(failure, errors.join("\n")).toBeUndefined();
    inChromium = await page.evaluate(() => (window as unknown as { result: ParityResult }).result);
  });

  afterAll(async () => {
    await browser?.close();
    if (server) await new Promise((resolve) => server.close(resolve));
  });

  it("the page imported the browser entry, which fetched the wasm from build/ by URL", () => {
    expect(version).toMatch(/^\d+\./);
    expect(requests).toContain("/dist/src/browser.js");
    expect(requests).toContain("/build/rnn-relaxed.wasm");
    expect(requests.some((r) => r.includes("node.js"))).toBe(false);
  });

  it("init() picks relaxed SIMD, and every build runs", () => {
    expect(inChromium.defaultBuild).toBe("relaxed");
    expect(inChromium.supports).toEqual({ relaxed: true, simd: true, scalar: true });
  });

  it("each build's outputs match Node 20's within 1e-6 (relaxed: Node 20 with its flag)", () => {
    const node = nodeParity(process.execPath);
    const nodeRelaxed = nodeParity(process.execPath, ["--experimental-wasm-relaxed-simd"]);
    for (const build of ["simd", "scalar"] as const) {
      for (const [layer, d] of Object.entries(layerDiffs(inChromium.outputs[build], node.outputs[build]))) {
        expect(d, `${build} ${layer}`).toBeLessThanOrEqual(1e-6);
      }
    }
    for (const [layer, d] of Object.entries(layerDiffs(inChromium.outputs.relaxed, nodeRelaxed.outputs.relaxed))) {
      expect(d, `relaxed ${layer}`).toBeLessThanOrEqual(1e-6);
    }
  });
});
