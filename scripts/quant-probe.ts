// scripts/quant-probe.ts: how fast the quantized recurrent product (assembly/quant.ts) runs against the float32 gemm
// it replaces, at batch 1, on the engine running it. A probe, not a benchmark: one process, every variant timed
// round by round in turn (so load drifting over the run moves all of them alike): median time per product, and the
// median over rounds of each round's float32 time / the variant's time.
//   npx tsx scripts/quant-probe.ts [rounds]                                     (the machine's Node)
//   $(node scripts/node24.mjs) node_modules/tsx/dist/cli.mjs scripts/quant-probe.ts   (Node 24)
// Shapes: W_hh of an LSTM with H = 256 (1024 x 256: W-seq and W-stream) and of a GRU (768 x 256: W-gru); the
// quantized times include quantizing h_{t-1} (quantizeQ16 / quantizeQ8), as a step must. A whole float32 step of the
// cell (lstmForward / gruForward with T = 1, as streaming calls it) is timed too, and a quantized step estimated as
// that step with the product's time replaced by the quantized one's (what the quantized step kernels will do). Each variant's result is
// checked against the float one first (relative error printed), and the relaxed build's gemmQ8 against the
// portable one: on V8 11.3 (Node 20) the relaxed dot-add is computed wrongly until the function tiers up, so there
// the relaxed Q8 row is refused after that check shows it.
import v8 from "node:v8";
import os from "node:os";
import { createRuntime, supportsBuild, type Build, type Runtime } from "../src/runtime.js";
import { pack, packedSize, panelStride, roundUp4 } from "../src/layout.js";
import { packQuantized, quantMatrixLayout, quantRowStride, type QuantForm } from "../src/quant-layout.js";
import { quantizeRows, QMAX_INT12, QMAX_INT8 } from "../src/reference/quant.js";
import { mulberry32 } from "../src/random.js";

const ROUNDS = Number(process.argv[2] ?? 61);
const SHAPES = [
  { name: "LSTM W_hh 1024x256 (W-seq, W-stream), batch 1", kind: "lstm", N: 1024, K: 256, M: 1 },
  { name: "GRU W_hh 768x256 (W-gru), batch 1", kind: "gru", N: 768, K: 256, M: 1 },
  { name: "LSTM W_hh 1024x256, batch 64 (W-batch's step)", kind: "lstm", N: 1024, K: 256, M: 64 },
];
const relaxedDotSound = Number(process.versions.v8.split(".")[0]) >= 12;

interface Variant {
  name: string;
  step?: boolean; // a whole float32 step (lstmForward / gruForward, T = 1), for the estimate of a quantized step
  run: () => void;
  out: () => Float32Array;
}

