// src/keras/jsfive.d.ts: the part of jsfive's API that src/keras/readers.ts uses (jsfive ships no declarations).
declare module "jsfive" {
  export class Group {
    readonly keys: string[];
    get(path: string): Group | Dataset;
  }
  export class File extends Group {
    constructor(buffer: ArrayBuffer, filename?: string);
  }
  export class Dataset {
    readonly shape: number[];
    /** numpy-style type string: '<f4', '<f8', '<i8', ... */
    readonly dtype: string | object;
    readonly value: ArrayLike<number>;
  }
}
