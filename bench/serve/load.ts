// bench/serve/load.ts: one cell of the load table: autocannon (programmatic) against one server, one scenario, one
// number of connections, for a bounded time, with a /healthz probe (bench/serve/probe.ts) in its own process
// alongside. Every answer's latency is recorded here (not from autocannon's whole-millisecond histogram).
// Given a floor server (floor-server.ts), the same probe process also times a do-nothing server in the same cell,
// so the cell's /healthz p99 can be read against what the machine alone costs.
// Scenarios:
//   sequence-json    POST /v1/predict {"input": [[64] x 128]}  (W-seq's input)
//   sequence-binary  POST /v1/predict raw float32, X-Shape: 128,64
//   stream-json      one stream per connection, one timestep per request. `rnn-wasm serve`: POST
//                    /v1/sessions/<id>/step {"input": [[64]]} (the server keeps the state); the naive server:
//                    POST /v1/predict {"input": [[64]], "state": <the previous answer's state>} (the client keeps it)
//   stream-binary    `rnn-wasm serve` only: the session step with a raw float32 body, X-Shape: 1,64
import { spawn } from "node:child_process";
import { join } from "node:path";
import autocannon, { type Client, type Request } from "autocannon";
import { leanLoad } from "./lean-client.js";
import type { ProbeOutput, ProbeResult } from "./probe.js";
import { wrkLoad } from "./wrk-client.js";
import { rows, sequenceBinary, sequenceJson, stepRow, type ServedFile } from "./model.js";
import { cpuSecondsOf, ROOT, scrapeMetrics, type RunningServer } from "./servers.js";
import { percentiles, type Percentiles } from "./stats.js";

export const SCENARIOS = ["sequence-json", "sequence-binary", "stream-json", "stream-binary"] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** Who sends the load: autocannon, or for whole sequences the lean node:http client of lean-client.ts or wrk (wrk-client.ts). */
export type LoadClient = "autocannon" | "node:http" | "wrk";

/** A /healthz probe's answers in one cell: latency percentiles (ms) and the requests that got no 200 answer. */
export type HealthzProbe = Percentiles & { non200: number; errors: number; timeouts: number };

export interface CellResult {
  server: string;
  scenario: Scenario;
  connections: number;
  /** Absent in results from before lean cells existed: autocannon. */
  client?: LoadClient;
  /** Seconds autocannon ran. */
  durationS: number;
  /**
   * Answers with a 2xx status per second (sequences/s or steps/s) in the cell's steady part: from the end of its
   * first quarter (at most 1.5 s: while every connection waits for its first answer) to its end. Counting over the
   * whole cell instead would charge the ramp-up and the requests cut off at the end to the server.
   */
  throughput: number;
  ok: number;
  non2xx: number;
  statusCounts: Record<string, number>;
  errors: number;
  timeouts: number;
  /** Of the 2xx answers, ms. */
  latencyMs: Percentiles;
  /**
   * GET /healthz during the cell, from its own process; null when the probe did not run. `floor`: the same probe
   * process's GET /healthz of a do-nothing node:http server (floor-server.ts) over the same time, half an interval
   * out of step; absent when the run had no floor server (and in results from before it existed).
   */
  healthz: (HealthzProbe & { floor?: HealthzProbe }) | null;
  /** healthz.p99 minus healthz.floor.p99, ms: the server's share of its /healthz p99; absent without a floor. */
  healthzOverFloorMs?: number;
  /** CPU time per second of the cell (1 = one core busy): the server process (all its threads), and this process (the load generator). */
  cpu: { server: number | null; loadGenerator: number };
  /** From the server's /metrics, when it has them: batched forwards during the cell and their mean size. */
  batches?: { count: number; meanSize: number };
}

export interface CellOptions {
  durationS: number;
  /** Probe /healthz every this many ms (0: no probe). */
  probeIntervalMs: number;
  /** A label that keeps session ids of different cells apart. */
  tag: string;
  /** The floor server's URL (floor-server.ts): the probe times it too. Ignored without a probe. */
  floorUrl?: string;
  /** Default autocannon; "node:http" and "wrk" only for whole sequences (the streams need per-connection state). */
  client?: LoadClient;
}

const JSON_HEADERS = { "content-type": "application/json" };

/** Whether `server` can run `scenario` (the naive server has no sessions, so no binary stream). */
export function supports(server: RunningServer, scenario: Scenario): boolean {
  return !(scenario === "stream-binary" && server.spec.id === "naive");
}

