// cli/test/serve-helpers.ts: what the serve tests share: a real server started in this process (startServer from
// the CLI's sources; its pool's workers run the built cli/dist/serve/worker.js, so the build must be current) on a
// free loopback port, small models made with the library and saved as a user would save them, HTTP calls with
// fetch, and the expected results computed in this process with the plain layer (fromTorch + forward).
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fromTorch, GRU, init, Linear, LSTM, RNN, saveSafetensors, tensor, type RecurrentLayer, type Tensor } from "rnn-wasm";
import { resolveServeOptions, type ServeOptions } from "../src/serve/options.js";
import { startServer, type ServerHandle } from "../src/serve/server.js";
import { CLI_ROOT, ROOT, tempDir, writeTensors } from "./helpers.js";

export const DEMO_MODEL = join(CLI_ROOT, "data/lstm-demo.safetensors");

/**
 * The pool's workers run the built cli/dist/serve/*.js: fails with advice when they are missing or older than
 * cli/src/serve/, or when the library's serving bundle is missing (the rest of the library is requireBuild's job,
 * which binary.test.ts runs).
 */
export function requireServeBuild(): void {
  const stale: string[] = [];
  const src = join(CLI_ROOT, "src/serve");
  for (const f of readdirSync(src).filter((n) => n.endsWith(".ts"))) {
    const built = join(CLI_ROOT, "dist/serve", f.replace(/\.ts$/, ".js"));
    if (!existsSync(built) || statSync(built).mtimeMs < statSync(join(src, f)).mtimeMs) stale.push(`cli/src/serve/${f}`);
  }
  if (!existsSync(join(ROOT, "dist/rnn-wasm.serving.js"))) stale.push("dist/rnn-wasm.serving.js (missing)");
  if (stale.length) throw new Error(`the build is older than ${stale.join(", ")}: run \`npm run build\` before the serve tests`);
}

export interface TestServer extends ServerHandle {
  /** The JSON log lines the server wrote. */
  logs(): string[];
}

/** Starts a server on 127.0.0.1 and a free port, with one thread unless `options` say otherwise. */
export async function serve(options: Partial<ServeOptions> & { model: string }): Promise<TestServer> {
  requireServeBuild();
  const lines: string[] = [];
  const o = resolveServeOptions({ port: 0, threads: 1, logLevel: "warn", ...options });
  const server = await startServer(o, { write: (text: string) => lines.push(text) });
  return Object.assign(server, { logs: () => lines.join("").split("\n").filter(Boolean) });
}

/** A model file in a temporary folder: the layer's state_dict under `prefix`, and a head under "head." when given. */
export function saveModel(layer: RecurrentLayer, options: { prefix?: string; head?: Linear; dir?: string; name?: string } = {}): string {
  const tensors: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(layer.toTorch())) tensors[(options.prefix ?? "") + k] = v;
  if (options.head) for (const [k, v] of Object.entries(options.head.toTorch())) tensors["head." + k] = v;
  return writeTensors(join(options.dir ?? tempDir(), options.name ?? "model.safetensors"), tensors);
}

/** Small models of each shape the server must handle, saved to files, with the layers kept to compute expectations. */
export async function smallModels() {
  await init();
  const dir = tempDir();
  const lstmHead = { layer: new LSTM({ inputSize: 3, hiddenSize: 5, numLayers: 2, seed: 11 }) as RecurrentLayer, head: new Linear({ inFeatures: 5, outFeatures: 2, seed: 12 }) };
  const gru = { layer: new GRU({ inputSize: 4, hiddenSize: 6, seed: 13 }) as RecurrentLayer };
  const rnnBidir = { layer: new RNN({ inputSize: 3, hiddenSize: 4, bidirectional: true, seed: 14 }) as RecurrentLayer };
  return {
    lstmHead: { ...lstmHead, file: saveModel(lstmHead.layer, { prefix: "rnn.", head: lstmHead.head, dir, name: "lstm-head.safetensors" }) },
    gru: { ...gru, file: saveModel(gru.layer, { dir, name: "gru.safetensors" }) },
    rnnBidir: { ...rnnBidir, file: saveModel(rnnBidir.layer, { prefix: "encoder.", dir, name: "rnn-bidir.safetensors" }) },
  };
}

