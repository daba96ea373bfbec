// src/cli/forecast/forecast.ts: multi-step forecasts and their errors.
//   recursive forecast: predict the next value from the last W (normalised) values, append the prediction to the
//                       history, repeat `horizon` times; with differencing over d steps the model predicts the
//                       change since d steps back, so the value is the (known or forecast) value d steps back
//                       plus the prediction
//   seasonal naive:     the value one season earlier, repeating the last observed season for steps beyond it:
//                       ŷ[n-1+h] = y[n-1+h - m·(k+1)], k = floor((h-1)/m), for history y[0..n), season m, h = 1..
//   errors:             RMSE = sqrt(mean (ŷ - y)²), MAE = mean |ŷ - y|, over the steps whose truth is known
import type { ForecastNetwork } from "./network.js";
import { denormalise, modelSeries, normalise, type Normalisation } from "./series.js";

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

/** `horizon` values after the end of `history`, each predicted from the previous predictions. */
export function recursiveForecast(m: ForecastModel, history: readonly number[], horizon: number): number[] {
  const z = normalise(modelSeries(history, m.difference), m.normalisation);
  const window = z.slice(z.length - m.window);
  const values = [...history]; // grows with each forecast, which later steps difference against
  for (let h = 0; h < horizon; h++) {
    const next = m.network.next(window);
    window.shift();
    window.push(next);
    const change = denormalise(next, m.normalisation);
    values.push(m.difference ? values[values.length - m.difference] + change : change);
  }
  return values.slice(history.length);
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
  let sq = 0, abs = 0;
  for (let i = 0; i < steps; i++) {
    const e = forecast[i] - truth[i];
    sq += e * e;
    abs += Math.abs(e);
  }
  return { rmse: Math.sqrt(sq / steps), mae: abs / steps, steps };
}
