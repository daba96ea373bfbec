// src/cli/train.ts: `rnn-wasm train`: a sequence-to-one forecaster on one numeric column of a CSV file.
//   windows of `window` past values -> LSTM/GRU/RNN -> last step -> Linear(hidden -> 1) -> the next value
// trained with MSE, Adam and gradient clipping on the first part of the series, validated on the last part
// (split by time), stopped early when the validation loss stops improving, and saved with the best weights and
// everything `predict` needs (network.ts and model-file.ts describe the file). trainAndSave() is the whole job
// without the command line, so `forecast-demo` trains through the same code.
import { existsSync, statSync } from "node:fs";
import { basename, dirname } from "node:path";
import { Option, type Command } from "commander";
import { init } from "../index.js";
import { writeLineChart, type LineChart } from "./charts.js";
import { CliError, jsonText, positiveInt } from "./common.js";
import { numericColumn, readCsv } from "./csv.js";
import { writeForecasterFile, type ForecasterInfo } from "./forecast/model-file.js";
import { minimumRows } from "./forecast/series.js";
import { trainForecaster, type EpochReport, type TrainResult, type TrainSettings } from "./forecast/trainer.js";
import { nonNegativeInt, positiveNumber, validationFraction } from "./option-values.js";
import { TrainingProgress } from "./progress.js";

interface TrainFlags extends TrainSettings {
  data: string;
  column: string;
  out: string;
  chart?: string;
  json?: boolean;
}

/** The options' defaults (--help prints them; the README's table for train restates them). */
export const TRAIN_DEFAULTS = {
  kind: "lstm", hidden: 32, layers: 1, window: 24, difference: 0, epochs: 100, lr: 0.003, seed: 1, batch: 32, patience: 20, validation: 0.1, clip: 1,
} as const;

const EXAMPLES = `
The model reads --window past values and predicts the next one. With --difference D it predicts the change
over D steps instead (1: step to step; 12 on monthly data: year on year), which suits a series with a trend.
Values are normalised by the mean and standard deviation of the training part. The last --validation part
of the series (by time) validates: training stops after --patience epochs without a better validation loss,
keeping the best epoch's weights. Losses are MSE of normalised values. The same --seed gives the same model.

The file is a PyTorch-style state_dict (rnn.weight_ih_l0, ..., head.weight, head.bias) with the settings in
its metadata: \`rnn-wasm predict\` forecasts with it, \`rnn-wasm run\` runs its recurrent layer.

Example (from the repository root):
  $ rnn-wasm train --data data/co2-concentration.csv --column CO2 --window 36 --difference 12 --out co2.safetensors --chart co2-loss.svg`;

export function registerTrain(program: Command): void {
  const d = TRAIN_DEFAULTS;
  program
    .command("train")
    .summary("train an LSTM/GRU/RNN forecaster on a column of a CSV file")
    .description("Train a recurrent network to forecast one numeric column of a CSV file (a header row, one row per time step) from its past values, and save it as safetensors.")
    .requiredOption("--data <file>", "CSV file with a header row")
    .requiredOption("--column <name>", "the column to forecast")
    .requiredOption("--out <file>", "safetensors file to write the model to")
    .addOption(new Option("--kind <kind>", "recurrent layer").choices(["lstm", "gru", "rnn"]).default(d.kind))
    .option("--hidden <n>", "hidden units", positiveInt, d.hidden)
    .option("--layers <n>", "stacked recurrent layers", positiveInt, d.layers)
    .option("--window <n>", "past values per prediction", positiveInt, d.window)
    .option("--difference <lag>", "predict the change over this many steps (0: the values themselves)", nonNegativeInt, d.difference)
    .option("--epochs <n>", "most passes over the training windows", positiveInt, d.epochs)
    .option("--lr <x>", "Adam's learning rate", positiveNumber, d.lr)
    .option("--seed <n>", "seed of the initial weights and of the order of the windows", nonNegativeInt, d.seed)
    .option("--batch <n>", "windows per training step", positiveInt, d.batch)
    .option("--patience <n>", "stop after this many epochs without a better validation loss", positiveInt, d.patience)
    .option("--validation <fraction>", "the last part of the series that validates (0: none; no early stopping)", validationFraction, d.validation)
    .option("--clip <norm>", "largest total gradient norm of a step", positiveNumber, d.clip)
    .option("--chart <file.svg>", "draw the training and validation loss per epoch to an SVG file")
    .option("--json", "print the result as one JSON object")
    .addHelpText("after", EXAMPLES)
    .action(async (flags: TrainFlags) => {
      const table = readCsv(flags.data);
      const values = numericColumn(table, flags.column);
      const outcome = await trainAndSave(values, flags, { column: flags.column, data: flags.data, out: flags.out, chart: flags.chart });
      process.stdout.write((flags.json ? jsonText(trainJson(outcome)) : trainSummary(outcome).join("\n")) + "\n");
    });
}

