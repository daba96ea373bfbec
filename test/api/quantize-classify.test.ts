// test/api/quantize-classify.test.ts: issue 14's accuracy target on a sequence-classification task trained here: the
// int8 model's accuracy on a held-out set is within 0.5 points of the float32 model's.
//   Task: 4 classes of noisy sinusoids, 24 steps of one feature: class c oscillates at ω = 0.35 + 0.15·c (± 0.025
//   rad/step), with a random phase and an amplitude in [0.5, 1.5], plus N(0, 0.6²) noise at each step. The noise makes
//   neighbouring classes overlap, so the float model stays short of 100% (about 94%) and a held-out set holds
//   sequences near a decision boundary, which a quantization error can flip: a task the float model gets entirely
//   right would pass any quantization.
//   Models: LSTM(1 -> 32) and GRU(1 -> 32), LastStep, Linear(32 -> 4), trained with Adam (lr 0.01, batches of 64,
//   3 epochs of 8192 sequences, cross-entropy): about a second each on the wasm build. quantize(model) quantizes the
//   Sequential (the recurrent layer int8, the head float32).
//   Held out: 4000 sequences from another seed (the issue asks for at least 1000; 0.5 points of 4000 is 20 sequences).
//   Bounds: the float models reach at least 90% (chance is 25%), so the task was learned; each int8 form (Q16, what
//   'auto' picks on Node 20, and Q8, the 7-bit-activation form) within the 0.5 points, int12 within 0.1 points
//   (its error is about a sixteenth of int8's). The counts of sequences whose class changed are printed with the
//   accuracies for docs/quantization.md.
import { beforeAll, describe, expect, it } from "vitest";
import {
  Adam, GRU, LastStep, Linear, LSTM, Sequential, crossEntropyLoss, init, mulberry32, quantize, tensor, type Tensor,
} from "../../src/index.js";

const T = 24, CLASSES = 4, NOISE = 0.6;
const TRAIN = 8192, EPOCHS = 3, BATCH = 64, HELD_OUT = 4000;

/** `n` sequences [T, n, 1] (time-major) and their classes, drawn from `seed`. */
function sequences(n: number, seed: number): { x: Tensor; y: number[] } {
  const random = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()); // Box-Muller
  const x = tensor([T, n, 1]);
  const y: number[] = [];
  for (let b = 0; b < n; b++) {
    const c = Math.floor(random() * CLASSES);
    y.push(c);
    const w = 0.35 + 0.15 * c + 0.05 * (random() - 0.5), phase = 2 * Math.PI * random(), amplitude = 0.5 + random();
    for (let t = 0; t < T; t++) x.data[t * n + b] = amplitude * Math.sin(w * t + phase) + NOISE * gauss();
  }
  return { x, y };
}

/** Sequences [from, from + B) of a time-major [T, n, 1] batch. */
function slice(x: Tensor, from: number, B: number): Tensor {
  const n = x.shape[1];
  const out = tensor([T, B, 1]);
  for (let t = 0; t < T; t++) out.data.set(x.data.subarray(t * n + from, t * n + from + B), t * B);
  return out;
}

/** The class with the largest logit of each row of [n, CLASSES]. */
function predictions(logits: Float32Array): number[] {
  return Array.from({ length: logits.length / CLASSES }, (_, b) => {
    let best = 0;
    for (let c = 1; c < CLASSES; c++) if (logits[b * CLASSES + c] > logits[b * CLASSES + best]) best = c;
    return best;
  });
}

interface Measured {
  kind: string;
  float: number;
  quantized: { what: string; accuracy: number; changed: number }[];
}
const measured: Measured[] = [];

beforeAll(async () => {
  await init();
  const train = sequences(TRAIN, 1);
  const heldOut = sequences(HELD_OUT, 2);
  const accuracy = (p: number[]) => (100 * p.filter((c, b) => c === heldOut.y[b]).length) / HELD_OUT;
  for (const kind of ["lstm", "gru"] as const) {
    const options = { inputSize: 1, hiddenSize: 32, seed: 3 };
    using model = new Sequential([kind === "lstm" ? new LSTM(options) : new GRU(options), new LastStep(), new Linear({ inFeatures: 32, outFeatures: CLASSES, seed: 4 })]);
    using optimizer = new Adam(model, { lr: 0.01 });
    for (let epoch = 0; epoch < EPOCHS; epoch++) {
      for (let from = 0; from < TRAIN; from += BATCH) {
        optimizer.zeroGrad();
        const { grad } = crossEntropyLoss(model.forward(slice(train.x, from, BATCH), { train: true }), train.y.slice(from, from + BATCH));
        model.backward(grad);
        optimizer.step();
      }
    }
    const floatClasses = predictions(model.forward(heldOut.x).data);
    const m: Measured = { kind, float: accuracy(floatClasses), quantized: [] };
    for (const [dtype, form] of [["int8", "q16"], ["int8", "q8"], ["int12", "q16"]] as const) {
      using q = quantize(model, { dtype, form });
      const classes = predictions(q.forward(heldOut.x).data);
      m.quantized.push({ what: `${dtype} ${form}`, accuracy: accuracy(classes), changed: classes.filter((c, b) => c !== floatClasses[b]).length });
    }
    measured.push(m);
  }
  for (const m of measured) {
    console.log(`${m.kind}: float32 ${m.float.toFixed(2)}% of ${HELD_OUT}; ` +
      m.quantized.map((q) => `${q.what} ${q.accuracy.toFixed(2)}% (${q.changed} of the ${HELD_OUT} predictions changed)`).join("; "));
  }
}, 120_000);

describe("a sequence classifier trained here, quantized", () => {
  it("the float32 LSTM and GRU classifiers learned the task (at least 90% held out; chance is 25%)", () => {
    expect(measured.map((m) => m.kind)).toEqual(["lstm", "gru"]);
    for (const m of measured) expect(m.float, m.kind).toBeGreaterThanOrEqual(90);
  });

  it("int8 (both forms) within 0.5 points of float32 on 4000 held-out sequences, int12 within 0.1", () => {
    for (const m of measured) {
      for (const q of m.quantized) {
        const bound = q.what.startsWith("int12") ? 0.1 : 0.5;
        expect(Math.abs(q.accuracy - m.float), `${m.kind} ${q.what}: ${q.accuracy}% against float32's ${m.float}%`).toBeLessThanOrEqual(bound);
      }
    }
  });
});
