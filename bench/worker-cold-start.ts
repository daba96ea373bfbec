// bench/worker-cold-start.ts: the Cloudflare Worker example's cold start (issue 14): a new workerd process to the first
// answer of POST /predict (one timestep), for the example as bundled by `wrangler deploy --dry-run` with its float32
// model (wrangler.toml) and with its int8 model (wrangler.int8.toml, when the example has it), and for an empty Worker
// that answers a constant: the difference is the example's own cold start (its modules, the wasm compiled when the
// Worker loads, init(), the model file's parse and build, the first step, the JSON).
//   npx tsx bench/worker-cold-start.ts [--runs 9] [--config wrangler.x.toml,...] [--miniflare]
// (--config adds Workers bundled from other configs of the example's folder: probes that stop at a stage.)
// By default Cloudflare's workerd binary is started directly (bench/workerd-direct.ts says how, and why not through
// Miniflare); --miniflare starts it through Miniflare instead, as `wrangler dev` does, for comparison.
// Runs go round-robin over the Workers after one warm-up round (file cache, workerd's binary), and the table reports
// medians (the machine is shared: single runs move by tens of ms). Prints a table; writes nothing.
// bench/budgets.ts measures the float32 figure the same way for docs/runtimes.md (its `coldStart`, 7 runs).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { Miniflare } from "miniflare";
import { COMPATIBILITY_DATE, describeProc, EXAMPLE, MODULE_RULES, ROOT, run } from "../test/js-runtimes/helpers.js";
import { firstAnswer, predictOneStep } from "./workerd-direct.js";

const MINIFLARE = process.argv.includes("--miniflare");
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

/** ms from spawning workerd (bench/workerd-direct.ts) to the first answer; throws on an answer other than 200. */
async function coldStartDirect(scriptPath: string): Promise<number> {
  const r = await firstAnswer(scriptPath, predictOneStep);
  if (r.status !== 200) throw new Error(`${scriptPath}: ${r.status} ${r.body.slice(0, 300)}`);
  return r.ms;
}

/** ms from `new Miniflare()` to the answer of the first request; throws on an answer other than 200. */
async function coldStartMiniflare(scriptPath: string): Promise<number> {
  const t0 = performance.now();
  const mf = new Miniflare({ modules: true, scriptPath, modulesRoot: dirname(scriptPath), modulesRules: MODULE_RULES, compatibilityDate: COMPATIBILITY_DATE });
  try {
    const url = await mf.ready;
    const req = predictOneStep();
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
