// A client of `rnn-wasm serve` (docs/serving.md), with nothing but fetch (Node 18+, browsers, Deno, Workers):
//   node cli/examples/serve-client.mjs http://127.0.0.1:8080
// It asks the model's sizes, predicts one sequence as JSON and again as raw float32, then streams the same sequence
// through a session in chunks and checks that the stream's outputs are the whole sequence's.
const url = process.argv[2] ?? "http://127.0.0.1:8080";

async function post(path, body, headers) {
  const r = await fetch(url + path, { method: "POST", body, headers });
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`); // every error is JSON: {"error", "code"}
  return r;
}
const postJson = async (path, value) => (await post(path, JSON.stringify(value), { "content-type": "application/json" })).json();

// #region client
const model = await (await fetch(`${url}/v1/model`)).json(); // { inputSize, outputSize, stateShape, ... }
const T = 12, I = model.inputSize;
const input = Array.from({ length: T }, (_, t) => Array.from({ length: I }, (_, i) => Math.sin(t + i / I)));

// A whole sequence as JSON: one row of I numbers per timestep -> one row of outputs per timestep, and the state.
const { output, state } = await postJson("/v1/predict", { input });

// The same as raw little-endian float32 (smaller and faster to parse): X-Shape names the shape both ways.
const raw = await post("/v1/predict", new Float32Array(input.flat()), { "content-type": "application/octet-stream", "x-shape": `${T},${I}` });
const rawOutput = new Float32Array(await raw.arrayBuffer()); // [T, outputSize], X-Shape: T,outputSize

// A stream in chunks: the server keeps the session's state between them (or send "state" to /v1/predict yourself).
const id = `client-${process.pid}`;
const streamed = [];
let steps;
for (const chunk of [input.slice(0, 5), input.slice(5, 6), input.slice(6)]) {
  const answer = await postJson(`/v1/sessions/${id}/step`, { input: chunk }); // { output, steps }
  streamed.push(...answer.output);
  steps = answer.steps;
}
await fetch(`${url}/v1/sessions/${id}`, { method: "DELETE" }); // 204: the session is gone
// #endregion

const maxDiff = (a, b) => a.reduce((m, v, k) => Math.max(m, Math.abs(v - b[k])), 0);
const fromJson = new Float32Array(output.flat()); // JSON gives each float32 in 9 digits, which read back to it exactly
console.log(`${model.description}: output [${output.length}, ${output[0].length}], state h [${state.h.length}, ${state.h[0].length}]`);
console.log(`raw float32 vs JSON: max difference ${maxDiff(rawOutput, fromJson)}`);
const streamDiff = maxDiff(new Float32Array(streamed.flat()), fromJson);
console.log(`stream of ${steps} steps in 3 chunks vs the whole sequence: max difference ${streamDiff.toExponential(1)}`);
if (maxDiff(rawOutput, fromJson) !== 0) throw new Error("the raw answer differs from the JSON one");
if (steps !== T || !(streamDiff <= 1e-6)) throw new Error("the stream did not give the whole sequence's outputs");
