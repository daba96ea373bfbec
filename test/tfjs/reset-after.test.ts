// test/tfjs/reset-after.test.ts: Keras GRUs with reset_after=True (Keras' default since TF 2), which TensorFlow.js
// 4.22 refuses to load. The model.json is tfjs's own for a GRU, rewritten by hand as tensorflowjs_converter writes a
// Keras 2 GRU: reset_after true and a bias of shape [2, 3H] (input bias, then recurrent bias). The oracle is the Keras
// equations written here with tfjs ops in float32, one step at a time, masks applied as tfjs applies them:
//   z = ra(x K_z + b_z + h R_z + b'_z); r = ra(x K_r + b_r + h R_r + b'_r); h~ = a(x K_h + b_h + r * (h R_h + b'_h))
//   h = z*h + (1-z)*h~        (a masked step keeps h and outputs it)
// Both paths of fromTfjs ('auto': the GRU layer in its reset-after form, PyTorch's; 'typescript') within 1e-5.
import { beforeAll, describe, expect, it } from "vitest";
import { init, maxAbsDiff, tensor } from "../../src/index.js";
import { mulberry32 } from "../../src/random.js";
import { fromTfjs } from "../../src/tfjs/index.js";
import { randomData, tf, tfReady } from "./helpers.js";

interface Weights { K: Float32Array; R: Float32Array; b: Float32Array }

/** The Keras GRU (reset_after) in tfjs ops: x (B,T,I) -> outputs (B,T,H) in tfjs's order, and the final h. */
function kerasGru(x: Float32Array, mask: Float32Array | null, B: number, T: number, I: number, H: number, w: Weights,
  ra: "sigmoid" | "hard_sigmoid", goBackwards: boolean): { seq: Float32Array; h: Float32Array } {
  return tf.tidy(() => {
    const recur = (v: tf.Tensor) => (ra === "sigmoid" ? tf.sigmoid(v) : tf.clipByValue(tf.add(tf.mul(v, 0.2), 0.5), 0, 1));
    const K = tf.tensor2d(w.K, [I, 3 * H]), R = tf.tensor2d(w.R, [H, 3 * H]);
    const bIn = tf.tensor2d(w.b.subarray(0, 3 * H), [1, 3 * H]), bRec = tf.tensor2d(w.b.subarray(3 * H), [1, 3 * H]);
    const xs = tf.tensor3d(x, [B, T, I]);
    const ms = mask ? tf.tensor2d(mask, [B, T]) : null;
    let h: tf.Tensor = tf.zeros([B, H]);
    const outs: tf.Tensor[] = [];
    for (let s = 0; s < T; s++) {
      const t = goBackwards ? T - 1 - s : s;
      const xt = tf.reshape(tf.slice(xs, [0, t, 0], [B, 1, I]), [B, I]);
      const xz = tf.add(tf.matMul(xt, K), bIn), hz = tf.add(tf.matMul(h, R), bRec);
      const part = (v: tf.Tensor, k: number) => tf.slice(v, [0, k * H], [B, H]);
      const z = recur(tf.add(part(xz, 0), part(hz, 0))), r = recur(tf.add(part(xz, 1), part(hz, 1)));
      const hh = tf.tanh(tf.add(part(xz, 2), tf.mul(r, part(hz, 2))));
      let next = tf.add(tf.mul(z, h), tf.mul(tf.sub(1, z), hh));
      if (ms) {
        const m = tf.reshape(tf.slice(ms, [0, t], [B, 1]), [B, 1]);
        next = tf.add(tf.mul(m, next), tf.mul(tf.sub(1, m), h));
      }
      h = next;
      outs.push(h);
    }
    return { seq: tf.stack(outs, 1).dataSync() as Float32Array, h: h.dataSync() as Float32Array };
  });
}

