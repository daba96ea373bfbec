// test/bundlers/browser.test.ts: the packed package in a browser app built by esbuild, Vite and webpack, each with
// the recipe docs/bundlers.md shows (fixtures/commands.sh, fixtures/browser). Each app's build output is served
// alone from a static server on 127.0.0.1 and opened in headless Chromium: the LSTM's output must equal Node's
// (the same main.js run by the package's node export, relaxed SIMD enabled as in Chromium) within 1e-6, the page
// must have fetched a .wasm the bundler emitted, and the output folder must hold nothing else unexpected. Vite's dev
// server, which pre-bundles the package, must give the page the same output. A fourth app is the finding:
// esbuild without the recipe emits no .wasm, and init() must name the URL it tried and what to do, whether the
// server answers 404, answers its fallback page (as many hosts do for a path they do not have), or drops the
// connection. The builds, Node's run and Chromium's start overlap; each page opens as soon as its build is done.
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { extname, join } from "node:path";
import type { Browser } from "playwright-core";
import { createServer as createViteServer } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../js-runtimes/browser.js";
import { staticServer } from "../js-runtimes/helpers.js";
import {
  type AppResult, describeProc, FIXTURES, inNode, outputDiff, packed, removePacked, type Proc, region, ROOT, run, sh,
  tempDir, unpackInto,
} from "./helpers.js";

const COMMANDS = "test/bundlers/fixtures/commands.sh";
const BROWSER = join(FIXTURES, "browser");

interface App {
  name: string;
  /** Files copied from fixtures/browser into the app: [from, to]. */
  files: Array<[string, string]>;
  build: (dir: string) => Promise<Proc>;
}

const APPS: App[] = [
  {
    name: "esbuild",
    files: [["main-esbuild.js", "main.js"], ["index.html", "index.html"]],
    build: (dir) => sh(region(COMMANDS, "esbuild-browser"), dir),
  },
  {
    name: "vite",
    files: [["main.js", "main.js"], ["index.html", "index.html"], ["in-node.mjs", "in-node.mjs"]],
    build: (dir) => sh(region(COMMANDS, "vite"), dir),
  },
  {
    name: "webpack",
    files: [["main.js", "main.js"], ["index.html", "index.html"], ["webpack.config.js", "webpack.config.js"]],
    build: async (dir) => {
      const p = await run(process.execPath, [join(ROOT, "test/bundlers/webpack-build.mjs"), dir], dir);
      if (p.code === 0) cpSync(join(dir, "index.html"), join(dir, "dist/index.html"));
      return p;
    },
  },
  {
    name: "esbuild without the recipe", // plain main.js, the recipe's command: no .wasm is imported, none is emitted
    files: [["main.js", "main.js"], ["index.html", "index.html"]],
    build: (dir) => sh(region(COMMANDS, "esbuild-browser"), dir),
  },
];

/**
 * A static server for `dist` that, for a path it does not have, either answers its index.html with status 200 (the
 * fallback page of a single-page-app host) or closes the connection without answering.
 */
async function unkindServer(dist: string, missing: "fallback" | "reset"): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const path = join(dist, new URL(req.url ?? "/", "http://x").pathname);
    const found = path.startsWith(dist) && existsSync(path) && statSync(path).isFile();
    if (!found && missing === "reset") return void req.socket.destroy();
    const file = found ? path : join(dist, "index.html");
    res.writeHead(200, { "content-type": extname(file) === ".js" ? "text/javascript" : "text/html" }).end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, server };
}

interface Opened {
  result?: AppResult;
  failure?: string;
  requests: string[];
  files: string[];
  build: Proc;
}

