// Training semantics of recurrent layers, stated without reference to how they are implemented:
// (a) truncated BPTT: stream(chunk, { train: true }) + backward per chunk is the sum of independent training
//     runs over the chunks, each started from the state the whole sequence reached at its boundary (no
//     gradient crosses a boundary); one chunk is full BPTT.
// (b) variable lengths: a batch with `lengths` is, row by row, the row alone cut to its length; outputs and
//     input gradients past a row's end are exactly 0; parameter gradients are the sum over the rows' runs.
// (c) gradients accumulate across backward() calls until zeroGrad(); backward() runs once per training forward.
// Every case runs on the reference backend and on every wasm build.
//
// Tolerances: both sides of every comparison run float32 kernels on the same numbers but group the work
// differently (batch of B vs 1 row, T steps vs a prefix or a chunk, one backward's sum vs two). Values and
// states are bounded by 1 (tanh/sigmoid), gradients are sums of at most T·B·(I + D·H) ≈ 300 products of
// magnitude <= ~1 over <= 7 steps; float32 rounding of such sums (U = 6e-8 each, accumulated as γ_n) stays
// below 1e-5 relative to the largest value of the tensor, so 2e-5·max(1, max|want|) per tensor, the bound of
// test/gradcheck/wasm-backward.test.ts. A dropped or extra term (a gradient crossing a chunk boundary, a padded
// step leaking) is >= 1e-3 of the largest value. The same computation on the same inputs is compared bitwise.
import { describe, it, expect, beforeAll } from "vitest";
import {
  fromTorch, GRU, Linear, LSTM, RNN, Sequential,
  type Build, type Kind, type LayerGradientsIn, type RecurrentLayer, type Runtime, type Tensor,
} from "../../src/index.js";
import { expectCloseToMax, expectSame, maxAbs } from "../helpers/compare.js";
import { randomTensor, rng } from "../helpers/random.js";
import { runtimeFor, TEST_BUILDS } from "../helpers/runtimes.js";
import { expectRnnError } from "./support.js";

type Backend = "reference" | Build;
const BACKENDS: Backend[] = ["reference", ...TEST_BUILDS];
const KINDS: Kind[] = ["lstm", "gru", "rnn"];

const runtimes = {} as Record<Build, Runtime>;
beforeAll(async () => {
  for (const build of TEST_BUILDS) runtimes[build] = await runtimeFor(build);
});

const where = (backend: Backend) => (backend === "reference" ? { backend: "reference" as const } : { runtime: runtimes[backend] });

function makeLayer(kind: Kind, backend: Backend, o: { inputSize: number; hiddenSize: number; numLayers?: number; bidirectional?: boolean; batchFirst?: boolean; projSize?: number }, seed: number): RecurrentLayer {
  const opts = { ...o, seed, ...where(backend) };
  if (kind === "lstm") return new LSTM(opts);
  const { projSize: _, ...rest } = opts;
  return kind === "gru" ? new GRU(rest) : new RNN(rest);
}

/** A second layer with the same weights and options (fresh gradients). */
function twin(layer: RecurrentLayer, backend: Backend): RecurrentLayer {
  const s = layer.spec;
  return fromTorch(layer.toTorch(), {
    kind: s.kind, batchFirst: s.batchFirst, ...where(backend),
    ...(s.kind === "gru" ? { resetAfter: s.resetAfter } : {}), ...(s.kind === "rnn" ? { nonlinearity: s.nonlinearity } : {}),
  }) as RecurrentLayer;
}

/** |got - want| <= TOL·max(1, max|want|) per tensor (see the header). */
const TOL = 2e-5;

function expectGradsClose(what: string, got: Record<string, Tensor>, want: Record<string, Tensor>): void {
  expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
  for (const name of Object.keys(want)) expectCloseToMax(`${what} ${name}`, got[name].data, want[name].data, TOL);
}

