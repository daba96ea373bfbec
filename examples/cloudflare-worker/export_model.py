"""The example Worker's model: a PyTorch recurrent module (and optionally a Linear head) saved as safetensors.

    /usr/bin/python3 examples/cloudflare-worker/export_model.py      (Debian: apt-get install python3-torch)

As run, writes the model the example ships: nn.LSTM(64, 256) with PyTorch's default initialisation under a fixed
seed, standing in for a trained model of the size the benchmarks call W-stream, and a sample input with PyTorch's
output for it (sample.safetensors; the tests check the Worker against it).

For your own model, call export() with your trained modules, or save the state_dict of a module that holds just
the two:

    class Net(nn.Module):                  # e.g. a 2-layer bidirectional LSTM with a Linear head on every step
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(5, 24, num_layers=2, bidirectional=True)
            self.head = nn.Linear(48, 3)   # 2 directions x 24 features in, 3 out
        def forward(self, x):
            return self.head(self.lstm(x)[0])

    save_file(net.state_dict(), "model.safetensors")   # lstm.weight_ih_l0, ..., head.weight, head.bias

The Worker finds the recurrent module under any prefix ('lstm.' here) and the head under HEAD_PREFIX (default
'head.'; set it in wrangler.toml's [vars] if yours is called something else, e.g. "fc."). Any other tensor is
refused. Uses the `safetensors` package when it is installed (pip install safetensors); otherwise writes the same
format with the few lines below.
"""
import json
import os
import struct

import torch

try:
    from safetensors.torch import save_file
except ImportError:
    def save_file(tensors, path):
        """safetensors: u64 LE header length, JSON header (padded to 8 bytes), then little-endian float32 data."""
        header, blobs, offset = {}, [], 0
        for name in sorted(tensors):
            blob = tensors[name].detach().contiguous().float().numpy().astype("<f4").tobytes()
            header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(blob)]}
            blobs.append(blob)
            offset += len(blob)
        text = json.dumps(header).encode()
        text += b" " * (-len(text) % 8)
        with open(path, "wb") as f:
            f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def export(path, rnn, head=None, head_prefix="head."):
    """Saves `rnn` (nn.LSTM, nn.GRU, nn.RNN or one of their cells) under its own names, and `head` (an nn.Linear
    applied to rnn's output at every step) under `head_prefix`: the file the Worker serves."""
    tensors = {name: t.detach().contiguous() for name, t in rnn.state_dict().items()}
    if head is not None:
        tensors.update({head_prefix + name: t.detach().contiguous() for name, t in head.state_dict().items()})
    save_file(tensors, path)


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    torch.manual_seed(2024)

    model = torch.nn.LSTM(input_size=64, hidden_size=256)  # ... trained as usual ...
    export(os.path.join(here, "model.safetensors"), model)  # with a head: export(path, model, head)

    # A sample request: 6 timesteps of one stream, and what PyTorch answers (float32, as the Worker computes).
    x = torch.randn(6, 1, 64)
    with torch.no_grad():
        output, (h_n, c_n) = model(x)
    save_file({"input": x, "output": output, "h_n": h_n, "c_n": c_n}, os.path.join(here, "sample.safetensors"))
    print("wrote model.safetensors and sample.safetensors to", here)
