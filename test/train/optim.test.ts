// Optimizers: the wasm kernels (assembly/optim.ts) against their mirror (src/reference/optim.ts), the mirror
// against torch.optim's documented algorithms, and the optimizer objects (defaults, validation, lifetimes,
// padding lanes) on both backends.
//
// Tolerances (U = 2^-24, the float32 unit roundoff):
// - sumSquares, maxAbs, scaleInPlace and clampInPlace must be bitwise equal to the mirror: sumSquares squares
//   float32 values in float64 (exact: 24-bit mantissas give 48-bit products) and adds them in the same order;
//   maxAbs and clamp only compare and copy; scaleInPlace rounds one float32 product once on both sides when the
//   factor is a float32 value (the mirror's float64 product of two float32 values is exact before its store).
// - sgdStep and adamStep: the kernels compute in float32, the mirror in float64 with float32 stores. Either
//   result is within γ_n·S of the exact value, where S is the same expression evaluated on absolute values
//   (subtractions as additions) and n counts the roundings on the longest path (standard forward error
//   analysis, γ_n ≈ nU). Counting them in the kernel: SGD momentum buffer 6 (+1 for the mirror's store), SGD
//   parameter 10 (+1); Adam m 6 (+1), v 8 (+1), parameter ~21 with the sqrt halving v's error (+3 for the
//   mirror's stored m and v). The bounds used are 8U and 16U (SGD buf, p), 8U, 12U and 32U (Adam m, v, p):
//   at least the count, so they cannot fail on rounding, and far below any wrong term (>= 1e-3 relative).
//   Random data never comes near float32 underflow (|x| >= ~1e-9 with overwhelming probability, squares >= 1e-18).
// - Over K steps (optimizer objects on both backends vs the float64 transcription), errors of earlier steps
//   carry on in the moments, each decaying by β or μ < 1 per step, so the bound is (C + 16K)·U·Σ_k S_k with
//   C = 16 (SGD) or 32 (Adam): a step's own rounding plus at most 16U·S per earlier step carried through the
//   buffers. The wasm kernels also take the hyperparameters as float32: lr, eps, decay and μ then carry one
//   more relative U each (inside the margin), but rounding β moves 1 - β by up to 1.3e-5 relative (β2 = 0.999,
//   see betaRounding), so the wasm bound adds (ρ1 + ρ2)·Σ_k q_k, q the size of each step's update term.
//   A wiring error (step count, bias correction, coupled vs decoupled decay, moments of the wrong buffer)
//   moves a parameter by >= ~1e-2·lr per step, far above it.
// - The float64 mirror against the float64 transcription: both in double precision and differing only in the
//   order of operations (lerp vs weighted sum, bias corrections folded into the step size), so each step adds
//   a few 2^-53 relative errors; 1e-12·max(1, |x|) over 6 steps has a margin of > 100x and catches any
//   formula difference.
import { describe, it, expect, beforeAll } from "vitest";
import fc from "fast-check";
import {
  Adam, AdamW, fromTorch, Linear, LSTM, Sequential, LastStep, SGD, RnnError, mseLoss,
  type Build, type ParamBuffer, type Runtime, type Optimizer,
} from "../../src/index.js";
import * as ref from "../../src/reference/optim.js";
import { arrayBuffer, wasmBuffer } from "../../src/train/params.js";
import { expectRnnError, onesLike, paddingOf, realLanes } from "./support.js";
import { expectSame, expectClose, U } from "../helpers/compare.js";
import { randomF32, randomTensor, rng } from "../helpers/random.js";
import { runtimeFor, TEST_BUILDS } from "../helpers/runtimes.js";

const runtimes = {} as Record<Build, Runtime>;
beforeAll(async () => {
  for (const build of TEST_BUILDS) runtimes[build] = await runtimeFor(build);
});

const f = Math.fround;

/** Copies `arrays` into fresh wasm blocks, runs `fn` on their addresses, copies them back, frees the blocks. */
function onBlocks(rt: Runtime, arrays: Float32Array[], fn: (ptrs: number[]) => void): Float32Array[] {
  const ptrs = arrays.map((a) => rt.alloc(a.length * 4));
  try {
    arrays.forEach((a, i) => rt.f32(ptrs[i], a.length).set(a));
    fn(ptrs);
    return arrays.map((a, i) => rt.f32(ptrs[i], a.length).slice());
  } finally {
    for (const p of ptrs) rt.free(p);
  }
}

