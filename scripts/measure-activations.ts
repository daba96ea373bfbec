// scripts/measure-activations.ts: the maximum absolute error of the kernels' sigmoid and tanh (assembly/math.ts,
// exported as sigmoidForward / tanhForward) against Math in float64, over every float32 bit pattern.
//
//   npx tsx scripts/measure-activations.ts                 all 2^32 patterns, every build this Node can load
//   npx tsx scripts/measure-activations.ts --stride 4099   every 4099th pattern (a quick look)
//   npx tsx scripts/measure-activations.ts --builds simd,scalar
//
// NaN patterns (exponent all ones, mantissa non-zero) are not measured; the script only counts NaN inputs whose
// output is not NaN. ±Inf are measured (sigmoid(-Inf) = 0, sigmoid(+Inf) = 1, tanh(±Inf) = ±1). Patterns go
// through wasm memory in chunks of 2^20, the SIMD builds see them in their v128 loop (chunks are a multiple of 4).
// The reference is the f64 value of the formula (1 / (1 + exp(-x)), Math.tanh) at the same f32 input; the
// output f32 is widened to f64 and subtracted, so the error includes the final rounding to f32.
// Relaxed SIMD needs a V8 flag on Node 20: the script sets it with v8.setFlagsFromString before compiling.
// Prints, per build and function, the max abs error, its argmax input (value and bit pattern), and whether the
// builds agree bit for bit.
import v8 from "node:v8";
import { createRuntime, type Build, type Runtime } from "../src/runtime.js";

const CHUNK = 1 << 20;
const TOTAL = 2 ** 32;

interface Args {
  stride: number;
  builds: Build[];
}

function parseArgs(argv: string[]): Args {
  const args: Args = { stride: 1, builds: ["simd", "relaxed", "scalar"] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--stride") args.stride = Math.max(1, Number(argv[++i]) | 0);
    else if (argv[i] === "--builds") args.builds = argv[++i].split(",") as Build[];
    else throw new Error(`unknown argument ${argv[i]} (use --stride N, --builds simd,relaxed,scalar)`);
  }
  return args;
}

interface Worst {
  err: number;   // max |kernel - reference|
  x: number;     // the input that gave it
  bits: number;  // its bit pattern
  got: number;   // kernel output there
  want: number;  // reference there
}

interface PerBuild {
  build: Build;
  rt: Runtime;
  inPtr: number;
  outPtr: number;
  sigmoid: Worst;
  tanh: Worst;
  nanBroken: number;     // NaN inputs whose output was not NaN
  nonFinite: number;     // non-NaN inputs whose output was NaN or ±Inf
  outOfRange: number;    // sigmoid outside [0, 1] or tanh outside [-1, 1]
  diffFromFirst: { sigmoid: number; tanh: number }; // outputs whose bits differ from the first build's
}

const hex = (bits: number) => "0x" + (bits >>> 0).toString(16).padStart(8, "0");
const fresh = (): Worst => ({ err: 0, x: NaN, bits: 0, got: NaN, want: NaN });

async function load(builds: Build[]): Promise<PerBuild[]> {
  if (builds.includes("relaxed")) v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
  const out: PerBuild[] = [];
  for (const build of builds) {
    let rt: Runtime;
    try {
      rt = await createRuntime(undefined, { build });
    } catch (e) {
      console.log(`${build}: not measured (${(e as Error).message})`);
      continue;
    }
    out.push({
      build, rt, inPtr: rt.alloc(CHUNK * 4), outPtr: rt.alloc(CHUNK * 4),
      sigmoid: fresh(), tanh: fresh(), nanBroken: 0, nonFinite: 0, outOfRange: 0,
      diffFromFirst: { sigmoid: 0, tanh: 0 },
    });
  }
  return out;
}

