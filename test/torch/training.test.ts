// test/torch/training.test.ts: our training path against PyTorch autograd and torch.optim, one case per file in
// test/fixtures/training (made by scripts/make_training_fixtures.py; rerun: /usr/bin/python3
// scripts/make_training_fixtures.py). Every case runs on each wasm build (simd, scalar, relaxed = FMA) and on the
// reference backend. Three kinds of case, by the metadata field `type`:
//   gradient   one forward(train) + backward(upstream) of a layer: dInput, dh0, dc0 and every grads() tensor
//              (plain, stacked, bidirectional, projection, no bias, batch-first, initial state, and variable
//              lengths, which PyTorch runs through pack_padded_sequence / pad_packed_sequence);
//   tbptt      truncated BPTT over 2-3 chunks, the final state carried as a plain value (our detach), once with
//              forward(chunk, { h0, c0, train }) and once with stream(chunk, { train }): the accumulated grads();
//   optimizer  Sequential([LSTM, LastStep, Linear head]) + mseLoss + clipGradNorm/clipGradValue + SGD/Adam/AdamW
//              for 3 steps: the loss and clip norm of every step and every parameter after it.
//
// Tolerance: a tensor passes when max_i |ours_i - torch_i| <= REL * max(max_i |torch_i|, FLOOR), REL = 1e-4.
//   - Relative to the tensor's largest magnitude, not per element: a gradient entry is a sum of T*B*(I+H) terms of
//     both signs, so single entries can cancel to nearly 0 and a per-element relative error there measures only
//     the cancellation. float32 summation error scales with the magnitude of the terms, which the tensor's
//     largest entry bounds.
//   - REL = 1e-4 is the bound. The gradient fixtures are exact (float64 autograd, rounded once), so the
//     error is ours alone: float32 sums over T <= 20 steps in another order (SIMD, FMA) give < 1e-6 relative
//     (the printed table). Wrong maths lands far above it; measured by changing the test's calls: ignoring
//     `lengths` 0.9, amsgrad off 1.2e-2, Nesterov off 3.7e-2, no weight decay in SGD 5.6e-3 and in AdamW 2.9e-3,
//     coupled instead of decoupled decay 0.14. The optimizer fixtures are PyTorch's own float32 run, which adds
//     its rounding (~1e-7 relative per step) to ours.
//   - FLOOR = 1e-3 keeps a tensor that is all but zero from demanding an absolute error below float32's
//     resolution of the other tensors it is computed with (none of the fixtures' tensors is that small today).
// The worst relative error of every kind of quantity is printed at the end.
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { ArchitectureOptions } from "../../src/architecture.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Adam, AdamW, LastStep, Linear, SGD, Sequential, clipGradNorm, clipGradValue, fromTorch, loadSafetensors,
  mseLoss, type Build, type Optimizer, type RecurrentLayer, type Runtime, type Tensor,
} from "../../src/index.js";
import { ErrorLog, expectTensorClose, relToMax } from "../helpers/compare.js";
import { runtimesFor, type Runtimes } from "../helpers/runtimes.js";

/** Where the maths runs: one wasm build (relaxed = FMA, so other roundings), or the plain-TypeScript reference. */
type Variant = Build | "reference";

/** Options as the script writes them into `__metadata__.options`: every layer option, spelled as ours. */
type FixtureOptions = Required<ArchitectureOptions>;

/** `__metadata__.hyper` of an optimizer case. */
interface Hyper {
  optimizer: "sgd" | "adam" | "adamw";
  lr: number;
  momentum?: number;
  weightDecay: number;
  nesterov?: boolean;
  betas?: [number, number];
  eps?: number;
  amsgrad?: boolean;
  clip: { type: "norm"; max: number } | { type: "value"; value: number };
}

const REL = 1e-4;
const FLOOR = 1e-3;
const VARIANTS: Variant[] = ["simd", "scalar", "relaxed", "reference"];
let runtimes: Runtimes;

/** The backend options for a variant: a runtime of that build, or the reference backend. */
function backendOf(v: Variant): { backend: "wasm"; runtime: Runtime } | { backend: "reference" } {
  return v === "reference" ? { backend: "reference" } : { backend: "wasm", runtime: runtimes[v]! };
}
const DIR = fileURLToPath(new URL("../fixtures/training/", import.meta.url));
const FILES = readdirSync(DIR).filter((f) => f.endsWith(".safetensors")).sort();

/** Worst error seen per quantity (e.g. "gradient grad.weight_hh"), printed in afterAll. */
const log = new ErrorLog();

