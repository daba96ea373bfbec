// bench/serve/targets.ts: issue 13's targets, judged from one run's results (ratios against the naive server of
// the same run). "Flat" memory is read as RSS at the end of the soak within 10% of its start.
import type { CellResult, LoadClient } from "./load.js";
import type { ServeResults } from "./run.js";

export interface Target {
  name: string;
  target: string;
  measured: string;
  /** null when the run did not measure it. */
  met: boolean | null;
}

export const RSS_FLAT = 1.1;

const fmt = (v: number, digits = 2) => v.toFixed(digits);

export function findCell(cells: CellResult[], server: string, scenario: string, connections: number, client: LoadClient = "autocannon"): CellResult | undefined {
  return cells.find((c) => c.server === server && c.scenario === scenario && c.connections === connections && (c.client ?? "autocannon") === client);
}

/**
 * The /healthz target's floor (floor-server.ts, probed by the same process in the same cells): its p99 in the
 * server's worst cell, its worst over the same cells, and the largest server-minus-floor p99
 * (CellResult.healthzOverFloorMs). `cells` are [label, cell]; empty when none had a floor, as in results from
 * before it existed. The target's verdict does not use it.
 */
function floorNote(worst: CellResult, cells: [string, CellResult][]): string {
  const floored = cells.filter(([, c]) => c.healthz?.floor && c.healthz.floor.count > 0);
  if (floored.length === 0) return "";
  const floorP99 = (c: CellResult) => c.healthz!.floor!.p99;
  const [worstAt, worstFloor] = floored.reduce((w, x) => (floorP99(x[1]) > floorP99(w[1]) ? x : w));
  const over = floored.filter(([, c]) => c.healthzOverFloorMs !== undefined);
  const most = over.length ? over.reduce((w, x) => (x[1].healthzOverFloorMs! > w[1].healthzOverFloorMs! ? x : w)) : null;
  const lost = floored.reduce((n, [, c]) => n + c.healthz!.floor!.timeouts + c.healthz!.floor!.errors + c.healthz!.floor!.non200, 0);
  return "a do-nothing node:http server probed at the same time: " +
    (worst.healthz?.floor && worst.healthz.floor.count > 0 ? `${floorP99(worst)} ms in that cell, ` : "") +
    `worst ${floorP99(worstFloor)} ms (${worstAt}) over the same cells` +
    (most ? `; the server's p99 minus the floor's at most ${fmt(most[1].healthzOverFloorMs!)} ms (${most[0]})` : "") +
    (lost ? `; ${lost} floor probes not answered 200` : "") + "; ";
}

