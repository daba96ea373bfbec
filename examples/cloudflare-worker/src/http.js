// The HTTP side of the Worker, apart from any model: JSON answers and errors, a request body read with a byte cap
// before anything parses it, and library errors translated for HTTP clients.
//
// Cloudflare gives an isolate 128 MB and does not bound a request body: a Worker that calls request.json() on
// whatever arrives holds the whole body, its string and the parsed objects at once (a 50 MB body took workerd from
// 67 to 327 MB and never gave it back). So the body is counted as it is read and refused past a limit.

/** An answer with a 4xx or 5xx status, whose message is written for the HTTP client. */
export class HttpError extends Error {
  /**
   * @param {number} status
   * @param {string} message what is wrong with the request, in the request's own terms
   * @param {Record<string, string>} [headers] e.g. `allow` for 405
   */
  constructor(status, message, headers = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
  }
}

/** A JSON answer. */
export const json = (body, status = 200, headers = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

/** `{"error": message}` with the error's status. */
export const errorResponse = (e) => json({ error: e.message }, e.status, e.headers);

/**
 * Refuses (415) a request whose Content-Type is not `application/json`; a charset, if given, must be UTF-8
 * (the one JSON may be sent in). Checked from the header alone, before the body is read.
 */
export function requireJson(request) {
  const type = request.headers.get("content-type") ?? "";
  const [media, ...params] = type.toLowerCase().split(";").map((s) => s.trim());
  const charset = params.find((p) => p.startsWith("charset="))?.slice(8).replace(/"/g, "");
  if (media !== "application/json" || (charset !== undefined && charset !== "utf-8" && charset !== "utf8")) {
    throw new HttpError(415, `content-type must be application/json (UTF-8), not ${type === "" ? "absent" : JSON.stringify(clip(type))}`);
  }
}

/**
 * The request body's bytes, refusing (413) a body of more than `limit` bytes before it is read: at once when
 * Content-Length says so, otherwise (a chunked body) by counting bytes as they arrive through the body's reader and
 * cancelling the read as soon as the count passes `limit`. At most `limit` bytes (plus one chunk) are ever held.
 */
export async function readCapped(request, limit) {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) {
    throw new HttpError(413, `the body is ${clip(declared)} bytes; at most ${limit} bytes per request`);
  }
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      reader.cancel().catch(() => {}); // stop pulling; what the client still sends is dropped, not buffered
      throw new HttpError(413, `the body is more than ${limit} bytes; at most ${limit} bytes per request`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return bytes;
}

/** The body as JSON: a JSON content-type (415), at most `limit` bytes (413), UTF-8 and valid JSON (400). */
export async function readJson(request, limit) {
  requireJson(request);
  const bytes = await readCapped(request, limit);
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new HttpError(400, "the body is not valid JSON (not UTF-8)");
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, `the body is not valid JSON (${clip(String(e.message))})`);
  }
}

/**
 * What an HTTP client is told when the library throws RnnError `e` on a request that passed the Worker's own checks.
 * The library's messages are written for programs that call it: they name tensors (`h0`, flat indices) and advise
 * options (`nanPolicy`) that an HTTP client cannot pass. So the message goes to the log, and the client gets one
 * in its request's terms: `fields` lists the request's arrays under the names the client wrote them, each with its
 * row width (0 for a flat array), so a non-finite value is named as `input[t][i]` or `state.h[i]`.
 *
 * @param {{ code: string, message: string }} e
 * @param {Array<[name: string, data: Float32Array, width: number]>} fields
 * @returns {HttpError}
 */
export function libraryError(e, fields) {
  console.error(`rnn-wasm: ${e.code}: ${e.message}`);
  switch (e.code) {
    case "nonfinite": {
      const where = firstNonFinite(fields);
      return where === null
        ? new HttpError(500, "internal error: the model's weights hold a value that is not finite")
        : new HttpError(400, `${where}, not a finite float32`);
    }
    case "shape":
      return new HttpError(400, "the request's sizes do not fit the model (GET / gives them)");
    case "memory":
      return new HttpError(503, "the Worker has no memory for this request: send fewer timesteps");
    default:
      return new HttpError(500, `internal error (${e.code})`);
  }
}

/**
 * Refuses (422) a result that holds NaN or Infinity, which JSON would turn into `null` without a word: the model
 * overflowed float32 on this request's values. `fields` as for libraryError, named as the response names them.
 */
export function requireFinite(fields) {
  const where = firstNonFinite(fields);
  if (where !== null) throw new HttpError(422, `the model's result overflows float32 for this request: ${where}`);
}

/** "input[3][5] is NaN" for the first value of `fields` that is not finite, or null. */
function firstNonFinite(fields) {
  for (const [name, data, width] of fields) {
    if (!data) continue;
    for (let k = 0; k < data.length; k++) {
      if (Number.isFinite(data[k])) continue;
      const at = width > 0 ? `[${Math.floor(k / width)}][${k % width}]` : `[${k}]`;
      return `${name}${at} is ${data[k]}`;
    }
  }
  return null;
}

/** `s` cut to 100 characters, for echoing what a client sent inside an error message. */
export const clip = (s) => (s.length > 100 ? `${s.slice(0, 100)}...` : s);
