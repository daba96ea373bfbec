// cli/src/tfjs-files.ts: a TensorFlow.js LayersModel as tfjs's model.save (or tensorflowjs_converter) leaves it on disk:
// model.json, and beside it the weight files its weightsManifest names (paths relative to model.json's folder), read
// and joined in manifest order, as tfjs's own loaders join them. Every failure names the file: model.json that is not
// JSON or has no manifest, a weight file that is missing or of a size other than the manifest's weights need.
import { dirname, resolve } from "node:path";
import { CliError, readFileBytes } from "./common.js";

/** One weight of the manifest, as it declares it. */
export interface ManifestWeight {
  name: string;
  dtype: string;
  shape: number[];
  /** Set when the converter quantized it (`uint8` / `uint16`, with scale and min or a float16 table). */
  quantization?: { dtype: string };
}

/** model.json, parsed, with its weight files read. */
export interface TfjsFiles {
  /** The parsed model.json (what fromTfjs takes). */
  json: Record<string, unknown>;
  /** The weight files' bytes, joined in manifest order (what fromTfjs takes). */
  weights: Uint8Array;
  /** Each weight file: its path as the manifest gives it, where it was read from, and its size. */
  files: { path: string; file: string; bytes: number }[];
  /** Every weight of the manifest, in order. */
  manifest: ManifestWeight[];
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** The bytes a manifest weight takes in the weight files (its quantized dtype's, if quantized). */
export function weightBytes(w: ManifestWeight): number {
  const dtype = w.quantization?.dtype ?? w.dtype;
  return (BYTES[dtype] ?? 4) * w.shape.reduce((a, b) => a * b, 1);
}

/** The parsed JSON of the model.json at `path`; a failure names the file. */
export function readModelJson(path: string): Record<string, unknown> {
  const text = new TextDecoder().decode(readFileBytes(path, "model"));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CliError(`model file '${path}' is not valid JSON (a TensorFlow.js model.json): ${(e as Error).message}`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new CliError(`model file '${path}' is not a JSON object (a TensorFlow.js model.json)`);
  return json as Record<string, unknown>;
}

/** model.json at `path` and its weight files, joined in manifest order. */
export function readTfjsFiles(path: string): TfjsFiles {
  const json = readModelJson(path);
  const groups = json.weightsManifest;
  if (!Array.isArray(groups)) throw new CliError(`model file '${path}' has no weightsManifest: is it a TensorFlow.js layers model's model.json?`);
  const dir = dirname(path);
  const files: TfjsFiles["files"] = [];
  const manifest: ManifestWeight[] = [];
  const parts: Uint8Array[] = [];
  groups.forEach((g: { paths?: unknown; weights?: unknown }, k: number) => {
    if (!Array.isArray(g?.paths) || !g.paths.every((p) => typeof p === "string") || !Array.isArray(g?.weights)) {
      throw new CliError(`model file '${path}': weightsManifest[${k}] has no list of paths and weights`);
    }
    const weights = g.weights as ManifestWeight[];
    manifest.push(...weights);
    let got = 0;
    for (const p of g.paths as string[]) {
      const file = resolve(dir, p);
      let bytes: Uint8Array;
      try {
        bytes = readFileBytes(file, "weight");
      } catch (e) {
        if (e instanceof CliError) throw new CliError(`${e.message} (model '${path}' names '${p}' in weightsManifest[${k}]: the weight files must sit beside model.json, as tfjs's model.save writes them)`);
        throw e;
      }
      files.push({ path: p, file, bytes: bytes.byteLength });
      parts.push(bytes);
      got += bytes.byteLength;
    }
    const want = weights.reduce((n, w) => n + (Array.isArray(w?.shape) ? weightBytes(w) : 0), 0);
    if (got !== want) {
      throw new CliError(`model file '${path}': the weight files of weightsManifest[${k}] (${(g.paths as string[]).map((p) => `'${p}'`).join(", ")}) hold ${got} bytes, but its ${weights.length} weights need ${want}`);
    }
  });
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const weights = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    weights.set(p, at);
    at += p.byteLength;
  }
  return { json, weights, files, manifest };
}
