// test/io/safetensors.test.ts: the safetensors reader and writer. Reader inputs are built byte by byte
// (build-safetensors.ts) so they do not depend on our writer; the writer is checked against hand-laid bytes,
// and both together by a round-trip property. Fuzzing checks that only RnnError ever escapes the reader.
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { loadSafetensors, saveSafetensors } from "../../src/io/safetensors.js";
import { RnnError, type RnnErrorCode } from "../../src/errors.js";
import { numel, type Tensor } from "../../src/tensor.js";
import { bitsOf, buildFile, concat, f32Bytes, f64Bytes, u16Bytes, u32Bytes, u64 } from "./build-safetensors.js";

/** Asserts that `run` throws an RnnError with this code and a message matching `message`. */
function expectRnnError(run: () => unknown, code: RnnErrorCode, message: RegExp): void {
  expect(run).toThrowError(message);
  let caught: unknown;
  try {
    run();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(RnnError);
  expect((caught as RnnError).code).toBe(code);
}

/** Same values by Object.is, so -0 and NaN are compared exactly (payloads aside). */
function expectSameValues(actual: Float32Array, expected: readonly number[]): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((v, i) => expect(Object.is(actual[i], v), `index ${i}: got ${actual[i]}, expected ${v}`).toBe(true));
}

/** An F32 entry for hand-built headers. */
const f32 = (shape: number[], begin: number, end: number) => ({ dtype: "F32", shape, data_offsets: [begin, end] });

/** Loads and discards; an RnnError is an acceptable outcome, anything else escapes and fails the property. */
function loadOrRnnError(file: Uint8Array): void {
  try {
    loadSafetensors(file);
  } catch (e) {
    if (!(e instanceof RnnError)) throw e;
    expect(["format", "dtype"]).toContain(e.code);
  }
}

// Tensors whose float32 data comes from random bit patterns: -0, subnormals, infinities and NaN payloads all occur.
const shapeArb = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 });
const tensorArb: fc.Arbitrary<Tensor> = shapeArb.chain((shape) =>
  fc
    .uint32Array({ minLength: numel(shape), maxLength: numel(shape) })
    .map((bits) => ({ shape, data: new Float32Array(bits.buffer, bits.byteOffset, bits.length) })),
);
const nameArb = fc.oneof(
  fc.string({ unit: "binary", minLength: 1, maxLength: 12 }).filter((n) => n !== "__metadata__"),
  fc.constantFrom("__proto__", "constructor", "toString", "0", "10", "lstm.weight_ih_l0", "名前"),
);
const tensorsArb = fc.dictionary(nameArb, tensorArb, { maxKeys: 6 });
const metadataArb = fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 12 }), { maxKeys: 3 });

describe("saveSafetensors then loadSafetensors", () => {
  it("gives back the same names, shapes, bit patterns and metadata", () => {
    fc.assert(
      fc.property(tensorsArb, metadataArb, (tensors, metadata) => {
        const loaded = loadSafetensors(saveSafetensors(tensors, metadata));
        expect(Object.keys(loaded.tensors).sort()).toEqual(Object.keys(tensors).sort());
        for (const name of Object.keys(tensors)) {
          expect(loaded.tensors[name].shape).toEqual(tensors[name].shape);
          expect(bitsOf(loaded.tensors[name].data)).toEqual(bitsOf(tensors[name].data));
        }
        expect({ ...loaded.metadata }).toEqual({ ...metadata });
      }),
      { numRuns: 300 },
    );
  });

  it("keeps the float32 values that are easy to lose: -0, subnormals, infinities, NaN payloads", () => {
    const bits = [0x80000000, 0x00000001, 0x807fffff, 0x7f800000, 0xff800000, 0x7fc00000, 0x7fa00001, 0xffffffff, 0x7f7fffff];
    const data = new Float32Array(new Uint32Array(bits).buffer);
    const loaded = loadSafetensors(saveSafetensors({ x: { shape: [3, 3], data } }));
    expect(bitsOf(loaded.tensors.x.data)).toEqual(bits);
  });

  it("keeps a tensor named __proto__ as an own entry and leaves the prototype alone", () => {
    const tensors = Object.fromEntries([["__proto__", { shape: [1], data: new Float32Array([7]) }]]);
    const loaded = loadSafetensors(saveSafetensors(tensors));
    expect(Object.keys(loaded.tensors)).toEqual(["__proto__"]);
    expect(Object.getPrototypeOf(loaded.tensors)).toBe(Object.prototype);
    expectSameValues(Object.getOwnPropertyDescriptor(loaded.tensors, "__proto__")!.value.data, [7]);
  });
});

