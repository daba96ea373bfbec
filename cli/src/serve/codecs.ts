// cli/src/serve/codecs.ts: the request and answer bodies of `rnn-wasm serve`, read and written in the pool's workers.
//   application/json             {"input": [[I numbers] x T], "state"?: {"h": [[P] x D*L], "c"?: [[H] x D*L]}}
//                                -> {"output": [[D*P] x T], "head"?: [[O] x T], "state": {"h", "c"?}}
//                                   (a session's step: "steps" instead of "state", which the server keeps)
//   application/octet-stream     little-endian float32 [T, I], header X-Shape: T,I
//                                -> the output [T, D*P] as float32, header X-Shape: T,D*P (no state: use safetensors)
//   application/vnd.safetensors  input [T, I], h0 [D*L, P], c0 [D*L, H] (LSTM)
//                                -> output, head (a model with one), h_n, c_n (LSTM); a session's: output, head
// A body that cannot be used throws BodyError with the HTTP status, a short code and a message that names the field
// as a client would write it: `input[3][7] is NaN, not a finite number`, `input has 12 rows of 63 numbers; the
// model takes 64`, `state.h[0] has 10 numbers; the model's state rows have 256`. Values must fit float32: 1e39 is
// finite as a double but not as a float32, and is refused as Infinity would be. Python's json.dumps writes NaN and
// Infinity as bare words, which are not JSON; they are named as NaN and Infinity rather than as a syntax error.
import { loadSafetensors, RnnError, saveSafetensors, type Tensor } from "rnn-wasm";
import { errorJson, MEDIA_TYPES, type BodyFormat, type ModelInfo } from "./protocol.js";

/** A request that cannot be run: its status (400, 413), a short code, and what is wrong. */
export class BodyError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = "BodyError";
  }
}

/** One sequence as a body gives it: input [T, I] row-major, and the initial state when it carries one. */
export interface DecodedRequest {
  input: Float32Array;
  steps: number;
  h0?: Float32Array;
  c0?: Float32Array;
  /** Where the model writes the output (an answer slot), when the worker gives one. */
  output?: Float32Array;
}

/** A sequence's results, as ServedModel.run returns them. */
export interface SequenceAnswer {
  output: Float32Array;
  head?: Float32Array;
  hN: Float32Array;
  cN?: Float32Array;
}

export interface DecodeOptions {
  format: BodyFormat;
  /** The X-Shape header of a raw body. */
  shape?: string;
  /** Most steps (T) one request may hold: --max-steps. */
  maxSteps: number;
  /** A session's step: the body carries no state (the session keeps it). */
  session: boolean;
}

const invalid = (message: string) => new BodyError(400, "invalid_body", message);
const shapeError = (message: string) => new BodyError(400, "shape", message);
const nonfinite = (message: string) => new BodyError(400, "nonfinite", message);

/** Reads one request body; throws BodyError naming what is wrong. */
export function decodeBody(body: Uint8Array, info: ModelInfo, o: DecodeOptions): DecodedRequest {
  if (body.byteLength === 0) throw invalid(`the body is empty; send ${o.format === "json" ? `{"input": [[${info.inputSize} numbers], ...one row per timestep]}` : o.format === "raw" ? "the input as float32 [T, I]" : "a safetensors file with 'input' [T, I]"}`);
  if (o.format === "json") return decodeJson(body, info, o);
  if (o.format === "raw") return decodeRaw(body, info, o);
  return decodeSafetensors(body, info, o);
}

// ---- JSON -----------------------------------------------------------------------------------------------------

/** A string JSON.parse gives where the body had a bare NaN or Infinity (see parseJson). */
const BARE = "\u0000bare:";

const utf8 = new TextDecoder("utf-8", { fatal: true });

