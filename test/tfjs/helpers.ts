// test/tfjs/helpers.ts: TensorFlow.js 4.22 (cpu backend) as the oracle: models built with tf.sequential / tf.model,
// their weights set to seeded random values (biases included), saved through tf.io.withSaveHandler into the
// { modelTopology, weightsManifest } + bytes that fromTfjs reads, and predicted by tfjs itself.
import * as tf from "@tensorflow/tfjs";
import { mulberry32 } from "../../src/random.js";

let ready: Promise<void> | null = null;
/** The cpu backend, set once (tfjs prints a hint about tfjs-node on import; harmless). */
export function tfReady(): Promise<void> {
  ready ??= tf.setBackend("cpu").then(() => undefined);
  return ready;
}

/** Seeded uniform values in [-scale, scale). */
export function randomData(n: number, seed: number, scale = 1): Float32Array {
  const rand = mulberry32(seed);
  return Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale);
}

/** Sets every weight of `model` to seeded uniform values in ±scale. */
export function randomizeWeights(model: tf.LayersModel, seed: number, scale = 0.6): void {
  const values = model.getWeights().map((w, k) => tf.tensor(randomData(w.size, seed * 1000 + k, scale), w.shape));
  model.setWeights(values); // getWeights gives the variables' own tensors: not disposed here
  values.forEach((v) => v.dispose());
}

/** What model.json and its weight file hold, as fromTfjs takes them. */
export interface Saved {
  modelJson: { format?: string; modelTopology: unknown; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
  weights: ArrayBuffer;
}

/** The model saved as tfjs saves it (one weight file). */
export async function save(model: tf.LayersModel): Promise<Saved> {
  let artifacts: tf.io.ModelArtifacts | null = null;
  await model.save(tf.io.withSaveHandler(async (a) => {
    artifacts = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
  }));
  const a = artifacts! as tf.io.ModelArtifacts;
  const data = a.weightData as ArrayBuffer | ArrayBuffer[];
  const weights = Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data;
  return {
    modelJson: { format: a.format, modelTopology: a.modelTopology, weightsManifest: [{ paths: ["weights.bin"], weights: a.weightSpecs! }] },
    weights,
  };
}

/** tfjs's predict on a float32 input of `shape`. */
export function tfPredict(model: tf.LayersModel, shape: number[], data: Float32Array): { shape: number[]; data: Float32Array } {
  const x = tf.tensor(data, shape);
  const y = model.predict(x) as tf.Tensor;
  const out = { shape: [...y.shape], data: y.dataSync() as Float32Array };
  x.dispose();
  y.dispose();
  return out;
}

export { tf };
