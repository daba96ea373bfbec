// test/js-runtimes/browser.ts: the headless Chromium the browser tests drive through playwright-core. The system's
// Chromium when one is installed (Debian's /usr/bin/chromium, or CHROMIUM_PATH), else the one @sparticuz/chromium
// ships inside its npm package (a devDependency, unpacked to the temp folder the first time, about 3 s), so `npm test`
// needs nothing but npm. A browser that cannot start fails the test at once with the path it tried.
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { staticServer } from "./helpers.js";

/** Flags the system's Chromium needs here: root, no GPU, and no background connections to a network that is closed. */
const SYSTEM_ARGS = [
  "--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync",
];
const SYSTEM_PATHS = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

/** Launches headless Chromium; `source` says which one, for the test's report. */
export async function launchChromium(): Promise<{ browser: Browser; source: string }> {
  const system = [process.env.CHROMIUM_PATH, ...SYSTEM_PATHS].find((p): p is string => !!p && existsSync(p));
  let executablePath: string;
  let args: string[];
  if (system) {
    executablePath = system;
    args = SYSTEM_ARGS;
  } else {
    const { default: packaged } = await import("@sparticuz/chromium");
    executablePath = await packaged.executablePath();
    args = packaged.args;
  }
  try {
    return { browser: await chromium.launch({ executablePath, args, timeout: 30_000 }), source: executablePath };
  } catch (e) {
    throw new Error(`headless Chromium at ${executablePath} did not start: ${(e as Error).message.split("\n")[0]}`);
  }
}

/**
 * Opens `path` (under the repository, served by a static server on 127.0.0.1) in headless Chromium and waits for the
 * page to set `window.result` (returned) or `window.failure` (thrown, with the page's uncaught errors); the browser
 * and the server are closed either way. The pages of test/onnx, test/tfjs and test/keras work so.
 */
export async function pageResult<T>(path: string): Promise<T> {
  const s = await staticServer();
  let browser: Browser | undefined;
  try {
    ({ browser } = await launchChromium());
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${s.url}/${path}`);
    await page.waitForFunction(() => "result" in window || "failure" in window, null, { timeout: 60_000 });
    const failure = await page.evaluate(() => (window as unknown as { failure?: string }).failure);
    if (failure !== undefined) throw new Error(`${path}: ${failure}${errors.length ? `\n${errors.join("\n")}` : ""}`);
    return await page.evaluate(() => (window as unknown as { result: unknown }).result) as T;
  } finally {
    await browser?.close();
    await new Promise((resolve) => s.server.close(resolve));
  }
}
