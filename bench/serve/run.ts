// bench/serve/run.ts: the serving load benchmark of issue 13. In one run on this machine it compares
// `rnn-wasm serve` (the CLI package's build) with the naive node:http server a user writes today
// (bench/serve/naive-server.ts), both loading the same W-seq model (LSTM 64 -> 256) from a temp dir:
//   1. each server's answers checked against the library run in this process (check.ts)
//   2. the load table (load.ts): autocannon at 1, 16 and 64 connections for whole sequences (JSON and raw float32
//      bodies) and for streams stepping one timestep per request, the two servers alternating cell by cell, with
//      GET /healthz probed from another process throughout, together with a do-nothing node:http server
//      (floor-server.ts, one per run) whose p99 is the machine's share of any /healthz p99 in that cell; the 16-client raw float32 cell also with the lean
//      node:http client (--lean) and with wrk (--wrk, when installed: apt-get install wrk), cheaper load generators
//   3. a soak at saturation against `rnn-wasm serve` (soak.ts): memory at start and end
//   4. malformed requests mixed into valid load against `rnn-wasm serve` (malformed.ts)
// and writes bench/results/serve.json, then the Serving table of docs/benchmarks.md (render.ts).
//
//   npx tsx bench/serve/run.ts                 (the full run: 10 s per cell, 60 s soak, 10,000 malformed; ~8 min)
//   npx tsx bench/serve/run.ts --quick         (a smoke test: 1 s per cell, 5 s soak, 500 malformed; not saved
//                                               over the full results and not rendered)
// Needs `npm run build` (cli/dist and dist) and `npm run bench:install` (autocannon) first.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { machineInfo, type MachineInfo } from "../machine.js";
import { checkServer, expectedOutput, type CheckResult } from "./check.js";
import { runCell, SCENARIOS, supports, type CellResult, type LoadClient, type Scenario } from "./load.js";
import { runMalformed, type MalformedResult } from "./malformed.js";
import { WORKLOAD, writeModel } from "./model.js";
import { renderServeSection, updateServeSection } from "./render.js";
import { FLOOR, NAIVE, ROOT, serveSpec, startServer, type RunningServer, type ServerSpec } from "./servers.js";
import { runSoak, type SoakResult } from "./soak.js";
import { computeTargets, type Target } from "./targets.js";
import { wrkVersion } from "./wrk-client.js";

export interface ServeResults {
  suite: "serve";
  date: string;
  command: string;
  /** The repository's commit, with "+changes" when cli/, src/ or bench/serve/ differ from it. */
  commit: string;
  autocannon: string;
  /** wrk's version line when wrk measured cells; absent otherwise. */
  wrk?: string;
  machine: MachineInfo;
  /** os.loadavg() (1, 5 and 15 minutes) before the first cell and after the last phase. */
  loadAverage: { before: number[]; after: number[] };
  model: { workload: string; description: string; I: number; H: number; T: number; head: number };
  settings: {
    quick: boolean;
    cellSeconds: number;
    warmupSeconds: number;
    repeat: number;
    connections: number[];
    scenarios: Scenario[];
    /** Cells (scenario:connections) also measured with the node:http client; absent in older results. */
    lean?: string[];
    /** Cells also measured with wrk; absent in older results, and when wrk was not installed. */
    wrk?: string[];
    probeIntervalMs: number;
    maxBody: number;
    maxSteps: number;
  };
  servers: Record<string, { label: string; command: string }>;
  /** The do-nothing server probed beside /healthz (floor-server.ts); absent with --no-floor and in older results. */
  floor?: { label: string; command: string };
  checks: Record<string, CheckResult>;
  /** Each cell's median run (by throughput) of settings.repeat. */
  cells: CellResult[];
  /** Every run of every cell, in the order they ran. */
  runs: CellResult[];
  soak: SoakResult | null;
  malformed: MalformedResult | null;
  targets: Target[];
}

