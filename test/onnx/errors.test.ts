// test/onnx/errors.test.ts: what fromOnnx and run refuse, and how: malformed and truncated files (fast-check: random
// bytes, every truncation and random byte flips of real fixtures) give RnnError('format') or another RnnError, never
// another exception or a hang; unsupported operators are named with their node; wrong weight shapes, feeds and
// attributes are named; dispose is safe twice and run after it throws.
import fc from "fast-check";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { init, RecurrentLayer, RnnError, tensor } from "../../src/index.js";
import { fromOnnx } from "../../src/onnx/index.js";
import { loadCase } from "./fixtures.js";
import { writeModel, type ModelSpec } from "./write-model.js";

beforeAll(async () => {
  await init();
});

/** The error a call throws (fails the test when it returns). */
function thrown(f: () => unknown): RnnError {
  try {
    f();
  } catch (e) {
    if (e instanceof RnnError) return e;
    throw new Error(`expected an RnnError, got ${(e as Error)?.stack ?? String(e)}`);
  }
  throw new Error("expected an RnnError, but the call returned");
}

/** Loads and, when that works, runs with the case's feeds: either succeeds or throws an RnnError. */
function loadAndRun(bytes: Uint8Array, feeds: Parameters<ReturnType<typeof fromOnnx>["run"]>[0]): "ok" | RnnError {
  try {
    const model = fromOnnx(bytes);
    try {
      model.run(feeds);
    } finally {
      model.dispose();
    }
    return "ok";
  } catch (e) {
    if (e instanceof RnnError) return e;
    throw e;
  }
}

const lstmNode = (attrs: ModelSpec["nodes"][0]["attrs"] = {}, inputs = ["X", "W", "R"]): ModelSpec => ({
  nodes: [{ op: "LSTM", name: "lstm_1", inputs, outputs: ["Y", "Y_h"], attrs: { hidden_size: { i: 2 }, ...attrs } }],
  inputs: [{ name: "X", dims: ["T", "B", 3] }],
  outputs: [{ name: "Y" }, { name: "Y_h" }],
  initializers: [
    { name: "W", dims: [1, 8, 3], floats: Array.from({ length: 24 }, (_, k) => Math.sin(k)) },
    { name: "R", dims: [1, 8, 2], floats: Array.from({ length: 16 }, (_, k) => Math.cos(k)) },
  ],
});

describe("malformed files", () => {
  const c = loadCase("torch", "lstm_bidirectional_lengths");

  it("bytes that are not ONNX: RnnError('format') naming the message", () => {
    const e = thrown(() => fromOnnx(new TextEncoder().encode("not an onnx file at all")));
    expect(e.code).toBe("format");
    expect(e.message).toMatch(/ONNX file/);
    expect(thrown(() => fromOnnx(new Uint8Array(0))).message).toMatch(/no graph/);
  });

  it("every truncation of a real model: an RnnError (format, naming what is truncated), never a crash", () => {
    const codes = new Map<string, number>();
    for (let n = 0; n < c.model.length; n++) {
      const r = loadAndRun(c.model.subarray(0, n), c.feeds);
      const key = r === "ok" ? "ok" : r.code;
      codes.set(key, (codes.get(key) ?? 0) + 1);
    }
    // cutting at a field boundary can leave a valid message (without its trailing opset, say); everything else fails
    expect(codes.get("format")).toBeGreaterThan(c.model.length * 0.9);
    const e = thrown(() => fromOnnx(c.model.subarray(0, c.model.length >> 1)));
    expect(e.message).toMatch(/malformed or truncated: (GraphProto|TensorProto|NodeProto|ModelProto)/);
  });

  it("random bytes, and real models with random bytes changed: RnnError or a result, never another exception", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
      expect(loadAndRun(bytes, c.feeds)).toBeDefined();
    }), { numRuns: 300, seed: 15 });
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(c.model.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (edits) => {
      const bytes = c.model.slice();
      for (const [at, v] of edits) bytes[at] = v;
      expect(loadAndRun(bytes, c.feeds)).toBeDefined();
    }), { numRuns: 300, seed: 16 });
  });

  it("a tensor whose raw_data does not fit its dims, and external data: RnnError('format') naming the tensor", () => {
    const spec = lstmNode();
    spec.initializers![0] = { name: "W", dims: [1, 8, 3], raw: new Uint8Array(20) };
    expect(thrown(() => fromOnnx(writeModel(spec))).message).toMatch(/initializer W: raw_data holds 20 bytes, but FLOAT \[1, 8, 3\] needs 96/);
    spec.initializers![0] = { name: "W", dims: [1 << 30, 1 << 20], floats: [1, 2] }; // checked before any allocation
    expect(thrown(() => fromOnnx(writeModel(spec))).message).toMatch(/initializer W: float_data holds 2 values, but its dims need 1125899906842624/);
    spec.initializers![0] = { name: "W", dims: [1, 8, 3], external: true };
    expect(thrown(() => fromOnnx(writeModel(spec))).message).toMatch(/initializer W keeps its data in an external file/);
  });
});

