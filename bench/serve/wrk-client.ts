// bench/serve/wrk-client.ts: a whole-sequence cell's load from wrk (https://github.com/wg/wrk, Debian's `wrk`
// package), when it is on PATH. wrk is an event loop in C: against a 128 x 256 float32 answer it spends ~0.1 ms of
// CPU per request (mostly the kernel's copies) where the node:http client spends ~0.4 and autocannon ~1.5-1.8
// (measured against a fixed-body node:http server). With the load generator on the same 2 CPUs as the server, what
// the client spends is taken from `rnn-wasm serve`'s two pool threads but not from the naive server's one thread,
// so the cheapest client comes closest to the load from another host that a deployment sees.
// One thread (-t1), `connections` connections, a Lua script that sends the fixed body and, when wrk is done, prints
// one JSON line: the request count, status errors, wrk's latency percentiles and its own CPU time (os.clock).
// wrk counts over the whole cell (its first answers included), where the other clients count from the end of the
// cell's first quarter: the ramp-up is one answer per connection, a few ms of a cell of seconds.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LeanRequest } from "./lean-client.js";
import type { Percentiles } from "./stats.js";

export interface WrkOptions {
  url: string;
  connections: number;
  durationS: number;
  request: LeanRequest;
  timeoutS: number;
}

export interface WrkResult {
  durationS: number;
  /** Answers with a 2xx or 3xx status. */
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latencyMs: Percentiles;
  /** wrk's CPU seconds over the cell (user + system, its whole process). */
  cpuSeconds: number;
}

/** wrk's version line, or null when it is not installed. */
export function wrkVersion(): string | null {
  const r = spawnSync("wrk", ["--version"], { encoding: "utf8" });
  if (r.error) return null;
  return (r.stdout + r.stderr).split("\n")[0].split(" Copyright")[0].trim() || null; // "wrk debian/4.1.0-3+b2 [epoll]"
}

const luaString = (s: string) => JSON.stringify(s); // a JSON string literal is a valid Lua string literal for ASCII

function script(bodyFile: string, r: LeanRequest): string {
  const headers = Object.entries(r.headers).map(([k, v]) => `wrk.headers[${luaString(k)}] = ${luaString(String(v))}`);
  return `local f = assert(io.open(${luaString(bodyFile)}, "rb"))
wrk.body = f:read("*a")
f:close()
wrk.method = ${luaString(r.method)}
${headers.join("\n")}
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"cpu":%.4f,' ..
    '"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"max":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout, os.clock(),
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
`;
}

interface WrkSummary {
  requests: number; durationUs: number; connect: number; read: number; write: number; status: number; timeout: number;
  cpu: number; mean: number; p50: number; p90: number; p99: number; max: number;
}

/** Runs wrk for one cell; rejects when it fails or prints no summary. */
export function wrkLoad(o: WrkOptions): Promise<WrkResult> {
  const dir = mkdtempSync(join(tmpdir(), "rnn-wasm-wrk-"));
  const bodyFile = join(dir, "body.bin"), scriptFile = join(dir, "load.lua");
  writeFileSync(bodyFile, o.request.body);
  writeFileSync(scriptFile, script(bodyFile, o.request));
  const url = new URL(o.request.path, o.url).href;
  const args = ["-t1", `-c${o.connections}`, `-d${o.durationS}s`, `--timeout`, `${o.timeoutS}s`, "-s", scriptFile, url];
  return new Promise<WrkResult>((resolve, reject) => {
    const child = spawn("wrk", args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "", err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (err += c.toString("utf8")));
    child.on("error", reject);
    child.on("exit", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("{\"requests\""));
      if (code !== 0 || !line) return reject(new Error(`wrk ${args.join(" ")} exited with ${code}: ${(err || out).trim().slice(-500)}`));
      const s = JSON.parse(line) as WrkSummary;
      const ms = (us: number) => Number((us / 1000).toFixed(3));
      const non2xx = s.status; // wrk's "Non-2xx or 3xx responses"
      resolve({
        durationS: Number((s.durationUs / 1e6).toFixed(2)),
        ok: s.requests - non2xx,
        non2xx,
        errors: s.connect + s.read + s.write,
        timeouts: s.timeout,
        latencyMs: { count: s.requests - non2xx, mean: ms(s.mean), p50: ms(s.p50), p90: ms(s.p90), p99: ms(s.p99), max: ms(s.max) },
        cpuSeconds: s.cpu,
      });
    });
  }).finally(() => rmSync(dir, { recursive: true, force: true }));
}
