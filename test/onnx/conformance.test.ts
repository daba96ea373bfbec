// test/onnx/conformance.test.ts: fromOnnx(model).run(feeds) against the expected outputs of every ONNX fixture
// (scripts/make_onnx_fixtures.py; rerun: /usr/bin/python3 scripts/make_onnx_fixtures.py):
//   conformance/  ONNX's own LSTM/GRU/RNN node tests (python3-onnx's generators, their numpy references)
//   attributes/   every attribute and optional input, against the script's float64 numpy model of the spec
//   torch/        PyTorch's nn.LSTM/GRU/RNN written as ONNX nodes, against PyTorch's float64 outputs
//   exported/     whole models through torch.onnx.export (stacked, bidirectional, batch-first, Linear heads, dynamic
//                 axes run at other sizes than the export's), against PyTorch's float64 outputs
// Each case runs three ways: as fromOnnx chooses (the wasm layers when the attributes allow, else the TypeScript
// ONNX path), with the layers' reference backend, and on the TypeScript ONNX path for every node; so both paths
// are checked on every case they can run. Expected values are float64 results rounded to float32; our float32
// runs differ by summation order only, over at most 7 steps of sizes <= 17: TOL = 1e-5 (the bound) leaves
// room for that and is far below what a wrong gate order, bias half or direction moves (1e-2 and more).
import { beforeAll, describe, expect, it } from "vitest";
import { init, maxAbsDiff } from "../../src/index.js";
import { loadOnnx } from "../../src/onnx/model.js";
import { caseNames, loadCase, numbers } from "./fixtures.js";

const TOL = 1e-5;
const GROUPS = ["conformance", "attributes", "torch", "exported"];
const WAYS = [
  { way: "default (wasm layers where they fit)", options: {}, reference: false },
  { way: "layers' reference backend", options: { backend: "reference" as const }, reference: false },
  { way: "TypeScript ONNX path", options: {}, reference: true },
];

beforeAll(async () => {
  await init();
});

describe.each(GROUPS)("ONNX fixtures: %s", (group) => {
  const names = caseNames(group);
  it("has its cases", () => expect(names.length).toBeGreaterThan(5));
  // the conformance generators' outputs are stored under the names the graph gives them
  it.each(names)("%s", (name) => {
    const c = loadCase(group, name);
    for (const { way, options, reference } of WAYS) {
      const model = loadOnnx(c.model, options, reference);
      try {
        expect(model.outputNames.sort()).toEqual(Object.keys(c.expected).sort());
        const got = model.run(c.feeds);
        for (const [out, want] of Object.entries(c.expected)) {
          expect(got[out].shape, `${out} shape, ${way}`).toEqual(want.shape);
          const diff = maxAbsDiff(got[out].data, Float32Array.from(numbers(want)));
          expect(diff, `${out}, ${way}: max |diff| ${diff}`).toBeLessThan(TOL);
        }
      } finally {
        model.dispose();
      }
    }
  });
});
