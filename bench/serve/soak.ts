// bench/serve/soak.ts: a long run at saturation against one server: whole sequences (raw float32) on most
// connections and session streams on the rest, at once, with /healthz probed throughout; the server's memory is
// sampled every few seconds (RSS from /proc; RSS and any wasm gauge from /metrics) from start to end and after
// a short rest. Bounded by its duration. With a floor server (floor-server.ts) the probe times it too, as in the
// load cells: sequences.healthz.floor.
import { runCell, type CellResult } from "./load.js";
import type { ServedFile } from "./model.js";
import { memorySample, type MemorySample, type RunningServer } from "./servers.js";

export interface SoakOptions {
  durationS: number;
  sequenceConnections: number;
  streamConnections: number;
  sampleEveryS: number;
  probeIntervalMs: number;
  /** The floor server's URL, probed alongside /healthz; absent: no floor. */
  floorUrl?: string;
}

export interface SoakResult {
  durationS: number;
  sequences: CellResult;
  streams: CellResult;
  /** Sampled during the run; the last one after a 5 s rest. */
  memory: MemorySample[];
  /** RSS at the end (before the rest) over RSS at the start. */
  rssGrowth: number | null;
  errors: number;
  non2xx: number;
}

export async function runSoak(server: RunningServer, f: ServedFile, o: SoakOptions): Promise<SoakResult> {
  const t0 = performance.now();
  const memory: MemorySample[] = [await memorySample(server, t0)];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      await new Promise((r) => setTimeout(r, o.sampleEveryS * 1000));
      if (sampling) memory.push(await memorySample(server, t0));
    }
  })();
  const cell = { durationS: o.durationS, tag: `soak-${Date.now()}` };
  const [sequences, streams] = await Promise.all([
    runCell(server, "sequence-binary", o.sequenceConnections, f, { ...cell, probeIntervalMs: o.probeIntervalMs, floorUrl: o.floorUrl }),
    runCell(server, "stream-json", o.streamConnections, f, { ...cell, probeIntervalMs: 0 }),
  ]);
  sampling = false;
  await sampler;
  const end = await memorySample(server, t0);
  memory.push(end);
  await new Promise((r) => setTimeout(r, 5000));
  memory.push(await memorySample(server, t0));
  const start = memory[0].rss;
  return {
    durationS: o.durationS,
    sequences,
    streams,
    memory,
    rssGrowth: start && end.rss ? Number((end.rss / start).toFixed(3)) : null,
    errors: sequences.errors + sequences.timeouts + streams.errors + streams.timeouts,
    non2xx: sequences.non2xx + streams.non2xx,
  };
}
