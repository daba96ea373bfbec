// cli/src/forecast/forecast.ts: multi-step forecasts and their errors.
//   recursive forecast: predict the next value from the last W (normalised) values, append the prediction to the
//                       history, repeat `horizon` times; with differencing over d steps the model predicts the
//                       change since d steps back, so the value is the (known or forecast) value d steps back
//                       plus the prediction
//   seasonal naive:     the value one season earlier, repeating the last observed season for steps beyond it:
//                       ŷ[n-1+h] = y[n-1+h - m·(k+1)], k = floor((h-1)/m), for history y[0..n), season m, h = 1..
//   errors:             RMSE = sqrt(mean (ŷ - y)²), MAE = mean |ŷ - y|, over the steps whose truth is known, computed
//                       on the errors divided by a power of two above the largest, so a series near 1e300 does not
//                       square to Infinity
import { CliError } from "../common.js";
import type { ForecastNetwork } from "./network.js";
import { checkModelSeries, denormalise, modelSeries, normalise, powerOfTwoAbove, type Normalisation } from "./series.js";

export interface ForecastModel {
  network: ForecastNetwork;
  window: number;
  /** Lag of the differences the model predicts; 0 for the values themselves. */
  difference: number;
  normalisation: Normalisation;
}

/** How many values of history a forecast needs: one window, plus the lag to difference. */
export function historyNeeded(m: Pick<ForecastModel, "window" | "difference">): number {
  return m.window + m.difference;
}

/**
 * `horizon` values after the end of `history` (at least historyNeeded(m) values), each predicted from the previous
 * predictions. The window the network first reads is checked as training checks its data (checkModelSeries), and a
 * forecast that overflows a double is refused; `what` names the data in those messages.
 */
export function recursiveForecast(m: ForecastModel, history: readonly number[], horizon: number, what = "the history"): number[] {
  const first = history.length - historyNeeded(m);
  const tail = history.slice(first); // the window's values and the lag before them: all the network reads
  const series = modelSeries(tail, m.difference);
  checkModelSeries(tail, series, m.difference, m.normalisation, what, first);
  const window = normalise(series, m.normalisation);
  const values = [...tail]; // grows with each forecast, which later steps difference against
  for (let h = 0; h < horizon; h++) {
    const next = m.network.next(window);
    if (!Number.isFinite(next)) {
      throw new CliError(`${what}: at step ${h + 1} of the forecast the network's output is ${next}: its weights overflow float32 on this data (a damaged or diverged model); train the model again`);
    }
    window.shift();
    window.push(next);
    const change = denormalise(next, m.normalisation);
    const value = m.difference ? values[values.length - m.difference] + change : change;
    if (!Number.isFinite(value)) {
      throw new CliError(`${what}: step ${h + 1} of the forecast is ${value} (the network's output ${next} times the model's standard deviation ` +
        `${m.normalisation.std}, plus ${m.difference ? "the value it changes from" : `its mean ${m.normalisation.mean}`}): the forecast leaves a double's range`);
    }
    values.push(value);
  }
  return values.slice(tail.length);
}

/** The seasonal-naive forecast of `horizon` steps after `history` (which must hold at least one season). */
export function seasonalNaive(history: readonly number[], season: number, horizon: number): number[] {
  const n = history.length;
  return Array.from({ length: horizon }, (_, k) => {
    const h = k + 1;
    return history[n - 1 + h - season * (Math.floor((h - 1) / season) + 1)];
  });
}

export interface Errors {
  rmse: number;
  mae: number;
  /** Steps compared: the shorter of the forecast and the truth. */
  steps: number;
}

export function forecastErrors(forecast: readonly number[], truth: readonly number[]): Errors {
  const steps = Math.min(forecast.length, truth.length);
  const errors = Array.from({ length: steps }, (_, i) => forecast[i] - truth[i]);
  const scale = powerOfTwoAbove(errors) || 1;
  let sq = 0, abs = 0;
  for (const error of errors) {
    const e = error / scale;
    sq += e * e;
    abs += Math.abs(e);
  }
  return { rmse: Math.sqrt(sq / steps) * scale, mae: (abs / steps) * scale, steps };
}
