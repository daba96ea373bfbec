// bench/peers/rnn-wasm.ts: our own library as a peer: the wasm SIMD build (Node 20's default), the relaxed-SIMD
// build (Node 20 needs V8's --experimental-wasm-relaxed-simd, which the driver sets before compiling anything), and
// the plain-TypeScript reference (the oracle every peer is checked against). Loaded the way a user loads a PyTorch
// model: fromTorch on the state_dict. W-stream uses stream() (state kept in the layer), W-train the training API.
// quantizedPeer: the same float layer quantize()d to int8 or int12 (issue 14) on one wasm build, checked against the
// TypeScript mirror of the same quantized layer (src/reference/quant-layer.ts), not against the float32 reference.
import {
  Adam, createRuntime, fromTorch, LastStep, Linear, mseLoss, quantize, Sequential, supportsBuild,
  type QuantDtype, type QuantizedLayer, type RecurrentLayer, type Runtime, type Tensor,
} from "../../src/index.js";
import { chooseQuantForm } from "../../src/quantized-engine.js";
import { NODE_MAJOR } from "../machine.js";
import {
  QUANT_TOLERANCE, STREAM_CHECK_STEPS, TRAIN_LR, stepOf,
  type CheckValues, type Peer, type Runner, type Workload, type WorkloadData,
} from "./workloads.js";

export type OurBuild = "simd" | "relaxed" | "reference";

const runtimes = new Map<OurBuild, Promise<Runtime>>();
function runtimeFor(build: "simd" | "relaxed"): Promise<Runtime> {
  let rt = runtimes.get(build);
  if (!rt) runtimes.set(build, (rt = createRuntime(undefined, { build })));
  return rt;
}

/** Whether this engine can run `build` (relaxed SIMD needs Node >= 22 or the V8 flag). */
export async function ourBuildAvailable(build: OurBuild): Promise<boolean> {
  return build === "reference" || supportsBuild(build);
}

export function ourLabel(build: OurBuild, resetBefore = false): string {
  const base = build === "simd" ? "rnn-wasm, wasm SIMD"
    : build === "relaxed" ? `rnn-wasm, wasm relaxed SIMD${NODE_MAJOR < 22 ? " (Node 20 flag)" : ""}`
    : "rnn-wasm, reference (TypeScript)";
  return resetBefore ? `${base}, GRU reset-before` : base;
}

/**
 * Our library on one build. `resetBefore` makes the GRU the reset-before form (TensorFlow.js' only form), for the
 * like-for-like W-gru row; it only applies to W-gru.
 */
export function rnnWasmPeer(build: OurBuild, options: { resetBefore?: boolean } = {}): Peer {
  const resetBefore = options.resetBefore ?? false;
  return {
    id: `rnn-wasm-${build}${resetBefore ? "-reset-before" : ""}`,
    label: ourLabel(build, resetBefore),
    group: "ours",
    cannot: (w: Workload) => (resetBefore && w.kind !== "gru" ? "the reset-before row exists for W-gru only" : null),
    async setup(data: WorkloadData): Promise<Runner> {
      const where = build === "reference" ? { backend: "reference" as const } : { runtime: await runtimeFor(build) };
      const w = data.workload;
      if (w.id === "W-train") return trainRunner(data, where);
      const layer = fromTorch(data.weights, { ...where, resetAfter: !resetBefore }) as RecurrentLayer;
      if (w.id === "W-stream") return streamRunner(layer, data);
      const input: Tensor = { shape: [w.T, w.B, w.I], data: data.input };
      return {
        run: () => layer.forward(input),
        check: async () => ({ output: layer.forward(input).output.data }),
        gruForm: resetBefore ? "reset-before" : "reset-after",
        dispose: () => layer.dispose(),
      };
    },
  };
}

/**
 * Whether this engine computes the relaxed dot-add correctly once compiled (V8 >= 12: V8 11.3's baseline compiler does
 * not; src/quantized-engine.ts), so that a q8 row can be named where quantize()'s timing picked q16.
 */
export const RELAXED_DOT_SOUND = Number(process.versions.v8.split(".")[0]) >= 12;

/** The integer form `quantize(layer, { dtype })` picks on `build` here: 'q16' (int16 lanes) or 'q8' (relaxed dot-add). */
export async function quantForm(build: "simd" | "relaxed", dtype: QuantDtype): Promise<"q16" | "q8"> {
  return chooseQuantForm(dtype, await runtimeFor(build), "auto").form;
}

/**
 * Our float layer quantized to `dtype` on one wasm build, in the form quantize() picks there (`form`, from
 * quantForm: named in the label). Checked against the reference backend's quantized layer of the same dtype and form
 * (the same integers; see QUANT_TOLERANCE), and its difference from the float32 reference is the row's error.
 */
