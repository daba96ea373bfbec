// test/serving/runtime-neutral.test.ts: `rnn-wasm/serving` is for every runtime (its browser and workerd export is
// dist/src/serving/index.js, unbundled): nothing it imports, transitively, may be a node: module or a package, nor use
// Node's globals (Buffer, process, __dirname). `rnn-wasm/worker-pool` is the Node-only one.
import { readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const SRC = fileURLToPath(new URL("../../src/", import.meta.url));
// (checked failing: `import "node:os";` or a `Buffer.from` added to src/serving/batch.ts is named)

/** Every module reachable from `entry` by relative imports (type-only imports too: they must resolve as well). */
function moduleGraph(entry: string): Map<string, string> {
  const seen = new Map<string, string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    const text = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, ""); // code, not comments
    seen.set(file, text);
    for (const m of text.matchAll(/^\s*(?:(?:import|export)\b[^;]*?\bfrom|import)\s*["']([^"']+)["']/gm)) {
      if (m[1].startsWith(".")) visit(join(dirname(file), m[1].replace(/\.js$/, ".ts")));
      else seen.set(`${file} imports ${m[1]}`, "");
    }
  };
  visit(entry);
  return seen;
}

it("rnn-wasm/serving imports no node: module and no package, transitively, and its own files use no Node global", () => {
  const graph = moduleGraph(join(SRC, "serving/index.ts"));
  expect(graph.size).toBeGreaterThan(10);
  const outside = [...graph.keys()].filter((k) => k.includes(" imports ")).map((k) => relative(SRC, k));
  expect(outside).toEqual([]);
  // the core modules are run in every runtime by their own tests (and guard what they use, e.g. blocks.ts's `process`)
  const globals = [...graph].filter(([file, text]) => file.includes("/serving/") && /\b(Buffer|process|__dirname|__filename|require)\s*[.(]/.test(text))
    .map(([file]) => relative(SRC, file));
  expect(globals).toEqual([]);
  expect([...graph.keys()].some((f) => f.includes("worker-pool"))).toBe(false);
});