const int = (what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${what} must be a whole number >= 0`);
  return n;
};
const list = <T extends string>(allowed: readonly T[]) => (v: string) => {
  const xs = v.split(",").map((s) => s.trim()).filter(Boolean);
  for (const x of xs) if (!allowed.includes(x as T)) throw new InvalidArgumentError(`"${x}" is not one of ${allowed.join(", ")}`);
  return xs as T[];
};

const program = new Command("bench/serve/run.ts")
  .description("Load benchmark: rnn-wasm serve against a naive node:http server, same model, same run")
  .option("--quick", "smoke test: 1 s per cell, 5 s soak, 500 malformed, results to serve.quick.json, docs untouched")
  .option("--duration <s>", "seconds per cell", int("--duration"))
  .option("--warmup <s>", "seconds of load per server and scenario before timing", int("--warmup"))
  .option("--connections <list>", "connections per cell", (v) => v.split(",").map(int("--connections")), [1, 16, 64])
  .addOption(new Option("--scenarios <list>", "scenarios").argParser(list(SCENARIOS)).default([...SCENARIOS]))
  .addOption(new Option("--servers <list>", "servers to compare").argParser(list(["naive", "serve"] as const)).default(["naive", "serve"]))
  .option("--lean <list>", "cells (scenario:connections) also measured with the lean node:http client (lean-client.ts); '' for none", (v) => v.split(",").map((x) => x.trim()).filter(Boolean), ["sequence-binary:16"])
  .option("--wrk <list>", "cells (scenario:connections) also measured with wrk when it is installed (wrk-client.ts); '' for none", (v) => v.split(",").map((x) => x.trim()).filter(Boolean), ["sequence-binary:16"])
  .option("--repeat <n>", "run the whole load table n times; each cell reports its median run by throughput", int("--repeat"), 1)
  .option("--soak <s>", "seconds of the soak against rnn-wasm serve (0: none)", int("--soak"))
  .option("--malformed <n>", "malformed requests in the mix (0: none)", int("--malformed"))
  .option("--valid-ratio <r>", "valid requests per malformed one in the mix", Number, 0.25)
  .option("--probe-interval <ms>", "ms between /healthz probes (0: none)", int("--probe-interval"), 20)
  .option("--max-body <bytes>", "--max-body for both servers", int("--max-body"), 1 << 20)
  .option("--max-steps <n>", "--max-steps for both servers", int("--max-steps"), 1024)
  .option("--serve-args <flags>", "more flags for rnn-wasm serve, space-separated", "")
  .option("--head <n>", "give the model a seeded Linear head of n outputs", int("--head"), 0)
  .option("--deadline <minutes>", "stop everything (servers included) and fail after this long", int("--deadline"), 30)
  .option("--out <file>", "results file (default bench/results/serve.json; --quick: serve.quick.json)")
  .option("--no-floor", "do not probe a do-nothing server (floor-server.ts) beside /healthz")
  .option("--no-docs", "do not rewrite the Serving table of docs/benchmarks.md")
  .parse();

const o = program.opts<{
  quick?: boolean; duration?: number; warmup?: number; connections: number[]; scenarios: Scenario[];
  servers: ("naive" | "serve")[]; lean: string[]; wrk: string[]; repeat: number; soak?: number; malformed?: number; validRatio: number; probeInterval: number;
  maxBody: number; maxSteps: number; serveArgs: string; head: number; deadline: number; out?: string; docs: boolean; floor: boolean;
}>();
const quick = o.quick ?? false;
const cellSeconds = o.duration ?? (quick ? 1 : 10);
const warmupSeconds = o.warmup ?? (quick ? 1 : 3);
const soakSeconds = o.soak ?? (quick ? 5 : 60);
const malformedCount = o.malformed ?? (quick ? 500 : 10_000);
const out = o.out ?? join(ROOT, "bench/results", quick ? "serve.quick.json" : "serve.json");
const log = (s: string) => console.log(s);

if (o.servers.includes("serve") && !existsSync(join(ROOT, "cli/dist/cli.js"))) {
  throw new Error("cli/dist/cli.js does not exist: run `npm run build` first");
}
/** `--lean` / `--wrk`'s cells: whole-sequence scenarios at a number of connections. */
function sequenceCells(flag: string, xs: string[]): [Scenario, number][] {
  return xs.map((x) => {
    const [scenario, n] = x.split(":");
    if (scenario !== "sequence-binary" && scenario !== "sequence-json") throw new InvalidArgumentError(`${flag}: "${x}" is not sequence-binary:N or sequence-json:N`);
    const connections = Number(n);
    if (!Number.isInteger(connections) || connections < 1) throw new InvalidArgumentError(`${flag}: "${x}" needs a number of connections`);
    return [scenario, connections];
  });
}
const wrk = o.wrk.length > 0 ? wrkVersion() : null;
if (o.wrk.length > 0 && !wrk) log("wrk is not installed: its cells are skipped (Debian/Ubuntu: apt-get install wrk)");
const secondClients: [LoadClient, Scenario, number][] = [
  ...sequenceCells("--lean", o.lean).map(([s, n]): [LoadClient, Scenario, number] => ["node:http", s, n]),
  ...(wrk ? sequenceCells("--wrk", o.wrk).map(([s, n]): [LoadClient, Scenario, number] => ["wrk", s, n]) : []),
];
const limits = ["--max-body", String(o.maxBody), "--max-steps", String(o.maxSteps)];
const specs: ServerSpec[] = [];
if (o.servers.includes("naive")) specs.push({ ...NAIVE, args: [...NAIVE.args, ...limits] });
if (o.servers.includes("serve")) specs.push(serveSpec([...limits, ...o.serveArgs.split(" ").filter(Boolean)]));
const serverCommand = (spec: ServerSpec) =>
  `node ${spec.args.map((a) => (a === "{model}" ? "model.safetensors" : a.startsWith(ROOT) ? a.slice(ROOT.length) : a)).join(" ")}`;
/** A cell's /healthz p99 for the log, with the floor's beside it when there is one. */
const healthzLog = (c: CellResult) => `healthz p99 ${c.healthz?.p99 ?? "-"} ms` + (c.healthz?.floor ? ` (floor ${c.healthz.floor.p99} ms)` : "");

/** For each server, scenario and connections, the run with the median throughput (the lower one of an even count). */
function medianCells(runs: CellResult[]): CellResult[] {
  const groups = new Map<string, CellResult[]>();
  for (const c of runs) {
    const key = `${c.server} ${c.scenario} ${c.connections} ${c.client ?? "autocannon"}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  return [...groups.values()].map((g) => [...g].sort((a, b) => a.throughput - b.throughput)[Math.floor((g.length - 1) / 2)]);
}

