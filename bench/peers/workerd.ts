// bench/peers/workerd.ts: our library inside workerd, the Cloudflare Workers runtime (the `workerd` package Miniflare
// runs, as the tests use it), as peers of the workload bench's workerd pass (issue 14's "Node 24 and workerd" target).
// The Worker is bench/workerd/bench-worker.js, loaded unbundled from the repository over the package's workerd entry
// (so it needs the build: `npm run bench` builds first). Each peer sends the workload's model file and input to the
// Worker, which builds the layer (float32, or quantize()d to int8) on one wasm build and answers its first output;
// that output is checked here like every Node row (float32 against our reference, int8 against the TypeScript
// mirror of the same form: quantizedMirror).
// Timing: workerd's clocks do not move while a request computes (a Spectre mitigation), so the Worker times nothing.
// Node times the round trip of a request that runs N forwards (after a warm-up request of the same N) and subtracts
// the median round trip of an empty request, sampled in turn with them: (trip(N) - trip(0)) / N per forward. N is
// chosen so that a request computes for about REQUEST_MS, next to which the empty trip's jitter is small.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Miniflare } from "miniflare";
import { COMPATIBILITY_DATE, MODULE_RULES, ROOT } from "../../test/js-runtimes/helpers.js";
import { quantizedMirror } from "./rnn-wasm.js";
import { MODELS_DIR, installedVersion, sampleStats, type OwnTiming, type Peer, type Runner, type Workload, type WorkloadData } from "./workloads.js";

/** The workloads the workerd pass runs: whole sequences at batch 1 (issue 14 names W-seq and W-gru). */
export const WORKERD_WORKLOADS = ["W-seq", "W-gru"] as const;
/** About how long one timed request computes. */
const REQUEST_MS = 100;
/** Fewest timed requests per peer, whatever the time budget. */
const MIN_SAMPLES = 5;

/** A workerd process running the bench Worker. */
export interface WorkerdHost {
  url: URL;
  /** The workerd package's version (its date names the runtime's release). */
  workerd: string;
  /** The int8 form quantize() picks on each build in workerd (its default, 'auto'). */
  forms: { simd: "q16" | "q8"; relaxed: "q16" | "q8" };
  dispose(): Promise<void>;
}

/** Starts workerd with the bench Worker; throws with what workerd said when it cannot. */
export async function startWorkerd(): Promise<WorkerdHost> {
  for (const file of ["dist/src/index.js", "build/rnn-relaxed.wasm"]) {
    try {
      readFileSync(join(ROOT, file));
    } catch {
      throw new Error(`${file} is missing: the Worker imports the built package (npm run build)`);
    }
  }
  const mf = new Miniflare({
    modules: true,
    modulesRoot: ROOT, // module names are paths from here: the Worker imports ../../workerd/index.js
    scriptPath: join(ROOT, "bench/workerd/bench-worker.js"),
    modulesRules: MODULE_RULES,
    compatibilityDate: COMPATIBILITY_DATE,
  });
  try {
    const url = await mf.ready;
    const res = await fetch(new URL("/forms", url));
    const body = (await res.json()) as { forms: WorkerdHost["forms"]; error?: string };
    if (!res.ok) throw new Error(body.error ?? `GET /forms answered ${res.status}`);
    return { url, workerd: installedVersion("workerd"), forms: body.forms, dispose: () => mf.dispose() };
  } catch (e) {
    await mf.dispose().catch(() => undefined);
    throw e;
  }
}

/** A request's round trip, ms, after its answer is read; throws with the Worker's error. */
async function trip(host: WorkerdHost, path: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(new URL(path, host.url), { method: "POST" });
  const text = await res.text();
  const ms = performance.now() - t0;
  if (!res.ok) throw new Error(`workerd: ${path} answered ${res.status}: ${text.slice(0, 500)}`);
  return ms;
}

const median = (xs: number[]) => sampleStats(xs).medianMs;

/** Times `key`'s forward in workerd (see the header): per-forward ms samples, within about maxTime seconds. */
async function timeInWorkerd(host: WorkerdHost, key: string, maxTime: number): Promise<OwnTiming> {
  const empty = () => trip(host, `/run?key=${key}&n=0`);
  const full = (n: number) => trip(host, `/run?key=${key}&n=${n}`);
  const empties = [await empty(), await empty(), await empty()];
  // N from one forward's trip, then from a warm-up request of that N (V8 has optimised the kernels by its end)
  let n = Math.max(1, Math.round(REQUEST_MS / Math.max(0.05, (await full(1)) - median(empties))));
  n = Math.max(1, Math.round((REQUEST_MS * n) / Math.max(0.05, (await full(n)) - median(empties))));
  const trips: number[] = [];
  const end = performance.now() + maxTime * 1000;
  while (trips.length < MIN_SAMPLES || performance.now() < end) {
    empties.push(await empty());
    trips.push(await full(n));
  }
  const base = median(empties);
  const stats = sampleStats(trips.map((ms) => (ms - base) / n));
  return {
    ...stats,
    timing: `timed from Node: ${stats.samples} requests of ${n} forwards each in workerd, each request's round trip less the median ` +
      `of ${empties.length} empty requests' (${base.toFixed(2)} ms), over ${n} (workerd's clock does not move while a request computes)`,
  };
}

