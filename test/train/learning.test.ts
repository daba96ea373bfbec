// test/train/learning.test.ts: end to end, training has to learn something that needs backpropagation through
// time over 20+ steps, and the same budget without real training must not get there, so the test can fail.
//
// Task ("remember the first bit"): a sequence of T in [20, 25] random bits, each -1 or +1 (input size 1); the
// label is the FIRST bit. The model sees the answer at step 0 and must answer after the last step, 19-24 steps
// and as many distractor bits later; every other bit is independent of the label, so chance is 50% and only a
// gradient that reaches step 0 through the whole sequence can teach it.
// Model: LSTM(1, 16) -> LastStep -> Linear(16, 2), cross-entropy, Adam(lr 1e-2), batches of 32, 400 steps, the
// wasm backend (default build), everything seeded. The forget gate's bias starts at 1 + 1 (bias_ih + bias_hh)
// instead of PyTorch's small uniform values: the usual LSTM init (Jozefowicz et al. 2015; Keras'
// unit_forget_bias), without which a 20-step lag sits on the 50% plateau for thousands of steps.
// Measured on this project's 2-vCPU machine: 100% held-out accuracy after about 300 steps for each of seeds 1-8;
// each run takes well under a second (printed below).
// Controls, same model, data and budget, each must stay near chance on the held-out batches: SGD with lr 0 (no
// training); Adam on labels drawn independently of the input (a model that only fits noise); and Adam with
// truncated BPTT over the last 10 steps (the gradient never reaches step 0, so the task needs the full-length
// backward that the main run relies on).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Adam, LSTM, LastStep, Linear, SGD, Sequential, crossEntropyLoss, init, type Optimizer, type Tensor } from "../../src/index.js";
import { rng } from "../helpers/random.js";

const H = 16;
const BATCH = 32;
const STEPS = 400;
const TARGET = 0.95;
const CONTROL_MAX = 0.7;

/** B sequences of T random ±1 bits, time-major [T, B, 1]; label b is 1 when sequence b's first bit is +1. */
function firstBitBatch(next: () => number, T: number, B: number): { x: Tensor; labels: number[] } {
  const data = new Float32Array(T * B);
  for (let i = 0; i < data.length; i++) data[i] = next() < 0.5 ? -1 : 1;
  const labels = Array.from({ length: B }, (_, b) => (data[b] > 0 ? 1 : 0)); // data[0 * B + b] is step 0
  return { x: { shape: [T, B, 1], data }, labels };
}

/** LSTM(1, H) with its forget-gate bias (rows H..2H of bias_ih_l0 and bias_hh_l0) set to 1 each. */
function makeModel(seed: number): Sequential {
  const init = new LSTM({ inputSize: 1, hiddenSize: H, seed });
  const weights = init.toTorch();
  init.dispose();
  const params: Record<string, Float32Array> = {};
  for (const [name, t] of Object.entries(weights)) params[name] = t.data;
  params.bias_ih_l0.fill(1, H, 2 * H);
  params.bias_hh_l0.fill(1, H, 2 * H);
  const lstm = new LSTM({ inputSize: 1, hiddenSize: H }, params);
  return new Sequential([lstm, new LastStep(), new Linear({ inFeatures: H, outFeatures: 2, seed: seed + 1 })]);
}

/** Fraction of `labels` the model's logits [B, 2] get right. */
function accuracy(model: Sequential, batch: { x: Tensor; labels: number[] }): number {
  const z = model.forward(batch.x).data;
  let right = 0;
  batch.labels.forEach((y, b) => {
    if ((z[2 * b + 1] > z[2 * b] ? 1 : 0) === y) right++;
  });
  return right / batch.labels.length;
}

interface Run {
  /** Held-out accuracy at the shortest (20) and longest (25) lengths. */
  acc20: number;
  acc25: number;
  firstLoss: number;
  lastLoss: number;
}