/** Data with the values IEEE rules treat specially mixed in: NaN, ±Infinity, ±0, subnormals, huge. */
function specialData(n: number, next: () => number): Float32Array {
  const specials = [NaN, Infinity, -Infinity, 0, -0, 1e-45, -3e-42, 3e38, -1e30, 1, -1];
  const out = randomF32(n, next, 4);
  for (let i = 0; i < n; i++) if (next() < 0.15) out[i] = specials[Math.floor(next() * specials.length)];
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Error bounds (see the header): S, the update evaluated on absolute values.

interface SgdHyper { lr: number; momentum: number; dampening: number; weightDecay: number; nesterov: boolean }
interface AdamHyper { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; amsgrad: boolean; decoupled: boolean }

/** S of the momentum buffer and of the parameter for one SGD step of element i. */
function sgdScale(h: SgdHyper, p: number, g: number, buf: number, first: boolean): { buf: number; p: number } {
  const ga = Math.abs(g) + h.weightDecay * Math.abs(p);
  const sb = first ? ga : h.momentum * Math.abs(buf) + Math.abs(1 - h.dampening) * ga;
  const step = h.momentum !== 0 ? ga + sb + h.momentum * sb : ga;
  return { buf: sb, p: Math.abs(p) + h.lr * step };
}

/**
 * S of m, v and the parameter for one Adam step of element i; `vUse` is the new v (or vmax) that the step
 * divides by, taken from a result (the true denominator, not the larger absolute-value one).
 */
function adamScale(h: AdamHyper, p: number, g: number, m: number, v: number, vUse: number, bc1: number, bc2: number): { m: number; v: number; p: number; q: number } {
  const gc = Math.abs(g) + (h.decoupled ? 0 : h.weightDecay * Math.abs(p));
  const sm = Math.abs(m) + (1 - h.beta1) * (gc + Math.abs(m));
  const sv = h.beta2 * v + (1 - h.beta2) * gc * gc;
  const d = Math.sqrt(vUse) / Math.sqrt(bc2) + h.eps;
  const q = (h.lr / bc1) * (sm / d); // the size of the update term
  return { m: sm, v: sv, p: Math.abs(p) * (1 + h.lr * h.weightDecay) + q, q };
}

/**
 * The kernels take β as float32 while the caller's bias corrections use the float64 β: rounding β changes
 * 1 - β by |fround(β) - β| / (1 - β) relative (1.3e-5 for β2 = 0.999), which scales m (β1) or v (β2) and so
 * the update term by at most that (half of it through the square root, for β2).
 */
function betaRounding(beta: number): number {
  return Math.abs(Math.fround(beta) - beta) / (1 - beta);
}

// ---------------------------------------------------------------------------------------------------------

describe("wasm kernels equal the reference mirror on random buffers (n = 1..67)", () => {
  for (const build of TEST_BUILDS) {
    it(`${build}: sumSquares, maxAbs, scaleInPlace, clampInPlace are bitwise the mirror's, special values included`, () => {
      const rt = runtimes[build];
      const start = rt.blocksInUse;
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 67 }), fc.integer(), fc.double({ min: -4, max: 4, noNaN: true }), fc.double({ min: 0, max: 3, noNaN: true }),
          (n, seed, scale, clip) => {
            const x = specialData(n, rng(seed));
            const k = rt.kernels;
            const s = f(scale), c = f(clip);
            let sum = 0, max = 0;
            const [scaled] = onBlocks(rt, [x], ([p]) => { sum = k.sumSquares(p, n); max = k.maxAbs(p, n); k.scaleInPlace(p, n, s); });
            const [clamped] = onBlocks(rt, [x], ([p]) => k.clampInPlace(p, n, c));
            expect(sameOrBothNaN(sum, ref.sumSquares(x, n)), `sumSquares ${sum} vs ${ref.sumSquares(x, n)}`).toBe(true);
            expect(sameOrBothNaN(max, ref.maxAbs(x, n)), `maxAbs ${max} vs ${ref.maxAbs(x, n)}`).toBe(true);
            const want = x.slice();
            ref.scaleInPlace(want, n, s);
            expectSame("scaleInPlace", scaled, want);
            const wantC = x.slice();
            ref.clampInPlace(wantC, n, c);
            expectSame("clampInPlace", clamped, wantC);
          },
        ),
        { numRuns: 200, seed: 11 },
      );
      expect(rt.blocksInUse).toBe(start);
    });

    // assembly/optim.ts says of maxAbs "NaN wins, so a NaN gradient shows in the norm" (torch's inf-norm is NaN
    // then). The mirror is checked too: it has the same loop.
    it(`${build}: maxAbs is NaN when any element is NaN, wherever it sits (first, middle, last), as its comment states`, () => {
      const rt = runtimes[build];
      for (const n of [1, 4, 7, 67]) {
        for (const at of new Set([0, n >> 1, n - 1])) {
          const x = randomF32(n, rng(n * 100 + at));
          x[at] = NaN;
          let got = 0;
          onBlocks(rt, [x], ([p]) => { got = rt.kernels.maxAbs(p, n); });
          expect(Number.isNaN(got), `wasm maxAbs, n=${n}, NaN at ${at}: got ${got}`).toBe(true);
          expect(Number.isNaN(ref.maxAbs(x, n)), `reference maxAbs, n=${n}, NaN at ${at}: got ${ref.maxAbs(x, n)}`).toBe(true);
        }
      }
    });

    it(`${build}: sgdStep (momentum, dampening, Nesterov, weight decay, first step) within 8U / 16U of S`, () => {
      const rt = runtimes[build];
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 67 }), fc.integer(),
          fc.double({ min: 1e-4, max: 0.5, noNaN: true }),
          fc.oneof(fc.constant(0), fc.double({ min: 0.01, max: 0.99, noNaN: true })),
          fc.oneof(fc.constant(0), fc.double({ min: 0, max: 0.9, noNaN: true })),
          fc.oneof(fc.constant(0), fc.double({ min: 0, max: 0.2, noNaN: true })),
          fc.boolean(), fc.boolean(), fc.constantFrom(1e-3, 1, 30),
          (n, seed, lr, momentum, dampening, weightDecay, nesterov, first, gScale) => {
            const h: SgdHyper = { lr: f(lr), momentum: f(momentum), dampening: f(dampening), weightDecay: f(weightDecay), nesterov };
            const next = rng(seed);
            const p = randomF32(n, next), g = randomF32(n, next, gScale), buf = randomF32(n, next, gScale);
            const withBuf = h.momentum !== 0;
            const [pw, , bw] = onBlocks(rt, [p, g, buf], ([pp, gp, bp]) =>
              rt.kernels.sgdStep(pp, gp, withBuf ? bp : 0, n, h.lr, h.momentum, h.dampening, h.weightDecay, nesterov ? 1 : 0, first ? 1 : 0));
            const pr = p.slice(), br = buf.slice();
            ref.sgdStep(pr, g, withBuf ? br : null, n, h.lr, h.momentum, h.dampening, h.weightDecay, nesterov, first);
            const S = Array.from({ length: n }, (_, i) => sgdScale(h, p[i], g[i], buf[i], first));
            expectClose("parameters", pw, pr, (i) => 16 * U * S[i].p);
            if (withBuf) expectClose("momentum buffer", bw, br, (i) => 8 * U * S[i].buf);
            else expectSame("buffer untouched without momentum", bw, buf);
          },
        ),
        { numRuns: 200, seed: 12 },
      );
    });

    it(`${build}: adamStep (Adam and AdamW, amsgrad, any step's bias corrections) within 8U / 12U / 32U of S`, () => {
      const rt = runtimes[build];
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 67 }), fc.integer(),
          fc.double({ min: 1e-4, max: 0.5, noNaN: true }),
          fc.double({ min: 0, max: 0.99, noNaN: true }), fc.double({ min: 0, max: 0.9999, noNaN: true }),
          fc.constantFrom(1e-8, 1e-6, 1e-3), fc.oneof(fc.constant(0), fc.double({ min: 0, max: 0.2, noNaN: true })),
          fc.boolean(), fc.boolean(), fc.integer({ min: 1, max: 2000 }), fc.constantFrom(1e-3, 1, 30),
          (n, seed, lr, beta1, beta2, eps, weightDecay, amsgrad, decoupled, t, gScale) => {
            const h: AdamHyper = { lr: f(lr), beta1: f(beta1), beta2: f(beta2), eps: f(eps), weightDecay: f(weightDecay), amsgrad, decoupled };
            const bc1 = 1 - h.beta1 ** t, bc2 = 1 - h.beta2 ** t;
            const next = rng(seed);
            const p = randomF32(n, next), g = randomF32(n, next, gScale), m = randomF32(n, next, gScale);
            const v = randomF32(n, next, gScale * gScale).map(Math.abs), vmax = v.map((x) => x * 2 * next());
            const [pw, , mw, vw, xw] = onBlocks(rt, [p, g, m, v, vmax], ([pp, gp, mp, vp, xp]) =>
              rt.kernels.adamStep(pp, gp, mp, vp, amsgrad ? xp : 0, n, h.lr, h.beta1, h.beta2, h.eps, h.weightDecay, bc1, bc2, decoupled ? 1 : 0));
            const pr = p.slice(), mr = m.slice(), vr = v.slice(), xr = vmax.slice();
            ref.adamStep(pr, g, mr, vr, amsgrad ? xr : null, n, h.lr, h.beta1, h.beta2, h.eps, h.weightDecay, bc1, bc2, decoupled);
            const S = Array.from({ length: n }, (_, i) => adamScale(h, p[i], g[i], m[i], v[i], amsgrad ? xr[i] : vr[i], bc1, bc2));
            expectClose("m", mw, mr, (i) => 8 * U * S[i].m);
            expectClose("v", vw, vr, (i) => 12 * U * S[i].v);
            if (amsgrad) expectClose("vmax", xw, xr, (i) => 12 * U * Math.max(S[i].v, vmax[i]));
            else expectSame("vmax untouched without amsgrad", xw, vmax);
            expectClose("parameters", pw, pr, (i) => 32 * U * S[i].p);
          },
        ),
        { numRuns: 200, seed: 13 },
      );
    });
  }
});

