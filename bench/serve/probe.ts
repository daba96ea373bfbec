// bench/serve/probe.ts: GET /healthz at a steady pace on one kept-alive connection, run as its own process while
// bench/serve/run.ts loads the server, so that its timings are the server's answer time and not the load
// generator's busy event loop. Bounded in time (--duration) and count (one request per --interval at most).
// With --floor-url it also probes a do-nothing server (floor-server.ts) at the same pace on a second kept-alive
// connection, each of its requests half an interval after the server's so that the two do not wait on each other
// inside this process: what the floor's answers take is the machine's scheduling, not any server's work.
// Requests go out on a fixed grid (start + k * interval, the floor's shifted by half an interval); a slot missed
// while an answer was outstanding is skipped, not made up, so the two keep their offset.
// Prints one JSON line: every answer's latency in ms, and how many were not 200, failed or timed out; with
// --floor-url, the same for the floor under `floor`.
//
//   node --import tsx bench/serve/probe.ts --url http://127.0.0.1:PORT [--floor-url http://127.0.0.1:PORT2] --delay 500 --duration 5000 --interval 20
import { Agent, request } from "node:http";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    "floor-url": { type: "string" },
    path: { type: "string", default: "/healthz" },
    delay: { type: "string", default: "0" },
    duration: { type: "string", default: "5000" },
    interval: { type: "string", default: "20" },
    timeout: { type: "string", default: "5000" },
  },
});
const delay = Number(values.delay), duration = Number(values.duration), interval = Number(values.interval), timeout = Number(values.timeout);

export interface ProbeResult {
  latenciesMs: number[];
  non200: number;
  errors: number;
  timeouts: number;
}

/** What this process prints: the server's probe, and the floor's when --floor-url was given. */
export interface ProbeOutput extends ProbeResult {
  floor?: ProbeResult;
}

function once(target: URL, agent: Agent): Promise<{ ms: number; status: number } | "error" | "timeout"> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const req = request(target, { agent, method: "GET", timeout }, (res) => {
      res.resume();
      res.on("end", () => resolve({ ms: performance.now() - t0, status: res.statusCode ?? 0 }));
    });
    req.on("timeout", () => {
      req.destroy();
      resolve("timeout");
    });
    req.on("error", () => resolve("error"));
    req.end();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Probes `base` + --path from `start` (a performance.now() time) for --duration, one request per grid slot. */
async function probe(base: string, start: number): Promise<ProbeResult> {
  const target = new URL(values.path!, base);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const result: ProbeResult = { latenciesMs: [], non200: 0, errors: 0, timeouts: 0 };
  const end = start + duration;
  const maxCount = Math.ceil(duration / interval) + 1;
  let slot = start;
  for (let k = 0; k < maxCount && slot < end; k++) {
    const wait = slot - performance.now();
    if (wait > 0) await sleep(wait);
    const r = await once(target, agent);
    if (r === "error") result.errors++;
    else if (r === "timeout") result.timeouts++;
    else {
      result.latenciesMs.push(Number(r.ms.toFixed(3)));
      if (r.status !== 200) result.non200++;
    }
    slot += interval;
    const late = performance.now() - slot;
    if (late > 0) slot += Math.ceil(late / interval) * interval; // skip the slots that passed during a slow answer
  }
  agent.destroy();
  return result;
}

const start = performance.now() + delay;
const [server, floor] = await Promise.all([
  probe(values.url!, start),
  values["floor-url"] ? probe(values["floor-url"], start + interval / 2) : Promise.resolve(undefined),
]);
const output: ProbeOutput = floor ? { ...server, floor } : server;
process.stdout.write(JSON.stringify(output) + "\n");
