// Gradient clipping (src/train/clip.ts) with torch.nn.utils semantics, on a Sequential of a 2-layer LSTM, LastStep
// and a Linear (sizes not multiples of 4, so wasm blocks have padding), on the reference backend and every
// wasm build. Each model's gradients come from one real forward/backward; every expectation is computed
// directly from model.grads() (PyTorch layout, no padding), so the packed wasm blocks are checked from outside.
//
// Tolerances (U = 2^-24):
// - Norms: the library and the direct computation both sum float64 terms (|g|^p of float32 values), in
//   different orders; n <= ~400 terms give a relative difference <= n·2^-53 < 1e-13, so 1e-12 relative. The
//   max (p = Infinity) is exact.
// - Scaled gradients vs before·coef (float64): the wasm kernel takes coef as float32 (one rounding) and rounds
//   the product (one more), the reference rounds the float64 product once: 2U relative to |before·coef|.
// - The norm after clipping vs maxNorm·total/(total + 1e-6): the clipped values carry 2U relative each,
//   so the norm carries at most 2U relative (plus the 1e-13 summation above): 4U relative.
// - Untouched gradients (norm <= maxNorm) and clamped values are compared bitwise.
import { describe, it, expect, beforeAll } from "vitest";
import {
  clipGradNorm, clipGradValue, fromTorch, gradNorm, Linear, LSTM, LastStep, mseLoss, Sequential,
  type Build, type Runtime, type Tensor,
} from "../../src/index.js";
import { expectRnnError, onesLike, paddingOf, realLanes } from "./support.js";
import { expectSame, expectClose, U } from "../helpers/compare.js";
import { randomTensor, rng } from "../helpers/random.js";
import { runtimeFor, TEST_BUILDS } from "../helpers/runtimes.js";

type Backend = "reference" | Build;
const BACKENDS: Backend[] = ["reference", ...TEST_BUILDS];
const NORMS = [2, 1, 3, Infinity];

const runtimes = {} as Record<Build, Runtime>;
beforeAll(async () => {
  for (const build of TEST_BUILDS) runtimes[build] = await runtimeFor(build);
});

interface Model {
  model: Sequential;
  lstm: LSTM;
  lin: Linear;
  /** Every gradient in PyTorch layout: the LSTM's tensors, then the Linear's. */
  grads(): Float32Array;
}

/** The model with gradients from one forward/backward of an MSE loss (scaled so the norm is about `size`). */
function trainedModel(backend: Backend, seed: number, size = 1): Model {
  const where = backend === "reference" ? { backend: "reference" as const } : { runtime: runtimes[backend] };
  const lstm = new LSTM({ inputSize: 3, hiddenSize: 5, numLayers: 2, seed, ...where });
  const lin = new Linear({ inFeatures: 5, outFeatures: 3, seed: seed + 1, ...where });
  const model = new Sequential([lstm, new LastStep(), lin]);
  const next = rng(seed);
  const y = model.forward(randomTensor([6, 2, 3], next), { train: true });
  const g = mseLoss(y, randomTensor([2, 3], next, 3)).grad;
  model.backward({ shape: g.shape, data: g.data.map((v) => v * size) });
  const flat = (r: Record<string, Tensor>) => Object.values(r).flatMap((t) => Array.from(t.data));
  return { model, lstm, lin, grads: () => Float32Array.from([...flat(lstm.grads()), ...flat(lin.grads())]) };
}

function directNorm(g: Float32Array, p: number): number {
  if (p === Infinity) return g.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  return g.reduce((s, v) => s + Math.abs(v) ** p, 0) ** (1 / p);
}

const relClose = (want: number, rel: number) => (got: number) => Math.abs(got - want) <= rel * Math.abs(want);

describe("gradNorm and clipGradNorm's result equal the norm computed directly over model.grads()", () => {
  for (const backend of BACKENDS) {
    it(`${backend}: p = 2, 1, 3, Infinity; Sequential, [modules] and ParamBuffer[] agree`, () => {
      const m = trainedModel(backend, 3);
      try {
        const g = m.grads();
        expect(g.length).toBe(4 * 5 * (3 + 5) + 2 * 4 * 5 + 4 * 5 * (5 + 5) + 2 * 4 * 5 + 5 * 3 + 3);
        for (const p of NORMS) {
          const want = directNorm(g, p);
          expect(want).toBeGreaterThan(0);
          const got = gradNorm(m.model, p);
          if (p === Infinity) expect(got).toBe(want);
          else expect(relClose(want, 1e-12)(got), `p=${p}: ${got} vs ${want}`).toBe(true);
          expect(gradNorm([m.lstm, m.lin], p)).toBe(got);
          expect(gradNorm(m.model.parameterBuffers(), p)).toBe(got);
          // a maxNorm above the norm: returns the same total and changes nothing
          expect(clipGradNorm(m.model, 2 * want + 1, p)).toBe(got);
          expectSame(`p=${p}: gradients untouched`, m.grads(), g);
        }
        expect(gradNorm(m.model)).toBe(gradNorm(m.model, 2));
      } finally {
        m.model.dispose();
      }
    });
  }
});

