// test/js-runtimes/parity-case.js: the forward passes every runtime computes for the cross-runtime tests (Node 20,
// Node 24, workerd, Chromium), in plain JavaScript so each runtime loads it as it is. It takes the package's API
// (whatever entry the runtime resolved) and returns, for each build the engine runs, the outputs and final states
// of a few layers with seeded weights (seeded in JavaScript, so the same weights everywhere) on a seeded input.
// Sizes are not multiples of 4, so the SIMD tails run too.

/** Deterministic values in [-1, 1) (mulberry32). */
function seeded(n, seed) {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

const T = 9, B = 3, I = 13;

/** Each layer's output and final states, flattened, on `runtime`. */
export function forwardAll(rnn, runtime) {
  const x = rnn.tensor([T, B, I], seeded(T * B * I, 1));
  const layers = {
    lstm: new rnn.LSTM({ inputSize: I, hiddenSize: 21, numLayers: 2, bidirectional: true, seed: 11, runtime }),
    lstmProj: new rnn.LSTM({ inputSize: I, hiddenSize: 18, projSize: 7, seed: 12, runtime }),
    gru: new rnn.GRU({ inputSize: I, hiddenSize: 19, numLayers: 2, seed: 13, runtime }),
    rnnRelu: new rnn.RNN({ inputSize: I, hiddenSize: 10, nonlinearity: "relu", bidirectional: true, seed: 14, runtime }),
  };
  const out = {};
  for (const [name, layer] of Object.entries(layers)) {
    const r = layer.forward(x);
    out[name] = [...r.output.data, ...r.hN.data, ...(r.cN ? r.cN.data : [])];
    layer.dispose();
  }
  return out;
}

/** What this runtime chose and computed: { defaultBuild, supports, outputs: { build: { layer: number[] } } }. */
export async function parityRun(rnn) {
  const defaultBuild = (await rnn.init()).build;
  const supports = {};
  const outputs = {};
  for (const build of rnn.BUILDS) {
    supports[build] = await rnn.supportsBuild(build);
    if (supports[build]) outputs[build] = forwardAll(rnn, await rnn.createRuntime(undefined, { build }));
  }
  return { defaultBuild, supports, outputs };
}