describe("browser bundles of the packed package, in headless Chromium", () => {
  const opened = new Map<string, Opened>();
  const unkindFailures = new Map<"fallback" | "reset", string | undefined>();
  let viteDev: { result?: AppResult; failure?: string; requests: string[] };
  const servers: Server[] = [];
  let browser: Browser | undefined;
  let root: string;
  let node: AppResult;

  beforeAll(async () => {
    const { tgz } = await packed();
    root = tempDir("browser-apps");
    const dirs = APPS.map((app, k) => {
      const dir = join(root, `app-${k}`);
      unpackInto(tgz, dir);
      for (const [from, to] of app.files) cpSync(join(BROWSER, from), join(dir, to));
      return dir;
    });
    const reference = inNode(dirs[1]);
    // One page for every app, one after another, each as soon as its build is done: a new page costs Chromium a
    // renderer process (seconds on a loaded machine), a navigation between ports of 127.0.0.1 (one site) reuses it.
    const page = launchChromium().then(async (chromium) => {
      browser = chromium.browser;
      return browser.newPage();
    });
    let queue: Promise<unknown> = page;
    /** Opens `url`/index.html after the pages before it and reads what main.js left on window, and the paths requested. */
    const open = (url: string) => {
      const visit = queue.then(async () => {
        const p = await page;
        const requests: string[] = [];
        const log = (r: { url(): string }) => requests.push(new URL(r.url()).pathname);
        p.on("request", log);
        await p.goto(`${url}/index.html`);
        await p.waitForFunction(() => "result" in window || "failure" in window, null, { timeout: 30_000 });
        const seen = await p.evaluate(() => ({ result: (window as { result?: AppResult }).result, failure: (window as { failure?: string }).failure }));
        p.off("request", log);
        return { ...seen, requests };
      });
      queue = visit.catch(() => undefined);
      return visit;
    };
    const serveAndOpen = async (app: App, k: number) => {
      const build = await app.build(dirs[k]);
      expect(build.code, `${app.name} build\n${describeProc(build)}`).toBe(0);
      const dist = join(dirs[k], "dist");
      const server = await staticServer(dist);
      servers.push(server.server);
      const files = readdirSync(dist, { recursive: true }).map(String).sort();
      opened.set(app.name, { ...(await open(server.url)), requests: server.requests, files, build });
      if (app.name !== "esbuild without the recipe") return;
      for (const missing of ["fallback", "reset"] as const) {
        const { url, server: unkind } = await unkindServer(dist, missing);
        servers.push(unkind);
        unkindFailures.set(missing, (await open(url)).failure);
      }
    };
    await Promise.all([...APPS.map(serveAndOpen), page]);
    node = await reference;
    // Vite's dev server on the Vite app: it pre-bundles the package into node_modules/.vite and must still serve the
    // .wasm its new URL(...) points at
    const dev = await createViteServer({ root: dirs[1], configFile: false, logLevel: "silent", server: { host: "127.0.0.1", port: 0 } });
    try {
      await dev.listen();
      viteDev = await open(dev.resolvedUrls!.local[0].replace(/\/$/, ""));
    } finally {
      await dev.close();
    }
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    if (root) rmSync(root, { recursive: true, force: true });
    await removePacked();
  });

  it.each(["esbuild", "vite", "webpack"])("%s: the page's LSTM output equals Node's within 1e-6, on the same build", (name) => {
    const app = opened.get(name)!;
    expect(app.failure, `${name}: init() or the LSTM failed in Chromium`).toBeUndefined();
    expect(app.result!.build).toBe(node.build);
    expect(app.result!.output).toHaveLength(20);
    expect(outputDiff(app.result!, node)).toBeLessThanOrEqual(1e-6);
  });

  it.each(["esbuild", "vite", "webpack"])("%s: the .wasm arrived as an emitted asset, and the output holds nothing else", (name) => {
    const app = opened.get(name)!;
    const wasm = app.files.filter((f) => f.endsWith(".wasm"));
    expect(wasm, "the three builds, emitted under hashed names").toHaveLength(3);
    const fetched = app.requests.filter((r) => r.endsWith(".wasm"));
    expect(fetched, "one .wasm fetched: the build init() chose").toHaveLength(1);
    expect(wasm.map((f) => `/${f.replaceAll("\\", "/")}`)).toContain(fetched[0]);
    expect(fetched[0]).toMatch(new RegExp(`rnn-${node.build}|^/[0-9a-f]{20}\\.wasm$`));
    expect(app.files.filter((f) => !/\.(wasm|js|html)$/.test(f) && !/^assets$/.test(f) && !f.endsWith(".LICENSE.txt"))).toEqual([]);
  });

  it("vite's dev server: the same output, the .wasm served from node_modules/rnn-wasm/build", () => {
    expect(viteDev.failure).toBeUndefined();
    expect(outputDiff(viteDev.result!, node)).toBeLessThanOrEqual(1e-6);
    expect(viteDev.requests).toContain(`/node_modules/rnn-wasm/build/rnn-${node.build}.wasm`);
  });

  it("esbuild without the recipe: no .wasm is emitted, and init() names the URL it fetched and the fix", () => {
    const app = opened.get("esbuild without the recipe")!;
    expect(app.files.filter((f) => f.endsWith(".wasm"))).toEqual([]);
    expect(app.result).toBeUndefined();
    expect(app.requests).toContain("/build/rnn-relaxed.wasm");
    expect(app.failure).toMatch(/^cannot fetch http:\/\/127\.0\.0\.1:\d+\/build\/rnn-relaxed\.wasm: HTTP 404 Not Found; /);
    expect(app.failure).toContain("import simd from 'rnn-wasm/wasm/rnn-simd.wasm' with --loader:.wasm=file");
    expect(app.failure).toContain("docs/bundlers.md");
  });

  it("esbuild without the recipe, on a host that answers its fallback page: init() names the URL and what came back", () => {
    expect(unkindFailures.get("fallback")).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+\/build\/rnn-relaxed\.wasm is not a wasm file \(the server answered text\/html, \d+ bytes\); the \.wasm files must be served/);
  });

  it("esbuild without the recipe, when the connection drops: init() names the URL (fetch's own error does not)", () => {
    expect(unkindFailures.get("reset")).toMatch(/^cannot fetch http:\/\/127\.0\.0\.1:\d+\/build\/rnn-relaxed\.wasm: Failed to fetch; the \.wasm files must be served/);
  });
});