describe("saveSafetensors layout", () => {
  /** The file the official writer produces for this compact header JSON and data. */
  function officialLayout(json: string, data: Uint8Array): Uint8Array {
    const padding = (8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8;
    return buildFile(json + " ".repeat(padding), data);
  }

  it("writes compact JSON padded with spaces to a multiple of 8, then the data", () => {
    const file = saveSafetensors({ a: { shape: [2], data: new Float32Array([1, 2]) } });
    const json = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    expect(file).toEqual(officialLayout(json, f32Bytes([1, 2])));
  });

  it("writes __metadata__ first, then tensors sorted by name with contiguous offsets", () => {
    const file = saveSafetensors(
      { c: { shape: [1], data: new Float32Array([3]) }, a: { shape: [2, 1], data: new Float32Array([1, 2]) }, b: { shape: [0], data: new Float32Array(0) } },
      { format: "pt" },
    );
    const json =
      '{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,1],"data_offsets":[0,8]},' +
      '"b":{"dtype":"F32","shape":[0],"data_offsets":[8,8]},"c":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}';
    expect(file).toEqual(officialLayout(json, f32Bytes([1, 2, 3])));
  });

  it("omits __metadata__ when metadata is absent or empty", () => {
    const tensors = { a: { shape: [1], data: new Float32Array([1]) } };
    for (const file of [saveSafetensors(tensors), saveSafetensors(tensors, {})]) {
      expect(new TextDecoder().decode(file)).not.toContain("__metadata__");
    }
  });

  it("starts the data at a multiple of 8 whatever the header length", () => {
    fc.assert(
      fc.property(tensorsArb, metadataArb, (tensors, metadata) => {
        const file = saveSafetensors(tensors, metadata);
        const headerLength = Number(new DataView(file.buffer).getBigUint64(0, true));
        expect((8 + headerLength) % 8).toBe(0);
      }),
      { numRuns: 100 },
    );
  });

  it("writes the values of a Float32Array view that starts inside a larger buffer", () => {
    const backing = new Float32Array([9, 1, 2, 9]);
    const loaded = loadSafetensors(saveSafetensors({ a: { shape: [2], data: backing.subarray(1, 3) } }));
    expectSameValues(loaded.tensors.a.data, [1, 2]);
  });

  it("refuses data that is not a Float32Array (dtype), naming the tensor", () => {
    const bad = { w: { shape: [2], data: new Float64Array([1, 2]) } } as unknown as Record<string, Tensor>;
    expectRnnError(() => saveSafetensors(bad), "dtype", /"w".*Float32Array/);
    const plainArray = { w: { shape: [2], data: [1, 2] } } as unknown as Record<string, Tensor>;
    expectRnnError(() => saveSafetensors(plainArray), "dtype", /"w"/);
    expectRnnError(() => saveSafetensors({ w: null } as unknown as Record<string, Tensor>), "dtype", /"w"/);
  });

  it("refuses a shape that does not match the data length, or is not a shape (shape)", () => {
    expectRnnError(() => saveSafetensors({ w: { shape: [2, 2], data: new Float32Array(3) } }), "shape", /"w" has 3 values.*\[2, 2\].*4/);
    expectRnnError(() => saveSafetensors({ w: { shape: [-1], data: new Float32Array(0) } }), "shape", /"w".*shape/);
    expectRnnError(() => saveSafetensors({ w: { shape: [1.5], data: new Float32Array(1) } }), "shape", /"w".*shape/);
    const noShape = { w: { data: new Float32Array(1) } } as unknown as Record<string, Tensor>;
    expectRnnError(() => saveSafetensors(noShape), "shape", /"w".*shape/);
  });

  it("refuses an empty name, the name __metadata__, and non-string metadata (format)", () => {
    const t = { shape: [1], data: new Float32Array(1) };
    expectRnnError(() => saveSafetensors({ "": t }), "format", /name ""/);
    expectRnnError(() => saveSafetensors({ __metadata__: t }), "format", /name "__metadata__"/);
    const badMetadata = { epoch: 3 } as unknown as Record<string, string>;
    expectRnnError(() => saveSafetensors({ a: t }, badMetadata), "format", /"epoch".*string/);
  });
});

describe("loadSafetensors dtypes", () => {
  /** Reads one 16-bit tensor of these bit patterns. */
  function read16(dtype: "F16" | "BF16", words: readonly number[]): Float32Array {
    const file = buildFile({ x: { dtype, shape: [words.length], data_offsets: [0, 2 * words.length] } }, u16Bytes(words));
    return loadSafetensors(file).tensors.x.data;
  }

  it("decodes F16 hand-computed values", () => {
    const cases: [number, number][] = [
      [0x3c00, 1],
      [0xc100, -2.5],
      [0x7bff, 65504], // largest finite half
      [0x0001, 2 ** -24], // smallest subnormal
      [0x8001, -(2 ** -24)],
      [0x03ff, 1023 * 2 ** -24], // largest subnormal
      [0x0400, 2 ** -14], // smallest normal
      [0x3555, 0.333251953125], // (1 + 341/1024) / 4, the half nearest 1/3
      [0x0000, 0],
      [0x8000, -0],
      [0x7c00, Infinity],
      [0xfc00, -Infinity],
      [0x7e00, NaN],
    ];
    expectSameValues(read16("F16", cases.map(([h]) => h)), cases.map(([, v]) => v));
  });

  it("decodes all 65536 F16 patterns as the IEEE formula says, keeping NaN payloads", () => {
    const words = Array.from({ length: 65536 }, (_, h) => h);
    const out = read16("F16", words);
    const bits = bitsOf(out);
    for (const h of words) {
      const sign = h & 0x8000 ? -1 : 1;
      const exponent = (h >> 10) & 0x1f;
      const mantissa = h & 0x3ff;
      if (exponent === 0x1f && mantissa !== 0) {
        expect(bits[h]).toBe((((h & 0x8000) << 16) | 0x7f800000 | (mantissa << 13)) >>> 0);
        continue;
      }
      const expected =
        exponent === 0x1f ? sign * Infinity
        : exponent === 0 ? sign * mantissa * 2 ** -24
        : sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
      if (!Object.is(out[h], expected)) expect(`0x${h.toString(16)} -> ${out[h]}`).toBe(`0x${h.toString(16)} -> ${expected}`);
    }
  });

  it("decodes BF16 hand-computed values", () => {
    const cases: [number, number][] = [
      [0x3f80, 1],
      [0xc020, -2.5],
      [0x3eab, 0.333984375], // 0x3eab0000
      [0x7f7f, 3.3895313892515355e38], // largest finite bfloat16
      [0x0001, 2 ** -133], // smallest subnormal: float32 bits 0x00010000
      [0x8000, -0],
      [0x7f80, Infinity],
      [0xff80, -Infinity],
      [0x7fc0, NaN],
    ];
    expectSameValues(read16("BF16", cases.map(([h]) => h)), cases.map(([, v]) => v));
  });

  it("decodes all 65536 BF16 patterns as the high half of a float32", () => {
    const words = Array.from({ length: 65536 }, (_, h) => h);
    expect(bitsOf(read16("BF16", words))).toEqual(words.map((h) => (h << 16) >>> 0));
  });

  it("reads F32 bit patterns exactly", () => {
    const bits = [0x3f800000, 0x80000000, 0x00000001, 0x7fa00001, 0xffc00123];
    const file = buildFile({ x: f32([5], 0, 20) }, u32Bytes(bits));
    expect(bitsOf(loadSafetensors(file).tensors.x.data)).toEqual(bits);
  });

  it("rounds F64 to the nearest float32, ties to even", () => {
    const values = [1, 0.1, -2.5, 1e300, -1e300, 2 ** -149, 2 ** -150, 1 + 2 ** -24, 1 + 3 * 2 ** -24, -0, NaN, Infinity];
    const file = buildFile({ x: { dtype: "F64", shape: [2, 6], data_offsets: [0, 8 * values.length] } }, f64Bytes(values));
    const expected = [1, Math.fround(0.1), -2.5, Infinity, -Infinity, 2 ** -149, 0, 1, 1 + 2 ** -22, -0, NaN, Infinity];
    expectSameValues(loadSafetensors(file).tensors.x.data, expected);
  });

  it.each(["I64", "I32", "U8", "U16", "BOOL", "F8_E4M3", "F8_E5M2", "f32", "constructor", "__proto__"])(
    "refuses dtype %s with a dtype error naming the tensor",
    (dtype) => {
      const file = buildFile({ weight: { dtype, shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8));
      expectRnnError(() => loadSafetensors(file), "dtype", new RegExp(`"weight".*${dtype}`));
    },
  );
});

describe("integer tensors: I8 and I16 (quantized weights)", () => {
  it("round-trips Int8Array as I8 and Int16Array as I16, beside F32, with the extremes and a view inside a larger buffer", () => {
    const i16 = new Int16Array([7, -32768, 32767, 0, -1, 2047, 9]).subarray(1, 6);
    const file = saveSafetensors({
      q: { shape: [2, 3], data: new Int8Array([-128, 127, 0, -1, 1, 64]) },
      r: { shape: [5], data: i16 },
      s: { shape: [1], data: new Float32Array([0.5]) },
    });
    const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + Number(new DataView(file.buffer).getBigUint64(0, true)))));
    expect([header.q.dtype, header.r.dtype, header.s.dtype]).toEqual(["I8", "I16", "F32"]);
    const loaded = loadSafetensors(file);
    expect(Object.keys(loaded.tensors)).toEqual(["s"]);
    expect(loaded.integers.q.data).toBeInstanceOf(Int8Array);
    expect(Array.from(loaded.integers.q.data)).toEqual([-128, 127, 0, -1, 1, 64]);
    expect(loaded.integers.q.shape).toEqual([2, 3]);
    expect(loaded.integers.r.data).toBeInstanceOf(Int16Array);
    expect(Array.from(loaded.integers.r.data)).toEqual([-32768, 32767, 0, -1, 2047]);
  });

  it("reads I16 little-endian at an odd data offset, as a fresh copy", () => {
    const data = new Uint8Array([5, 0x34, 0x12, 0xff, 0x7f]);
    const file = buildFile({ a: { dtype: "I8", shape: [1], data_offsets: [0, 1] }, b: { dtype: "I16", shape: [2], data_offsets: [1, 5] } }, data);
    const { integers } = loadSafetensors(file);
    expect(Array.from(integers.a.data)).toEqual([5]);
    expect(Array.from(integers.b.data)).toEqual([0x1234, 0x7fff]);
    file[file.length - 1] = 0;
    expect(integers.b.data[1]).toBe(0x7fff);
  });

  it("gives a file without integers an empty record", () => {
    expect(loadSafetensors(saveSafetensors({ a: { shape: [1], data: new Float32Array(1) } })).integers).toEqual({});
  });

  it.each([
    ["I16 bytes not a whole number of elements", { a: { dtype: "I16", shape: [2], data_offsets: [0, 3] } }, 3, /"a".*hold 3 bytes.*I16 shape \[2\] needs 4/],
    ["I8 shape larger than its bytes", { a: { dtype: "I8", shape: [2, 3], data_offsets: [0, 5] } }, 5, /"a".*hold 5 bytes.*needs 6/],
    ["I8 beyond the data buffer", { a: { dtype: "I8", shape: [8], data_offsets: [0, 8] } }, 4, /"a".*beyond the data buffer of 4 bytes/],
    ["I16 overlapping I8", { a: { dtype: "I8", shape: [2], data_offsets: [0, 2] }, b: { dtype: "I16", shape: [1], data_offsets: [1, 3] } }, 3, /overlap/],
  ])("refuses a malformed integer tensor (%s) with a format error naming it", (_, header, bytes, message) => {
    expectRnnError(() => loadSafetensors(buildFile(header, new Uint8Array(bytes))), "format", message);
  });

  it("refuses a truncated file of integers at every cut (format)", () => {
    const file = saveSafetensors({ q: { shape: [3, 4], data: new Int8Array(12).fill(3) }, r: { shape: [5], data: new Int16Array(5).fill(-2) } });
    for (let cut = 0; cut < file.length; cut++) expectRnnError(() => loadSafetensors(file.subarray(0, cut)), "format", /safetensors: /);
  });
});

