// test/api/helpers.ts: what the API tests share: random layer configurations (fast-check), the PyTorch shapes a
// configuration implies, and the checks of errors and memory counters. Everything goes through the public API
// (src/index.ts), as a user would call it. Runtimes, seeded data and comparisons are test/helpers/'s.
import fc from "fast-check";
import { expect } from "vitest";
import {
  GRU, LSTM, RecurrentCell, RecurrentLayer, RNN, RnnError,
  type Kind, type LayerOptions, type LayerState, type Nonlinearity, type RnnErrorCode, type Runtime, type Tensor,
} from "../../src/index.js";
import { randomTensor, rng } from "../helpers/random.js";

export const KINDS: readonly Kind[] = ["lstm", "gru", "rnn"];

// ---------------------------------------------------------------------------------------------------------
// Random layer configurations

/** One random layer, input and initial state: everything a wasm-vs-reference comparison needs. */
export interface LayerCase {
  kind: Kind;
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  bidirectional: boolean;
  batchFirst: boolean;
  bias: boolean;
  projSize: number; // 0 = none; LSTM only
  nonlinearity: Nonlinearity; // RNN only
  resetAfter: boolean; // GRU only
  T: number;
  B: number;
  batched: boolean; // false: input [T, I], states without the B axis
  withH0: boolean;
  withC0: boolean; // LSTM only
  seed: number; // weights
  dataSeed: number; // input and initial state
}

export interface CaseBounds {
  kinds?: readonly Kind[];
  maxLayers?: number;
  bidirectional?: boolean; // force; default random
  maxT?: number;
  maxB?: number;
}

/**
 * Random configurations with sizes that are mostly not multiples of 4 (SIMD tails): inputSize 1..19,
 * hiddenSize 1..23, B 1..5, T 1..8, 1..3 layers, every flag both ways; projSize (half the LSTM cases) in 1..H-1.
 */
export function layerCaseArb(bounds: CaseBounds = {}): fc.Arbitrary<LayerCase> {
  return fc.record({
    kind: fc.constantFrom(...(bounds.kinds ?? KINDS)),
    inputSize: fc.integer({ min: 1, max: 19 }),
    hiddenSize: fc.integer({ min: 1, max: 23 }),
    numLayers: fc.integer({ min: 1, max: bounds.maxLayers ?? 3 }),
    bidirectional: bounds.bidirectional === undefined ? fc.boolean() : fc.constant(bounds.bidirectional),
    batchFirst: fc.boolean(),
    bias: fc.boolean(),
    proj: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 22 })),
    nonlinearity: fc.constantFrom<Nonlinearity>("tanh", "relu"),
    resetAfter: fc.boolean(),
    T: fc.integer({ min: 1, max: bounds.maxT ?? 8 }),
    B: fc.integer({ min: 1, max: bounds.maxB ?? 5 }),
    batched: fc.boolean(),
    withH0: fc.boolean(),
    withC0: fc.boolean(),
    seed: fc.integer({ min: 0, max: 0x7fffffff }),
    dataSeed: fc.integer({ min: 0, max: 0x7fffffff }),
  }).map(({ proj, ...c }) => ({
    ...c,
    projSize: c.kind === "lstm" && proj > 0 && c.hiddenSize > 1 ? 1 + ((proj - 1) % (c.hiddenSize - 1)) : 0,
    nonlinearity: c.kind === "rnn" ? c.nonlinearity : "tanh",
    resetAfter: c.kind === "gru" ? c.resetAfter : true,
    withC0: c.kind === "lstm" && c.withC0,
    B: c.batched ? c.B : 1,
  }));
}

/** The constructor options of a case: only the options its kind accepts (the others are errors). */
export function layerOptions(c: LayerCase): LayerOptions {
  const o: LayerOptions = {
    inputSize: c.inputSize, hiddenSize: c.hiddenSize, numLayers: c.numLayers,
    bidirectional: c.bidirectional, batchFirst: c.batchFirst, bias: c.bias, seed: c.seed,
  };
  if (c.kind === "lstm" && c.projSize > 0) o.projSize = c.projSize;
  if (c.kind === "rnn") o.nonlinearity = c.nonlinearity;
  if (c.kind === "gru") o.resetAfter = c.resetAfter;
  return o;
}

/** new LSTM / GRU / RNN with options checked at runtime (the per-kind option types are narrower). */
export function createLayer(kind: Kind, options: LayerOptions, params?: Record<string, Float32Array>): RecurrentLayer {
  if (kind === "lstm") return new LSTM(options, params);
  if (kind === "gru") return new GRU(options, params);
  return new RNN(options, params);
}

export function caseDims(c: LayerCase): { D: number; P: number; LD: number } {
  const D = c.bidirectional ? 2 : 1;
  const P = c.projSize > 0 ? c.projSize : c.hiddenSize;
  return { D, P, LD: D * c.numLayers };
}

/** PyTorch's shapes for this case: output, h_n and c_n. */
export function expectedShapes(c: LayerCase): { output: number[]; hN: number[]; cN: number[] } {
  const { D, P, LD } = caseDims(c);
  const { T, B, hiddenSize: H } = c;
  if (!c.batched) return { output: [T, D * P], hN: [LD, P], cN: [LD, H] };
  return { output: c.batchFirst ? [B, T, D * P] : [T, B, D * P], hN: [LD, B, P], cN: [LD, B, H] };
}

/** The case's input and (optional) initial state, values uniform in [-1, 1). */
export function caseData(c: LayerCase): { input: Tensor; state: LayerState } {
  const next = rng(c.dataSeed);
  const { P, LD } = caseDims(c);
  const { T, B, inputSize: I, hiddenSize: H } = c;
  const input = randomTensor(!c.batched ? [T, I] : c.batchFirst ? [B, T, I] : [T, B, I], next);
  const state: LayerState = {};
  if (c.withH0) state.h0 = randomTensor(c.batched ? [LD, B, P] : [LD, P], next);
  if (c.withC0) state.c0 = randomTensor(c.batched ? [LD, B, H] : [LD, H], next);
  return { input, state };
}

export function asLayer(x: RecurrentLayer | RecurrentCell): RecurrentLayer {
  expect(x).toBeInstanceOf(RecurrentLayer);
  return x as RecurrentLayer;
}

export function asCell(x: RecurrentLayer | RecurrentCell): RecurrentCell {
  expect(x).toBeInstanceOf(RecurrentCell);
  return x as RecurrentCell;
}

/** toTorch() as the plain record of Float32Array that constructors take. */
export function flatParams(t: Record<string, Tensor>): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.data]));
}

/** Runs `call`, which must throw an RnnError with `code` whose message contains every one of `parts`. */
export function expectRnnError(call: () => unknown, code: RnnErrorCode, ...parts: (string | RegExp)[]): RnnError {
  let caught: unknown = undefined;
  let threw = false;
  try {
    call();
  } catch (e) {
    caught = e;
    threw = true;
  }
  expect(threw, `expected an RnnError '${code}', but the call returned`).toBe(true);
  expect(caught, `expected an RnnError, got ${String(caught)}`).toBeInstanceOf(RnnError);
  const err = caught as RnnError;
  expect(err.code, `code of: ${err.message}`).toBe(code);
  for (const p of parts) {
    if (typeof p === "string") expect(err.message).toContain(p);
    else expect(err.message).toMatch(p);
  }
  return err;
}

/** The runtime's allocation counters, to check that a call left nothing behind. */
export function memorySnapshot(rt: Runtime): { blocks: number; bytes: number; memory: number } {
  return { blocks: rt.blocksInUse, bytes: rt.bytesInUse, memory: rt.memoryBytes };
}