describe("clipGradNorm scales by maxNorm / (norm + 1e-6) only when that is below 1 (torch.nn.utils.clip_grad_norm_)", () => {
  for (const backend of BACKENDS) {
    it(`${backend}: scaled when norm > maxNorm, every p; the new norm is maxNorm·norm/(norm + 1e-6)`, () => {
      for (const p of NORMS) {
        const m = trainedModel(backend, 4);
        try {
          const before = m.grads();
          const total = directNorm(before, p);
          const maxNorm = total / 3;
          const got = clipGradNorm(m.model, maxNorm, p);
          const coef = maxNorm / (total + 1e-6);
          expect(relClose(total, 1e-12)(got)).toBe(true);
          const want = before.map((v) => v * coef);
          const wantF64 = Array.from(before, (v) => v * coef);
          expectClose(`p=${p}: scaled gradients`, m.grads(), wantF64, (i) => 2 * U * Math.abs(wantF64[i]));
          expect(want.length).toBe(before.length);
          const after = gradNorm(m.model, p);
          expect(relClose(maxNorm * total / (total + 1e-6), 4 * U)(after), `p=${p}: norm after ${after}, maxNorm ${maxNorm}`).toBe(true);
        } finally {
          m.model.dispose();
        }
      }
    });

    it(`${backend}: at the boundary: maxNorm = norm scales by norm/(norm + 1e-6) as torch; maxNorm = norm + 2e-6 does not; zero gradients stay zero`, () => {
      const m = trainedModel(backend, 5);
      try {
        const before = m.grads();
        const total = gradNorm(m.model);
        expect(clipGradNorm(m.model, total + 2e-6)).toBe(total);
        expectSame("untouched above the boundary", m.grads(), before);
        clipGradNorm(m.model, total);
        const coef = total / (total + 1e-6);
        expect(coef).toBeLessThan(1);
        const want = Array.from(before, (v) => v * coef);
        expectClose("scaled at the boundary", m.grads(), want, (i) => 2 * U * Math.abs(want[i]));
        m.model.zeroGrad();
        for (const p of NORMS) expect(clipGradNorm(m.model, 0.5, p)).toBe(0);
        expect(m.grads().every((v) => v === 0)).toBe(true);
      } finally {
        m.model.dispose();
      }
    });
  }

  it("two models given as a list share one total norm and one coefficient", () => {
    const a = trainedModel("simd", 6), b = trainedModel("reference", 7, 5);
    try {
      const ga = a.grads(), gb = b.grads();
      const total = directNorm(Float32Array.from([...ga, ...gb]), 2);
      const got = clipGradNorm([a.model, b.model], 1);
      expect(relClose(total, 1e-12)(got)).toBe(true);
      const coef = 1 / (total + 1e-6);
      const wa = Array.from(ga, (v) => v * coef), wb = Array.from(gb, (v) => v * coef);
      expectClose("first model", a.grads(), wa, (i) => 2 * U * Math.abs(wa[i]));
      expectClose("second model", b.grads(), wb, (i) => 2 * U * Math.abs(wb[i]));
    } finally {
      a.model.dispose();
      b.model.dispose();
    }
  });
});

