// test/js-runtimes/workerd/parity-worker.js: a Worker that runs the parity case inside workerd, loaded by Miniflare
// straight from the repository (no bundler): it imports the package's workerd entry, which imports the three .wasm
// files as modules (Miniflare's CompiledWasm rule). GET / returns the parity result; GET /compile-from-bytes shows
// what workerd says when asked to compile wasm from bytes, the reason the workerd entry imports modules.
import * as rnn from "../../../workerd/index.js";
import simd from "../../../build/rnn-simd.wasm";
import { parityRun } from "../parity-case.js";

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    if (pathname === "/compile-from-bytes") {
      // the bytes of a module we have: an empty module is enough to ask
      const bytes = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
      try {
        await WebAssembly.compile(bytes);
        return Response.json({ compiled: true });
      } catch (e) {
        return Response.json({ compiled: false, error: String(e.message) });
      }
    }
    if (pathname === "/init-module") {
      // init(source) with a Module, as a user who imports the .wasm themselves
      const runtime = await rnn.createRuntime(simd, { build: "simd" });
      return Response.json({ build: runtime.build, platform: "workerd" });
    }
    return Response.json(await parityRun(rnn));
  },
};