/** tfjs's model.json for Sequential([Masking?, GRU]) rewritten to reset_after true, with bytes for `w`. */
async function resetAfterModel(T: number, I: number, H: number, w: Weights, o: { ra: string; goBackwards: boolean; returnSequences: boolean; masking: boolean }) {
  const model = tf.sequential();
  if (o.masking) model.add(tf.layers.masking({ maskValue: 0, inputShape: [T, I] }));
  model.add(tf.layers.gru({ units: H, recurrentActivation: o.ra === "sigmoid" ? "sigmoid" : "hardSigmoid", goBackwards: o.goBackwards, returnSequences: o.returnSequences, ...(o.masking ? {} : { inputShape: [T, I] }) }));
  let art: tf.io.ModelArtifacts | null = null;
  await model.save(tf.io.withSaveHandler(async (a) => {
    art = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
  }));
  model.dispose();
  const a = art! as tf.io.ModelArtifacts;
  const topology = JSON.parse(JSON.stringify(a.modelTopology));
  const gru = topology.config.layers.find((l: { class_name: string }) => l.class_name === "GRU");
  gru.config.reset_after = true;
  gru.config.recurrent_activation = o.ra;
  const name = gru.config.name;
  const specs = [
    { name: `${name}/gru_cell/kernel`, shape: [I, 3 * H], dtype: "float32" },
    { name: `${name}/gru_cell/recurrent_kernel`, shape: [H, 3 * H], dtype: "float32" },
    { name: `${name}/gru_cell/bias`, shape: [2, 3 * H], dtype: "float32" },
  ];
  const bytes = new Float32Array(w.K.length + w.R.length + w.b.length);
  bytes.set(w.K);
  bytes.set(w.R, w.K.length);
  bytes.set(w.b, w.K.length + w.R.length);
  return { modelJson: { modelTopology: { model_config: topology }, weightsManifest: [{ paths: ["w.bin"], weights: specs }] }, weights: bytes.buffer };
}

beforeAll(async () => {
  await tfReady();
  await init();
});

describe("GRU reset_after=true (which tfjs refuses): fromTfjs against the Keras equations in tfjs ops", () => {
  const CASES = [
    { ra: "sigmoid", goBackwards: false, returnSequences: true, masking: false },
    { ra: "sigmoid", goBackwards: true, returnSequences: true, masking: false },
    { ra: "hard_sigmoid", goBackwards: false, returnSequences: false, masking: false },
    { ra: "sigmoid", goBackwards: false, returnSequences: true, masking: true },
    { ra: "sigmoid", goBackwards: true, returnSequences: false, masking: true },
    { ra: "hard_sigmoid", goBackwards: true, returnSequences: true, masking: true },
  ];
  it.each(CASES.map((c, k) => [JSON.stringify(c), c, k] as const))("%s", async (_, c, k) => {
    for (const round of [0, 1, 2]) {
      const rand = mulberry32(500 + 10 * k + round);
      const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
      const [B, T, I, H] = [int(1, 3), int(1, 7), int(1, 6), int(1, 9)];
      const w = { K: randomData(I * 3 * H, 1 + k, 0.6), R: randomData(H * 3 * H, 2 + k, 0.6), b: randomData(6 * H, 3 + k, 0.6) };
      const x = randomData(B * T * I, 4 + k + round);
      let mask: Float32Array | null = null;
      if (c.masking) { // rows after the first: real steps, then padding
        mask = new Float32Array(B * T).fill(1);
        for (let b = 1; b < B; b++) {
          const n = int(0, T);
          for (let t = n; t < T; t++) { mask[b * T + t] = 0; x.fill(0, (b * T + t) * I, (b * T + t + 1) * I); }
        }
      }
      const want = kerasGru(x, mask, B, T, I, H, w, c.ra as "sigmoid", c.goBackwards);
      const { modelJson, weights } = await resetAfterModel(T, I, H, w, c);
      for (const path of ["auto", "typescript"] as const) {
        const model = fromTfjs(modelJson, weights, { path });
        const y = model.predict(tensor([B, T, I], x.slice()));
        model.dispose();
        const label = `${path}, B ${B} T ${T} I ${I} H ${H}`;
        expect(y.shape, label).toEqual(c.returnSequences ? [B, T, H] : [B, H]);
        expect(maxAbsDiff(y.data, c.returnSequences ? want.seq : want.h), label).toBeLessThan(1e-5);
      }
    }
  });

  it("a reset_after GRU whose bias is [3H] (Keras' reset-before shape) is refused naming the weight (shape)", async () => {
    const H = 3, I = 2, T = 4;
    const w = { K: randomData(I * 3 * H, 1), R: randomData(H * 3 * H, 2), b: randomData(6 * H, 3) };
    const { modelJson } = await resetAfterModel(T, I, H, w, CASES[0]);
    modelJson.weightsManifest[0].weights[2].shape = [3 * H];
    const bytes = new Float32Array(I * 3 * H + H * 3 * H + 3 * H).buffer;
    expect(() => fromTfjs(modelJson, bytes)).toThrow(/gru_cell\/bias has shape \[9\], expected \[2, 9\]/);
  });
});
