// cli/src/train.ts: `rnn-wasm train`: a sequence-to-one forecaster on one numeric column of a CSV file.
//   windows of `window` past values -> LSTM/GRU/RNN -> last step -> Linear(hidden -> 1) -> the next value
// trained with MSE, Adam and gradient clipping on the first part of the series, validated on the last part
// (split by time), stopped early when the validation loss stops improving, and saved with the best weights and
// everything `predict` needs (network.ts and model-file.ts describe the file). trainAndSave() is the whole job
// without the command line; trainAndRender() is the same without the writing, so `forecast-demo` trains through the
// same code and writes its own chart together with the model.
// Before the first epoch: the output paths are checked (checkOutputs), the sizes are checked against the data and
// against fixed limits (checkData, checkSize: arithmetic on the options, nothing built), and the column against what
// float32 can hold (checkModelSeries). After the last: the model and the chart are rendered in memory and written
// together by writeOutputFiles, so a failure leaves every output file as it was.
import { basename } from "node:path";
import { Option, type Command } from "commander";
import { init } from "rnn-wasm";
import { lineChartSvg, type LineChart } from "./charts.js";
import { CliError, UsageError, checkOutputs, jsonText, positiveInt, writeOutputFiles, type CliIo, type CliStream, type OutputFile, type OutputPath } from "./common.js";
import { numericColumn, readCsv } from "./csv.js";
import { forecasterFileBytes, type ForecasterInfo } from "./forecast/model-file.js";
import { GATES, parameterCount } from "./forecast/network.js";
import { minimumRows, splitByTime } from "./forecast/series.js";
import { trainForecaster, VALIDATION_CHUNK, type EpochReport, type TrainResult, type TrainSettings } from "./forecast/trainer.js";
import { nonNegativeInt, positiveIntUpTo, positiveNumber, seedValue, validationFraction } from "./option-values.js";
import { TrainingProgress } from "./progress.js";

interface TrainFlags extends TrainSettings {
  data: string;
  column: string;
  out: string;
  chart?: string;
  json?: boolean;
}

/**
 * Limits on the network's size (--help states them). A forecaster of one column needs far less; what they bound is
 * memory: the weights, their gradients and Adam's two moments are four float32 copies (16 bytes per parameter), and
 * the best epoch's weights two more in JavaScript. MAX_PARAMETERS (2^24, 64 MiB of weights) keeps that near 400 MB.
 * MAX_HIDDEN and MAX_LAYERS bound each option alone (an LSTM of hidden 1024 in one layer has 4.2 million
 * parameters, one of hidden 256 in 16 layers 8.2 million); checkSize holds the two together to MAX_PARAMETERS.
 */
export const MAX_HIDDEN = 1024;
export const MAX_LAYERS = 16;
export const MAX_PARAMETERS = 2 ** 24;
/**
 * Most float32 values a training step's activations may take (2 GiB): about layers · window · batch · (gates + 2) ·
 * hidden (each step's gates, hidden and cell states are kept for backpropagation). wasm32 memory ends at 4 GiB.
 */
export const MAX_ACTIVATIONS = 2 ** 29;

/** The options' defaults (--help prints them; the README's table for train restates them). */
export const TRAIN_DEFAULTS = {
  kind: "lstm", hidden: 32, layers: 1, window: 24, difference: 0, epochs: 100, lr: 0.003, seed: 1, batch: 32, patience: 20, validation: 0.1, clip: 1,
} as const;

const EXAMPLES = `
The model reads --window past values and predicts the next one. With --difference D it predicts the change
over D steps instead (1: step to step; 12 on monthly data: year on year), which suits a series with a trend.
Values are normalised by the mean and standard deviation of the training part (a column whose values,
so normalised, leave float32's range is refused). The last --validation part
of the series (by time) validates: training stops after --patience epochs without a better validation loss,
keeping the best epoch's weights. Losses are MSE of normalised values. The same --seed gives the same model.

The file is a PyTorch-style state_dict (rnn.weight_ih_l0, ..., head.weight, head.bias) with the settings in
its metadata: \`rnn-wasm predict\` forecasts with it, \`rnn-wasm run\` runs its recurrent layer.

Example (from the repository root):
  $ rnn-wasm train --data data/co2-concentration.csv --column CO2 --window 36 --difference 12 --out co2.safetensors --chart co2-loss.svg`;