/** `got` against PyTorch's `want`: same shape, |ours - torch| <= REL·max(max|torch|, FLOOR); noted under `group`. */
function expectLikeTorch(group: string, where: string, got: Tensor | undefined, want: Tensor | undefined): void {
  expectTensorClose(where, got, want, (w) => relToMax(REL, w, FLOOR), { log, key: group });
}

function scalar(v: number): Tensor {
  return { shape: [], data: Float32Array.of(v) };
}

function loadFixture(file: string) {
  const { tensors, metadata } = loadSafetensors(new Uint8Array(readFileSync(DIR + file)));
  const t = tensors as Record<string, Tensor>;
  const meta = metadata as Record<string, string>;
  return { t, meta, type: meta.type, kind: meta.kind, description: meta.description ?? "" };
}

/** The recurrent layer's state_dict entries (weight_ih_l0, bias_hh_l1_reverse, weight_hr_l0, ...). */
function layerWeights(t: Record<string, Tensor>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [name, v] of Object.entries(t)) if (/^(weight|bias)_/.test(name)) out[name] = v;
  return out;
}

function buildLayer(fx: ReturnType<typeof loadFixture>, variant: Variant): RecurrentLayer {
  const o = JSON.parse(fx.meta.options) as FixtureOptions;
  return fromTorch(layerWeights(fx.t), {
    ...backendOf(variant),
    batchFirst: o.batchFirst,
    ...(fx.kind === "rnn" ? { nonlinearity: o.nonlinearity } : {}),
  }) as RecurrentLayer;
}

/** Every parameter gradient against the fixture's `grad.<name>`. */
function expectParamGrads(group: string, at: string, layer: RecurrentLayer, t: Record<string, Tensor>): void {
  const grads = layer.grads();
  const names = Object.keys(layerWeights(t));
  expect(Object.keys(grads).sort(), `${at}: parameter names`).toEqual(names.sort());
  for (const name of names) expectLikeTorch(`${group} grad.<param>`, `${at}: grad.${name}`, grads[name], t[`grad.${name}`]);
}

beforeAll(async () => {
  runtimes = await runtimesFor();
});

afterAll(() => {
  log.print(`largest |ours - torch| vs PyTorch (and error / tolerance, tolerance ${REL} * max(max |torch|, ${FLOOR})) per quantity`);
});

it("finds the PyTorch training fixtures", () => {
  const types = FILES.map((f) => loadFixture(f).type);
  expect(types.filter((t) => t === "gradient").length).toBeGreaterThanOrEqual(10);
  expect(types.filter((t) => t === "tbptt").length).toBeGreaterThanOrEqual(2);
  expect(types.filter((t) => t === "optimizer").length).toBeGreaterThanOrEqual(6);
});

describe.each(FILES)("%s", (file) => {
  it.each(VARIANTS)("matches PyTorch (%s)", (variant) => {
    const fx = loadFixture(file);
    const at = `${file} [${variant}] ${fx.description}`;
    if (fx.type === "gradient") checkGradient(fx, variant, at);
    else if (fx.type === "tbptt") {
      checkTbptt(fx, variant, `${at} (forward)`, "forward");
      checkTbptt(fx, variant, `${at} (stream)`, "stream");
    } else if (fx.type === "optimizer") checkOptimizer(fx, variant, at);
    else throw new Error(`${file}: unknown fixture type '${fx.type}'`);
  });
});

function checkGradient(fx: ReturnType<typeof loadFixture>, variant: Variant, at: string): void {
  const t = fx.t;
  const layer = buildLayer(fx, variant);
  try {
    const lengths = t.lengths ? Array.from(t.lengths.data) : undefined;
    const r = layer.forward(t.input, { h0: t.h0, c0: t.c0, train: true, lengths });
    expectLikeTorch("forward output/h_n/c_n", `${at}: output`, r.output, t.output);
    expectLikeTorch("forward output/h_n/c_n", `${at}: h_n`, r.hN, t.h_n);
    if (fx.kind === "lstm") expectLikeTorch("forward output/h_n/c_n", `${at}: c_n`, r.cN, t.c_n);
    const g = layer.backward({ output: t.grad_output, hN: t.grad_h_n, cN: t.grad_c_n });
    expectLikeTorch("gradient grad.input", `${at}: grad.input`, g.dInput, t["grad.input"]);
    expectLikeTorch("gradient grad.h0", `${at}: grad.h0`, g.dh0, t["grad.h0"]);
    if (fx.kind === "lstm") expectLikeTorch("gradient grad.c0", `${at}: grad.c0`, g.dc0, t["grad.c0"]);
    expectParamGrads("gradient", at, layer, t);
  } finally {
    layer.dispose();
  }
}

