// test/api/quantize-torch.test.ts: issue 14's accuracy target on the real quantized layers: on the PyTorch models and
// inputs of test/fixtures/quant (scripts/make_quant_fixtures.py: PyTorch's default initialisation, inputs N(0, 1)),
// the error of quantize(layer, { dtype: 'int8' })'s output against the float64 answer for the float32 weights is no
// worse than PyTorch's own quantize_dynamic (qint8) on the same model and input: the Q16 form (8-bit activations) no
// worse than the qnnpack engine (8-bit activations), the Q8 form (7-bit activations, the relaxed dot-add's) no worse
// than onednn (7-bit activations); int12 under a fifth of qnnpack's. Error: ||out - output|| / ||output|| over the whole
// sequence. Run on the wasm backend (the simd build: Q8 there computes the relaxed build's integers without the
// relaxed op, bit for bit: quant.test.ts) and on the reference backend, which must agree.
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { loadSafetensors, quantize, type Runtime, type Tensor } from "../../src/index.js";
import { createLayer } from "./helpers.js";
import { runtimeFor } from "../helpers/runtimes.js";

const DIR = fileURLToPath(new URL("../fixtures/quant/", import.meta.url));
const FILES = readdirSync(DIR).filter((f) => f.endsWith(".safetensors")).sort();

function relError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < want.length; i++) {
    num += (got[i] - want[i]) ** 2;
    den += want[i] ** 2;
  }
  return Math.sqrt(num / den);
}

describe("quantized layers vs PyTorch's quantize_dynamic (qint8) on test/fixtures/quant", () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await runtimeFor("simd");
  });

  it("finds the fixtures", () => {
    expect(FILES.length).toBeGreaterThanOrEqual(3);
  });

  const lines: string[] = [];
  it.each(FILES)("%s: int8 (Q16) <= qnnpack, int8 (Q8, 7-bit activations) <= onednn, int12 <= qnnpack / 5", (file) => {
    const { tensors, metadata } = loadSafetensors(new Uint8Array(readFileSync(DIR + file)));
    const params: Record<string, Float32Array> = {};
    for (const [k, t] of Object.entries(tensors as Record<string, Tensor>)) if (/^(weight|bias)_/.test(k)) params[k] = t.data;
    const float = createLayer(metadata.kind as "lstm" | "gru", { ...JSON.parse(metadata.options), runtime: rt }, params);
    const want = tensors.output.data;
    const err: Record<string, number> = {
      qnnpack: relError(tensors.output_qnnpack.data, want),
      onednn: relError(tensors.output_onednn.data, want),
    };
    for (const [name, options] of [
      ["int8", { dtype: "int8", form: "q16" }], ["q8", { dtype: "int8", form: "q8" }], ["int12", { dtype: "int12" }],
    ] as const) {
      const q = quantize(float, { ...options, runtime: rt });
      const out = q.forward(tensors.input).output.data;
      const r = quantize(float, { ...options, backend: "reference" });
      const outRef = r.forward(tensors.input).output.data;
      err[name] = relError(out, want);
      expect(Math.abs(relError(outRef, want) - err[name]), `${name}: reference backend`).toBeLessThan(0.1 * err[name]);
      q.dispose();
      r.dispose();
    }
    err.float = relError(float.forward(tensors.input).output.data, want);
    float.dispose();
    const pct = (v: number) => `${(100 * v).toFixed(3)}%`;
    lines.push(`  ${file.padEnd(26)} PyTorch qnnpack ${pct(err.qnnpack)}, onednn ${pct(err.onednn)}; ours int8 (Q16) ` +
      `${pct(err.int8)}, int8 x 7-bit (Q8) ${pct(err.q8)}, int12 ${pct(err.int12)}, float32 ${pct(err.float)}`);
    if (lines.length === FILES.length) console.log(`quantize(): relative error against float64, whole sequence:\n${lines.join("\n")}`);
    expect(err.int8, "int8 (8-bit activations) vs qnnpack").toBeLessThanOrEqual(err.qnnpack);
    expect(err.q8, "int8 x 7-bit vs onednn").toBeLessThanOrEqual(err.onednn);
    expect(err.int12, "int12 vs a fifth of qnnpack's").toBeLessThanOrEqual(err.qnnpack / 5);
  });
});
