// test/keras/model-info.test.ts: what a KerasModel says about its file (className, each layer's config, the weights
// read), the properties `rnn-wasm inspect` prints. Checked against the fixture's own members, read here with fflate:
// config.json's class and layer configs, and the weights' count and shapes from the layers' sizes (an LSTM's kernel is
// [features, 4 units], ...), so a dataset listed under the wrong layer or a shape read wrong fails.
import { strFromU8 } from "fflate";
import { describe, expect, it } from "vitest";
import { fromKeras } from "../../src/keras/index.js";
import { kerasFile, members } from "./helpers.js";

function config(name: string): { class_name: string; config: { layers: { class_name: string; config: Record<string, any> }[] } } {
  return JSON.parse(strFromU8(members(kerasFile(name))["config.json"]));
}

describe("KerasModel's description of its file", () => {
  it("className and each layer's config are config.json's", () => {
    for (const name of ["lstm_dense", "functional_stack"]) {
      const c = config(name);
      const model = fromKeras(kerasFile(name), { backend: "reference" });
      expect(model.className).toBe(c.class_name);
      expect(model.layers.map((l) => l.config)).toEqual(c.config.layers.map((l) => l.config));
      model.dispose();
    }
  });

  it("weights: each variable's name, dataset path, shape and stored dtype, in the layers' order", () => {
    const c = config("lstm_dense");
    const [input, lstm, dense] = c.config.layers;
    const F = input.config.batch_shape[2], U = lstm.config.units, D = dense.config.units;
    const model = fromKeras(kerasFile("lstm_dense"), { backend: "reference" });
    expect(model.weights).toEqual([
      { name: `${lstm.config.name}/kernel`, path: "layers/lstm/cell/vars/0", shape: [F, 4 * U], dtype: "<f4" },
      { name: `${lstm.config.name}/recurrent_kernel`, path: "layers/lstm/cell/vars/1", shape: [U, 4 * U], dtype: "<f4" },
      { name: `${lstm.config.name}/bias`, path: "layers/lstm/cell/vars/2", shape: [4 * U], dtype: "<f4" },
      { name: `${dense.config.name}/kernel`, path: "layers/dense/vars/0", shape: [U, D], dtype: "<f4" },
      { name: `${dense.config.name}/bias`, path: "layers/dense/vars/1", shape: [D], dtype: "<f4" },
    ]);
    model.dispose();
  });

  it("a Bidirectional's weights are listed per direction", () => {
    const model = fromKeras(kerasFile("embedding_bidirectional"), { backend: "reference" });
    const paths = model.weights.map((w) => w.path);
    expect(paths.filter((p) => p.includes("/forward_layer/")).length).toBe(3);
    expect(paths.filter((p) => p.includes("/backward_layer/")).length).toBe(3);
    expect(paths[0]).toBe("layers/embedding/vars/0");
    model.dispose();
  });
});
