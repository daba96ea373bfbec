// src/wasm-source.ts: where the package's own wasm comes from on each JavaScript runtime, and which builds the engine
// can run. The core (src/index.ts and everything it imports) has no `node:` import and no top-level await, so one
// package serves every runtime; each entry point (package.json `exports`) registers how its runtime gets the wasm:
//   node     src/node.ts        reads build/rnn-<build>.wasm with node:fs
//   workerd  workerd/index.js   imports the three .wasm files as modules (Workers refuse to compile from bytes)
//   browser  src/browser.ts     fetches new URL('../../build/rnn-<build>.wasm', import.meta.url)
// Importing src/index.ts directly (the tests, the benches, the CLI) registers nothing: the fallback below then reads
// the files through `process.getBuiltinModule` where the runtime has it (Node >= 20.16, Deno, Bun), else fetches
// them by URL. Feature detection validates two tiny probe modules, which never compiles anything.
import { RnnError } from "./errors.js";
import type { FetchResponse, WasmModule } from "./host-types.js";

/** Which compiled kernels to use: relaxed SIMD (fused multiply-add), plain 128-bit SIMD, or scalar. */
export type Build = "relaxed" | "simd" | "scalar";

/** Fastest first: the order in which `init()` tries the builds. */
export const BUILDS: readonly Build[] = ["relaxed", "simd", "scalar"];

/** What a runtime's entry point tells the core. */
export interface Platform {
  /** 'node', 'workerd', 'browser', or 'default' for the fallback. */
  readonly name: string;
  /** The package's own wasm for `build`: a compiled module (workerd), the bytes (Node), or a fetch Response. */
  packagedWasm(build: Build): Promise<WasmModule | Uint8Array | FetchResponse>;
  /** Reads a path or file: URL given as a source; absent where there is no file system (such sources are fetched). */
  readFile?(pathOrUrl: string): Promise<Uint8Array>;
  /** Whether the engine runs `build`; absent: `WebAssembly.validate` on a probe module using the build's instructions. */
  supportsBuild?(build: Build): boolean | Promise<boolean>;
}

// Probe modules: one function returning v128.const 0 (SIMD), and one computing f32x4.relaxed_madd of three of them
// (relaxed SIMD, the instruction the relaxed build adds). Validating bytes needs no code generation, so this also
// works where compiling from bytes is forbidden.
const HEAD = [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7b, 3, 2, 1, 0];
const V128_ZERO = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
function probe(body: number[]): Uint8Array<ArrayBuffer> {
  const code = [0, ...body, 0x0b]; // no locals, body, end
  return new Uint8Array([...HEAD, 10, code.length + 2, 1, code.length, ...code]);
}
const SIMD_PROBE = probe(V128_ZERO);
const RELAXED_PROBE = probe([...V128_ZERO, ...V128_ZERO, ...V128_ZERO, 0xfd, 0x85, 0x02]);

/** `WebAssembly.validate` on the probe for `build` (scalar needs only WebAssembly). */
export function probeBuild(build: Build): boolean {
  if (typeof WebAssembly !== "object") return false;
  if (build === "scalar") return true;
  return WebAssembly.validate(build === "relaxed" ? RELAXED_PROBE : SIMD_PROBE);
}

export function wasmFileName(build: Build): string {
  return `rnn-${build}.wasm`;
}

// This module's URL, held in a variable so that no bundler reads the fallback's URLs below as assets: written
// `new URL(`../build/${name}`, import.meta.url)`, Vite globs the whole build/ folder into a browser bundle (the .d.ts
// and .js bindings too) and webpack 5 stops with "Can't resolve '../build'" (dist/build does not exist), although
// the browser entry never uses this fallback. The entries' own URLs (src/browser.ts) are the literal pattern.
const HERE = import.meta.url;

// The package's files seen from this module: build/ is one level up from src/ (run from source) and two levels up
// from dist/src/ (the published package).
function packagedUrls(build: Build): URL[] {
  const name = wasmFileName(build);
  return [new URL(`../build/${name}`, HERE), new URL(`../../build/${name}`, HERE)];
}

interface FsPromises {
  readFile(path: string | URL): Promise<Uint8Array>;
}
interface NodeUrl {
  fileURLToPath(url: string | URL): string;
}
type GetBuiltin = (id: string) => unknown;

