// test/js-runtimes/workerd-int8.test.ts: the example Worker serving its model quantized to int8 (examples/
// cloudflare-worker with wrangler.int8.toml: src/index-int8.js and model.int8.safetensors), bundled by `wrangler
// deploy --dry-run` and run in workerd (Miniflare) over HTTP on loopback, as workerd.test.ts runs the float32 one:
//   - the bundle holds the int8 model file (about a quarter of the float32 file's bytes), not the float32 one;
//   - model.int8.safetensors holds what quantizing model.safetensors gives (the committed file cannot drift);
//   - GET / describes the model as the float32 Worker does, plus its dtype and the integer form workerd runs it in;
//   - POST /predict answers PyTorch's float32 output for the sample within int8's error, and the library's own int8
//     answer in Node (same file, same form) within the few quantization levels two engines' float roundings can move;
//     chunks sent with the state each answer returned equal one request, bit for bit;
//   - other quantized files in its place (what a user does by replacing the file): a two-layer GRU and a GRUCell
//     (served as the one-layer layer it is), against PyTorch within int8's error; and files and settings it refuses,
//     with 500 and the reason (an integer out of range named by tensor and index, MODEL_PREFIX set, a var that
//     contradicts what the file records, a truncated file).
// Tolerances. int8 against float32: docs/quantization.md measures int8's error at 0.54-0.64% of the output's largest
// value on PyTorch's fixtures (|h| < 1 for these models), so 0.02 is about three times that and far below what a
// misplaced weight or scale gives (0.1 or more). workerd against Node: both compute the same integers, but the
// relaxed build's float32 gate maths may round differently on two engines (fused multiply-add or not), and a state one
// bit apart can round to the next quantization level at the next step (about 1/127 of its row's largest value, times
// a weight): test/api/quantize.test.ts bounds wasm against the reference by 0.2% of the largest output over whole
// sequences; 2e-3 here.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  fromTorch, loadQuantized, loadSafetensors, saveQuantized, saveSafetensors, type IntTensor, type QuantizedCell,
  type QuantizedLayer, type Tensor,
} from "../../src/index.js";
import { runtimeFor } from "../helpers/runtimes.js";
import { COMPATIBILITY_DATE, describeProc, EXAMPLE, maxDiff, MODULE_RULES, ROOT, run } from "./helpers.js";
import { loadFixture, rowsOf, type WorkerFetcher } from "./workerd/models.js";
import type { WorkerOptions } from "miniflare";

const INT8_VS_FLOAT = 0.02;
const WORKERD_VS_NODE = 2e-3;

/** `wrangler deploy --dry-run` of the example with wrangler.int8.toml. */
function bundleInt8(): { outdir: string; log: ReturnType<typeof run> } {
  const outdir = mkdtempSync(join(tmpdir(), "rnn-wasm-worker-int8-"));
  const log = run(join(ROOT, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", outdir, "-c", "wrangler.int8.toml"], {
    cwd: EXAMPLE,
    env: { WRANGLER_SEND_METRICS: "false", CI: "1" },
  });
  return { outdir, log };
}

/**
 * Miniflare's options for a Worker `name` running the int8 bundle in `outdir` with `model` in place of its model
 * module and `vars` as its environment (workerd/models.ts bundleWithModel does the same for the float32 bundle).
 */
function int8BundleWithModel(outdir: string, name: string, model: Uint8Array, vars: Record<string, string>): WorkerOptions {
  const files = readdirSync(outdir).filter((f) => /\.(js|wasm|safetensors)$/.test(f));
  files.sort((a, b) => Number(b === "index-int8.js") - Number(a === "index-int8.js")); // the main module first
  return {
    name,
    compatibilityDate: COMPATIBILITY_DATE,
    modulesRoot: outdir,
    modules: files.map((f) => ({
      type: f.endsWith(".js") ? "ESModule" as const : f.endsWith(".wasm") ? "CompiledWasm" as const : "Data" as const,
      path: join(outdir, f),
      ...(f.endsWith("model.int8.safetensors") ? { contents: model } : {}),
    })),
    bindings: vars,
  };
}

