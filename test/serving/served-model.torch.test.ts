// test/serving/served-model.torch.test.ts: ServedModel against PyTorch, on the Cloudflare Worker example's fixtures
// (test/fixtures/worker, written by scripts/make_worker_fixtures.py: a two-layer bidirectional LSTM with bare names,
// a GRU under 'encoder.gru.', a relu RNN with a Linear head, a projected bidirectional LSTM with a head under 'out.',
// and a GRUCell stepped over the sequence). What a self-consistent oracle cannot show: that the prefix, the head,
// the cell-as-layer and the state layout are read as PyTorch means them. All of a fixture's cases run as ONE batch
// (the whole sequence from zeros, from h0/c0, and its first chunk), the second chunk from the state the first
// ended in, on the wasm build init() picks and on the reference.
//
// Tolerance 1e-5 of max(1, |PyTorch|), as test/torch/: PyTorch's values are float64 rounded to float32, ours are
// float32 throughout (SIMD sums in another order), a few 1e-7 per step over 6 steps and 2 layers.
import { readFileSync } from "node:fs";
import { beforeAll, describe, it } from "vitest";
import { init, loadSafetensors, type Tensor } from "../../src/index.js";
import { ServedModel, type SequenceRequest, type ServedModelOptions } from "../../src/serving/index.js";
import { ErrorLog, expectClose, relToEach } from "../helpers/compare.js";

const NAMES = ["lstm_2layer_bidir", "gru_2layer", "rnn_relu_head", "lstm_proj_bidir_head", "gru_cell"];
const TOL = 1e-5;
const log = new ErrorLog();

function fixture(name: string) {
  const dir = new URL("../fixtures/worker/", import.meta.url);
  const model = new Uint8Array(readFileSync(new URL(`${name}.model.safetensors`, dir)));
  const { tensors, metadata } = loadSafetensors(readFileSync(new URL(`${name}.cases.safetensors`, dir)));
  const vars = JSON.parse(metadata.vars ?? "{}") as Record<string, string>;
  const options: ServedModelOptions = {
    ...(vars.HEAD_PREFIX ? { headPrefix: vars.HEAD_PREFIX } : {}),
    ...(vars.RNN_NONLINEARITY ? { nonlinearity: vars.RNN_NONLINEARITY as "relu" } : {}),
  };
  return { model, cases: tensors as Record<string, Tensor>, options, split: metadata.split ? Number(metadata.split) : 0 };
}

beforeAll(async () => {
  await init();
  return () => log.print(`served-model.torch: largest |ServedModel - PyTorch| (tolerance ${TOL} * max(1, |PyTorch|))`);
});

describe("ServedModel answers PyTorch's results for the Worker example's models, all cases in one batch", () => {
  for (const backend of ["wasm", "reference"] as const) {
    for (const name of NAMES) {
      it(`${name} (${backend})`, () => {
        const { model, cases: c, options, split } = fixture(name);
        using served = ServedModel.fromSafetensors(model, { ...options, backend });
        const I = served.inputSize;
        const x = c.x.data, T = c.x.shape[0];
        const requests: SequenceRequest[] = [
          { input: x, steps: T },
          { input: x, steps: T, h0: c.h0.data, ...(c.c0 ? { c0: c.c0.data } : {}) },
          ...(split ? [{ input: x.subarray(0, split * I), steps: split }] : []),
        ];
        const [whole, fromH0, first] = served.run(requests);
        const check = (what: string, got: Float32Array | undefined, want: Tensor | undefined) => {
          if (!want) return;
          expectClose(`${name} ${what}`, got!, want.data, relToEach(TOL, want.data), undefined, { log, key: `${backend} ${name}` });
        };
        const y = (r: typeof whole) => (served.headSize ? r.head : r.output);
        check("y", y(whole), c.y);
        check("h_n", whole.hN, c.h_n);
        check("c_n", whole.cN, c.c_n);
        check("y_from_h0", y(fromH0), c.y_from_h0);
        check("h_n_from_h0", fromH0.hN, c.h_n_from_h0);
        check("c_n_from_h0", fromH0.cN, c.c_n_from_h0);
        if (!split) return;
        check("y_first", y(first), c.y_first);
        check("h_mid", first.hN, c.h_mid);
        const [second] = served.run([{ input: x.subarray(split * I), steps: T - split, h0: first.hN, ...(first.cN ? { c0: first.cN } : {}) }]);
        check("y_second", y(second), c.y_second);
        check("h_n_second", second.hN, c.h_n_second);
      });
    }
  }
});
