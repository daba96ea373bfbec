// cli/test/robustness.test.ts: the command-line findings of issue 10, in-process (no binary spawned):
//   atomic writes     writeOutputFiles with a failing write, fsync or rename injected: the old file survives
//                     byte for byte, no temporary file is left, the message names the file; checkOutputs refuses
//                     a bad path before any work
//   bounds            minimumRows is arithmetic (a window of 1e9 or a lag of 1e12 answers at once, and agrees with
//                     the loop it replaces); --hidden, --layers, --horizon, --seed refuse absurd values naming the
//                     limit; parameterCount is what the library allocates; a step's activations are bounded
//   huge values       normalisation stays finite (and bit for bit the unscaled one on ordinary data); 1e300 and
//                     1.7e308 train as their ordinary-sized copies do; values float32 cannot take are refused,
//                     naming the column and row, in train and in predict
//   head tensors      a head.weight or head.bias of the wrong shape is reported under its own name
//   input files       a CSV that is not UTF-8 names its line; a huge cell is quoted cut short
//   hostile columns   fast-check: random series with values up to ±1.7e308 and random small settings either train
//                     and forecast finite numbers or are refused with a CliError naming the column (300 cases, ~1 s)
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, lstatSync, statSync, writeFileSync } from "node:fs";
import { isUtf8 } from "node:buffer";
import { PassThrough } from "node:stream";
import { join } from "node:path";
import fc from "fast-check";
import { InvalidArgumentError } from "commander";
import { beforeAll, describe, expect, it } from "vitest";
import { init, RnnError } from "rnn-wasm";
import { CliError, NODE_IO, UsageError, checkOutputs, positiveInt, writeOutputFiles, type WriteIo } from "../src/common.js";
import { firstInvalidUtf8, numericColumn, quoteCell, readCsv } from "../src/csv.js";
import { forecastErrors, recursiveForecast } from "../src/forecast/forecast.js";
import { forecasterFileBytes, readForecasterFile } from "../src/forecast/model-file.js";
import { ForecastNetwork, parameterCount } from "../src/forecast/network.js";
import { formatter } from "../src/forecast/report.js";
import { checkModelSeries, denormalise, zScore, FLOAT32_MAX, MAX_NORMALISED, minimumRows, modelSeries, normalisationOf, splitByTime } from "../src/forecast/series.js";
import { trainForecaster, type TrainSettings } from "../src/forecast/trainer.js";
import { nonNegativeInt, positiveIntUpTo, seedValue } from "../src/option-values.js";
import { MAX_HORIZON } from "../src/predict.js";
import { makeReport } from "../src/forecast/report.js";
import { MAX_HIDDEN, MAX_LAYERS, MAX_PARAMETERS, checkSize, trainAndRender, trainAndSave } from "../src/train.js";
import { seasonalSeries } from "./forecast-helpers.js";
import { tempDir } from "./helpers.js";

let dir: string;
beforeAll(async () => {
  dir = tempDir();
  await init();
});

/** Training progress lines, read and dropped. */
const quiet = new PassThrough().resume();

/** The files in `d` whose names mark them as our temporary files. */
const temps = (d: string) => readdirSync(d).filter((n) => n.endsWith(".tmp"));

/** node:fs, with one call replaced by one that throws `code` (after doing `partial` of its work, for writeSync). */
function failing(call: keyof WriteIo, code: string, partial = false): WriteIo {
  const error = Object.assign(new Error(`${code}: injected`), { code });
  return {
    ...NODE_IO,
    [call]: (...args: unknown[]) => {
      if (call === "writeSync" && partial) {
        const [fd, data, offset, length] = args as [number, Uint8Array, number, number];
        NODE_IO.writeSync(fd, data, offset, Math.floor(length / 2)); // half of it reaches the disk, then the disk is full
      }
      throw error;
    },
  };
}

