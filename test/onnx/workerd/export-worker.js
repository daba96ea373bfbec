// test/onnx/workerd/export-worker.js: a Worker that writes ONNX files with toOnnx inside workerd, loaded by Miniflare
// straight from the repository as onnx-worker.js is (the package's workerd entry and dist/src/onnx/index.js).
// GET /?seed=N builds the seeded model export.workerd.test.ts builds in Node, trains it one step (so the file holds
// weights the Worker computed) and returns toOnnx's bytes, then what fromOnnx computes from them on a fixed input.
import * as rnn from "../../../workerd/index.js";
import { fromOnnx, toOnnx } from "../../../dist/src/onnx/index.js";

export default {
  async fetch(request) {
    await rnn.init();
    const seed = Number(new URL(request.url).searchParams.get("seed"));
    try {
      const model = new rnn.Sequential([
        new rnn.GRU({ inputSize: 3, hiddenSize: 5, bidirectional: true, batchFirst: true, seed }),
        new rnn.LastStep(),
        new rnn.Linear({ inFeatures: 10, outFeatures: 2, seed: seed + 1 }),
      ]);
      const x = rnn.tensor([2, 4, 3], Float32Array.from({ length: 24 }, (_, i) => Math.sin(i)));
      const sgd = new rnn.SGD(model, { lr: 0.1 });
      model.backward(rnn.mseLoss(model.forward(x, { train: true }), rnn.tensor([2, 2])).grad);
      sgd.step();
      const bytes = toOnnx(model);
      const onnx = fromOnnx(bytes);
      const output = onnx.run({ input: x }).output;
      onnx.dispose();
      model.dispose();
      return Response.json({ bytes: Array.from(bytes), output: { shape: output.shape, data: Array.from(output.data) } });
    } catch (e) {
      return Response.json({ error: e instanceof rnn.RnnError ? `RnnError ${e.code}: ${e.message}` : String(e) }, { status: 400 });
    }
  },
};
