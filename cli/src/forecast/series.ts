// cli/src/forecast/series.ts: from one numeric column to the windows a sequence-to-one model trains on.
//   differencing (lag d > 0): m[i] = s[i+d] - s[i]          the model learns the change over d steps, not the
//                                                           level, so a series with a trend stays in the range it
//                                                           saw (d = 1: month to month; d = 12: year on year)
//   normalisation:            z[i] = (m[i] - mean) / std    mean and std of the training part only, computed on the
//                                                           values divided by a power of two near their largest, so
//                                                           no sum or square overflows (the same bits as without the
//                                                           scaling wherever that neither overflows nor underflows)
//   split by time:            targets m[W .. trainEnd) train, m[trainEnd .. N) validate (the last part, never shuffled in)
//   windows:                  input z[t-W .. t) -> target z[t]; a validation window's input may reach back into the
//                             training part: those values are the past, known when forecasting t
import { tensor, type Tensor } from "rnn-wasm";
import { CliError } from "../common.js";

/** The largest float32. The network computes in float32, so every number it is given must lie within ±this. */
export const FLOAT32_MAX = 3.4028234663852886e38;
/**
 * Largest |z| a normalised value may have: its square (the squared error, Adam's second moment) stays a finite
 * float32. A value this many standard deviations from the training part's mean cannot be learnt from anyway.
 */
export const MAX_NORMALISED = Math.sqrt(FLOAT32_MAX);

export interface Normalisation {
  mean: number;
  std: number;
}

/** The series the model sees: the values themselves (lag 0), or their differences over `lag` steps (lag shorter). */
export function modelSeries(values: readonly number[], lag: number): number[] {
  if (lag === 0) return [...values];
  const out = new Array<number>(Math.max(0, values.length - lag));
  for (let i = 0; i < out.length; i++) out[i] = values[i + lag] - values[i];
  return out;
}

/**
 * 2^e with 2^e >= the largest |values[i]| for i < end (e at most 1023, the largest a double has), or 0 when they
 * are all 0: dividing by it is exact, and leaves every value within ±2, so sums and squares of them cannot overflow.
 */
export function powerOfTwoAbove(values: readonly number[], end = values.length): number {
  let largest = 0;
  for (let i = 0; i < end; i++) largest = Math.max(largest, Math.abs(values[i]));
  return largest > 0 ? 2 ** Math.min(1023, Math.ceil(Math.log2(largest))) : 0;
}

/**
 * Mean and (population) standard deviation of values[0, end); a constant part gets std 1 so nothing divides by 0.
 * Computed on values / 2^e with 2^e just above the largest |value| (at most 2^1023), so sums and squares stay
 * finite for any finite values (1e300, 1.7e308); dividing by a power of two is exact, so for values whose squares
 * neither overflow nor underflow the result is bit for bit the unscaled one.
 */
export function normalisationOf(values: readonly number[], end = values.length): Normalisation {
  const scale = powerOfTwoAbove(values, end);
  if (scale === 0) return { mean: 0, std: 1 }; // all zero (or nothing to measure)
  let mean = 0;
  for (let i = 0; i < end; i++) mean += values[i] / scale;
  mean /= end;
  let sq = 0;
  for (let i = 0; i < end; i++) sq += (values[i] / scale - mean) ** 2;
  const std = Math.sqrt(sq / end) * scale;
  return { mean: mean * scale, std: std > 0 ? std : 1 };
}

/**
 * (v - mean) / std, and z * std + mean. Where the plain formula overflows although its result does not (v and the
 * mean near ±1.7e308 with opposite signs), the terms are divided (or halved) first; elsewhere it is the plain formula,
 * bit for bit.
 */
export function zScore(v: number, n: Normalisation): number {
  const d = v - n.mean;
  return Number.isFinite(d) ? d / n.std : v / n.std - n.mean / n.std;
}

export function normalise(values: readonly number[], n: Normalisation): number[] {
  return values.map((v) => zScore(v, n));
}

export function denormalise(z: number, n: Normalisation): number {
  const v = z * n.std + n.mean;
  return Number.isFinite(v) ? v : 2 * (z * (n.std / 2) + n.mean / 2);
}

/** Which targets of the model series train and which validate. */
export interface TimeSplit {
  /** Index of the first validation target in the model series (its length when there is no validation). */
  trainEnd: number;
  /** Targets t of the training windows: window .. trainEnd - 1. */
  trainTargets: number[];
  /** Targets of the validation windows: trainEnd .. length - 1. */
  validationTargets: number[];
}

