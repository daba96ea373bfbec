// test/fuzz/files.test.ts: hostile safetensors files through the whole path a model file takes, loadSafetensors →
// fromTorch (with hostile options) → forward → dispose: random bytes, truncations, byte flips, and header-level
// mutations of valid files (names with huge layer numbers, huge or negative shapes, other dtypes, lying offsets).
// Every case must return or throw an RnnError, leave no block behind, and leave a canary layer on the same runtime
// bitwise unchanged. Bounded in cases and time (test/fuzz/hostile.ts; FUZZ_SCALE for a long run).
import fc from "fast-check";
import { describe, it, expect, beforeAll } from "vitest";
import {
  fromTorch, GRU, GRUCell, LSTM, RNN, RecurrentCell, RecurrentLayer, loadSafetensors, saveSafetensors,
  type Runtime, type Tensor,
} from "../../src/index.js";
import { buildFile } from "../io/build-safetensors.js";
import { memorySnapshot } from "../api/helpers.js";
import { expectBitwise } from "../helpers/compare.js";
import { randomTensor, rng } from "../helpers/random.js";
import { runtimeFor } from "../helpers/runtimes.js";
import { HOSTILE_NUMBERS, Tally, WRONG_TYPES, budget, choiceArb, report, survives } from "./hostile.js";

let rt: Runtime;
let canary: RecurrentLayer;
let canaryInput: Tensor;
let canaryOutput: Tensor;
const valid: Uint8Array[] = [];

beforeAll(async () => {
  rt = await runtimeFor("simd");
  canary = new LSTM({ inputSize: 3, hiddenSize: 6, numLayers: 2, seed: 11, runtime: rt });
  canaryInput = randomTensor([5, 2, 3], rng(12));
  canaryOutput = canary.forward(canaryInput).output;
  const ref = { backend: "reference" as const, seed: 3 };
  const head = { "head.weight": randomTensor([1, 4], rng(4)), "head.bias": randomTensor([1], rng(5)) };
  const prefixed = (p: string, t: Record<string, Tensor>) => Object.fromEntries(Object.entries(t).map(([k, v]) => [p + k, v]));
  valid.push(
    saveSafetensors(new LSTM({ inputSize: 2, hiddenSize: 4, numLayers: 2, bidirectional: true, projSize: 3, ...ref }).toTorch()),
    saveSafetensors(new GRU({ inputSize: 3, hiddenSize: 5, ...ref }).toTorch(), { format: "x" }),
    saveSafetensors({ ...prefixed("rnn.", new RNN({ inputSize: 1, hiddenSize: 4, numLayers: 3, ...ref }).toTorch()), ...head }),
    saveSafetensors(new GRUCell({ inputSize: 2, hiddenSize: 3, ...ref }).toTorch()),
  );
});

/** Header JSON and data buffer of a valid file. */
function split(file: Uint8Array): { header: Record<string, Record<string, unknown>>; data: Uint8Array } {
  const n = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n))), data: file.subarray(8 + n) };
}

const HOSTILE_NAMES = [
  "weight_ih_l99999999999", "weight_hh_l4096", "weight_ih_l4097", "weight_ih_l1_reverse", "bias_ih_l00", "weight_ih", "weight_hr_l0",
  "__proto__", "constructor", "", "x".repeat(300), "rnn.weight_ih_l0", "weight_ih_l-1", "weight_ih_l1e3", "head.weight",
];
const HOSTILE_DTYPES = ["F16", "BF16", "F64", "I64", "U8", "BOOL", "f32", "", "F32 "];

/** One header-level mutation of a valid file, as bytes. */
const headerMutation = fc.record({
  file: fc.nat(),
  tensor: fc.nat(),
  op: fc.constantFrom("rename", "shape", "dtype", "offsets", "delete", "duplicate", "metadata"),
  name: fc.constantFrom(...HOSTILE_NAMES),
  number: fc.oneof(fc.constantFrom(...HOSTILE_NUMBERS), fc.constantFrom(...WRONG_TYPES.slice(0, 6)), fc.nat(64)),
  axis: fc.nat(3),
  dtype: fc.constantFrom(...HOSTILE_DTYPES),
}).map(({ file, tensor: t, op, name, number, axis, dtype }) => {
  const { header, data } = split(valid[file % valid.length]);
  const names = Object.keys(header).filter((k) => k !== "__metadata__");
  const target = names[t % names.length];
  const entry = header[target];
  switch (op) {
    case "rename": delete header[target]; header[name] = entry; break;
    case "shape": {
      const shape = [...(entry.shape as unknown[])];
      shape[axis % Math.max(1, shape.length + 1)] = number;
      entry.shape = shape;
      break;
    }
    case "dtype": entry.dtype = dtype; break;
    case "offsets": entry.data_offsets = [(entry.data_offsets as number[])[0], number]; break;
    case "delete": delete header[target]; break;
    case "duplicate": header[name] = { ...entry }; break;
    case "metadata": header.__metadata__ = { [name]: number as never }; break;
  }
  // JSON.stringify writes NaN and Infinity as null; hostile numbers beyond 2^53 keep their text
  return buildFile(header, data);
});

