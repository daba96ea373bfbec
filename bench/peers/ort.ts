// bench/peers/ort.ts: ONNX Runtime 1.30 on the models scripts/export_onnx.py exported from PyTorch (bench/models/*.onnx:
// one ONNX LSTM or GRU operator, inputs input [T, B, I], h0 [1, B, H] (c0), outputs output [T, B, H], h_n (c_n)).
//   ort-web   onnxruntime-web's wasm backend, run in Node, env.wasm.numThreads = 1 (a JavaScript/WebAssembly peer)
//   ort-node  onnxruntime-node, the native CPU library, intra- and inter-op threads 1 (native: not a "JS/WASM" peer)
// Sessions use graphOptimizationLevel 'all' and sequential execution. Each timed call awaits session.run and so
// includes ORT's feed/fetch copies, as a user pays them. W-stream feeds the previous call's h_n/c_n as h0/c0.
// ONNX Runtime's inference packages do not train: W-train is "—".
import type * as OrtCommon from "onnxruntime-node"; // the types onnxruntime-common defines, as both packages re-export them
import {
  MODELS_DIR, STREAM_CHECK_STEPS, installedVersion, stepOf,
  type CheckValues, type Peer, type Runner, type Workload, type WorkloadData,
} from "./workloads.js";

/** The part of onnxruntime-web's and onnxruntime-node's modules used here (both re-export onnxruntime-common). */
interface Ort {
  InferenceSession: typeof OrtCommon.InferenceSession;
  Tensor: typeof OrtCommon.Tensor;
}

type Flavour = "web" | "node";

async function loadOrt(flavour: Flavour): Promise<Ort> {
  if (flavour === "web") {
    const ort = await import("onnxruntime-web");
    ort.env.wasm.numThreads = 1;
    return ort as unknown as Ort;
  }
  return (await import("onnxruntime-node")) as unknown as Ort;
}

const sessionOptions = (flavour: Flavour): OrtCommon.InferenceSession.SessionOptions => ({
  executionProviders: [flavour === "web" ? "wasm" : "cpu"],
  graphOptimizationLevel: "all",
  executionMode: "sequential",
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
});

export function ortLabel(flavour: Flavour): string {
  return flavour === "web"
    ? `ONNX Runtime Web ${installedVersion("onnxruntime-web")}, wasm backend`
    : `ONNX Runtime Node ${installedVersion("onnxruntime-node")}, native CPU`;
}

export function ortPeer(flavour: Flavour): Peer {
  return {
    id: `ort-${flavour}`,
    label: ortLabel(flavour),
    group: flavour === "web" ? "js-wasm" : "native",
    cannot: (w: Workload) => (w.id === "W-train" ? "ONNX Runtime's inference packages have no training" : null),
    async setup(data: WorkloadData): Promise<Runner> {
      const ort = await loadOrt(flavour);
      const w = data.workload;
      const { T, B, I, H } = w;
      const session = await ort.InferenceSession.create(MODELS_DIR + w.model + ".onnx", sessionOptions(flavour));
      const lstm = w.kind === "lstm";
      const zeros = (): OrtCommon.Tensor => new ort.Tensor("float32", new Float32Array(B * H), [1, B, H]);
      if (w.id === "W-stream") {
        const steps = Array.from({ length: T }, (_, t) => new ort.Tensor("float32", stepOf(data.input, t, B, I), [1, B, I]));
        let h = zeros(), c = zeros(), t = 0; // the state carried from call to call
        const step = async () => {
          const out = await session.run(lstm ? { input: steps[t], h0: h, c0: c } : { input: steps[t], h0: h });
          h = out.h_n as OrtCommon.Tensor;
          if (lstm) c = out.c_n as OrtCommon.Tensor;
          t = (t + 1) % T;
        };
        return {
          run: step,
          async check(): Promise<CheckValues> {
            h = zeros();
            c = zeros();
            t = 0;
            for (let k = 0; k < STREAM_CHECK_STEPS; k++) await step();
            return { h: h.data as Float32Array, c: lstm ? (c.data as Float32Array) : undefined };
          },
          dispose: () => void session.release(),
        };
      }
      const feeds: Record<string, OrtCommon.Tensor> = { input: new ort.Tensor("float32", data.input, [T, B, I]), h0: zeros() };
      if (lstm) feeds.c0 = zeros();
      return {
        run: () => session.run(feeds),
        check: async () => ({ output: (await session.run(feeds)).output.data as Float32Array }),
        gruForm: "reset-after",
        dispose: () => void session.release(),
      };
    },
  };
}
