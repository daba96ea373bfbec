// src/onnx/node.ts: what every operator shares: the kernel interface the graph runs, the context a kernel is built
// with, a node's attributes read with their types checked, and input checks whose messages name the node.
import { RnnError } from "../errors.js";
import type { BackendOptions } from "../recurrent-base.js";
import { AT, type AttributeMsg, type NodeMsg } from "./proto.js";
import { shapeText, tensorValue, type Value } from "./values.js";

/** One node, ready to run: values in (null for an absent optional input), values out (null where not wanted). */
export interface Kernel {
  run(inputs: (Value | null)[]): (Value | null)[];
  dispose(): void;
}

/** What a kernel is built with. */
export interface NodeContext {
  /** How messages name this node: `node "lstm_1" (LSTM)`. */
  what: string;
  /** Values fixed at load time (initializers no feed may replace, Constant outputs), by name. */
  constants: ReadonlyMap<string, Value>;
  /** The backend options given to fromOnnx, for the wasm layers a recurrent node builds. */
  backend: BackendOptions;
  /** The model's opset of the default domain (operators that changed between opsets read both forms). */
  opset: number;
  /** Tests only: run every recurrent node on the plain-TypeScript ONNX path, whatever its attributes. */
  onnxReference?: boolean;
}

export function describeNode(node: NodeMsg, index: number): string {
  return node.name ? `node "${node.name}" (${node.opType})` : `node #${index} (${node.opType})`;
}

const TYPE_NAMES: Record<number, string> = { 1: "FLOAT", 2: "INT", 3: "STRING", 4: "TENSOR", 5: "GRAPH", 6: "FLOATS", 7: "INTS", 8: "STRINGS", 9: "TENSORS", 10: "GRAPHS" };

/** A node's attributes by name; unknown ones refused when constructed, types checked when read. */
export class Attributes {
  private readonly byName = new Map<string, AttributeMsg>();

  constructor(node: NodeMsg, private readonly what: string, known: readonly string[]) {
    for (const a of node.attributes) {
      if (!known.includes(a.name)) {
        throw new RnnError("unexpected", `${what}: attribute ${a.name} is not one rnn-wasm/onnx knows for ${node.opType} (known: ${known.join(", ") || "none"})`);
      }
      this.byName.set(a.name, a);
    }
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  private get(name: string, type: number): AttributeMsg | undefined {
    const a = this.byName.get(name);
    if (a && a.type !== 0 && a.type !== type) {
      throw new RnnError("format", `${this.what}: attribute ${name} is ${TYPE_NAMES[a.type] ?? a.type}, expected ${TYPE_NAMES[type]}`);
    }
    return a;
  }

  int(name: string, fallback: number): number {
    return this.get(name, AT.INT)?.i ?? fallback;
  }

  float(name: string, fallback: number): number;
  float(name: string, fallback: null): number | null;
  float(name: string, fallback: number | null): number | null {
    return this.get(name, AT.FLOAT)?.f ?? fallback;
  }

  string(name: string, fallback: string): string {
    return this.get(name, AT.STRING)?.s ?? fallback;
  }

  strings(name: string): string[] | null {
    return this.get(name, AT.STRINGS)?.strings ?? null;
  }

  floats(name: string): number[] | null {
    return this.get(name, AT.FLOATS)?.floats ?? null;
  }

  ints(name: string): number[] | null {
    return this.get(name, AT.INTS)?.ints ?? null;
  }

  tensor(name: string): Value | null {
    const a = this.get(name, AT.TENSOR);
    return a?.t ? tensorValue(a.t, `${this.what}: attribute ${name}`) : null;
  }
}

/** Input `k` of a node, which must be present and of the given kind. */
export function need(inputs: (Value | null)[], k: number, name: string, what: string, kind?: "float" | "int"): Value {
  const v = inputs[k] ?? null;
  if (v === null) throw new RnnError("missing", `${what}: input ${k} (${name}) is required`);
  if (kind && v.kind !== kind) throw new RnnError("dtype", `${what}: input ${name} must be a ${kind} tensor`);
  return v;
}

/** Checks a value's shape: a number must match, null matches any size. */
export function checkShape(v: Value, want: readonly (number | null)[], name: string, what: string): void {
  if (v.shape.length !== want.length || !want.every((d, k) => d === null || d === v.shape[k])) {
    const form = `[${want.map((d) => (d === null ? "*" : String(d))).join(", ")}]`;
    throw new RnnError("shape", `${what}: ${name} has shape ${shapeText(v.shape)}, expected ${form}`);
  }
}