function commit(): string {
  try {
    const git = (...args: string[]) => execFileSync("git", args, { cwd: ROOT, encoding: "utf8" }).trim();
    return git("rev-parse", "--short", "HEAD") + (git("status", "--porcelain", "--", "cli", "src", "bench/serve") ? "+changes" : "");
  } catch {
    return "unknown";
  }
}

const model = writeModel(o.head);
const expected = await expectedOutput(model);
const servers: RunningServer[] = [];
let floor: RunningServer | null = null;
const watchdog = setTimeout(() => {
  console.error(`bench/serve/run.ts: still running after ${o.deadline} minutes; stopping the servers and failing`);
  for (const s of servers) s.child.kill("SIGKILL");
  floor?.child.kill("SIGKILL");
  rmSync(model.dir, { recursive: true, force: true });
  process.exit(1);
}, o.deadline * 60_000);
watchdog.unref();
try {
  for (const spec of specs) {
    const s = await startServer(spec, model.path);
    servers.push(s);
    log(`${spec.id}: ${s.url} (pid ${s.pid})`);
  }
  if (o.floor && o.probeInterval > 0) {
    floor = await startServer(FLOOR, model.path);
    log(`floor: ${floor.url} (pid ${floor.pid})`);
  }
  const floorUrl = floor?.url;
  const checks: Record<string, CheckResult> = {};
  for (const s of servers) {
    checks[s.spec.id] = await checkServer(s, model, expected);
    log(`check ${s.spec.id}: ${JSON.stringify(checks[s.spec.id])}`);
  }

  // warm up every server on every scenario (V8 optimises the wasm and the JS after some thousands of calls)
  for (const s of servers) {
    for (const scenario of o.scenarios) {
      if (supports(s, scenario) && warmupSeconds > 0) await runCell(s, scenario, 16, model, { durationS: warmupSeconds, probeIntervalMs: 0, tag: "warmup" });
    }
  }

  const loadBefore = loadavg();
  // every cell o.repeat times (the whole table once, then again), the servers alternating; each cell's reported run
  // is its median by throughput, so one burst of another process's work on a shared machine does not decide a ratio
  const runs: CellResult[] = [];
  let turn = 0;
  for (let rep = 0; rep < o.repeat; rep++) {
    for (const scenario of o.scenarios) {
      for (const connections of o.connections) {
        const order = turn++ % 2 === 0 ? servers : [...servers].reverse(); // alternate who goes first
        for (const s of order) {
          if (!supports(s, scenario)) continue;
          const cell = await runCell(s, scenario, connections, model, { durationS: cellSeconds, probeIntervalMs: o.probeInterval, floorUrl, tag: `${scenario}-r${rep}` });
          runs.push(cell);
          log(`${s.spec.id.padEnd(5)} ${scenario.padEnd(15)} c=${String(connections).padStart(2)}: ${cell.throughput}/s, ` +
            `p50 ${cell.latencyMs.p50} ms, p99 ${cell.latencyMs.p99} ms, non-2xx ${cell.non2xx}, errors ${cell.errors + cell.timeouts}, ` +
            `${healthzLog(cell)}, CPU server ${cell.cpu.server} + autocannon ${cell.cpu.loadGenerator}` +
            (cell.batches ? `, ${cell.batches.count} batches of ${cell.batches.meanSize}` : ""));
          if (s.exited()) throw new Error(`${s.spec.id} exited during the load:\n${s.tail()}`);
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    }
    for (const [client, scenario, connections] of secondClients) {
      const order = turn++ % 2 === 0 ? servers : [...servers].reverse();
      for (const s of order) {
        const cell = await runCell(s, scenario, connections, model, { durationS: cellSeconds, probeIntervalMs: o.probeInterval, floorUrl, tag: `${scenario}-${client}-r${rep}`, client });
        runs.push(cell);
        log(`${s.spec.id.padEnd(5)} ${scenario.padEnd(15)} c=${String(connections).padStart(2)} ${client} client: ${cell.throughput}/s, ` +
          `p50 ${cell.latencyMs.p50} ms, p99 ${cell.latencyMs.p99} ms, non-2xx ${cell.non2xx}, errors ${cell.errors + cell.timeouts}, ` +
          `${healthzLog(cell)}, CPU server ${cell.cpu.server} + client ${cell.cpu.loadGenerator}` +
          (cell.batches ? `, ${cell.batches.count} batches of ${cell.batches.meanSize}` : ""));
        if (s.exited()) throw new Error(`${s.spec.id} exited during the load:\n${s.tail()}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }
  const cells = medianCells(runs);

  const serve = servers.find((s) => s.spec.id === "serve");
  let soak: SoakResult | null = null;
  if (serve && soakSeconds > 0) {
    log(`soak: ${soakSeconds} s against ${serve.spec.id}`);
    soak = await runSoak(serve, model, { durationS: soakSeconds, sequenceConnections: 48, streamConnections: 16, sampleEveryS: 5, probeIntervalMs: o.probeInterval, floorUrl });
    log(`soak: RSS ${soak.memory[0].rss} -> ${soak.memory.at(-2)!.rss} (x${soak.rssGrowth}), non-2xx ${soak.non2xx}, errors ${soak.errors}, ${healthzLog(soak.sequences)}`);
  }
  let malformed: MalformedResult | null = null;
  if (serve && malformedCount > 0) {
    log(`malformed mix: ${malformedCount} malformed, ${Math.round(malformedCount * o.validRatio)} valid`);
    malformed = await runMalformed(serve, model, {
      malformed: malformedCount, validRatio: o.validRatio, concurrency: 16, maxBody: o.maxBody, maxSteps: o.maxSteps, deadlineS: 600,
    }, log);
    log(`malformed mix: wrong answers ${malformed.wrong}, malformed ${JSON.stringify(malformed.malformedStatuses)}, valid ${JSON.stringify(malformed.validStatuses)}, still serving ${malformed.stillServing}`);
  }

  const results: ServeResults = {
    suite: "serve",
    date: new Date().toISOString(),
    command: `npx tsx bench/serve/run.ts ${process.argv.slice(2).join(" ")}`.trim(),
    commit: commit(),
    autocannon: (JSON.parse(readFileSync(join(ROOT, "bench/node_modules/autocannon/package.json"), "utf8")) as { version: string }).version,
    ...(wrk ? { wrk } : {}),
    machine: machineInfo(loadBefore[0]),
    loadAverage: { before: loadBefore.map((v) => Number(v.toFixed(2))), after: loadavg().map((v) => Number(v.toFixed(2))) },
    model: { workload: WORKLOAD.id, description: WORKLOAD.description, I: model.I, H: model.H, T: model.T, head: model.O },
    settings: { quick, cellSeconds, warmupSeconds, repeat: o.repeat, connections: o.connections, scenarios: o.scenarios, lean: o.lean, ...(wrk ? { wrk: o.wrk } : {}), probeIntervalMs: o.probeInterval, maxBody: o.maxBody, maxSteps: o.maxSteps },
    servers: Object.fromEntries(servers.map((s) => [s.spec.id, { label: s.spec.label, command: serverCommand(s.spec) }])),
    ...(floor ? { floor: { label: FLOOR.label, command: serverCommand(FLOOR) } } : {}),
    checks,
    cells,
    runs,
    soak,
    malformed,
    targets: [],
  };
  results.targets = computeTargets(results);
  writeFileSync(out, JSON.stringify(results, null, 2) + "\n");
  log(`wrote ${out}`);
  for (const t of results.targets) log(`target ${t.met === null ? "n/a " : t.met ? "MET " : "MISS"} ${t.name}: ${t.measured}`);
  if (o.docs && !quick) log(updateServeSection(results) ?? "docs/benchmarks.md has no bench:serve markers");
  else log(renderServeSection(results));
} finally {
  for (const s of floor ? [...servers, floor] : servers) {
    const code = await s.stop();
    if (code !== 0) log(`${s.spec.id} exited with ${code} on SIGTERM; its log ends:\n${s.tail().slice(-2000)}`);
  }
  rmSync(model.dir, { recursive: true, force: true });
  clearTimeout(watchdog);
}