/** The plain layer's answer for one unbatched sequence [T, I] (and its head at every step): what the server must give. */
export function expected(layer: RecurrentLayer, input: number[][], state?: { h?: number[][]; c?: number[][] }, head?: Linear) {
  const T = input.length, I = input[0].length;
  const r = layer.forward(tensor([T, I], Float32Array.from(input.flat())), {
    ...(state?.h ? { h0: tensor([state.h.length, state.h[0].length], Float32Array.from(state.h.flat())) } : {}),
    ...(state?.c ? { c0: tensor([state.c.length, state.c[0].length], Float32Array.from(state.c.flat())) } : {}),
  });
  const out: { output: Float32Array; head?: Float32Array; h: Float32Array; c?: Float32Array } = { output: r.output.data, h: r.hN.data, ...(r.cN ? { c: r.cN.data } : {}) };
  if (head) out.head = head.forward(tensor([T, r.output.shape[1]], r.output.data)).data;
  return out;
}

/** Deterministic inputs: T rows of I numbers in [-1, 1]. */
export function rows(T: number, I: number, seed = 1): number[][] {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  return Array.from({ length: T }, () => Array.from({ length: I }, () => Math.fround(next())));
}

export interface Answer {
  status: number;
  headers: Headers;
  bytes: Uint8Array;
  text: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** One HTTP request; the answer read whole (its JSON parsed when it is JSON). */
export async function call(url: string, init: RequestInit & { json?: unknown } = {}): Promise<Answer> {
  const { json, ...rest } = init;
  const r = await fetch(url, json === undefined ? rest : { method: "POST", ...rest, headers: { "content-type": "application/json", ...(rest.headers as Record<string, string>) }, body: JSON.stringify(json) });
  const bytes = new Uint8Array(await r.arrayBuffer());
  const text = new TextDecoder().decode(bytes);
  let parsed: unknown;
  if ((r.headers.get("content-type") ?? "").startsWith("application/json")) parsed = JSON.parse(text);
  return { status: r.status, headers: r.headers, bytes, text, json: parsed };
}

/** input [T, I] as raw little-endian float32 with its X-Shape. */
export function rawBody(input: number[][]): { body: Uint8Array<ArrayBuffer>; headers: Record<string, string> } {
  const data = Float32Array.from(input.flat());
  return { body: new Uint8Array(data.buffer), headers: { "content-type": "application/octet-stream", "x-shape": `${input.length},${input[0].length}` } };
}

/** input (and h0, c0) as a safetensors body. */
export function safetensorsBody(tensors: Record<string, number[][]>): { body: Uint8Array<ArrayBuffer>; headers: Record<string, string> } {
  const t: Record<string, Tensor> = {};
  for (const [name, m] of Object.entries(tensors)) t[name] = tensor([m.length, m[0].length], Float32Array.from(m.flat()));
  return { body: saveSafetensors(t) as Uint8Array<ArrayBuffer>, headers: { "content-type": "application/vnd.safetensors" } };
}

/**
 * A JSON answer's numbers as the float32 values they stand for: the server writes each float32 in 9 significant
 * digits, which read back (Math.fround) to exactly that float32.
 */
export function f32<T>(value: T): T {
  if (typeof value === "number") return Math.fround(value) as T;
  if (Array.isArray(value)) return value.map(f32) as T;
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, f32(v)])) as T;
  return value;
}

/** A row-major [rows, cols] array as nested arrays (for comparing with a JSON answer read through f32). */
export function nested(data: Float32Array, cols: number): number[][] {
  return Array.from({ length: data.length / cols }, (_, r) => Array.from(data.subarray(r * cols, (r + 1) * cols)));
}

/** A metric's value from Prometheus text: `name{labels} value` (labels as written, in prom-client's order). */
export function metric(text: string, name: string, labels = ""): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(labels ? `${name}{${labels}} ` : `${name} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

export { fromTorch };
