// test/js-runtimes/browser.ts: the headless Chromium the browser tests drive through playwright-core. The system's
// Chromium when one is installed (Debian's /usr/bin/chromium, or CHROMIUM_PATH), else the one @sparticuz/chromium
// ships inside its npm package (a devDependency, unpacked to the temp folder the first time, about 3 s), so `npm test`
// needs nothing but npm. A browser that cannot start fails the test at once with the path it tried.
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

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