function sameOrBothNaN(a: number, b: number): boolean {
  return Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
}

// ---------------------------------------------------------------------------------------------------------
// torch.optim's documented algorithms (pytorch.org/docs/stable/generated/torch.optim.{SGD,Adam,AdamW}.html),
// written out independently in float64, one tensor at a time.

interface TorchSGDOptions { lr: number; momentum: number; dampening: number; weightDecay: number; nesterov: boolean }
interface TorchAdamOptions { lr: number; betas: [number, number]; eps: number; weightDecay: number; amsgrad: boolean }

class TorchSGD {
  t = 0;
  readonly b: Float64Array[];
  constructor(readonly params: Float64Array[], readonly o: TorchSGDOptions) {
    this.b = params.map((p) => new Float64Array(p.length));
  }

  step(grads: Float64Array[]): void {
    const { lr, momentum: mu, dampening: tau, weightDecay: lambda, nesterov } = this.o;
    this.t += 1;
    this.params.forEach((theta, k) => {
      for (let i = 0; i < theta.length; i++) {
        let g = grads[k][i];                                   // g_t = ∇f(θ_{t-1})
        if (lambda !== 0) g = g + lambda * theta[i];           // g_t ← g_t + λθ_{t-1}
        if (mu !== 0) {
          if (this.t > 1) this.b[k][i] = mu * this.b[k][i] + (1 - tau) * g; // b_t ← μb_{t-1} + (1-τ)g_t
          else this.b[k][i] = g;                               // b_t ← g_t
          if (nesterov) g = g + mu * this.b[k][i];             // g_t ← g_t + μb_t
          else g = this.b[k][i];                               // g_t ← b_t
        }
        theta[i] = theta[i] - lr * g;                          // θ_t ← θ_{t-1} - γg_t
      }
    });
  }
}

