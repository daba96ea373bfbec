// test/keras/files.test.ts: fromKeras(...).predict on the .keras files of scripts/make_keras_fixtures.mjs against the
// outputs stored beside them: TensorFlow.js 4.22's predict on the same weights, with what Keras 3 computes
// differently applied (its hard_sigmoid through weights scaled by 5/6, zeros at masked steps of a Bidirectional
// returning sequences, the reset_after GRU in tfjs ops). Within 1e-5: the oracle computes in float32 and so do the
// wasm kernels (sums in another order), the TypeScript path in float64; measured differences are at most 1.2e-7,
// and a wrong gate order, activation or mask rule moves outputs by 1e-2 or more. Each file runs on both paths, and a
// spy on the layers' forward checks which one ran: 'typescript' never calls them; 'auto' does for every file but the
// hard_sigmoid ones (whose activation the kernels do not have).
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { init, maxAbsDiff, RnnError, tensor } from "../../src/index.js";
import { RecurrentLayer } from "../../src/layers.js";
import { fromKeras } from "../../src/keras/index.js";
import { io, kerasFile, withConfig } from "./helpers.js";

const TOL = 1e-5;

beforeAll(async () => {
  await init();
});

function run(name: string, file = name, path: "auto" | "typescript" = "auto") {
  const data = io(name);
  const model = fromKeras(kerasFile(file), { path });
  try {
    const y = model.predict(tensor(data.inputShape, Float32Array.from(data.input)));
    return { y, want: data, model };
  } finally {
    model.dispose();
  }
}

/** [expected output, file, layer classes, whether the 'auto' path runs the wasm layers] */
const CASES: [name: string, file: string, classes: string[], wasm: boolean][] = [
  ["lstm_dense", "lstm_dense", ["InputLayer", "LSTM", "Dense"], true],
  ["lstm_dense", "lstm_dense_gzip", ["InputLayer", "LSTM", "Dense"], true],
  ["lstm_hard_sigmoid", "lstm_hard_sigmoid", ["InputLayer", "LSTM"], false],
  ["lstm_hard_sigmoid_keras2", "lstm_hard_sigmoid_keras2", ["InputLayer", "LSTM"], false],
  ["embedding_bidirectional", "embedding_bidirectional", ["InputLayer", "Embedding", "Bidirectional"], true],
  ["functional_stack", "functional_stack", ["InputLayer", "Masking", "LSTM", "Dropout", "LSTM", "Bidirectional", "Dense"], true],
  ["gru_reset_after", "gru_reset_after", ["InputLayer", "GRU", "TimeDistributed"], true],
];

afterEach(() => {
  vi.restoreAllMocks();
});

