// test/onnx/paths.property.test.ts: the two paths of a recurrent node agree. fast-check draws LSTM/GRU/RNN nodes with
// attributes the wasm layers compute (forward, reverse or bidirectional; layout 0 or 1; linear_before_reset 0 or 1;
// Relu RNNs; with or without B, sequence_lens, initial states; weights as initializers or fed) at sizes that include
// ones off the SIMD width, and runs each on the wasm layers and on the TypeScript ONNX path: every output within
// 1e-5 (float32 sums in another order over at most 6 steps of sizes <= 19; a wrong gate, bias half or direction
// moves outputs by 1e-2 and more). The fixtures check both paths against numpy and PyTorch; this checks many more
// shapes against each other.
import fc from "fast-check";
import { beforeAll, expect, it, vi } from "vitest";
import { init, maxAbsDiff, RecurrentLayer, tensor, type Tensor } from "../../src/index.js";
import { loadOnnx } from "../../src/onnx/model.js";
import type { IntTensor } from "../../src/onnx/index.js";
import { writeModel, type Attr, type ModelSpec } from "./write-model.js";

beforeAll(async () => {
  await init();
});

const GATES = { LSTM: 4, GRU: 3, RNN: 1 } as const;

const nodeCase = fc.record({
  op: fc.constantFrom("LSTM", "GRU", "RNN"),
  I: fc.integer({ min: 1, max: 9 }),
  H: fc.integer({ min: 1, max: 19 }),
  T: fc.integer({ min: 1, max: 6 }),
  B: fc.integer({ min: 1, max: 4 }),
  direction: fc.constantFrom("forward", "reverse", "bidirectional"),
  layout: fc.constantFrom(0, 1),
  lbr: fc.constantFrom(0, 1),
  relu: fc.boolean(),
  bias: fc.boolean(),
  lengths: fc.boolean(),
  states: fc.boolean(),
  initializers: fc.boolean(),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
});

it("wasm layers and the TypeScript ONNX path give the same outputs", () => {
  const forward = vi.spyOn(RecurrentLayer.prototype, "forward");
  try {
    fc.assert(fc.property(nodeCase, (c) => {
      let s = c.seed;
      const rnd = (n: number) => Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 1.2);
      const D = c.direction === "bidirectional" ? 2 : 1, G = GATES[c.op], { I, H, T, B } = c;
      const attrs: Record<string, Attr> = { hidden_size: { i: H }, direction: { s: c.direction }, layout: { i: c.layout } };
      if (c.op === "GRU") attrs.linear_before_reset = { i: c.lbr };
      if (c.op === "RNN" && c.relu) attrs.activations = { strings: Array(D).fill("Relu") };
      const weights: Record<string, { dims: number[]; data: number[] }> = {
        W: { dims: [D, G * H, I], data: rnd(D * G * H * I) },
        R: { dims: [D, G * H, H], data: rnd(D * G * H * H) },
      };
      if (c.bias) weights.B = { dims: [D, 2 * G * H], data: rnd(D * 2 * G * H) };
      const stateDims = c.layout === 0 ? [D, B, H] : [B, D, H];
      const lengths = Int32Array.from({ length: B }, (_, b) => (b === 0 ? T : 1 + Math.floor(Math.abs(rnd(1)[0]) * 2 * T) % T));
      const nodeInputs = ["X", "W", "R", c.bias ? "B" : "", c.lengths ? "seq" : "", c.states ? "h0" : ""];
      if (c.op === "LSTM") nodeInputs.push(c.states ? "c0" : "");
      while (nodeInputs[nodeInputs.length - 1] === "") nodeInputs.pop();
      const spec: ModelSpec = {
        nodes: [{ op: c.op, inputs: nodeInputs, outputs: c.op === "LSTM" ? ["Y", "Y_h", "Y_c"] : ["Y", "Y_h"], attrs }],
        inputs: [{ name: "X" }],
        outputs: (c.op === "LSTM" ? ["Y", "Y_h", "Y_c"] : ["Y", "Y_h"]).map((name) => ({ name })),
        initializers: [],
      };
      const feeds: Record<string, Tensor | IntTensor> = { X: tensor(c.layout === 0 ? [T, B, I] : [B, T, I], Float32Array.from(rnd(T * B * I))) };
      for (const [name, w] of Object.entries(weights)) {
        if (c.initializers) spec.initializers!.push({ name, dims: w.dims, floats: w.data });
        else {
          spec.inputs.push({ name, dims: w.dims });
          feeds[name] = tensor(w.dims, Float32Array.from(w.data));
        }
      }
      if (c.lengths) {
        spec.inputs.push({ name: "seq", elemType: 6, dims: [B] });
        feeds.seq = { shape: [B], data: lengths };
      }
      if (c.states) {
        for (const name of c.op === "LSTM" ? ["h0", "c0"] : ["h0"]) {
          spec.inputs.push({ name, dims: stateDims });
          feeds[name] = tensor(stateDims, Float32Array.from(rnd(D * B * H)));
        }
      }
      const bytes = writeModel(spec);
      const calls = forward.mock.calls.length;
      const wasm = loadOnnx(bytes, {}, false), ts = loadOnnx(bytes, {}, true);
      try {
        const a = wasm.run(feeds), b = ts.run(feeds);
        expect(forward.mock.calls.length, "the wasm layer ran").toBe(calls + 1);
        for (const name of Object.keys(b)) {
          expect(a[name].shape).toEqual(b[name].shape);
          expect(maxAbsDiff(a[name].data, b[name].data), `${name} of ${JSON.stringify(c)}`).toBeLessThan(1e-5);
        }
      } finally {
        wasm.dispose();
        ts.dispose();
      }
    }), { numRuns: 150, seed: 1515 });
  } finally {
    forward.mockRestore();
  }
});
