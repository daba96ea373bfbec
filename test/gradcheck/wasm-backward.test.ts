// The wasm backward (every build) against the reference backward, at the layer API, on random architectures:
// the reference is itself checked against central differences (reference.test.ts), so each gradient is
// verified twice. Both sides run float32; the reference accumulates in float64 before each store while the
// kernels accumulate in float32 with a different summation order (and FMA in the relaxed build). Gradients
// here are sums of up to T*B*(I+H) products of magnitude <= ~1 over <= 6 steps; float32 rounding of such sums
// stays below ~1e-5 relative to the largest gradient, so 2e-5 * max(1, |g|max) is the tolerance.
import { describe, it, expect, beforeAll } from "vitest";
import fc from "fast-check";
import v8 from "node:v8";
import { createRuntime, fromTorch, LSTM, GRU, RNN, type Runtime, type RecurrentLayer, type Tensor, type Build } from "../../src/index.js";
import { mulberry32 } from "../../src/random.js";

const runtimes: Partial<Record<Build, Runtime>> = {};
beforeAll(async () => {
  v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
  for (const build of ["simd", "scalar", "relaxed"] as Build[]) runtimes[build] = await createRuntime(undefined, { build });
});

function rand(shape: number[], next: () => number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: Float32Array.from({ length: n }, () => 2 * next() - 1) };
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

function expectClose(what: string, got: Float32Array, want: Float32Array): void {
  expect(got.length, what).toBe(want.length);
  const tol = 2e-5 * Math.max(1, maxAbs(want));
  let worst = 0, at = -1;
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs(got[i] - want[i]);
    if (!(e <= worst)) { worst = e; at = i; }
  }
  expect(worst, `${what}: max error ${worst} at ${at} (tol ${tol})`).toBeLessThanOrEqual(tol);
}

describe("wasm backward equals the reference backward", () => {
  for (const build of ["simd", "scalar", "relaxed"] as Build[]) {
    it(`random architectures, ${build} build`, () => {
      fc.assert(
        fc.property(
          fc.constantFrom("lstm", "gru", "rnn"),
          fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 13 }),
          fc.integer({ min: 1, max: 3 }), fc.boolean(), fc.boolean(), fc.boolean(), fc.boolean(),
          fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 4 }), fc.integer(), fc.boolean(), fc.boolean(),
          (kind, I, H, L, bidirectional, bias, variant, batchFirst, T, B, seed, withState, variableLength) => {
            const next = mulberry32(seed);
            const arch = { inputSize: I, hiddenSize: H, numLayers: L, bidirectional, bias, batchFirst, seed, runtime: runtimes[build] };
            const layer: RecurrentLayer = kind === "lstm"
              ? new LSTM({ ...arch, ...(variant && H > 1 ? { projSize: 1 + (seed >>> 0) % (H - 1) } : {}) })
              : kind === "gru" ? new GRU({ ...arch, resetAfter: variant }) : new RNN({ ...arch, nonlinearity: variant ? "relu" : "tanh" });
            const ref = fromTorch(layer.toTorch(), { backend: "reference", batchFirst, ...(kind === "gru" ? { resetAfter: variant } : {}), ...(kind === "rnn" ? { nonlinearity: variant ? "relu" : "tanh" } : {}) }) as RecurrentLayer;
            try {
              const s = layer.spec;
              const D = bidirectional ? 2 : 1, P = s.projSize || H;
              const x = rand(batchFirst ? [B, T, I] : [T, B, I], next);
              const state = withState ? { h0: rand([L * D, B, P], next), ...(kind === "lstm" ? { c0: rand([L * D, B, H], next) } : {}) } : {};
              const up = {
                output: rand(batchFirst ? [B, T, D * P] : [T, B, D * P], next),
                hN: rand([L * D, B, P], next),
                ...(kind === "lstm" ? { cN: rand([L * D, B, H], next) } : {}),
              };
              const lengths = variableLength ? Array.from({ length: B }, () => 1 + Math.floor(next() * T)) : undefined;
              const outs = [layer, ref].map((m) => m.forward(x, { ...state, train: true, lengths }));
              expectClose("output", outs[0].output.data, outs[1].output.data);
              expectClose("hN", outs[0].hN.data, outs[1].hN.data);
              const got = layer.backward(up), want = ref.backward(up);
              expectClose("dInput", got.dInput.data, want.dInput.data);
              expectClose("dh0", got.dh0.data, want.dh0.data);
              if (kind === "lstm") expectClose("dc0", got.dc0!.data, want.dc0!.data);
              const gw = layer.grads(), gr = ref.grads();
              for (const name of Object.keys(gr)) expectClose(name, gw[name].data, gr[name].data);
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
