#!/usr/bin/python3
"""Weights for the comparison benchmarks (bench/workloads.bench.ts), as safetensors and as ONNX models.

Run from the repository root (Debian: `apt-get install python3-torch python3-onnx`):

    /usr/bin/python3 scripts/export_onnx.py

Writes, under bench/models/, for each model below:
  <name>.safetensors   the module's state_dict under PyTorch's names: what our layers (fromTorch), TensorFlow.js
                       (mapped to Keras' gate order by bench/peers/tfjs.ts) and bench/peers/pytorch_bench.py load
  <name>.onnx          the same module exported by torch.onnx.export (ONNX LSTM / GRU operators; the exporter maps
                       PyTorch's gate orders to ONNX's: LSTM i,f,g,o -> i,o,f,c; GRU r,z,n -> z,r,h with
                       linear_before_reset = 1), inputs `input` [T, B, I], `h0` [1, B, H] (and `c0` for an LSTM),
                       outputs `output` [T, B, H], `h_n` [1, B, H] (and `c_n`); T and B are dynamic axes.
                       ONNX Runtime (bench/peers/ort.ts) runs these.

  lstm_i64_h256    nn.LSTM(64, 256)    W-stream, W-seq
  gru_i64_h256     nn.GRU(64, 256)     W-gru
  lstm_i128_h256   nn.LSTM(128, 256)   W-batch
  train_i32_h128   nn.LSTM(32, 128) as `lstm.*` + nn.Linear(128, 1) as `head.*`: W-train's initial weights
                   (safetensors only: ONNX Runtime does not train)

Weights are PyTorch's default initialisation (uniform in +-1/sqrt(H)) under a fixed torch.manual_seed per model,
so the files are the same on every run. Inputs are not stored: the bench draws them from a seeded generator and
hands them to every peer (to PyTorch through a temporary safetensors file).
"""
import os
import sys
import warnings

import torch
import torch.nn as nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(ROOT, "bench", "models")
OPSET = 14
SOURCE = "scripts/export_onnx.py (PyTorch %s)" % torch.__version__
# The exporter warns about variable batch sizes unless h0/c0 are inputs (they are) and about shape inference of
# constants; neither applies to these graphs, which the bench checks against our reference before timing.
warnings.filterwarnings("ignore", category=UserWarning, module=r"torch\.onnx")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import read_safetensors, write_safetensors  # noqa: E402


class WithState(nn.Module):
    """nn.LSTM / nn.GRU with the initial state as explicit inputs, so ONNX Runtime can carry state across calls."""

    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x, h0, c0=None):
        if c0 is None:
            y, h = self.rnn(x, h0)
            return y, h
        y, (h, c) = self.rnn(x, (h0, c0))
        return y, h, c


def export(name, rnn, seed):
    is_lstm = isinstance(rnn, nn.LSTM)
    I, H = rnn.input_size, rnn.hidden_size
    meta = {"source": SOURCE, "seed": seed, "kind": "lstm" if is_lstm else "gru", "inputSize": I, "hiddenSize": H}
    st_path = os.path.join(MODELS, name + ".safetensors")
    write_safetensors(st_path, dict(rnn.state_dict()), meta)

    model = WithState(rnn).eval()
    T, B = 5, 2  # example shapes for tracing only: both axes are dynamic in the exported graph
    x = torch.randn(T, B, I)
    h0 = torch.zeros(1, B, H)
    args = (x, h0, torch.zeros(1, B, H)) if is_lstm else (x, h0)
    inputs = ["input", "h0", "c0"] if is_lstm else ["input", "h0"]
    outputs = ["output", "h_n", "c_n"] if is_lstm else ["output", "h_n"]
    axes = {"input": {0: "T", 1: "B"}, "output": {0: "T", 1: "B"}}
    for n in inputs[1:] + outputs[1:]:
        axes[n] = {1: "B"}
    onnx_path = os.path.join(MODELS, name + ".onnx")
    torch.onnx.export(model, args, onnx_path, input_names=inputs, output_names=outputs, dynamic_axes=axes,
                      opset_version=OPSET, do_constant_folding=True)

    import onnx  # Debian: python3-onnx

    proto = onnx.load(onnx_path)
    onnx.checker.check_model(proto)
    ops = sorted({n.op_type for n in proto.graph.node})
    want = "LSTM" if is_lstm else "GRU"
    if want not in ops:
        raise SystemExit("%s: the exported graph has no %s operator (%s)" % (onnx_path, want, ops))
    back, _ = read_safetensors(st_path)
    for k, v in rnn.state_dict().items():
        if not torch.equal(back[k], v):
            raise SystemExit("%s: %s did not read back" % (st_path, k))
    print("wrote %s (%s) and %s" % (os.path.relpath(onnx_path, ROOT), ", ".join(ops), os.path.relpath(st_path, ROOT)))


def main():
    os.makedirs(MODELS, exist_ok=True)
    torch.manual_seed(20240601)
    export("lstm_i64_h256", nn.LSTM(64, 256), 20240601)
    torch.manual_seed(20240602)
    export("gru_i64_h256", nn.GRU(64, 256), 20240602)
    torch.manual_seed(20240603)
    export("lstm_i128_h256", nn.LSTM(128, 256), 20240603)

    seed = 20240604
    torch.manual_seed(seed)
    lstm, head = nn.LSTM(32, 128), nn.Linear(128, 1)
    tensors = {"lstm." + k: v for k, v in lstm.state_dict().items()}
    tensors.update({"head." + k: v for k, v in head.state_dict().items()})
    path = os.path.join(MODELS, "train_i32_h128.safetensors")
    write_safetensors(path, tensors, {"source": SOURCE, "seed": seed, "kind": "lstm+linear", "inputSize": 32, "hiddenSize": 128})
    print("wrote %s" % os.path.relpath(path, ROOT))


if __name__ == "__main__":
    main()
