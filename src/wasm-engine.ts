// src/wasm-engine.ts: runs a recurrent stack on the wasm kernels. Owns three kinds of wasm memory: the packed
// parameters (layout.ts), their gradients in the same layout (allocated at the first training forward), and a
// workspace that grows only when a call needs more than it has. Per layer and direction: one gemm for the
// input projection of a chunk of timesteps (about 256 rows of T*B; the whole sequence when training), then one
// kernel call for the chunk's recurrence, so inference's workspace holds a chunk of x and xz, not all of it
// (layout.ts chunkSteps). Layer k > 0 reads layer k-1's hidden states in place (each direction's block is a
// (T,B,Pp) matrix), so nothing is copied between layers. Backward mirrors it: one kernel call per layer and direction walks time in reverse, then the weight
// gradients of all timesteps are each one matrix-matrix product.
import type { Engine, EngineGradients, EngineResult } from "./engine.js";
import { noTape } from "./engine.js";
import { wasmBuffer, type ParamBuffer } from "./param-buffer.js";
import type { Runtime } from "./runtime.js";
import { Blocks, Workspace as Scratch } from "./blocks.js";
import { zeros } from "./tensor.js";
import type { ParamRole, Spec } from "./architecture.js";
import { directions, gateCount, layerInputSize, outputSize, paramSuffix } from "./architecture.js";
import { gateWidth, paramLayout, roundUp4, trainWorkspaceLayout, transposedLayout, unpack, workspaceLayout, type ParamLayout, type TrainWorkspace, type Workspace } from "./layout.js";

export class WasmEngine implements Engine {
  private readonly rt: Runtime;
  private readonly blocks: Blocks;
  private readonly scratch: Scratch;
  private readonly spec: Spec;
  private readonly layout: ParamLayout;
  private readonly offsets: Record<ParamRole, number>[][];
  private layoutCache: { T: number; B: number; train: boolean; ws: Workspace | TrainWorkspace } | null = null;
  private paramsPtr = 0;
  private gradsPtr = 0;
  private transPtr = 0; // transposed weight copies for backward (layout.ts transposedLayout)
  private tape: { T: number; B: number; ws: TrainWorkspace; lengths: Int32Array | null } | null = null;

  constructor(rt: Runtime, spec: Spec, params: Record<string, Float32Array>, what: string) {
    this.rt = rt;
    this.spec = spec;
    this.layout = paramLayout(spec);
    this.blocks = new Blocks(rt, this, what);
    this.scratch = new Scratch(this.blocks, "the workspace");
    // byte-free float offsets of every parameter by layer, direction and role (-1 when the model has none)
    this.offsets = Array.from({ length: spec.numLayers }, (_, l) => Array.from({ length: directions(spec) }, (_, d) => {
      const o = {} as Record<ParamRole, number>;
      for (const role of ["weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr"] as ParamRole[]) {
        o[role] = this.layout.byName.get(role + paramSuffix(spec, l, d))?.offset ?? -1;
      }
      return o;
    }));
    // PyTorch's tensors go through one scratch block and are packed by the kernel (layout.ts's pack, in wasm)
    let largest = 0;
    for (const p of this.layout.params) largest = Math.max(largest, p.G * p.R * p.C);
    try {
      this.paramsPtr = this.blocks.alloc(this.layout.totalFloats * 4, "the parameters");
      const scratch = this.blocks.alloc(largest * 4, "the packing scratch");
      for (const p of this.layout.params) {
        rt.f32(scratch, p.G * p.R * p.C).set(params[p.name]);
        rt.kernels.packWeights(this.paramsPtr + p.offset * 4, scratch, p.G, p.R, p.C);
      }
      this.blocks.free(scratch);
    } catch (e) {
      this.blocks.freeAll();
      throw e;
    }
  }

