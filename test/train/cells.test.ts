// Cell training: LSTMCell/GRUCell/RNNCell backward is the layer backward over one step. A cell and a one-layer
// layer with the same weights (names without / with `_l0`) must give bitwise the same gradients on the same
// engine, and the wasm cell must agree with the reference cell (float32, different summation order: 2e-5
// relative to the largest value, the bound test/gradcheck uses).
import { describe, it, expect, beforeAll } from "vitest";
import fc from "fast-check";
import { init, fromTorch, LSTMCell, GRUCell, RNNCell, type RecurrentCell, type RecurrentLayer, type Tensor, RnnError } from "../../src/index.js";
import { expectCloseToMax } from "../helpers/compare.js";
import { randomTensor, rng } from "../helpers/random.js";

beforeAll(async () => {
  await init();
});

/** |wasm - reference| <= TOL·max(1, max|reference|) per tensor (see the header). */
const TOL = 2e-5;

const makeCell = (kind: string, { variant, ...o }: { inputSize: number; hiddenSize: number; seed: number; backend?: "wasm" | "reference"; variant: boolean }): RecurrentCell =>
  kind === "lstm" ? new LSTMCell(o)
    : kind === "gru" ? new GRUCell({ ...o, resetAfter: variant })
    : new RNNCell({ ...o, nonlinearity: variant ? "relu" : "tanh" });

describe("cell backward", () => {
  it("equals a one-step layer's backward bitwise, and the reference cell's within 2e-5", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("lstm", "gru", "rnn"), fc.integer({ min: 1, max: 11 }), fc.integer({ min: 1, max: 13 }),
        fc.integer({ min: 1, max: 5 }), fc.boolean(), fc.boolean(), fc.boolean(), fc.integer(),
        (kind, I, H, B, variant, withState, batched, seed) => {
          const next = rng(seed);
          const cell = makeCell(kind, { inputSize: I, hiddenSize: H, seed, variant });
          const weights = cell.toTorch();
          const kindOptions = kind === "gru" ? { resetAfter: variant } : kind === "rnn" ? { nonlinearity: (variant ? "relu" : "tanh") as "relu" | "tanh" } : {};
          const layer = fromTorch(Object.fromEntries(Object.entries(weights).map(([k, v]) => [k + "_l0", v])), kindOptions) as RecurrentLayer;
          const ref = fromTorch(weights, { ...kindOptions, backend: "reference" }) as RecurrentCell;
          try {
            const sh = batched ? [B, H] : [H];
            const x = randomTensor(batched ? [B, I] : [I], next);
            const state: { h?: Tensor; c?: Tensor } = withState ? { h: randomTensor(sh, next), ...(kind === "lstm" ? { c: randomTensor(sh, next) } : {}) } : {};
            const up = { h: randomTensor(sh, next), ...(kind === "lstm" ? { c: randomTensor(sh, next) } : {}) };
            const seq = (t: Tensor) => ({ shape: [1, ...t.shape], data: t.data });
            cell.forward(x, { ...state, train: true });
            ref.forward(x, { ...state, train: true });
            layer.forward(seq(x), { ...(state.h ? { h0: seq(state.h) } : {}), ...(state.c ? { c0: seq(state.c) } : {}), train: true });
            const g = cell.backward(up);
            const gr = ref.backward(up);
            const gl = layer.backward({ hN: seq(up.h), ...(up.c ? { cN: seq(up.c) } : {}) });
            expect(g.dInput.shape).toEqual(x.shape);
            expect(g.dh.shape).toEqual(sh);
            expect(Array.from(g.dInput.data)).toEqual(Array.from(gl.dInput.data));
            expect(Array.from(g.dh.data)).toEqual(Array.from(gl.dh0.data));
            if (kind === "lstm") expect(Array.from(g.dc!.data)).toEqual(Array.from(gl.dc0!.data));
            expectCloseToMax("dInput", g.dInput.data, gr.dInput.data, TOL);
            expectCloseToMax("dh", g.dh.data, gr.dh.data, TOL);
            if (kind === "lstm") expectCloseToMax("dc", g.dc!.data, gr.dc!.data, TOL);
            const gc = cell.grads(), gg = layer.grads(), grr = ref.grads();
            for (const name of Object.keys(gc)) {
              expect(Array.from(gc[name].data), name).toEqual(Array.from(gg[name + "_l0"].data));
              expectCloseToMax(name, gc[name].data, grr[name].data, TOL);
            }
          } finally {
            cell.dispose();
            layer.dispose();
            ref.dispose();
          }
        },
      ),
      { numRuns: 150, seed: 11 },
    );
  });

  it("runs once per training forward, and names wrong gradient shapes", () => {
    const cell = new LSTMCell({ inputSize: 3, hiddenSize: 4, seed: 1 });
    const x = { shape: [2, 3], data: new Float32Array(6) };
    expect(() => cell.backward()).toThrow(RnnError);
    cell.forward(x);
    expect(() => cell.backward()).toThrow(/train: true/);
    cell.forward(x, { train: true });
    expect(() => cell.backward({ h: { shape: [3, 4], data: new Float32Array(12) } })).toThrow(/h gradient has shape \[3, 4\], expected \[2, 4\]/);
    cell.backward({ h: { shape: [2, 4], data: new Float32Array(8).fill(1) } });
    expect(() => cell.backward()).toThrow(/train: true/);
    const gru = new GRUCell({ inputSize: 3, hiddenSize: 4, seed: 1 });
    gru.forward(x, { train: true });
    expect(() => gru.backward({ c: { shape: [2, 4], data: new Float32Array(8) } })).toThrow(/only for an LSTMCell/);
    cell.dispose();
    gru.dispose();
  });
});
