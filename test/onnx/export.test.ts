// test/onnx/export.test.ts: what toOnnx writes (opset, IR version, graph input and output names, symbolic axes, the
// nodes of each form, the same bytes each time) and what it refuses, with an RnnError that says why.
import { beforeAll, describe, expect, it } from "vitest";
import { Embedding, GRU, init, LastStep, Linear, LSTM, LSTMCell, quantize, RnnError, RNN, Sequential, tensor } from "../../src/index.js";
import { fromOnnx, ONNX_EXPORT_OPSET, toOnnx } from "../../src/onnx/index.js";
import { readModel } from "../../src/onnx/proto.js";

beforeAll(async () => {
  await init();
});

function expectRefused(run: () => unknown, code: string, message: RegExp): void {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(RnnError);
    expect((e as RnnError).code).toBe(code);
    expect((e as RnnError).message).toMatch(message);
    return;
  }
  throw new Error("expected an RnnError");
}

describe("what toOnnx writes", () => {
  it("a layer: opset 14, IR 7, inputs input/h0/c0 and outputs output/hN/cN with symbolic batch and sequence axes", () => {
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, seed: 1 });
    const m = readModel(toOnnx(lstm, { initialState: true }));
    lstm.dispose();
    expect(ONNX_EXPORT_OPSET).toBe(14);
    expect(m.opsets).toEqual([{ domain: "", version: 14 }]);
    expect(m.irVersion).toBe(7);
    expect(m.producerName).toBe("rnn-wasm");
    const io = (list: typeof m.graph.inputs) => list.map((v) => [v.name, v.elemType, v.dims]);
    expect(io(m.graph.inputs)).toEqual([["input", 1, ["sequence", "batch", 3]], ["h0", 1, [4, "batch", 5]], ["c0", 1, [4, "batch", 5]]]);
    expect(io(m.graph.outputs)).toEqual([["output", 1, ["sequence", "batch", 10]], ["hN", 1, [4, "batch", 5]], ["cN", 1, [4, "batch", 5]]]);
    // one node per stacked layer, rows of h0/c0 sliced per layer, bidirectional outputs interleaved by Transpose + Reshape
    expect(m.graph.nodes.map((n) => n.opType)).toEqual(["Slice", "Slice", "LSTM", "Transpose", "Reshape", "Slice", "Slice", "LSTM", "Transpose", "Reshape", "Concat", "Concat"]);
    expect(m.graph.nodes.every((n) => n.name !== "")).toBe(true);
  });

  it("with lengths: an int32 input `lengths` [batch], every node's sequence_lens", () => {
    const gru = new GRU({ inputSize: 3, hiddenSize: 5, numLayers: 2, seed: 1 });
    const m = readModel(toOnnx(gru, { lengths: true }));
    gru.dispose();
    expect(m.graph.inputs.map((v) => [v.name, v.elemType, v.dims])).toEqual([["input", 1, ["sequence", "batch", 3]], ["lengths", 6, ["batch"]]]);
    expect(m.graph.nodes.filter((n) => n.opType === "GRU").map((n) => n.inputs[4])).toEqual(["lengths", "lengths"]);
  });

  it("batchFirst with Transposes (never layout 1, which ONNX Runtime refuses); GRU forms as linear_before_reset; RNN relu as activations", () => {
    const attrs = (bytes: Uint8Array, op: string) => Object.fromEntries(readModel(bytes).graph.nodes.find((n) => n.opType === op)!.attributes.map((a) => [a.name, a.type === 2 ? a.i : a.type === 3 ? a.s : a.strings]));
    const gru = new GRU({ inputSize: 2, hiddenSize: 3, batchFirst: true, resetAfter: false, seed: 1 });
    const bytes = toOnnx(gru);
    expect(readModel(bytes).graph.inputs[0].dims).toEqual(["batch", "sequence", 2]);
    expect(readModel(bytes).graph.nodes.map((n) => n.opType)).toEqual(["Transpose", "GRU", "Squeeze", "Transpose"]);
    expect(attrs(bytes, "GRU")).toEqual({ hidden_size: 3, linear_before_reset: 0 });
    gru.dispose();
    const gru2 = new GRU({ inputSize: 2, hiddenSize: 3, seed: 1 });
    expect(attrs(toOnnx(gru2), "GRU")).toEqual({ hidden_size: 3, linear_before_reset: 1 });
    gru2.dispose();
    const rnn = new RNN({ inputSize: 2, hiddenSize: 3, nonlinearity: "relu", bidirectional: true, seed: 1 });
    expect(attrs(toOnnx(rnn), "RNN")).toEqual({ hidden_size: 3, direction: "bidirectional", activations: ["Relu", "Relu"] });
    rnn.dispose();
  });

  it("a Sequential: input -> output, with MatMul/Add for Linear, Gather for Embedding and LastStep", () => {
    const model = new Sequential([
      new Embedding({ numEmbeddings: 7, embeddingDim: 3, seed: 1 }),
      new LSTM({ inputSize: 3, hiddenSize: 4, batchFirst: true, seed: 2 }),
      new LastStep(),
      new Linear({ inFeatures: 4, outFeatures: 2, seed: 3 }),
    ]);
    const m = readModel(toOnnx(model));
    expect(m.graph.inputs.map((v) => [v.name, v.elemType, v.dims])).toEqual([["input", 7, ["batch", "sequence"]]]);
    expect(m.graph.outputs.map((v) => [v.name, v.dims])).toEqual([["output", ["batch", 2]]]);
    expect(m.graph.nodes.map((n) => n.opType)).toEqual(["Gather", "Transpose", "LSTM", "Squeeze", "Transpose", "Gather", "MatMul", "Add"]);
    model.dispose();
  });

  it("writes the same bytes for the same weights, and the current weights after they change", () => {
    const a = new LSTM({ inputSize: 3, hiddenSize: 5, seed: 7 }), b = new LSTM({ inputSize: 3, hiddenSize: 5, seed: 7 });
    expect(Buffer.from(toOnnx(a)).equals(Buffer.from(toOnnx(b)))).toBe(true);
    b.parameterBuffers()[0].params()[0] += 1;
    expect(Buffer.from(toOnnx(a)).equals(Buffer.from(toOnnx(b)))).toBe(false);
    a.dispose();
    b.dispose();
  });

  it("runs at any batch size and length (symbolic axes)", () => {
    const rnn = new RNN({ inputSize: 2, hiddenSize: 3, seed: 1 });
    const onnx = fromOnnx(toOnnx(rnn));
    for (const [T, B] of [[1, 1], [9, 5]]) {
      const x = tensor([T, B, 2], Float32Array.from({ length: T * B * 2 }, (_, i) => Math.sin(i)));
      expect(onnx.run({ input: x }).output.shape).toEqual([T, B, 3]);
    }
    onnx.dispose();
    rnn.dispose();
  });
});

