// bench/serve/scheduler-floor.ts: what this machine's scheduler alone does to a /healthz probe, with no server
// under test at all. The do-nothing server of floor-server.ts is probed (probe.ts, GET /healthz every 20 ms) three
// times: with the machine idle; with one busy-looping process per CPU at the lowest priority (nice 19), work that
// any other thread should preempt at once; and with the same busy loops at normal priority (nice 0), as a load
// generator on the same machine is. If the p99 with nice-19 loops is already above a latency target, no server can
// meet that target on this machine whenever its CPUs are all busy, whatever it does on its event loop: the wait is
// the kernel's (on our 2-vCPU VMs, the time a woken thread waits for a CPU), not the server's.
//
//   npx tsx bench/serve/scheduler-floor.ts [--seconds 6] [--out bench/results/serve-floor.json]
// Bounded: each phase runs --seconds of probing (1-60), and every busy loop exits on its own after that plus 3 s.
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { availableParallelism, loadavg, setPriority } from "node:os";
import { Command, InvalidArgumentError } from "commander";
import { machineInfo } from "../machine.js";
import { runProbe } from "./load.js";
import { FLOOR, startServer } from "./servers.js";

interface Phase {
  name: string;
  /** Busy-looping processes, one per CPU, at this nice value; null: none. */
  burnersNice: number | null;
}

const PHASES: Phase[] = [
  { name: "idle", burnersNice: null },
  { name: "every CPU busy at nice 19 (lowest priority)", burnersNice: 19 },
  { name: "every CPU busy at nice 0 (a load generator's priority)", burnersNice: 0 },
];

const o = new Command("bench/serve/scheduler-floor.ts")
  .description("/healthz p99 of a do-nothing server: machine idle, every CPU busy at nice 19, at nice 0")
  .option("--seconds <s>", "seconds of probing per phase (1-60)", (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 60) throw new InvalidArgumentError("--seconds must be a whole number from 1 to 60");
    return n;
  }, 6)
  .option("--out <file>", "also write the results as JSON here")
  .parse()
  .opts<{ seconds: number; out?: string }>();

/** One busy loop per CPU, each exiting by itself after `ms` (so none outlives this script even if it is killed). */
function burners(nice: number, ms: number): ChildProcess[] {
  return Array.from({ length: availableParallelism() }, () => {
    const child = spawn(process.execPath, ["-e", `const end = Date.now() + ${ms}; while (Date.now() < end);`], { stdio: "ignore" });
    if (nice !== 0) setPriority(child.pid!, nice);
    return child;
  });
}

const loadBefore = loadavg()[0];
const floor = await startServer(FLOOR, "");
const results: { phase: string; burners: number; nice: number | null; p50: number; p99: number; max: number; probes: number }[] = [];
try {
  for (const phase of PHASES) {
    const busy = phase.burnersNice === null ? [] : burners(phase.burnersNice, (o.seconds + 3) * 1000);
    await new Promise((r) => setTimeout(r, 300)); // the loops running before the first probe
    const h = await runProbe(floor.url, o.seconds * 1000 + 1000, 20); // probes for o.seconds after 0.5 s
    for (const b of busy) b.kill("SIGKILL");
    if (!h) throw new Error("the probe returned nothing");
    results.push({ phase: phase.name, burners: busy.length, nice: phase.burnersNice, p50: h.p50, p99: h.p99, max: h.max, probes: h.count });
    console.log(`${phase.name}: /healthz p50 ${h.p50} ms, p99 ${h.p99} ms, max ${h.max} ms (${h.count} probes)`);
  }
} finally {
  await floor.stop();
}
const machine = machineInfo(loadBefore);
console.log(`\n| the machine | do-nothing server's /healthz p50 / p99 / max, ms |\n|---|---:|`);
for (const r of results) console.log(`| ${r.phase} | ${r.p50} / ${r.p99} / ${r.max} |`);
console.log(`\n${machine.cpu} (${machine.logicalCpus} logical CPUs), Node ${process.version}, ${new Date().toISOString().slice(0, 16)} UTC, 1-minute load average ${machine.loadAverage1m.join(" before, ")} after; ${o.seconds} s of probes every 20 ms per phase.`);
if (o.out) writeFileSync(o.out, JSON.stringify({ suite: "serve-floor", date: new Date().toISOString(), machine, seconds: o.seconds, results }, null, 2) + "\n");