/** How many targets validate: the last `fraction` of a model series of `length` (at least one when fraction > 0). */
function validationCount(length: number, fraction: number): number {
  return fraction > 0 ? Math.max(1, Math.round(length * fraction)) : 0;
}

/** The last `fraction` of the targets (at least one when fraction > 0) validate; the rest train. */
export function splitByTime(length: number, window: number, fraction: number): TimeSplit {
  const trainEnd = length - validationCount(length, fraction);
  const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from) }, (_, k) => from + k);
  return { trainEnd, trainTargets: range(window, trainEnd), validationTargets: range(trainEnd, length) };
}

/**
 * The fewest rows of the column that leave at least one training window and, with a validation fraction, one
 * validation window: what "too few rows" errors quote. Arithmetic, not a count: `rows` fits when the model series
 * (rows - lag values) keeps trainEnd = L - v(L) >= window + 1 targets before its validation part; L - v(L) never
 * falls as L grows (v grows by at most one per step while fraction < 1), so a binary search finds the first L, in
 * at most about 60 steps whatever the sizes. `fraction` must be in [0, 1).
 */
export function minimumRows(window: number, fraction: number, lag: number): number {
  const fits = (length: number) => length - validationCount(length, fraction) >= window + 1;
  // fits(hi): L·(1 - fraction) - 1/2 >= window + 1 there, as round(L·fraction) <= L·fraction + 1/2 (and max(1, ·) only matters below)
  let lo = window, hi = Math.max(window + 2, Math.ceil((window + 2) / (1 - fraction)) + 1);
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (mid <= lo || mid >= hi) break; // past 2^53 neighbouring doubles lie more than 1 apart: hi is as close as a double gets
    if (fits(mid)) hi = mid;
    else lo = mid;
  }
  return hi + lag;
}

/**
 * Refuses (CliError) a model series the network could not compute with: a difference over `lag` steps that
 * overflows a double, or a value whose normalised form lies beyond ±MAX_NORMALISED (past float32's range, or with a
 * square past it). `series` is modelSeries(values, lag); `what` names the column ("column 'v' of 'data.csv'");
 * `values` starts at row firstRow + 1 of it (rows in messages count from 1).
 */
export function checkModelSeries(values: readonly number[], series: readonly number[], lag: number, n: Normalisation, what: string, firstRow = 0): void {
  const steps = `${lag} step${lag > 1 ? "s" : ""}`;
  // Every value first: an overflowing difference also makes the mean and std meaningless, so it is the one to report.
  for (let i = 0; i < series.length; i++) {
    if (!Number.isFinite(series[i])) {
      const row = firstRow + i + lag + 1;
      throw new CliError(lag
        ? `${what}, row ${row}: the change over ${steps} (${values[i + lag]} - ${values[i]}) overflows a double; use a smaller --difference or scale the values`
        : `${what}, row ${row}: ${values[i]} is not a finite number`);
    }
  }
  if (!(Number.isFinite(n.mean) && Number.isFinite(n.std) && n.std > 0)) {
    throw new CliError(`${what}: the mean (${n.mean}) or standard deviation (${n.std}) of the training part is not a finite number`);
  }
  for (let i = 0; i < series.length; i++) {
    const z = zScore(series[i], n);
    if (!(Math.abs(z) <= MAX_NORMALISED)) {
      const row = firstRow + i + lag + 1;
      const value = lag ? `the change over ${steps} there, ${series[i]},` : `${series[i]}`;
      throw new CliError(`${what}, row ${row}: ${value} normalises to ${z.toExponential(2)} (mean ${n.mean}, standard deviation ${n.std} of the training part), ` +
        `beyond the ±${MAX_NORMALISED.toExponential(2)} the network's float32 arithmetic can take: the column's values differ by too many orders of magnitude`);
    }
  }
}

/** The windows ending before `targets` as one batch: x [W, B, 1] (time-major, as the layers take it), y [B, 1]. */
export function windowBatch(z: readonly number[], targets: readonly number[], window: number): { x: Tensor; y: Tensor } {
  const B = targets.length;
  const x = tensor([window, B, 1]);
  const y = tensor([B, 1]);
  targets.forEach((t, b) => {
    for (let s = 0; s < window; s++) x.data[s * B + b] = z[t - window + s];
    y.data[b] = z[t];
  });
  return { x, y };
}
