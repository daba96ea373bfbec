// bench/serve/probe.ts: GET /healthz at a steady pace on one kept-alive connection, run as its own process while
// bench/serve/run.ts loads the server, so that its timings are the server's answer time and not the load
// generator's busy event loop. Bounded in time (--duration) and count (one request per --interval at most).
// Prints one JSON line: every answer's latency in ms, and how many were not 200, failed or timed out.
//
//   node --import tsx bench/serve/probe.ts --url http://127.0.0.1:PORT --delay 500 --duration 5000 --interval 20
import { Agent, request } from "node:http";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    path: { type: "string", default: "/healthz" },
    delay: { type: "string", default: "0" },
    duration: { type: "string", default: "5000" },
    interval: { type: "string", default: "20" },
    timeout: { type: "string", default: "5000" },
  },
});
const target = new URL(values.path!, values.url);
const delay = Number(values.delay), duration = Number(values.duration), interval = Number(values.interval), timeout = Number(values.timeout);
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

export interface ProbeResult {
  latenciesMs: number[];
  non200: number;
  errors: number;
  timeouts: number;
}

function once(): Promise<{ ms: number; status: number } | "error" | "timeout"> {
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
const result: ProbeResult = { latenciesMs: [], non200: 0, errors: 0, timeouts: 0 };
await sleep(delay);
const end = performance.now() + duration;
const maxCount = Math.ceil(duration / interval) + 1;
for (let k = 0; k < maxCount && performance.now() < end; k++) {
  const next = performance.now() + interval;
  const r = await once();
  if (r === "error") result.errors++;
  else if (r === "timeout") result.timeouts++;
  else {
    result.latenciesMs.push(Number(r.ms.toFixed(3)));
    if (r.status !== 200) result.non200++;
  }
  const wait = next - performance.now();
  if (wait > 0) await sleep(wait);
}
agent.destroy();
process.stdout.write(JSON.stringify(result) + "\n");