class TorchAdam {
  t = 0;
  readonly m: Float64Array[];
  readonly v: Float64Array[];
  readonly vmax: Float64Array[];
  /** `decoupled`: AdamW's algorithm (θ_t ← θ_{t-1} - γλθ_{t-1} before the moments; no λθ in the gradient). */
  constructor(readonly params: Float64Array[], readonly o: TorchAdamOptions, readonly decoupled: boolean) {
    this.m = params.map((p) => new Float64Array(p.length));
    this.v = params.map((p) => new Float64Array(p.length));
    this.vmax = params.map((p) => new Float64Array(p.length));
  }

  step(grads: Float64Array[]): void {
    const { lr: gamma, betas: [b1, b2], eps, weightDecay: lambda, amsgrad } = this.o;
    this.t += 1;
    const t = this.t;
    this.params.forEach((theta, k) => {
      const m = this.m[k], v = this.v[k], vmax = this.vmax[k];
      for (let i = 0; i < theta.length; i++) {
        let g = grads[k][i];
        if (this.decoupled) theta[i] = theta[i] - gamma * lambda * theta[i];
        else if (lambda !== 0) g = g + lambda * theta[i];
        m[i] = b1 * m[i] + (1 - b1) * g;                       // m_t ← β1 m_{t-1} + (1-β1) g_t
        v[i] = b2 * v[i] + (1 - b2) * g * g;                   // v_t ← β2 v_{t-1} + (1-β2) g_t²
        const mHat = m[i] / (1 - b1 ** t);                     // m̂_t ← m_t / (1-β1^t)
        let vHat: number;
        if (amsgrad) {
          vmax[i] = Math.max(vmax[i], v[i]);                   // v_t^max ← max(v_{t-1}^max, v_t)
          vHat = vmax[i] / (1 - b2 ** t);                      // v̂_t ← v_t^max / (1-β2^t)
        } else {
          vHat = v[i] / (1 - b2 ** t);                         // v̂_t ← v_t / (1-β2^t)
        }
        theta[i] = theta[i] - gamma * mHat / (Math.sqrt(vHat) + eps); // θ_t ← θ_t - γ m̂_t / (√v̂_t + ε)
      }
    });
  }
}

/** Gradients for step k: magnitudes that shrink and grow, so amsgrad's max and the bias corrections matter. */
function stepGrads(sizes: number[], k: number, seed: number): Float64Array[] {
  const next = rng(seed * 1000 + k);
  const scale = [1, 0.05, 2, 0.3, 0.01, 1.5][k % 6];
  return sizes.map((n) => Float64Array.from(randomF32(n, next, scale)));
}

describe("the reference mirror in float64 equals torch.optim's documented algorithms", () => {
  const sizes = [37, 6];
  const K = 6;
  const init = () => { const next = rng(5); return sizes.map((n) => Float64Array.from(randomF32(n, next))); };

  const sgdCases: TorchSGDOptions[] = [
    { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false },
    { lr: 0.05, momentum: 0, dampening: 0, weightDecay: 0.1, nesterov: false },
    { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false },
    { lr: 0.05, momentum: 0.8, dampening: 0.3, weightDecay: 0.02, nesterov: false },
    { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 0.05, nesterov: true },
  ];
  for (const o of sgdCases) {
    it(`SGD ${JSON.stringify(o)} over ${K} steps`, () => {
      const torch = new TorchSGD(init(), o);
      const p = init(), buf = sizes.map((n) => new Float64Array(n));
      for (let k = 0; k < K; k++) {
        const g = stepGrads(sizes, k, 1);
        torch.step(g);
        p.forEach((pk, j) => ref.sgdStep(pk, g[j], o.momentum !== 0 ? buf[j] : null, pk.length, o.lr, o.momentum, o.dampening, o.weightDecay, o.nesterov, k === 0));
      }
      p.forEach((pk, j) => expectClose(`θ[${j}]`, pk, torch.params[j], (i) => 1e-12 * Math.max(1, Math.abs(torch.params[j][i]))));
      if (o.momentum !== 0) buf.forEach((bk, j) => expectClose(`b[${j}]`, bk, torch.b[j], (i) => 1e-12 * Math.max(1, Math.abs(torch.b[j][i]))));
    });
  }

  const adamCases: [string, TorchAdamOptions, boolean][] = [
    ["Adam, torch defaults", { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false }, false],
    ["Adam, L2 weight decay", { lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.1, amsgrad: false }, false],
    ["Adam, amsgrad", { lr: 0.01, betas: [0.8, 0.99], eps: 1e-6, weightDecay: 0.05, amsgrad: true }, false],
    ["AdamW, torch defaults", { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false }, true],
    ["AdamW, amsgrad", { lr: 0.02, betas: [0.5, 0.9], eps: 1e-4, weightDecay: 0.2, amsgrad: true }, true],
  ];
  for (const [name, o, decoupled] of adamCases) {
    it(`${name} over ${K} steps (θ, m, v, vmax)`, () => {
      const torch = new TorchAdam(init(), o, decoupled);
      const p = init();
      const m = sizes.map((n) => new Float64Array(n)), v = sizes.map((n) => new Float64Array(n)), vmax = sizes.map((n) => new Float64Array(n));
      for (let k = 0; k < K; k++) {
        const g = stepGrads(sizes, k, 2);
        torch.step(g);
        const bc1 = 1 - o.betas[0] ** (k + 1), bc2 = 1 - o.betas[1] ** (k + 1);
        p.forEach((pk, j) => ref.adamStep(pk, g[j], m[j], v[j], o.amsgrad ? vmax[j] : null, pk.length, o.lr, o.betas[0], o.betas[1], o.eps, o.weightDecay, bc1, bc2, decoupled));
      }
      const close = (x: Float64Array) => (i: number) => 1e-12 * Math.max(1, Math.abs(x[i]));
      p.forEach((pk, j) => expectClose(`θ[${j}]`, pk, torch.params[j], close(torch.params[j])));
      m.forEach((mk, j) => expectClose(`m[${j}]`, mk, torch.m[j], close(torch.m[j])));
      v.forEach((vk, j) => expectClose(`v[${j}]`, vk, torch.v[j], close(torch.v[j])));
      if (o.amsgrad) vmax.forEach((xk, j) => expectClose(`vmax[${j}]`, xk, torch.vmax[j], close(torch.vmax[j])));
    });
  }
});

