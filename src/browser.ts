// src/browser.ts: the package's entry for browsers and every other runtime (export conditions "browser" and
// "default"): the core API, with the package's own wasm fetched by URL, relative to this file. This file is
// published as dist/src/browser.js, so build/ is two levels up. The URLs are written out literally,
// `new URL("...", import.meta.url)`, the pattern bundlers (Vite, webpack, esbuild with a plugin) recognise to copy
// the .wasm files next to the bundle.
import { setPlatform, type Build } from "./platform.js";

const urls: Record<Build, () => URL> = {
  relaxed: () => new URL("../../build/rnn-relaxed.wasm", import.meta.url),
  simd: () => new URL("../../build/rnn-simd.wasm", import.meta.url),
  scalar: () => new URL("../../build/rnn-scalar.wasm", import.meta.url),
};

setPlatform({
  name: "browser",
  packagedWasm: (build) => fetch(urls[build]()),
});

export * from "./index.js";
