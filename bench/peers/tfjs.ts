// bench/peers/tfjs.ts: TensorFlow.js 4.22 through its layers API, as a user would build the model, on the cpu
// backend (plain JavaScript) and on @tensorflow/tfjs-backend-wasm (wasm SIMD; single-threaded in Node).
// Weights from PyTorch's state_dict, mapped to Keras' layout:
//   LSTM  gate order i,f,c,o = PyTorch's i,f,g,o: kernel [I, 4H] = W_ihᵀ, recurrent_kernel [H, 4H] = W_hhᵀ,
//         bias [4H] = b_ih + b_hh; recurrentActivation 'sigmoid' (tfjs defaults to hardSigmoid).
//   GRU   gate order z,r,h from PyTorch's r,z,n; tfjs has only the reset-before form (reset gate applied to h before
//         W_hn), so W-gru checks it against our reference GRU with resetAfter: false.
//   Dense kernel [H, 1] = head.weightᵀ.
// tfjs is batch-first: inputs are given as [B, T, I] (transposed once, outside the timing) and outputs read back as
// [B, T, H]. Every timed call reads its result into JavaScript (dataSync), as our forward() returns a Float32Array.
// W-stream: a stateful layer fed [1, 1, I] per call. W-train: model.trainOnBatch with tf.train.adam(lr, 0.9, 0.999,
// 1e-8) and meanSquaredError. Both backends live in one process: each call switches to its backend first (a
// synchronous assignment once a backend is initialised), so each model runs where its weights live.
import type * as TF from "@tensorflow/tfjs";
import {
  STREAM_CHECK_STEPS, TRAIN_LR, installedVersion, stepOf, swapTB,
  type CheckValues, type Peer, type Runner, type Workload, type WorkloadData,
} from "./workloads.js";

type Tf = typeof TF;
let tfModule: Promise<Tf> | null = null;

