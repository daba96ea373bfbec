// bench/serve/servers.ts: starts a server under test as a child process on a loopback port chosen by the OS, reads
// the `http://HOST:PORT` line it prints once it listens, and reads its memory: RSS from /proc (any server) and the
// gauges of its /metrics (`rnn-wasm serve`, prom-client's process_resident_memory_bytes and whatever it names wasm).
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const STARTUP_MS = 60_000;
const STOP_MS = 15_000;
const TAIL_BYTES = 16_384;

export interface ServerSpec {
  /** "naive" or "serve". */
  id: string;
  label: string;
  /** Node arguments: the script and its flags; `{model}` is replaced by the model file's path. */
  args: string[];
}

export interface RunningServer {
  spec: ServerSpec;
  url: string;
  pid: number;
  child: ChildProcess;
  /** The last bytes the server wrote to stdout and stderr (its log), for a report when it fails. */
  tail(): string;
  exited(): boolean;
  stop(): Promise<number | null>;
}

/** The naive node:http server of this directory, run with tsx's loader. */
export const NAIVE: ServerSpec = {
  id: "naive",
  label: "naive node:http, forward() inline",
  args: ["--import", "tsx", join(ROOT, "bench/serve/naive-server.ts"), "--model", "{model}", "--host", "127.0.0.1", "--port", "0"],
};

/** The /healthz control (floor-server.ts): not a server under test (no check, no load), only probed beside one. */
export const FLOOR: ServerSpec = {
  id: "floor",
  label: "do-nothing node:http, GET /healthz only",
  args: ["--import", "tsx", join(ROOT, "bench/serve/floor-server.ts"), "--host", "127.0.0.1", "--port", "0"],
};

/** `rnn-wasm serve` from the CLI package's build, with `extra` flags. */
export function serveSpec(extra: string[]): ServerSpec {
  return {
    id: "serve",
    label: `rnn-wasm serve${extra.length ? " " + extra.join(" ") : ""}`,
    args: [join(ROOT, "cli/dist/cli.js"), "serve", "--model", "{model}", "--host", "127.0.0.1", "--port", "0", ...extra],
  };
}

export async function startServer(spec: ServerSpec, model: string): Promise<RunningServer> {
  const args = spec.args.map((a) => (a === "{model}" ? model : a));
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let tail = "";
  let exitCode: number | null | undefined;
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code, signal) => resolve((exitCode = code ?? (signal ? -1 : null)))));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${spec.id} printed no http://HOST:PORT line in ${STARTUP_MS} ms:\n${tail}`)), STARTUP_MS);
    const onData = (chunk: Buffer) => {
      tail = (tail + chunk.toString("utf8")).slice(-TAIL_BYTES);
      const m = /http:\/\/([\w.:[\]-]+):(\d+)/.exec(tail);
      if (m && m[2] !== "0") {
        clearTimeout(timer);
        resolve(`http://${m[1]}:${m[2]}`);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${spec.id} exited (${code}) before it listened:\n${tail}`));
    });
  });
  // keep draining both pipes (a server that logs every request would block on a full pipe), keeping a tail
  child.stdout!.removeAllListeners("data");
  child.stderr!.removeAllListeners("data");
  const keep = (chunk: Buffer) => void (tail = (tail + chunk.toString("utf8")).slice(-TAIL_BYTES));
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  return {
    spec, url, pid: child.pid!, child,
    tail: () => tail,
    exited: () => exitCode !== undefined,
    async stop() {
      if (exitCode !== undefined) return exitCode;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_MS);
      const code = await exit;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Resident set size of a process in bytes (Linux /proc), or null where there is no /proc. */
export function rssOf(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** CPU seconds (user + system, every thread) a process has used so far, from /proc; null where there is none. */
export function cpuSecondsOf(pid: number): number | null {
  try {
    // fields after the command name (which may hold spaces, so split after its closing parenthesis): utime is the 12th, stime the 13th
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

/** The server's /metrics as name{labels} -> value, or null when it has none (404 or not text). */
export async function scrapeMetrics(url: string): Promise<Map<string, number> | null> {
  try {
    const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    if (res.status !== 200) return null;
    const out = new Map<string, number>();
    for (const line of text.split("\n")) {
      if (line === "" || line.startsWith("#")) continue;
      const m = /^(\S+?(?:\{.*\})?)\s+(\S+)(?:\s+\d+)?$/.exec(line);
      if (m) out.set(m[1], Number(m[2]));
    }
    return out;
  } catch {
    return null;
  }
}

export interface MemorySample {
  /** Seconds since the phase began. */
  at: number;
  /** From /proc. */
  rss: number | null;
  /** process_resident_memory_bytes from /metrics. */
  metricsRss?: number;
  /** Every /metrics series of bytes whose name (after the server's prefix) says wasm. */
  wasm?: Record<string, number>;
  /** Every /metrics series that counts blocks held in wasm memory (rnn-wasm serve: per worker thread). */
  wasmBlocks?: Record<string, number>;
  /** Sessions the server holds, when /metrics has a gauge for them. */
  sessions?: Record<string, number>;
}

export async function memorySample(server: RunningServer, t0: number): Promise<MemorySample> {
  const sample: MemorySample = { at: Number(((performance.now() - t0) / 1000).toFixed(1)), rss: rssOf(server.pid) };
  const metrics = await scrapeMetrics(server.url);
  if (metrics) {
    // prom-client's default metrics may carry a prefix (rnn-wasm serve's is "rnn_wasm_"): match on what follows it
    const base = (series: string) => series.split("{")[0].replace(/^rnn_wasm_/, "");
    for (const [series, v] of metrics) if (base(series) === "process_resident_memory_bytes") sample.metricsRss = v;
    const pick = (test: (name: string) => boolean) => {
      const out: Record<string, number> = {};
      for (const [series, v] of metrics) if (test(base(series))) out[series] = v;
      return Object.keys(out).length ? out : undefined;
    };
    sample.wasm = pick((n) => /wasm/i.test(n) && /bytes/.test(n));
    sample.wasmBlocks = pick((n) => /wasm/i.test(n) && /blocks/.test(n));
    sample.sessions = pick((n) => /session/i.test(n) && !/_bucket$|_sum$|_count$/.test(n));
  }
  return sample;
}
