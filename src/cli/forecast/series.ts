// src/cli/forecast/series.ts: from one numeric column to the windows a sequence-to-one model trains on.
//   differencing (lag d > 0): m[i] = s[i+d] - s[i]          the model learns the change over d steps, not the
//                                                           level, so a series with a trend stays in the range it
//                                                           saw (d = 1: month to month; d = 12: year on year)
//   normalisation:            z[i] = (m[i] - mean) / std    mean and std of the training part only
//   split by time:            targets m[W .. trainEnd) train, m[trainEnd .. N) validate (the last part, never shuffled in)
//   windows:                  input z[t-W .. t) -> target z[t]; a validation window's input may reach back into the
//                             training part: those values are the past, known when forecasting t
import { tensor, type Tensor } from "../../index.js";

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

/** Mean and (population) standard deviation of values[0, end); a constant part gets std 1 so nothing divides by 0. */
export function normalisationOf(values: readonly number[], end = values.length): Normalisation {
  let mean = 0;
  for (let i = 0; i < end; i++) mean += values[i];
  mean /= end;
  let sq = 0;
  for (let i = 0; i < end; i++) sq += (values[i] - mean) ** 2;
  const std = Math.sqrt(sq / end);
  return { mean, std: std > 0 ? std : 1 };
}

export function normalise(values: readonly number[], n: Normalisation): number[] {
  return values.map((v) => (v - n.mean) / n.std);
}

export function denormalise(z: number, n: Normalisation): number {
  return z * n.std + n.mean;
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

/** The last `fraction` of the targets (at least one when fraction > 0) validate; the rest train. */
export function splitByTime(length: number, window: number, fraction: number): TimeSplit {
  const validation = fraction > 0 ? Math.max(1, Math.round(length * fraction)) : 0;
  const trainEnd = length - validation;
  const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from) }, (_, k) => from + k);
  return { trainEnd, trainTargets: range(window, trainEnd), validationTargets: range(trainEnd, length) };
}

/**
 * The fewest rows of the column that leave at least one training window and, with a validation fraction, one
 * validation window: what "too few rows" errors quote.
 */
export function minimumRows(window: number, fraction: number, lag: number): number {
  for (let rows = window + 1; ; rows++) {
    const s = splitByTime(rows - lag, window, fraction);
    if (s.trainTargets.length >= 1 && (fraction === 0 || s.validationTargets.length >= 1)) return rows;
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