export function computeTargets(r: Pick<ServeResults, "cells" | "soak" | "malformed"> & { runs?: CellResult[] }): Target[] {
  const out: Target[] = [];
  const pair = (scenario: string, n: number) => [findCell(r.cells, "naive", scenario, n), findCell(r.cells, "serve", scenario, n)] as const;

  const [nb, sb] = pair("sequence-binary", 16);
  out.push({
    name: "whole sequences, 16 clients, raw float32",
    target: ">= 1.8x the naive throughput, p99 no worse",
    measured: nb && sb ? `${fmt(sb.throughput / nb.throughput)}x (${sb.throughput} / ${nb.throughput} sequences/s), p99 ${sb.latencyMs.p99} ms vs ${nb.latencyMs.p99} ms` : "not measured",
    met: nb && sb ? sb.throughput >= 1.8 * nb.throughput && sb.latencyMs.p99 <= nb.latencyMs.p99 : null,
  });

  // the same cell with cheaper clients: autocannon's UTF-8 decode of each binary answer (lean-client.ts) takes CPU
  // the server would otherwise have, so these say what the server does when the client costs little
  const sameCell = (client: LoadClient, name: string, clientNote: (s: CellResult) => string) => {
    const n = findCell(r.cells, "naive", "sequence-binary", 16, client), s = findCell(r.cells, "serve", "sequence-binary", 16, client);
    if (!n || !s) return;
    out.push({
      name, target: ">= 1.8x the naive throughput, p99 no worse",
      measured: `${fmt(s.throughput / n.throughput)}x (${s.throughput} / ${n.throughput} sequences/s), p99 ${s.latencyMs.p99} ms vs ${n.latencyMs.p99} ms; ${clientNote(s)}`,
      met: s.throughput >= 1.8 * n.throughput && s.latencyMs.p99 <= n.latencyMs.p99,
    });
  };
  sameCell("node:http", "the same, load from the lean node:http client (answers read as bytes, not decoded)",
    (s) => `client CPU ${s.cpu.loadGenerator} cores (autocannon in the cell above: ${sb?.cpu.loadGenerator ?? "?"})`);
  sameCell("wrk", "the same, load from wrk (an event loop in C, one thread)", (s) => `client CPU ${s.cpu.loadGenerator} cores`);

  const [ns, ss] = pair("stream-json", 64);
  const ssb = findCell(r.cells, "serve", "stream-binary", 64);
  out.push({
    name: "64 stepping sessions (JSON bodies; the naive server carries the state in them)",
    target: ">= 1.5x the naive steps/s",
    measured: ns && ss
      ? `${fmt(ss.throughput / ns.throughput)}x (${ss.throughput} / ${ns.throughput} steps/s)` + (ssb ? `; raw float32 steps: ${fmt(ssb.throughput / ns.throughput)}x (${ssb.throughput} steps/s)` : "")
      : "not measured",
    met: ns && ss ? ss.throughput >= 1.5 * ns.throughput : null,
  });

  const saturated = r.cells.filter((c) => c.server === "serve" && c.connections >= 16 && c.healthz);
  const worst = saturated.filter((c) => c.healthz!.count > 0).reduce<CellResult | null>((w, c) => (!w || c.healthz!.p99 > w.healthz!.p99 ? c : w), null);
  const soakHealth = r.soak?.sequences.healthz;
  const healthP99 = Math.max(worst?.healthz!.p99 ?? 0, soakHealth?.p99 ?? 0);
  const probes = [...saturated.map((c) => c.healthz!), ...(soakHealth ? [soakHealth] : [])];
  const unanswered = probes.reduce((n, h) => n + h.timeouts + h.errors + h.non200, 0);
  out.push({
    name: "GET /healthz p99 while rnn-wasm serve is saturated (every cell of 16 and 64 clients, and the soak)",
    target: "< 5 ms",
    measured: worst
      ? `worst ${fmt(healthP99)} ms (${worst.scenario} at ${worst.connections}: ${worst.healthz!.p99} ms${soakHealth ? `; soak ${soakHealth.p99} ms` : ""}); ` +
        floorNote(worst, [...saturated.map((c): [string, CellResult] => [`${c.scenario} at ${c.connections}${c.client && c.client !== "autocannon" ? `, ${c.client} client` : ""}`, c]),
          ...(r.soak ? [["the soak", r.soak.sequences] as [string, CellResult]] : [])]) +
        `${probes.reduce((n, h) => n + h.count, 0)} probes, ${unanswered} not answered 200`
      : "not measured",
    met: worst ? healthP99 < 5 && unanswered === 0 : null,
  });

  const serveCells = (r.runs ?? r.cells).filter((c) => c.server === "serve"); // every run, not only the medians
  const non2xx = serveCells.reduce((n, c) => n + c.non2xx, 0) + (r.soak?.non2xx ?? 0);
  const errors = serveCells.reduce((n, c) => n + c.errors + c.timeouts, 0) + (r.soak?.errors ?? 0);
  const answered = serveCells.reduce((n, c) => n + c.ok + c.non2xx, 0) + (r.soak ? r.soak.sequences.ok + r.soak.streams.ok + r.soak.non2xx : 0);
  out.push({
    name: "valid load answered 2xx (rnn-wasm serve: every run of every cell, and the soak)",
    target: "zero non-2xx",
    measured: serveCells.length ? `${non2xx} non-2xx and ${errors} connection errors or timeouts in ${answered} answers` : "not measured",
    met: serveCells.length ? non2xx === 0 && errors === 0 : null,
  });

  const soak = r.soak;
  if (soak) {
    const start = soak.memory[0], end = soak.memory[soak.memory.length - 2];
    const mib = (b: number | null | undefined) => (b == null ? "?" : `${fmt(b / 2 ** 20, 1)} MiB`);
    const wasm = (m: typeof start) => (m.wasm ? Object.values(m.wasm).reduce((a, b) => a + b, 0) : null);
    out.push({
      name: `${soak.durationS} s soak at saturation`,
      target: `memory flat (RSS end/start < ${RSS_FLAT}), no error`,
      measured: `RSS ${mib(start.rss)} -> ${mib(end.rss)} (x${soak.rssGrowth}); wasm ${start.wasm ? `${mib(wasm(start))} -> ${mib(wasm(end))}` : "not exposed by /metrics"}; ${soak.non2xx} non-2xx, ${soak.errors} errors`,
      met: soak.rssGrowth !== null && soak.rssGrowth < RSS_FLAT && soak.non2xx === 0 && soak.errors === 0,
    });
  } else out.push({ name: "soak at saturation", target: "memory flat, no error", measured: "not measured", met: null });

  const m = r.malformed;
  if (m) {
    const first = m.memory[0].rss, last = m.memory[m.memory.length - 1].rss;
    out.push({
      name: `${m.malformed} malformed requests mixed into ${m.valid} valid ones`,
      target: "every malformed one 4xx with a JSON error, every valid one 2xx, still serving, memory flat",
      measured: `${m.wrong} answered otherwise; malformed ${JSON.stringify(m.malformedStatuses)}, valid ${JSON.stringify(m.validStatuses)}; ` +
        `still serving: ${m.stillServing ? "yes" : "no"}; RSS ${first && last ? `${fmt(first / 2 ** 20, 1)} -> ${fmt(last / 2 ** 20, 1)} MiB` : "?"}`,
      met: m.wrong === 0 && m.stillServing && m.finishedInTime && (first && last ? last / first < RSS_FLAT : true),
    });
  } else out.push({ name: "malformed requests mixed into valid load", target: "every one 4xx with a JSON error", measured: "not measured", met: null });
  return out;
}
