// cli/test/quantize-head.test.ts: `rnn-wasm quantize` keeps a model's Linear head (issue 14). A model saved as
// `rnn-wasm train` saves one (the recurrent module under 'rnn.', an nn.Linear under 'head.') is quantized on the command
// line (main() in-process); the file holds the head's tensors in float32 under the same names, bit for bit, beside the
// quantized ones; and `rnn-wasm serve` on that file (a real server on a loopback port, its workers the built
// worker.js) answers `head` equal, bit for bit, to the float head applied to what loadQuantized(file) computes in this
// process (the same wasm build and integer form there and here: serve-quantized.test.ts says why the bits agree).
// --head-prefix finds a head elsewhere; a head that does not fit the layer fails naming the tensor.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  GRU, init, Linear, loadQuantized, loadSafetensors, LSTM, tensor, type QuantizedLayer, type RecurrentLayer, type Tensor,
} from "rnn-wasm";
import { call, f32, nested, rows, saveModel, serve, type TestServer } from "./serve-helpers.js";
import { cliInProcess, describeRun, requireLibraryBuild, tempDir, writeTensors } from "./helpers.js";

let dir: string;
let lstm: RecurrentLayer, gru: RecurrentLayer, lstmHead: Linear, gruHead: Linear;
let lstmFile: string, gruFile: string;
let servers: TestServer[] = [];

beforeAll(async () => {
  requireLibraryBuild();
  await init();
  dir = tempDir();
  // as `rnn-wasm train` saves a model: rnn.weight_ih_l0, ..., head.weight, head.bias
  lstm = new LSTM({ inputSize: 5, hiddenSize: 12, numLayers: 2, seed: 31 });
  lstmHead = new Linear({ inFeatures: 12, outFeatures: 3, seed: 32 });
  lstmFile = saveModel(lstm, { prefix: "rnn.", head: lstmHead, dir, name: "lstm-head.safetensors" });
  // a bidirectional GRU whose head sits under 'decoder.' (--head-prefix): the head reads both directions
  gru = new GRU({ inputSize: 4, hiddenSize: 6, bidirectional: true, seed: 33 });
  gruHead = new Linear({ inFeatures: 12, outFeatures: 2, seed: 34 });
  const tensors: Record<string, Tensor> = { ...gru.toTorch() };
  for (const [k, v] of Object.entries(gruHead.toTorch())) tensors[`decoder.${k}`] = v;
  gruFile = writeTensors(join(dir, "gru-decoder.safetensors"), tensors);
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  for (const m of [lstm, gru, lstmHead, gruHead]) m?.dispose();
});

async function quantizeFile(model: string, out: string, args: string[] = []) {
  const r = await cliInProcess(["quantize", "--model", model, "--out", out, ...args]);
  expect(r.code, describeRun(r)).toBe(0);
  return r;
}

/**
 * The float head applied to loadQuantized's output for one unbatched sequence: what serve must answer. loadQuantized
 * reads the recurrent layer's tensors only, so it gets the file without the head's (as serve's loader gives it).
 */
