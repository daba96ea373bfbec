#!/usr/bin/python3
"""PyTorch as a peer in bench/workloads.bench.ts: the same workloads on one CPU thread, run as a subprocess.

    /usr/bin/python3 bench/peers/pytorch_bench.py CONFIG.json

CONFIG (written by bench/peers/pytorch.ts) names the workloads (id, kind, I, H, B, T, model), the weights directory
(bench/models/<model>.safetensors, the files every peer loads), a safetensors file of inputs (`<id>.input` [T, B, I],
`W-train.target` [B, 1]) the bench drew, the file to write the check values to, and the timing budget.

For each workload it first computes what the bench checks against our reference (written to CONFIG["out"]):
  W-seq, W-batch, W-gru   `<id>.output` [T, B, H]
  W-stream                `<id>.h`, `<id>.c` after CONFIG["streamCheckSteps"] one-step calls from zeros
  W-train                 losses of a first and a second step (in the JSON); after the first, `<id>.headWeight` and
                          `<id>.lstmWeights` (weight_ih_l0 then weight_hh_l0, flattened)
then times the workload the way benchmark.js does: each sample runs enough calls to last at least 50 ms, samples
are taken until both minSamples and maxTime are reached; median and mean per call, relative margin of error (95%).
Prints one JSON object on stdout.

For W-stream, W-seq, W-batch and W-gru it then does the same (check values under `<id>.qint8.*`, timing under
"quantized") for the model after torch.ao.quantization.quantize_dynamic(..., dtype=torch.qint8): int8 weights per
tensor, activations quantized per call, on torch.backends.quantized.engine as this build sets it (reported).

Inference runs under torch.inference_mode(); W-stream carries (h, c) from call to call through nn.LSTM on a
[1, B, I] input; W-train is zero_grad, forward, MSELoss on the last step's Linear(H, 1), backward, torch.optim.Adam
(lr from CONFIG, PyTorch's default betas and eps). torch.set_num_threads(1) and set_num_interop_threads(1).
"""
import copy
import json
import os
import statistics
import sys
import time

import torch
import torch.nn as nn

torch.set_num_threads(1)
torch.set_num_interop_threads(1)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from safetensors_io import read_safetensors, write_safetensors  # noqa: E402

# benchmark.js' two-tailed t critical values for 95% confidence, by degrees of freedom.
T_TABLE = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
           2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042]
MIN_SAMPLE_SECONDS = 0.05


def time_calls(fn, min_samples, max_time):
    """Seconds per call: median, mean, relative margin of error (%), samples, calls per sample."""
    fn()
    n = 1
    while True:  # calls per sample: enough for MIN_SAMPLE_SECONDS
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t0
        if dt >= MIN_SAMPLE_SECONDS:
            break
        n = max(n + 1, int(n * MIN_SAMPLE_SECONDS / max(dt, 1e-9) * 1.1))
    samples = []
    start = time.perf_counter()
    while len(samples) < min_samples or time.perf_counter() - start < max_time:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        samples.append((time.perf_counter() - t0) / n)
    mean = statistics.fmean(samples)
    sem = statistics.stdev(samples) / len(samples) ** 0.5 if len(samples) > 1 else 0.0
    df = len(samples) - 1
    critical = T_TABLE[df - 1] if 1 <= df <= len(T_TABLE) else 1.96
    return {"medianMs": statistics.median(samples) * 1e3, "meanMs": mean * 1e3,
            "rmePercent": sem * critical / mean * 100, "samples": len(samples), "callsPerSample": n}


def recurrent(kind, I, H, state):
    rnn = (nn.LSTM if kind == "lstm" else nn.GRU)(I, H)
    rnn.load_state_dict(state)
    return rnn.eval()


class Wrapped(nn.Module):
    """quantize_dynamic swaps submodules, never the module it is given: the recurrent module goes one level down."""

    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x, state=None):
        return self.rnn(x, state)