// ---------------------------------------------------------------------------------------------------------
// The optimizer objects on both backends, against the transcription

type Backend = "reference" | Build;

/** Two parameter buffers (37 and 6 floats, so moments of the wrong buffer would show) on a backend. */
function makeBuffers(backend: Backend, init: Float32Array[]): { buffers: ParamBuffer[]; setGrads(g: Float64Array[]): void; free(): void } {
  if (backend === "reference") {
    const grads = init.map((p) => new Float32Array(p.length));
    return {
      buffers: init.map((p, i) => arrayBuffer(p.slice(), grads[i], () => undefined)),
      setGrads: (g) => g.forEach((gk, i) => grads[i].set(gk)),
      free: () => undefined,
    };
  }
  const rt = runtimes[backend];
  const blocks = init.map((p) => ({ p: rt.alloc(p.length * 4), g: rt.alloc(p.length * 4), n: p.length }));
  blocks.forEach((b, i) => rt.f32(b.p, b.n).set(init[i]));
  return {
    buffers: blocks.map((b) => wasmBuffer(rt, b.p, b.g, b.n, () => undefined)),
    setGrads: (g) => g.forEach((gk, i) => rt.f32(blocks[i].g, blocks[i].n).set(gk)),
    free: () => blocks.forEach((b) => { rt.free(b.p); rt.free(b.g); }),
  };
}

