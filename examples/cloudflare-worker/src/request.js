// The /predict request: what it may carry and how big its body may be, and its checks against the model's sizes.
// Every check names the field as the client wrote it (input[t][i], state.h[i]) and echoes at most a short piece of
// what was sent.
import { clip, HttpError } from "./http.js";

/** Timesteps one request may carry (a bound on the CPU one request can take). */
export const MAX_STEPS = 1024;

/** Largest float32; larger numbers become Infinity when stored in a Float32Array. */
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Bytes of JSON text a request may take (the body limit): 32 bytes for each number it may carry (MAX_STEPS timesteps
 * of inputSize numbers, and the state: h and c of hiddenSize), plus 1 KiB for the braces and keys.
 * 32 bytes is the longest number JSON.stringify writes for a double (24 characters, "-2.2250738585072014e-308") with
 * its comma, or a float32's longest (23) pretty-printed one to a line with 2-space indents (6 spaces, comma and
 * newline): the largest request any client writes fits, with room for spaces. For nn.LSTM(64, 256) that is
 * 2,114,560 bytes (2 MiB); such a request and its 1024-step answer take workerd's JS heap to about 26 MiB, well
 * inside an isolate's 128 MB.
 */
export function maxBodyBytes(spec) {
  const numbers = MAX_STEPS * spec.inputSize + 2 * spec.hiddenSize;
  return 32 * numbers + 1024;
}

/** The request body: input [T, I] and the optional state, checked against the model's sizes. */
export function parseRequest(body, spec) {
  const I = spec.inputSize, H = spec.hiddenSize;
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new HttpError(400, 'the body must be a JSON object: {"input": [[...], ...], "state"?: {"h": [...], "c": [...]}}');
  }
  onlyFields(body, ["input", "state"], "", 'expected "input" and optionally "state"');
  const { input, state } = body;
  if (!Array.isArray(input) || input.length === 0) {
    throw new HttpError(400, `"input" must be a non-empty array of timesteps, each an array of ${I} numbers`);
  }
  if (input.length > MAX_STEPS) throw new HttpError(413, `"input" has ${input.length} timesteps; at most ${MAX_STEPS} per request`);
  const T = input.length;
  const x = new Float32Array(T * I);
  for (let t = 0; t < T; t++) vector(x.subarray(t * I, (t + 1) * I), input[t], `input[${t}]`);
  let h0, c0;
  if (state !== undefined) {
    if (state === null || typeof state !== "object" || Array.isArray(state)) {
      throw new HttpError(400, '"state" must be {"h": [...], "c": [...]} from a previous response');
    }
    onlyFields(state, ["h", "c"], "state.", 'expected "h" and "c"');
    h0 = { shape: [1, H], data: vector(new Float32Array(H), state.h, "state.h") };
    c0 = { shape: [1, H], data: vector(new Float32Array(H), state.c, "state.c") };
  }
  return { input: { shape: [T, I], data: x }, h0, c0 };
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