export function registerTrain(program: Command, io: CliIo): void {
  const d = TRAIN_DEFAULTS;
  program
    .command("train")
    .summary("train an LSTM/GRU/RNN forecaster on a column of a CSV file")
    .description("Train a recurrent network to forecast one numeric column of a CSV file (a header row, one row per time step) from its past values, and save it as safetensors.")
    .requiredOption("--data <file>", "CSV file with a header row")
    .requiredOption("--column <name>", "the column to forecast")
    .requiredOption("--out <file>", "safetensors file to write the model to")
    .addOption(new Option("--kind <kind>", "recurrent layer").choices(["lstm", "gru", "rnn"]).default(d.kind))
    .option("--hidden <n>", `hidden units (at most ${MAX_HIDDEN})`, positiveIntUpTo(MAX_HIDDEN), d.hidden)
    .option("--layers <n>", `stacked recurrent layers (at most ${MAX_LAYERS}; and at most ${MAX_PARAMETERS.toLocaleString("en-US")} parameters in all)`, positiveIntUpTo(MAX_LAYERS), d.layers)
    .option("--window <n>", "past values per prediction", positiveInt, d.window)
    .option("--difference <lag>", "predict the change over this many steps (0: the values themselves)", nonNegativeInt, d.difference)
    .option("--epochs <n>", "most passes over the training windows", positiveInt, d.epochs)
    .option("--lr <x>", "Adam's learning rate", positiveNumber, d.lr)
    .option("--seed <n>", "seed of the initial weights and of the order of the windows (0 to 4294967295)", seedValue, d.seed)
    .option("--batch <n>", "windows per training step (more than there are training windows: all of them)", positiveInt, d.batch)
    .option("--patience <n>", "stop after this many epochs without a better validation loss", positiveInt, d.patience)
    .option("--validation <fraction>", "the last part of the series that validates (0: none; no early stopping)", validationFraction, d.validation)
    .option("--clip <norm>", "largest total gradient norm of a step", positiveNumber, d.clip)
    .option("--chart <file.svg>", "draw the training and validation loss per epoch to an SVG file")
    .option("--json", "print the result as one JSON object")
    .addHelpText("after", EXAMPLES)
    .action(async (flags: TrainFlags) => {
      const targets: TrainTargets = { column: flags.column, data: flags.data, dataPath: flags.data, out: flags.out, chart: flags.chart };
      checkSize(flags); // before reading the data: options that cannot work fail at once
      const table = readCsv(flags.data);
      const values = numericColumn(table, flags.column);
      const outcome = await trainAndSave(values, flags, targets, io.stderr);
      io.stdout.write((flags.json ? jsonText(trainJson(outcome)) : [...trainSummary(outcome), ...wroteLines(outcome)].join("\n")) + "\n");
    });
}

export interface TrainTargets {
  column: string;
  /** The data file, named in messages. */
  data: string;
  /** The data file's path, when it is one (no output may overwrite it). */
  dataPath?: string;
  out?: string;
  chart?: string;
}

export interface TrainOutcome {
  settings: TrainSettings;
  targets: TrainTargets;
  values: number;
  result: TrainResult;
  info: ForecasterInfo;
  /** Bytes of the model file (0 without one). */
  bytes: number;
  /** The model file and the loss chart, rendered; trainAndSave has written them. */
  files: OutputFile[];
}

const int = (n: number) => n.toLocaleString("en-US");

/**
 * Refuses a network over MAX_PARAMETERS (--hidden and --layers are each within their limits, but not together):
 * a usage error, before the data is read.
 */
export function checkSize(s: Pick<TrainSettings, "kind" | "hidden" | "layers">): void {
  const n = parameterCount(s);
  if (n > MAX_PARAMETERS) {
    throw new UsageError(`--hidden ${s.hidden} with --layers ${s.layers} makes ${s.kind === "gru" ? "a" : "an"} ${s.kind.toUpperCase()} of ${int(n)} parameters; ` +
      `train takes at most ${int(MAX_PARAMETERS)}: lower --hidden or --layers`);
  }
}