describe("loadSafetensors on valid files", () => {
  it("reads tensors listed out of offset order, with mixed dtypes, keeping header order", () => {
    const data = concat(u16Bytes([0x3c00, 0xc100]), f32Bytes([0.5, -3]), u16Bytes([0x4000]));
    const header = {
      b: f32([2, 1], 4, 12),
      c: { dtype: "BF16", shape: [1], data_offsets: [12, 14] },
      a: { dtype: "F16", shape: [2], data_offsets: [0, 4] },
    };
    const { tensors } = loadSafetensors(buildFile(header, data));
    expect(Object.keys(tensors)).toEqual(["b", "c", "a"]);
    expect(tensors.b.shape).toEqual([2, 1]);
    expectSameValues(tensors.a.data, [1, -2.5]);
    expectSameValues(tensors.b.data, [0.5, -3]);
    expectSameValues(tensors.c.data, [2]);
  });

  it("reads zero-element tensors anywhere, including a file with no data at all", () => {
    const header = { e: f32([0, 3], 4, 4), a: f32([1], 0, 4), z: { dtype: "F16", shape: [2, 0], data_offsets: [0, 0] } };
    const { tensors } = loadSafetensors(buildFile(header, f32Bytes([5])));
    expect(tensors.e).toEqual({ shape: [0, 3], data: new Float32Array(0) });
    expect(tensors.z).toEqual({ shape: [2, 0], data: new Float32Array(0) });
    expectSameValues(tensors.a.data, [5]);
    expect(loadSafetensors(buildFile({ only: f32([0], 0, 0) })).tensors.only.data.length).toBe(0);
  });

  it("returns metadata, and {} when the header has none", () => {
    const file = buildFile({ __metadata__: { format: "pt", note: "" }, a: f32([1], 0, 4) }, f32Bytes([1]));
    expect(loadSafetensors(file).metadata).toEqual({ format: "pt", note: "" });
    expect(loadSafetensors(buildFile({ a: f32([1], 0, 4) }, f32Bytes([1]))).metadata).toEqual({});
    expect(loadSafetensors(buildFile({})).tensors).toEqual({});
  });

  it("accepts header padding spaces, an ArrayBuffer, a Node Buffer, and a file at an odd offset", () => {
    const file = buildFile(JSON.stringify({ a: f32([2], 0, 8) }) + "     ", f32Bytes([1.5, -2]));
    const shifted = new Uint8Array(file.length + 3);
    shifted.set(file, 3); // the f32 data now sits at an address that is not a multiple of 4
    for (const input of [file, file.slice().buffer, Buffer.from(file), shifted.subarray(3)]) {
      expectSameValues(loadSafetensors(input).tensors.a.data, [1.5, -2]);
    }
  });

  it("returns fresh copies that do not share memory with the file", () => {
    const built = buildFile({ a: f32([2], 0, 8), h: { dtype: "F16", shape: [1], data_offsets: [8, 10] } }, concat(f32Bytes([1, 2]), u16Bytes([0x3c00])));
    // A small Node Buffer lives in a shared pool, and its slice() is a view: the case a lazy copy gets wrong.
    for (const file of [built, Buffer.from(built)]) {
      const { tensors } = loadSafetensors(file);
      file.fill(0);
      expect(tensors.a.data.buffer).not.toBe(file.buffer);
      expect(tensors.a.data.buffer.byteLength).toBe(8);
      expectSameValues(tensors.a.data, [1, 2]);
      expectSameValues(tensors.h.data, [1]);
    }
  });
});

