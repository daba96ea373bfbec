// test/node24.config.ts: the suite's second pass, on Node 24 (`npm run test:node24`; scripts/node24.mjs fetches
// the binary). It reruns only the tests whose outcome can depend on the JavaScript engine's version:
//   - wasm code generation and execution: the kernels against the reference on every build (V8 lowers SIMD and
//     relaxed SIMD, whose fused multiply-adds and reorderings are the engine's choice, anew in each version), and
//     the layers, cells, optimizers and gradient clipping that run on them (numerical API and training tests, the
//     PyTorch fixtures, the wasm backward against the reference's);
//   - what V8 decides when it loads a module: which builds validate (relaxed SIMD without a flag from Node 22 on),
//     each export's arity, memory growth and the views it detaches;
//   - garbage collection: a layer dropped without dispose() gives its memory back through a FinalizationRegistry;
//   - serving: a batched forward equals each request run alone, bit for bit, which holds only as long as the
//     engine computes each batch row the same way whatever the batch size.
// Not rerun: what is the same JavaScript on every engine, checked once on the machine's Node: argument validation
// and error messages (test/api/errors, hostile), files (test/io, test/fuzz), the float64 reference against finite
// differences (test/gradcheck/reference), the example programs (they call the API the numerical tests cover),
// and test/js-runtimes, which starts Node 24 itself. Docs, bundlers, the packed package and the CLI are not
// engine tests either. A new test file runs here only once it is listed below.
import { defineConfig } from "vitest/config";
import base from "../vitest.config.js";

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: [
      "test/kernels/**/*.test.ts",
      "test/wasm-runtime/**/*.test.ts",
      "test/gradcheck/wasm-backward.test.ts",
      "test/api/{layers.property,chunked-inference,streaming,torch-roundtrip,memory,finalization,quantize,quantize-torch,quantize-sequential,quantize-classify,quantize-file-wasm-pack}.test.ts",
      "test/torch/**/*.test.ts",
      "test/train/**/*.test.ts",
      "test/serving/served-model.test.ts",
      "test/serving/served-model.quantized.test.ts",
    ],
  },
});
