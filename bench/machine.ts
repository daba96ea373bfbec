// bench/machine.ts: what every summary records about the machine a bench ran on (the numbers mean little
// without it: shared 2-vCPU machines drift with load, and Node 20 needs a flag for relaxed SIMD).
import { readFileSync } from "node:fs";
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
  /** Flags that change what is measured: Node 20's relaxed-SIMD flag as the bench sets it, and the V8 flags the process was started with. */
  flags: string[];
  /**
   * The CPU's VNNI extensions, from /proc/cpuinfo's flags (null where it cannot be read): the int8 dot products of
   * the relaxed SIMD build compile to one VNNI instruction where the CPU has them (issue 14's targets depend on it).
   */
  vnni?: { avxVnni: boolean; avx512Vnni: boolean } | null;
}

/** avx_vnni and avx512_vnni in /proc/cpuinfo's flags, or null where the file cannot be read (not Linux). */
export function cpuVnni(): { avxVnni: boolean; avx512Vnni: boolean } | null {
  let text: string;
  try {
    text = readFileSync("/proc/cpuinfo", "utf8");
  } catch {
    return null;
  }
  const flags = new Set((/^flags\s*:(.*)$/m.exec(text)?.[1] ?? "").trim().split(/\s+/));
  return { avxVnni: flags.has("avx_vnni"), avx512Vnni: flags.has("avx512_vnni") };
}

/**
 * The flags this process was started with, less the loaders (--import/--require and their modules: tsx's): the
 * workload bench's pass without AVX-VNNI starts Node 24 with V8's --no-enable-avx-vnni, and its results say so.
 */
export function startFlags(argv: string[] = process.execArgv): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (/^--(import|require|loader|experimental-loader)$/.test(argv[i]) || /^-r$/.test(argv[i])) i++;
    else if (!/^--(import|require|loader|experimental-loader)=/.test(argv[i])) out.push(argv[i]);
  }
  return out;
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
    flags: [...(NODE_MAJOR < 22 ? ["--experimental-wasm-relaxed-simd (set by the bench for the relaxed case)"] : []), ...startFlags()],
    vnni: cpuVnni(),
  };
}