def quantized(rnn):
    """The qint8 dynamic-quantized copy of rnn (the float one stays as it is)."""
    q = torch.ao.quantization.quantize_dynamic(Wrapped(copy.deepcopy(rnn)), {nn.LSTM, nn.GRU}, dtype=torch.qint8)
    if type(q.rnn).__module__ == type(rnn).__module__:
        raise RuntimeError("quantize_dynamic left the recurrent module in float32")
    return q


def run_inference(rnn, wid, H, x, key, out, min_samples, max_time, stream_steps):
    """Check values under `key` and the timing of rnn (float or quantized) on an inference workload (W-stream: an LSTM)."""
    T, B = x.shape[0], x.shape[1]
    if wid == "W-stream":
        steps = [x[t : t + 1] for t in range(T)]
        zeros = torch.zeros(1, B, H)
        state = {"hc": (zeros, zeros), "t": 0}

        def step():
            with torch.inference_mode():
                _, state["hc"] = rnn(steps[state["t"]], state["hc"])
            state["t"] = (state["t"] + 1) % T

        for _ in range(stream_steps):
            step()
        out[key + ".h"], out[key + ".c"] = state["hc"][0].clone(), state["hc"][1].clone()
        return time_calls(step, min_samples, max_time)

    def forward():
        with torch.inference_mode():
            return rnn(x)[0]

    out[key + ".output"] = forward().clone()
    return time_calls(forward, min_samples, max_time)


def run_workload(w, models, inputs, out, min_samples, max_time, stream_steps, lr):
    wid, kind, I, H, B, T = w["id"], w["kind"], w["I"], w["H"], w["B"], w["T"]
    weights, _ = read_safetensors(os.path.join(models, w["model"] + ".safetensors"))
    x = inputs[wid + ".input"]  # [T, B, I]
    result = {}
    if wid == "W-train":
        lstm = recurrent("lstm", I, H, {k[5:]: v for k, v in weights.items() if k.startswith("lstm.")}).train()
        head = nn.Linear(H, 1)
        head.load_state_dict({k[5:]: v for k, v in weights.items() if k.startswith("head.")})
        params = list(lstm.parameters()) + list(head.parameters())
        optimizer = torch.optim.Adam(params, lr=lr)
        target = inputs["W-train.target"]
        loss_fn = nn.MSELoss()

        def step():
            optimizer.zero_grad()
            y, _ = lstm(x)
            loss = loss_fn(head(y[-1]), target)
            loss.backward()
            optimizer.step()
            return loss.item()

        first = step()
        out[wid + ".headWeight"] = head.weight.detach().clone()
        out[wid + ".lstmWeights"] = torch.cat([lstm.weight_ih_l0.detach().flatten(), lstm.weight_hh_l0.detach().flatten()])
        result["losses"] = [first, step()]
        result["timing"] = time_calls(step, min_samples, max_time)
        return result

    rnn = recurrent(kind, I, H, weights)
    result["timing"] = run_inference(rnn, wid, H, x, wid, out, min_samples, max_time, stream_steps)
    result["quantized"] = {
        "timing": run_inference(quantized(rnn), wid, H, x, wid + ".qint8", out, min_samples, max_time, stream_steps),
        "engine": torch.backends.quantized.engine,
    }
    return result


def main():
    with open(sys.argv[1]) as f:
        config = json.load(f)
    inputs, _ = read_safetensors(config["inputs"])
    out = {}
    results = {}
    for w in config["workloads"]:
        results[w["id"]] = run_workload(w, config["models"], inputs, out, config["minSamples"], config["maxTime"],
                                        config["streamCheckSteps"], config["lr"])
    write_safetensors(config["out"], out, {"source": "bench/peers/pytorch_bench.py"})
    blas = "openblas" if "openblas" in os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3") else "see update-alternatives"
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas, "results": results}))


if __name__ == "__main__":
    main()
