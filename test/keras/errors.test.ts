// test/keras/errors.test.ts: what fromKeras says about files it cannot run: each a RnnError with the code its
// documentation gives and a message that names the problem (the member, dataset, layer or class). The broken
// files are the fixtures with one member rewritten (fflate), so each differs from a file that loads in one thing.
import { beforeAll, describe, expect, it } from "vitest";
import { init, RnnError } from "../../src/index.js";
import { fromKeras } from "../../src/keras/index.js";
import { kerasFile, members, rezip, strToU8, withConfig } from "./helpers.js";

beforeAll(async () => {
  await init();
});

function error(f: () => unknown): RnnError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(RnnError);
    return e as RnnError;
  }
  throw new Error("did not throw");
}

describe("fromKeras refuses what it cannot run, naming why", () => {
  const good = kerasFile("lstm_dense");

  it("a truncated download: 'format', not a whole zip archive", () => {
    for (const n of [good.length - 100, good.length >> 1, 30, 0]) {
      const e = error(() => fromKeras(good.subarray(0, n)));
      expect(e.code).toBe("format");
      expect(e.message).toMatch(/not a whole zip archive/);
    }
  });

  it("not bytes at all: 'dtype'", () => {
    const e = error(() => fromKeras("model.keras" as never));
    expect(e.code).toBe("dtype");
  });

  it("an archive without config.json or model.weights.h5: 'format', naming the member and what the archive holds", () => {
    let e = error(() => fromKeras(rezip(good, { "config.json": undefined })));
    expect([e.code, e.message]).toEqual(["format", expect.stringMatching(/no config\.json \(it holds metadata\.json, model\.weights\.h5\)/)]);
    e = error(() => fromKeras(rezip(good, { "model.weights.h5": undefined })));
    expect([e.code, e.message]).toEqual(["format", expect.stringMatching(/no model\.weights\.h5/)]);
    e = error(() => fromKeras(rezip(good, { "model.weights.h5": undefined, "model.weights.npz": new Uint8Array(8) })));
    expect(e.message).toMatch(/model\.weights\.npz, which is not read/);
  });

  it("a truncated or foreign model.weights.h5: 'format' naming the file", () => {
    const h5 = members(good)["model.weights.h5"];
    for (const bytes of [h5.subarray(0, 200), h5.subarray(0, h5.length >> 1), strToU8("not an HDF5 file")]) {
      const e = error(() => fromKeras(rezip(good, { "model.weights.h5": bytes })));
      expect(e.code).toBe("format");
      expect(e.message).toMatch(/model\.weights\.h5/);
    }
  });

  it("config.json that is not JSON: 'format'", () => {
    const e = error(() => fromKeras(rezip(good, { "config.json": strToU8("{ nope") })));
    expect([e.code, e.message]).toEqual(["format", expect.stringMatching(/config\.json in the \.keras file is not JSON/)]);
  });

  it("weights missing for a layer: 'format' naming the dataset saving_lib would have written", () => {
    // another Dense after the first: Keras would have saved its variables as layers/dense_1/vars/...
    const bytes = withConfig(good, (c) => c.config.layers.push({ ...c.config.layers[2], config: { ...c.config.layers[2].config, name: "dense_extra" } }));
    const e = error(() => fromKeras(bytes));
    expect(e.code).toBe("format");
    expect(e.message).toMatch(/layer dense_extra \(Dense\): model\.weights\.h5 has no dataset layers\/dense_1\/vars\/0 \(its kernel\)/);
  });

  it("weights that do not fit the config: 'shape' naming the weight, its shape and the one expected", () => {
    const bytes = withConfig(good, (c) => { c.config.layers[1].config.units = 7; });
    const e = error(() => fromKeras(bytes));
    expect(e.code).toBe("shape");
    expect(e.message).toMatch(/layer lstm \(LSTM\): weight lstm\/kernel has shape \[3, 32\], expected \[3, 28\]/);
  });

  it("a layer with more variables than its config says (use_bias false over a file with a bias): 'unexpected'", () => {
    const bytes = withConfig(good, (c) => { c.config.layers[2].config.use_bias = false; });
    const e = error(() => fromKeras(bytes));
    expect(e.code).toBe("unexpected");
    expect(e.message).toMatch(/layer dense \(Dense\): model\.weights\.h5 has more variables under layers\/dense\/vars than the layer's 1/);
  });

  it("an unsupported layer class: 'unexpected' naming the layer, its class and the supported ones", () => {
    const bytes = withConfig(good, (c) => { c.config.layers[2].class_name = "Conv1D"; });
    const e = error(() => fromKeras(bytes));
    expect(e.code).toBe("unexpected");
    expect(e.message).toMatch(/layer dense \(Conv1D\): layer class Conv1D is not supported \(supported: .*LSTM/);
  });

  it("an unsupported model class or a layer with two inputs: 'unexpected'", () => {
    let e = error(() => fromKeras(withConfig(good, (c) => { c.class_name = "MyModel"; })));
    expect([e.code, e.message]).toEqual(["unexpected", expect.stringMatching(/model class "MyModel" is not supported/)]);
    const functional = kerasFile("functional_stack");
    e = error(() => fromKeras(withConfig(functional, (c) => {
      const node = c.config.layers[2].inbound_nodes[0];
      node.args = [[node.args[0], node.args[0]]]; // Concatenate-style list of two tensors
    })));
    expect([e.code, e.message]).toEqual(["unexpected", expect.stringMatching(/layer lstm \(LSTM\): takes 2 inputs/)]);
  });

  it("tensors passed as keyword arguments from other layers (an initial state, a mask): 'unexpected' naming them", () => {
    const functional = kerasFile("functional_stack");
    const kt = (layer: string) => ({ class_name: "__keras_tensor__", config: { shape: [null, 5], dtype: "float32", keras_history: [layer, 0, 0] } });
    for (const [key, value, from] of [["initial_state", [kt("masking")], "masking"], ["mask", kt("masking"), "masking"]] as const) {
      const e = error(() => fromKeras(withConfig(functional, (c) => { c.config.layers[4].inbound_nodes[0].kwargs = { [key]: value }; })));
      expect(e.code).toBe("unexpected");
      expect(e.message).toContain(`layer lstm_1 (LSTM): takes a tensor as keyword argument ${key} (from layer ${from})`);
    }
  });

  it("an unknown option: 'unexpected'", () => {
    expect(() => fromKeras(good, { path: "gpu" } as never)).toThrow(/path "gpu" is not 'auto' or 'typescript'/);
    expect(() => fromKeras(good, { batchFirst: true } as never)).toThrow(RnnError);
  });
});
