// scripts/undisposed-layers.ts: what a program that forgets dispose() costs. Creates N LSTM layers on a fresh
// runtime, runs each once, drops each without dispose(), lets the garbage collector run, and prints the runtime's
// wasm memory and the bytes still held. With the FinalizationRegistry freeing collected layers' blocks, the memory
// stays at what a few live layers need; without it, it grows with N.
//   npx tsx --expose-gc scripts/undisposed-layers.ts [N=20000]
import { createRuntime, LSTM, tensor } from "../src/index.js";

const N = Number(process.argv[2] ?? 20000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc (npx tsx --expose-gc scripts/undisposed-layers.ts)");
const rt = await createRuntime(undefined, { build: "simd" });
const x = tensor([6, 2, 8], new Float32Array(96).fill(0.5));
const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
const settle = async () => {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 0));
  }
};
for (let i = 0; i < N; i++) {
  new LSTM({ inputSize: 8, hiddenSize: 16, seed: i, runtime: rt }).forward(x);
  if ((i + 1) % 1000 === 0) await settle();
}
await settle();
console.log(`${N} LSTM(8, 16) layers dropped without dispose(): wasm memory ${mib(rt.memoryBytes)}, ` +
  `${mib(rt.bytesInUse)} in ${rt.blocksInUse} blocks still held`);
