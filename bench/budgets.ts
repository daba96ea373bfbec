// bench/budgets.ts: the size and time budgets docs/runtimes.md states, measured here.
//
//   npm run budgets          (builds, installs the bench's own dependencies, writes bench/results/budgets.json)
//
// Sizes: each wasm build (bytes and gzip), the core's JavaScript as a browser bundle minified by esbuild, and the
// same for onnxruntime-web (its wasm-only entry and the wasm file it loads) and TensorFlow.js' wasm backend (with
// tfjs-core and tfjs-layers, which an LSTM needs). Times, in workerd on this machine:
//   cold start      a fresh workerd process with the example bundle, started directly (bench/workerd-direct.ts), to
//                   the first /predict answer, against the same for a Worker that answers a constant (the difference
//                   is ours: module loading and wasm compilation at isolate start, init(), the model's parse, the
//                   first forward)
//   CPU / request   the example's handler called in a loop inside workerd (test/js-runtimes/workerd/budget-worker.js)
//                   with one W-stream-sized step (LSTM 64 -> 256, state in and out as JSON), and the forward alone
// Medians of REPEATS runs. The peers' cold start in workerd is attempted too; what they answer is recorded.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { bundleExample, COMPATIBILITY_DATE, describeProc, MODULE_RULES, ROOT, run } from "../test/js-runtimes/helpers.js";
import { firstAnswer, predictOneStep } from "./workerd-direct.js";

/** The bench package: the peers (onnxruntime-web, tfjs) are its dependencies, in bench/node_modules. */
const BENCH = join(ROOT, "bench");

const REPEATS = 7;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const gz = (b: Uint8Array) => gzipSync(b, { level: 9 }).length;
const file = (p: string) => new Uint8Array(readFileSync(join(ROOT, p)));

interface Size {
  bytes: number;
  gzip: number;
}
const sizeOf = (b: Uint8Array): Size => ({ bytes: b.length, gzip: gz(b) });

/** esbuild's minified ESM browser bundle of `source` (an entry written inline), with what it cannot bundle left out. */
async function minified(source: string, external: string[] = [], resolveDir = ROOT): Promise<Size> {
  const r = await build({
    stdin: { contents: source, resolveDir, loader: "js" },
    bundle: true, minify: true, format: "esm", platform: "browser", write: false, external,
    conditions: ["browser"], logLevel: "silent",
  });
  return sizeOf(r.outputFiles[0].contents);
}

async function sizes() {
  const wasm = Object.fromEntries(["relaxed", "simd", "scalar"].map((b) => [b, sizeOf(file(`build/rnn-${b}.wasm`))]));
  const coreJs = await minified(`export * from "rnn-wasm";`);
  const ortJs = await minified(`export * from "onnxruntime-web/wasm";`, [], BENCH);
  const ortWasm = sizeOf(file("bench/node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm"));
  const tfjsJs = await minified(
    `export * from "@tensorflow/tfjs-core"; export * from "@tensorflow/tfjs-layers"; export * from "@tensorflow/tfjs-backend-wasm";`,
    ["fs", "path", "crypto", "worker_threads", "perf_hooks", "os", "util"], BENCH,
  );
  const tfjsWasm = sizeOf(file("bench/node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm"));
  return { wasm, coreJs, peers: { "onnxruntime-web": { js: ortJs, wasm: ortWasm }, "tfjs-backend-wasm": { js: tfjsJs, wasm: tfjsWasm } } };
}

/**
 * ms from spawning workerd to the answer of `first` (a Request to send), over REPEATS fresh workerd processes started
 * directly (bench/workerd-direct.ts: not through Miniflare, whose serialization of the modules would be counted).
 */
async function coldStart(scriptPath: string, first: () => Request): Promise<{ ms: number[]; status: number; body: string }> {
  const ms: number[] = [];
  let status = 0, body = "";
  for (let k = 0; k < REPEATS; k++) {
    try {
      const r = await firstAnswer(scriptPath, first);
      ({ status, body } = r);
      ms.push(r.ms);
    } catch (e) {
      ({ status, body } = { status: 0, body: (e as Error).message }); // workerd could not load the bundle
    }
    if (status !== 200) break; // a peer that cannot answer: once is enough to record why
  }
  return { ms, status, body };
}