describe("graphs rnn-wasm/onnx does not run", () => {
  it("an unsupported operator: RnnError naming the operator and its node, with every one listed", () => {
    const spec = lstmNode();
    spec.nodes.push({ op: "Foo", name: "foo_1", inputs: ["Y"], outputs: ["Z"] }, { op: "Bar", inputs: ["Z"], outputs: ["Z2"], domain: "com.example" });
    const e = thrown(() => fromOnnx(writeModel(spec)));
    expect(e.code).toBe("unexpected");
    expect(e.message).toMatch(/not supported by rnn-wasm\/onnx: node "foo_1" \(Foo\), node #2 \(Bar\) in domain com.example/);
  });

  it("a shape computed in the graph that would need more memory than one tensor may take: RnnError('memory')", () => {
    const m = fromOnnx(writeModel({
      nodes: [{ op: "ConstantOfShape", name: "huge", inputs: ["shape"], outputs: ["Z"] }],
      inputs: [{ name: "shape", elemType: 7, dims: [2] }],
      outputs: [{ name: "Z" }],
    }));
    expect(thrown(() => m.run({ shape: { shape: [2], data: Int32Array.of(1 << 20, 1 << 20) } })).code).toBe("memory");
    expect(m.run({ shape: { shape: [2], data: Int32Array.of(2, 3) } }).Z.shape).toEqual([2, 3]);
    m.dispose();
  });

  it("a node reading a value nothing defines, an output nothing computes: RnnError('format')", () => {
    const spec = lstmNode({}, ["X", "W", "Rx"]);
    expect(thrown(() => fromOnnx(writeModel(spec))).message).toMatch(/node "lstm_1" \(LSTM\) reads Rx, which no graph input/);
    const spec2 = lstmNode();
    spec2.outputs.push({ name: "nowhere" });
    expect(thrown(() => fromOnnx(writeModel(spec2))).message).toMatch(/graph output nowhere is not computed/);
  });

  it("unknown attributes and values: RnnError naming the node and attribute", () => {
    expect(thrown(() => fromOnnx(writeModel(lstmNode({ foo: { i: 1 } })))).message).toMatch(/node "lstm_1" \(LSTM\): attribute foo is not one/);
    expect(thrown(() => fromOnnx(writeModel(lstmNode({ direction: { s: "sideways" } })))).message).toMatch(/direction "sideways"/);
    expect(thrown(() => fromOnnx(writeModel(lstmNode({ activations: { strings: ["Sigmoid", "Tanh", "Swish"] } })))).message).toMatch(/activation Swish is not one/);
    expect(thrown(() => fromOnnx(writeModel(lstmNode({ activations: { strings: ["Sigmoid", "Tanh"] } })))).message).toMatch(/activations lists 2 functions, expected 3/);
    expect(thrown(() => fromOnnx(writeModel(lstmNode({ layout: { i: 2 } })))).message).toMatch(/layout 2/);
    expect(thrown(() => fromOnnx(writeModel(lstmNode({ hidden_size: { f: 2 } })))).message).toMatch(/attribute hidden_size is FLOAT, expected INT/);
  });
});

describe("run: feeds and shapes", () => {
  const model = () => fromOnnx(writeModel(lstmNode()));

  it("runs a model written here (and its outputs have the spec's shapes)", () => {
    const m = model();
    const { Y, Y_h } = m.run({ X: tensor([4, 2, 3]) });
    expect(Y.shape).toEqual([4, 1, 2, 2]);
    expect(Y_h.shape).toEqual([1, 2, 2]);
    expect(m.inputNames).toEqual(["X"]);
    expect(m.inputs[0]).toEqual({ name: "X", elemType: "FLOAT", shape: ["T", "B", 3] });
    expect(m.operators).toEqual(["LSTM"]);
    m.dispose();
  });

  it("missing, unknown and misshapen feeds: RnnError naming the feed", () => {
    const m = model();
    expect(thrown(() => m.run({})).code).toBe("missing");
    expect(thrown(() => m.run({ X: tensor([4, 2, 3]), Q: tensor([1]) })).message).toMatch(/feed Q is not an input/);
    expect(thrown(() => m.run({ X: tensor([4, 2, 5]) })).message).toMatch(/feed X has shape \[4, 2, 5\], expected \[T, B, 3\]/);
    expect(thrown(() => m.run({ X: { shape: [4, 2, 3], data: new Int32Array(24) } })).code).toBe("dtype");
    expect(thrown(() => m.run({ X: { shape: [4, 2, 3], data: new Float32Array(5) } })).code).toBe("shape");
    m.dispose();
  });

  it("wrong weight shapes: RnnError('shape') naming the node and the weight", () => {
    const spec = lstmNode();
    spec.initializers![1] = { name: "R", dims: [1, 8, 3], floats: new Array(24).fill(0) };
    const m = fromOnnx(writeModel(spec));
    const e = thrown(() => m.run({ X: tensor([4, 2, 3]) }));
    expect(e.code).toBe("shape");
    expect(e.message).toMatch(/node "lstm_1" \(LSTM\): R has shape \[1, 8, 3\], expected \[1, 8, 2\]/);
    m.dispose();
  });

  it("sequence_lens: int32 or whole float32 in [0, T]; others refused", () => {
    const spec = lstmNode({}, ["X", "W", "R", "", "seq"]);
    spec.inputs.push({ name: "seq", elemType: 6, dims: ["B"] });
    const m = fromOnnx(writeModel(spec));
    const X = tensor([4, 2, 3], Float32Array.from({ length: 24 }, (_, k) => Math.sin(k)));
    const a = m.run({ X, seq: { shape: [2], data: Int32Array.of(4, 2) } });
    const b = m.run({ X, seq: tensor([2], Float32Array.of(4, 2)) });
    expect(b.Y.data).toEqual(a.Y.data);
    expect(Array.from(a.Y.data.subarray(2 * 2 * 2 + 2, 2 * 2 * 2 + 4))).toEqual([0, 0]); // t = 2, row 1 is past its end
    expect(thrown(() => m.run({ X, seq: tensor([2], Float32Array.of(4, 1.5)) })).message).toMatch(/whole numbers/);
    expect(thrown(() => m.run({ X, seq: { shape: [2], data: Int32Array.of(4, 5) } })).message).toMatch(/sequence_lens\[1\] = 5 is not a whole number of steps in \[0, 4\]/);
    // a row of length 0: Y is 0 for it, Y_h its initial state (zeros here); runs on the TypeScript ONNX path
    const z = m.run({ X, seq: { shape: [2], data: Int32Array.of(4, 0) } });
    expect(Array.from(z.Y_h.data.subarray(2, 4))).toEqual([0, 0]);
    expect(maxDiff(z.Y_h.data.subarray(0, 2), a.Y_h.data.subarray(0, 2))).toBeLessThan(1e-6);
    m.dispose();
  });

  it("the wasm layers run what they compute, the TypeScript path the rest", () => {
    const forward = vi.spyOn(RecurrentLayer.prototype, "forward");
    try {
      const m = model();
      m.run({ X: tensor([4, 2, 3]) });
      m.run({ X: tensor([3, 1, 3]) });
      expect(forward).toHaveBeenCalledTimes(2);
      m.dispose();
      const clipped = fromOnnx(writeModel(lstmNode({ clip: { f: 0.5 } })));
      clipped.run({ X: tensor([4, 2, 3]) });
      expect(forward).toHaveBeenCalledTimes(2);
      clipped.dispose();
    } finally {
      forward.mockRestore();
    }
  });

  it("dispose twice is safe; run after dispose throws RnnError('disposed')", () => {
    const m = model();
    m.dispose();
    m.dispose();
    expect(thrown(() => m.run({ X: tensor([4, 2, 3]) })).code).toBe("disposed");
  });
});

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k] - b[k]));
  return m;
}