/** A quantized int8 file of `model` (a PyTorch state_dict's bytes), quantized on the reference backend. */
function int8File(model: Uint8Array, prefix?: string): Uint8Array {
  const q = fromTorch(loadSafetensors(model).tensors, { dtype: "int8", backend: "reference", ...(prefix ? { prefix } : {}) });
  try {
    return saveQuantized(q);
  } finally {
    q.dispose();
  }
}

/** `file` with one of its tensors or its metadata changed. */
function edited(file: Uint8Array, edit: (t: Record<string, Tensor | IntTensor>, meta: Record<string, string>) => void): Uint8Array {
  const { tensors, integers, metadata } = loadSafetensors(file);
  const all: Record<string, Tensor | IntTensor> = { ...tensors, ...integers };
  edit(all, metadata);
  return saveSafetensors(all, metadata);
}

const int8Model = new Uint8Array(readFileSync(join(EXAMPLE, "model.int8.safetensors")));
const floatModel = new Uint8Array(readFileSync(join(EXAMPLE, "model.safetensors")));
const sample = loadSafetensors(readFileSync(join(EXAMPLE, "sample.safetensors"))).tensors as Record<string, Tensor>;
const I = 64, H = 256;
const steps = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, k) => Array.from(sample.input.data.subarray((from + k) * I, (from + k + 1) * I)));

const GRU = loadFixture("gru_2layer");
const CELL = loadFixture("gru_cell");
/** Other quantized files served by the same bundle, with what GET / must say. */
const SERVED: Array<{ name: string; fixture: typeof GRU; model: Uint8Array; vars: Record<string, string>; description: Record<string, unknown> }> = [
  {
    name: "gru_2layer_int8", fixture: GRU, model: int8File(GRU.model, "encoder.gru."), vars: {},
    description: { model: "gru", cell: false, prefix: "", inputSize: 4, hiddenSize: 10, numLayers: 2, resetAfter: true, head: null, state: { h: [2, 10] }, dtype: "int8" },
  },
  {
    name: "gru_cell_int8", fixture: CELL, model: int8File(CELL.model, "cell."), vars: {},
    description: { model: "gru", cell: true, prefix: "", inputSize: 4, hiddenSize: 6, numLayers: 1, resetAfter: true, head: null, state: { h: [1, 6] }, dtype: "int8" },
  },
];
/** Files and settings the Worker must refuse, with its reason. */
const REFUSED: Array<{ name: string; model: Uint8Array; vars: Record<string, string>; error: string }> = [
  {
    name: "an integer out of int8's range",
    model: edited(int8Model, (t) => { (t.weight_hh_l0.data as Int8Array)[5] = -128; }),
    vars: {},
    error: "the model file's quantized model: quantized model file: tensor 'weight_hh_l0' holds -128 at packed index 5, outside int8's range [-127, 127]",
  },
  {
    name: "MODEL_PREFIX set for a quantized file",
    model: int8Model,
    vars: { MODEL_PREFIX: "lstm." },
    error: "MODEL_PREFIX is set ('lstm.'), but a quantized model file has no key prefix (its tensors are weight_ih_l0, ...): unset it",
  },
  {
    name: "GRU_RESET_AFTER contradicting the file",
    model: SERVED[0].model,
    vars: { GRU_RESET_AFTER: "false" },
    error: 'GRU_RESET_AFTER is "false", but the quantized model file records "true": unset it',
  },
  {
    name: "a truncated file",
    model: int8Model.subarray(0, int8Model.length - 1000),
    vars: {},
    error: "the model file is not a safetensors file the library reads: ",
  },
];

