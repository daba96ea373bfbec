// src/onnx/export-graph.ts: the graph toOnnx builds, node by node: every value (node output, initializer) gets a
// unique name from a readable stem, and the graph's outputs take the names the caller asks for. Each value carries
// its dims (sizes, or the symbolic names of the dynamic axes), so graph outputs are declared with their shapes.
import { RnnError } from "../errors.js";
import { DT } from "./proto.js";
import type { AttributeOut, GraphOut, NodeOut, TensorOut, ValueOut } from "./export-proto.js";

export type Dims = (number | string)[];

/** A value of the graph being built: its name and dims. */
export interface Edge {
  name: string;
  dims: Dims;
}

export class GraphBuilder {
  private readonly nodes: NodeOut[] = [];
  private readonly initializers: TensorOut[] = [];
  private readonly inputs: ValueOut[] = [];
  private readonly outputs: ValueOut[] = [];
  private readonly used = new Set<string>();
  private readonly producedBy = new Map<string, NodeOut>();

  /** `stem`, or `stem_1`, `stem_2`, ... : a name no other value of the graph has. */
  private fresh(stem: string): string {
    let name = stem;
    for (let k = 1; this.used.has(name); k++) name = `${stem}_${k}`;
    this.used.add(name);
    return name;
  }

  /** Declares a graph input (float32 unless `elemType` says otherwise). */
  input(name: string, dims: Dims, elemType: number = DT.FLOAT): Edge {
    if (this.used.has(name)) throw new RnnError("unexpected", `toOnnx: graph input name ${name} is taken`);
    this.used.add(name);
    this.inputs.push({ name, elemType, dims });
    return { name, dims };
  }

  /** A float32 initializer. */
  weight(stem: string, dims: number[], data: Float32Array): Edge {
    const name = this.fresh(stem);
    this.initializers.push({ name, dims, float: data });
    return { name, dims };
  }

  /** An int64 initializer (shapes, axes, indices); `dims` [] for a scalar. */
  ints(stem: string, values: number[], dims: number[] = [values.length]): string {
    const name = this.fresh(stem);
    this.initializers.push({ name, dims, int64: values });
    return name;
  }

  /**
   * A node: `inputs` by name ("" for an optional input left out, trailing ones dropped), one output per entry of
   * `outputs` (each a stem and its dims). Returns the output edges.
   */
  node(opType: string, stem: string, inputs: string[], outputs: { stem: string; dims: Dims }[], attributes: Record<string, AttributeOut> = {}): Edge[] {
    const ins = [...inputs];
    while (ins.length > 0 && ins[ins.length - 1] === "") ins.pop();
    const outs = outputs.map((o) => ({ name: this.fresh(o.stem), dims: o.dims }));
    const node: NodeOut = { name: this.fresh(`${stem}/${opType}`), opType, inputs: ins, outputs: outs.map((o) => o.name), attributes };
    this.nodes.push(node);
    for (const o of outs) this.producedBy.set(o.name, node);
    return outs;
  }

  /** A node with one output. */
  node1(opType: string, stem: string, inputs: string[], dims: Dims, attributes: Record<string, AttributeOut> = {}): Edge {
    return this.node(opType, stem, inputs, [{ stem, dims }], attributes)[0];
  }

  /**
   * Declares `edge` a graph output named `name`: the node computing it renames its output (and every reader of it)
   * when nothing else holds that name; an Identity node otherwise (a graph input passed straight through).
   */
  output(edge: Edge, name: string, elemType: number = DT.FLOAT): void {
    const node = this.producedBy.get(edge.name);
    if (this.used.has(name) && name !== edge.name) throw new RnnError("unexpected", `toOnnx: graph output name ${name} is taken`);
    this.used.add(name);
    if (node && !this.outputs.some((o) => o.name === edge.name)) {
      const rename = (list: string[]) => list.forEach((v, k) => v === edge.name && (list[k] = name));
      for (const n of this.nodes) { rename(n.inputs); rename(n.outputs); }
      this.producedBy.delete(edge.name);
      this.producedBy.set(name, node);
    } else {
      this.nodes.push({ name: this.fresh(`${name}/Identity`), opType: "Identity", inputs: [edge.name], outputs: [name], attributes: {} });
    }
    this.outputs.push({ name, elemType, dims: edge.dims });
  }

  /** The graph as written. */
  finish(name: string): GraphOut {
    return { name, nodes: this.nodes, initializers: this.initializers, inputs: this.inputs, outputs: this.outputs };
  }
}
