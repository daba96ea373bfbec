// Finite-difference checks of the reference backward (src/reference/layer.ts) in Float64.
// Loss = sum(output * wOut) + sum(hN * wH) + sum(cN * wC) with fixed random w*, so the upstream gradients are
// exactly w*. Each checked entry compares the analytic gradient with (L(θ+ε) - L(θ-ε)) / 2ε, ε = 1e-6.
// In float64 the central difference has truncation error O(ε²·|f'''|) ~ 1e-12 and rounding error
// ~ 1e-16·|L|/ε ~ 1e-10 here, so |analytic - numeric| <= 1e-7 · max(1, |analytic|) has a wide margin and still
// catches any wrong term (those are off by 1e-3 or more).
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { makeSpec, paramList, type Kind, type Spec, directions, outputSize } from "../../src/architecture.js";
import { recurrentBackward, recurrentForward, type Tape } from "../../src/reference/layer.js";
import { numel, randomF64, rng } from "../helpers/random.js";

const EPS = 1e-6;
const TOL = 1e-7;
const f64 = (n: number) => new Float64Array(n);

interface Problem {
  spec: Spec;
  T: number;
  B: number;
  params: Record<string, Float64Array>;
  x: Float64Array;
  h0: Float64Array | null;
  c0: Float64Array | null;
  wOut: Float64Array;
  wH: Float64Array;
  wC: Float64Array | null;
  lengths: Int32Array | null;
}

function makeProblem(kind: Kind, opts: Record<string, unknown>, T: number, B: number, withState: boolean, seed: number, variableLength = false): Problem {
  const spec = makeSpec(kind, opts as never);
  const next = rng(seed);
  const params: Record<string, Float64Array> = {};
  for (const p of paramList(spec)) params[p.name] = randomF64(numel(p.shape), next, 0.6);
  const D = directions(spec), P = outputSize(spec), LD = spec.numLayers * D;
  return {
    spec, T, B, params,
    x: randomF64(T * B * spec.inputSize, next),
    h0: withState ? randomF64(LD * B * P, next, 0.5) : null,
    c0: withState && kind === "lstm" ? randomF64(LD * B * spec.hiddenSize, next, 0.5) : null,
    wOut: randomF64(T * B * D * P, next),
    wH: randomF64(LD * B * P, next),
    wC: kind === "lstm" ? randomF64(LD * B * spec.hiddenSize, next) : null,
    lengths: variableLength ? Int32Array.from({ length: B }, (_, b) => (b === 0 ? T : 1 + Math.floor(next() * T))) : null,
  };
}

function loss(p: Problem): number {
  const r = recurrentForward(p.spec, p.params, p.x, p.h0, p.c0, p.T, p.B, f64, undefined, p.lengths);
  let s = 0;
  for (let i = 0; i < r.output.length; i++) s += r.output[i] * p.wOut[i];
  for (let i = 0; i < r.hN.length; i++) s += r.hN[i] * p.wH[i];
  if (r.cN && p.wC) for (let i = 0; i < r.cN.length; i++) s += r.cN[i] * p.wC[i];
  return s;
}

function numeric(p: Problem, v: Float64Array, i: number): number {
  const keep = v[i];
  v[i] = keep + EPS;
  const up = loss(p);
  v[i] = keep - EPS;
  const down = loss(p);
  v[i] = keep;
  return (up - down) / (2 * EPS);
}

/** Checks up to `per` entries of each gradient (all when smaller), chosen with a seeded generator. */
function check(p: Problem, per = 12): void {
  const tape = {} as Tape;
  recurrentForward(p.spec, p.params, p.x, p.h0, p.c0, p.T, p.B, f64, tape, p.lengths);
  const grads: Record<string, Float64Array> = {};
  for (const name of Object.keys(p.params)) grads[name] = f64(p.params[name].length);
  const g = recurrentBackward(p.spec, p.params, tape, p.wOut, p.wH, p.wC, grads, f64);
  const targets: [string, Float64Array, Float64Array][] = [["x", p.x, g.dx]];
  if (p.h0) targets.push(["h0", p.h0, g.dh0]);
  if (p.c0) targets.push(["c0", p.c0, g.dc0!]);
  for (const name of Object.keys(p.params)) targets.push([name, p.params[name], grads[name]]);
  const next = rng(1234);
  for (const [name, v, analytic] of targets) {
    const idx = v.length <= per ? [...v.keys()] : Array.from({ length: per }, () => Math.floor(next() * v.length));
    for (const i of idx) {
      const n = numeric(p, v, i);
      const err = Math.abs(analytic[i] - n);
      expect(err, `${name}[${i}]: analytic ${analytic[i]} numeric ${n}`).toBeLessThanOrEqual(TOL * Math.max(1, Math.abs(n)));
    }
  }
}

describe("reference backward vs central differences (float64)", () => {
  const cases: [string, Kind, Record<string, unknown>][] = [
    ["LSTM", "lstm", {}],
    ["LSTM projection", "lstm", { projSize: 3 }],
    ["LSTM no bias", "lstm", { bias: false }],
    ["GRU reset after", "gru", {}],
    ["GRU reset before", "gru", { resetAfter: false }],
    ["RNN tanh", "rnn", {}],
    ["RNN relu", "rnn", { nonlinearity: "relu" }],
  ];
  for (const [label, kind, extra] of cases) {
    it(`${label}: one layer, with and without initial state`, () => {
      check(makeProblem(kind, { inputSize: 3, hiddenSize: 5, ...extra }, 4, 2, true, 1));
      check(makeProblem(kind, { inputSize: 3, hiddenSize: 5, ...extra }, 3, 1, false, 2));
    });
    it(`${label}: two layers, bidirectional`, () => {
      check(makeProblem(kind, { inputSize: 2, hiddenSize: 5, numLayers: 2, bidirectional: true, ...extra }, 3, 2, true, 3));
    });
    it(`${label}: variable lengths, two layers, bidirectional`, () => {
      check(makeProblem(kind, { inputSize: 2, hiddenSize: 4, numLayers: 2, bidirectional: true, ...extra }, 5, 3, true, 4, true));
    });
  }

  it("random architectures (property)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Kind>("lstm", "gru", "rnn"),
        fc.integer({ min: 1, max: 4 }), fc.integer({ min: 2, max: 6 }),
        fc.integer({ min: 1, max: 2 }), fc.boolean(), fc.boolean(), fc.boolean(),
        fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.integer(), fc.boolean(),
        (kind, I, H, L, bidirectional, bias, variant, T, B, seed, variableLength) => {
          const extra: Record<string, unknown> =
            kind === "lstm" ? (variant ? { projSize: 1 + (seed >>> 0) % (H - 1) } : {})
            : kind === "gru" ? { resetAfter: variant }
            : { nonlinearity: variant ? "relu" : "tanh" };
          check(makeProblem(kind, { inputSize: I, hiddenSize: H, numLayers: L, bidirectional, bias, ...extra }, T, B, seed % 2 === 0, seed, variableLength), 4);
        },
      ),
      { numRuns: 40, seed: 42 },
    );
  });
});