/** node:fs/promises and node:url through `process.getBuiltinModule`, without importing them; null elsewhere. */
function builtinFs(): { fs: FsPromises; url: NodeUrl } | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: GetBuiltin } }).process;
  const get = proc?.getBuiltinModule;
  if (typeof get !== "function") return null;
  const fs = get.call(proc, "node:fs/promises") as FsPromises | undefined;
  const url = get.call(proc, "node:url") as NodeUrl | undefined;
  return fs && url ? { fs, url } : null;
}

/** Reads the first of `urls` that exists (file: URLs), or throws the 'init' error naming all of them. */
export async function readFirstFile(fs: FsPromises, url: NodeUrl, urls: URL[], name: string): Promise<Uint8Array> {
  for (const u of urls) {
    try {
      return await fs.readFile(u);
    } catch {
      // try the next place
    }
  }
  throw new RnnError("init", `cannot find ${name} (looked in ${urls.map((u) => url.fileURLToPath(u)).join(", ")}). ` +
    `If rnn-wasm is bundled into your program, copy node_modules/rnn-wasm/build/*.wasm into a build/ folder beside ` +
    `the bundle, or read the file yourself and pass its bytes: init(readFileSync(".../rnn-simd.wasm")). ` +
    `In a clone of the repository, 'npm run build:wasm' makes the files.`);
}

/** Reads a path or file: URL with a node:fs-like module, naming the file when it cannot. */
export async function readSourceFile(fs: FsPromises, url: NodeUrl, pathOrUrl: string): Promise<Uint8Array> {
  const path = pathOrUrl.startsWith("file:") ? url.fileURLToPath(pathOrUrl) : pathOrUrl;
  try {
    return await fs.readFile(path);
  } catch (e) {
    throw new RnnError("init", `cannot read the wasm file ${path}: ${(e as Error).message}`);
  }
}

async function fetchFirst(urls: URL[], name: string): Promise<Response> {
  let last = "";
  for (const u of urls) {
    try {
      const res = await fetch(u);
      if (res.ok) return res;
      last = `HTTP ${res.status} ${res.statusText}`;
    } catch (e) {
      last = (e as Error).message;
    }
  }
  throw new RnnError("init", `cannot fetch ${name} (tried ${urls.map((u) => u.href).join(", ")}: ${last}); ${SERVE_WASM_ADVICE}`);
}

/** What to do when the browser cannot fetch the package's wasm: it did not reach the server. */
export const SERVE_WASM_ADVICE = "the .wasm files must be served with your bundle: Vite and webpack emit them as assets " +
  "by themselves; esbuild does not, so import their URLs (import simd from 'rnn-wasm/wasm/rnn-simd.wasm' with " +
  "--loader:.wasm=file) and pass one: init(new URL(simd, import.meta.url)); see docs/bundlers.md";

/** Used when no entry point registered a platform (src/index.ts imported directly). */
const fallback: Platform = {
  name: "default",
  packagedWasm(build) {
    const node = builtinFs();
    const urls = packagedUrls(build);
    if (node && urls[0].protocol === "file:") return readFirstFile(node.fs, node.url, urls, wasmFileName(build));
    return fetchFirst(urls, wasmFileName(build));
  },
  readFile(pathOrUrl) {
    const node = builtinFs();
    if (!node) throw new RnnError("init", `cannot read ${pathOrUrl}: this runtime has no file system; pass the bytes or a Response`);
    return readSourceFile(node.fs, node.url, pathOrUrl);
  },
};

let current: Platform | null = null;

/** Called once by each entry point (src/node.ts, src/browser.ts, workerd/index.js) when it is imported. */
export function setPlatform(platform: Platform): void {
  current = platform;
}

/** The registered platform, or the fallback. */
export function getPlatform(): Platform {
  return current ?? fallback;
}

/** Whether a path or URL string names a local file (a bare path or file:), as opposed to something to fetch. */
export function isFileLike(text: string): boolean {
  return text.startsWith("file:") || !/^[a-z][a-z0-9+.-]*:/i.test(text);
}

/** Whether a file system can serve `isFileLike` sources here. */
export function canReadFiles(): boolean {
  const p = getPlatform();
  return p.readFile !== undefined && (p !== fallback || builtinFs() !== null);
}
