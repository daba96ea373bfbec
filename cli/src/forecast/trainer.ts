// cli/src/forecast/trainer.ts: the training loop of a forecaster, for `rnn-wasm train` and `forecast-demo`.
// Per epoch: the training windows in a seeded random order, in batches of `batch`; each batch is
// forward (train) -> mseLoss -> backward -> clipGradNorm(clip) -> Adam step. Then the validation loss over all
// validation windows, in forwards of at most VALIDATION_CHUNK windows (so a long column's validation part does not
// become one enormous batch). Early stopping: after `patience` epochs without a better validation loss the
// loop ends, and the result holds the weights of the best epoch (of the last one without validation).
// Losses are MSE in normalised units (of the series, or of its differences). The same seed, data and engine give
// the same weights bit for bit: the layer's weights come from `seed`, the head's from seed + 1, the order of the
// windows from seed + 2, and nothing else is random.
import { Adam, clipGradNorm, mseLoss, RnnError, type Tensor } from "rnn-wasm";
import { mulberry32 } from "rnn-wasm";
import { CliError } from "../common.js";
import { ForecastNetwork, type Architecture } from "./network.js";
import { checkModelSeries, modelSeries, normalisationOf, normalise, splitByTime, windowBatch, type Normalisation } from "./series.js";

/** Most validation windows in one forward. Above the validation part of any column of a few thousand rows, so those run in one forward. */
export const VALIDATION_CHUNK = 1024;

export interface TrainSettings extends Architecture {
  window: number;
  epochs: number;
  lr: number;
  seed: number;
  batch: number;
  /** Stop after this many epochs without a better validation loss. */
  patience: number;
  /** Fraction of the (model) series, at its end, that validates; 0 for none. */
  validation: number;
  /** Largest total gradient 2-norm of a step. */
  clip: number;
  /** Train on the differences over this many steps (0: on the values). */
  difference: number;
}

export interface EpochReport {
  epoch: number;
  epochs: number;
  trainLoss: number;
  /** NaN without validation. */
  validationLoss: number;
  windowsPerSecond: number;
  /** The best validation loss so far (or this epoch, without validation). */
  best: boolean;
}

export interface TrainResult {
  /** The state_dict of the best epoch. */
  stateDict: Record<string, Tensor>;
  normalisation: Normalisation;
  history: { epoch: number; train: number; validation: number }[];
  bestEpoch: number;
  /** Whether patience ended training before `epochs`. */
  stoppedEarly: boolean;
  trainWindows: number;
  validationWindows: number;
  seconds: number;
}

/** Fisher-Yates with a seeded generator. */
function shuffle(items: number[], next: () => number): number[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/** Training that overflowed: the weights or the loss left the finite numbers. */
function diverged(epoch: number, s: TrainSettings): CliError {
  return new CliError(`training diverged in epoch ${epoch} (the loss or a gradient became NaN or Infinity): lower --lr (now ${s.lr}) or --clip (now ${s.clip})`);
}

/** MSE over `targets`' windows, in forwards of at most VALIDATION_CHUNK windows (one forward, one loss, for fewer). */
function validationLoss(network: ForecastNetwork, z: readonly number[], targets: readonly number[], window: number): number {
  let sum = 0;
  for (let from = 0; from < targets.length; from += VALIDATION_CHUNK) {
    const chunk = targets.slice(from, from + VALIDATION_CHUNK);
    const { x, y } = windowBatch(z, chunk, window);
    const loss = mseLoss(network.model.forward(x), y).loss;
    if (chunk.length === targets.length) return loss;
    sum += loss * chunk.length;
  }
  return sum / targets.length;
}

/**
 * Trains a forecaster on `values` (the whole column: the split happens here). The caller has checked there are
 * enough values (minimumRows) and has loaded the wasm (init()). `onEpoch` sees every epoch as it ends. Values the
 * float32 network cannot take (checkModelSeries) are refused before the network is built; `what` names the column
 * in that message.
 */
export function trainForecaster(values: readonly number[], s: TrainSettings, onEpoch: (r: EpochReport) => void = () => {}, what = "the series"): TrainResult {
  const series = modelSeries(values, s.difference);
  const split = splitByTime(series.length, s.window, s.validation);
  const normalisation = normalisationOf(series, split.trainEnd);
  checkModelSeries(values, series, s.difference, normalisation, what);
  const z = normalise(series, normalisation);
  const hasValidation = split.validationTargets.length > 0;

  const network = ForecastNetwork.create(s, s.seed);
  const optimizer = new Adam(network.model, { lr: s.lr });
  const order = mulberry32(s.seed + 2);
  const history: TrainResult["history"] = [];
  let best = { loss: Infinity, epoch: 0, stateDict: network.stateDict() };
  let stoppedEarly = false;
  const started = performance.now();
  try {
    for (let epoch = 1; epoch <= s.epochs; epoch++) {
      const epochStarted = performance.now();
      const targets = shuffle([...split.trainTargets], order);
      let sum = 0;
      for (let from = 0; from < targets.length; from += s.batch) {
        const batch = targets.slice(from, from + s.batch);
        const { x, y } = windowBatch(z, batch, s.window);
        let loss: number;
        try {
          optimizer.zeroGrad();
          const prediction = network.model.forward(x, { train: true });
          const result = mseLoss(prediction, y);
          loss = result.loss;
          network.model.backward(result.grad); // refuses a non-finite gradient (the library's default NaN policy)
          clipGradNorm(network.model, s.clip);
          optimizer.step();
        } catch (e) {
          if (e instanceof RnnError && e.code === "nonfinite") throw diverged(epoch, s);
          throw e;
        }
        if (!Number.isFinite(loss)) throw diverged(epoch, s);
        sum += loss * batch.length; // so the epoch's loss is the mean over windows, whatever the last batch's size
      }
      const trainLoss = sum / targets.length;
      const windowsPerSecond = targets.length / ((performance.now() - epochStarted) / 1000);
      const validation = hasValidation ? validationLoss(network, z, split.validationTargets, s.window) : NaN;
      if (hasValidation && !Number.isFinite(validation)) throw diverged(epoch, s);
      const score = hasValidation ? validation : trainLoss;
      const improved = score < best.loss;
      if (improved || !hasValidation) best = { loss: score, epoch, stateDict: network.stateDict() };
      history.push({ epoch, train: trainLoss, validation });
      onEpoch({ epoch, epochs: s.epochs, trainLoss, validationLoss: validation, windowsPerSecond, best: improved });
      if (hasValidation && epoch - best.epoch >= s.patience && epoch < s.epochs) {
        stoppedEarly = true;
        break;
      }
    }
  } finally {
    optimizer.dispose();
    network.dispose();
  }
  return {
    stateDict: best.stateDict,
    normalisation,
    history,
    bestEpoch: best.epoch,
    stoppedEarly,
    trainWindows: split.trainTargets.length,
    validationWindows: split.validationTargets.length,
    seconds: (performance.now() - started) / 1000,
  };
}
