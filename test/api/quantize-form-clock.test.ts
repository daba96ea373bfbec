// test/api/quantize-form-clock.test.ts: the timing behind the int8 form choice (src/quantized-engine.ts q8Faster) on a
// clock that does not move while code runs, as Cloudflare's Workers keep it (advanced only at I/O, against timing
// attacks): it must end after a few rounds and choose Q8 (the better bet where nothing can be timed), not spin until a
// deadline that never comes; a clock that moves in whole milliseconds (Miniflare's workerd) cannot time the products
// either, and ends the window with Q8. Also: on a moving clock it ends within about its 15 ms window (45 at most), and
// it frees what it allocated either way.
import { afterEach, describe, expect, it, vi } from "vitest";
import { q8Faster } from "../../src/quantized-engine.js";
import { runtimeFor } from "../helpers/runtimes.js";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("q8Faster: timing Q8 against Q16", () => {
  it("on a frozen clock, ends after a few rounds and answers true (Q8), freeing its blocks", async () => {
    const rt = await runtimeFor("simd");
    const before = rt.bytesInUse;
    let calls = 0;
    vi.spyOn(performance, "now").mockImplementation(() => {
      calls++;
      if (calls > 10_000) throw new Error("q8Faster is still reading the clock: it would spin forever on a frozen one");
      return 1234.5;
    });
    expect(q8Faster(rt)).toBe(true);
    expect(calls).toBeLessThan(100); // 8 rounds: a start, a deadline check and 2 timed batches (2 reads each) per round
    expect(rt.bytesInUse).toBe(before);
  });

  it("on a clock of whole milliseconds, ends the window and answers true (Q8), freeing its blocks", async () => {
    const rt = await runtimeFor("simd");
    const before = rt.bytesInUse;
    const real = performance.now.bind(performance);
    vi.spyOn(performance, "now").mockImplementation(() => Math.floor(real()));
    const t0 = real();
    expect(q8Faster(rt)).toBe(true);
    expect(real() - t0).toBeLessThan(1000); // the 15 ms window, not the 45 ms stretch nor a spin
    expect(rt.bytesInUse).toBe(before);
  });

  it("on a moving clock, answers within its window (15 ms, with a margin for a loaded machine), freeing its blocks", async () => {
    const rt = await runtimeFor("simd");
    const before = rt.bytesInUse;
    const t0 = performance.now();
    expect(typeof q8Faster(rt)).toBe("boolean");
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(rt.bytesInUse).toBe(before);
  });
});
