// test/js-runtimes/workerd/models.ts: the example Worker's bundle serving other models, for workerd.test.ts. The
// bundle wrangler wrote is given to Miniflare as a list of modules in which the model module (the file the bundle
// imports as "<hash>-model.safetensors") holds another model's bytes, and the Worker's environment holds the vars
// that model needs: what a user does by replacing model.safetensors and editing wrangler.toml's [vars].
// The models and PyTorch's answers are test/fixtures/worker/*.safetensors (scripts/make_worker_fixtures.py).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { WorkerOptions } from "miniflare";
import { loadSafetensors, type Tensor } from "../../../src/index.js";
import { COMPATIBILITY_DATE, ROOT } from "../helpers.js";

export const FIXTURES = join(ROOT, "test/fixtures/worker");

/** One fixture: the model file, and the requests with PyTorch's answers (see make_worker_fixtures.py's docstring). */
export interface WorkerFixture {
  name: string;
  model: Uint8Array;
  cases: Record<string, Tensor>;
  /** The Worker's environment for this model (wrangler.toml [vars]). */
  vars: Record<string, string>;
  /** Unidirectional models: the length of the first chunk. */
  split?: number;
}

export function loadFixture(name: string): WorkerFixture {
  const model = new Uint8Array(readFileSync(join(FIXTURES, `${name}.model.safetensors`)));
  const { tensors, metadata } = loadSafetensors(readFileSync(join(FIXTURES, `${name}.cases.safetensors`)));
  return {
    name, model, cases: tensors as Record<string, Tensor>, vars: JSON.parse(metadata.vars ?? "{}"),
    ...(metadata.split ? { split: Number(metadata.split) } : {}),
  };
}

/** A tensor's rows (its last axis) as JSON arrays, from row `from` to row `to`: how requests and responses carry them. */
export function rowsOf(t: Tensor, from = 0, to = t.shape[0]): number[][] {
  const width = t.shape[t.shape.length - 1];
  return Array.from({ length: to - from }, (_, k) => Array.from(t.data.subarray((from + k) * width, (from + k + 1) * width)));
}

/** What `mf.getWorker(name)` gives: its declared type needs @cloudflare/workers-types, which this repository does not install. */
export interface WorkerFetcher {
  fetch(url: string, init?: RequestInit): Promise<Response>;
}

/**
 * Miniflare's options for a Worker named `name` running the bundle in `outdir` with `model` in place of the bundled
 * model file, and `vars` as its environment. The main module (index.js) comes first, as workerd requires.
 */
export function bundleWithModel(outdir: string, name: string, model: Uint8Array, vars: Record<string, string> = {}): WorkerOptions {
  const files = readdirSync(outdir).filter((f) => /\.(js|wasm|safetensors)$/.test(f));
  const modelModule = files.find((f) => f.endsWith("model.safetensors"));
  if (modelModule === undefined) throw new Error(`no model module in the bundle ${outdir}: ${files.join(", ")}`);
  files.sort((a, b) => Number(b === "index.js") - Number(a === "index.js"));
  return {
    name,
    compatibilityDate: COMPATIBILITY_DATE,
    modulesRoot: outdir,
    modules: files.map((f) => ({
      type: f.endsWith(".js") ? "ESModule" as const : f.endsWith(".wasm") ? "CompiledWasm" as const : "Data" as const,
      path: join(outdir, f),
      ...(f === modelModule ? { contents: model } : {}),
    })),
    bindings: vars,
  };
}