export interface TrainTargets {
  column: string;
  /** The data file, named in messages. */
  data: string;
  out?: string;
  chart?: string;
}

export interface TrainOutcome {
  settings: TrainSettings;
  targets: TrainTargets;
  values: number;
  result: TrainResult;
  info: ForecasterInfo;
  bytes: number;
}

/** Refuses settings the data cannot support, before any training. */
function checkData(values: readonly number[], s: TrainSettings, t: TrainTargets): void {
  const need = minimumRows(s.window, s.validation, s.difference);
  if (values.length < need) {
    const parts = [`--window ${s.window}`, ...(s.difference ? [`--difference ${s.difference}`] : []), ...(s.validation ? [`--validation ${s.validation}`] : [])];
    throw new CliError(`column '${t.column}' of '${t.data}' has ${values.length} values; ${parts.join(" with ")} needs at least ${need}: use a shorter --window, or more rows`);
  }
}

/** Fails now, not after training, when a file cannot be written where it is asked for. */
export function checkOutputDirectory(path: string, role: string): void {
  const dir = dirname(path);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CliError(`cannot write ${role} '${path}': directory '${dir}' does not exist`);
}

/** Trains on `values` with progress on stderr, writes the model (and the loss chart), and returns what happened. */
export async function trainAndSave(values: readonly number[], s: TrainSettings, t: TrainTargets): Promise<TrainOutcome> {
  checkData(values, s, t);
  if (t.out) checkOutputDirectory(t.out, "model file");
  if (t.chart) checkOutputDirectory(t.chart, "loss chart");
  await init();
  const progress = new TrainingProgress(s.epochs);
  let last: EpochReport | undefined;
  let result: TrainResult;
  try {
    result = trainForecaster(values, s, (r) => {
      last = r;
      progress.update(r);
    });
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
  const bytes = t.out ? writeForecasterFile(t.out, result.stateDict, info) : 0;
  if (t.chart) await writeLineChart(t.chart, lossChart(result, `${s.kind.toUpperCase()} on '${t.column}': loss per epoch (best: epoch ${result.bestEpoch})`), "loss chart");
  return { settings, targets: t, values: values.length, result, info, bytes };
}

/** Training and validation loss per epoch, log scale (losses fall by orders of magnitude). */
export function lossChart(r: TrainResult, title: string): LineChart {
  const series = [{ name: "training", points: r.history.map((h) => ({ x: h.epoch, y: h.train })) }];
  if (r.validationWindows) series.push({ name: "validation", points: r.history.map((h) => ({ x: h.epoch, y: h.validation })) });
  return { title, xTitle: "epoch", yTitle: "MSE (normalised)", yScale: "log", height: 260, series };
}

const int = (n: number) => n.toLocaleString("en-US");

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
  if (o.targets.out) lines.push(`wrote model '${o.targets.out}' (${int(o.bytes)} bytes; the ${r.validationWindows ? "best" : "last"} epoch's weights)`);
  if (o.targets.chart) lines.push(`wrote loss chart '${o.targets.chart}'`);
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
