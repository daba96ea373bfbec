// src/host-types.ts: the host types the public declarations name (a compiled WebAssembly module, a wasm memory, a
// fetch Response), looked up on globalThis rather than named directly, so the declarations compile in a project
// without the DOM lib (lib: ["es2022"] with @types/node 20 declares no WebAssembly namespace). Where the host
// declares them (the DOM lib, @cloudflare/workers-types, newer @types/node) they are the real types; where it does
// not, a source of that kind cannot be made anyway and the type is `never`.

/** A compiled module (`WebAssembly.Module`) where the host's types declare one. */
export type WasmModule = typeof globalThis extends {
  /** The host's WebAssembly namespace. */
  WebAssembly: {
    /** Its Module constructor. */
    Module: {
      /** The type of a compiled module. */
      prototype: infer M;
    };
  };
} ? M : never;

/** A fetch `Response` where the host's types declare one. */
export type FetchResponse = typeof globalThis extends {
  /** The host's Response constructor. */
  Response: {
    /** The type of a response. */
    prototype: infer R;
  };
} ? R : never;

/** What the library reads of a `WebAssembly.Memory`. */
export interface WasmMemory {
  /** The linear memory; replaced (and the old one detached) when memory grows. */
  readonly buffer: ArrayBuffer;
}
