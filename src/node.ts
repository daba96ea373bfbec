// src/node.ts: the package's entry on Node (export condition "node"): the core API, with the package's own wasm
// read from build/ by node:fs. Node 20 cannot `import` a .wasm file, so reading it is the way here.
import { readFile } from "node:fs/promises";
import * as url from "node:url";
import { readFirstFile, readSourceFile, setPlatform, wasmFileName } from "./platform.js";

setPlatform({
  name: "node",
  // build/ is two levels up from dist/src/node.js and one level up from src/node.ts (run from source) and from
  // dist/rnn-wasm.node.js (this entry bundled into one file, what package.json's "node" export loads: one file
  // imports in ~7 ms where the module graph took ~45)
  packagedWasm: (build) => readFirstFile({ readFile }, url, [
    new URL(`../../build/${wasmFileName(build)}`, import.meta.url),
    new URL(`../build/${wasmFileName(build)}`, import.meta.url),
  ], wasmFileName(build)),
  readFile: (pathOrUrl) => readSourceFile({ readFile }, url, pathOrUrl),
});

export * from "./index.js";
