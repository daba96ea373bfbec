// bench/vnni-probe.ts: how fast this engine runs wasm's relaxed int8 dot-add (`i32x4.relaxed_dot_i8x16_i7x16_add_s`,
// the q8 kernels' inner operation), in a loop shaped like theirs: int8 weights streamed from memory, one 7-bit
// activation vector, six independent int32x4 accumulators (as gemmQ8's batch-1 loop in assembly/quant.ts). V8 (Node 24) compiles it to one `vpdpbusd` where the CPU
// has AVX-VNNI and to a short multiply-add sequence elsewhere, or where V8's `--no-enable-avx-vnni` flag turns the
// instruction off; the workload bench times this with and without the flag before its "without AVX-VNNI" pass, to show
// that the flag changes the code (bench/workloads.bench.ts, runVnniOffPass).
//   <node 24> --import tsx bench/vnni-probe.ts [--no-enable-avx-vnni before --import]   prints one JSON line
// The module is written out in bytes below (no compiler needed); its sums are checked against the same arithmetic in
// JavaScript, before and after V8 tiers the function up, so a fast wrong lowering is not reported as a speed.
import { fileURLToPath } from "node:url";

/** What one probe process prints. */
export interface VnniProbeResult {
  /** Nanoseconds per dot-add (one i32x4 result from 16 int8 x 7-bit products), the best of REPEATS calls. */
  nsPerDot: number;
  /** The loop's sums equal JavaScript's, on the baseline and on the optimised code. */
  correct: boolean;
  /** V8 flags of this process (execArgv), so a reader sees which side of the comparison it was. */
  flags: string[];
  node: string;
}

const ACCUMULATORS = 6;
const STRIDE = 16 * ACCUMULATORS; // weight bytes one iteration reads
const WEIGHT_BYTES = STRIDE * 320; // the weights the loop cycles through: 30 KB, in L1 on every CPU this runs on
const ACTIVATIONS_AT = 32768; // 16 bytes of 7-bit activations, after the weights
const ITERATIONS = 3_000_000; // ACCUMULATORS dot-adds each: about 10 ms a call with VNNI here
const REPEATS = 9;

/** Unsigned LEB128, as wasm encodes lengths, indices and memarg fields. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

/** Signed LEB128 (i32.const's immediate). */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) return [...out, b];
    out.push(b | 0x80);
  }
}

const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const name = (s: string) => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

/**
 * (module (memory (export "mem") 1)
 *   (func (export "dots") (param $n i32) (result i32)   ;; every lane of every accumulator summed, wrapping
 *     p = 0; x = v128.load(ACTIVATIONS_AT)
 *     while n: for k in 0..ACCUMULATORS-1: acc_k = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(p + 16k), x, acc_k)
 *              p += STRIDE; if p == WEIGHT_BYTES: p = 0; n -= 1))
 */
function probeModule(): Uint8Array<ArrayBuffer> {
  const [N, P, X, ACC] = [0, 1, 2, 3]; // locals: the param, the weight offset, the activations, then the accumulators
  const accs = Array.from({ length: ACCUMULATORS }, (_, k) => ACC + k);
  const get = (i: number) => [0x20, i], set = (i: number) => [0x21, i];
  const v128Load = (offset: number) => [0xfd, 0x00, 4, ...uleb(offset)]; // align 2^4
  const RELAXED_DOT_ADD = [0xfd, ...uleb(0x113)];
  const I32X4_ADD = [0xfd, ...uleb(0xae)];
  const loop = [
    0x02, 0x40, 0x03, 0x40, // block, loop
    ...get(N), 0x45, 0x0d, 1, // br_if (n == 0) out of the block
    ...accs.flatMap((a, k) => [...get(P), ...v128Load(16 * k), ...get(X), ...get(a), ...RELAXED_DOT_ADD, ...set(a)]),
    ...get(P), 0x41, ...sleb(STRIDE), 0x6a, ...set(P), // p += STRIDE
    0x41, 0, ...get(P), ...get(P), 0x41, ...sleb(WEIGHT_BYTES), 0x46, 0x1b, ...set(P), // p = select(0, p, p == WEIGHT_BYTES)
    ...get(N), 0x41, 1, 0x6b, ...set(N),
    0x0c, 0, 0x0b, 0x0b, // br to the loop; end loop; end block
  ];
  const sum = [
    ...get(ACC), ...accs.slice(1).flatMap((a) => [...get(a), ...I32X4_ADD]), ...set(ACC),
    ...get(ACC), 0xfd, 0x1b, 0, ...[1, 2, 3].flatMap((lane) => [...get(ACC), 0xfd, 0x1b, lane, 0x6a]), // lanes, i32.add
  ];
  const body = [
    2, 1, 0x7f, 1 + ACCUMULATORS, 0x7b, // locals: 1 i32 (p), v128s (x and the accumulators)
    0x41, ...sleb(ACTIVATIONS_AT), ...v128Load(0), ...set(X),
    ...loop, ...sum, 0x0b,
  ];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [1, 0x60, 1, 0x7f, 1, 0x7f]), // type: (i32) -> i32
    ...section(3, [1, 0]), // one function of type 0
    ...section(5, [1, 0, 1]), // one memory, one page
    ...section(7, [2, ...name("dots"), 0, 0, ...name("mem"), 2, 0]),
    ...section(10, [1, ...uleb(body.length), ...body]),
  ]);
}

/** The weights (int8) and activations (0..127) the loop reads, from a fixed linear congruential sequence. */
function fill(mem: Uint8Array): { w: Int8Array; x: Uint8Array } {
  let s = 12345;
  const next = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 16);
  const w = new Int8Array(mem.buffer, 0, WEIGHT_BYTES);
  for (let i = 0; i < w.length; i++) w[i] = (next() & 0xff) - 128;
  const x = mem.subarray(ACTIVATIONS_AT, ACTIVATIONS_AT + 16);
  for (let i = 0; i < 16; i++) x[i] = next() & 0x7f;
  return { w, x };
}

/** What `dots(n)` must return: every product summed with int32 wrapping, as the lanes and their final sum wrap. */
function expected(w: Int8Array, x: Uint8Array, n: number): number {
  let total = 0;
  for (let it = 0, p = 0; it < n; it++, p = (p + STRIDE) % WEIGHT_BYTES) {
    for (let i = 0; i < STRIDE; i++) total = (total + w[p + i] * x[i & 15]) | 0;
  }
  return total;
}

export function probeRelaxedDot(): VnniProbeResult {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(probeModule()));
  const { dots, mem } = instance.exports as { dots: (n: number) => number; mem: WebAssembly.Memory };
  const { w, x } = fill(new Uint8Array(mem.buffer));
  const small = 1000;
  let correct = dots(small) === expected(w, x, small); // the baseline compiler's code (Liftoff)
  const ms: number[] = [];
  for (let k = 0; k < REPEATS; k++) {
    const t0 = performance.now();
    dots(ITERATIONS);
    ms.push(performance.now() - t0);
  }
  correct &&= dots(small) === expected(w, x, small); // by now the optimised code
  return {
    nsPerDot: (Math.min(...ms) * 1e6) / (ITERATIONS * ACCUMULATORS),
    correct,
    flags: process.execArgv.filter((a) => a.startsWith("--") && !["--import", "--require"].includes(a)),
    node: process.version,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(JSON.stringify(probeRelaxedDot()));