/**
 * Refuses settings the data cannot support, before anything is built: too few rows for the window, the lag and
 * the validation part (minimumRows: arithmetic, whatever the sizes), and a training step whose activations would
 * pass MAX_ACTIVATIONS (the batch counts only the windows there are).
 */
function checkData(values: readonly number[], s: TrainSettings, t: TrainTargets): void {
  const need = minimumRows(s.window, s.validation, s.difference);
  if (values.length < need) {
    const parts = [`--window ${s.window}`, ...(s.difference ? [`--difference ${s.difference}`] : []), ...(s.validation ? [`--validation ${s.validation}`] : [])];
    throw new CliError(`column '${t.column}' of '${t.data}' has ${int(values.length)} values; ${parts.join(" with ")} needs at least ${int(need)}: ` +
      `use a shorter --window${s.difference ? " or --difference" : ""}, or more rows`);
  }
  // Enough rows: the split's arrays hold at most values.length numbers.
  const split = splitByTime(values.length - s.difference, s.window, s.validation);
  const windows = Math.max(Math.min(s.batch, split.trainTargets.length), Math.min(VALIDATION_CHUNK, split.validationTargets.length));
  const activations = s.layers * s.window * windows * (GATES[s.kind] + 2) * s.hidden;
  if (activations > MAX_ACTIVATIONS) {
    throw new UsageError(`a training step with --window ${s.window}, ${int(windows)} windows at once (--batch ${s.batch}), --hidden ${s.hidden} and --layers ${s.layers} ` +
      `would hold about ${int(activations)} float32 activations; the most is ${int(MAX_ACTIVATIONS)} (2 GiB): lower --batch, --window, --hidden or --layers`);
  }
}

/** The outputs `t` names, as checkOutputs takes them. */
function trainOutputs(t: TrainTargets): OutputPath[] {
  return [
    ...(t.out !== undefined ? [{ path: t.out, role: "model file", option: "--out" }] : []),
    ...(t.chart !== undefined ? [{ path: t.chart, role: "loss chart", option: "--chart" }] : []),
  ];
}

/** Checks the model and chart paths of `t` (and `more`, another command's outputs) before any work. */
export function checkTrainOutputs(t: TrainTargets, more: OutputPath[] = []): void {
  checkOutputs([...trainOutputs(t), ...more], t.dataPath !== undefined ? [{ path: t.dataPath, option: "--data" }] : []);
}

/** Trains on `values` (progress on `stderr`), writes the model (and the loss chart) together, and returns what happened. */
export async function trainAndSave(values: readonly number[], s: TrainSettings, t: TrainTargets, stderr: CliStream): Promise<TrainOutcome> {
  checkTrainOutputs(t);
  const outcome = await trainAndRender(values, s, t, stderr);
  writeOutputFiles(outcome.files);
  return outcome;
}

/**
 * Trains on `values` with progress on `stderr` and renders the model file and the loss chart `t` asks for into
 * memory (outcome.files), writing nothing. The caller has checked the output paths (checkTrainOutputs).
 */
export async function trainAndRender(values: readonly number[], s: TrainSettings, t: TrainTargets, stderr: CliStream): Promise<TrainOutcome> {
  checkSize(s);
  checkData(values, s, t);
  await init();
  const progress = new TrainingProgress(s.epochs, stderr);
  let last: EpochReport | undefined;
  let result: TrainResult;
  try {
    result = trainForecaster(values, s, (r) => {
      last = r;
      progress.update(r);
    }, `column '${t.column}' of '${t.data}'`);
  } finally {
    progress.stop(last); // also on failure: a terminal's bar ends, and its cursor comes back
  }
  const settings: TrainSettings = {
    kind: s.kind, hidden: s.hidden, layers: s.layers, window: s.window, difference: s.difference, epochs: s.epochs, lr: s.lr,
    seed: s.seed, batch: s.batch, patience: s.patience, validation: s.validation, clip: s.clip,
  };
  const best = result.history[result.bestEpoch - 1];
  const info: ForecasterInfo = {
    kind: s.kind, window: s.window, column: t.column, difference: s.difference, normalisation: result.normalisation,
    trainOptions: settings,
    training: {
      data: basename(t.data), rows: values.length, train_windows: result.trainWindows, validation_windows: result.validationWindows,
      epochs_run: result.history.length, best_epoch: result.bestEpoch, stopped_early: result.stoppedEarly,
      train_loss: best.train, validation_loss: Number.isNaN(best.validation) ? null : best.validation,
    },
    producer: "rnn-wasm train",
  };
  const files: OutputFile[] = [];
  if (t.out !== undefined) files.push({ path: t.out, role: "model file", data: forecasterFileBytes(result.stateDict, info) });
  if (t.chart !== undefined) {
    const svg = await lineChartSvg(lossChart(result, `${s.kind.toUpperCase()} on '${t.column}': loss per epoch (best: epoch ${result.bestEpoch})`));
    files.push({ path: t.chart, role: "loss chart", data: svg });
  }
  const bytes = t.out !== undefined ? (files[0].data as Uint8Array).byteLength : 0;
  return { settings, targets: t, values: values.length, result, info, bytes, files };
}

