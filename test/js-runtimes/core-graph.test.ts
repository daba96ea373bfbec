// test/js-runtimes/core-graph.test.ts: the core (src/index.ts and everything it imports) runs on any JavaScript
// runtime: esbuild bundles it for a neutral platform with no `node:` module and no top-level await (it refuses
// top-level await when told the target lacks it), and each entry adds only what its runtime has.
import { join } from "node:path";
import { build, type Metafile } from "esbuild";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers.js";

async function graph(entry: string): Promise<{ nodeImports: string[]; errors: string[] }> {
  const nodeImports: string[] = [];
  try {
    const r = await build({
      entryPoints: [join(ROOT, entry)], bundle: true, write: false, format: "esm", platform: "neutral",
      metafile: true, logLevel: "silent", external: ["node:*"], supported: { "top-level-await": false },
    });
    for (const input of Object.values((r.metafile as Metafile).inputs)) {
      for (const imp of input.imports) if (imp.path.startsWith("node:") || imp.external) nodeImports.push(imp.path);
    }
    return { nodeImports, errors: [] };
  } catch (e) {
    return { nodeImports, errors: ((e as { errors?: { text: string }[] }).errors ?? []).map((x) => x.text) };
  }
}

describe("the core's import graph", () => {
  it("src/index.ts and src/browser.ts import no Node built-in and use no top-level await", async () => {
    for (const entry of ["src/index.ts", "src/browser.ts"]) {
      expect(await graph(entry), entry).toEqual({ nodeImports: [], errors: [] });
    }
  });

  it("src/node.ts adds node:fs and node:url, and nothing else does", async () => {
    const { nodeImports, errors } = await graph("src/node.ts");
    expect(errors).toEqual([]);
    expect([...new Set(nodeImports)].sort()).toEqual(["node:fs/promises", "node:url"]);
  });
});