function main(args: Args, runs: PerBuild[]): void {
  const xBits = new Uint32Array(CHUNK);
  const x = new Float32Array(xBits.buffer);
  const refSig = new Float64Array(CHUNK);
  const refTanh = new Float64Array(CHUNK);
  const firstSig = new Uint32Array(CHUNK);
  const firstTanh = new Uint32Array(CHUNK);
  const sigBits = new Uint32Array(CHUNK);
  const tanhBits = new Uint32Array(CHUNK);
  const sig = new Float32Array(sigBits.buffer);
  const th = new Float32Array(tanhBits.buffer);
  const step = args.stride;
  const patterns = Math.ceil(TOTAL / step);
  let done = 0;
  let nextReport = 0;
  const started = Date.now();

  while (done < patterns) {
    const n = Math.min(CHUNK, patterns - done);
    for (let i = 0; i < n; i++) xBits[i] = (done + i) * step;
    for (let i = 0; i < n; i++) {
      const v = x[i];
      refSig[i] = 1 / (1 + Math.exp(-v));
      refTanh[i] = Math.tanh(v);
    }
    for (let r = 0; r < runs.length; r++) {
      const run = runs[r];
      const k = run.rt.kernels;
      run.rt.f32(run.inPtr, n).set(x.subarray(0, n));
      k.sigmoidForward(run.outPtr, run.inPtr, n);
      sig.set(run.rt.f32(run.outPtr, n));
      k.tanhForward(run.outPtr, run.inPtr, n);
      th.set(run.rt.f32(run.outPtr, n));
      measure(run, x, xBits, sig, th, refSig, refTanh, n);
      if (r === 0) {
        firstSig.set(sigBits.subarray(0, n));
        firstTanh.set(tanhBits.subarray(0, n));
      } else {
        for (let i = 0; i < n; i++) {
          if (x[i] !== x[i]) continue;
          if (sigBits[i] !== firstSig[i]) run.diffFromFirst.sigmoid++;
          if (tanhBits[i] !== firstTanh[i]) run.diffFromFirst.tanh++;
        }
      }
    }
    done += n;
    if (done >= nextReport || done === patterns) {
      const s = (Date.now() - started) / 1000;
      const worst = runs.map((r) => `${r.build} ${r.sigmoid.err.toExponential(3)}/${r.tanh.err.toExponential(3)}`).join(", ");
      process.stderr.write(`${(100 * done / patterns).toFixed(1)}% in ${s.toFixed(0)} s; max err sigmoid/tanh: ${worst}\n`);
      nextReport += patterns / 32;
    }
  }
}

function measure(
  run: PerBuild, x: Float32Array, xBits: Uint32Array, sig: Float32Array, th: Float32Array,
  refSig: Float64Array, refTanh: Float64Array, n: number,
): void {
  const ws = run.sigmoid, wt = run.tanh;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    const s = sig[i], t = th[i];
    if (v !== v) {
      if (s === s || t === t) run.nanBroken++;
      continue;
    }
    if (!Number.isFinite(s) || !Number.isFinite(t)) run.nonFinite++;
    if (!(s >= 0 && s <= 1) || !(t >= -1 && t <= 1)) run.outOfRange++;
    const es = Math.abs(s - refSig[i]);
    // `!(e <= max)` so a NaN output counts as the worst error
    if (!(es <= ws.err)) {
      ws.err = es !== es ? Infinity : es; ws.x = v; ws.bits = xBits[i]; ws.got = s; ws.want = refSig[i];
    }
    const et = Math.abs(t - refTanh[i]);
    if (!(et <= wt.err)) {
      wt.err = et !== et ? Infinity : et; wt.x = v; wt.bits = xBits[i]; wt.got = t; wt.want = refTanh[i];
    }
  }
}

function report(args: Args, runs: PerBuild[], seconds: number): void {
  const what = args.stride === 1 ? "all 2^32 float32 bit patterns" : `every ${args.stride}th float32 bit pattern`;
  console.log(`max abs error vs Math (f64) over ${what} except NaNs, ${seconds.toFixed(0)} s`);
  for (const r of runs) {
    for (const [name, w] of [["sigmoid", r.sigmoid], ["tanh", r.tanh]] as const) {
      console.log(`  ${r.build.padEnd(7)} ${name.padEnd(7)} max abs err ${w.err.toExponential(4)} (${w.err.toPrecision(6)})` +
        ` at x = ${w.x} (${hex(w.bits)}): kernel ${w.got}, reference ${w.want}`);
    }
    const checks = `NaN in -> non-NaN out: ${r.nanBroken}; non-finite out: ${r.nonFinite}; out of range: ${r.outOfRange}`;
    const same = r === runs[0] ? "" : `; outputs differing bitwise from ${runs[0].build}: sigmoid ${r.diffFromFirst.sigmoid}, tanh ${r.diffFromFirst.tanh}`;
    console.log(`  ${r.build.padEnd(7)} ${checks}${same}`);
  }
}

const args = parseArgs(process.argv.slice(2));
const runs = await load(args.builds);
const started = Date.now();
main(args, runs);
report(args, runs, (Date.now() - started) / 1000);
for (const r of runs) {
  r.rt.free(r.inPtr);
  r.rt.free(r.outPtr);
}