/** Steps [from, to) of a time-major (T, B, F) tensor. */
function steps(t: Tensor, from: number, to: number): Tensor {
  const [, B, F] = t.shape;
  return { shape: [to - from, B, F], data: t.data.slice(from * B * F, to * B * F) };
}

// ---------------------------------------------------------------------------------------------------------

describe("(a) truncated BPTT with stream(chunk, { train: true })", () => {
  const T = 7, B = 2, I = 3, H = 5, L = 2;
  const CHUNKS = [3, 1, 3];
  for (const backend of BACKENDS) {
    for (const kind of KINDS) {
      it(`${backend} ${kind}: chunks [${CHUNKS}] equal independent runs from the full forward's boundary states; one chunk equals full BPTT`, () => {
        const next = rng(KINDS.indexOf(kind) * 10 + BACKENDS.indexOf(backend));
        const streamed = makeLayer(kind, backend, { inputSize: I, hiddenSize: H, numLayers: L }, 31);
        const pieces = twin(streamed, backend);
        const full = twin(streamed, backend);
        try {
          const x = randomTensor([T, B, I], next);
          const dOut = randomTensor([T, B, H], next);
          const dhN = CHUNKS.map(() => randomTensor([L, B, H], next));
          const dcN = CHUNKS.map(() => randomTensor([L, B, H], next));
          const upstream = (k: number, from: number, to: number): LayerGradientsIn =>
            ({ output: steps(dOut, from, to), hN: dhN[k], ...(kind === "lstm" ? { cN: dcN[k] } : {}) });

          // streaming: each chunk continues from the previous one's final state; backward per chunk
          streamed.resetState();
          const outA: number[] = [], dxA: number[] = [];
          let t0 = 0;
          CHUNKS.forEach((len, k) => {
            outA.push(...streamed.stream(steps(x, t0, t0 + len), { train: true }).output.data);
            dxA.push(...streamed.backward(upstream(k, t0, t0 + len)).dInput.data);
            t0 += len;
          });

          // independent runs: chunk k starts from the state a forward over steps [0, t_k) ends in
          const outB: number[] = [], dxB: number[] = [];
          t0 = 0;
          CHUNKS.forEach((len, k) => {
            const state = t0 === 0 ? {} : (({ hN, cN }) => ({ h0: hN, ...(cN ? { c0: cN } : {}) }))(full.forward(steps(x, 0, t0)));
            outB.push(...pieces.forward(steps(x, t0, t0 + len), { ...state, train: true }).output.data);
            dxB.push(...pieces.backward(upstream(k, t0, t0 + len)).dInput.data);
            t0 += len;
          });
          expectCloseToMax("outputs", outA, outB, TOL);
          expectCloseToMax("outputs vs one forward", outA, full.forward(x).output.data, TOL);
          expectCloseToMax("dInput", dxA, dxB, TOL);
          const gA = streamed.grads();
          expectGradsClose("grads", gA, pieces.grads());

          // gradients do not cross a boundary: full BPTT over the same upstream differs clearly
          full.forward(x, { train: true });
          full.backward({ output: dOut });
          const gFull = full.grads();
          const differs = Object.keys(gFull).some((n) => {
            const a = gFull[n].data, b = gA[n].data;
            return a.some((v, i) => Math.abs(v - b[i]) > 1e-3 * Math.max(1, maxAbs(a)));
          });
          expect(differs, "truncated and full BPTT must differ with several chunks").toBe(true);

          // one chunk: stream + backward is exactly forward + backward
          streamed.zeroGrad();
          full.zeroGrad();
          streamed.resetState();
          const one = upstream(2, 0, T);
          const rs = streamed.stream(x, { train: true }), rf = full.forward(x, { train: true });
          expectSame("one chunk: output", rs.output.data, rf.output.data);
          const gs = streamed.backward(one), gf = full.backward(one);
          expectSame("one chunk: dInput", gs.dInput.data, gf.dInput.data);
          expectSame("one chunk: dh0", gs.dh0.data, gf.dh0.data);
          for (const [n, t] of Object.entries(full.grads())) expectSame(`one chunk: ${n}`, streamed.grads()[n].data, t.data);
        } finally {
          for (const l of [streamed, pieces, full]) l.dispose();
        }
      });
    }
  }

  it("Sequential.forward(x, { train, stream }) per chunk equals the layer's own stream + Linear, and backward per chunk", () => {
    const rt = runtimes.simd;
    const lstm = new LSTM({ inputSize: 2, hiddenSize: 3, seed: 1, runtime: rt });
    const lin = new Linear({ inFeatures: 3, outFeatures: 1, seed: 2, runtime: rt });
    const model = new Sequential([lstm, lin]);
    const lstm2 = twin(lstm, "simd");
    const lin2 = Linear.fromTorch(lin.toTorch(), { runtime: rt });
    const next = rng(4);
    const x = randomTensor([6, 2, 2], next);
    for (const [a, b] of [[0, 2], [2, 6]]) {
      const y = model.forward(steps(x, a, b), { train: true, stream: true });
      const yHand = lin2.forward(lstm2.stream(steps(x, a, b), { train: true }).output, { train: true });
      expectSame(`chunk [${a}, ${b})`, y.data, yHand.data);
      const dy = randomTensor(y.shape, next);
      expectSame(`dInput of chunk [${a}, ${b})`, model.backward(dy)!.data, lstm2.backward({ output: lin2.backward(dy) }).dInput.data);
    }
    for (const [n, t] of Object.entries(lstm2.grads())) expectSame(n, lstm.grads()[n].data, t.data);
    model.resetState();
    expect(lstm.state).toBeNull();
    for (const m of [model, lstm2, lin2]) m.dispose();
  });
});

