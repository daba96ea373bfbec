// src/errors.ts: the one error type the library throws, with a code a caller can branch on.
// Messages name the tensor (or file, or option) and what was expected, so a user can fix the call.

/**
 * What went wrong, for a program to branch on (the message says it for a person):
 *
 * | code | when |
 * |---|---|
 * | `shape` | wrong rank or size of an input, state or weight, or an invalid size option |
 * | `dtype` | `data` is not a `Float32Array`, or a file holds a dtype other than F32/F16/BF16/F64 |
 * | `nonfinite` | NaN or Infinity where the NaN policy forbids it |
 * | `missing` | a required tensor or option is absent |
 * | `unexpected` | a tensor or option that does not belong |
 * | `format` | a malformed or truncated safetensors file |
 * | `disposed` | a call on a layer, cell or optimizer after `dispose()` |
 * | `state` | a call the object's state does not allow (such as `backward()` without a training forward) |
 * | `memory` | the wasm memory cannot hold what a call needs |
 * | `init` | the wasm is not loaded, cannot be found, or cannot be compiled here |
 * | `overloaded` | serving: a queue or a session store is full (try again later; a server answers 429) |
 * | `aborted` | serving: the request's AbortSignal fired before its batch started |
 * | `closed` | serving: a call on a batcher, session store or pool after `close()` |
 */
export type RnnErrorCode =
  | "shape"      // wrong rank or size
  | "dtype"      // not a Float32Array, or a file dtype we do not read
  | "nonfinite"  // NaN or Infinity where the NaN policy forbids it
  | "missing"    // a required tensor or option is absent
  | "unexpected" // a tensor or option that does not belong
  | "format"     // a malformed or truncated file
  | "disposed"   // use after dispose()
  | "state"      // a call that the object's state does not allow
  | "memory"     // the wasm memory cannot hold what a call needs
  | "init"       // wasm not loaded, or failed to load
  | "overloaded" // a serving queue or session store is at its cap
  | "aborted"    // a serving request was cancelled before it ran
  | "closed";    // a serving object was closed

/**
 * The one error type the library throws. Its `message` names the tensor, option or file and what was expected;
 * its `code` says which kind of problem it is.
 *
 * @example
 * ```ts
 * try {
 *   lstm.forward(tensor([5, 2, 7])); // an LSTM with inputSize 3
 * } catch (e) {
 *   if (e instanceof RnnError && e.code === "shape") console.log(e.message); // input has shape [5, 2, 7], expected [*, *, 3]
 *   else throw e;
 * }
 * ```
 */
export class RnnError extends Error {
  /** Which kind of problem this is; see {@link RnnErrorCode}. */
  readonly code: RnnErrorCode;
  /**
   * An error with a code and a message.
   *
   * @param code which kind of problem
   * @param message what is wrong, naming the tensor, option or file
   */
  constructor(code: RnnErrorCode, message: string) {
    super(message);
    this.name = "RnnError";
    this.code = code;
  }
}