describe("loadSafetensors on malformed files", () => {
  const four = f32Bytes([1]);
  const eight = f32Bytes([1, 2]);
  const twelve = f32Bytes([1, 2, 3]);

  // [what is wrong, the file, what the message must say]; every case must be an RnnError "format".
  const cases: [string, Uint8Array, RegExp][] = [
    ["empty file", new Uint8Array(0), /file is 0 bytes.*8-byte/],
    ["file shorter than 8 bytes", new Uint8Array(5), /file is 5 bytes.*8-byte/],
    ["header length beyond the file", buildFile("{}", new Uint8Array(0), 1000), /header length 1000 .*1008 bytes.*file has 10/],
    ["header length one past the file", buildFile('{"a":1}', new Uint8Array(0), 8), /header length 8 .*file has 15/],
    ["header length over 100 MB", concat(u64(100_000_001), new Uint8Array(8)), /header length 100000001 .*100000000/],
    ["header length 2^64 - 1", concat(u64(2n ** 64n - 1n), new Uint8Array(8)), /header length 18446744073709551615 /],
    ["header length 2^53 + 1", concat(u64(2n ** 53n + 1n), new Uint8Array(8)), /header length 9007199254740993 /],
    ["header length 0", buildFile(""), /not valid JSON/],
    ["header not UTF-8", buildFile(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), /not valid UTF-8/],
    ["header not JSON", buildFile("{not json"), /not valid JSON/],
    ["header with a byte-order mark", buildFile("\uFEFF{}"), /not valid JSON/],
    ["header an array", buildFile("[]"), /header must be a JSON object/],
    ["header a number", buildFile("5"), /header must be a JSON object/],
    ["header null", buildFile("null"), /header must be a JSON object/],
    ["entry not an object", buildFile({ a: 5 }), /tensor "a": entry must be an object/],
    ["entry an array", buildFile({ a: ["F32", [1], [0, 4]] }, four), /tensor "a": entry must be an object/],
    ["dtype missing", buildFile({ a: { shape: [1], data_offsets: [0, 4] } }, four), /tensor "a": dtype must be a string, got undefined/],
    ["dtype not a string", buildFile({ a: { dtype: 32, shape: [1], data_offsets: [0, 4] } }, four), /tensor "a": dtype must be a string, got 32/],
    ["shape missing", buildFile({ a: { dtype: "F32", data_offsets: [0, 4] } }, four), /tensor "a": shape must be/],
    ["shape not an array", buildFile({ a: { dtype: "F32", shape: 1, data_offsets: [0, 4] } }, four), /tensor "a": shape .*got 1/],
    ["negative dim", buildFile({ a: f32([-1], 0, 4) }, four), /tensor "a": shape .*non-negative integers, got \[-1\]/],
    ["non-integer dim", buildFile({ a: f32([1.5], 0, 4) }, four), /tensor "a": shape .*got \[1.5\]/],
    ["string dim", buildFile({ a: { dtype: "F32", shape: ["1"], data_offsets: [0, 4] } }, four), /tensor "a": shape .*got \["1"\]/],
    ["data_offsets missing", buildFile({ a: { dtype: "F32", shape: [1] } }, four), /tensor "a": data_offsets must be \[begin, end\]/],
    ["data_offsets of three", buildFile({ a: f32([1], 0, 4), b: { dtype: "F32", shape: [1], data_offsets: [0, 4, 8] } }, four), /tensor "b": data_offsets .*got \[0,4,8\]/],
    ["non-integer offset", buildFile({ a: f32([1], 0, 4.5) }, four), /tensor "a": data_offsets .*got \[0,4.5\]/],
    ["negative offset", buildFile({ a: f32([1], -4, 0) }, four), /tensor "a": data_offsets .*got \[-4,0\]/],
    ["offsets as strings", buildFile({ a: { dtype: "F32", shape: [1], data_offsets: ["0", "4"] } }, four), /tensor "a": data_offsets/],
    ["begin after end", buildFile({ a: f32([1], 8, 4) }, eight), /tensor "a": data_offsets begin 8 is after end 4/],
    ["end beyond the data buffer", buildFile({ a: f32([2], 0, 8) }, four), /tensor "a": data_offsets end 8 is beyond the data buffer of 4 bytes/],
    ["bytes not numel * 4", buildFile({ a: f32([3], 0, 8) }, eight), /tensor "a": data_offsets \[0, 8\] hold 8 bytes, but F32 shape \[3\] needs 12/],
    ["bytes not numel * 2", buildFile({ h: { dtype: "F16", shape: [2, 2], data_offsets: [0, 4] } }, four), /tensor "h": .*hold 4 bytes, but F16 shape \[2, 2\] needs 8/],
    ["huge shape", buildFile({ a: f32([2 ** 40, 2 ** 40], 0, 4) }, four), /tensor "a": .*hold 4 bytes/],
    ["overlapping tensors", buildFile({ a: f32([2], 0, 8), b: f32([2], 4, 12) }, twelve), /tensors "a" \[0, 8\] and "b" \[4, 12\] overlap/],
    ["overlap listed backwards", buildFile({ b: f32([2], 4, 12), a: f32([2], 0, 8) }, twelve), /tensors "a" \[0, 8\] and "b" \[4, 12\] overlap/],
    ["two tensors on the same bytes", buildFile({ a: f32([2], 0, 8), b: f32([2], 0, 8) }, eight), /"a" \[0, 8\] and "b" \[0, 8\] overlap/],
    ["empty tensor inside another", buildFile({ a: f32([2], 0, 8), z: f32([0], 4, 4) }, eight), /"a" \[0, 8\] and "z" \[4, 4\] overlap/],
    ["hole between tensors", buildFile({ a: f32([1], 0, 4), b: f32([1], 8, 12) }, twelve), /hole: bytes \[4, 8\) before tensor "b"/],
    ["hole at the start", buildFile({ a: f32([1], 4, 8) }, eight), /hole: bytes \[0, 4\) before tensor "a"/],
    ["trailing bytes", buildFile({ a: f32([1], 0, 4) }, concat(four, new Uint8Array(2))), /2 trailing bytes: tensors cover 4 of 6 bytes/],
    ["data with no tensors", buildFile({}, new Uint8Array(3)), /3 trailing bytes: tensors cover 0 of 3/],
    ["metadata value not a string", buildFile({ __metadata__: { epoch: 3 } }), /__metadata__ value "epoch" must be a string, got 3/],
    ["metadata value null", buildFile({ __metadata__: { note: null } }), /__metadata__ value "note" must be a string, got null/],
    ["metadata not an object", buildFile({ __metadata__: "pt" }), /__metadata__ must be an object of strings/],
    ["metadata an array", buildFile({ __metadata__: ["pt"] }), /__metadata__ must be an object of strings/],
  ];

  it.each(cases)("%s", (_, file, message) => {
    expectRnnError(() => loadSafetensors(file), "format", message);
  });
});

