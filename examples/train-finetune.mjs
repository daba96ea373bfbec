// Fine-tuning a PyTorch model: load nn.LSTM(64, 256)'s state_dict (cli/data/lstm-demo.safetensors), train it with a
// new linear head, save both as one state_dict, and load that back into PyTorch with load_state_dict. When a
// python3 with torch is installed (PYTHON, /usr/bin/python3 or python3 on PATH), the Python below really runs
// and checks that PyTorch's predictions match these; otherwise that step is skipped with a note.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { init, Adam, fromTorch, LastStep, Linear, loadSafetensors, mseLoss, saveSafetensors, Sequential, tensor } from "rnn-wasm";

await init();
const folder = mkdtempSync(join(tmpdir(), "rnn-wasm-finetune-"));

// #region load
const pretrained = loadSafetensors(readFileSync(new URL("../cli/data/lstm-demo.safetensors", import.meta.url))).tensors;
const lstm = fromTorch(pretrained); // nn.LSTM(64, 256): weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0
const head = new Linear({ inFeatures: 256, outFeatures: 1, seed: 1 }); // a new head, as nn.Linear(256, 1)
const model = new Sequential([lstm, new LastStep(), head]);
const optimizer = new Adam(model, { lr: 1e-3 });
// #endregion

// The task: the sum of feature 0 over each sequence, scaled by 1/4.
const T = 16, B = 16, I = 64;
let seed = 5;
const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
function batch() {
  const x = tensor([T, B, I], Float32Array.from({ length: T * B * I }, () => 2 * random() - 1));
  const y = tensor([B, 1]);
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) y.data[b] += x.data[(t * B + b) * I] / 4;
  return { x, y };
}
const losses = [];
for (let step = 1; step <= 60; step++) {
  const { x, y } = batch();
  optimizer.zeroGrad();
  const { loss, grad } = mseLoss(model.forward(x, { train: true }), y);
  model.backward(grad);
  optimizer.step();
  losses.push(loss);
  if (step % 20 === 0 || step === 1) console.log(`step ${String(step).padStart(2)}  mse ${loss.toFixed(5)}`);
}

// #region save
// One state_dict for the whole model, named as the PyTorch module below names its parameters.
const stateDict = {};
for (const [name, t] of Object.entries(lstm.toTorch())) stateDict[`lstm.${name}`] = t;
for (const [name, t] of Object.entries(head.toTorch())) stateDict[`head.${name}`] = t;
writeFileSync(join(folder, "finetuned.safetensors"), saveSafetensors(stateDict));
// #endregion

// An input and what this model predicts for it, for PyTorch to compare with.
const { x } = batch();
const prediction = model.forward(x);
writeFileSync(join(folder, "check.safetensors"), saveSafetensors({ input: x, prediction }));
console.log(`saved the fine-tuned model: ${Object.keys(stateDict).join(", ")}`);
optimizer.dispose();
model.dispose();

// #region reload
// The same file back into rnn-wasm: each module's tensors picked out of the state_dict by their prefix.
const saved = loadSafetensors(readFileSync(join(folder, "finetuned.safetensors"))).tensors;
const reloaded = new Sequential([fromTorch(saved, { prefix: "lstm." }), new LastStep(), Linear.fromTorch(saved, { prefix: "head." })]);
// #endregion
const again = reloaded.forward(x);
reloaded.dispose();
if (!again.data.every((v, i) => v === prediction.data[i])) throw new Error("the reloaded model predicts differently");
const mean = (a) => a.reduce((s, v) => s + v) / a.length;
if (!(mean(losses.slice(-10)) < mean(losses.slice(0, 10)) / 2)) throw new Error("fine-tuning did not lower the loss");

const python = String.raw`
import json, os, struct, sys
try:
    import torch
except ImportError:
    sys.exit(3)  # no torch in this python: try the next one

try:
    from safetensors.torch import load_file
except ImportError:  # the format is simple enough to read without the package
    def load_file(path):
        data = open(path, "rb").read()
        n = struct.unpack("<Q", data[:8])[0]
        header = {k: v for k, v in json.loads(data[8:8 + n]).items() if k != "__metadata__"}
        return {k: torch.frombuffer(bytearray(data[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]]),
                                    dtype=torch.float32).reshape(v["shape"]) for k, v in header.items()}

folder = sys.argv[1]
# region python
class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(input_size=64, hidden_size=256)
        self.head = torch.nn.Linear(256, 1)

    def forward(self, x):  # x (T, B, 64) -> (B, 1): the head on the last step's output
        output, _ = self.lstm(x)
        return self.head(output[-1])

model = Model()
model.load_state_dict(load_file(os.path.join(folder, "finetuned.safetensors")))  # strict: every name must match
# endregion

check = load_file(os.path.join(folder, "check.safetensors"))
with torch.no_grad():
    diff = (model(check["input"]) - check["prediction"]).abs().max().item()
print(f"PyTorch loaded the fine-tuned state_dict; max |PyTorch - rnn-wasm| on a new batch = {diff:.2e}")
sys.exit(0 if diff < 1e-4 else 1)
`;

let ran = false;
for (const py of [process.env.PYTHON, "/usr/bin/python3", "python3"].filter(Boolean)) {
  const r = spawnSync(py, ["-c", python, folder], { encoding: "utf8" });
  if (r.error || r.status === 3) continue; // no such python, or no torch in it
  process.stdout.write(r.stdout);
  if (r.status !== 0) throw new Error(`PyTorch could not load the fine-tuned model or disagrees with it:\n${r.stderr}`);
  ran = true;
  break;
}
if (!ran) console.log("no python3 with torch here: skipped loading the state_dict back into PyTorch");
rmSync(folder, { recursive: true, force: true });