  private unpackBlock(ptr: number): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    if (!ptr) {
      for (const p of this.layout.params) out[p.name] = new Float32Array(p.G * p.R * p.C);
      return out;
    }
    const block = this.rt.f32(ptr, this.layout.totalFloats);
    for (const p of this.layout.params) out[p.name] = unpack(block.subarray(p.offset, p.offset + p.size), p.G, p.R, p.C);
    return out;
  }

  toTorch(): Record<string, Float32Array> {
    return this.unpackBlock(this.paramsPtr);
  }

  grads(): Record<string, Float32Array> {
    return this.unpackBlock(this.gradsPtr);
  }

  zeroGrad(): void {
    if (this.gradsPtr) this.rt.f32(this.gradsPtr, this.layout.totalFloats).fill(0);
  }

  private ensureGrads(): void {
    if (this.gradsPtr) return;
    this.gradsPtr = this.blocks.alloc(this.layout.totalFloats * 4, "the parameter gradients");
    this.rt.f32(this.gradsPtr, this.layout.totalFloats).fill(0);
  }

  parameterBuffers(alive: () => void): ParamBuffer[] {
    this.ensureGrads();
    return [wasmBuffer(this.rt, this.paramsPtr, this.gradsPtr, this.layout.totalFloats, alive)];
  }

  /** Byte address of parameter `role` of layer l, direction d in `block` (params or grads), or 0 when absent. */
  private at(block: number, role: ParamRole, l: number, d: number): number {
    const off = this.offsets[l][d][role];
    return off < 0 ? 0 : block + off * 4;
  }

  forward(x: Float32Array, T: number, B: number, h0: Float32Array | null, c0: Float32Array | null, train: boolean,
    lengths: Int32Array | null): EngineResult {
    const { rt, spec } = this;
    const k = rt.kernels;
    const { D, L, H, Hp, P, Pp, GHp, I } = dims(spec);
    this.tape = null;
    // Inference ping-pongs two sets of state buffers, reuses one step's gates and projects the input a chunk of
    // timesteps at a time; training keeps everything for backward, so its one chunk is the whole sequence.
    const c = this.layoutCache;
    const ws = c && c.T === T && c.B === B && c.train === train
      ? c.ws
      : (this.layoutCache = { T, B, train, ws: train ? trainWorkspaceLayout(spec, T, B) : workspaceLayout(spec, T, B) }).ws;
    const tws = train ? (ws as TrainWorkspace) : null;
    const iws = train ? null : (ws as Workspace);
    const base = this.scratch.get((tws ?? iws)!.totalFloats, () => `the ${train ? "training" : "inference"} workspace for T = ${T}, B = ${B}`);
    if (train) this.ensureGrads(); // after the workspace, so a call refused for its size allocates nothing
    const at = (floatOffset: number) => base + floatOffset * 4;
    const xOff = (tws ?? iws)!.x, xzOff = (tws ?? iws)!.xz;
    const lens = lengths ? at((tws ?? iws)!.lengths) : 0;
    const chunk = iws ? iws.chunk : T;
    const run = (l: number, d: number) => tws
      ? tws.runs[l][d]
      : { hs: iws!.hs[l % iws!.hs.length][d], cs: iws!.cs, gates: iws!.gates };
    // one allocation for all three results: a Float32Array of more than 64 bytes lives off the V8 heap, and
    // allocating one costs about as much as a small layer's whole step
    const [output, hN, cAll] = carve([T * B * D * P, L * D * B * P, spec.kind === "lstm" ? L * D * B * H : 0]);
    const cN = spec.kind === "lstm" ? cAll : null;

    for (let l = 0; l < L; l++) {
      for (let d = 0; d < D; d++) {
        const wih = this.at(this.paramsPtr, "weight_ih", l, d), bih = this.at(this.paramsPtr, "bias_ih", l, d);
        const whh = this.at(this.paramsPtr, "weight_hh", l, d), bhh = this.at(this.paramsPtr, "bias_hh", l, d);
        const state = (l * D + d) * B;
        const r = run(l, d);
        const hs = at(r.hs), cs = at(r.cs), gates = at(r.gates);
        const keep = train ? 1 : 0;
        // chunks [t0, t0 + n) of the sequence, in the direction's order of time; the reverse direction starts with
        // the last (possibly shorter) chunk. The hidden states go straight to their slots of hs (slot t0 holds the
        // state the chunk starts from); the LSTM's cell states live in a (n+1)-slot block, carried between chunks.
        const chunks = Math.ceil(T / chunk);
        let cLast = 0; // byte address of the LSTM cell state the last chunk ended on
        writeRows(rt.heap(), hs + (d === 1 ? T : 0) * B * Pp * 4, h0, state * P, B, P, Pp);
        for (let i = 0; i < chunks; i++) {
          const t0 = (d === 1 ? chunks - 1 - i : i) * chunk;
          const n = Math.min(chunk, T - t0);
          // the chunk's cell state slot to start from: slot 0 forward, slot n reverse
          const cFirst = cs + (d === 1 ? n : 0) * B * Hp * 4;
          if (spec.kind === "lstm") {
            if (i === 0) writeRows(rt.heap(), cFirst, c0, state * H, B, H, Hp);
            else rt.heap().copyWithin(cFirst >>> 2, cLast >>> 2, (cLast >>> 2) + B * Hp);
          }
          // xz = input · W_ihᵀ + b_ih for the chunk's n*B rows
          if (l === 0) {
            rt.f32(at(xOff), n * B * I).set(x.subarray(t0 * B * I, (t0 + n) * B * I));
            k.gemm(at(xzOff), GHp, at(xOff), I, wih, I * 8, bih, n * B, I, GHp, 0);
          } else {
            // the input is the layer below's directions side by side: one product per direction's row block
            for (let e = 0; e < D; e++) {
              const below = outputsOf(at(run(l - 1, e).hs), e, B, Pp) + t0 * B * Pp * 4;
              k.gemm(at(xzOff), GHp, below, Pp, wih + e * P * 32, D * P * 8, e === 0 ? bih : 0, n * B, P, GHp, e);
            }
          }
          if (lengths) { // the kernels compare the chunk's own step numbers with the lengths
            const shifted = new Int32Array(k.memory.buffer, lens, B);
            for (let b = 0; b < B; b++) shifted[b] = lengths[b] - t0;
          }
          const hsChunk = hs + t0 * B * Pp * 4;
          if (spec.kind === "lstm") {
            k.lstmForward(hsChunk, cs, gates, at(xzOff), whh, bhh, this.at(this.paramsPtr, "weight_hr", l, d), n, B, H, P, d, keep, lens);
            cLast = cs + (d === 1 ? 0 : n) * B * Hp * 4;
          } else if (spec.kind === "gru") {
            k.gruForward(hsChunk, gates, at(xzOff), whh, bhh, n, B, H, spec.resetAfter ? 1 : 0, d, keep, lens);
          } else {
            k.rnnForward(hsChunk, at(xzOff), whh, bhh, n, B, H, spec.nonlinearity === "relu" ? 1 : 0, d, lens);
          }
        }
        if (cN) readRows(cN, state * H, rt.heap(), cLast, B, H, Hp);
        readRows(hN, state * P, rt.heap(), hs + (d === 1 ? 0 : T) * B * Pp * 4, B, P, Pp);
      }
    }
    // the last layer's outputs, interleaved by direction: (T,B,D*P)
    for (let d = 0; d < D; d++) {
      const hs = rt.f32(outputsOf(at(run(L - 1, d).hs), d, B, Pp), T * B * Pp);
      for (let r = 0; r < T * B; r++) {
        if (lengths && Math.floor(r / B) >= lengths[r % B]) continue; // zeros past a row's end, as PyTorch pads
        output.set(hs.subarray(r * Pp, r * Pp + P), (r * D + d) * P);
      }
    }
    if (tws) this.tape = { T, B, ws: tws, lengths: lengths && lengths.slice() };
    return { output, hN, cN };
  }

  backward(dOutput: Float32Array | null, dhN: Float32Array | null, dcN: Float32Array | null): EngineGradients {
    if (!this.tape) throw noTape();
    const { T, B, ws, lengths } = this.tape;
    const lens = lengths ? this.scratch.address + ws.lengths * 4 : 0;
    this.tape = null;
    const { rt, spec } = this;
    const k = rt.kernels;
    const { D, L, H, Hp, P, Pp, GHp, I } = dims(spec);
    const width = gateWidth(spec);
    const at = (floatOffset: number) => this.scratch.address + floatOffset * 4;
    const w = (role: ParamRole, l: number, d: number) => this.at(this.paramsPtr, role, l, d);
    const g = (role: ParamRole, l: number, d: number) => this.at(this.gradsPtr, role, l, d);
    const [dx, dh0, dcAll] = carve([T * B * I, L * D * B * P, spec.kind === "lstm" ? L * D * B * H : 0]);
    const dc0 = spec.kind === "lstm" ? dcAll : null;
    const tr = this.transposeWeights();

    // the top layer's upstream gradient, split by direction into padded (T,B,Pp) blocks
    const top = ws.dhs[(L - 1) % ws.dhs.length];
    for (let d = 0; d < D; d++) {
      const dst = rt.f32(at(top[d]), T * B * Pp);
      dst.fill(0);
      if (!dOutput) continue;
      for (let r = 0; r < T * B; r++) {
        if (lengths && Math.floor(r / B) >= lengths[r % B]) continue; // padding outputs have no gradient
        dst.set(dOutput.subarray((r * D + d) * P, (r * D + d + 1) * P), r * Pp);
      }
    }
    for (let l = L - 1; l >= 0; l--) {
      const cur = ws.dhs[l % ws.dhs.length];
      const below = l > 0 ? ws.dhs[(l - 1) % ws.dhs.length] : null;
      if (below) for (let e = 0; e < D; e++) rt.f32(at(below[e]), T * B * Pp).fill(0);
      for (let d = 0; d < D; d++) {
        const state = (l * D + d) * B;
        const { hs, cs, gates } = ws.runs[l][d];
        const reverse = d === 1;
        const dhs = at(cur[d]);
        writeRows(rt.heap(), at(ws.dh), dhN, state * P, B, P, Pp);
        if (spec.kind === "lstm") {
          writeRows(rt.heap(), at(ws.dc), dcN, state * H, B, H, Hp);
          const wr = w("weight_hr", l, d);
          k.lstmBackward(at(ws.dxz), dhs, at(ws.dh), at(ws.dc), at(ws.scratch), at(cs), at(gates), tr(l, d).whh, wr ? tr(l, d).whr : 0, T, B, H, P, d, lens);
          readRows(dc0!, state * H, rt.heap(), at(ws.dc), B, H, Hp);
          // dW_hr += r_tᵀ · dh_t over all steps (r waits in the gates' fifth block)
          if (wr) k.gemmBackwardWeight(g("weight_hr", l, d), H * 8, at(gates) + 4 * Hp * 4, width, dhs, Pp, T * B, H, Pp);
        } else if (spec.kind === "gru") {
          k.gruBackward(at(ws.dxz), at(ws.dzh), dhs, at(ws.dh), at(ws.scratch), at(hs), at(gates), tr(l, d).whh, T, B, H, spec.resetAfter ? 1 : 0, d, lens);
        } else {
          k.rnnBackward(at(ws.dxz), dhs, at(ws.dh), at(hs), tr(l, d).whh, T, B, H, spec.nonlinearity === "relu" ? 1 : 0, d, lens);
        }
        readRows(dh0, state * P, rt.heap(), at(ws.dh), B, P, Pp);
        // weight and bias gradients of all timesteps, one product each
        const hsPrev = at(hs) + (reverse ? 1 : 0) * B * Pp * 4; // h_{t-1} of step t, as T*B rows
        const dWh = g("weight_hh", l, d);
        if (spec.kind === "gru" && !spec.resetAfter) {
          // r, z columns from h_{t-1}; the n columns (2Hp/8 panels in) from r * h_{t-1}, kept in the gates
          k.gemmBackwardWeight(dWh, H * 8, hsPrev, Pp, at(ws.dzh), GHp, T * B, H, 2 * Hp);
          k.gemmBackwardWeight(dWh + 2 * Hp * H * 4, H * 8, at(gates) + 4 * Hp * 4, width, at(ws.dzh) + 2 * Hp * 4, GHp, T * B, H, Hp);
        } else {
          k.gemmBackwardWeight(dWh, P * 8, hsPrev, Pp, at(ws.dzh), GHp, T * B, P, GHp);
        }
        if (spec.bias) {
          k.biasBackward(g("bias_ih", l, d), at(ws.dxz), GHp, T * B, GHp);
          k.biasBackward(g("bias_hh", l, d), at(ws.dzh), GHp, T * B, GHp);
        }
        const dWih = g("weight_ih", l, d);
        if (l === 0) {
          k.gemmBackwardWeight(dWih, I * 8, at(ws.x), I, at(ws.dxz), GHp, T * B, I, GHp);
          k.gemm(at(ws.dx), I, at(ws.dxz), GHp, tr(l, d).wih[0], GHp * 8, 0, T * B, GHp, I, d);
        } else {
          for (let e = 0; e < D; e++) {
            const input = outputsOf(at(ws.runs[l - 1][e].hs), e, B, Pp);
            k.gemmBackwardWeight(dWih + e * P * 32, D * P * 8, input, Pp, at(ws.dxz), GHp, T * B, P, GHp);
            k.gemm(at(below![e]), Pp, at(ws.dxz), GHp, tr(l, d).wih[e], GHp * 8, 0, T * B, GHp, P, 1);
          }
        }
      }
    }
    dx.set(rt.f32(at(ws.dx), T * B * I));
    return { dx, dh0, dc0 };
  }

  /** Fills the transposed weight copies from the current weights; returns their addresses by layer and direction. */
  private transposeWeights(): (l: number, d: number) => { whh: number; whr: number; wih: number[] } {
    const { rt, spec } = this;
    const k = rt.kernels;
    const tl = transposedLayout(spec);
    if (!this.transPtr) this.transPtr = this.blocks.alloc(tl.totalFloats * 4, "the transposed weights for backward");
    const { D, P, H, GHp, Pp, I } = dims(spec);
    const at = (floatOffset: number) => this.transPtr + floatOffset * 4;
    const addrs = tl.runs.map((runs, l) => runs.map((r, d) => {
      const w = (role: ParamRole) => this.at(this.paramsPtr, role, l, d);
      k.packTransposed(at(r.whh), w("weight_hh"), P * 8, P, GHp);
      if (spec.projSize > 0) k.packTransposed(at(r.whr), w("weight_hr"), H * 8, H, Pp);
      if (l === 0) k.packTransposed(at(r.wih[0]), w("weight_ih"), I * 8, I, GHp);
      else for (let e = 0; e < D; e++) k.packTransposed(at(r.wih[e]), w("weight_ih") + e * P * 32, D * P * 8, P, GHp);
      return { whh: at(r.whh), whr: at(r.whr), wih: r.wih.map(at) };
    }));
    return (l, d) => addrs[l][d];
  }

  dispose(): void {
    this.blocks.freeAll();
    this.paramsPtr = this.gradsPtr = this.transPtr = 0;
    this.tape = null;
  }
}