/** Training and validation loss per epoch, log scale (losses fall by orders of magnitude). */
export function lossChart(r: TrainResult, title: string): LineChart {
  const series = [{ name: "training", points: r.history.map((h) => ({ x: h.epoch, y: h.train })) }];
  if (r.validationWindows) series.push({ name: "validation", points: r.history.map((h) => ({ x: h.epoch, y: h.validation })) });
  return { title, xTitle: "epoch", yTitle: "MSE (normalised)", yScale: "log", height: 260, series };
}

/** What was trained and how it went (the lines wroteLines adds say what was written). */
export function trainSummary(o: TrainOutcome): string[] {
  const { settings: s, result: r } = o;
  const layers = `${s.layers} layer${s.layers > 1 ? "s" : ""}`;
  const target = s.difference ? `the change over ${s.difference} step${s.difference > 1 ? "s" : ""}` : "the next value";
  const best = r.history[r.bestEpoch - 1];
  const how = r.stoppedEarly
    ? `stopped after epoch ${r.history.length}: no better validation loss for ${s.patience} epochs`
    : `ran all ${r.history.length} epochs`;
  const lines = [
    `trained ${s.kind.toUpperCase()}(hidden ${s.hidden}, ${layers}) on column '${o.targets.column}' of '${o.targets.data}' to predict ${target} from ${s.window} past values`,
    `  ${int(o.values)} values: ${int(r.trainWindows)} training windows, ` +
      (r.validationWindows ? `${int(r.validationWindows)} validation windows (the last ${Math.round(s.validation * 100)}%)` : "no validation (--validation 0)"),
    `  ${how} in ${r.seconds.toFixed(1)} s; ${r.validationWindows ? `best epoch ${r.bestEpoch}` : "the last epoch"}: training MSE ${best.train.toFixed(5)}` +
      (r.validationWindows ? `, validation MSE ${best.validation.toFixed(5)}` : "") + " (normalised)",
  ];
  return lines;
}

/** `wrote model '...'` and `wrote loss chart '...'`, for the files trainAndSave wrote. */
export function wroteLines(o: TrainOutcome): string[] {
  const lines: string[] = [];
  if (o.targets.out !== undefined) lines.push(`wrote model '${o.targets.out}' (${int(o.bytes)} bytes; the ${o.result.validationWindows ? "best" : "last"} epoch's weights)`);
  if (o.targets.chart !== undefined) lines.push(`wrote loss chart '${o.targets.chart}'`);
  return lines;
}

function trainJson(o: TrainOutcome): Record<string, unknown> {
  const r = o.result;
  return {
    model: o.targets.out ?? null,
    chart: o.targets.chart ?? null,
    data: o.targets.data,
    column: o.targets.column,
    settings: o.settings,
    values: o.values,
    trainWindows: r.trainWindows,
    validationWindows: r.validationWindows,
    epochsRun: r.history.length,
    bestEpoch: r.bestEpoch,
    stoppedEarly: r.stoppedEarly,
    seconds: r.seconds,
    history: r.history.map((h) => ({ epoch: h.epoch, train: h.train, validation: Number.isNaN(h.validation) ? null : h.validation })),
  };
}