export function quantizedPeer(build: "simd" | "relaxed", dtype: QuantDtype, form: "q16" | "q8", options: { named?: boolean } = {}): Peer {
  const named = options.named ?? false;
  return {
    id: `rnn-wasm-${build}-${dtype}${named ? `-${form}` : ""}`,
    label: `rnn-wasm ${dtype} (${form}${named ? ", named: not quantize()'s pick in this run" : ""}), ${ourLabel(build).replace("rnn-wasm, ", "")}`,
    group: "ours",
    quantized: { dtype, form, floatPeer: `rnn-wasm-${build}` },
    cannot: (w: Workload) => (w.id === "W-train" ? "a quantized layer runs inference only" : null),
    async setup(data: WorkloadData): Promise<Runner> {
      const layer = quantizedLayer(data, dtype, form, { runtime: await runtimeFor(build) });
      if (layer.form !== form) throw new Error(`quantize picked form ${layer.form}, the label says ${form}`);
      const w = data.workload;
      const input: Tensor = { shape: [w.T, w.B, w.I], data: data.input };
      const runner: Runner = w.id === "W-stream" ? streamRunner(layer, data) : {
        run: () => layer.forward(input),
        check: async () => ({ output: layer.forward(input).output.data }),
        dispose: () => layer.dispose(),
      };
      runner.mirror = await quantizedMirror(data, dtype, form);
      return runner;
    },
  };
}

/** The workload's float layer (PyTorch's weights) quantized to `dtype` in `form`, on `where`. */
function quantizedLayer(data: WorkloadData, dtype: QuantDtype, form: "q16" | "q8", where: { backend: "reference" } | { runtime: Runtime }): QuantizedLayer {
  const float = fromTorch(data.weights, where) as RecurrentLayer;
  try {
    return quantize(float, { dtype, form, ...where }) as QuantizedLayer;
  } finally {
    float.dispose();
  }
}

/**
 * What a quantized row is checked against (Runner.mirror): the TypeScript reference's layer of the same dtype and form
 * on the same weights and input (the same integers; see QUANT_TOLERANCE). Also used for the workerd rows
 * (bench/peers/workerd.ts).
 */
export async function quantizedMirror(data: WorkloadData, dtype: QuantDtype, form: "q16" | "q8"): Promise<NonNullable<Runner["mirror"]>> {
  const mirror = quantizedLayer(data, dtype, form, { backend: "reference" });
  try {
    const w = data.workload;
    const input: Tensor = { shape: [w.T, w.B, w.I], data: data.input };
    const values = w.id === "W-stream" ? await streamRunner(mirror, data).check() : { output: mirror.forward(input).output.data };
    return { name: `TypeScript reference's ${dtype} (${form}) layer, within ${QUANT_TOLERANCE}`, values };
  } finally {
    mirror.dispose();
  }
}

function streamRunner(layer: RecurrentLayer | QuantizedLayer, data: WorkloadData): Runner {
  const { T, B, I } = data.workload;
  const steps: Tensor[] = Array.from({ length: T }, (_, t) => ({ shape: [1, B, I], data: stepOf(data.input, t, B, I) }));
  let t = 0;
  return {
    run: () => {
      layer.stream(steps[t]);
      t = (t + 1) % T;
    },
    async check(): Promise<CheckValues> {
      layer.resetState();
      let last = layer.stream(steps[0]);
      for (let k = 1; k < STREAM_CHECK_STEPS; k++) last = layer.stream(steps[k]);
      t = STREAM_CHECK_STEPS;
      return { h: last.hN.data, c: last.cN?.data };
    },
    dispose: () => layer.dispose(),
  };
}

function trainRunner(data: WorkloadData, where: { backend: "reference" } | { runtime: Runtime }): Runner {
  const { T, B, I } = data.workload;
  const lstm = fromTorch(data.weights, { ...where, prefix: "lstm." }) as RecurrentLayer;
  const head = Linear.fromTorch(data.weights, { ...where, prefix: "head." });
  const model = new Sequential([lstm, new LastStep(), head]);
  const optimizer = new Adam(model, { lr: TRAIN_LR });
  const input: Tensor = { shape: [T, B, I], data: data.input };
  const target: Tensor = { shape: [B, 1], data: data.target! };
  /** zeroGrad, forward, MSE, backward through time, one Adam step; returns the loss before the step. */
  const step = (): number => {
    model.zeroGrad();
    const prediction = model.forward(input, { train: true }); // [B, 1]
    const { loss, grad } = mseLoss(prediction, target);
    model.backward(grad);
    optimizer.step();
    return loss;
  };
  return {
    run: step,
    async check(): Promise<CheckValues> {
      const first = step();
      const headWeight = head.toTorch().weight.data;
      const w = lstm.toTorch();
      const lstmWeights = new Float32Array([...w.weight_ih_l0.data, ...w.weight_hh_l0.data]);
      return { losses: [first, step()], headWeight, lstmWeights };
    },
    dispose: () => {
      optimizer.dispose();
      model.dispose();
    },
  };
}
