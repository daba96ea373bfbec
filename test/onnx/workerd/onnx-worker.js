// test/onnx/workerd/onnx-worker.js: a Worker that runs rnn-wasm/onnx inside workerd, loaded by Miniflare straight from
// the repository (no bundler): the package's workerd entry and dist/src/onnx/index.js, what "rnn-wasm/onnx" resolves
// to under the "workerd" condition (tsc's output, whose protobuf reader is the build's self-contained bundle).
// POST / with an ONNX model's bytes runs it on the feeds in the x-feeds header (JSON) and returns its outputs.
import * as rnn from "../../../workerd/index.js";
import { fromOnnx } from "../../../dist/src/onnx/index.js";

export default {
  async fetch(request) {
    await rnn.init();
    const bytes = new Uint8Array(await request.arrayBuffer());
    const feeds = Object.fromEntries(Object.entries(JSON.parse(request.headers.get("x-feeds"))).map(([k, v]) => [
      k, { shape: v.shape, data: v.dtype === "int32" ? Int32Array.from(v.data) : Float32Array.from(v.data) },
    ]));
    try {
      const model = fromOnnx(bytes);
      const out = model.run(feeds);
      model.dispose();
      return Response.json(Object.fromEntries(Object.entries(out).map(([k, t]) => [k, { shape: t.shape, data: Array.from(t.data) }])));
    } catch (e) {
      return Response.json({ error: e instanceof rnn.RnnError ? `RnnError ${e.code}: ${e.message}` : String(e) }, { status: 400 });
    }
  },
};
