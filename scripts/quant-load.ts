// scripts/quant-load.ts: how long it takes to load the W-seq model (the demo LSTM 64 -> 256, cli/data/) from a file,
// float32 against quantized, through the built package (dist/rnn-wasm.node.js, as a user's program loads it):
//   cold   a new Node process per run: import the package, init(), read the file, parse and build the model, and the
//          first forward of W-seq's input (T 128, B 1); the median over runs of each phase
//   warm   in one process after a few loads: the median of loading the same bytes again (parse and build only)
// Variants: float32 (loadSafetensors + fromTorch), int8 and int12 files (loadQuantized: the file's integers packed as
// they are), and the float32 file quantized on load (fromTorch with { dtype: 'int8' }).
//   npm run build && npx tsx scripts/quant-load.ts [runs]
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const PACKAGE = join(ROOT, "dist/rnn-wasm.node.js");
const DEMO = join(ROOT, "cli/data/lstm-demo.safetensors");
type Lib = typeof import("../src/index.js");
const VARIANTS = ["float32", "int8 file", "int12 file", "float32 file, quantized on load"] as const;
type Variant = (typeof VARIANTS)[number];

/** Loads `bytes` as `variant` says; returns the model. */
function load(lib: Lib, variant: Variant, bytes: Uint8Array) {
  if (variant === "float32") return lib.fromTorch(lib.loadSafetensors(bytes).tensors);
  if (variant === "float32 file, quantized on load") return lib.fromTorch(lib.loadSafetensors(bytes).tensors, { dtype: "int8" });
  return lib.loadQuantized(bytes);
}

/** One cold run, in this (new) process: each phase's milliseconds, printed as JSON. */
async function child(variant: Variant, path: string): Promise<void> {
  const t0 = performance.now();
  const lib = (await import(PACKAGE)) as Lib;
  const t1 = performance.now();
  await lib.init();
  const t2 = performance.now();
  const bytes = readFileSync(path);
  const t3 = performance.now();
  const model = load(lib, variant, bytes) as { forward(x: unknown): unknown; dispose(): void };
  const t4 = performance.now();
  model.forward(lib.tensor([128, 64], Float32Array.from({ length: 128 * 64 }, (_, k) => Math.sin(k * 0.37))));
  const t5 = performance.now();
  model.dispose();
  console.log(JSON.stringify({ import: t1 - t0, init: t2 - t1, read: t3 - t2, load: t4 - t3, forward: t5 - t4, total: t5 - t0 }));
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

async function parent(runs: number): Promise<void> {
  const lib = (await import(PACKAGE)) as Lib;
  await lib.init();
  const dir = mkdtempSync(join(tmpdir(), "quant-load-"));
  const float = lib.fromTorch(lib.loadSafetensors(readFileSync(DEMO)).tensors);
  const files: Record<Variant, string> = {
    "float32": DEMO,
    "int8 file": join(dir, "int8.safetensors"),
    "int12 file": join(dir, "int12.safetensors"),
    "float32 file, quantized on load": DEMO,
  };
  for (const dtype of ["int8", "int12"] as const) {
    const q = lib.quantize(float as import("../src/index.js").RecurrentLayer, { dtype });
    writeFileSync(files[`${dtype} file`], lib.saveQuantized(q));
    q.dispose();
  }
  float.dispose();
  console.log(`Node ${process.version}; W-seq model (LSTM 64 -> 256); ${runs} cold runs per variant, median of each phase (ms)`);
  console.log("| variant | file bytes | import | init() | read | parse + build | first forward | total | warm parse + build |");
  console.log("|---|---|---|---|---|---|---|---|---|");
  const script = fileURLToPath(import.meta.url);
  const tsx = join(ROOT, "node_modules/tsx/dist/cli.mjs");
  for (const variant of VARIANTS) {
    const samples: Record<string, number>[] = [];
    for (let r = 0; r < runs; r++) {
      const out = spawnSync(process.execPath, [tsx, script, "child", variant, files[variant]], { encoding: "utf8" });
      if (out.status !== 0) throw new Error(`child failed: ${out.stderr}`);
      samples.push(JSON.parse(out.stdout.trim().split("\n").at(-1)!));
    }
    const m = (k: string) => median(samples.map((s) => s[k])).toFixed(1);
    const bytes = readFileSync(files[variant]);
    const warm: number[] = [];
    for (let i = 0; i < 40; i++) {
      const t0 = performance.now();
      const model = load(lib, variant, bytes);
      warm.push(performance.now() - t0);
      model.dispose();
    }
    console.log(`| ${variant} | ${bytes.byteLength.toLocaleString("en-US")} | ${m("import")} | ${m("init")} | ${m("read")} | ${m("load")} | ${m("forward")} | ${m("total")} | ${median(warm.slice(10)).toFixed(2)} |`);
  }
}

if (process.argv[2] === "child") await child(process.argv[3] as Variant, process.argv[4]);
else await parent(Number(process.argv[2] ?? 11));
