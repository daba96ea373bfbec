// src/worker-pool/worker.ts: one ModelPool worker (shipped as dist/rnn-wasm.pool-worker.js). It loads its own wasm
// runtime and the model once, says "ready" (or why not, then exits), and answers each batch the main thread sends:
// every request is checked alone, so a bad one is refused without spoiling the others, and the good ones run as
// one ServedModel.run. Results go back with their buffers transferred.
import { readFile } from "node:fs/promises";
import { parentPort, workerData } from "node:worker_threads";
import { init } from "../node.js";
import { RnnError } from "../errors.js";
import { ServedModel, type SequenceRequest, type SequenceResult } from "../serving/served-model.js";
import { buffersOf, crossError, type FromWorker, type Outcome, type RunBatch, type WorkerSetup } from "./messages.js";

const port = parentPort!;
const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

async function load(setup: WorkerSetup): Promise<ServedModel> {
  await init(undefined, setup.build ? { build: setup.build } : {});
  const bytes = typeof setup.model === "string" ? await readModelFile(setup.model) : setup.model;
  return ServedModel.fromSafetensors(bytes, setup.options);
}

async function readModelFile(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new RnnError("missing", `cannot read the model file ${path}: ${(e as Error).message}`);
  }
}

function answer(model: ServedModel, { id, requests }: RunBatch): void {
  const outcomes: Outcome[] = new Array(requests.length);
  const good: SequenceRequest[] = [];
  const at: number[] = [];
  requests.forEach((r, i) => {
    try {
      model.check(r);
      good.push(r);
      at.push(i);
    } catch (e) {
      outcomes[i] = { error: crossError(e) };
    }
  });
  let results: SequenceResult[] = [];
  try {
    results = model.run(good, { checked: true }); // each checked above
  } catch (e) {
    for (const i of at) outcomes[i] = { error: crossError(e) };
  }
  results.forEach((result, k) => (outcomes[at[k]] = { result }));
  post({ type: "done", id, outcomes }, buffersOf(results.flatMap((r) => [r.output, r.head, r.hN, r.cN])));
}

try {
  const model = await load(workerData as WorkerSetup);
  port.on("message", (batch: RunBatch) => answer(model, batch));
  post({ type: "ready", info: model.info });
} catch (e) {
  post({ type: "failed", error: crossError(e) }); // nothing listens for messages: the worker ends here
}
