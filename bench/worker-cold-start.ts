// bench/worker-cold-start.ts: the Cloudflare Worker example's cold start (issue 14): a new workerd process to the first
// answer of POST /predict (one timestep), for the example as bundled by `wrangler deploy --dry-run` with its float32
// model (wrangler.toml) and with its int8 model (wrangler.int8.toml, when the example has it), and for an empty Worker
// that answers a constant: the difference is the example's own cold start (its modules, the wasm compiled when the
// Worker loads, init(), the model file's parse and build, the first step, the JSON).
//   npx tsx bench/worker-cold-start.ts [--runs 9] [--config wrangler.x.toml,...] [--miniflare]
// (--config adds Workers bundled from other configs of the example's folder: probes that stop at a stage.)
// By default workerd runs as Cloudflare's own binary is run by hand: `workerd serve config.capnp`, the config written
// here beside the bundle, naming each of its files as a module (`embed`: workerd reads them itself). --miniflare
// starts it through Miniflare instead, as `wrangler dev` does: Miniflare serializes the config, modules included, in
// the parent process, growing its Cap'n Proto arena by a copy of the whole arena at each allocation, so a Worker's
// start there costs more the larger its modules are (measured: +62 ms for a 345 KB data module, +117 ms for 1.3 MB,
// all of it in Miniflare's `allocate` in the parent), which is not the Worker's cold start.
// Runs go round-robin over the Workers after one warm-up round (file cache, workerd's binary), and the table reports
// medians (the machine is shared: single runs move by tens of ms). Prints a table; writes nothing.
// bench/budgets.ts measures the float32 figure through Miniflare for docs/runtimes.md (its `coldStart`, 7 runs).
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { Miniflare } from "miniflare";
import { COMPATIBILITY_DATE, describeProc, EXAMPLE, MODULE_RULES, ROOT, run } from "../test/js-runtimes/helpers.js";

const MINIFLARE = process.argv.includes("--miniflare");
const WORKERD = join(ROOT, "node_modules/workerd/bin/workerd");
const runsArg = process.argv.indexOf("--runs");
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 9;
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error("--runs takes a positive integer");

const configArg = process.argv.indexOf("--config");
const EXTRA = configArg > 0 ? process.argv[configArg + 1].split(",") : [];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** `wrangler deploy --dry-run` of the example with `config`; the bundle's main module. */
function bundle(config: string, dir: string): string {
  const outdir = join(dir, config.replace(/\W/g, "-"));
  const log = run(join(ROOT, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", outdir, "-c", config], {
    cwd: EXAMPLE,
    env: { WRANGLER_SEND_METRICS: "false", CI: "1" },
  });
  if (log.code !== 0) throw new Error(describeProc(log));
  const main = /^main\s*=\s*"([^"]+)"/m.exec(readFileSync(join(EXAMPLE, config), "utf8"))?.[1] ?? "src/index.js";
  return join(outdir, basename(main));
}

/** One step of the W-seq model's 64 inputs: what the first request asks. */
const firstRequest = () => new Request("http://worker/predict", {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ input: [Array.from({ length: 64 }, (_, i) => Math.sin(i))] }),
});

/** The module type workerd's config gives a bundle's file, by its name; null for a file that is not a module. */
function moduleType(file: string): "esModule" | "wasm" | "data" | null {
  if (file.endsWith(".js") || file.endsWith(".mjs")) return "esModule";
  if (file.endsWith(".wasm")) return "wasm";
  if (file.endsWith(".safetensors") || file.endsWith(".bin")) return "data";
  return null; // source maps, the README wrangler writes
}

