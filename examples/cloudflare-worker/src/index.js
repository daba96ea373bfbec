// A Cloudflare Worker that serves a PyTorch recurrent model with rnn-wasm (src/worker.js: the endpoints, the requests
// and answers, the errors): this entry serves model.safetensors, a PyTorch state_dict (wrangler.toml). To serve
// another model, put its file in place of model.safetensors, or change the import below.
import modelFile from "../model.safetensors"; // an ArrayBuffer: wrangler.toml's Data rule
import { modelWorker } from "./worker.js";

export default modelWorker(modelFile);
