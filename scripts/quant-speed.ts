// scripts/quant-speed.ts: a quick check of the quantized layers' speed against our float32 layers on the issue's
// workloads (cli/src/workloads.ts: W-seq, W-gru, W-stream, W-batch), in one process: each round runs the float32
// layer and every quantized variant once, one after the other, and the ratio is the median over rounds of each
// round's float32 time / the variant's time (paired, steadier on a loaded machine than two medians). Not a benchmark
// (bench/ will get the int8 rows): a check that the layers deliver what the product's probe (quant-probe.ts) promised.
//   npx tsx scripts/quant-speed.ts [rounds]                                                   (the machine's Node)
//   $(node scripts/node24.mjs) node_modules/tsx/dist/cli.mjs scripts/quant-speed.ts [rounds]  (Node 24)
import v8 from "node:v8";
import os from "node:os";
import { GRU, LSTM, createRuntime, quantize, supportsBuild, tensor, type Build, type Runtime } from "../src/index.js";
import { mulberry32 } from "../src/random.js";
import type { QuantizeOptions } from "../src/quantized.js";

const ROUNDS = Number(process.argv[2] ?? 31);
const relaxedDotSound = Number(process.versions.v8.split(".")[0]) >= 12;

interface Workload {
  id: string;
  kind: "lstm" | "gru";
  I: number;
  H: number;
  B: number;
  T: number;
  stream: boolean;
}
const WORKLOADS: Workload[] = [
  { id: "W-seq", kind: "lstm", I: 64, H: 256, B: 1, T: 128, stream: false },
  { id: "W-gru", kind: "gru", I: 64, H: 256, B: 1, T: 128, stream: false },
  { id: "W-stream", kind: "lstm", I: 64, H: 256, B: 1, T: 128, stream: true },
  { id: "W-batch", kind: "lstm", I: 128, H: 256, B: 64, T: 64, stream: false },
];

type Runner = { stream(x: ReturnType<typeof tensor>): unknown; forward(x: ReturnType<typeof tensor>): unknown };

/** One timed call of the workload: a whole sequence, or (W-stream) T one-step stream calls. */
function call(m: Runner, w: Workload, x: ReturnType<typeof tensor>, steps: ReturnType<typeof tensor>[]): number {
  const t0 = performance.now();
  if (w.stream) for (const s of steps) m.stream(s);
  else m.forward(x);
  return performance.now() - t0;
}

const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];

async function runtimeOf(build: Build): Promise<Runtime> {
  if (build === "relaxed" && !(await supportsBuild("relaxed"))) v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
  return createRuntime(undefined, { build });
}

const cpu = os.cpus()[0]?.model ?? "unknown CPU";
console.log(`Node ${process.versions.node} (V8 ${process.versions.v8}), ${cpu}, ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(1)}; ${ROUNDS} rounds`);
console.log("| workload | build | variant | float32 | quantized | ratio (median of rounds) |");
console.log("|---|---|---|---|---|---|");
for (const build of ["simd", "relaxed"] as Build[]) {
  const rt = await runtimeOf(build);
  for (const w of WORKLOADS) {
    const next = mulberry32(1);
    const x = tensor([w.T, w.B, w.I], Float32Array.from({ length: w.T * w.B * w.I }, () => 2 * next() - 1));
    const steps = Array.from({ length: w.T }, (_, t) => tensor([1, w.B, w.I], x.data.slice(t * w.B * w.I, (t + 1) * w.B * w.I)));
    const f = w.kind === "lstm" ? new LSTM({ inputSize: w.I, hiddenSize: w.H, seed: 1, runtime: rt })
      : new GRU({ inputSize: w.I, hiddenSize: w.H, seed: 1, runtime: rt });
    const variants: [string, QuantizeOptions][] = [["int8 auto", { dtype: "int8" }], ["int8 q16", { dtype: "int8", form: "q16" }]];
    if (build === "relaxed" && relaxedDotSound) variants.push(["int8 q8", { dtype: "int8", form: "q8" }]);
    variants.push(["int12", { dtype: "int12" }]);
    const qs = variants.map(([name, o]) => ({ name, q: quantize(f, { ...o, runtime: rt }) }));
    for (let i = 0; i < 3; i++) { call(f, w, x, steps); for (const { q } of qs) call(q, w, x, steps); } // warm-up, tier-up
    const floatTimes: number[] = [];
    const times = qs.map(() => [] as number[]);
    const ratios = qs.map(() => [] as number[]);
    for (let r = 0; r < ROUNDS; r++) {
      const tf = call(f, w, x, steps);
      floatTimes.push(tf);
      qs.forEach(({ q }, i) => {
        const tq = call(q, w, x, steps);
        times[i].push(tq);
        ratios[i].push(tf / tq);
      });
    }
    const unit = w.stream ? "µs/step" : "ms";
    const show = (ms: number) => (w.stream ? `${((ms * 1000) / w.T).toFixed(1)} ${unit}` : `${ms.toFixed(2)} ${unit}`);
    qs.forEach(({ name, q }, i) => {
      console.log(`| ${w.id} | ${build} | ${name} (${q.form}) | ${show(median(floatTimes))} | ${show(median(times[i]))} | ${median(ratios[i]).toFixed(2)}x |`);
      q.dispose();
    });
    f.dispose();
  }
}
