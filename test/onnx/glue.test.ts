// test/onnx/glue.test.ts: the operators around the recurrent ones (src/onnx/glue.ts) against ONNX's own node tests
// for them (test/fixtures/onnx/glue: the generators add.py, slice.py, gather.py, ... of python3-onnx, with their
// numpy references; scripts/make_onnx_fixtures.py). Every case either matches within 1e-5 (relative to the size of
// the value: Pow and Exp reach large ones) or is in REFUSED with why, and is then refused with an RnnError.
import { beforeAll, describe, expect, it } from "vitest";
import { init, RnnError } from "../../src/index.js";
import { fromOnnx } from "../../src/onnx/index.js";
import { caseNames, loadCase, numbers } from "./fixtures.js";

/** Cases rnn-wasm/onnx refuses on purpose, by name prefix, and why. */
const REFUSED: Record<string, string> = {
  test_training_dropout: "Dropout in training mode draws a random mask: only inference (identity) is run",
};
/** Cases not compared, and why. */
const NOT_COMPARED: Record<string, string> = {
  test_cast_BFLOAT16_to_FLOAT: "numpy has no bfloat16: the generator stores bfloat16 tensors as their uint16 bits",
  test_cast_FLOAT_to_BFLOAT16: "numpy has no bfloat16: the generator stores bfloat16 tensors as their uint16 bits",
};

beforeAll(async () => {
  await init();
});

describe("ONNX node tests of the glue operators", () => {
  const names = caseNames("glue").filter((n) => !(n in NOT_COMPARED));
  it("has them", () => expect(names.length).toBeGreaterThan(100));

  it.each(names)("%s", (name) => {
    const c = loadCase("glue", name);
    const refused = Object.keys(REFUSED).find((p) => name.startsWith(p) && !/zero_ratio/.test(name));
    if (refused) {
      expect(() => fromOnnx(c.model).run(c.feeds)).toThrow(RnnError);
      return;
    }
    const model = fromOnnx(c.model);
    try {
      const got = model.run(c.feeds);
      for (const [out, want] of Object.entries(c.expected)) {
        expect(got[out].shape, out).toEqual(want.shape);
        const w = numbers(want);
        let worst = 0;
        w.forEach((v, k) => {
          const d = Math.abs(got[out].data[k] - v) / Math.max(1, Math.abs(v));
          if (!(d <= worst)) worst = Number.isNaN(v) && Number.isNaN(got[out].data[k]) ? worst : d;
        });
        expect(worst, `${out}: worst relative difference`).toBeLessThan(1e-5);
      }
    } finally {
      model.dispose();
    }
  });
});