describe("fromKeras on Keras 3 files", () => {
  for (const [name, file, classes, wasm] of CASES) {
    for (const path of ["auto", "typescript"] as const) {
      it(`${file}.keras (${path} path): the expected output within ${TOL}`, () => {
        const forward = vi.spyOn(RecurrentLayer.prototype, "forward");
        const { y, want, model } = run(name, file, path);
        expect(forward.mock.calls.length > 0).toBe(path === "auto" && wasm);
        expect(model.layers.map((l) => l.className)).toEqual(classes);
        expect(y.shape).toEqual(want.outputShape);
        expect(maxAbsDiff(y.data, Float32Array.from(want.output))).toBeLessThanOrEqual(TOL);
      });
    }
  }

  it("reads hard_sigmoid as the file's Keras version defines it: the two files hold the same weights, and the outputs differ", () => {
    const k3 = run("lstm_hard_sigmoid"), k2 = run("lstm_hard_sigmoid_keras2");
    expect(k3.model.kerasVersion).toBe("3.10.0");
    expect(k2.model.kerasVersion).toBe("2.15.0");
    // were the version ignored, one of the two files would be off by this much
    expect(maxAbsDiff(k3.y.data, k2.y.data)).toBeGreaterThan(1e-2);
  });

  it("zeroes a Bidirectional's outputs at masked steps (Keras' zero_output_for_mask), and only there", () => {
    const { y, want } = run("embedding_bidirectional");
    const [B, T, W] = y.shape;
    let zeroed = 0;
    for (let s = 0; s < B * T; s++) {
      const row = y.data.subarray(s * W, (s + 1) * W);
      if (want.input[s] === 0) { expect(Array.from(row).every((v) => v === 0)).toBe(true); zeroed++; }
      else expect(Array.from(row).some((v) => v !== 0)).toBe(true);
    }
    expect(zeroed).toBe(6); // rows 1 and 2 carry 2 and 4 padded steps
  });

  it("zero_output_for_mask on a go_backwards layer zeroes output s where step T-1-s is masked (Keras reverses inputs and mask together)", () => {
    // functional_stack's first LSTM (Masking -> LSTM go_backwards, return_sequences) made the model's output, on an
    // input with a masked step in the middle of row 0 (at a masked step tfjs outputs the previous h, not zero)
    const outputIsLstm = (zero: boolean) => withConfig(kerasFile("functional_stack"), (c) => {
      c.config.output_layers = [["lstm", 0, 0]];
      c.config.layers[2].config.zero_output_for_mask = zero;
    });
    const data = io("functional_stack");
    const [B, T, I] = data.inputShape;
    const x = Float32Array.from(data.input);
    x.fill(0, 2 * I, 3 * I); // row 0, step 2: masked
    const masked = (b: number, t: number) => x.subarray((b * T + t) * I, (b * T + t + 1) * I).every((v) => v === 0);
    const plain = fromKeras(outputIsLstm(false)), zeroing = fromKeras(outputIsLstm(true));
    const a = plain.predict(tensor([B, T, I], x)), z = zeroing.predict(tensor([B, T, I], x));
    plain.dispose();
    zeroing.dispose();
    const H = a.shape[2];
    let changed = 0;
    for (let b = 0; b < B; b++) {
      for (let s = 0; s < T; s++) {
        const row = (v: Float32Array) => Array.from(v.subarray((b * T + s) * H, (b * T + s + 1) * H));
        if (masked(b, T - 1 - s)) {
          expect(row(z.data).every((v) => v === 0), `row ${b}, output ${s}`).toBe(true);
          if (row(a.data).some((v) => v !== 0)) changed++;
        } else {
          expect(row(z.data)).toEqual(row(a.data));
        }
      }
    }
    expect(changed).toBe(1); // the hole; padding read first gives zeros either way
  });

  it("reads the mask Keras 3 records in a functional layer's kwargs as the mask the layers pass on", () => {
    const want = run("functional_stack").y;
    const data = io("functional_stack");
    // Layer.__call__ records the input's mask as kwargs.mask: a tensor of the input's layer, or of an operation
    // that is not a layer (compute_mask's not_equal / any)
    const bytes = withConfig(kerasFile("functional_stack"), (c) => {
      const mask = (history: unknown[]) => ({ class_name: "__keras_tensor__", config: { shape: [null, 6], dtype: "bool", keras_history: history } });
      c.config.layers[2].inbound_nodes[0].kwargs = { mask: mask(["any", 0, 0]), training: false };
      c.config.layers[4].inbound_nodes[0].kwargs = { mask: mask(["dropout", 0, 0]) };
    });
    const m = fromKeras(bytes);
    expect(maxAbsDiff(m.predict(tensor(data.inputShape, Float32Array.from(data.input))).data, want.data)).toBe(0);
    m.dispose();
  });

  it("takes the bytes as a Uint8Array, an ArrayBuffer or a Node Buffer", () => {
    const bytes = kerasFile("lstm_dense");
    const want = run("lstm_dense").y;
    const x = tensor(io("lstm_dense").inputShape, Float32Array.from(io("lstm_dense").input));
    for (const b of [bytes.slice().buffer, Buffer.from(bytes)]) {
      const m = fromKeras(b as ArrayBuffer);
      expect(maxAbsDiff(m.predict(x).data, want.data)).toBe(0);
      m.dispose();
    }
  });

  it("predict after dispose throws 'disposed'; dispose twice is safe", () => {
    const m = fromKeras(kerasFile("lstm_dense"));
    m.dispose();
    m.dispose();
    expect(() => m.predict(tensor([1, 7, 3], new Float32Array(21)))).toThrow(RnnError);
  });
});