describe("writeOutputFiles: every file or none, never a truncated one", () => {
  it("writes the bytes and leaves no temporary file", () => {
    const path = join(dir, "plain.bin");
    writeOutputFiles([{ path, role: "model file", data: new Uint8Array([1, 2, 3]) }, { path: join(dir, "plain.svg"), role: "chart", data: "<svg/>" }]);
    expect([...readFileSync(path)]).toEqual([1, 2, 3]);
    expect(readFileSync(join(dir, "plain.svg"), "utf8")).toBe("<svg/>");
    expect(temps(dir)).toEqual([]);
  });

  it.each([
    ["writeSync", "ENOSPC", true, /cannot write model file '.*model\.safetensors': no space left on the device; the existing file is unchanged/],
    ["fsyncSync", "EIO", false, /cannot write model file '.*model\.safetensors': EIO: injected; the existing file is unchanged/],
    ["openSync", "EACCES", false, /cannot write model file '.*model\.safetensors': permission denied in '.*'; the existing file is unchanged/],
    ["renameSync", "EXDEV", false, /cannot write model file '.*model\.safetensors': EXDEV: injected/],
    ["closeSync", "EIO", false, /cannot write model file '.*model\.safetensors': EIO: injected/],
  ] as const)("a failing %s (%s): the existing model survives byte for byte, no temporary file is left", (call, code, partial, message) => {
    const d = join(dir, `fail-${call}`);
    mkdirSync(d);
    const path = join(d, "model.safetensors");
    const old = new Uint8Array(1000).map((_, i) => i % 251);
    writeFileSync(path, old);
    const next = new Uint8Array(5000).fill(7);
    const write = () => writeOutputFiles([{ path, role: "model file", data: next }], failing(call, code, partial));
    expect(write).toThrow(CliError);
    expect(write).toThrow(message);
    expect(Buffer.compare(readFileSync(path), old)).toBe(0);
    expect(temps(d)).toEqual([]);
  });

  it("two files, the second fails: neither target changes (the first was written only to a temporary file)", () => {
    const d = join(dir, "pair");
    mkdirSync(d);
    const model = join(d, "m.safetensors"), chart = join(d, "loss.svg");
    writeFileSync(model, "old model");
    let opens = 0;
    const full = failing("openSync", "ENOSPC");
    const io: WriteIo = { ...NODE_IO, openSync: (p, f) => (++opens === 2 ? full.openSync(p, f) : NODE_IO.openSync(p, f)) };
    expect(() => writeOutputFiles([{ path: model, role: "model file", data: "new model" }, { path: chart, role: "loss chart", data: "<svg/>" }], io))
      .toThrow(/cannot write loss chart '.*loss\.svg': no space left on the device; nothing was written/);
    expect(readFileSync(model, "utf8")).toBe("old model");
    expect(existsSync(chart)).toBe(false);
    expect(temps(d)).toEqual([]);
  });

  it("a target that is a directory, or a parent that is a file: a CliError naming the path, nothing left behind", () => {
    const d = join(dir, "kinds");
    mkdirSync(join(d, "sub"), { recursive: true });
    writeFileSync(join(d, "file"), "x");
    expect(() => writeOutputFiles([{ path: join(d, "sub"), role: "model file", data: "m" }])).toThrow(/cannot write model file '.*sub': it is a directory/);
    expect(() => writeOutputFiles([{ path: join(d, "file", "m.safetensors"), role: "model file", data: "m" }])).toThrow(/cannot write model file '.*file\/m\.safetensors': '.*file' is not a directory/);
    expect(temps(d)).toEqual([]);
    expect(statSync(join(d, "sub")).isDirectory()).toBe(true);
  });

  it("a symbolic link stays a link, and the file it points to is replaced; a device is written in place", () => {
    const d = join(dir, "links");
    mkdirSync(d);
    writeFileSync(join(d, "real.svg"), "old");
    symlinkSync(join(d, "real.svg"), join(d, "link.svg"));
    writeOutputFiles([{ path: join(d, "link.svg"), role: "chart", data: "new" }]);
    expect(lstatSync(join(d, "link.svg")).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(d, "real.svg"), "utf8")).toBe("new");
    writeOutputFiles([{ path: "/dev/null", role: "chart", data: "discarded" }]);
    expect(statSync("/dev/null").isCharacterDevice()).toBe(true); // not renamed over
  });
});