/** A Worker bundle from an inline source, through wrangler (so packages resolve with the workerd condition). */
function bundleWorker(name: string, source: string): { script: string; log: string; ok: boolean } {
  const dir = mkdtempSync(join(tmpdir(), `rnn-wasm-${name}-`));
  const src = join(BENCH, `.${name}.js`); // inside the bench package, so its packages (the peers) resolve
  writeFileSync(src, source);
  writeFileSync(join(dir, "wrangler.toml"), `name = "${name}"\nmain = "${src}"\ncompatibility_date = "${COMPATIBILITY_DATE}"\n`);
  const r = run(join(ROOT, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", join(dir, "out"), "-c", join(dir, "wrangler.toml")],
    { cwd: dir, env: { WRANGLER_SEND_METRICS: "false", CI: "1" } });
  return { script: join(dir, "out", `.${name}.js`), log: describeProc(r), ok: r.code === 0 };
}

async function times() {
  const example = bundleExample();
  if (example.log.code !== 0) throw new Error(describeProc(example.log));
  const ours = await coldStart(join(example.outdir, "index.js"), predictOneStep);
  if (ours.status !== 200) throw new Error(ours.body);
  const hello = bundleWorker("hello", `export default { fetch: () => Response.json({ output: [[0]] }) };`);
  const baseline = await coldStart(hello.script, predictOneStep);

  // CPU per request, inside workerd
  const budgetDir = mkdtempSync(join(tmpdir(), "rnn-wasm-budget-"));
  const b = run(join(ROOT, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", budgetDir, "-c", "wrangler.budget.toml"],
    { cwd: join(ROOT, "test/js-runtimes/workerd"), env: { WRANGLER_SEND_METRICS: "false", CI: "1" } });
  if (b.code !== 0) throw new Error(describeProc(b));
  const mf = new Miniflare({ modules: true, scriptPath: join(budgetDir, "budget-worker.js"), modulesRoot: budgetDir, modulesRules: MODULE_RULES, compatibilityDate: COMPATIBILITY_DATE });
  const url = await mf.ready;
  const perRequest: number[] = [], perForward: number[] = [];
  for (let k = 0; k < REPEATS; k++) {
    const r = await (await fetch(new URL("/?n=500", url))).json() as { usPerRequest: number; usPerForward: number };
    perRequest.push(r.usPerRequest);
    perForward.push(r.usPerForward);
  }
  await mf.dispose();

  // The peers, as a Worker would use them: the bundle builds, then the first inference or the error it meets.
  const peers: Record<string, { bundled: boolean; coldStartMs?: number; answer: string }> = {};
  const peerSources: Record<string, string> = {
    "onnxruntime-web": `import * as ort from "onnxruntime-web/wasm";
      export default { async fetch() { try { ort.env.wasm.numThreads = 1;
        const t = new ort.Tensor("float32", new Float32Array(4), [1, 4]); await ort.InferenceSession.create(new Uint8Array(8));
        return Response.json({ ok: true }); } catch (e) { return Response.json({ error: String(e && e.message || e) }, { status: 500 }); } } };`,
    "tfjs-backend-wasm": `import * as tf from "@tensorflow/tfjs-core"; import "@tensorflow/tfjs-backend-wasm";
      export default { async fetch() { try { await tf.setBackend("wasm"); await tf.ready(); const y = tf.add(tf.ones([2]), tf.ones([2]));
        return Response.json({ ok: true, y: Array.from(await y.data()) }); } catch (e) { return Response.json({ error: String(e && e.message || e) }, { status: 500 }); } } };`,
  };
  for (const [name, source] of Object.entries(peerSources)) {
    const bundle = bundleWorker(name, source);
    if (!bundle.ok) {
      peers[name] = { bundled: false, answer: bundle.log.split("\n").filter((l) => /ERROR|error/.test(l)).slice(0, 3).join(" ") };
      continue;
    }
    try {
      const r = await coldStart(bundle.script, () => new Request("http://worker/"));
      peers[name] = { bundled: true, coldStartMs: r.status === 200 ? median(r.ms) : undefined, answer: `${r.status} ${r.body.slice(0, 300)}` };
    } catch (e) {
      peers[name] = { bundled: true, answer: String((e as Error).message).slice(0, 300) };
    }
  }
  for (const name of ["hello", ...Object.keys(peerSources)]) rmSync(join(BENCH, `.${name}.js`), { force: true });

  const bundleFiles = readdirSync(example.outdir).filter((f) => !f.endsWith(".map"));
  const bundleBytes = bundleFiles.reduce((s, f) => s + statSync(join(example.outdir, f)).size, 0);
  return {
    coldStart: { exampleMs: median(ours.ms), helloMs: median(baseline.ms), oursMs: median(ours.ms) - median(baseline.ms), runs: { ours: ours.ms, hello: baseline.ms } },
    cpuPerRequest: { usPerRequest: median(perRequest), usPerForward: median(perForward), runs: { perRequest, perForward } },
    exampleBundle: { files: bundleFiles, bytes: bundleBytes },
    peers,
  };
}

const result = {
  machine: `${process.version}, ${process.arch}, ${cpus().length} CPUs, load ${loadavg().map((x) => x.toFixed(2)).join(" ")}`,
  date: new Date().toISOString().slice(0, 10),
  sizes: await sizes(),
  workerd: await times(),
};
writeFileSync(join(ROOT, "bench/results/budgets.json"), JSON.stringify(result, null, 2) + "\n");

// docs/runtimes.md's table, between <!-- budgets:start --> and <!-- budgets:end -->.
const kb = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(1)} KB`);
const sz = (x: Size) => `${kb(x.bytes)} (${kb(x.gzip)} gzip)`;
const { wasm, coreJs, peers } = result.sizes;
const w = result.workerd;
// What a peer met in workerd, said plainly (the raw answer is in budgets.json).
const peerCell = (name: string) => {
  const p = w.peers[name];
  if (p.coldStartMs !== undefined) return `${p.coldStartMs.toFixed(0)} ms`;
  if (/dynamic module specifiers/.test(p.answer)) {
    return "does not load: its bundle imports a module by a computed name (`import(url)`), which a Worker cannot resolve";
  }
  if (/cannot determine the script source URL/.test(p.answer)) {
    return "loads, but its first session fails (`no available backend found`): the wasm backend looks for its .wasm " +
      "beside its own script's URL, which a Worker's module does not have";
  }
  if (/Could not initialize any backends|setBackend/.test(p.answer)) {
    return "fails at `setBackend('wasm')`: Emscripten fetches the .wasm by a URL no Worker serves (its other path, " +
      "`customFetch`, hands Emscripten bytes, which a Worker refuses to compile: read from its code, not run)";
  }
  return `fails: ${p.answer.split("\n")[0].replace(/\|/g, "/").slice(0, 110)}`;
};
// Node's cold start, from the benchmarks' cold-start suite (bench/cold-start.ts), when it has been run.
const nodeCold = (() => {
  try {
    const rows = (JSON.parse(readFileSync(join(ROOT, "bench/results/workloads.cold-start.json"), "utf8")) as {
      rows: { peer: string; fromImportMs?: number }[];
    }).rows;
    const ms = (peer: string) => rows.find((r) => r.peer === peer)?.fromImportMs;
    const cell = (v?: number) => (v === undefined ? "not measured" : `${v.toFixed(0)} ms`);
    return `| cold start in Node 20: import to the first W-seq output (LSTM 64 -> 256, T=128), from the benchmarks' cold-start suite | ${cell(ms("rnn-wasm-simd"))} | ${cell(ms("ort-web"))} | ${cell(ms("tfjs-wasm"))} |`;
  } catch {
    return null;
  }
})();
const table = [
  "| budget | rnn-wasm | onnxruntime-web 1.30 | tfjs-backend-wasm 4.22 |",
  "|---|---|---|---|",
  `| wasm binary | relaxed ${sz(wasm.relaxed)}, simd ${sz(wasm.simd)}, scalar ${sz(wasm.scalar)} | ${sz(peers["onnxruntime-web"].wasm)} (\`ort-wasm-simd-threaded.wasm\`) | ${sz(peers["tfjs-backend-wasm"].wasm)} (\`tfjs-backend-wasm-simd.wasm\`) |`,
  `| JavaScript, bundled and minified by esbuild | ${sz(coreJs)} (everything \`rnn-wasm\` exports) | ${sz(peers["onnxruntime-web"].js)} (\`onnxruntime-web/wasm\`) | ${sz(peers["tfjs-backend-wasm"].js)} (tfjs-core, tfjs-layers for the LSTM, the wasm backend) |`,
  `| cold start in workerd: a new workerd process (Cloudflare's binary, started directly) to the first answer | ${w.coldStart.exampleMs.toFixed(0)} ms for the example (an empty Worker: ${w.coldStart.helloMs.toFixed(0)} ms, so ${w.coldStart.oursMs.toFixed(0)} ms are the example's: its modules, the wasm compiled at load, init(), the 1.3 MB model, the first step) | ${peerCell("onnxruntime-web")} | ${peerCell("tfjs-backend-wasm")} |`,
  ...(nodeCold ? [nodeCold] : []),
  `| CPU per request in workerd, one W-stream step (LSTM 64 -> 256, state in and out as JSON) | ${w.cpuPerRequest.usPerRequest.toFixed(0)} µs per request, of which the forward step ${w.cpuPerRequest.usPerForward.toFixed(0)} µs (the rest is JSON) | | |`,
];
const bundle = `The example's bundle (\`wrangler deploy --dry-run\`) is ${kb(w.exampleBundle.bytes)} in all, the model being 1.3 MB of it.`;
const text = `${table.join("\n")}\n\nMeasured ${result.date} on ${result.machine} by \`npm run budgets\` (bench/budgets.ts; ` +
  `medians of ${REPEATS} runs, in bench/results/budgets.json). ${bundle}`;
const readmePath = join(ROOT, "docs/runtimes.md");
const readme = readFileSync(readmePath, "utf8");
const marked = /<!-- budgets:start -->\n[\s\S]*?<!-- budgets:end -->/;
if (!marked.test(readme)) throw new Error("docs/runtimes.md has no <!-- budgets:start --> ... <!-- budgets:end --> markers");
writeFileSync(readmePath, readme.replace(marked, `<!-- budgets:start -->\n${text}\n<!-- budgets:end -->`));
console.log(text);