describe("non-finite gradients", () => {
  const FINITE_NORMS = [2, 1, 3];
  for (const backend of BACKENDS) {
    it(`${backend}: errorIfNonfinite throws RnnError 'nonfinite' (NaN: p = 2, 1, 3; ±Infinity: every p) and leaves the gradients as they were`, () => {
      for (const bad of [NaN, Infinity, -Infinity]) {
        const m = trainedModel(backend, 8);
        try {
          m.lin.parameterBuffers()[0].grads()[0] = bad; // weight[0, 0] on both backends
          const before = m.grads();
          expect(Object.is(before[before.length - 18], bad), "the bad value sits at the Linear's weight[0, 0]").toBe(true);
          for (const p of Number.isNaN(bad) ? FINITE_NORMS : NORMS) {
            expectRnnError(() => clipGradNorm(m.model, 1, p, true), "nonfinite", `${p}-norm`);
            expectSame(`p=${p}: unchanged`, m.grads(), before);
          }
        } finally {
          m.model.dispose();
        }
      }
    });

    // Without errorIfNonfinite, torch computes clip_coef = max_norm / (nan + 1e-6) = nan, clamps it (still nan)
    // and multiplies every gradient by it; with an infinite norm the coefficient is 0, so every finite gradient
    // becomes 0 and the infinite one 0·inf = nan. The same here.
    it(`${backend}: without it, as torch: a NaN makes the norm NaN and every gradient NaN (p = 2, 1, 3); an Infinity makes the norm Infinity, the finite gradients 0 and itself NaN (every p)`, () => {
      for (const p of FINITE_NORMS) {
        const m = trainedModel(backend, 9);
        try {
          m.lin.parameterBuffers()[0].grads()[0] = NaN;
          expect(Number.isNaN(gradNorm(m.model, p)), `p=${p}: gradNorm`).toBe(true);
          expect(Number.isNaN(clipGradNorm(m.model, 1, p)), `p=${p}: clipGradNorm`).toBe(true);
          expect(m.grads().every(Number.isNaN), `p=${p}: every gradient NaN`).toBe(true);
        } finally {
          m.model.dispose();
        }
      }
      for (const p of NORMS) {
        const k = trainedModel(backend, 10);
        try {
          k.lin.parameterBuffers()[0].grads()[0] = -Infinity;
          const at = k.grads().length - 18;
          expect(clipGradNorm(k.model, 1, p)).toBe(Infinity);
          const after = k.grads();
          expect(Number.isNaN(after[at])).toBe(true);
          expect(after.every((v, i) => i === at || v === 0), `p=${p}: finite gradients zeroed`).toBe(true);
        } finally {
          k.model.dispose();
        }
      }
    });

    // torch.linalg.vector_norm(g, inf) is NaN when g holds a NaN, so clip_grad_norm_ raises with
    // error_if_nonfinite and otherwise NaN-fills. assembly/optim.ts's maxAbs means to do the same ("NaN wins"),
    // but `if (!(v <= m)) m = v` replaces a NaN maximum with the next element, so only a NaN in the last float
    // of a buffer shows. Here the NaN is the Linear's weight[0, 0], the first float of its buffer.
    it(`${backend}: p = Infinity: a NaN gradient makes the norm NaN, so errorIfNonfinite throws and without it every gradient becomes NaN`, () => {
      const m = trainedModel(backend, 13);
      try {
        m.lin.parameterBuffers()[0].grads()[0] = NaN;
        const before = m.grads();
        expect(Number.isNaN(gradNorm(m.model, Infinity)), `gradNorm(model, Infinity) = ${gradNorm(m.model, Infinity)}`).toBe(true);
        expectRnnError(() => clipGradNorm(m.model, 1, Infinity, true), "nonfinite", "Infinity-norm");
        expectSame("unchanged after the error", m.grads(), before);
        expect(Number.isNaN(clipGradNorm(m.model, 1e-3, Infinity))).toBe(true);
        expect(m.grads().every(Number.isNaN), "every gradient NaN").toBe(true);
      } finally {
        m.model.dispose();
      }
    });
  }

  it("normType must be a positive number or Infinity; clipValue must be >= 0", () => {
    const m = trainedModel("reference", 11);
    for (const p of [0, -1, NaN, -Infinity]) {
      expectRnnError(() => gradNorm(m.model, p), "unexpected", "normType");
      expectRnnError(() => clipGradNorm(m.model, 1, p), "unexpected", "normType");
    }
    for (const c of [-0.1, NaN, -Infinity]) expectRnnError(() => clipGradValue(m.model, c), "unexpected", "clipValue");
    m.model.dispose();
  });
});

describe("clipGradValue clamps every gradient to [-c, c] (torch.nn.utils.clip_grad_value_)", () => {
  for (const backend of BACKENDS) {
    it(`${backend}: values outside are set to ±c, inside untouched (bitwise), NaN stays NaN; c = 0 zeroes; padding stays zero`, () => {
      for (const c of [0.01, 0.1, 0]) {
        const m = trainedModel(backend, 12);
        try {
          m.lin.parameterBuffers()[0].grads()[0] = NaN;
          const before = m.grads();
          const inside = before.filter((v) => Math.abs(v) < c).length, outside = before.filter((v) => Math.abs(v) > c).length;
          if (c > 0) expect(inside > 0 && outside > 0, `c=${c} splits the gradients (${inside} inside, ${outside} outside)`).toBe(true);
          clipGradValue(m.model, c);
          const want = before.map((v) => Math.min(Math.max(v, -c), c)); // a Float32Array: ±c lands as float32, as the kernel takes it
          expectSame(`c=${c}`, m.grads(), want);
          if (backend !== "reference") {
            const rt = runtimes[backend];
            const masks = [
              ...realLanes(() => fromTorch(onesLike(m.lstm.toTorch()), { runtime: rt }) as LSTM),
              ...realLanes(() => Linear.fromTorch(onesLike(m.lin.toTorch()), { runtime: rt })),
            ];
            m.model.parameterBuffers().forEach((b, j) => {
              const padding = paddingOf(b, masks[j], "grads");
              expect(padding.length, `buffer ${j} has padding`).toBeGreaterThan(0);
              expect(padding.every((v) => v === 0), `gradient padding of buffer ${j}`).toBe(true);
            });
          }
        } finally {
          m.model.dispose();
        }
      }
    });
  }
});