/** autocannon's options for a scenario: fixed bodies, or per connection a stream with its own state. */
function scenarioOptions(server: RunningServer, scenario: Scenario, f: ServedFile, tag: string) {
  if (scenario === "sequence-json") {
    return { requests: [{ method: "POST", path: "/v1/predict", headers: JSON_HEADERS, body: sequenceJson(f) }] };
  }
  if (scenario === "sequence-binary") {
    const headers = { "content-type": "application/octet-stream", "x-shape": `${f.T},${f.I}` };
    return { requests: [{ method: "POST", path: "/v1/predict", headers, body: sequenceBinary(f) }] };
  }
  let next = 0;
  const setupClient = (client: Client) => {
    const k = next++;
    let t = k * 7; // streams start at different rows of the input
    if (server.spec.id === "naive") {
      let state: unknown;
      const step: Request = {
        method: "POST", path: "/v1/predict", headers: JSON_HEADERS,
        setupRequest: (req) => ({ ...req, body: JSON.stringify(state === undefined ? { input: rows(stepRow(f, t++), f.I) } : { input: rows(stepRow(f, t++), f.I), state }) }),
        onResponse: (status, body) => {
          if (status === 200) state = (JSON.parse(body) as { state: unknown }).state;
        },
      };
      client.setRequests([step]);
    } else {
      const path = `/v1/sessions/bench-${tag}-${k}/step`;
      const binary = scenario === "stream-binary";
      const step: Request = binary
        ? { method: "POST", path, headers: { "content-type": "application/octet-stream", "x-shape": `1,${f.I}` },
            setupRequest: (req) => ({ ...req, body: Buffer.from(stepRow(f, t++).slice().buffer) }) }
        : { method: "POST", path, headers: JSON_HEADERS, setupRequest: (req) => ({ ...req, body: JSON.stringify({ input: rows(stepRow(f, t++), f.I) }) }) };
      client.setRequests([step]);
    }
  };
  return { setupClient };
}

/** GET /healthz on `url` (and `floorUrl`) from probe.ts in its own process, for about durationMs - 1 s after 0.5 s. */
export function runProbe(url: string, durationMs: number, intervalMs: number, floorUrl?: string): Promise<CellResult["healthz"]> {
  const args = ["--import", "tsx", join(ROOT, "bench/serve/probe.ts"), "--url", url, "--delay", "500",
    "--duration", String(Math.max(200, durationMs - 1000)), "--interval", String(intervalMs), ...(floorUrl ? ["--floor-url", floorUrl] : [])];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`the /healthz probe exited with ${code}`));
      const r = JSON.parse(out) as ProbeOutput;
      const summary = (p: ProbeResult): HealthzProbe => ({ ...percentiles(p.latenciesMs), non200: p.non200, errors: p.errors, timeouts: p.timeouts });
      resolve({ ...summary(r), ...(r.floor ? { floor: summary(r.floor) } : {}) });
    });
  });
}

/** Completions per second between the end of the cell's first quarter (at most 1.5 s) and its end. */
function steadyRate(doneAt: number[], t0: number, tEnd: number): number {
  const from = t0 + Math.min(1500, (tEnd - t0) / 4);
  const n = doneAt.filter((t) => t >= from).length;
  return Number((n / ((tEnd - from) / 1000)).toFixed(1));
}

/** rnn_wasm_batch_size's count and sum, or null when the server has no such histogram. */
async function batchCounters(server: RunningServer): Promise<{ count: number; sum: number } | null> {
  const m = await scrapeMetrics(server.url);
  const count = m?.get("rnn_wasm_batch_size_count"), sum = m?.get("rnn_wasm_batch_size_sum");
  return count === undefined || sum === undefined ? null : { count, sum };
}