describe("checkOutputs: a path that cannot be written fails before any work", () => {
  const model = (path: string) => ({ path, role: "model file", option: "--out" });

  it("refuses an empty path (usage), a directory, a path ending in '/', a missing directory, a parent that is a file", () => {
    writeFileSync(join(dir, "a-file"), "x");
    expect(() => checkOutputs([model("")])).toThrow(UsageError);
    expect(() => checkOutputs([model("")])).toThrow(/--out is empty: name the model file to write/);
    expect(() => checkOutputs([model(dir)])).toThrow(/cannot write model file '.*': it is a directory/);
    expect(() => checkOutputs([model(join(dir, "x") + "/")])).toThrow(/ends with a '\/', so it names a directory/);
    expect(() => checkOutputs([model(join(dir, "nope", "m.safetensors"))])).toThrow(/directory '.*nope' does not exist/);
    expect(() => checkOutputs([model(join(dir, "a-file", "m.safetensors"))])).toThrow(/'.*a-file' is not a directory/);
    expect(temps(dir)).toEqual([]);
  });

  it("refuses two outputs naming one file, and an output naming an input (usage)", () => {
    const m = join(dir, "same.safetensors");
    expect(() => checkOutputs([model(m), { path: m, role: "loss chart", option: "--chart" }])).toThrow(/--chart and --out name the same file/);
    const csv = join(dir, "in.csv");
    writeFileSync(csv, "v\n1\n");
    expect(() => checkOutputs([model(csv)], [{ path: csv, option: "--data" }])).toThrow(/--out and --data name the same file/);
    expect(() => checkOutputs([model(m)], [{ path: csv, option: "--data" }])).not.toThrow();
    expect(existsSync(m)).toBe(false); // the check leaves nothing behind
  });
});