function parseJson(body: Uint8Array): unknown {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new BodyError(400, "invalid_json", "the body is not valid UTF-8, so not JSON");
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    // NaN, Infinity, -Infinity outside strings (Python's json.dumps writes them): mark them, so that the value is
    // named by its path rather than as a syntax error somewhere in the text.
    const marked = text.replace(/"(?:[^"\\]|\\.)*"|(-?Infinity|NaN)/g, (m, bare?: string) => (bare ? JSON.stringify(BARE + bare) : m));
    if (marked !== text) {
      try {
        return JSON.parse(marked);
      } catch {
        // not only those words: report the original error
      }
    }
    throw new BodyError(400, "invalid_json", `the body is not valid JSON: ${(e as Error).message}`);
  }
}

/** `null`, `"abc"`, `an object`, `true`: a JSON value in a message. */
function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return v.length > 40 ? `${JSON.stringify(v.slice(0, 40))}...` : JSON.stringify(v);
  return String(v);
}

/** The float32 of a JSON value at `path`, or a BodyError naming it. */
function float32At(v: unknown, path: () => string): number {
  if (typeof v === "number") {
    const f = Math.fround(v);
    if (f === f && f !== Infinity && f !== -Infinity) return f;
    if (v === Infinity || v === -Infinity) throw nonfinite(`${path()} is ${v}, not a finite number`);
    throw nonfinite(`${path()} is ${v}, beyond float32's range (±3.4e38)`);
  }
  if (typeof v === "string" && v.startsWith(BARE)) throw nonfinite(`${path()} is ${v.slice(BARE.length)}, not a finite number`);
  throw invalid(`${path()} is ${describe(v)}, not a number`);
}

interface MatrixSpec {
  /** The field's path: `input`, `state.h`. */
  name: string;
  /** Numbers per row. */
  cols: number;
  /** Rows required (a state), or undefined (the input: 1 to maxSteps). */
  rows?: number;
  maxRows?: number;
  /** What the column count is, in a message: `the model takes`. */
  colsAre: string;
  /** What the row count is: `the model's state has`. */
  rowsAre?: string;
}

/** Reads a JSON array of rows of numbers into a row-major Float32Array; throws BodyError naming the field. */
function readMatrix(value: unknown, m: MatrixSpec): { data: Float32Array; rows: number } {
  if (!Array.isArray(value)) throw invalid(`${m.name} is ${describe(value)}, not an array of rows of ${m.cols} numbers`);
  const rows = value.length;
  if (m.rows !== undefined && rows !== m.rows) throw shapeError(`${m.name} has ${rows} row${rows === 1 ? "" : "s"}; ${m.rowsAre} ${m.rows}`);
  if (rows === 0) throw shapeError(`${m.name} has no rows; send one row of ${m.cols} numbers per timestep`);
  if (m.maxRows !== undefined && rows > m.maxRows) throw tooManySteps(rows, m.maxRows);
  for (let r = 0; r < rows; r++) {
    const row = value[r];
    if (!Array.isArray(row)) throw invalid(`${m.name}[${r}] is ${describe(row)}, not an array of ${m.cols} numbers`);
    if (row.length !== m.cols) {
      const first = Array.isArray(value[0]) ? value[0].length : -1;
      const same = value.every((x) => Array.isArray(x) && x.length === first);
      if (same) throw shapeError(`${m.name} has ${rows} row${rows === 1 ? "" : "s"} of ${numbers(first)}; ${m.colsAre} ${m.cols}`);
      throw shapeError(`${m.name}[${r}] has ${numbers(row.length)}; ${m.colsAre} ${m.cols}`);
    }
  }
  const data = new Float32Array(rows * m.cols);
  for (let r = 0; r < rows; r++) {
    const row = value[r] as unknown[];
    const at = r * m.cols;
    for (let c = 0; c < m.cols; c++) data[at + c] = float32At(row[c], () => `${m.name}[${r}][${c}]`);
  }
  return { data, rows };
}

const numbers = (n: number) => `${n} number${n === 1 ? "" : "s"}`;

function tooManySteps(steps: number, max: number): BodyError {
  return new BodyError(413, "too_many_steps", `input has ${steps} steps; this server takes at most ${max} per request (--max-steps)`);
}

