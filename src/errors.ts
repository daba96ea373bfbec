// src/errors.ts: the one error type the library throws, with a code a caller can branch on.
// Messages name the tensor (or file, or option) and what was expected, so a user can fix the call.

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
  | "init";      // wasm not loaded, or failed to load

export class RnnError extends Error {
  readonly code: RnnErrorCode;
  constructor(code: RnnErrorCode, message: string) {
    super(message);
    this.name = "RnnError";
    this.code = code;
  }
}