// ---------------------------------------------------------------------------------------------------------

describe("(b) variable lengths: each row is the row alone, cut to its length", () => {
  const T = 6, I = 3, H = 5, L = 2;
  const LENGTHS = [6, 1, 4, 3];
  const B = LENGTHS.length;
  for (const backend of BACKENDS) {
    for (const kind of KINDS) {
      for (const batchFirst of [false, true]) {
        const proj = kind === "lstm" && batchFirst ? 3 : 0;
        it(`${backend} ${kind}, bidirectional, 2 layers${batchFirst ? ", batch-first" : ""}${proj ? ", projSize 3" : ""}: outputs, hN/cN and gradients`, () => {
          const P = proj || H, D = 2;
          const next = rng(100 + KINDS.indexOf(kind) * 10 + BACKENDS.indexOf(backend) + (batchFirst ? 5 : 0));
          const layer = makeLayer(kind, backend, { inputSize: I, hiddenSize: H, numLayers: L, bidirectional: true, batchFirst, projSize: proj }, 41);
          const single = twin(layer, backend);
          try {
            // time-major data; batch-first tensors are built from it
            const x = randomTensor([T, B, I], next), dOut = randomTensor([T, B, D * P], next);
            const h0 = randomTensor([L * D, B, P], next), c0 = randomTensor([L * D, B, H], next);
            const dhN = randomTensor([L * D, B, P], next), dcN = randomTensor([L * D, B, H], next);
            const layout = (t: Tensor): Tensor => {
              if (!batchFirst) return t;
              const [TT, BB, F] = t.shape, out = new Float32Array(t.data.length);
              for (let tt = 0; tt < TT; tt++) for (let b = 0; b < BB; b++) out.set(t.data.subarray((tt * BB + b) * F, (tt * BB + b + 1) * F), (b * TT + tt) * F);
              return { shape: [BB, TT, F], data: out };
            };
            const at = (t: number, b: number, F: number) => (batchFirst ? (b * T + t) * F : (t * B + b) * F);
            const isLstm = kind === "lstm";
            const r = layer.forward(layout(x), { h0, ...(isLstm ? { c0 } : {}), train: true, lengths: Int32Array.from(LENGTHS) });
            const g = layer.backward({ output: layout(dOut), hN: dhN, ...(isLstm ? { cN: dcN } : {}) });

            // row b alone: steps [0, len), its own state rows; every row's backward accumulates into `single`
            const row = (t: Tensor, b: number, len: number): Tensor => { // (T, B, F) -> (len, 1, F), or (1, len, F) batch-first
              const F = t.shape[2], out = new Float32Array(len * F);
              for (let tt = 0; tt < len; tt++) out.set(t.data.subarray((tt * B + b) * F, (tt * B + b + 1) * F), tt * F);
              return { shape: batchFirst ? [1, len, F] : [len, 1, F], data: out };
            };
            const stateRow = (t: Tensor, b: number): Tensor => { // (LD, B, F) -> (LD, 1, F)
              const [LD, , F] = t.shape, out = new Float32Array(LD * F);
              for (let k = 0; k < LD; k++) out.set(t.data.subarray((k * B + b) * F, (k * B + b + 1) * F), k * F);
              return { shape: [LD, 1, F], data: out };
            };
            LENGTHS.forEach((len, b) => {
              const s = single.forward(row(x, b, len), { h0: stateRow(h0, b), ...(isLstm ? { c0: stateRow(c0, b) } : {}), train: true });
              const got: number[] = [], pad: number[] = [];
              for (let t = 0; t < T; t++) (t < len ? got : pad).push(...r.output.data.subarray(at(t, b, D * P), at(t, b, D * P) + D * P));
              expectCloseToMax(`row ${b} (length ${len}): outputs before its end`, got, s.output.data, TOL);
              expect(pad.every((v) => Object.is(v, 0)), `row ${b}: outputs past its end are exactly 0`).toBe(true);
              expectCloseToMax(`row ${b}: hN`, stateRow(r.hN, b).data, s.hN.data, TOL);
              if (isLstm) expectCloseToMax(`row ${b}: cN`, stateRow(r.cN!, b).data, s.cN!.data, TOL);
              const gs = single.backward({ output: row(dOut, b, len), hN: stateRow(dhN, b), ...(isLstm ? { cN: stateRow(dcN, b) } : {}) });
              const dxGot: number[] = [], dxPad: number[] = [];
              for (let t = 0; t < T; t++) (t < len ? dxGot : dxPad).push(...g.dInput.data.subarray(at(t, b, I), at(t, b, I) + I));
              expectCloseToMax(`row ${b}: dInput before its end`, dxGot, gs.dInput.data, TOL);
              expect(dxPad.every((v) => Object.is(v, 0)), `row ${b}: dInput past its end is exactly 0`).toBe(true);
              expectCloseToMax(`row ${b}: dh0`, stateRow(g.dh0, b).data, gs.dh0.data, TOL);
              if (isLstm) expectCloseToMax(`row ${b}: dc0`, stateRow(g.dc0!, b).data, gs.dc0!.data, TOL);
            });
            expectGradsClose("parameter grads = sum over the rows", layer.grads(), single.grads());
          } finally {
            layer.dispose();
            single.dispose();
          }
        });
      }
    }
  }

  it("bad lengths give RnnError with a code and a message naming the problem; nothing is kept for backward", () => {
    for (const backend of BACKENDS) {
      const layer = makeLayer("lstm", backend, { inputSize: 2, hiddenSize: 3 }, 5);
      const x = randomTensor([4, 3, 2], rng(1));
      const bad: [unknown, string, ...string[]][] = [
        [[4, 4], "shape", "2 entries", "one per batch row (3)"],
        [[4, 4, 4, 4], "shape", "4 entries"],
        [[4, 0, 2], "shape", "lengths[1] = 0", "[1, 4]"],
        [[4, 5, 2], "shape", "lengths[1] = 5", "[1, 4]"],
        [[4, 2.5, 2], "shape", "lengths[1] = 2.5"],
        [[NaN, 1, 1], "shape", "lengths[0] = NaN"],
        [[-1, 1, 1], "shape", "lengths[0] = -1"],
        [3, "dtype", "array"],
        [null, "dtype", "array"],
        [{ length: "3" }, "dtype", "array"],
      ];
      for (const [lengths, code, ...parts] of bad) {
        expectRnnError(() => layer.forward(x, { lengths: lengths as never, train: true }), code as never, ...parts);
        expectRnnError(() => layer.backward({}), "state", "backward()");
      }
      expectRnnError(() => layer.forward(randomTensor([4, 2], rng(1)), { lengths: [4] }), "unexpected", "batched");
      // still usable, and a valid Int32Array or plain array is accepted
      layer.forward(x, { lengths: Int32Array.from([4, 1, 3]) });
      layer.forward(x, { lengths: [4, 1, 3], train: true });
      layer.backward({});
      layer.dispose();
    }
  });
});