function decodeJson(body: Uint8Array, info: ModelInfo, o: DecodeOptions): DecodedRequest {
  const value = parseJson(body);
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw invalid(`the body is ${describe(value)}; send an object {"input": [[${info.inputSize} numbers], ...one row per timestep]}`);
  }
  const fields = value as Record<string, unknown>;
  const allowed = o.session ? ["input"] : ["input", "state"];
  for (const key of Object.keys(fields)) {
    if (allowed.includes(key)) continue;
    if (key === "state") throw invalid("state is not taken by a session's step: the session keeps its own state (send a state to /v1/predict)");
    throw invalid(`unknown field ${JSON.stringify(key)}; the body takes ${allowed.map((k) => `"${k}"`).join(" and ")}`);
  }
  if (!("input" in fields)) throw invalid(`input is missing; send {"input": [[${info.inputSize} numbers], ...one row per timestep]}`);
  const input = readMatrix(fields.input, { name: "input", cols: info.inputSize, maxRows: o.maxSteps, colsAre: "the model takes" });
  const out: DecodedRequest = { input: input.data, steps: input.rows };
  if (fields.state !== undefined) Object.assign(out, readJsonState(fields.state, info));
  return out;
}

function readJsonState(state: unknown, info: ModelInfo): { h0: Float32Array; c0?: Float32Array } {
  if (state === null || typeof state !== "object" || Array.isArray(state)) throw invalid(`state is ${describe(state)}, not an object {"h": [...]${info.stateShape.c ? `, "c": [...]` : ""}}`);
  const s = state as Record<string, unknown>;
  const names = info.stateShape.c ? ["h", "c"] : ["h"];
  for (const key of Object.keys(s)) {
    if (key === "c" && !info.stateShape.c) throw invalid(`state.c is an LSTM's cell state; a ${info.kind.toUpperCase()} has none`);
    if (!names.includes(key)) throw invalid(`unknown field state.${key}; a state has ${names.map((n) => `"${n}"`).join(" and ")}`);
  }
  if (!("h" in s)) throw invalid("state.h is missing; a state holds h (one row per layer and direction)");
  const [rows, cols] = info.stateShape.h;
  const rowsAre = "the model's state has";
  const h0 = readMatrix(s.h, { name: "state.h", rows, cols, colsAre: "the model's state rows have", rowsAre }).data;
  if (s.c === undefined || !info.stateShape.c) return { h0 };
  const [cRows, cCols] = info.stateShape.c;
  return { h0, c0: readMatrix(s.c, { name: "state.c", rows: cRows, cols: cCols, colsAre: "the model's cell state rows have", rowsAre }).data };
}

// ---- raw float32 ------------------------------------------------------------------------------------------------

/** On a big-endian host the raw bytes are read value by value; every mainstream host is little-endian. */
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function decodeRaw(body: Uint8Array, info: ModelInfo, o: DecodeOptions): DecodedRequest {
  const I = info.inputSize;
  if (o.shape === undefined) throw new BodyError(400, "invalid_header", `a raw float32 body needs the header X-Shape: T,${I} (steps, then features)`);
  const m = /^\s*(\d{1,10})\s*,\s*(\d{1,10})\s*$/.exec(o.shape);
  if (!m) throw new BodyError(400, "invalid_header", `X-Shape is ${JSON.stringify(o.shape.slice(0, 40))}; it should be T,${I} (steps, then features: two whole numbers)`);
  const T = Number(m[1]), features = Number(m[2]);
  if (features !== I) throw shapeError(`X-Shape says ${features} features per step; the model takes ${I}`);
  if (T === 0) throw shapeError("X-Shape says 0 steps; send at least one");
  if (T > o.maxSteps) throw tooManySteps(T, o.maxSteps);
  const want = T * I * 4;
  if (body.byteLength !== want) throw shapeError(`the body has ${body.byteLength} bytes; X-Shape ${T},${I} needs ${want} (${T} x ${I} float32)`);
  let input: Float32Array;
  if (HOST_IS_LITTLE_ENDIAN && body.byteOffset % 4 === 0) input = new Float32Array(body.buffer, body.byteOffset, T * I);
  else {
    input = new Float32Array(T * I);
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    for (let k = 0; k < input.length; k++) input[k] = view.getFloat32(4 * k, true);
  }
  checkFinite(input, I, "input");
  return { input, steps: T };
}

