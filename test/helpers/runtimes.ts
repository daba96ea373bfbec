// test/helpers/runtimes.ts: the wasm builds the numeric tests run on, each loaded as the library loads it.
import v8 from "node:v8";
import { createRuntime, supportsBuild, type Build, type Runtime } from "../../src/index.js";

/** The three wasm builds every numeric property runs on. */
export const TEST_BUILDS: readonly Build[] = ["simd", "relaxed", "scalar"];
export type Runtimes = Record<Build, Runtime>;

/**
 * Lets this engine compile the relaxed build. Node 20's V8 validates relaxed SIMD only behind a flag, which must be
 * set before the module is compiled; Node >= 22 needs none (and Node 24 prints "unrecognized flag" for it).
 */
export async function allowRelaxedSimd(): Promise<void> {
  if (!(await supportsBuild("relaxed"))) v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
}

/** A fresh runtime of one build: its own memory, so its counters see only the blocks of the test that made it. */
export async function runtimeFor(build: Build): Promise<Runtime> {
  if (build === "relaxed") await allowRelaxedSimd();
  return createRuntime(undefined, { build });
}

/** One fresh runtime of each build. */
export async function runtimesFor(): Promise<Runtimes> {
  const loaded = await Promise.all(TEST_BUILDS.map(runtimeFor));
  return Object.fromEntries(TEST_BUILDS.map((build, i) => [build, loaded[i]])) as Runtimes;
}
