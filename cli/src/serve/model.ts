// cli/src/serve/model.ts: the served model as both threads see it: the options ServedModel reads the file with, and
// the facts the routes and codecs need (ModelInfo). The main thread loads the model once itself before starting
// the pool, so that a bad file or option fails the command at once with the file named (exit 1), not in a worker.
import { RnnError, supportsBuild } from "rnn-wasm";
import { ServedModel, type ServedModelOptions } from "rnn-wasm/serving";
import { CliError, UsageError, describeSpec, readFileBytes } from "../common.js";
import type { ModelInfo, ModelLoadOptions } from "./protocol.js";
import type { ServeOptions } from "./options.js";

/** What the command line says about reading the model file. */
export function loadOptions(o: ServeOptions): ModelLoadOptions {
  return {
    ...(o.prefix !== undefined ? { prefix: o.prefix } : {}),
    headPrefix: o.headPrefix,
    ...(o.kind ? { kind: o.kind } : {}),
    ...(o.nonlinearity ? { nonlinearity: o.nonlinearity } : {}),
    ...(o.resetBefore ? { resetAfter: false } : {}),
    ...(o.build ? { build: o.build } : {}),
  };
}

/** ServedModelOptions for ModelLoadOptions (the runtime is each thread's default one, made by init()). */
export function servedModelOptions(o: ModelLoadOptions): ServedModelOptions {
  const { build: _build, ...rest } = o;
  return rest;
}

/** The facts the server needs, as plain data. */
export function modelInfo(model: ServedModel): ModelInfo {
  const head = model.headSize ? `, head ${model.headSize}` : "";
  const weights = model.dtype === "float32" ? "" : `, ${model.dtype} weights`;
  return { ...model.info, description: describeSpec(model.spec) + weights + head };
}

/**
 * Reads and checks the model file on this thread: its bytes (to share with the workers) and its facts. The check
 * builds the model on the reference backend, which needs no wasm memory here (the workers run the wasm).
 */
export async function readModel(path: string, options: ModelLoadOptions): Promise<{ bytes: Uint8Array; info: ModelInfo }> {
  if (options.build && !(await supportsBuild(options.build))) throw new UsageError(`--build ${options.build} does not run on this engine (Node ${process.versions.node})`);
  const bytes = readFileBytes(path, "model");
  let model: ServedModel;
  try {
    model = ServedModel.fromSafetensors(bytes, { ...servedModelOptions(options), backend: "reference" });
  } catch (e) {
    if (e instanceof RnnError) throw new CliError(`model file '${path}': ${e.message}`);
    throw e;
  }
  try {
    return { bytes, info: modelInfo(model) };
  } finally {
    model.dispose();
  }
}