describe("bounds that come from the data, computed, not counted", () => {
  /** The loop minimumRows used to be: the first row count whose split leaves the windows it needs. */
  function minimumRowsByCounting(window: number, fraction: number, lag: number): number {
    for (let rows = window + 1; ; rows++) {
      const s = splitByTime(rows - lag, window, fraction);
      if (s.trainTargets.length >= 1 && (fraction === 0 || s.validationTargets.length >= 1)) return rows;
    }
  }

  it("minimumRows agrees with the loop it replaces on every small case", () => {
    for (const fraction of [0, 0.001, 0.05, 0.1, 0.25, 0.3, 1 / 3, 0.49, 0.5]) {
      for (let window = 1; window <= 40; window++) {
        for (const lag of [0, 1, 2, 7, 12]) expect(minimumRows(window, fraction, lag), `${window} ${fraction} ${lag}`).toBe(minimumRowsByCounting(window, fraction, lag));
      }
    }
  });

  it("minimumRows answers for a window of 1e9 and a lag of 1e12 without counting up to them", () => {
    const rows = minimumRows(1e9, 0.1, 0);
    const fits = (n: number) => n - Math.max(1, Math.round(n * 0.1)) >= 1e9 + 1;
    expect(fits(rows) && !fits(rows - 1)).toBe(true);
    expect(rows).toBe(1_111_111_112);
    expect(minimumRows(24, 0.1, 1e12)).toBe(1e12 + 28);
    expect(Number.isFinite(minimumRows(2 ** 52, 0.5, 2 ** 52))).toBe(true);
  });

  it("train refuses --window 1e9 and --difference 1e12 on 200 rows with the count it needs, before building anything", async () => {
    const values = seasonalSeries(200);
    const settings = { ...SMALL, window: 1e9 };
    await expect(trainAndSave(values, settings, { column: "v", data: "d.csv" }, quiet)).rejects.toThrow(/has 200 values; --window 1000000000 with --validation 0\.1 needs at least 1,111,111,112/);
    await expect(trainAndSave(values, { ...SMALL, difference: 1e12 }, { column: "v", data: "d.csv" }, quiet)).rejects.toThrow(/--difference 1000000000000 .*needs at least 1,000,000,000,0\d\d: use a shorter --window or --difference/);
  });

  it("train refuses a training step whose activations would pass 2 GiB (usage), counting only the windows there are", async () => {
    const values = seasonalSeries(20_000);
    await expect(trainAndSave(values, { ...SMALL, window: 5000, hidden: 1024, batch: 4096 }, { column: "v", data: "d.csv" }, quiet))
      .rejects.toThrow(/a training step with --window 5000, 4,096 windows at once \(--batch 4096\), --hidden 1024 and --layers 1 would hold about [\d,]+ float32 activations; the most is 536,870,912/);
    // --batch 1e9 on 200 rows is 168 windows at once: allowed (train-limits.test.ts trains with it)
  });

  it("option limits: --hidden, --layers, --horizon, --seed name their limit; integers stop at 2^53", () => {
    const hidden = positiveIntUpTo(MAX_HIDDEN);
    expect(hidden("1024")).toBe(1024);
    for (const v of ["100000", "1e9", "1e308", "Infinity"]) expect(() => hidden(v)).toThrow(v === "Infinity" ? "expected a positive integer." : "expected a positive integer up to 1,024.");
    expect(() => positiveIntUpTo(MAX_LAYERS)("100000")).toThrow("up to 16.");
    expect(() => positiveIntUpTo(MAX_HORIZON)("1e9")).toThrow("up to 100,000.");
    expect(positiveIntUpTo(MAX_HORIZON)("1e5")).toBe(100_000);
    for (const v of ["1e308", "9007199254740992", "NaN", "", " "]) {
      expect(() => positiveInt(v), v).toThrow(InvalidArgumentError);
      expect(() => nonNegativeInt(v), v).toThrow(InvalidArgumentError);
    }
    expect(positiveInt("1e9")).toBe(1e9); // --epochs 1e9 is legitimate (and Ctrl-C ends it: train-limits.test.ts)
    expect(seedValue("4294967295")).toBe(4294967295);
    expect(() => seedValue("4294967296")).toThrow("expected a whole number from 0 to 4294967295.");
  });

  it("--hidden and --layers within their limits but too big together: a usage error naming both and the limit", () => {
    expect(() => checkSize({ kind: "lstm", hidden: 1024, layers: 16 })).toThrow(UsageError);
    expect(() => checkSize({ kind: "lstm", hidden: 1024, layers: 16 })).toThrow(/--hidden 1024 with --layers 16 makes an LSTM of 130,159,617 parameters; train takes at most 16,777,216: lower --hidden or --layers/);
    expect(() => checkSize({ kind: "lstm", hidden: 1024, layers: 1 })).not.toThrow();
    expect(() => checkSize({ kind: "lstm", hidden: 256, layers: 16 })).not.toThrow();
    expect(parameterCount({ kind: "lstm", hidden: 1024, layers: 3 })).toBeGreaterThan(MAX_PARAMETERS);
  });

  it.each(["lstm", "gru", "rnn"] as const)("parameterCount is what the %s network holds", (kind) => {
    const network = ForecastNetwork.create({ kind, hidden: 5, layers: 3 }, 1);
    const held = Object.values(network.stateDict()).reduce((n, t) => n + t.data.length, 0);
    network.dispose();
    expect(parameterCount({ kind, hidden: 5, layers: 3 })).toBe(held);
  });

  it("a forecast of MAX_HORIZON steps is formatted without passing every value as an argument", () => {
    const values = Array.from({ length: 2 * MAX_HORIZON + 1 }, (_, i) => i / 7);
    expect(formatter(values)(1.23456)).toBe("1.2");
  });
});

const SMALL: TrainSettings = { kind: "lstm", hidden: 8, layers: 1, window: 12, difference: 0, epochs: 3, lr: 0.01, seed: 1, batch: 32, patience: 20, validation: 0.1, clip: 1 };