describe("what toOnnx refuses", () => {
  it("an LSTM with projSize, saying ONNX's LSTM has no projection", () => {
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 5, projSize: 2, seed: 1 });
    expectRefused(() => toOnnx(lstm), "unexpected", /projSize 2: ONNX's LSTM operator has no projection/);
    expectRefused(() => toOnnx(new Sequential([lstm, new Linear({ inFeatures: 2, outFeatures: 1 })])), "unexpected", /modules\[0\] \(LSTM\) has projSize/);
    lstm.dispose();
  });

  it("a quantized layer, a cell, an unknown module or option, a misplaced Embedding, sizes that do not chain", () => {
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 5, seed: 1 });
    const q = quantize(lstm, { dtype: "int8" });
    expectRefused(() => toOnnx(q as never), "unexpected", /quantized \(int8\): ONNX's LSTM, GRU and RNN operators take float weights/);
    q.dispose();
    const cell = new LSTMCell({ inputSize: 3, hiddenSize: 5 });
    expectRefused(() => toOnnx(cell as never), "unexpected", /one-step cell; export a sequence layer/);
    cell.dispose();
    const custom = { forward: (x: never) => x, backward: (g: never) => g };
    expectRefused(() => toOnnx(new Sequential([lstm, custom])), "unexpected", /modules\[1\] is not a module toOnnx writes/);
    expectRefused(() => toOnnx(lstm, { layout: 1 } as never), "unexpected", /layout/);
    expectRefused(() => toOnnx(new Sequential([lstm]), { initialState: true }), "unexpected", /initialState is for a recurrent layer alone/);
    expectRefused(() => toOnnx(new Sequential([lstm]), { lengths: true }), "unexpected", /lengths is for a recurrent layer alone/);
    expectRefused(() => toOnnx(new Sequential([lstm, new Embedding({ numEmbeddings: 3, embeddingDim: 5 })])), "unexpected", /Embedding after another module/);
    expectRefused(() => toOnnx(new Sequential([lstm, new Linear({ inFeatures: 4, outFeatures: 1 })])), "shape", /modules\[1\] takes 4 features, but the module before it gives 5/);
    expectRefused(() => toOnnx(new Sequential([new LastStep(), lstm])), "unexpected", /starts with a LastStep/);
    expectRefused(() => toOnnx(new Sequential([lstm, new LastStep(), new LSTM({ inputSize: 5, hiddenSize: 2 })])), "shape", /rank-2 tensor/);
    expectRefused(() => toOnnx({} as never), "unexpected", /the model is not a module toOnnx writes/);
    lstm.dispose();
    expectRefused(() => toOnnx(lstm), "disposed", /disposed/);
  });
});