/** Zeroed arrays of the given lengths, all views of one allocation. */
function carve(lengths: number[]): Float32Array[] {
  const all = zeros(lengths.reduce((s, n) => s + n, 0), "the results");
  let at = 0;
  return lengths.map((n) => all.subarray(at, (at += n)));
}

/** The sizes every method here uses: directions, layers, hidden and output sizes (padded), gate width, input. */
function dims(spec: Spec) {
  const H = spec.hiddenSize, P = outputSize(spec);
  return {
    D: directions(spec), L: spec.numLayers,
    H, Hp: roundUp4(H), P, Pp: roundUp4(P),
    GHp: gateCount(spec.kind) * roundUp4(H), I: layerInputSize(spec, 0),
  };
}

/** Address of a direction's outputs inside its (T+1,B,Pp) state block: slots 1..T forward, 0..T-1 reverse. */
function outputsOf(hs: number, d: number, B: number, Pp: number): number {
  return hs + (d === 1 ? 0 : B * Pp * 4);
}

/**
 * Copies B rows of n values from src (from index `offset`) into wasm memory at byte address `ptr`, rows of
 * stride np with the padding zeroed; zeros when src is null. `heap` is the runtime's whole-memory view.
 */
function writeRows(heap: Float32Array, ptr: number, src: Float32Array | null, offset: number, B: number, n: number, np: number): void {
  const base = ptr >>> 2;
  if (!src) {
    heap.fill(0, base, base + B * np);
  } else if (n === np) { // unpadded rows are one block: a memcpy rather than an element loop (a streaming step's state)
    heap.set(src.subarray(offset, offset + B * n), base);
  } else {
    heap.fill(0, base, base + B * np);
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < n; j++) heap[base + b * np + j] = src[offset + b * n + j];
    }
  }
}

/** Copies B rows of n values from wasm memory at byte address `ptr` (rows of stride np) into dst from `offset`. */
function readRows(dst: Float32Array, offset: number, heap: Float32Array, ptr: number, B: number, n: number, np: number): void {
  const base = ptr >>> 2;
  if (n === np) {
    dst.set(heap.subarray(base, base + B * n), offset);
    return;
  }
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < n; j++) dst[offset + b * n + j] = heap[base + b * np + j];
  }
}
