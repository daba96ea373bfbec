// Quantized models in files: the demo LSTM (64 -> 256, W-seq's shape) quantized to int8 by fromTorch, saved with
// saveQuantized (int8 weights, float32 row scales and biases, the architecture in the metadata), and loaded back with
// loadQuantized, which packs the file's integers as they are: the loaded model's output is the saved one's, bit for bit.
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { init, fromTorch, loadQuantized, loadSafetensors, saveQuantized, tensor } from "rnn-wasm";

await init();
const floatFile = readFileSync(new URL("../cli/data/lstm-demo.safetensors", import.meta.url));
const path = join(mkdtempSync(join(tmpdir(), "quantize-file-")), "lstm.int8.safetensors");
const x = tensor([128, 64], Float32Array.from({ length: 128 * 64 }, (_, k) => Math.sin(k * 0.37)));

// #region save-load
const int8 = fromTorch(loadSafetensors(floatFile).tensors, { dtype: "int8" }); // quantized; the float layer is freed
writeFileSync(path, saveQuantized(int8, { source: "lstm-demo.safetensors" })); // any metadata of yours beside the format's

const loaded = loadQuantized(readFileSync(path)); // a QuantizedLayer (a QuantizedCell for a cell's file)
const a = int8.forward(x).output, b = loaded.forward(x).output;
const same = a.data.every((v, i) => Object.is(v, b.data[i]));
console.log(`${readFileSync(path).byteLength} bytes (float32: ${floatFile.byteLength}); ${loaded.dtype} ${loaded.form}; same output: ${same}`);
// #endregion

int8.dispose();
loaded.dispose();
if (!same) throw new Error("the loaded model's output differs from the saved one's");
