// The wasm backward (every build) against the reference backward, at the layer API, on random architectures:
// the reference is itself checked against central differences (reference.test.ts), so each gradient is
// verified twice. Both sides run float32; the reference accumulates in float64 before each store while the
// kernels accumulate in float32 with a different summation order (and FMA in the relaxed build). Gradients
// here are sums of up to T*B*(I+H) products of magnitude <= ~1 over <= 6 steps; float32 rounding of such sums
// stays below ~1e-5 relative to the largest gradient, so 2e-5 * max(1, |g|max) is the tolerance.
import { describe, it, beforeAll } from "vitest";
import fc from "fast-check";
import { fromTorch, LSTM, GRU, RNN, type RecurrentLayer } from "../../src/index.js";
import { expectCloseToMax } from "../helpers/compare.js";
import { randomTensor, rng } from "../helpers/random.js";
import { runtimesFor, TEST_BUILDS, type Runtimes } from "../helpers/runtimes.js";

const TOL = 2e-5;

let runtimes: Runtimes;
beforeAll(async () => {
  runtimes = await runtimesFor();
});

describe("wasm backward equals the reference backward", () => {
  for (const build of TEST_BUILDS) {
    it(`random architectures, ${build} build`, () => {
      fc.assert(
        fc.property(
          fc.constantFrom("lstm", "gru", "rnn"),
          fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 13 }),
          fc.integer({ min: 1, max: 3 }), fc.boolean(), fc.boolean(), fc.boolean(), fc.boolean(),
          fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 4 }), fc.integer(), fc.boolean(), fc.boolean(),
          (kind, I, H, L, bidirectional, bias, variant, batchFirst, T, B, seed, withState, variableLength) => {
            const next = rng(seed);
            const arch = { inputSize: I, hiddenSize: H, numLayers: L, bidirectional, bias, batchFirst, seed, runtime: runtimes[build] };
            const layer: RecurrentLayer = kind === "lstm"
              ? new LSTM({ ...arch, ...(variant && H > 1 ? { projSize: 1 + (seed >>> 0) % (H - 1) } : {}) })
              : kind === "gru" ? new GRU({ ...arch, resetAfter: variant }) : new RNN({ ...arch, nonlinearity: variant ? "relu" : "tanh" });
            const ref = fromTorch(layer.toTorch(), { backend: "reference", batchFirst, ...(kind === "gru" ? { resetAfter: variant } : {}), ...(kind === "rnn" ? { nonlinearity: variant ? "relu" : "tanh" } : {}) }) as RecurrentLayer;
            try {
              const s = layer.spec;
              const D = bidirectional ? 2 : 1, P = s.projSize || H;
              const x = randomTensor(batchFirst ? [B, T, I] : [T, B, I], next);
              const state = withState ? { h0: randomTensor([L * D, B, P], next), ...(kind === "lstm" ? { c0: randomTensor([L * D, B, H], next) } : {}) } : {};
              const up = {
                output: randomTensor(batchFirst ? [B, T, D * P] : [T, B, D * P], next),
                hN: randomTensor([L * D, B, P], next),
                ...(kind === "lstm" ? { cN: randomTensor([L * D, B, H], next) } : {}),
              };
              const lengths = variableLength ? Array.from({ length: B }, () => 1 + Math.floor(next() * T)) : undefined;
              const outs = [layer, ref].map((m) => m.forward(x, { ...state, train: true, lengths }));
              expectCloseToMax("output", outs[0].output.data, outs[1].output.data, TOL);
              expectCloseToMax("hN", outs[0].hN.data, outs[1].hN.data, TOL);
              const got = layer.backward(up), want = ref.backward(up);
              expectCloseToMax("dInput", got.dInput.data, want.dInput.data, TOL);
              expectCloseToMax("dh0", got.dh0.data, want.dh0.data, TOL);
              if (kind === "lstm") expectCloseToMax("dc0", got.dc0!.data, want.dc0!.data, TOL);
              const gw = layer.grads(), gr = ref.grads();
              for (const name of Object.keys(gr)) expectCloseToMax(name, gw[name].data, gr[name].data, TOL);
            } finally {
              layer.dispose();
              ref.dispose();
            }
          },
        ),
        { numRuns: 60, seed: 7 },
      );
    });
  }
});