function setup(rt: Runtime, kind: string, N: number, K: number, M: number) {
  const next = mulberry32(7);
  const W = Float32Array.from({ length: N * K }, () => (2 * next() - 1) / Math.sqrt(K)); // PyTorch's init scale
  const h = Float32Array.from({ length: M * K }, () => Math.tanh(2 * (2 * next() - 1))); // hidden states in (-1, 1)
  const bias = Float32Array.from({ length: N }, () => (2 * next() - 1) / Math.sqrt(K));
  const k = rt.kernels;
  const put = (a: Float32Array) => {
    const p = rt.alloc(a.byteLength);
    rt.f32(p, a.length).set(a);
    return p;
  };
  const hp = put(h), bp = put(bias);
  const packedW = new Float32Array(packedSize(K, N));
  pack(packedW, W, 1, N, K);
  const wp = put(packedW);
  const outF = rt.alloc(M * N * 4);
  const variants: Variant[] = [{
    name: "float32 gemm",
    run: () => k.gemm(outF, N, hp, K, wp, panelStride(K), bp, M, K, N, 0),
    out: () => rt.f32(outF, M * N).slice(),
  }];
  const quantized = (label: string, form: QuantForm, qmax: number) => {
    const wq = form === "q16" ? new Int16Array(N * K) : new Int8Array(N * K);
    const sw = new Float32Array(N);
    quantizeRows(wq, K, sw, W, K, N, K, qmax);
    const L = quantMatrixLayout(form, 1, N, K);
    const block = rt.alloc(L.totalBytes);
    packQuantized(new Uint8Array(k.memory.buffer, block, L.totalBytes), wq, sw, form, 1, N, K);
    const lda = quantRowStride(form, K);
    const aq = rt.alloc(M * lda * 2), sa = rt.alloc(M * 4), out = rt.alloc(M * N * 4);
    variants.push({
      name: label,
      run: form === "q16"
        ? () => {
          k.quantizeQ16(aq, lda, sa, hp, K, M, K, qmax);
          k.gemmQ16(out, N, aq, lda, sa, block + L.weights, L.panelStride, block + L.scales, bp, M, K, N, 0);
        }
        : () => {
          k.quantizeQ8(aq, lda, sa, hp, K, M, K);
          k.gemmQ8(out, N, aq, lda, sa, block + L.weights, L.panelStride, block + L.scales, block + L.corr, bp, M, K, N, 0);
        },
      out: () => rt.f32(out, M * N).slice(),
    });
  };
  // one whole float32 step of the cell whose W_hh this is (H = K), from a given input projection: streaming's call
  const H = K, G = N / H, Hp = roundUp4(H);
  const hs = put(new Float32Array(2 * M * Hp)), cs = put(new Float32Array(2 * M * Hp));
  const gates = rt.alloc(M * 5 * Hp * 4), xz = put(Float32Array.from({ length: M * G * Hp }, () => 2 * next() - 1));
  const wh = put((() => { const d = new Float32Array(packedSize(H, G * Hp)); pack(d, W, G, H, H); return d; })());
  variants.push({
    name: `float32 ${kind === "lstm" ? "lstmForward" : "gruForward"} step (T = 1)`,
    step: true,
    run: kind === "lstm"
      ? () => k.lstmForward(hs, cs, gates, xz, wh, bp, 0, 1, M, H, H, 0, 0, 0)
      : () => k.gruForward(hs, gates, xz, wh, bp, 1, M, H, 1, 0, 0, 0),
    out: () => rt.f32(hs + M * Hp * 4, M * Hp).slice(),
  });
  quantized("int8  (Q16: int8 in int16, dot_i16x8)", "q16", QMAX_INT8);
  quantized("int12 (Q16: 12-bit in int16, dot_i16x8)", "q16", QMAX_INT12);
  quantized(rt.build === "relaxed" ? "int8 x 7-bit (Q8: relaxed dot-add)" : "int8 x 7-bit (Q8: portable, widening)", "q8", QMAX_INT8);
  return variants;
}

function relErr(got: Float32Array, want: Float32Array): number {
  let num = 0, den = 0;
  for (let i = 0; i < want.length; i++) {
    num += (got[i] - want[i]) ** 2;
    den += want[i] ** 2;
  }
  return Math.sqrt(num / den);
}

/** Calls per timed sample so that one sample takes about 2 ms. */
function calibrate(v: Variant): number {
  let reps = 16;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) v.run();
    if (performance.now() - t0 > 2) return reps;
    reps *= 2;
  }
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];

/**
 * Loading a weight matrix: packWeights (float32, the layers' loader) against packQ16 / packQ8 (quantize and pack),
 * median of `rounds` calls each, the first call (cold code) shown apart.
 */
