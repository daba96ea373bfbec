#!/usr/bin/python3
"""PyTorch's own dynamic quantization (quantize_dynamic, qint8) on a few LSTM and GRU layers, for issue 14's accuracy
target: rnn-wasm's int8 layers must be no worse against float than PyTorch's quantized layers on the same model
and input, the plain-SIMD form (8-bit activations) against qnnpack, the 7-bit form against onednn (which also
reduces activations to 7 bits).

Run from the repository root (needs Debian's torch: `apt-get install python3-torch`):

    /usr/bin/python3 scripts/make_quant_fixtures.py

Writes test/fixtures/quant/<case>.safetensors, each holding the module's state_dict under PyTorch's names, `input`
(T, B, I), and the outputs (T, B, H): `output` from a float64 copy of the module on float64 copies of the same float32
values, rounded to float32 (the exact answer for the float32 weights, as scripts/make_fixtures.py's), and
`output_qnnpack`, `output_onednn` from `quantize_dynamic(nn.Sequential(module), {type}, dtype=torch.qint8)[0]` run
in float32 with that engine (wrapping in nn.Sequential is needed: given the nn.LSTM itself, quantize_dynamic returns
it unquantized). Metadata: `kind`, `options` (JSON of our layer options), `description`, `source`, and each engine's
relative error `||out - output|| / ||output||` as `error_qnnpack`, `error_onednn` (strings, for the record).
Shapes follow the module's batch_first: (B, T, ...) where it is set.

Both engines quantize weights per tensor (symmetric qint8) and activations per tensor and call (asymmetric uint8;
onednn with reduce_range, i.e. 7 bits). Weights are PyTorch's default initialisation, inputs N(0, 1); a fixed
torch.manual_seed per case, CPU only, so the files are the same on every run with the same PyTorch. Besides the
single-layer cases: stacked and bidirectional layers (quantize_dynamic quantizes every layer and direction), and
trained weights (`lstm_trained`: trained here with Adam to predict the next value of noisy sums of sines, then run
on sequences of that task, not N(0, 1)), whose weights spread unlike an initialisation's. Not covered: proj_size,
because PyTorch 1.13's dynamic quantized LSTM ignores it (its output has hidden_size features, not proj_size).
"""
import copy
import json
import os

import torch
import torch.nn as nn
from torch.ao.quantization import quantize_dynamic

from safetensors_io import read_safetensors, write_safetensors  # noqa: E402  (scripts/ is on sys.path)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "quant")
SOURCE = "scripts/make_quant_fixtures.py (PyTorch %s)" % torch.__version__

# name: (kind, input size, hidden size, T, B, seed, description[, layer options])
CASES = {
    "lstm_h96": ("lstm", 32, 96, 24, 2, 1401, "LSTM 32 -> 96, T 24, B 2"),
    "gru_h64": ("gru", 16, 64, 24, 2, 1402, "GRU 16 -> 64 (reset after), T 24, B 2"),
    "lstm_h64_b1": ("lstm", 16, 64, 48, 1, 1403, "LSTM 16 -> 64, T 48, B 1 (streaming shape)"),
    "lstm_l2_bi": ("lstm", 16, 48, 20, 3, 1404, "LSTM 16 -> 48, 2 layers, bidirectional, T 20, B 3",
                   {"numLayers": 2, "bidirectional": True}),
    "gru_l2_bi_bf": ("gru", 12, 40, 16, 2, 1405, "GRU 12 -> 40, 2 layers, bidirectional, batch-first, T 16, B 2",
                     {"numLayers": 2, "bidirectional": True, "batchFirst": True}),
    "lstm_trained": ("lstm", 1, 32, 48, 2, 1406, "LSTM 1 -> 32 trained (next value of noisy sines), T 48, B 2",
                     {"trained": True}),
}

TORCH_OPTIONS = {"numLayers": "num_layers", "bidirectional": "bidirectional", "batchFirst": "batch_first"}


def sine_task(T, B):
    """Sequences of the trained case's task: sums of two sines of random frequency and phase, with noise (T, B, 1)."""
    t = torch.arange(T + 1, dtype=torch.float32).unsqueeze(1)
    f = torch.rand(2, B) * 0.4 + 0.1
    p = torch.rand(2, B) * 6.283
    x = torch.sin(t * f[0] + p[0]) + 0.5 * torch.sin(t * f[1] + p[1]) + 0.1 * torch.randn(T + 1, B)
    return x.unsqueeze(2)


def train(module, I, T):
    """Adam on next-step prediction (a Linear head on the hidden state), 400 batches of 32 sequences."""
    head = nn.Linear(module.hidden_size, I)
    opt = torch.optim.Adam(list(module.parameters()) + list(head.parameters()), lr=1e-2)
    for _ in range(400):
        x = sine_task(T, 32)
        loss = ((head(module(x[:-1])[0]) - x[1:]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    print("%-14s trained: last batch MSE %.4f" % ("", loss.item()))


def quiet(fn):
    """fn() with the C++ side's stderr silenced (qnnpack warns that it ignores reduce_range, once per product)."""
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        return fn()
    finally:
        os.dup2(saved, 2)
        os.close(null)
        os.close(saved)


def rel_error(got, want):
    return ((got.double() - want.double()).norm() / want.double().norm()).item()


def make(name, kind, I, H, T, B, seed, description, options=None):
    options = dict(options or {})
    trained = options.pop("trained", False)
    torch.manual_seed(seed)
    module = (nn.LSTM if kind == "lstm" else nn.GRU)(I, H, **{TORCH_OPTIONS[k]: v for k, v in options.items()})
    if trained:
        train(module, I, T)
        x = sine_task(T - 1, B)
    else:
        x = torch.randn(B, T, I) if options.get("batchFirst") else torch.randn(T, B, I)
    with torch.no_grad():
        output = copy.deepcopy(module).double()(x.double())[0].float()
        tensors = {k: v.detach().clone() for k, v in module.state_dict().items()}
        tensors["input"] = x
        tensors["output"] = output
        meta = {
            "kind": kind,
            "options": json.dumps({"inputSize": I, "hiddenSize": H, **options}),
            "description": description,
            "source": SOURCE,
        }
        for engine in ("qnnpack", "onednn"):
            torch.backends.quantized.engine = engine
            quantized = quantize_dynamic(nn.Sequential(copy.deepcopy(module)), {type(module)}, dtype=torch.qint8)[0]
            assert type(quantized).__module__.startswith("torch.ao.nn.quantized.dynamic"), type(quantized)
            out = quiet(lambda: quantized(x)[0])
            tensors["output_" + engine] = out
            meta["error_" + engine] = "%.6g" % rel_error(out, output)
    path = os.path.join(OUT, name + ".safetensors")
    write_safetensors(path, tensors, meta)
    back, back_meta = read_safetensors(path)
    assert all(torch.equal(back[k], tensors[k].float()) for k in tensors) and back_meta == meta, path
    print("%-14s qnnpack %s  onednn %s" % (name, meta["error_qnnpack"], meta["error_onednn"]))


if __name__ == "__main__":
    for name, case in CASES.items():
        make(name, *case)
