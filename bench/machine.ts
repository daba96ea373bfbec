// bench/machine.ts: what every summary records about the machine a bench ran on (the numbers mean little
// without it: shared 2-vCPU machines drift with load, and Node 20 needs a flag for relaxed SIMD).
import { cpus, loadavg } from "node:os";

export const NODE_MAJOR = Number(process.versions.node.split(".")[0]);

export interface MachineInfo {
  node: string;
  v8: string;
  cpu: string;
  logicalCpus: number;
  platform: string;
  arch: string;
  /** 1-minute load average before and after the run. */
  loadAverage1m: [number, number];
  flags: string[];
}

export function loadNow(): number {
  return loadavg()[0];
}

export function machineInfo(loadBefore: number): MachineInfo {
  return {
    node: process.version,
    v8: process.versions.v8,
    cpu: cpus()[0]?.model?.trim() ?? "unknown",
    logicalCpus: cpus().length,
    platform: process.platform,
    arch: process.arch,
    loadAverage1m: [Number(loadBefore.toFixed(2)), Number(loadNow().toFixed(2))],
    flags: NODE_MAJOR < 22 ? ["--experimental-wasm-relaxed-simd (set by the bench for the relaxed case)"] : [],
  };
}