/** Bytes that are not a safetensors file or barely one: random, truncated, bit-flipped. */
const byteMutation = fc.oneof(
  fc.uint8Array({ maxLength: 600 }),
  fc.record({ file: fc.nat(), cut: fc.nat() }).map(({ file, cut }) => {
    const f = valid[file % valid.length];
    return f.subarray(0, cut % f.length);
  }),
  fc.record({ file: fc.nat(), flips: fc.array(fc.record({ at: fc.nat(), bit: fc.nat(7) }), { minLength: 1, maxLength: 6 }) }).map(({ file, flips }) => {
    const f = valid[file % valid.length].slice();
    for (const { at, bit } of flips) f[at % f.length] ^= 1 << bit;
    return f;
  }),
);

/** fromTorch options as a careless or hostile caller passes them: usually none, sometimes one or more. */
const optionsArb = fc.oneof({ weight: 3, arbitrary: fc.constant({}) }, { weight: 2, arbitrary: fc.record({
  kind: choiceArb(["lstm", "gru", "rnn"], ["LSTM", "xyz"]),
  prefix: choiceArb(["", "rnn."], [5, "nothing."]),
  nanPolicy: choiceArb(["error", "propagate"], ["eror", "Error"]),
  nonlinearity: choiceArb(["tanh", "relu"], ["sigmoid"]),
  resetAfter: choiceArb([true, false], ["true", 1]),
  batchFirst: choiceArb([true, false], ["false"]),
}, { requiredKeys: [] }) });

/** The whole path for one file: load, build, run a small input shaped for what was built, dispose. */
function throughTheApi(bytes: Uint8Array, options: object, tally: Tally): void {
  const before = memorySnapshot(rt);
  const file = survives(() => loadSafetensors(bytes));
  const model = file && survives(() => fromTorch(file.tensors, { ...options, runtime: rt } as never));
  tally.record(model);
  {
    if (model) {
      const { inputSize: I, kind } = model.spec;
      const x = randomTensor(model instanceof RecurrentCell ? [2, I] : [3, 2, I], rng(I));
      survives(() => model.forward(x));
      expect(kind).toMatch(/^(lstm|gru|rnn)$/);
      model.dispose();
    }
  }
  expect(memorySnapshot(rt).blocks, "blocks left behind").toBe(before.blocks);
  expect(memorySnapshot(rt).bytes).toBe(before.bytes);
}

describe("hostile safetensors files through loadSafetensors → fromTorch → forward → dispose", () => {
  it("header-level mutations of valid files", () => {
    const tally = new Tally();
    const details = fc.check(fc.property(headerMutation, optionsArb, (bytes, options) => throughTheApi(bytes, options, tally)), budget(1500, 6));
    report("header mutations", tally, details);
    expectBitwise("canary output", canary.forward(canaryInput).output, canaryOutput);
  });

  it("random bytes, truncations and bit flips", () => {
    const tally = new Tally();
    const details = fc.check(fc.property(byteMutation, optionsArb, (bytes, options) => throughTheApi(bytes, options, tally)), budget(1500, 5));
    report("byte mutations", tally, details);
    expectBitwise("canary output", canary.forward(canaryInput).output, canaryOutput);
  });

  it("the valid files themselves load (so the mutations start from working models)", () => {
    for (const f of valid) {
      const { tensors } = loadSafetensors(f);
      const model = fromTorch(tensors, { runtime: rt, ...("head.weight" in tensors ? { prefix: "rnn." } : {}) });
      expect(model.spec.inputSize).toBeGreaterThan(0);
      model.dispose();
    }
  });
});