describe("the example Worker with its int8 model (wrangler.int8.toml), bundled by wrangler, in workerd", () => {
  let mf: Miniflare;
  let base: URL;
  let outdir: string;
  let files: string[];

  const post = async (body: unknown) => {
    const res = await fetch(new URL("/predict", base), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    return { status: res.status, json: await res.json() };
  };
  const call = async (name: string, body?: unknown) => {
    const worker = (await mf.getWorker(name)) as unknown as WorkerFetcher;
    const res = body === undefined
      ? await worker.fetch("http://worker/")
      : await worker.fetch("http://worker/predict", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    return { status: res.status, json: await res.json() };
  };

  beforeAll(async () => {
    const bundle = bundleInt8();
    outdir = bundle.outdir;
    expect(bundle.log.code, describeProc(bundle.log)).toBe(0);
    files = readdirSync(outdir);
    mf = new Miniflare({
      workers: [
        {
          name: "int8",
          modules: true,
          scriptPath: join(outdir, "index-int8.js"),
          modulesRoot: outdir,
          modulesRules: MODULE_RULES,
          compatibilityDate: COMPATIBILITY_DATE,
        },
        ...SERVED.map((s) => int8BundleWithModel(outdir, s.name, s.model, s.vars)),
        ...REFUSED.map((r, k) => int8BundleWithModel(outdir, `refused-${k}`, r.model, r.vars)),
      ],
    });
    base = await mf.ready;
  });

  afterAll(async () => {
    await mf?.dispose();
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  });

  it("the bundle holds the int8 model file (about a quarter of the float32 file's bytes), not the float32 one", () => {
    const models = files.filter((f) => f.endsWith(".safetensors"));
    expect(models).toHaveLength(1);
    expect(models[0]).toMatch(/model\.int8\.safetensors$/);
    const ratio = statSync(join(outdir, models[0])).size / floatModel.byteLength;
    expect(ratio).toBeGreaterThan(0.25);
    expect(ratio).toBeLessThan(0.27); // a quarter, plus float32 row scales and biases
  });

  it("model.int8.safetensors holds model.safetensors quantized: the same integers and scales as quantizing it now", () => {
    const committed = loadSafetensors(int8Model), fresh = loadSafetensors(int8File(floatModel));
    expect(committed.metadata).toMatchObject({ format: "rnn-wasm quantized", dtype: "int8", kind: "lstm", input_size: "64", hidden_size: "256" });
    expect(Object.keys(committed.integers).sort()).toEqual(Object.keys(fresh.integers).sort());
    for (const name of Object.keys(fresh.integers)) expect(committed.integers[name].data, name).toEqual(fresh.integers[name].data);
    for (const name of Object.keys(fresh.tensors)) expect(committed.tensors[name].data, name).toEqual(fresh.tensors[name].data);
  });

  it("GET / describes the model as the float32 Worker does, with its dtype and form", async () => {
    const res = await fetch(new URL("/", base));
    expect(res.status).toBe(200);
    const d = await res.json();
    expect(d).toEqual({
      model: "lstm", cell: false, prefix: "", inputSize: I, hiddenSize: H, projSize: 0, numLayers: 1, bidirectional: false, bias: true,
      head: null, input: ["T", I], output: ["T", H], state: { h: [1, H], c: [1, H] },
      streaming: "yes: send each response's state with the next chunk", maxSteps: 1024, maxBodyBytes: 2_114_560,
      dtype: "int8", form: "q16", build: "relaxed",
    });
  });

  it(`POST /predict: PyTorch's float32 answer within ${INT8_VS_FLOAT}, and Node's int8 answer (same file and form) within ${WORKERD_VS_NODE}`, async () => {
    const r = await post({ input: steps(0, 6) });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json.output).toHaveLength(6);
    const out = r.json.output.flat(), h = r.json.state.h.flat(), c = r.json.state.c.flat();
    expect(maxDiff(out, sample.output.data)).toBeLessThan(INT8_VS_FLOAT);
    expect(maxDiff(h, sample.h_n.data)).toBeLessThan(INT8_VS_FLOAT);
    expect(maxDiff(c, sample.c_n.data)).toBeLessThan(INT8_VS_FLOAT);
    expect(maxDiff(out, sample.output.data)).toBeGreaterThan(0); // int8, not the float32 model by mistake

    const { form } = await (await fetch(new URL("/", base))).json();
    // Node 20's relaxed build must not run Q8 (V8 11.3's baseline compiler); the simd build computes its integers
    const runtime = await runtimeFor(form === "q8" ? "simd" : "relaxed");
    const q = loadQuantized(int8Model, { runtime, form }) as QuantizedLayer;
    try {
      const node = q.forward({ shape: [6, I], data: sample.input.data.subarray(0, 6 * I) });
      expect(maxDiff(out, node.output.data)).toBeLessThan(WORKERD_VS_NODE);
      expect(maxDiff(c, node.cN!.data)).toBeLessThan(WORKERD_VS_NODE);
    } finally {
      q.dispose();
    }
  });

  it("a stream sent in chunks, each with the state the previous answer returned, equals one request, bit for bit", async () => {
    const whole = (await post({ input: steps(0, 6) })).json;
    const first = (await post({ input: steps(0, 2) })).json;
    const second = (await post({ input: steps(2, 6), state: first.state })).json;
    expect([...first.output, ...second.output]).toEqual(whole.output);
    expect(second.state).toEqual(whole.state);
  });

  it.each(SERVED)("$name in place of the model: GET / describes it, and PyTorch's answers within int8's error", async ({ name, fixture, description }) => {
    const d = await call(name);
    expect(d.status, JSON.stringify(d.json)).toBe(200);
    expect(d.json).toMatchObject({ ...description, form: "q16" });
    const { cases } = fixture;
    const zero = await call(name, { input: rowsOf(cases.x) });
    expect(zero.status, JSON.stringify(zero.json)).toBe(200);
    expect(maxDiff(zero.json.output.flat(), cases.y.data)).toBeLessThan(INT8_VS_FLOAT);
    expect(maxDiff(zero.json.state.h.flat(), cases.h_n.data)).toBeLessThan(INT8_VS_FLOAT);
    const given = await call(name, { input: rowsOf(cases.x), state: { h: rowsOf(cases.h0) } });
    expect(maxDiff(given.json.output.flat(), cases.y_from_h0.data)).toBeLessThan(INT8_VS_FLOAT);
  });

  it.each(REFUSED.map((r, k) => ({ ...r, worker: `refused-${k}` })))("refuses $name: 500 with the reason", async ({ worker, error }) => {
    const quiet = vi.spyOn(console, "error").mockImplementation(() => {}); // the Worker logs the reason too
    try {
      const r = await call(worker);
      expect(r.status).toBe(500);
      expect(r.json.error).toContain(`the Worker's model cannot be served: ${error}`);
    } finally {
      quiet.mockRestore();
    }
  });
});

/** The quantized cell the GRUCell fixture gives: what the Worker serves as a layer must be this cell stepped. */
describe("a quantized cell's file, as the Worker renames it, is the cell stepped over time", () => {
  it("loads as a one-layer layer whose steps are the cell's, bit for bit (reference backend)", () => {
    const file = SERVED[1].model;
    const cell = loadQuantized(file, { backend: "reference" }) as QuantizedCell;
    const { tensors, integers, metadata } = loadSafetensors(file);
    const rename = (r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k.replace(/^(weight_ih|weight_hh|bias_ih|bias_hh)(?=$|\.)/, "$1_l0"), v]));
    const layer = loadQuantized({ tensors: rename(tensors) as Record<string, Tensor>, integers: rename(integers) as Record<string, IntTensor>, metadata: { ...metadata, cell: "false", num_layers: "1", bidirectional: "false" } }, { backend: "reference" }) as QuantizedLayer;
    const x = CELL.cases.x;
    const T = x.shape[0];
    const seq = layer.forward(x).output.data;
    let h: Tensor | undefined;
    for (let t = 0; t < T; t++) {
      h = cell.forward({ shape: [x.shape[1]], data: x.data.subarray(t * x.shape[1], (t + 1) * x.shape[1]) }, h ? { h } : {}).h;
      expect(Array.from(seq.subarray(t * 6, (t + 1) * 6))).toEqual(Array.from(h.data));
    }
    cell.dispose();
    layer.dispose();
  });
});