describe("SGD, Adam and AdamW objects on both backends follow the float64 transcription over 6 steps", () => {
  const sizes = [37, 6];
  const K = 6;
  interface Case {
    name: string;
    make(b: ParamBuffer[]): Optimizer;
    torch(p: Float64Array[]): TorchSGD | TorchAdam;
  }
  const sgd = (o: Partial<TorchSGDOptions>): TorchSGDOptions => ({ lr: 1e-3, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, ...o });
  const adam = (o: Partial<TorchAdamOptions>, decoupled: boolean): TorchAdamOptions =>
    ({ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: decoupled ? 1e-2 : 0, amsgrad: false, ...o });
  const cases: Case[] = [
    { name: "SGD() with torch defaults", make: (b) => new SGD(b), torch: (p) => new TorchSGD(p, sgd({})) },
    { name: "SGD momentum 0.9, dampening 0.2, weight decay 0.05", make: (b) => new SGD(b, { lr: 0.05, momentum: 0.9, dampening: 0.2, weightDecay: 0.05 }),
      torch: (p) => new TorchSGD(p, sgd({ lr: 0.05, momentum: 0.9, dampening: 0.2, weightDecay: 0.05 })) },
    { name: "SGD Nesterov", make: (b) => new SGD(b, { lr: 0.05, momentum: 0.7, nesterov: true, weightDecay: 0.01 }),
      torch: (p) => new TorchSGD(p, sgd({ lr: 0.05, momentum: 0.7, nesterov: true, weightDecay: 0.01 })) },
    { name: "Adam() with torch defaults", make: (b) => new Adam(b), torch: (p) => new TorchAdam(p, adam({}, false), false) },
    { name: "Adam L2 0.1, amsgrad, betas (0.8, 0.99)", make: (b) => new Adam(b, { lr: 0.01, weightDecay: 0.1, amsgrad: true, betas: [0.8, 0.99], eps: 1e-6 }),
      torch: (p) => new TorchAdam(p, adam({ lr: 0.01, weightDecay: 0.1, amsgrad: true, betas: [0.8, 0.99], eps: 1e-6 }, false), false) },
    { name: "AdamW() with torch defaults (decoupled 1e-2)", make: (b) => new AdamW(b), torch: (p) => new TorchAdam(p, adam({}, true), true) },
    { name: "AdamW decay 0.2, amsgrad, lr 0.02", make: (b) => new AdamW(b, { lr: 0.02, weightDecay: 0.2, amsgrad: true }),
      torch: (p) => new TorchAdam(p, adam({ lr: 0.02, weightDecay: 0.2, amsgrad: true }, true), true) },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const init = (() => { const next = rng(9); return sizes.map((n) => randomF32(n, next)); })();
      for (const backend of ["reference", ...TEST_BUILDS] as Backend[]) {
        const bufs = makeBuffers(backend, init);
        const opt = c.make(bufs.buffers);
        const torch = c.torch(init.map((p) => Float64Array.from(p)));
        const isAdam = torch instanceof TorchAdam;
        const scale = sizes.map((n) => new Float64Array(n)); // Σ_k S_k per element
        const updates = sizes.map((n) => new Float64Array(n)); // Σ_k q_k per element (Adam)
        try {
          for (let k = 0; k < K; k++) {
            const g = stepGrads(sizes, k, 3);
            bufs.setGrads(g);
            const before = torch.params.map((p) => p.slice());
            const mBefore = isAdam ? (torch as TorchAdam).m.map((m) => m.slice()) : (torch as TorchSGD).b.map((b) => b.slice());
            const vBefore = isAdam ? (torch as TorchAdam).v.map((v) => v.slice()) : null;
            torch.step(g);
            opt.step();
            sizes.forEach((n, j) => {
              for (let i = 0; i < n; i++) {
                if (torch instanceof TorchAdam) {
                  const { betas: [b1, b2], lr, eps, weightDecay, amsgrad } = torch.o;
                  const vUse = amsgrad ? torch.vmax[j][i] : torch.v[j][i];
                  const s = adamScale({ lr, beta1: b1, beta2: b2, eps, weightDecay, amsgrad, decoupled: torch.decoupled },
                    before[j][i], g[j][i], mBefore[j][i], vBefore![j][i], vUse, 1 - b1 ** torch.t, 1 - b2 ** torch.t);
                  scale[j][i] += s.p;
                  updates[j][i] += s.q;
                } else {
                  scale[j][i] += sgdScale(torch.o, before[j][i], g[j][i], mBefore[j][i], torch.t === 1).p;
                }
              }
            });
          }
          expect(opt.stepCount).toBe(K);
          const C = (isAdam ? 32 : 16) + 16 * K;
          const rho = torch instanceof TorchAdam && backend !== "reference" ? betaRounding(torch.o.betas[0]) + betaRounding(torch.o.betas[1]) : 0;
          bufs.buffers.forEach((b, j) => expectClose(`${backend}: θ[${j}]`, b.params(), torch.params[j], (i) => C * U * scale[j][i] + rho * updates[j][i]));
        } finally {
          opt.dispose();
          bufs.free();
        }
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------------------

describe("defaults and hyperparameter validation", () => {
  const model = () => new Linear({ inFeatures: 2, outFeatures: 3, seed: 1, backend: "reference" });

  it("defaults are torch.optim's: SGD lr 1e-3, momentum 0; Adam lr 1e-3, betas (0.9, 0.999), eps 1e-8, no decay; AdamW decay 1e-2", () => {
    const s = new SGD(model());
    expect([s.lr, s.momentum, s.dampening, s.weightDecay, s.nesterov]).toEqual([1e-3, 0, 0, 0, false]);
    const a = new Adam(model());
    expect([a.lr, a.betas, a.eps, a.weightDecay, a.amsgrad]).toEqual([1e-3, [0.9, 0.999], 1e-8, 0, false]);
    const w = new AdamW(model());
    expect([w.lr, w.betas, w.eps, w.weightDecay, w.amsgrad]).toEqual([1e-3, [0.9, 0.999], 1e-8, 1e-2, false]);
    expect(new AdamW(model(), { weightDecay: 0 }).weightDecay).toBe(0);
  });

  it("options left out behave bitwise as torch's defaults written out", () => {
    const run = (make: (m: Linear) => Optimizer) => {
      const m = model();
      const opt = make(m);
      const x = randomTensor([4, 2], rng(3));
      for (let k = 0; k < 3; k++) {
        m.zeroGrad();
        m.forward(x, { train: true });
        m.backward(randomTensor([4, 3], rng(10 + k)));
        opt.step();
      }
      return m.toTorch().weight.data;
    };
    expectSame("Adam", run((m) => new Adam(m)), run((m) => new Adam(m, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false })));
    expectSame("AdamW", run((m) => new AdamW(m)), run((m) => new AdamW(m, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false })));
    expectSame("SGD", run((m) => new SGD(m)), run((m) => new SGD(m, { lr: 1e-3, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false })));
  });

  it("invalid hyperparameters throw RnnError naming the option, before any memory is taken", async () => {
    const rt = await runtimeFor("simd");
    const m = new Linear({ inFeatures: 2, outFeatures: 3, seed: 1, runtime: rt });
    const start = rt.blocksInUse;
    const bad: [string, () => unknown, string][] = [
      ["SGD lr < 0", () => new SGD(m, { lr: -0.1 }), "lr"],
      ["SGD lr NaN", () => new SGD(m, { lr: NaN }), "lr"],
      ["SGD momentum < 0", () => new SGD(m, { momentum: -0.5 }), "momentum"],
      ["SGD weightDecay < 0", () => new SGD(m, { weightDecay: -1e-4 }), "weightDecay"],
      ["SGD Nesterov without momentum", () => new SGD(m, { nesterov: true }), "Nesterov"],
      ["SGD Nesterov with dampening", () => new SGD(m, { nesterov: true, momentum: 0.9, dampening: 0.1 }), "Nesterov"],
      ["Adam lr < 0", () => new Adam(m, { lr: -1 }), "lr"],
      ["Adam beta1 = 1", () => new Adam(m, { betas: [1, 0.999] }), "betas[0]"],
      ["Adam beta1 < 0", () => new Adam(m, { betas: [-0.1, 0.999] }), "betas[0]"],
      ["Adam beta2 = 1", () => new Adam(m, { betas: [0.9, 1] }), "betas[1]"],
      ["Adam beta2 NaN", () => new Adam(m, { betas: [0.9, NaN] }), "betas[1]"],
      ["Adam eps < 0", () => new Adam(m, { eps: -1e-8 }), "eps"],
      ["Adam weightDecay < 0", () => new Adam(m, { weightDecay: -0.01 }), "weightDecay"],
      ["AdamW lr NaN", () => new AdamW(m, { lr: NaN }), "lr"],
      ["AdamW weightDecay < 0", () => new AdamW(m, { weightDecay: -1 }), "weightDecay"],
      ["AdamW beta2 > 1", () => new AdamW(m, { betas: [0.9, 1.5] }), "betas[1]"],
    ];
    for (const [what, call, name] of bad) {
      const err = expectRnnError(call, "unexpected", name);
      expect(err.message, what).toBeTruthy();
      expect(rt.blocksInUse, `${what}: no block left behind`).toBe(start);
    }
    m.dispose();
  });
});

// ---------------------------------------------------------------------------------------------------------

/** A wasm LSTM (H = 5, projection 3, 2 layers) into a Linear (3 -> 2): padding in every tensor. */
function paddedModel(rt: Runtime, seed: number): { model: Sequential; masks: Uint8Array[] } {
  const lstm = new LSTM({ inputSize: 3, hiddenSize: 5, projSize: 3, numLayers: 2, seed, runtime: rt });
  const lin = new Linear({ inFeatures: 3, outFeatures: 2, seed: seed + 1, runtime: rt });
  const masks = [
    ...realLanes(() => fromTorch(onesLike(lstm.toTorch()), { runtime: rt }) as LSTM),
    ...realLanes(() => Linear.fromTorch(onesLike(lin.toTorch()), { runtime: rt })),
  ];
  const count = (m: Uint8Array) => m.reduce((a, v) => a + v, 0);
  const numelOf = (r: Record<string, { data: Float32Array }>) => Object.values(r).reduce((a, t) => a + t.data.length, 0);
  expect(masks.map(count), "real lanes = PyTorch parameter counts").toEqual([numelOf(lstm.toTorch()), numelOf(lin.toTorch())]);
  return { model: new Sequential([lstm, new LastStep(), lin]), masks };
}

function trainSteps(model: Sequential, opt: Optimizer, steps: number, seed: number): void {
  const next = rng(seed);
  for (let k = 0; k < steps; k++) {
    opt.zeroGrad();
    const y = model.forward(randomTensor([4, 3, 3], next), { train: true });
    model.backward(mseLoss(y, randomTensor([3, 2], next)).grad);
    opt.step();
  }
}

describe("padding lanes of wasm parameter blocks", () => {
  const optimizers: [string, (m: Sequential) => Optimizer][] = [
    ["Adam, L2 decay 0.1", (m) => new Adam(m, { lr: 0.01, weightDecay: 0.1 })],
    ["AdamW, decay 0.1, amsgrad", (m) => new AdamW(m, { lr: 0.01, weightDecay: 0.1, amsgrad: true })],
    ["SGD, Nesterov momentum, decay 0.1", (m) => new SGD(m, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.1 })],
  ];
  for (const build of TEST_BUILDS) {
    it(`${build}: stay exactly zero over 150 steps with weight decay (params and grads)`, () => {
      for (const [name, make] of optimizers) {
        const { model, masks } = paddedModel(runtimes[build], 4);
        const opt = make(model);
        try {
          trainSteps(model, opt, 150, 8);
          const buffers = model.parameterBuffers();
          expect(buffers.length).toBe(2);
          buffers.forEach((b, j) => {
            expect(masks[j].some((x) => x === 0), "the block has padding").toBe(true);
            expect(paddingOf(b, masks[j], "params").every((v) => v === 0), `${name}: parameter padding of buffer ${j}`).toBe(true);
            expect(paddingOf(b, masks[j], "grads").every((v) => v === 0), `${name}: gradient padding of buffer ${j}`).toBe(true);
          });
          const weights = model.modules[0] as LSTM;
          expect(Object.values(weights.toTorch()).every((t) => t.data.every(Number.isFinite)), `${name}: finite weights`).toBe(true);
        } finally {
          opt.dispose();
          model.dispose();
        }
      }
    });
  }

  // torch.optim.Adam accepts eps = 0 (it checks 0 <= eps). A real parameter then updates by m/sqrt(v), finite
  // while its gradient is not identically zero; here every gradient is nonzero, so torch stays finite. The
  // wasm adamStep also updates the padding lanes, where m = v = 0 gives p -= stepSize·(0/0) = NaN, and the
  // kernels then read those lanes: Linear.backward's dx is dy (zero in the padded columns) times the padded
  // Wᵀ, and 0·NaN = NaN, so dx is all NaN (likewise an LSTM's dInput and gradients).
  it("Adam with eps = 0 (valid in torch) keeps the padding zero and the next backward finite", async () => {
    const rt = await runtimeFor("simd");
    const lin = new Linear({ inFeatures: 3, outFeatures: 2, seed: 1, runtime: rt });
    const twin = Linear.fromTorch(lin.toTorch(), { backend: "reference" });
    const x = { shape: [1, 3], data: new Float32Array([1, 2, 3]) };
    const dy = { shape: [1, 2], data: new Float32Array([1, -1]) };
    const dx: Float32Array[] = [];
    for (const m of [lin, twin]) {
      const opt = new Adam(m, { eps: 0, lr: 0.01 });
      m.forward(x, { train: true });
      m.backward(dy);
      opt.step();
      m.forward(x, { train: true });
      dx.push(m.backward(dy).data);
      opt.dispose();
    }
    const [mask] = realLanes(() => Linear.fromTorch(onesLike(lin.toTorch()), { runtime: rt }));
    const padding = paddingOf(lin.parameterBuffers()[0], mask, "params");
    expect(padding.length, "the block has padding").toBeGreaterThan(0);
    expect(padding.filter((v) => v !== 0), "nonzero parameter padding after one Adam(eps 0) step").toEqual([]);
    expect(Array.from(dx[1]).every(Number.isFinite), "reference dx").toBe(true);
    expectClose("wasm dx vs reference dx", dx[0], dx[1], (i) => 1e-5 * Math.max(1, Math.abs(dx[1][i])));
    lin.dispose();
  });
});

// ---------------------------------------------------------------------------------------------------------

describe("optimizer lifetimes", () => {
  it("dispose frees every moment block (Adam 2 per buffer, amsgrad 3, SGD momentum 1, plain SGD 0); safe twice; step after throws", async () => {
    const rt = await runtimeFor("simd");
    const { model } = paddedModel(rt, 1);
    trainSteps(model, new SGD(model), 1, 1); // allocates workspaces and grads, so only moments change below
    const start = rt.blocksInUse, startBytes = rt.bytesInUse;
    const cases: [() => Optimizer, number][] = [
      [() => new Adam(model), 4],
      [() => new Adam(model, { amsgrad: true }), 6],
      [() => new AdamW(model, { amsgrad: true }), 6],
      [() => new SGD(model, { momentum: 0.9 }), 2],
      [() => new SGD(model), 0],
    ];
    for (const [make, blocks] of cases) {
      const opt = make();
      expect(rt.blocksInUse - start).toBe(blocks);
      trainSteps(model, opt, 2, 2);
      opt.dispose();
      expect(rt.blocksInUse).toBe(start);
      expect(rt.bytesInUse).toBe(startBytes);
      opt.dispose();
      opt[Symbol.dispose]();
      expect(rt.blocksInUse).toBe(start);
      expectRnnError(() => opt.step(), "disposed", "optimizer");
    }
    model.dispose();
    expect(rt.blocksInUse).toBe(0);
  });

  it("step (and zeroGrad) after the model's dispose throws 'disposed' and writes nothing into the freed memory", async () => {
    const rt = await runtimeFor("scalar");
    const lin = new Linear({ inFeatures: 5, outFeatures: 3, seed: 2, runtime: rt });
    const opt = new Adam(lin, { lr: 0.1, weightDecay: 0.1 });
    lin.forward(randomTensor([2, 5], rng(1)), { train: true });
    lin.backward(randomTensor([2, 3], rng(2)));
    opt.step();
    const blockBytes = lin.parameterBuffers()[0].size * 4;
    lin.dispose();
    // blocks the allocator may hand out at the freed addresses, filled with a sentinel
    const probes = [rt.alloc(blockBytes), rt.alloc(blockBytes), rt.alloc(blockBytes)];
    for (const p of probes) rt.f32(p, blockBytes / 4).fill(7.25);
    expectRnnError(() => opt.step(), "disposed", "disposed");
    expectRnnError(() => opt.zeroGrad(), "disposed", "disposed");
    for (const p of probes) expect(rt.f32(p, blockBytes / 4).every((v) => v === 7.25), "sentinel untouched").toBe(true);
    for (const p of probes) rt.free(p);
    opt.dispose();
    expect(rt.blocksInUse).toBe(0);
  });

  it("the same on the reference backend, for a layer and a Linear", () => {
    const lstm = new LSTM({ inputSize: 2, hiddenSize: 3, seed: 3, backend: "reference" });
    const lin = new Linear({ inFeatures: 3, outFeatures: 1, seed: 4, backend: "reference" });
    const opt = new SGD([lstm, lin], { momentum: 0.5 });
    opt.step();
    lin.dispose();
    expectRnnError(() => opt.step(), "disposed", "Linear");
    lstm.dispose();
    const opt2 = new Adam([], {});
    opt2.step();
    expect(() => new Adam(lstm)).toThrow(RnnError);
  });
});