describe("loadSafetensors fuzz: only RnnError escapes", () => {
  const validFileArb = fc.tuple(tensorsArb, metadataArb).map(([t, m]) => saveSafetensors(t, m));

  it("refuses every truncation of a valid file", () => {
    fc.assert(
      fc.property(validFileArb, fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (file, cut) => {
        const truncated = file.subarray(0, Math.floor(cut * file.length));
        expect(() => loadSafetensors(truncated)).toThrowError(RnnError);
      }),
      { numRuns: 500 },
    );
  });

  it("parses or throws RnnError after random byte flips", () => {
    const flipsArb = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(validFileArb, flipsArb, (file, flips) => {
        const damaged = file.slice();
        for (const [at, mask] of flips) damaged[at % damaged.length] ^= mask;
        loadOrRnnError(damaged);
      }),
      { numRuns: 1000 },
    );
  });

  it("parses or throws RnnError for random headers of plausible and implausible entries", () => {
    const offsetArb = fc.integer({ min: -2, max: 40 });
    const entryArb = fc.record(
      {
        dtype: fc.oneof(fc.constantFrom("F32", "F16", "BF16", "F64", "I64", "toString"), fc.jsonValue()),
        shape: fc.oneof(fc.array(fc.integer({ min: -1, max: 4 }), { maxLength: 3 }), fc.jsonValue()),
        data_offsets: fc.oneof(fc.tuple(offsetArb, offsetArb), fc.jsonValue()),
      },
      { requiredKeys: [] },
    );
    const keyArb = fc.oneof(fc.constantFrom("__metadata__", "__proto__", "a", "b"), fc.string({ maxLength: 4 }));
    const headerArb = fc.oneof(fc.dictionary(keyArb, fc.oneof(entryArb, fc.jsonValue()), { maxKeys: 4 }), fc.jsonValue());
    fc.assert(
      fc.property(headerArb, fc.uint8Array({ maxLength: 48 }), (header, data) => {
        loadOrRnnError(buildFile(JSON.stringify(header) ?? "", data));
      }),
      { numRuns: 1000 },
    );
  });

  it("parses or throws RnnError for random bytes", () => {
    const lengthArb = fc.oneof(fc.nat({ max: 64 }), fc.constant(2 ** 60));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 96 }), lengthArb, fc.boolean(), (body, length, withLength) => {
        loadOrRnnError(withLength ? concat(u64(Math.min(length, body.length)), body) : body);
      }),
      { numRuns: 1000 },
    );
  });
});