export type WorkerdPeerKind = { dtype: null } | { dtype: "int8"; form: "q16" | "q8"; named: boolean };

/**
 * Our library in workerd on one wasm build: float32, or int8 in `form` (the form quantize() picks there, or `named`:
 * asked for by name because quantize()'s pick in workerd is the other one).
 */
export function workerdPeer(host: WorkerdHost, build: "simd" | "relaxed", kind: WorkerdPeerKind): Peer {
  const what = kind.dtype === null ? "" : `-${kind.dtype}${kind.named ? `-${kind.form}` : ""}`;
  const id = `workerd-rnn-wasm-${build}${what}`;
  const buildName = build === "simd" ? "wasm SIMD" : "wasm relaxed SIMD";
  const label = kind.dtype === null ? `rnn-wasm, ${buildName}, in workerd`
    : `rnn-wasm ${kind.dtype} (${kind.form}${kind.named ? ", named: not quantize()'s pick in workerd" : ""}), ${buildName}, in workerd`;
  return {
    id,
    label,
    group: "ours",
    quantized: kind.dtype === null ? undefined : { dtype: kind.dtype, form: kind.form, floatPeer: `workerd-rnn-wasm-${build}` },
    cannot: (w: Workload) => ((WORKERD_WORKLOADS as readonly string[]).includes(w.id) ? null : "the workerd pass runs W-seq and W-gru only"),
    async setup(data: WorkloadData): Promise<Runner> {
      const w = data.workload;
      const key = `${w.id}.${id}`;
      const model = readFileSync(MODELS_DIR + w.model + ".safetensors");
      const input = new Uint8Array(data.input.buffer, data.input.byteOffset, data.input.byteLength);
      const header = {
        build, shape: [w.T, w.B, w.I], modelBytes: model.length,
        ...(kind.dtype === null ? {} : { dtype: kind.dtype, form: kind.named ? kind.form : "auto" }),
      };
      const res = await fetch(new URL(`/setup?key=${encodeURIComponent(key)}`, host.url), {
        method: "POST", headers: { "x-setup": JSON.stringify(header) }, body: Buffer.concat([model, input]),
      });
      if (!res.ok) throw new Error(`workerd: /setup answered ${res.status}: ${(await res.text()).slice(0, 500)}`);
      const output = new Float32Array(await res.arrayBuffer());
      const ran = { build: res.headers.get("x-build"), form: res.headers.get("x-form") };
      if (ran.build !== build) throw new Error(`workerd ran the ${ran.build} build, not ${build}`);
      if (kind.dtype !== null && ran.form !== kind.form) throw new Error(`quantize() in workerd ran form ${ran.form}, the label says ${kind.form}`);
      const runner: Runner = {
        run: () => {
          throw new Error("a workerd peer times itself (time())");
        },
        check: async () => ({ output }),
        time: (maxTime) => timeInWorkerd(host, encodeURIComponent(key), maxTime),
        dispose: () => void fetch(new URL(`/dispose?key=${encodeURIComponent(key)}`, host.url), { method: "POST" })
          .then((r) => r.body?.cancel(), () => undefined), // freeing memory in a workerd about to stop: nothing to report
      };
      if (kind.dtype !== null) runner.mirror = await quantizedMirror(data, kind.dtype, kind.form);
      return runner;
    },
  };
}

/**
 * The workerd pass's rows of ours: float32 on both builds, int8 in the form quantize() picks on each, and, where that
 * is not the relaxed dot-add (Q8) on the relaxed build, a Q8 row named as well (checked like the others: a wrong Q8
 * fails its check and is not timed).
 */
export function workerdPeers(host: WorkerdHost): Peer[] {
  const peers: Peer[] = [];
  for (const build of ["simd", "relaxed"] as const) {
    peers.push(workerdPeer(host, build, { dtype: null }));
    peers.push(workerdPeer(host, build, { dtype: "int8", form: host.forms[build], named: false }));
  }
  if (host.forms.relaxed !== "q8") peers.push(workerdPeer(host, "relaxed", { dtype: "int8", form: "q8", named: true }));
  return peers;
}
