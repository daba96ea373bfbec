// src/keras/readers.ts: the two file formats inside a `.keras` file, read with well-kept libraries: the zip archive
// with fflate's unzipSync and the HDF5 weights (model.weights.h5) with jsfive (pure JavaScript, pako for gzip; it
// reads chunked and compressed datasets). Neither uses eval or new Function, so both run in Workers. This is the one
// module that imports them; `npm run build:ts` replaces its compiled file, dist/src/keras/readers.js, with an
// esbuild bundle of it and the parts of the libraries it uses, and the Node bundle inlines it too, so the published
// package imports no dependency at runtime. Its declarations name no type of the libraries.
//
// Errors are the libraries' own (Error, RangeError, or a thrown string from jsfive); src/keras/model.ts turns them
// into RnnError('format') naming the file.
// fflate/browser: its runtime-neutral build (the node one imports "module" for worker threads we do not use)
import { unzipSync } from "fflate/browser";
import { Dataset, File, Group } from "jsfive";

/** The archive's files by name, each its uncompressed bytes. */
export function unzipFiles(bytes: Uint8Array): Record<string, Uint8Array> {
  return unzipSync(bytes);
}

/** One dataset of an HDF5 file. */
export interface H5Dataset {
  /** Its path from the root, `/`-separated without a leading slash (`layers/lstm/cell/vars/0`). */
  path: string;
  shape: number[];
  /** numpy's type string as the file records it: `<f4` for float32, `<f8` for float64, ... */
  dtype: string;
  /** Reads its values (they are read only when asked: optimizer variables are never read). */
  read(): ArrayLike<number>;
}

/** Every dataset of the HDF5 file `bytes`, walking its groups from the root. */
export function h5Datasets(bytes: Uint8Array): H5Dataset[] {
  const buffer = bytes.slice().buffer; // jsfive reads an ArrayBuffer from offset 0
  const file = new File(buffer, "model.weights.h5");
  const out: H5Dataset[] = [];
  const walk = (group: Group, prefix: string): void => {
    for (const key of group.keys) {
      const path = prefix ? `${prefix}/${key}` : key;
      const child = group.get(key);
      if (child instanceof Dataset) {
        const dtype = typeof child.dtype === "string" ? child.dtype : JSON.stringify(child.dtype);
        out.push({ path, shape: [...child.shape], dtype, read: () => child.value });
      } else {
        walk(child, path);
      }
    }
  };
  walk(file, "");
  return out;
}
