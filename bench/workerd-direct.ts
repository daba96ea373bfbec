// bench/workerd-direct.ts: a Worker bundle's cold start in Cloudflare's own workerd binary, started directly:
// `workerd serve` with a config written beside the bundle (each of its files an embedded module, as a deployment of
// the bundle holds them), timed from spawning it to the answer of a first request. Not through Miniflare (as
// `wrangler dev` runs workerd): Miniflare serializes the config, every module included, in the parent process, growing
// its Cap'n Proto arena by a copy of the whole arena at each allocation, so a Worker's start there costs more the
// larger its modules are (+62 ms for a 345 KB data module, +117 ms for 1.3 MB, measured), which is not the Worker's.
// Used by bench/worker-cold-start.ts and bench/budgets.ts.
import { spawn } from "node:child_process";
import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { basename, dirname, join } from "node:path";
import { COMPATIBILITY_DATE } from "../test/js-runtimes/helpers.js";

/** The workerd binary for this platform: the `workerd` package (Miniflare's and wrangler's) exports its path. */
const WORKERD = (createRequire(import.meta.url)("workerd") as { default: string }).default;

/** The module type workerd's config gives a bundle's file, by its name; null for a file that is not a module. */
function moduleType(file: string): "esModule" | "wasm" | "data" | null {
  if (file.endsWith(".js") || file.endsWith(".mjs")) return "esModule";
  if (file.endsWith(".wasm")) return "wasm";
  if (file.endsWith(".safetensors") || file.endsWith(".bin")) return "data";
  return null; // source maps, the README wrangler writes, our config files
}

/** A workerd config (Cap'n Proto text) serving the bundle in scriptPath's folder, main module first, on `port`. */
export function workerdConfig(scriptPath: string, port: number): string {
  const main = basename(scriptPath);
  const others = readdirSync(dirname(scriptPath)).filter((f) => f !== main && moduleType(f) !== null).sort();
  const modules = [main, ...others].map((f) => `    (name = ${JSON.stringify(f)}, ${moduleType(f)} = embed ${JSON.stringify(f)}),`);
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [
${modules.join("\n")}
  ],
  compatibilityDate = "${COMPATIBILITY_DATE}",
);
`;
}

/** The benches' first request: one step of the W-seq model's 64 inputs to the Worker example's POST /predict. */
export const predictOneStep = () => new Request("http://worker/predict", {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ input: [Array.from({ length: 64 }, (_, i) => Math.sin(i))] }),
});

/** How long workerd may take to answer at all before firstAnswer gives up (a cold start takes well under a second). */
const ANSWER_TIMEOUT_MS = 30_000;

/** A TCP port nothing listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * ms from spawning `workerd serve` for the bundle whose main module is `scriptPath` to the answer of `first()` (its
 * path is sent to the Worker), with the answer's status and body. The request goes out at once and again each time
 * the connection is refused (each refusal costs well under a millisecond), so the time ends at the first answer
 * workerd can give. Throws, with workerd's stderr, when workerd exits before answering (a bundle it cannot load) or
 * has not answered within ANSWER_TIMEOUT_MS.
 */
export async function firstAnswer(scriptPath: string, first: () => Request): Promise<{ ms: number; status: number; body: string }> {
  const port = await freePort();
  const config = join(dirname(scriptPath), `config-${port}.capnp`);
  writeFileSync(config, workerdConfig(scriptPath, port));
  const t0 = performance.now();
  const child = spawn(WORKERD, ["serve", config], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise<never>((_, reject) => child.once("exit", (code) => reject(new Error(`workerd exited (${code}) before answering: ${stderr}`))));
  exited.catch(() => undefined);
  try {
    for (;;) {
      if (performance.now() - t0 > ANSWER_TIMEOUT_MS) throw new Error(`workerd has not answered within ${ANSWER_TIMEOUT_MS} ms: ${stderr}`);
      const req = first();
      const answer = fetch(`http://127.0.0.1:${port}${new URL(req.url).pathname}`, req)
        .then(async (res) => ({ status: res.status, body: await res.text() }), () => null);
      const r = await Promise.race([answer, exited]);
      if (r !== null) return { ms: performance.now() - t0, ...r };
    }
  } finally {
    child.kill("SIGKILL");
    if (child.exitCode === null && child.signalCode === null) await new Promise((resolve) => child.once("exit", resolve));
    rmSync(config, { force: true });
  }
}