async function loadTimes(build: Build, N: number, K: number, rounds: number) {
  const rt = await createRuntime(undefined, { build });
  const k = rt.kernels;
  const next = mulberry32(11);
  const W = Float32Array.from({ length: N * K }, () => (2 * next() - 1) / Math.sqrt(K));
  const src = rt.alloc(W.byteLength);
  rt.f32(src, W.length).set(W);
  const dst = rt.alloc(packedSize(K, N) * 4);
  const q16 = quantMatrixLayout("q16", 1, N, K), q8 = quantMatrixLayout("q8", 1, N, K);
  const b16 = rt.alloc(q16.totalBytes), b8 = rt.alloc(q8.totalBytes);
  const loads: [string, () => void][] = [
    ["packWeights (float32)", () => k.packWeights(dst, src, 1, N, K)],
    ["packQ16 (quantize + pack)", () => k.packQ16(b16 + q16.weights, b16 + q16.scales, src, 1, N, K, QMAX_INT8)],
    ["packQ8 (quantize + pack)", () => k.packQ8(b8 + q8.weights, b8 + q8.scales, b8 + q8.corr, src, 1, N, K)],
  ];
  console.log(`\n${build} build, loading a ${N}x${K} matrix (first call, then median of ${rounds})`);
  for (const [name, run] of loads) {
    const t0 = performance.now();
    run();
    const first = performance.now() - t0;
    const times: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const t1 = performance.now();
      run();
      times.push(performance.now() - t1);
    }
    console.log(`  ${name.padEnd(44)} ${(1000 * first).toFixed(0).padStart(6)} µs first, ${(1000 * median(times)).toFixed(0).padStart(6)} µs`);
  }
}

async function main() {
  if (!(await supportsBuild("relaxed"))) v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  console.log(`Node ${process.version} (V8 ${process.versions.v8}), ${cpu}, ${ROUNDS} rounds; time per product incl. quantizing h`);
  for (const build of ["simd", "relaxed"] as Build[]) {
    for (const shape of SHAPES) {
      const rt = await createRuntime(undefined, { build });
      const variants = setup(rt, shape.kind, shape.N, shape.K, shape.M);
      const ref = (variants[0].run(), variants[0].out());
      // the relaxed Q8 product's first call (the baseline tier) against the float result: wrong on V8 11.3
      const q8 = variants[4];
      q8.run();
      const firstCallErr = relErr(q8.out(), ref);
      const usable = variants.filter((v) => v !== q8 || build !== "relaxed" || relaxedDotSound);
      const reps = usable.map(calibrate);
      const times: number[][] = usable.map(() => []);
      for (let r = 0; r < ROUNDS; r++) {
        usable.forEach((v, i) => {
          const t0 = performance.now();
          for (let j = 0; j < reps[i]; j++) v.run();
          times[i].push(((performance.now() - t0) * 1000) / reps[i]);
        });
      }
      console.log(`\n${build} build, ${shape.name}`);
      const stepAt = usable.findIndex((v) => v.step);
      usable.forEach((v, i) => {
        if (v.step) {
          console.log(`  ${v.name.padEnd(44)} ${median(times[i]).toFixed(2).padStart(7)} µs`);
          return;
        }
        // the ratio of each round (float32 and this variant timed one after the other), then the median: a paired
        // comparison, steadier than a ratio of two medians when the machine's load moves
        const ratio = median(times[i].map((t, r) => times[0][r] / t));
        const err = i === 0 ? "" : `  rel. error vs float32 ${relErr(v.out(), ref).toExponential(2)}`;
        // a whole step with this product in place of the float32 one, estimated as step - gemm + this, round by round
        const step = i === 0 ? "" : `; a step ~${median(times[i].map((t, r) => times[stepAt][r] / (times[stepAt][r] - times[0][r] + t))).toFixed(2)}x`;
        console.log(`  ${v.name.padEnd(44)} ${median(times[i]).toFixed(2).padStart(7)} µs  ${ratio.toFixed(2)}x${step}${err}`);
      });
      if (build === "relaxed" && !relaxedDotSound) {
        console.log(`  ${q8.name.padEnd(44)} not run: V8 ${process.versions.v8} (first call's rel. error vs float32 ${firstCallErr.toExponential(2)})`);
      }
    }
  }
  await loadTimes("simd", 1024, 256, ROUNDS);
}

main();