// ---------------------------------------------------------------------------------------------------------

describe("(c) gradient accumulation and backward's once-per-training-forward rule", () => {
  for (const backend of BACKENDS) {
    it(`${backend}: grads after two forward/backward pairs equal the sum of each alone; zeroGrad restarts them exactly`, () => {
      const next = rng(7);
      const layer = makeLayer("lstm", backend, { inputSize: 3, hiddenSize: 5, numLayers: 2, projSize: 2 }, 51);
      const a = twin(layer, backend), b = twin(layer, backend);
      try {
        const x1 = randomTensor([4, 2, 3], next), x2 = randomTensor([5, 2, 3], next);
        const u1 = { output: randomTensor([4, 2, 2], next) }, u2 = { output: randomTensor([5, 2, 2], next), hN: randomTensor([2, 2, 2], next) };
        for (const [m, x, u] of [[layer, x1, u1], [layer, x2, u2], [a, x1, u1], [b, x2, u2]] as const) {
          m.forward(x, { train: true });
          m.backward(u);
        }
        const ga = a.grads(), gb = b.grads();
        const sum: Record<string, Tensor> = Object.fromEntries(Object.entries(ga).map(([n, t]) => [n, { shape: t.shape, data: t.data.map((v, i) => v + gb[n].data[i]) }]));
        expectGradsClose("accumulated", layer.grads(), sum);
        layer.zeroGrad();
        for (const t of Object.values(layer.grads())) expect(t.data.every((v) => v === 0)).toBe(true);
        layer.forward(x2, { train: true });
        layer.backward(u2);
        for (const [n, t] of Object.entries(gb)) expectSame(`after zeroGrad: ${n}`, layer.grads()[n].data, t.data);
      } finally {
        for (const l of [layer, a, b]) l.dispose();
      }
    });

    it(`${backend}: backward twice after one training forward, after an inference forward, or before any forward throws RnnError 'state'`, () => {
      for (const kind of KINDS) {
        const layer = makeLayer(kind, backend, { inputSize: 2, hiddenSize: 3 }, 61);
        const x = randomTensor([3, 2, 2], rng(1));
        expectRnnError(() => layer.backward({}), "state", "backward()", "train: true");
        layer.forward(x, { train: true });
        const before = layer.grads();
        layer.backward({ output: randomTensor([3, 2, 3], rng(2)) });
        const after = layer.grads();
        expectRnnError(() => layer.backward({ output: randomTensor([3, 2, 3], rng(2)) }), "state", "once per such forward");
        for (const [n, t] of Object.entries(after)) expectSame(`${kind}: the refused call changed nothing (${n})`, layer.grads()[n].data, t.data);
        expect(Object.values(before).every((t) => t.data.every((v) => v === 0))).toBe(true);
        layer.forward(x);
        expectRnnError(() => layer.backward({}), "state", "train: true");
        layer.forward(x, { train: true });
        layer.forward(x); // an inference forward drops the tape of the training one before it
        expectRnnError(() => layer.backward({}), "state", "train: true");
        layer.stream(x, { train: true });
        layer.backward({});
        expectRnnError(() => layer.backward({}), "state", "once per such forward");
        layer.stream(x);
        expectRnnError(() => layer.backward({}), "state", "train: true");
        layer.dispose();
      }
    });
  }
});