describe("values near the ends of the doubles", () => {
  it("normalisationOf is bit for bit the plain formula on ordinary data (where the plain squares neither overflow nor underflow)", () => {
    const ordinary = fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((x) => (Math.abs(x) < 1e-100 ? 0 : x));
    fc.assert(fc.property(fc.array(ordinary, { minLength: 1, maxLength: 50 }), (v) => {
      let mean = 0;
      for (const x of v) mean += x;
      mean /= v.length;
      let sq = 0;
      for (const x of v) sq += (x - mean) ** 2;
      const std = Math.sqrt(sq / v.length);
      expect(normalisationOf(v)).toEqual({ mean, std: std > 0 ? std : 1 });
    }), { numRuns: 300 });
  });

  it("normalisationOf stays finite at 1e300 and 1.7e308 (it was Infinity: the squares overflowed)", () => {
    const base = seasonalSeries(100);
    const plain = normalisationOf(base);
    for (const scale of [1e300, 1.7e308 / 60]) {
      const n = normalisationOf(base.map((v) => v * scale));
      expect(n.mean / scale).toBeCloseTo(plain.mean, 10);
      expect(n.std / scale).toBeCloseTo(plain.std, 10);
    }
    const n = normalisationOf([1.7e308, -1.7e308, 1.7e308, -1.7e308]);
    expect(n).toEqual({ mean: 0, std: 1.7e308 });
    expect(normalisationOf([0, 0, 0])).toEqual({ mean: 0, std: 1 });
    const tiny = normalisationOf([5e-324, 1e-320, 0]); // subnormals: the scale is below 1, still a power of two
    expect(Number.isFinite(tiny.mean) && tiny.std > 0).toBe(true);
  });

  it("a series at 1e300 (and near 1.7e308) trains exactly as the same series at ordinary size does", () => {
    const base = seasonalSeries(120);
    const plain = trainForecaster(base, SMALL);
    for (const scale of [1e300, 1.6e308 / Math.max(...base)]) {
      const big = trainForecaster(base.map((v) => v * scale), SMALL, undefined, "column 'v'");
      expect(Number.isFinite(big.normalisation.std) && Number.isFinite(big.normalisation.mean)).toBe(true);
      big.history.forEach((h, k) => {
        expect(Math.abs(h.train - plain.history[k].train), `epoch ${k + 1}`).toBeLessThan(1e-5);
        expect(Math.abs(h.validation - plain.history[k].validation), `epoch ${k + 1}`).toBeLessThan(1e-5);
      });
    }
  });

  it("zScore and denormalise stay finite where only an intermediate would overflow", () => {
    const n = { mean: -1.7e308, std: 1.7e308 };
    expect(zScore(1.7e308, n)).toBe(2);
    expect(denormalise(2, n)).toBe(1.7e308);
    expect(zScore(7, { mean: 3, std: 2 })).toBe(2); // the plain formula elsewhere
  });

  it("refuses differences that overflow a double, naming the column, the row and the values", () => {
    const values = Array.from({ length: 40 }, (_, i) => (i % 2 ? 1.7e308 : -1.7e308));
    expect(() => trainForecaster(values, { ...SMALL, difference: 1 }, undefined, "column 'v' of 'd.csv'"))
      .toThrow(/column 'v' of 'd\.csv', row 2: the change over 1 step \(1\.7e\+308 - -1\.7e\+308\) overflows a double/);
  });

  it("refuses a value float32 cannot take once normalised (a constant training part, then 1e39), naming its row", () => {
    const values = [...Array(36).fill(5), 1e39, 5, 5, 5];
    expect(() => trainForecaster(values, SMALL, undefined, "column 'v' of 'd.csv'"))
      .toThrow(/column 'v' of 'd\.csv', row 37: 1e\+39 normalises to 1\.00e\+39 \(mean 5, standard deviation 1 of the training part\), beyond the ±1\.84e\+19/);
    expect(MAX_NORMALISED ** 2).toBeLessThanOrEqual(FLOAT32_MAX * (1 + 1e-15));
    const ok = [1, 2, 3, 4];
    expect(() => checkModelSeries(ok, modelSeries(ok, 0), 0, normalisationOf(ok), "c")).not.toThrow();
  });

  it("predict: data far outside the model's training scale is refused with its row, not passed to the network as Infinity", () => {
    const network = { next: () => 0 } as unknown as ForecastNetwork;
    const history = [...seasonalSeries(30), 1e300];
    expect(() => recursiveForecast({ network, window: 4, difference: 0, normalisation: { mean: 50, std: 2 } }, history, 3, "column 'v' of 'x.csv'"))
      .toThrow(/column 'v' of 'x\.csv', row 31: 1e\+300 normalises to 5\.00e\+299/);
  });

  it("predict: a forecast that overflows a double is refused, not printed as Infinity", () => {
    const network = { next: () => 10 } as unknown as ForecastNetwork;
    expect(() => recursiveForecast({ network, window: 2, difference: 0, normalisation: { mean: 0, std: 1e308 } }, [1e308, -1e308, 1e308], 2, "column 'v'"))
      .toThrow(/column 'v': step 1 of the forecast is Infinity .*leaves a double's range/);
  });

  it("predict: a network output that overflows float32 is blamed on the model, not on the data", () => {
    const network = { next: () => -Infinity } as unknown as ForecastNetwork;
    expect(() => recursiveForecast({ network, window: 2, difference: 0, normalisation: { mean: 0, std: 1 } }, [1, 2, 3], 2, "column 'v'"))
      .toThrow("column 'v': at step 1 of the forecast the network's output is -Infinity: its weights overflow float32 on this data");
  });

  it("predict: a forecaster with a NaN weight says so without the API's advice (predict has no nanPolicy)", () => {
    const n = ForecastNetwork.create({ kind: "lstm", hidden: 4, layers: 1 }, 1);
    const d = n.stateDict();
    n.dispose();
    d["head.weight"].data[2] = NaN;
    const info = { kind: "lstm", window: 3, column: "v", difference: 0, normalisation: { mean: 0, std: 1 }, trainOptions: {}, training: {}, producer: "test" } as const;
    const path = join(dir, "nan-head.safetensors");
    writeFileSync(path, forecasterFileBytes(d, info));
    expect(() => readForecasterFile(path)).toThrow(/^model file '.*nan-head\.safetensors': head\.weight holds NaN at flat index 2; a forecaster's weights must be finite numbers: train the model again$/);
  });

  it("forecast errors of a series near 1e300 stay finite", () => {
    const e = forecastErrors([3e300, 1e300], [1e300, 3e300]);
    expect(e.rmse / 1e300).toBeCloseTo(2, 12);
    expect(e.mae / 1e300).toBeCloseTo(2, 12);
  });
});

describe("hostile columns (fast-check)", () => {
  const value = fc.oneof(
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer({ min: -5, max: 5 }),
    fc.constantFrom(0, 1e300, -1.7e308, 1.7e308, 5e-324, 3.4e38, -3.5e38),
  );
  const settings = fc.record({
    kind: fc.constantFrom("lstm", "gru", "rnn"), hidden: fc.integer({ min: 1, max: 4 }), layers: fc.integer({ min: 1, max: 2 }),
    window: fc.integer({ min: 1, max: 6 }), difference: fc.integer({ min: 0, max: 4 }), batch: fc.integer({ min: 1, max: 64 }),
    validation: fc.constantFrom(0, 0.001, 0.1, 0.5), seed: fc.nat(),
  }).map((r) => ({ ...SMALL, ...r, epochs: 1, lr: 0.003, clip: 1 }) as TrainSettings);

  it("train and predict either work or refuse with a CliError naming the column; with the default --lr and --clip, never 'diverged'", async () => {
    let trained = 0;
    await fc.assert(fc.asyncProperty(fc.array(value, { minLength: 10, maxLength: 60 }), settings, async (values, s) => {
      try {
        const o = await trainAndRender(values, s, { column: "v", data: "d.csv" }, quiet);
        trained++;
        const network = ForecastNetwork.load(o.result.stateDict, s.kind);
        try {
          const r = makeReport({ network, window: s.window, difference: s.difference, normalisation: o.result.normalisation }, values, { horizon: 5, holdout: 2, season: 2 }, "column 'v'");
          expect(r.forecast.every(Number.isFinite)).toBe(true);
        } catch (e) {
          if (!(e instanceof CliError)) throw e;
        } finally {
          network.dispose();
        }
      } catch (e) {
        if (!(e instanceof CliError)) throw e;
        expect(e.message).toMatch(/^column 'v' of 'd\.csv'/);
      }
    }), { numRuns: 300 });
    expect(trained).toBeGreaterThan(100); // the generator reaches training, not only refusals
  });
});

describe("a forecaster's head tensors are named when they do not fit", () => {
  const stateDict = () => {
    const n = ForecastNetwork.create({ kind: "lstm", hidden: 8, layers: 1 }, 1);
    const d = n.stateDict();
    n.dispose();
    return d;
  };

  it("head.weight [2, 8] is reported as head.weight (it was blamed on head.bias)", () => {
    const d = { ...stateDict(), "head.weight": { shape: [2, 8], data: new Float32Array(16) } };
    expect(() => ForecastNetwork.load(d, "lstm")).toThrow(RnnError);
    expect(() => ForecastNetwork.load(d, "lstm")).toThrow("'head.weight' has shape [2, 8], expected [1, 8]");
  });

  it("head.weight [1, 5] for hidden 8, head.bias [2], a missing head.bias", () => {
    expect(() => ForecastNetwork.load({ ...stateDict(), "head.weight": { shape: [1, 5], data: new Float32Array(5) } }, "lstm")).toThrow("'head.weight' has shape [1, 5], expected [1, 8]");
    expect(() => ForecastNetwork.load({ ...stateDict(), "head.bias": { shape: [2], data: new Float32Array(2) } }, "lstm")).toThrow("'head.bias' has shape [2], expected [1]");
    const { "head.bias": _, ...noBias } = stateDict();
    expect(() => ForecastNetwork.load(noBias, "lstm")).toThrow("missing tensor 'head.bias' [1]");
    ForecastNetwork.load(stateDict(), "lstm").dispose(); // and the right shapes load
  });
});

describe("input files", () => {
  it("a CSV that is not UTF-8 is refused with the line of the first bad byte", () => {
    const path = join(dir, "latin1.csv");
    writeFileSync(path, Buffer.concat([Buffer.from("t,v\n1,2\n"), Buffer.from("temp\xe9rature,3\n", "latin1")]));
    expect(() => readCsv(path)).toThrow(/data file '.*latin1\.csv', line 3: byte 0xe9 at offset 12 is not UTF-8 text; save the file as UTF-8/);
    writeFileSync(path, "\ufefft,v\n1,é\n"); // a byte order mark and UTF-8 text are fine
    expect(readCsv(path).columns).toEqual(["t", "v"]);
  });

  it("firstInvalidUtf8 agrees with Node's validator, and everything before it decodes", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), fc.string({ unit: "grapheme", maxLength: 10 }), (junk, text) => {
      const bytes = Buffer.concat([Buffer.from(text), junk]);
      const at = firstInvalidUtf8(bytes);
      expect(at === bytes.length).toBe(isUtf8(bytes));
      expect(isUtf8(bytes.subarray(0, at))).toBe(true);
    }), { numRuns: 2000 });
  });

  it("a huge cell is quoted cut short, and a number past a double's range says so", () => {
    const table = { path: "d.csv", columns: ["v"], records: [{ fields: ["9".repeat(400)], line: 2 }] };
    expect(() => numericColumn(table, "v")).toThrow(/line 2: column 'v' is '9{40}\.\.\.' \(400 characters\), beyond the largest number a double holds/);
    expect(() => numericColumn({ ...table, records: [{ fields: ["-Infinity"], line: 2 }] }, "v")).toThrow(/is '-Infinity', not a finite number/);
    expect(quoteCell("x".repeat(41))).toBe(`'${"x".repeat(40)}...' (41 characters)`);
  });
});