async function loadTf(backend: "cpu" | "wasm"): Promise<Tf> {
  tfModule ??= (async () => {
    const tf = await import("@tensorflow/tfjs");
    await import("@tensorflow/tfjs-backend-wasm"); // registers the 'wasm' backend
    return tf;
  })();
  const tf = await tfModule;
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs: backend '${backend}' failed to initialise`);
  await tf.ready();
  return tf;
}

/** [R, C] row-major -> [C, R]. */
function transpose(a: Float32Array, R: number, C: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) out[c * R + r] = a[r * C + c];
  return out;
}

/** Rows of a PyTorch [G·H, F] weight (or a [G·H] bias) regrouped by gate: `order` lists PyTorch gate indices. */
function regroup(a: Float32Array, H: number, F: number, order: number[]): Float32Array {
  const out = new Float32Array(a.length);
  order.forEach((g, k) => out.set(a.subarray(g * H * F, (g + 1) * H * F), k * H * F));
  return out;
}

/** Keras' [kernel, recurrent_kernel, bias] for one PyTorch layer (names after `prefix`). */
export function kerasWeights(weights: Record<string, { data: Float32Array }>, kind: "lstm" | "gru", I: number, H: number,
  prefix = ""): { kernel: Float32Array; recurrent: Float32Array; bias: Float32Array } {
  const order = kind === "lstm" ? [0, 1, 2, 3] : [1, 0, 2]; // Keras GRU z,r,h = PyTorch's gates 1, 0, 2
  const G = order.length;
  const wih = regroup(weights[prefix + "weight_ih_l0"].data, H, I, order);
  const whh = regroup(weights[prefix + "weight_hh_l0"].data, H, H, order);
  const bih = regroup(weights[prefix + "bias_ih_l0"].data, H, 1, order);
  const bhh = regroup(weights[prefix + "bias_hh_l0"].data, H, 1, order);
  return { kernel: transpose(wih, G * H, I), recurrent: transpose(whh, G * H, H), bias: bih.map((v, i) => v + bhh[i]) };
}

function rnnLayer(tf: Tf, w: Workload, extra: Record<string, unknown>): TF.layers.Layer {
  // Zeros initialisers: the weights are set right after, and the default orthogonal one runs a QR decomposition in
  // JavaScript for seconds per layer (setup time, not timed, but it lengthens the bench).
  const args = { units: w.H, recurrentActivation: "sigmoid", kernelInitializer: "zeros", recurrentInitializer: "zeros", ...extra };
  return w.kind === "lstm" ? tf.layers.lstm(args as Parameters<Tf["layers"]["lstm"]>[0]) : tf.layers.gru(args as Parameters<Tf["layers"]["gru"]>[0]);
}

function setKerasWeights(tf: Tf, layer: TF.layers.Layer, data: WorkloadData, prefix = ""): void {
  const { kind, I, H } = data.workload;
  const G = kind === "lstm" ? 4 : 3;
  const k = kerasWeights(data.weights, kind, I, H, prefix);
  layer.setWeights([tf.tensor2d(k.kernel, [I, G * H]), tf.tensor2d(k.recurrent, [H, G * H]), tf.tensor1d(k.bias)]);
}

export function tfjsLabel(backend: "cpu" | "wasm"): string {
  const v = installedVersion(backend === "cpu" ? "@tensorflow/tfjs" : "@tensorflow/tfjs-backend-wasm");
  return `TensorFlow.js ${v}, ${backend} backend`;
}

export function tfjsPeer(backend: "cpu" | "wasm"): Peer {
  return {
    id: `tfjs-${backend}`,
    label: tfjsLabel(backend),
    group: "js-wasm",
    cannot: () => null,
    async setup(data: WorkloadData): Promise<Runner> {
      const tf = await loadTf(backend);
      const use = () => {
        if (tf.getBackend() !== backend) void tf.setBackend(backend); // synchronous for an initialised backend
      };
      const w = data.workload;
      const { T, B, I, H } = w;
      if (w.id === "W-train") return trainRunner(tf, data, use);
      if (w.id === "W-stream") {
        const layer = rnnLayer(tf, w, { stateful: true, batchInputShape: [B, 1, I], returnSequences: false });
        const model = tf.sequential({ layers: [layer] });
        setKerasWeights(tf, layer, data);
        const steps = Array.from({ length: T }, (_, t) => tf.tensor3d(stepOf(data.input, t, B, I), [B, 1, I]));
        let t = 0;
        const step = (): Float32Array => {
          const y = model.predict(steps[t]) as TF.Tensor;
          const h = y.dataSync() as Float32Array;
          y.dispose();
          t = (t + 1) % T;
          return h;
        };
        return {
          run: () => {
            use();
            step();
          },
          async check(): Promise<CheckValues> {
            use();
            model.resetStates();
            t = 0;
            let h = step();
            for (let k = 1; k < STREAM_CHECK_STEPS; k++) h = step();
            const states = (layer as unknown as { states: TF.Tensor[] }).states;
            return { h, c: states[1].dataSync() as Float32Array };
          },
          dispose: () => {
            model.dispose();
            tf.dispose(steps);
          },
        };
      }
      const layer = rnnLayer(tf, w, { returnSequences: true, inputShape: [T, I] });
      const model = tf.sequential({ layers: [layer] });
      setKerasWeights(tf, layer, data);
      const x = tf.tensor3d(swapTB(data.input, T, B, I), [B, T, I]);
      const forward = (): Float32Array => {
        const y = model.predict(x) as TF.Tensor;
        const out = y.dataSync() as Float32Array;
        y.dispose();
        return out;
      };
      return {
        run: () => {
          use();
          forward();
        },
        check: async () => {
          use();
          return { output: swapTB(forward(), B, T, H) };
        },
        gruForm: "reset-before",
        dispose: () => {
          model.dispose();
          x.dispose();
        },
      };
    },
  };
}

function trainRunner(tf: Tf, data: WorkloadData, use: () => void): Runner {
  const { T, B, I, H } = data.workload;
  const lstm = rnnLayer(tf, data.workload, { inputShape: [T, I] });
  const head = tf.layers.dense({ units: 1 });
  const model = tf.sequential({ layers: [lstm, head] });
  setKerasWeights(tf, lstm, data, "lstm.");
  head.setWeights([tf.tensor2d(data.weights["head.weight"].data, [H, 1]), tf.tensor1d(data.weights["head.bias"].data)]);
  model.compile({ optimizer: tf.train.adam(TRAIN_LR, 0.9, 0.999, 1e-8), loss: "meanSquaredError" });
  const x = tf.tensor3d(swapTB(data.input, T, B, I), [B, T, I]);
  const y = tf.tensor2d(data.target!, [B, 1]);
  /** One trainOnBatch: forward, MSE, backward through time, Adam; resolves to the loss before the update. */
  const step = async (): Promise<number> => {
    use();
    return (await model.trainOnBatch(x, y)) as number;
  };
  return {
    run: step,
    async check(): Promise<CheckValues> {
      const first = await step();
      const headWeight = Float32Array.from(head.getWeights()[0].dataSync()); // [H, 1]: the same numbers as [1, H]
      const [kernel, recurrent] = lstm.getWeights().map((t) => t.dataSync() as Float32Array);
      // Back to PyTorch's layout (the LSTM's gate order is the same): weight_ih = kernelᵀ, weight_hh = recurrent_kernelᵀ.
      const lstmWeights = new Float32Array([...transpose(kernel, I, 4 * H), ...transpose(recurrent, H, 4 * H)]);
      return { losses: [first], headWeight, lstmWeights };
    },
    checkNote: "checked: the first loss, and the head's and the LSTM's weights after one step; not the loss after it: " +
      "Keras' LSTM has one bias vector where PyTorch has two (b_ih and b_hh), and Adam moves each by about lr, so the " +
      "biases differ by design after a step",
    dispose: () => {
      model.dispose();
      tf.dispose([x, y]);
    },
  };
}
