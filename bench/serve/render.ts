// bench/serve/render.ts: renders bench/results/serve.json as the Serving section's tables in docs/benchmarks.md,
// between <!-- bench:serve:start --> and <!-- bench:serve:end -->. bench/serve/run.ts calls it after a run; run this
// file alone (`npx tsx bench/serve/render.ts`) to re-render the saved results without measuring again.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { CellResult, LoadClient } from "./load.js";
import type { ServeResults } from "./run.js";
import { ROOT, type MemorySample } from "./servers.js";
import { findCell } from "./targets.js";

export const SERVE_RESULTS = join(ROOT, "bench/results/serve.json");
const DOC = join(ROOT, "docs/benchmarks.md");
const START = "<!-- bench:serve:start -->", END = "<!-- bench:serve:end -->";

const num = (v: number) => (v >= 100 ? Math.round(v).toLocaleString("en-US") : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const mib = (b: number | null | undefined) => (b == null ? "?" : `${(b / 2 ** 20).toFixed(1)} MiB`);
const lat = (c: CellResult | undefined) => (c ? `${num(c.latencyMs.p50)} / ${num(c.latencyMs.p99)}` : "—");
const thr = (c: CellResult | undefined) => (c ? num(c.throughput) : "—");
const bad = (c: CellResult | undefined) => (c ? String(c.non2xx + c.errors + c.timeouts) : "—");
const health = (c: CellResult | undefined) => {
  const h = c?.healthz;
  if (!h) return "—";
  const lost = h.timeouts + h.errors;
  const floor = h.floor && h.floor.count > 0 ? ` (${num(h.floor.p99)})` : "";
  return (h.count > 0 ? num(h.p99) : "") + (lost > 0 ? `${h.count > 0 ? " + " : ""}${lost} unanswered in ${h.timeouts ? "5 s" : "time"}` : h.count > 0 ? "" : "—") + floor;
};
/** Whether any cell's probe also timed the do-nothing floor server (floor-server.ts). */
const hasFloor = (r: ServeResults) => r.cells.some((c) => c.healthz?.floor);
const ratio = (a: CellResult | undefined, b: CellResult | undefined) => (a && b && a.throughput > 0 ? `${(b.throughput / a.throughput).toFixed(2)}x` : "—");

function loadTable(r: ServeResults, scenarios: [string, string, LoadClient?][], unit: string, clients: string): string[] {
  const healthz = hasFloor(r) ? "/healthz p99 ms (floor), naive / serve" : "/healthz p99 ms, naive / serve";
  const lines = [
    `| body | ${clients} | naive: ${unit} | naive: p50 / p99 ms | serve: ${unit} | serve: p50 / p99 ms | serve / naive | ${healthz} | non-2xx + errors, naive / serve |`,
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const [scenario, body, client] of scenarios) {
    for (const n of r.settings.connections) {
      const a = findCell(r.cells, "naive", scenario, n, client), b = findCell(r.cells, "serve", scenario, n, client);
      if (!a && !b) continue;
      lines.push(`| ${body} | ${n} | ${thr(a)} | ${lat(a)} | ${thr(b)} | ${lat(b)} | ${ratio(a, b)} | ${health(a)} / ${health(b)} | ${bad(a)} / ${bad(b)} |`);
    }
  }
  return lines;
}

/** What the (floor) beside each /healthz p99 is, for the line under the first table; "" when the run had none. */
function floorLine(r: ServeResults): string {
  if (!hasFloor(r)) return "";
  const over = r.cells.filter((c) => c.server === "serve" && c.connections >= 16 && c.healthzOverFloorMs !== undefined).map((c) => c.healthzOverFloorMs!);
  return `/healthz (floor): in parentheses, the p99 of a do-nothing node:http server (\`bench/serve/floor-server.ts\`, no model, its event loop only answers /healthz) ` +
    `that the same probe process sent GET /healthz to in the same cell, at the same pace, half an interval out of step. Nothing of its own can delay it, ` +
    `so its p99 is what this machine's scheduling costs any server (the probe and the server waiting for one of the ${r.machine.logicalCpus} CPUs the load generator and the server under test also use); ` +
    `a server's own share is its p99 minus the floor` +
    (over.length ? ` (\`rnn-wasm serve\` at 16 and 64 clients: ${num(Math.min(...over))} to ${num(Math.max(...over))} ms; healthzOverFloorMs in the results file)` : "") + ".";
}

/** The sessions gauge of a memory sample (rnn_wasm_sessions), if the server has one. */
const sessionsOf = (m: MemorySample) => Object.entries(m.sessions ?? {}).find(([k]) => k.split("{")[0].endsWith("_sessions"))?.[1];

/** Why some cells are measured with a second client, and what each client cost. */
function leanNote(r: ServeResults): string {
  const cpu = (id: string, client: LoadClient) => {
    const c = findCell(r.cells, id, "sequence-binary", 16, client);
    return c ? `${c.cpu.loadGenerator} cores for ${num(c.throughput)} answers/s` : "?";
  };
  const wrk = r.cells.some((c) => c.client === "wrk")
    ? ` Rows marked *wrk* are sent by wrk (${r.wrk ?? "wrk"}, one thread; \`bench/serve/wrk-client.ts\`), an event loop in C, the cheapest client here: ` +
      `${cpu("serve", "wrk")} against \`rnn-wasm serve\`. wrk reports its own latency percentiles and counts over the whole cell.`
    : "";
  return "Rows marked *node:http client* are sent by `bench/serve/lean-client.ts` (a closed loop on node:http that reads each answer as bytes) " +
    "instead of autocannon, which decodes every answer's body into a string: for a 128 x 256 float32 answer that UTF-8 decode costs about " +
    "1.5 ms of CPU, more than the LSTM takes to compute it, on the same 2 CPUs as the server. In the raw float32 cells at 16 clients " +
    `autocannon used ${cpu("serve", "autocannon")} against \`rnn-wasm serve\`, the node:http client ${cpu("serve", "node:http")}.` + wrk +
    " What the client spends comes out of the 2 CPUs that `rnn-wasm serve`'s two pool threads share with it, but not out of the naive server's single thread, " +
    "so the cheaper the client, the closer the cell is to load from another host.";
}

/** Where the CPUs went in the 16-client raw float32 cells: the server's threads, and autocannon in the bench's process. */
function cpuLine(r: ServeResults): string {
  const part = (id: string) => {
    const c = findCell(r.cells, id, "sequence-binary", 16);
    return c ? `${id} ${c.cpu.server ?? "?"} + ${c.cpu.loadGenerator}${c.batches ? ` (mean batch ${c.batches.meanSize})` : ""}` : null;
  };
  const parts = ["naive", "serve"].map(part).filter(Boolean);
  return parts.length
    ? `CPU in cores busy (server + autocannon), whole sequences in raw float32 at 16 clients: ${parts.join("; ")}; every cell's is in the results file.`
    : "";
}

export function renderServeSection(r: ServeResults): string {
  const m = r.machine;
  const check = (id: string) => {
    const c = r.checks[id];
    if (!c) return null;
    const v = (d: number | string) => (typeof d === "number" ? d.toExponential(1) : `failed (${d})`);
    return `${id} ${v(c.sequenceJson)} (JSON), ${v(c.sequenceBinary)} (raw), ${v(c.stream)} (stream)`;
  };
  const out: string[] = [];
  out.push(
    `Measured ${r.date.slice(0, 16).replace("T", " ")} UTC (commit ${r.commit}, autocannon ${r.autocannon}) on ${m.cpu} (${m.logicalCpus} logical CPUs, ${m.platform} ${m.arch}), Node ${m.node}; ` +
    `load average (1, 5, 15 min) ${r.loadAverage.before.join(", ")} before the first cell and ${r.loadAverage.after.join(", ")} after the last phase. ` +
    `Model: ${r.model.workload} (${r.model.description}${r.model.head ? `, Linear head of ${r.model.head}` : ", no head"}), one file loaded by both servers. ` +
    `Each cell is ${r.settings.cellSeconds} s of autocannon on loopback after ${r.settings.warmupSeconds} s of warm-up per server and scenario; ` +
    `the two servers alternate cell by cell; ` +
    `${(r.settings.repeat ?? 1) > 1 ? `the whole table ran ${r.settings.repeat} times and each cell shows its median run by throughput (every run is in the results file); ` : ""}` +
    `the load generator runs on the same ${m.logicalCpus} CPUs. ` +
    `Latencies are over every 2xx answer; /healthz p99 comes from a separate process sending GET /healthz every ${r.settings.probeIntervalMs} ms during the cell.`,
    "",
    `**Whole sequences** (POST /v1/predict, ${r.model.T} rows of ${r.model.I}; sequences per second):`,
    "",
    ...loadTable(r, [["sequence-json", "JSON"], ["sequence-binary", "raw float32"], ["sequence-json", "JSON, node:http client", "node:http"], ["sequence-binary", "raw float32, node:http client", "node:http"], ["sequence-json", "JSON, wrk", "wrk"], ["sequence-binary", "raw float32, wrk", "wrk"]], "seq/s", "clients"),
    ...(hasFloor(r) ? ["", floorLine(r)] : []),
    ...(r.cells.some((c) => c.client === "node:http" || c.client === "wrk") ? ["", leanNote(r)] : []),
    "",
    `**Streams** (one stream per client, one timestep per request; steps per second). The naive server carries the state in each request and answer (JSON); \`rnn-wasm serve\` keeps it in a session (POST /v1/sessions/:id/step):`,
    "",
    ...loadTable(r, [["stream-json", "JSON"], ["stream-binary", "raw float32"]], "steps/s", "streams"),
    "",
    cpuLine(r),
    "",
    "**Targets** (issue 13):",
    "",
    "| target | goal | measured | met |",
    "|---|---|---|---|",
    ...r.targets.map((t) => `| ${t.name} | ${t.target} | ${t.measured.replace(/\|/g, "\\|")} | ${t.met === null ? "—" : t.met ? "yes" : "**no**"} |`),
  );
  if (r.soak) {
    const s = r.soak, start = s.memory[0], end = s.memory[s.memory.length - 2], rest = s.memory[s.memory.length - 1];
    const wasm = (x: typeof start) => (x.wasm ? mib(Object.values(x.wasm).reduce((a, b) => a + b, 0)) : null);
    const blocks = (x: typeof start) => (x.wasmBlocks ? Object.values(x.wasmBlocks).reduce((a, b) => a + b, 0) : null);
    out.push(
      "",
      `**Soak**: ${s.durationS} s against \`rnn-wasm serve\` with ${s.sequences.connections} clients sending whole sequences (raw float32) and ` +
      `${s.streams.connections} session streams at once: ${num(s.sequences.throughput)} sequences/s (p99 ${num(s.sequences.latencyMs.p99)} ms) and ` +
      `${num(s.streams.throughput)} steps/s; ` +
      `${s.sequences.healthz && s.sequences.healthz.count > 0 ? `/healthz p99 ${num(s.sequences.healthz.p99)} ms${s.sequences.healthz.floor && s.sequences.healthz.floor.count > 0 ? ` (floor ${num(s.sequences.healthz.floor.p99)} ms)` : ""}; ` : ""}` +
      `RSS ${mib(start.rss)} at the start, ${mib(end.rss)} at the end, ${mib(rest.rss)} after 5 s at rest; ` +
      `wasm memory (all worker threads) ${wasm(start) ? `${wasm(start)} -> ${wasm(end)}` : "not reported (its /metrics has no wasm series)"}` +
      `${blocks(start) !== null ? `, blocks the library holds in it ${blocks(start)} -> ${blocks(end)}` : ""}; ` +
      `${s.non2xx} non-2xx, ${s.errors} connection errors or timeouts.`,
    );
  }
  if (r.malformed) {
    const x = r.malformed;
    out.push(
      "",
      `**Malformed requests**: ${x.malformed.toLocaleString("en-US")} malformed requests shuffled into ${x.valid.toLocaleString("en-US")} valid ones, ` +
      `16 at a time, against \`rnn-wasm serve\` (${x.elapsedS} s). A malformed one passes when answered 4xx with a JSON \`{"error": ...}\`, a valid one when answered 2xx. ` +
      `Still serving afterwards: ${x.stillServing ? "yes" : "**no**"}; RSS ${x.memory.map((s) => mib(s.rss).replace(" MiB", "")).join(" -> ")} MiB ` +
      `(before, after each fifth of the requests, and 2 s after the last)` +
      `${sessionsOf(x.memory[0]) !== undefined ? `; sessions held ${sessionsOf(x.memory[0])} before, ${sessionsOf(x.memory[x.memory.length - 1]) ?? "?"} after` : ""}.`,
      "",
      "| request | sent | answers | not as required |",
      "|---|---:|---|---:|",
      ...Object.entries(x.byCase).map(([name, t]) =>
        `| ${name} | ${t.sent} | ${Object.entries(t.statuses).map(([s, n]) => `${s}: ${n}`).join(", ")} | ${t.wrong}${t.example ? ` (e.g. ${t.example.slice(0, 80).replace(/\|/g, "\\|").replace(/\n/g, " ")})` : ""} |`),
    );
  }
  const checks = Object.keys(r.checks).map(check).filter(Boolean);
  out.push(
    "",
    `Before timing, each server's answers were compared with the library run in the bench's process (max abs difference): ${checks.join("; ")}. ` +
    `Servers: naive \`${r.servers.naive?.command ?? "not run"}\`; serve \`${r.servers.serve?.command ?? "not run"}\`` +
    `${r.floor ? `; the /healthz floor \`${r.floor.command}\`` : ""}. ` +
    `Regenerate with \`npm run bench:serve\` (or \`npx tsx bench/serve/run.ts\` after \`npm run build\` and \`npm run bench:install\`); ` +
    `results in \`bench/results/serve.json\`; \`npx tsx bench/serve/render.ts\` re-renders this section from them.`,
  );
  return out.join("\n");
}

/** Rewrites the Serving section of docs/benchmarks.md; returns the page's path, or null when it lacks the markers. */
export function updateServeSection(r: ServeResults, docPath = DOC): string | null {
  if (!existsSync(docPath)) return null;
  const text = readFileSync(docPath, "utf8");
  const start = text.indexOf(START), end = text.indexOf(END);
  if (start < 0 || end < start) return null;
  writeFileSync(docPath, text.slice(0, start + START.length) + "\n" + renderServeSection(r) + "\n" + text.slice(end));
  return docPath;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = JSON.parse(readFileSync(SERVE_RESULTS, "utf8")) as ServeResults;
  const path = updateServeSection(r);
  if (!path) {
    console.error(`docs/benchmarks.md has no ${START} ... ${END} markers`);
    process.exitCode = 1;
  } else console.log(`Updated the serving tables in ${path}`);
}
