// scripts/page-faults.mjs: this process's minor page faults so far, for the scripts that say how much of a time is
// first touches of fresh memory (cold-forwards.mjs, measure-preallocated.mjs): on our Firecracker VMs each costs
// about 11 us. Linux only (/proc/self/stat, minflt is field 10); NaN elsewhere.
import { readFileSync } from "node:fs";

export function minorFaults() {
  try {
    return Number(readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ")[7]);
  } catch {
    return NaN;
  }
}
