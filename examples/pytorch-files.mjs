// The files the README's PyTorch recipe writes, for the examples that load them (run-pytorch-lstm.mjs,
// pytorch-head.mjs): makes a fresh folder the working directory and writes model.safetensors and
// sample.safetensors there. With a python3 that has torch (PYTHON, /usr/bin/python3, or python3 on PATH) it runs
// the recipe itself, examples/export_lstm_head.py; without one it writes the same state_dict from rnn-wasm's own
// LSTM and Linear (other random weights), and the sample's output is then rnn-wasm's, not PyTorch's.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { init, Linear, LSTM, saveSafetensors, Sequential, tensor } from "rnn-wasm";

const recipe = fileURLToPath(new URL("./export_lstm_head.py", import.meta.url));
const folder = mkdtempSync(join(tmpdir(), "rnn-wasm-pytorch-"));
process.chdir(folder);
process.on("exit", () => rmSync(folder, { recursive: true, force: true }));

/** "PyTorch" when export_lstm_head.py wrote the files, "rnn-wasm" when no python3 with torch was found. */
export let writtenBy = "rnn-wasm";
for (const py of [process.env.PYTHON, "/usr/bin/python3", "python3"].filter(Boolean)) {
  if (spawnSync(py, ["-c", "import torch"], { encoding: "utf8" }).status !== 0) continue; // no such python, or no torch
  const r = spawnSync(py, [recipe], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${recipe} failed:\n${r.stderr}`);
  writtenBy = "PyTorch";
  break;
}
if (writtenBy === "rnn-wasm") {
  // Model() of the recipe: lstm = nn.LSTM(8, 32, num_layers=2, batch_first=True), head = nn.Linear(32, 1).
  await init();
  const lstm = new LSTM({ inputSize: 8, hiddenSize: 32, numLayers: 2, batchFirst: true, seed: 1 });
  const head = new Linear({ inFeatures: 32, outFeatures: 1, seed: 2 });
  const stateDict = {};
  for (const [name, t] of Object.entries(lstm.toTorch())) stateDict[`lstm.${name}`] = t;
  for (const [name, t] of Object.entries(head.toTorch())) stateDict[`head.${name}`] = t;
  writeFileSync("model.safetensors", saveSafetensors(stateDict));
  const input = tensor([3, 20, 8], Float32Array.from({ length: 3 * 20 * 8 }, (_, i) => Math.sin(i * 0.37)));
  const model = new Sequential([lstm, head]);
  writeFileSync("sample.safetensors", saveSafetensors({ input, output: model.forward(input) }));
  model.dispose();
}
console.log(`model.safetensors and sample.safetensors written by ${writtenBy}${writtenBy === "PyTorch" ? "" : " (no python3 with torch here)"}`);
