// Keeping Node's event loop free: rnn-wasm's calls are synchronous and run on the thread that makes them, so a
// server runs its model in a worker thread. This file is both halves: the main thread sends sequences and keeps
// ticking while the worker (the same file, with its own init() and wasm memory) computes.
import { isMainThread, parentPort, Worker } from "node:worker_threads";
import { init, LSTM, tensor } from "rnn-wasm";

if (!isMainThread) {
  await init(); // each thread loads its own wasm instance
  const lstm = new LSTM({ inputSize: 64, hiddenSize: 256, seed: 1 }); // or fromTorch(...) on a saved model
  parentPort.on("message", ({ id, shape, data }) => {
    const { output } = lstm.forward(tensor(shape, data));
    parentPort.postMessage({ id, shape: output.shape, data: output.data }, [output.data.buffer]); // moved, not copied
  });
} else {
  const worker = new Worker(new URL(import.meta.url));
  const pending = new Map();
  worker.on("message", ({ id, ...y }) => { pending.get(id)(y); pending.delete(id); });
  let nextId = 0;
  const forward = (x) => new Promise((resolve) => {
    pending.set(nextId, resolve);
    worker.postMessage({ id: nextId++, ...x }, [x.data.buffer]);
  });

  let ticks = 0;
  const timer = setInterval(() => ticks++, 1); // the event loop keeps running while the worker computes
  const started = performance.now();
  const outputs = await Promise.all(Array.from({ length: 20 }, () => forward(tensor([128, 1, 64], new Float32Array(128 * 64).fill(0.1)))));
  const ms = performance.now() - started;
  clearInterval(timer);
  console.log(`${outputs.length} sequences, output [${outputs[0].shape}], in ${ms.toFixed(0)} ms; the main thread ticked ${ticks} times meanwhile`);
  await worker.terminate();
  if (!(ticks > 0)) throw new Error("the event loop was blocked");
}
