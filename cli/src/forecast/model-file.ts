// cli/src/forecast/model-file.ts: the forecaster file `rnn-wasm train` writes and `predict` reads: a safetensors
// file with the network's state_dict (network.ts names it) and, in its string metadata, all predict needs:
//   format            "rnn-wasm forecaster"        tells a forecaster from any other safetensors file
//   format_version    "1"                          bumped when a field changes meaning; readers refuse newer ones
//   kind              "lstm" | "gru" | "rnn"
//   window            past values per prediction
//   column            the CSV column it was trained on (predict's default --column)
//   difference        lag d of the differences the model predicts (s[t] - s[t-d]); "0": the values themselves
//   mean, std         the normalisation of the (differenced) training part, as JavaScript prints a double
//   train_options     JSON of the settings it was trained with (hidden, layers, epochs, lr, seed, ...)
//   training          JSON of how training went (best_epoch, epochs_run, losses, rows, windows)
//   producer          "rnn-wasm train <version>"
import { RnnError, saveSafetensors, type Kind, type Tensor } from "rnn-wasm";
import { CliError, readSafetensorsFile } from "../common.js";
import { ForecastNetwork } from "./network.js";
import type { ForecastModel } from "./forecast.js";
import type { Normalisation } from "./series.js";
import type { TrainSettings } from "./trainer.js";

export const FORMAT = "rnn-wasm forecaster";
export const FORMAT_VERSION = 1;
const KINDS: readonly Kind[] = ["lstm", "gru", "rnn"];

/** What the metadata says about a forecaster. */
export interface ForecasterInfo {
  kind: Kind;
  window: number;
  column: string;
  difference: number;
  normalisation: Normalisation;
  trainOptions: Partial<TrainSettings>;
  training: Record<string, unknown>;
  producer: string;
}

export function forecasterMetadata(info: ForecasterInfo): Record<string, string> {
  return {
    format: FORMAT,
    format_version: String(FORMAT_VERSION),
    kind: info.kind,
    window: String(info.window),
    column: info.column,
    difference: String(info.difference),
    mean: String(info.normalisation.mean), // String(double) reads back as the same double
    std: String(info.normalisation.std),
    train_options: JSON.stringify(info.trainOptions),
    training: JSON.stringify(info.training),
    producer: info.producer,
  };
}

/** Reads the metadata back; `where` prefixes each error ("model file 'm.safetensors'"). */
export function parseForecasterMetadata(meta: Record<string, string>, where: string): ForecasterInfo {
  if (meta.format !== FORMAT) {
    const has = meta.format !== undefined ? `its metadata says format '${meta.format}'` : Object.keys(meta).length ? "its metadata has no 'format'" : "it has no metadata";
    throw new CliError(`${where} is not a forecasting model made by \`rnn-wasm train\` (${has}): train one with \`rnn-wasm train\`; a PyTorch state_dict runs with \`rnn-wasm run\``);
  }
  const field = (key: string): string => {
    const v = meta[key];
    if (v === undefined) throw new CliError(`${where}: its metadata has no '${key}'; train the model again with \`rnn-wasm train\``);
    return v;
  };
  const bad = (key: string, want: string): never => {
    throw new CliError(`${where}: metadata '${key}' is '${meta[key]}', expected ${want}; train the model again with \`rnn-wasm train\``);
  };
  const version = Number(field("format_version"));
  if (!Number.isInteger(version) || version < 1) bad("format_version", "a positive integer");
  if (version > FORMAT_VERSION) throw new CliError(`${where} is a forecaster of format version ${version}; this rnn-wasm reads version ${FORMAT_VERSION}: update rnn-wasm`);
  const kind = field("kind") as Kind;
  if (!KINDS.includes(kind)) bad("kind", KINDS.join(", ") + "");
  const window = Number(field("window"));
  if (!Number.isInteger(window) || window < 1) bad("window", "a positive integer");
  const difference = Number(field("difference"));
  if (!Number.isInteger(difference) || difference < 0) bad("difference", "a whole number of steps (0 for none)");
  const mean = Number(field("mean"));
  if (!Number.isFinite(mean)) bad("mean", "a finite number");
  const std = Number(field("std"));
  if (!(Number.isFinite(std) && std > 0)) bad("std", "a positive number");
  const json = (key: string): Record<string, unknown> => {
    try {
      const v = JSON.parse(meta[key] ?? "{}");
      if (v && typeof v === "object" && !Array.isArray(v)) return v;
    } catch {
      // reported below
    }
    return bad(key, "a JSON object");
  };
  return {
    kind, window, column: field("column"), difference, normalisation: { mean, std },
    trainOptions: json("train_options") as Partial<TrainSettings>, training: json("training"), producer: meta.producer ?? "",
  };
}

/** The bytes of a forecaster file (written with writeOutputFiles, which writes them atomically). */
export function forecasterFileBytes(stateDict: Record<string, Tensor>, info: ForecasterInfo): Uint8Array {
  return saveSafetensors(stateDict, forecasterMetadata(info));
}

/** A loaded forecaster: its metadata and its network (the caller disposes it). Needs the wasm loaded (init()). */
export interface LoadedForecaster extends ForecastModel {
  info: ForecasterInfo;
}

export function readForecasterFile(path: string): LoadedForecaster {
  const where = `model file '${path}'`;
  const file = readSafetensorsFile(path, "model");
  const info = parseForecasterMetadata(file.metadata, where);
  let network: ForecastNetwork;
  try {
    network = ForecastNetwork.load(file.tensors, info.kind);
  } catch (e) {
    // The library's advice for NaN weights names its API option; predict has none (a model must be finite to forecast).
    if (e instanceof RnnError) throw new CliError(`${where}: ${e.message.replace(/; pass nanPolicy: 'propagate'.*$/, "")}${e.code === "nonfinite" ? "; a forecaster's weights must be finite numbers: train the model again" : ""}`);
    throw e;
  }
  return { info, network, window: info.window, difference: info.difference, normalisation: info.normalisation };
}