/**
 * Truncated BPTT: each chunk's forward starts from the previous chunk's final state, passed as a plain tensor, so
 * the gradient stops at the chunk boundary (PyTorch's h.detach()); parameter gradients accumulate over chunks.
 */
function checkTbptt(fx: ReturnType<typeof loadFixture>, variant: Variant, at: string, mode: "forward" | "stream"): void {
  const t = fx.t;
  const chunks = JSON.parse(fx.meta.chunks) as number[];
  const layer = buildLayer(fx, variant);
  try {
    let state: { h0?: Tensor; c0?: Tensor } = { h0: t.h0, c0: t.c0 };
    if (mode === "stream") layer.resetState(state);
    chunks.forEach((_, k) => {
      const p = `chunk${k}.`;
      const input = t[p + "input"];
      const r = mode === "stream" ? layer.stream(input, { train: true }) : layer.forward(input, { ...state, train: true });
      expectLikeTorch("tbptt chunk output/h_n/c_n", `${at}: ${p}output`, r.output, t[p + "output"]);
      expectLikeTorch("tbptt chunk output/h_n/c_n", `${at}: ${p}h_n`, r.hN, t[p + "h_n"]);
      if (fx.kind === "lstm") expectLikeTorch("tbptt chunk output/h_n/c_n", `${at}: ${p}c_n`, r.cN, t[p + "c_n"]);
      const g = layer.backward({ output: t[p + "grad_output"], hN: t[p + "grad_h_n"], cN: t[p + "grad_c_n"] });
      expectLikeTorch("tbptt grad.input", `${at}: ${p}grad.input`, g.dInput, t[p + "grad.input"]);
      if (k === 0) {
        expectLikeTorch("tbptt grad.h0/c0", `${at}: grad.h0`, g.dh0, t["grad.h0"]);
        if (fx.kind === "lstm") expectLikeTorch("tbptt grad.h0/c0", `${at}: grad.c0`, g.dc0, t["grad.c0"]);
      }
      state = { h0: r.hN, c0: r.cN };
    });
    expectParamGrads("tbptt", at, layer, t);
  } finally {
    layer.dispose();
  }
}

function makeOptimizer(model: Sequential, h: Hyper): Optimizer {
  if (h.optimizer === "sgd") return new SGD(model, { lr: h.lr, momentum: h.momentum, weightDecay: h.weightDecay, nesterov: h.nesterov });
  const o = { lr: h.lr, betas: h.betas, eps: h.eps, weightDecay: h.weightDecay, amsgrad: h.amsgrad };
  return h.optimizer === "adam" ? new Adam(model, o) : new AdamW(model, o);
}

function checkOptimizer(fx: ReturnType<typeof loadFixture>, variant: Variant, at: string): void {
  const t = fx.t;
  const hyper = JSON.parse(fx.meta.hyper) as Hyper;
  const K = Number(fx.meta.steps);
  const lstm = fromTorch(t, { prefix: "lstm.", ...backendOf(variant) }) as RecurrentLayer;
  const head = Linear.fromTorch(t, { prefix: "head.", ...backendOf(variant) });
  const model = new Sequential([lstm, new LastStep(), head]);
  const opt = makeOptimizer(model, hyper);
  try {
    for (let k = 1; k <= K; k++) {
      const step = `${at}: step ${k}`;
      opt.zeroGrad();
      const pred = model.forward(t.input, { train: true });
      const { loss, grad } = mseLoss(pred, t.target);
      model.backward(grad);
      expectLikeTorch("optimizer loss", `${step} loss`, scalar(loss), scalar(t.loss.data[k - 1]));
      if (hyper.clip.type === "norm") {
        const norm = clipGradNorm(model, hyper.clip.max);
        expectLikeTorch("optimizer clip norm", `${step} clip norm`, scalar(norm), scalar(t.clip_norm.data[k - 1]));
      } else {
        clipGradValue(model, hyper.clip.value);
      }
      opt.step();
      const params: Record<string, Tensor> = {};
      for (const [n, v] of Object.entries(lstm.toTorch())) params[`lstm.${n}`] = v;
      for (const [n, v] of Object.entries(head.toTorch())) params[`head.${n}`] = v;
      const names = Object.keys(t).filter((n) => n.startsWith(`step${k}.`)).map((n) => n.slice(`step${k}.`.length));
      expect(Object.keys(params).sort(), `${step}: parameter names`).toEqual(names.sort());
      for (const n of names) expectLikeTorch("optimizer params after step", `${step} ${n}`, params[n], t[`step${k}.${n}`]);
    }
  } finally {
    opt.dispose();
    model.dispose();
  }
}
