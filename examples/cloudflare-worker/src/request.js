// The /predict request: what it may carry and how big its body may be (both follow the model's sizes), and its
// checks against the model's sizes.
// Every check names the field as the client wrote it (input[t][i], state.h[k][i]) and echoes at most a short piece of
// what was sent.
import { clip, HttpError } from "./http.js";

/** Most timesteps one request may carry, whatever the model (a small model's bound is its JSON, not its maths). */
export const MAX_STEPS = 1024;

/**
 * Multiply-adds one request may cost: 1024 steps of the 64 -> 256 LSTM this example ships (4 gates x 256 units x
 * (64 + 256) inputs per step), about 0.34 G. A larger model gets fewer steps per request, so that no request costs
 * more CPU than the largest one the default model takes.
 */
export const MAX_MULTIPLY_ADDS = 1024 * 4 * 256 * (64 + 256);

/** Largest float32; larger numbers become Infinity when stored in a Float32Array. */
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Multiply-adds per timestep of `spec` (a layer's Spec) and `head` (a Linear or null): for each layer and direction,
 * the gates' input and recurrent products (and the LSTM's projection), then the head on D*P features.
 */
export function multiplyAddsPerStep(spec, head) {
  const G = spec.kind === "lstm" ? 4 : spec.kind === "gru" ? 3 : 1;
  const D = spec.bidirectional ? 2 : 1, H = spec.hiddenSize, P = spec.projSize || H;
  let n = 0;
  for (let l = 0; l < spec.numLayers; l++) {
    const inputs = l === 0 ? spec.inputSize : D * P;
    n += D * (G * H * (inputs + P) + (spec.projSize ? P * H : 0));
  }
  return n + (head ? head.outFeatures * head.inFeatures : 0);
}

/**
 * What one request may carry for this model:
 *   maxSteps      timesteps: MAX_MULTIPLY_ADDS / multiplyAddsPerStep, at least 1 and at most MAX_STEPS.
 *   maxBodyBytes  bytes of JSON text (the body limit): 32 bytes for each number a request may carry (maxSteps
 *                 timesteps of inputSize numbers, and the state: D*L rows of P for h, and of H for c), plus 1 KiB for
 *                 the brackets and keys.
 * 32 bytes is the longest number JSON.stringify writes for a double (24 characters, "-2.2250738585072014e-308") with
 * its comma, or a float32's longest (23) pretty-printed one to a line with 2-space indents (6 spaces, comma and
 * newline): the largest request any client writes fits, with room for spaces. For nn.LSTM(64, 256) that is 1024
 * steps and 2,114,560 bytes (2 MiB); such a request and its 1024-step answer take workerd's JS heap to about 26 MiB,
 * well inside an isolate's 128 MB.
 */
export function limits(spec, head) {
  const maxSteps = Math.max(1, Math.min(MAX_STEPS, Math.floor(MAX_MULTIPLY_ADDS / multiplyAddsPerStep(spec, head))));
  const rows = (spec.bidirectional ? 2 : 1) * spec.numLayers;
  const stateNumbers = rows * (spec.projSize || spec.hiddenSize) + (spec.kind === "lstm" ? rows * spec.hiddenSize : 0);
  return { maxSteps, maxBodyBytes: 32 * (maxSteps * spec.inputSize + stateNumbers) + 1024 };
}

/**
 * The request body: input [T, inputSize] and the optional state, checked against the model's sizes (model.js:
 * loadModel's `sizes`). Returns the tensors for forward(): input, h0 [D*L, P] and c0 [D*L, H] (LSTM).
 */
export function parseRequest(body, sizes, maxSteps) {
  const { inputSize: I, stateRows: R, hWidth: P, cWidth: C } = sizes;
  const stateForm = C ? '{"h": [[...], ...], "c": [[...], ...]}' : '{"h": [[...], ...]}';
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new HttpError(400, `the body must be a JSON object: {"input": [[...], ...], "state"?: ${stateForm}}`);
  }
  onlyFields(body, ["input", "state"], "", 'expected "input" and optionally "state"');
  const { input, state } = body;
  if (!Array.isArray(input) || input.length === 0) {
    throw new HttpError(400, `"input" must be a non-empty array of timesteps, each an array of ${I} numbers`);
  }
  if (input.length > maxSteps) throw new HttpError(413, `"input" has ${input.length} timesteps; at most ${maxSteps} per request`);
  const T = input.length;
  const x = new Float32Array(T * I);
  for (let t = 0; t < T; t++) vector(x.subarray(t * I, (t + 1) * I), input[t], `input[${t}]`);
  let h0, c0;
  if (state !== undefined) {
    if (state === null || typeof state !== "object" || Array.isArray(state)) {
      throw new HttpError(400, `"state" must be ${stateForm} from a previous response`);
    }
    onlyFields(state, C ? ["h", "c"] : ["h"], "state.", C ? 'expected "h" and "c"' : `expected "h" (${sizes.kind === "gru" ? "a GRU" : "an RNN"} has no cell state)`);
    h0 = { shape: [R, P], data: matrix(new Float32Array(R * P), state.h, "state.h", R, P) };
    if (C) c0 = { shape: [R, C], data: matrix(new Float32Array(R * C), state.c, "state.c", R, C) };
  }
  return { input: { shape: [T, I], data: x }, h0, c0 };
}

/** Fills `out` from `value`, a JSON array of `rows` arrays of `width` numbers (one per layer and direction). */
function matrix(out, value, what, rows, width) {
  const form = `an array of ${rows} ${rows === 1 ? "row" : "rows"} (one per layer and direction), each of ${width} numbers`;
  if (!Array.isArray(value)) throw new HttpError(400, `${what} must be ${form}`);
  if (value.length !== rows) throw new HttpError(400, `${what} has ${value.length} ${value.length === 1 ? "row" : "rows"}; the model takes ${form}`);
  for (let k = 0; k < rows; k++) vector(out.subarray(k * width, (k + 1) * width), value[k], `${what}[${k}]`);
  return out;
}

/** Fills `out` from `value`, a JSON array of out.length numbers within float32's range; `what` names it in errors. */
function vector(out, value, what) {
  const n = out.length;
  if (!Array.isArray(value)) throw new HttpError(400, `${what} must be an array of ${n} numbers`);
  if (value.length !== n) throw new HttpError(400, `${what} has ${value.length} numbers; the model takes ${n}`);
  for (let i = 0; i < n; i++) {
    const v = value[i];
    if (typeof v !== "number") throw new HttpError(400, `${what}[${i}] is ${describe(v)}, not a finite number`);
    // NaN cannot come from JSON, but Infinity can (1e999), and anything beyond float32's range becomes it
    if (!(Math.abs(v) <= FLOAT32_MAX)) throw new HttpError(400, `${what}[${i}] is ${v}, outside float32's range (±3.4028235e38)`);
    out[i] = v;
  }
  return out;
}

/** Refuses a field of `object` not in `known`; `prefix` places it in the request ("state."). */
function onlyFields(object, known, prefix, expected) {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) throw new HttpError(400, `unknown field "${prefix}${clip(key)}": ${expected}`);
  }
}

/** A JSON value in a few words, never its whole text: it may be a megabyte string or an array nested 100,000 deep. */
function describe(v) {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return JSON.stringify(v.length > 16 ? `${v.slice(0, 16)}...` : v);
  if (typeof v === "object") return "an object";
  return String(v);
}
