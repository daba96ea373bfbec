// Loading the wasm: where it comes from, which build runs, several runtimes side by side, and the memory a
// runtime holds as layers come and go.
import { readFileSync } from "node:fs";
import assert from "node:assert/strict";
import { BUILDS, createRuntime, init, LSTM, supportsBuild, tensor } from "rnn-wasm";

// #region builds
// The package ships three builds of the kernels; init() picks the first one this engine validates.
for (const build of BUILDS) console.log(`${build.padEnd(7)} supported: ${await supportsBuild(build)}`);
const runtime = await init(); // the default runtime, used by every layer created without `runtime`
console.log("init() chose", runtime.build); // 'simd' on Node 20, 'relaxed' on Node >= 22 and workerd
// #endregion

// #region sources
// init() and createRuntime() also take the wasm themselves: bytes, a compiled WebAssembly.Module (what
// `import wasm from "rnn-wasm/wasm/rnn-simd.wasm"` gives on Cloudflare Workers), a fetch Response, or a URL.
// `build` then says which build the source is (default 'simd').
const url = new URL(import.meta.resolve("rnn-wasm/wasm/rnn-scalar.wasm"));
const bytes = readFileSync(url);
const fromBytes = await createRuntime(bytes, { build: "scalar" });
const fromModule = await createRuntime(await WebAssembly.compile(bytes), { build: "scalar" });
const fromUrl = await createRuntime(url, { build: "scalar" });
const forced = await createRuntime(undefined, { build: "scalar" }); // the package's own scalar file
console.log([fromBytes, fromModule, fromUrl, forced].map((r) => r.build).join(", "));
// #endregion

// #region runtimes
// Each runtime is an independent instance with its own memory; a layer runs on the one it was created with.
const x = tensor([4, 1, 3], Float32Array.from({ length: 12 }, (_, i) => i / 12));
const onDefault = new LSTM({ inputSize: 3, hiddenSize: 6, seed: 5 });
const onScalar = new LSTM({ inputSize: 3, hiddenSize: 6, seed: 5, runtime: forced });
const onReference = new LSTM({ inputSize: 3, hiddenSize: 6, seed: 5, backend: "reference" }); // plain TypeScript, no wasm
const outputs = [onDefault, onScalar, onReference].map((m) => m.forward(x).output.data);
let maxDiff = 0;
for (const o of outputs) for (let i = 0; i < o.length; i++) maxDiff = Math.max(maxDiff, Math.abs(o[i] - outputs[2][i]));
console.log(`same seed, three backends: max difference ${maxDiff.toExponential(2)}`); // SIMD sums in another order
for (const m of [onDefault, onScalar, onReference]) m.dispose();
// #endregion

// #region memory
// A layer holds two blocks of wasm memory: its parameters, and a workspace that grows when a longer sequence
// or larger batch arrives and is reused otherwise. Nothing is allocated per timestep, nor per call once the
// workspace is big enough. dispose() returns both blocks.
const rt = await createRuntime();
const bytesInUse = () => rt.bytesInUse;
const lstm = new LSTM({ inputSize: 16, hiddenSize: 32, seed: 1, runtime: rt });
const params = bytesInUse();
lstm.forward(tensor([100, 4, 16])); // the workspace grows to fit T=100, B=4
const grown = bytesInUse();
for (let i = 0; i < 50; i++) lstm.forward(tensor([10, 2, 16])); // smaller calls reuse it
console.log(`parameters ${params} bytes; with workspace ${grown} bytes; after 50 smaller calls ${bytesInUse()} bytes`);
assert.equal(bytesInUse(), grown);
lstm.dispose();
console.log(`after dispose(): ${bytesInUse()} bytes in ${rt.blocksInUse} blocks`);
assert.equal(bytesInUse(), 0);
// #endregion