/** Trains for STEPS batches (T drawn from 20..25 per batch) and evaluates on fixed held-out batches. */
function train(makeOpt: (m: Sequential) => Optimizer, options: { seed: number; randomLabels?: boolean; truncate?: number }): Run {
  const next = rng(options.seed);
  const model = makeModel(options.seed);
  const opt = makeOpt(model);
  try {
    const losses: number[] = [];
    for (let s = 0; s < STEPS; s++) {
      const T = 20 + Math.floor(next() * 6);
      const { x, labels } = firstBitBatch(next, T, BATCH);
      const y = options.randomLabels ? labels.map(() => (next() < 0.5 ? 0 : 1)) : labels;
      opt.zeroGrad();
      let logits: Tensor;
      if (options.truncate) {
        // truncated BPTT: stream the first T - k steps without a tape, train on the last k from that state
        const k = options.truncate;
        model.resetState();
        model.forward({ shape: [T - k, BATCH, 1], data: x.data.subarray(0, (T - k) * BATCH) }, { stream: true });
        logits = model.forward({ shape: [k, BATCH, 1], data: x.data.subarray((T - k) * BATCH) }, { stream: true, train: true });
        model.resetState();
      } else {
        logits = model.forward(x, { train: true });
      }
      const { loss, grad } = crossEntropyLoss(logits, y);
      model.backward(grad);
      opt.step();
      losses.push(loss);
    }
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    return {
      acc20: accuracy(model, firstBitBatch(rng(1_000_020), 20, 1024)),
      acc25: accuracy(model, firstBitBatch(rng(1_000_025), 25, 1024)),
      firstLoss: mean(losses.slice(0, 20)),
      lastLoss: mean(losses.slice(-20)),
    };
  } finally {
    opt.dispose();
    model.dispose();
  }
}

const report: string[] = [];
const describeRun = (name: string, r: Run) =>
  `${name.padEnd(28)} held-out accuracy T=20 ${(100 * r.acc20).toFixed(1)}%, T=25 ${(100 * r.acc25).toFixed(1)}%; ` +
  `loss ${r.firstLoss.toFixed(3)} -> ${r.lastLoss.toFixed(3)}; ${STEPS} steps`;

beforeAll(async () => {
  await init();
});

afterAll(() => {
  console.log(`remember-the-first-bit, LSTM(1, ${H}), batch ${BATCH}:\n  ` + report.join("\n  "));
});

describe("an LSTM learns a 20-step dependency", () => {
  it(`Adam reaches >= ${100 * TARGET}% held-out accuracy in ${STEPS} steps`, () => {
    const r = train((m) => new Adam(m, { lr: 1e-2 }), { seed: 1 });
    report.push(describeRun("Adam lr 1e-2", r));
    expect(r.acc20).toBeGreaterThanOrEqual(TARGET);
    expect(r.acc25).toBeGreaterThanOrEqual(TARGET);
    expect(r.lastLoss).toBeLessThan(0.1 * r.firstLoss);
  });

  it("the same budget with SGD at lr 0 stays near chance", () => {
    const r = train((m) => new SGD(m, { lr: 0 }), { seed: 1 });
    report.push(describeRun("control: SGD lr 0", r));
    expect(r.acc20).toBeLessThan(CONTROL_MAX);
    expect(r.acc25).toBeLessThan(CONTROL_MAX);
  });

  it("the same budget on labels independent of the input stays near chance", () => {
    const r = train((m) => new Adam(m, { lr: 1e-2 }), { seed: 1, randomLabels: true });
    report.push(describeRun("control: random labels", r));
    expect(r.acc20).toBeLessThan(CONTROL_MAX);
    expect(r.acc25).toBeLessThan(CONTROL_MAX);
  });

  it("the same budget with gradients truncated to the last 10 steps stays near chance", () => {
    const r = train((m) => new Adam(m, { lr: 1e-2 }), { seed: 1, truncate: 10 });
    report.push(describeRun("control: BPTT over 10 steps", r));
    expect(r.acc20).toBeLessThan(CONTROL_MAX);
    expect(r.acc25).toBeLessThan(CONTROL_MAX);
  });
});