/** Throws BodyError naming the first NaN or Infinity of a row-major [rows, cols] array: `input[3][7] is NaN`. */
function checkFinite(data: Float32Array, cols: number, name: string): void {
  for (let k = 0; k < data.length; k++) {
    const v = data[k];
    if (v - v !== 0) throw nonfinite(`${name}[${Math.floor(k / cols)}][${k % cols}] is ${v}, not a finite number`);
  }
}

// ---- safetensors --------------------------------------------------------------------------------------------------

const shapeOf = (t: Tensor) => `[${t.shape.join(", ")}]`;

function decodeSafetensors(body: Uint8Array, info: ModelInfo, o: DecodeOptions): DecodedRequest {
  let tensors: Record<string, Tensor>;
  try {
    tensors = loadSafetensors(body).tensors;
  } catch (e) {
    if (e instanceof RnnError) throw invalid(`the body is not a readable safetensors file: ${e.message.replace(/^safetensors: /, "")}`);
    throw e;
  }
  const allowed = o.session ? ["input"] : info.stateShape.c ? ["input", "h0", "c0"] : ["input", "h0"];
  for (const name of Object.keys(tensors)) {
    if (allowed.includes(name)) continue;
    if (o.session && (name === "h0" || name === "c0")) throw invalid(`tensor '${name}' is not taken by a session's step: the session keeps its own state (send a state to /v1/predict)`);
    if (name === "c0") throw invalid(`tensor 'c0' is an LSTM's cell state; a ${info.kind.toUpperCase()} has none`);
    throw invalid(`unknown tensor '${name}'; the body takes ${allowed.map((n) => `'${n}'`).join(", ")}`);
  }
  const input = tensors.input;
  const I = info.inputSize;
  if (!input) throw invalid(`the body has no tensor 'input' [T, ${I}]`);
  if (input.shape.length !== 2 || input.shape[1] !== I) throw shapeError(`input has shape ${shapeOf(input)}; expected [T, ${I}] (steps, features)`);
  const T = input.shape[0];
  if (T === 0) throw shapeError("input has no rows; send at least one timestep");
  if (T > o.maxSteps) throw tooManySteps(T, o.maxSteps);
  checkFinite(input.data, I, "input");
  const out: DecodedRequest = { input: input.data, steps: T };
  const states: [string, Tensor | undefined, [number, number] | undefined][] = [["h0", tensors.h0, info.stateShape.h], ["c0", tensors.c0, info.stateShape.c]];
  for (const [name, t, want] of states) {
    if (!t || !want) continue;
    if (t.shape.length !== 2 || t.shape[0] !== want[0] || t.shape[1] !== want[1]) throw shapeError(`${name} has shape ${shapeOf(t)}; the model's state is [${want.join(", ")}] (layers x directions, features)`);
    checkFinite(t.data, want[1], name);
    out[name as "h0" | "c0"] = t.data;
  }
  return out;
}

// ---- answers ------------------------------------------------------------------------------------------------------

const utf8Out = new TextEncoder();

/** 10^k, exact for k <= 22. */
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * A float32 as JSON: 9 significant digits (always enough to read back the same float32), trailing zeros dropped;
 * null for NaN and Infinity (only an overflowing model makes them). For 1e-4 <= |x| < 1e9 the digits come from one
 * integer, Math.round(|x| * 10^k), which is exact there: faster than String(x), and about 40% shorter than the 17
 * digits String gives a float32 widened to a double (which also take a client several times longer to parse).
 */
export function float32Json(x: number): string {
  if (x - x !== 0) return "null";
  if (x === 0) return 1 / x < 0 ? "-0" : "0";
  const ax = x < 0 ? -x : x;
  if (!(ax >= 1e-4 && ax < 1e9)) return String(+x.toPrecision(9));
  // digits after the point for 9 significant ones; log10 may make it one too many near a power of ten: harmless
  const k = Math.max(0, 8 - Math.floor(Math.log10(ax)));
  let digits = String(Math.round(ax * POW10[k]));
  let fraction = k;
  let end = digits.length;
  while (fraction > 0 && digits.charCodeAt(end - 1) === 48 /* 0 */) {
    end--;
    fraction--;
  }
  digits = digits.slice(0, end);
  if (fraction > 0) {
    digits = digits.length > fraction ? `${digits.slice(0, digits.length - fraction)}.${digits.slice(digits.length - fraction)}` : `0.${"0".repeat(fraction - digits.length)}${digits}`;
  }
  return x < 0 ? "-" + digits : digits;
}

