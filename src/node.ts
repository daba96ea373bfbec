// src/node.ts: the package's entry on Node (export condition "node"): the core API, with the package's own wasm
// read from build/ by node:fs. Node 20 cannot `import` a .wasm file, so reading it is the way here.
import { readFile } from "node:fs/promises";
import * as url from "node:url";
import { readFirstFile, readSourceFile, setPlatform, wasmFileName } from "./wasm-source.js";

// This module's URL, in a variable: `new URL(`...${name}`, import.meta.url)` written out makes webpack look for the
// folders at build time (see HERE in wasm-source.ts). In a CommonJS bundle of a program (esbuild --format=cjs)
// import.meta is empty and __filename is the bundle.
const HERE = import.meta.url ?? url.pathToFileURL(__filename).href;

setPlatform({
  name: "node",
  // build/ is one level up from dist/rnn-wasm.node.js (this entry bundled into one file, what package.json's "node"
  // export loads: one file imports in about 7 ms, the module graph in about 45) and from src/node.ts (run from
  // source), two levels up from dist/src/node.js. One level up is tried before two: from an installed package's
  // dist/, two levels up is node_modules/ itself, where a stray build/ folder of old wasm files once answered first
  // (a clone inside a folder that held one failed every quantized test). When a program bundles the package (esbuild
  // --platform=node), this URL is the program's bundle: a build/ folder beside it comes first, the recipe in
  // docs/bundlers.md.
  packagedWasm: (build) => readFirstFile({ readFile }, url, [
    new URL(`./build/${wasmFileName(build)}`, HERE),
    new URL(`../build/${wasmFileName(build)}`, HERE),
    new URL(`../../build/${wasmFileName(build)}`, HERE),
  ], wasmFileName(build)),
  readFile: (pathOrUrl) => readSourceFile({ readFile }, url, pathOrUrl),
});

export * from "./index.js";
