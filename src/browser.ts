// src/browser.ts: the package's entry for browsers and every other runtime (export conditions "browser" and
// "default"): the core API, with the package's own wasm fetched by URL, relative to this file. This file is
// published as dist/src/browser.js, so build/ is two levels up. The URLs are written out literally,
// `new URL("...", import.meta.url)`, the pattern Vite and webpack recognise to emit the .wasm files as assets and
// rewrite the URLs (esbuild leaves them as they are: docs/bundlers.md has its recipe).
import { RnnError } from "./errors.js";
import { SERVE_WASM_ADVICE, setPlatform, type Build } from "./wasm-source.js";

const urls: Record<Build, () => URL> = {
  relaxed: () => new URL("../../build/rnn-relaxed.wasm", import.meta.url),
  simd: () => new URL("../../build/rnn-simd.wasm", import.meta.url),
  scalar: () => new URL("../../build/rnn-scalar.wasm", import.meta.url),
};

/**
 * The bytes at `url`, or the 'init' error naming it: when the request fails (no server, a file: page, CORS), when
 * the server refuses it, and when it answers something that is not wasm (a server's fallback page for a path it
 * does not have, which is what a bundle without its .wasm files meets on many hosts).
 */
async function fetchWasm(url: URL): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new RnnError("init", `cannot fetch ${url.href}: ${(e as Error).message}; ${SERVE_WASM_ADVICE}`);
  }
  if (!res.ok) throw new RnnError("init", `cannot fetch ${url.href}: HTTP ${res.status} ${res.statusText}; ${SERVE_WASM_ADVICE}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new RnnError("init", `${url.href} is not a wasm file (the server answered ${res.headers.get("content-type") ?? "no content-type"}, ` +
      `${bytes.length} bytes); ${SERVE_WASM_ADVICE}`);
  }
  return bytes;
}

// Cloudflare Workers refuse to compile wasm from bytes: there this entry is a bundle that missed the "workerd" export.
const WORKERS_ADVICE = "this is rnn-wasm's browser entry running in Cloudflare Workers, which cannot compile wasm it " +
  "fetched: bundle the Worker with wrangler, which picks the package's \"workerd\" export (it imports the .wasm files as " +
  "modules), or pass a module you imported: import simd from 'rnn-wasm/wasm/rnn-simd.wasm'; await init(simd)";

setPlatform({
  name: "browser",
  packagedWasm: async (build) => {
    const inWorkers = (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent === "Cloudflare-Workers";
    if (inWorkers) throw new RnnError("init", WORKERS_ADVICE);
    return fetchWasm(urls[build]());
  },
});

export * from "./index.js";