/** `[[1,2],[3,4]]` for a row-major [rows, cols] array of float32 values. */
function matrixJson(data: Float32Array, cols: number): string {
  const rows = cols === 0 ? 0 : data.length / cols;
  const parts = new Array<string>(rows);
  for (let r = 0; r < rows; r++) {
    let row = "[";
    for (let c = 0, at = r * cols; c < cols; c++, at++) row += (c ? "," : "") + float32Json(data[at]);
    parts[r] = row + "]";
  }
  return "[" + parts.join(",") + "]";
}

/** A Uint8Array that owns its whole buffer (so it can be transferred alone): `a` itself, or a copy. */
export function ownBytes(a: Float32Array | Uint8Array): Uint8Array {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  return a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && !(a.buffer instanceof SharedArrayBuffer) ? bytes : bytes.slice();
}

/** A Float32Array that owns its whole buffer: `a` itself, or a copy. */
export function ownFloats(a: Float32Array): Float32Array {
  return a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && !(a.buffer instanceof SharedArrayBuffer) ? a : a.slice();
}

export interface EncodedAnswer {
  contentType: string;
  /** The answer's bytes: a raw answer's are a view of the output (which may be an answer slot), not a copy. */
  bytes: Uint8Array;
  headers?: Record<string, string>;
}

/**
 * Writes a sequence's results in `format`. `steps` is given for a session's step (its total steps after it): then
 * the answer holds no state, which stays in the server (in JSON it would be most of the answer for a short chunk:
 * h and c of every layer against one row of output).
 */
export function encodeAnswer(r: SequenceAnswer, info: ModelInfo, format: BodyFormat, steps?: number): EncodedAnswer {
  const T = r.output.length / info.outputSize;
  const [rows, P] = info.stateShape.h;
  const session = steps !== undefined;
  const stepHeader: Record<string, string> = session ? { "x-session-steps": String(steps) } : {};
  if (format === "raw") {
    return { contentType: MEDIA_TYPES.raw, bytes: new Uint8Array(r.output.buffer, r.output.byteOffset, r.output.byteLength), headers: { "x-shape": `${T},${info.outputSize}`, ...stepHeader } };
  }
  if (format === "safetensors") {
    const tensors: Record<string, Tensor> = { output: { shape: [T, info.outputSize], data: r.output } };
    if (r.head) tensors.head = { shape: [T, info.headSize], data: r.head };
    if (!session) tensors.h_n = { shape: [rows, P], data: r.hN };
    if (!session && r.cN && info.stateShape.c) tensors.c_n = { shape: [...info.stateShape.c], data: r.cN };
    return { contentType: MEDIA_TYPES.safetensors, bytes: saveSafetensors(tensors, session ? { steps: String(steps) } : undefined), headers: stepHeader };
  }
  let json = `{"output":${matrixJson(r.output, info.outputSize)}`;
  if (r.head) json += `,"head":${matrixJson(r.head, info.headSize)}`;
  if (session) json += `,"steps":${steps}`;
  else {
    json += `,"state":{"h":${matrixJson(r.hN, P)}`;
    if (r.cN && info.stateShape.c) json += `,"c":${matrixJson(r.cN, info.stateShape.c[1])}`;
    json += "}";
  }
  return { contentType: MEDIA_TYPES.json, bytes: utf8Out.encode(json + "}") };
}

/** The JSON error answer of a BodyError (or of any message and code). */
export function encodeError(message: string, code: string): EncodedAnswer {
  return { contentType: MEDIA_TYPES.json, bytes: utf8Out.encode(errorJson(message, code)) };
}
