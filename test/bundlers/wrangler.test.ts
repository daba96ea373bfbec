// test/bundlers/wrangler.test.ts: a tiny Worker that imports the packed package (fixtures/worker), bundled by
// `wrangler deploy --dry-run --outdir` as docs/bundlers.md shows (the package's "workerd" export imports its .wasm
// files, which wrangler ships as compiled modules), then run in workerd through Miniflare: its LSTM output must
// equal Node's (the same computation, relaxed SIMD enabled as workerd has it) within 1e-6. The same Worker bundled
// without the workerd condition (esbuild --platform=browser) gets the browser entry, whose init() must say to
// bundle with wrangler.
import { cpSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMPATIBILITY_DATE, MODULE_RULES } from "../js-runtimes/helpers.js";
import {
  type AppResult, describeProc, FIXTURES, inNode, outputDiff, packed, removePacked, region, run, sh, tempDir, unpackInto,
} from "./helpers.js";

describe("a Worker bundled by wrangler, in workerd", () => {
  let root: string;
  let outdir: string;
  let mf: Miniflare | undefined;
  let node: AppResult;
  let answer: AppResult;
  let misbundled: { name: string; code: string; error: string };

  beforeAll(async () => {
    const { tgz } = await packed();
    root = tempDir("wrangler");
    unpackInto(tgz, root);
    cpSync(join(FIXTURES, "worker"), root, { recursive: true });
    for (const f of ["main.js", "in-node.mjs"]) cpSync(join(FIXTURES, "browser", f), join(root, f));
    outdir = join(root, "dist");
    const [bundle, esbuild, reference] = await Promise.all([
      sh(region("test/bundlers/fixtures/commands.sh", "wrangler"), root, { WRANGLER_SEND_METRICS: "false", CI: "1" }),
      run("esbuild", ["src/misbundled.js", "--bundle", "--format=esm", "--platform=browser", "--outfile=misbundled/index.js", "--log-level=warning"], root),
      inNode(root),
    ]);
    expect(bundle.code, describeProc(bundle)).toBe(0);
    expect(esbuild.code, describeProc(esbuild)).toBe(0);
    node = reference;
    mf = new Miniflare({
      workers: [
        { name: "app", modules: true, scriptPath: join(outdir, "index.js"), modulesRoot: outdir, modulesRules: MODULE_RULES, compatibilityDate: COMPATIBILITY_DATE },
        { name: "misbundled", modules: true, scriptPath: join(root, "misbundled/index.js"), modulesRoot: join(root, "misbundled"), compatibilityDate: COMPATIBILITY_DATE },
      ],
    });
    const base = await mf.ready;
    const res = await fetch(base);
    expect(res.status, await res.clone().text()).toBe(200);
    answer = await res.json();
    const other = (await mf.getWorker("misbundled")) as unknown as { fetch(url: string): Promise<Response> };
    misbundled = await (await other.fetch("http://x/")).json();
  }, 120_000);

  afterAll(async () => {
    await mf?.dispose();
    if (root) rmSync(root, { recursive: true, force: true });
    await removePacked();
  });

  it("the bundle holds the Worker and the three .wasm builds as separate modules", () => {
    const files = readdirSync(outdir);
    expect(files).toContain("index.js");
    for (const build of ["relaxed", "simd", "scalar"]) expect(files.filter((f) => f.endsWith(`rnn-${build}.wasm`))).toHaveLength(1);
  });

  it("runs in workerd: init() picks relaxed SIMD, and the LSTM's output equals Node's within 1e-6", () => {
    expect(answer.build).toBe("relaxed");
    expect(node.build).toBe("relaxed");
    expect(answer.output).toHaveLength(20);
    expect(outputDiff(answer, node)).toBeLessThanOrEqual(1e-6);
  });

  it("bundled without the workerd condition, init() says to bundle with wrangler or pass an imported module", () => {
    expect(misbundled).toMatchObject({ name: "RnnError", code: "init" });
    expect(misbundled.error).toContain("browser entry running in Cloudflare Workers");
    expect(misbundled.error).toContain("bundle the Worker with wrangler");
    expect(misbundled.error).toContain("import simd from 'rnn-wasm/wasm/rnn-simd.wasm'; await init(simd)");
  });
});
