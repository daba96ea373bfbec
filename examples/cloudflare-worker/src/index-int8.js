// The same Worker serving the model quantized to int8 (wrangler.int8.toml): model.int8.safetensors, written from
// model.safetensors by `npx rnn-wasm quantize --model model.safetensors --dtype int8 --out model.int8.safetensors`.
// A quarter of the bytes to bundle, read and pack (README.md: "An int8 model").
import modelFile from "../model.int8.safetensors"; // an ArrayBuffer: wrangler.int8.toml's Data rule
import { modelWorker } from "./worker.js";

export default modelWorker(modelFile);
