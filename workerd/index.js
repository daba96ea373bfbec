// workerd/index.js: the package's entry on Cloudflare Workers (export condition "workerd"), written by hand and
// shipped as is. Workers refuse to compile wasm from bytes ("Wasm code generation disallowed by embedder") and
// forbid eval/new Function, but a .wasm file imported as a module arrives compiled: wrangler and Miniflare's
// CompiledWasm rule give a WebAssembly.Module, which WebAssembly.instantiate accepts. So the three builds are
// imported here and init() picks one without compiling anything. A build the engine could not compile would have
// stopped the Worker from loading at all, so each imported Module is one the engine runs; the probe check
// (WebAssembly.validate, which compiles nothing) confirms it.
import relaxed from "../build/rnn-relaxed.wasm";
import simd from "../build/rnn-simd.wasm";
import scalar from "../build/rnn-scalar.wasm";
import { probeBuild, setPlatform } from "../dist/src/wasm-source.js";

const modules = { relaxed, simd, scalar };

setPlatform({
  name: "workerd",
  packagedWasm: async (build) => modules[build],
  supportsBuild: (build) => modules[build] instanceof WebAssembly.Module && probeBuild(build),
});

export * from "../dist/src/index.js";