export async function runCell(server: RunningServer, scenario: Scenario, connections: number, f: ServedFile, o: CellOptions): Promise<CellResult> {
  const latencies: number[] = [];
  const doneAt: number[] = [];
  const batchesBefore = server.spec.id === "naive" ? null : await batchCounters(server);
  const serverCpu0 = cpuSecondsOf(server.pid), ownCpu0 = process.cpuUsage(), t0 = performance.now();
  const probe = o.probeIntervalMs > 0 ? runProbe(server.url, o.durationS * 1000, o.probeIntervalMs, o.floorUrl) : Promise.resolve(null);
  const client = o.client ?? "autocannon";
  const record = (status: number, ms: number) => {
    if (status >= 200 && status < 300) {
      latencies.push(ms);
      doneAt.push(performance.now());
    }
  };
  let tEnd = 0, serverCpu1: number | null = null, ownCpu = { user: 0, system: 0 };
  const stop = <T>(r: T) => {
    tEnd = performance.now();
    serverCpu1 = cpuSecondsOf(server.pid);
    ownCpu = process.cpuUsage(ownCpu0);
    return r;
  };
  // `own`: what a client that reports totals rather than each answer (wrk) measured itself
  let loaded: Promise<{ duration: number; statusCodeStats: Record<string, { count: number }>; non2xx: number; errors: number; timeouts: number;
    own?: { throughput: number; latencyMs: Percentiles; cpuSeconds: number } }>;
  if (client === "node:http" || client === "wrk") {
    const body = scenario === "sequence-binary" ? sequenceBinary(f) : scenario === "sequence-json" ? Buffer.from(sequenceJson(f)) : null;
    if (!body) throw new Error(`the ${client} client sends whole sequences only, not ${scenario}`);
    const headers = scenario === "sequence-binary" ? { "content-type": "application/octet-stream", "x-shape": `${f.T},${f.I}` } : JSON_HEADERS;
    const request = { method: "POST", path: "/v1/predict", headers, body };
    loaded = client === "wrk"
      ? wrkLoad({ url: server.url, connections, durationS: o.durationS, timeoutS: 30, request }).then(stop).then((r) => ({
        duration: r.durationS, statusCodeStats: { "2xx": { count: r.ok }, ...(r.non2xx ? { other: { count: r.non2xx } } : {}) },
        non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts,
        // wrk reports totals and its own percentiles, not each answer: the rate is over the whole cell
        own: { throughput: Number((r.ok / r.durationS).toFixed(1)), latencyMs: r.latencyMs, cpuSeconds: r.cpuSeconds },
      }))
      : leanLoad({ url: server.url, connections, durationS: o.durationS, timeoutS: 30, request, onResponse: record })
      .then(stop)
      .then((r) => ({ duration: r.durationS, statusCodeStats: Object.fromEntries(Object.entries(r.statusCounts).map(([k, n]) => [k, { count: n }])), non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts }));
  } else {
    const instance = autocannon({
      url: server.url,
      connections,
      duration: o.durationS,
      timeout: 30,
      ...scenarioOptions(server, scenario, f, `${o.tag}-${connections}`),
    });
    instance.on("response", (_client: unknown, status: number, _bytes: number, ms: number) => record(status, ms));
    loaded = Promise.resolve(instance).then(stop);
  }
  const [r, healthz] = await Promise.all([loaded, probe]);
  const elapsed = (tEnd - t0) / 1000;
  const batchesAfter = batchesBefore ? await batchCounters(server) : null;
  const batches = batchesBefore && batchesAfter && batchesAfter.count > batchesBefore.count
    ? { count: batchesAfter.count - batchesBefore.count, meanSize: Number(((batchesAfter.sum - batchesBefore.sum) / (batchesAfter.count - batchesBefore.count)).toFixed(2)) }
    : undefined;
  const statusCounts = Object.fromEntries(Object.entries(r.statusCodeStats).map(([s, v]) => [s, v.count]));
  const own = r.own;
  const ok = own ? own.latencyMs.count : latencies.length;
  const floor = healthz?.floor;
  return {
    server: server.spec.id,
    scenario,
    connections,
    client,
    durationS: r.duration,
    throughput: own ? own.throughput : steadyRate(doneAt, t0, tEnd),
    ok,
    non2xx: r.non2xx,
    statusCounts,
    errors: r.errors,
    timeouts: r.timeouts,
    latencyMs: own ? own.latencyMs : percentiles(latencies),
    healthz,
    ...(healthz && floor && healthz.count > 0 && floor.count > 0 ? { healthzOverFloorMs: Number((healthz.p99 - floor.p99).toFixed(3)) } : {}),
    cpu: {
      server: serverCpu0 !== null && serverCpu1 !== null ? Number(((serverCpu1 - serverCpu0) / elapsed).toFixed(2)) : null,
      loadGenerator: Number(((own ? own.cpuSeconds : (ownCpu.user + ownCpu.system) / 1e6) / elapsed).toFixed(2)),
    },
    ...(batches ? { batches } : {}),
  };
}
