// test/torch/fixtures.test.ts: our layers and cells against PyTorch, one case per file in test/fixtures.
// The fixtures come from scripts/make_fixtures.py (rerun: /usr/bin/python3 scripts/make_fixtures.py). They hold
// PyTorch's state_dict names, the input, optional h0/c0, and PyTorch's results computed in float64 from the float32
// weights, then rounded to float32: the exact answer for these weights. PyTorch's own float32 run sits within
// 2.4e-7 of them, so TOL = 1e-5 leaves room for our SIMD/FMA summation order over T <= 20 steps and stays well
// below any wrong gate order, a misplaced b_hn, or a swapped direction (those move outputs by 1e-2 or more).
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, it, expect, beforeAll } from "vitest";
import { init, fromTorch, loadSafetensors } from "../../src/index.js";
import type { ArchitectureOptions } from "../../src/architecture.js";
import { expectTensorClose } from "../helpers/compare.js";

type Tensor = { shape: number[]; data: Float32Array };
type Backend = "wasm" | "reference";

/** The two call shapes fromTorch can return (its static type is a union; each fixture's `kind` says which). */
interface SequenceLayer {
  forward(input: Tensor, state?: { h0?: Tensor; c0?: Tensor }): { output: Tensor; hN: Tensor; cN?: Tensor };
  dispose(): void;
}
interface Cell {
  forward(input: Tensor, state?: { h?: Tensor; c?: Tensor }): { h: Tensor; c?: Tensor };
  dispose(): void;
}

/** Options as the script writes them into `__metadata__.options`: every layer option, spelled as ours. */
type FixtureOptions = Required<ArchitectureOptions>;

const TOL = 1e-5;
const BACKENDS: Backend[] = ["wasm", "reference"];
const FIXTURES = fileURLToPath(new URL("../fixtures/", import.meta.url));
const DATA = fileURLToPath(new URL("../../cli/data/", import.meta.url));
const FILES = readdirSync(FIXTURES).filter((f) => f.endsWith(".safetensors")).sort();
/** Tensors in a fixture that are not weights: inputs, initial states, PyTorch's results. */
const NOT_WEIGHTS = new Set(["input", "h0", "c0", "output", "h_n", "c_n", "h", "c"]);

function loadFixture(file: string) {
  const { tensors, metadata } = loadSafetensors(new Uint8Array(readFileSync(FIXTURES + file)));
  const meta = metadata as Record<string, string>;
  const weights: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(tensors as Record<string, Tensor>)) {
    if (!NOT_WEIGHTS.has(name)) weights[name] = t;
  }
  return {
    tensors: tensors as Record<string, Tensor>,
    weights,
    kind: meta.kind,
    prefix: meta.prefix ?? "",
    description: meta.description ?? "",
    options: JSON.parse(meta.options) as FixtureOptions,
  };
}

beforeAll(async () => {
  await init();
});

it("finds the PyTorch fixtures", () => {
  expect(FILES.length).toBeGreaterThanOrEqual(14);
});

describe.each(FILES)("%s", (file) => {
  it.each(BACKENDS)("matches PyTorch (backend %s)", (backend) => {
    const fx = loadFixture(file);
    const t = fx.tensors;
    const at = `${file} [${backend}] ${fx.description}`;
    // nonlinearity is an RNN option and resetAfter a GRU one: pass each only to its own kind.
    const family = fx.kind.replace("_cell", "");
    const kindOptions = {
      ...(family === "rnn" ? { nonlinearity: fx.options.nonlinearity } : {}),
      ...(family === "gru" ? { resetAfter: fx.options.resetAfter } : {}),
    };

    if (fx.kind.endsWith("_cell")) {
      const cell = fromTorch(fx.weights, { ...kindOptions, backend }) as unknown as Cell;
      try {
        const state: { h?: Tensor; c?: Tensor } = {};
        if (t.h0) state.h = t.h0;
        if (t.c0) state.c = t.c0;
        const got = cell.forward(t.input, state);
        expectTensorClose(`${at}: h`, got.h, t.h, TOL);
        if (fx.kind === "lstm_cell") expectTensorClose(`${at}: c`, got.c, t.c, TOL);
      } finally {
        cell.dispose();
      }
      return;
    }

    const options = { prefix: fx.prefix, batchFirst: fx.options.batchFirst, ...kindOptions, backend };
    const layer = fromTorch(fx.weights, options) as unknown as SequenceLayer;
    try {
      const state: { h0?: Tensor; c0?: Tensor } = {};
      if (t.h0) state.h0 = t.h0;
      if (t.c0) state.c0 = t.c0;
      const got = layer.forward(t.input, state);
      expectTensorClose(`${at}: output`, got.output, t.output, TOL);
      expectTensorClose(`${at}: h_n`, got.hN, t.h_n, TOL);
      if (fx.kind === "lstm") expectTensorClose(`${at}: c_n`, got.cN, t.c_n, TOL);
    } finally {
      layer.dispose();
    }
  });
});

// The model of `rnn-wasm demo` (nn.LSTM(64, 256), T=128): its stored output is PyTorch's, so the demo's numbers
// are checked too. 128 steps with H=256 sums are longer than the fixtures', hence the looser 1e-4.
describe("cli/data/lstm-demo", () => {
  it.each(BACKENDS)("matches PyTorch (backend %s)", (backend) => {
    const model = loadSafetensors(new Uint8Array(readFileSync(DATA + "lstm-demo.safetensors")));
    const io = loadSafetensors(new Uint8Array(readFileSync(DATA + "lstm-demo.input.safetensors")));
    const t = io.tensors as Record<string, Tensor>;
    const layer = fromTorch(model.tensors as Record<string, Tensor>, { backend }) as unknown as SequenceLayer;
    try {
      const got = layer.forward(t.input, {});
      expectTensorClose(`lstm-demo [${backend}]: output`, got.output, t.output, 1e-4);
      expectTensorClose(`lstm-demo [${backend}]: h_n`, got.hN, t.h_n, 1e-4);
      expectTensorClose(`lstm-demo [${backend}]: c_n`, got.cN, t.c_n, 1e-4);
    } finally {
      layer.dispose();
    }
  });
});