function quantizedWithHead(file: string, input: number[][], head: Linear, headPrefix = "head.") {
  const st = loadSafetensors(readFileSync(file));
  for (const name of [headPrefix + "weight", headPrefix + "bias"]) delete st.tensors[name];
  const q = loadQuantized(st) as QuantizedLayer;
  try {
    const r = q.forward(tensor([input.length, input[0].length], Float32Array.from(input.flat())));
    return { output: r.output, head: head.forward(r.output).data };
  } finally {
    q.dispose();
  }
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe("rnn-wasm quantize keeps the Linear head", () => {
  it.each(["int8", "int12"] as const)("%s: the head's tensors are in the file, float32 and bit for bit, beside the quantized ones", async (dtype) => {
    const out = join(dir, `lstm-head-${dtype}.safetensors`);
    const r = await quantizeFile(lstmFile, out, ["--dtype", dtype]);
    expect(r.stdout).toMatch(new RegExp(`quantized ${dtype}, with its float32 head 'head\\.weight' and 'head\\.bias' \\(12 -> 3\\)`));
    const file = loadSafetensors(readFileSync(out));
    expect([file.metadata.format, file.metadata.head_prefix]).toEqual(["rnn-wasm quantized", "head."]);
    const want = lstmHead.toTorch();
    for (const name of ["weight", "bias"]) {
      const got = file.tensors[`head.${name}`];
      expect(got.shape, name).toEqual(want[name].shape);
      expect(bits(got.data), name).toEqual(bits(want[name].data));
    }
    expect(Object.keys(file.integers).sort()).toEqual(["weight_hh_l0", "weight_hh_l1", "weight_ih_l0", "weight_ih_l1"]);
    const json = JSON.parse((await cliInProcess(["quantize", "--model", lstmFile, "--dtype", dtype, "--out", join(dir, `j-${dtype}.safetensors`), "--json"])).stdout);
    expect(json.head).toEqual({ names: ["head.weight", "head.bias"], inFeatures: 12, outFeatures: 3 });
  });

  it("a model without a head gets none (and --json says nothing of one)", async () => {
    const bare = saveModel(lstm, { prefix: "rnn.", dir, name: "lstm-bare.safetensors" });
    const out = join(dir, "lstm-bare-int8.safetensors");
    const r = await cliInProcess(["quantize", "--model", bare, "--dtype", "int8", "--out", out, "--json"]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(JSON.parse(r.stdout).head).toBeUndefined();
    expect(Object.keys(loadSafetensors(readFileSync(out)).tensors).filter((n) => n.startsWith("head."))).toEqual([]);
  });

  it("rnn-wasm serve on the int8 file answers head = the float head on loadQuantized's output", async () => {
    const out = join(dir, "served-int8.safetensors");
    await quantizeFile(lstmFile, out, ["--dtype", "int8"]);
    const server = await serve({ model: out });
    servers.push(server);
    const model = await call(`${server.url}/v1/model`);
    expect(model.json).toMatchObject({ kind: "lstm", inputSize: 5, outputSize: 12, headSize: 3 });
    const input = rows(7, 5, 3);
    const r = await call(`${server.url}/v1/predict`, { json: { input } });
    expect(r.status, r.text).toBe(200);
    const want = quantizedWithHead(out, input, lstmHead);
    expect(f32(r.json.output)).toEqual(nested(want.output.data, 12));
    expect(f32(r.json.head)).toEqual(nested(want.head, 3));
    // and the head is the float one: the float model's head answer differs only by int8's error (2.5% of the largest
    // value, the bound test/api/quantize.test.ts holds layers to), and does differ (the layer is quantized)
    const exact = lstmHead.forward(lstm.forward(tensor([7, 5], Float32Array.from(input.flat()))).output).data;
    const got = Float32Array.from((r.json.head as number[][]).flat());
    const err = Math.max(...exact.map((v, i) => Math.abs(got[i] - v)));
    expect(err / Math.max(...exact.map(Math.abs))).toBeLessThan(0.025);
    expect(err).toBeGreaterThan(0);
  });

  it("--head-prefix: a bidirectional GRU's head under 'decoder.' is kept, and serve --head-prefix decoder. applies it", async () => {
    const out = join(dir, "gru-decoder-int8.safetensors");
    const r = await quantizeFile(gruFile, out, ["--dtype", "int8", "--head-prefix", "decoder."]);
    expect(r.stdout).toMatch(/with its float32 head 'decoder\.weight' and 'decoder\.bias' \(12 -> 2\)/);
    const server = await serve({ model: out, headPrefix: "decoder." });
    servers.push(server);
    const input = rows(6, 4, 4);
    const a = await call(`${server.url}/v1/predict`, { json: { input } });
    expect(a.status, a.text).toBe(200);
    expect(f32(a.json.head)).toEqual(nested(quantizedWithHead(out, input, gruHead, "decoder.").head, 2));
  });

  it("--no-head writes the layer alone, a file that run reads", async () => {
    const out = join(dir, "lstm-no-head-int8.safetensors");
    const r = await quantizeFile(lstmFile, out, ["--dtype", "int8", "--no-head"]);
    expect(r.stdout).not.toMatch(/float32 head/);
    const file = loadSafetensors(readFileSync(out));
    expect(Object.keys(file.tensors).filter((n) => n.startsWith("head."))).toEqual([]);
    expect(file.metadata.head_prefix).toBeUndefined();
    const input = writeTensors(join(dir, "no-head-input.safetensors"), { input: tensor([3, 1, 5], Float32Array.from({ length: 15 }, (_, i) => Math.sin(i))) });
    const run = await cliInProcess(["run", "--model", out, "--input", input, "--out", join(dir, "no-head-out.safetensors")]);
    expect(run.code, describeRun(run)).toBe(0);
  });

  it("run and inspect read a file with a head too: run gives the layer's output, the same bits as --no-head's file; inspect lists the head", async () => {
    const withHead = join(dir, "lstm-head-run-int8.safetensors"), without = join(dir, "lstm-head-run-bare-int8.safetensors");
    await quantizeFile(lstmFile, withHead, ["--dtype", "int8"]);
    await quantizeFile(lstmFile, without, ["--dtype", "int8", "--no-head"]);
    const input = writeTensors(join(dir, "head-run-input.safetensors"), { input: tensor([3, 1, 5], Float32Array.from({ length: 15 }, (_, i) => Math.cos(i))) });
    const outputs = [];
    for (const [model, name] of [[withHead, "a"], [without, "b"]]) {
      const run = await cliInProcess(["run", "--model", model, "--input", input, "--out", join(dir, `head-run-${name}.safetensors`)]);
      expect(run.code, describeRun(run)).toBe(0);
      outputs.push(loadSafetensors(readFileSync(join(dir, `head-run-${name}.safetensors`))).tensors.output);
    }
    expect(Array.from(outputs[0].data)).toEqual(Array.from(outputs[1].data));
    const inspect = await cliInProcess(["inspect", withHead, "--json"]);
    expect(inspect.code, describeRun(inspect)).toBe(0);
    expect((JSON.parse(inspect.stdout).extraTensors as { name: string }[]).map((t) => t.name).sort()).toEqual(["head.bias", "head.weight"]);
  });

  it("a head that does not fit the layer, or a bias without its weight, fails naming the tensor", async () => {
    const t = { ...lstm.toTorch(), "head.weight": { shape: [3, 11], data: new Float32Array(33) } };
    const wrong = writeTensors(join(dir, "wrong-head.safetensors"), t);
    const r = await cliInProcess(["quantize", "--model", wrong, "--dtype", "int8", "--out", join(dir, "no.safetensors")]);
    expect(r.code, describeRun(r)).toBe(1);
    expect(r.stderr).toMatch(/^rnn-wasm: model file '.*wrong-head\.safetensors': head\.weight has shape \[3, 11\]; a head over this LSTM's output takes \[outFeatures, 12\]/);
    const biasOnly = writeTensors(join(dir, "bias-only.safetensors"), { ...lstm.toTorch(), "head.bias": { shape: [3], data: new Float32Array(3) } });
    const b = await cliInProcess(["quantize", "--model", biasOnly, "--dtype", "int8", "--out", join(dir, "no.safetensors")]);
    expect(b.code, describeRun(b)).toBe(1);
    expect(b.stderr).toMatch(/holds head\.bias but no head\.weight/);
  });
});