/** A workerd config (Cap'n Proto text) serving the bundle in scriptPath's folder, main module first, on `port`. */
function workerdConfig(scriptPath: string, port: number): string {
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
 * ms from spawning `workerd serve` to the answer of the first request, sent as soon as workerd accepts connections
 * (refused connections are retried at once: each costs well under a millisecond); throws on an answer other than 200.
 */
async function coldStartDirect(scriptPath: string): Promise<number> {
  const port = await freePort();
  const config = join(dirname(scriptPath), `config-${port}.capnp`);
  writeFileSync(config, workerdConfig(scriptPath, port));
  const t0 = performance.now();
  const child = spawn(WORKERD, ["serve", config], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise<never>((_, reject) => child.once("exit", (code) => reject(new Error(`workerd exited (${code}): ${stderr}`))));
  try {
    for (;;) {
      const req = firstRequest();
      const answer = fetch(`http://127.0.0.1:${port}/predict`, req).then(async (res) => ({ status: res.status, body: await res.text() }), () => null);
      const r = await Promise.race([answer, exited]);
      if (r === null) continue; // not listening yet
      if (r.status !== 200) throw new Error(`${scriptPath}: ${r.status} ${r.body.slice(0, 300)}`);
      return performance.now() - t0;
    }
  } finally {
    child.kill("SIGKILL");
    await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once("exit", resolve)));
    exited.catch(() => undefined);
    rmSync(config, { force: true });
  }
}

/** ms from `new Miniflare()` to the answer of the first request; throws on an answer other than 200. */
async function coldStartMiniflare(scriptPath: string): Promise<number> {
  const t0 = performance.now();
  const mf = new Miniflare({ modules: true, scriptPath, modulesRoot: dirname(scriptPath), modulesRules: MODULE_RULES, compatibilityDate: COMPATIBILITY_DATE });
  try {
    const url = await mf.ready;
    const req = firstRequest();
    const res = await fetch(new URL(new URL(req.url).pathname, url), req);
    const body = await res.text();
    if (res.status !== 200) throw new Error(`${scriptPath}: ${res.status} ${body.slice(0, 300)}`);
    return performance.now() - t0;
  } finally {
    await mf.dispose().catch(() => undefined);
  }
}

const dir = mkdtempSync(join(tmpdir(), "rnn-wasm-worker-cold-"));
try {
  mkdirSync(join(dir, "empty"));
  const empty = join(dir, "empty", "empty.js");
  writeFileSync(empty, `export default { fetch: () => Response.json({ output: [[0]] }) };\n`);
  const coldStart = MINIFLARE ? coldStartMiniflare : coldStartDirect;
  const workers: Array<{ name: string; script: string }> = [{ name: "empty Worker (answers a constant)", script: empty }];
  workers.push({ name: "the example, float32 model (wrangler.toml)", script: bundle("wrangler.toml", dir) });
  if (existsSync(join(EXAMPLE, "wrangler.int8.toml"))) {
    workers.push({ name: "the example, int8 model (wrangler.int8.toml)", script: bundle("wrangler.int8.toml", dir) });
  }
  for (const config of EXTRA) workers.push({ name: config, script: bundle(config, dir) });
  const load = loadavg()[0];
  const times = workers.map(() => [] as number[]);
  for (let round = 0; round <= RUNS; round++) { // round 0 warms the file cache and is not kept
    for (let w = 0; w < workers.length; w++) {
      const ms = await coldStart(workers[w].script);
      if (round > 0) times[w].push(ms);
    }
  }
  const base = median(times[0]);
  console.log(`Node ${process.version}, ${MINIFLARE ? "workerd through Miniflare" : "workerd serve (Cloudflare's binary, a config file)"}; medians of ${RUNS} runs, round-robin; 1-min load average ${load.toFixed(2)} before, ${loadavg()[0].toFixed(2)} after`);
  console.log("| Worker | new workerd to first answer, ms | above the empty Worker, ms | runs |");
  console.log("|---|---:|---:|---|");
  workers.forEach((w, k) => {
    const m = median(times[k]);
    console.log(`| ${w.name} | ${m.toFixed(0)} | ${k === 0 ? "" : (m - base).toFixed(0)} | ${times[k].map((t) => t.toFixed(0)).join(", ")} |`);
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
