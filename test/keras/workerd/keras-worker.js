// test/keras/workerd/keras-worker.js: a Worker that runs rnn-wasm/keras inside workerd, loaded by Miniflare straight
// from the repository (no bundler): the package's workerd entry and dist/src/keras/index.js, what "rnn-wasm/keras"
// resolves to under the "workerd" condition (tsc's output, whose zip and HDF5 readers are the build's
// self-contained bundle, dist/src/keras/readers.js). POST / with a .keras file's bytes predicts on the input in the
// x-input header (JSON { shape, data }) and returns the output.
import * as rnn from "../../../workerd/index.js";
import { fromKeras } from "../../../dist/src/keras/index.js";

export default {
  async fetch(request) {
    await rnn.init();
    const bytes = new Uint8Array(await request.arrayBuffer());
    const x = JSON.parse(request.headers.get("x-input"));
    try {
      const model = fromKeras(bytes);
      const y = model.predict(rnn.tensor(x.shape, Float32Array.from(x.data)));
      model.dispose();
      return Response.json({ shape: y.shape, data: Array.from(y.data) });
    } catch (e) {
      return Response.json({ error: e instanceof rnn.RnnError ? `RnnError ${e.code}: ${e.message}` : String(e) }, { status: 400 });
    }
  },
};
