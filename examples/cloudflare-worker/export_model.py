"""The example Worker's model: a PyTorch nn.LSTM(64, 256) saved as safetensors, and a sample input with PyTorch's
output for it (the tests check the Worker against it).

    /usr/bin/python3 examples/cloudflare-worker/export_model.py      (Debian: apt-get install python3-torch)

The weights are PyTorch's default initialisation under a fixed seed, standing in for a trained model of the size
the benchmarks call W-stream (LSTM, input 64, hidden 256). Uses the `safetensors` package when it is installed
(pip install safetensors); otherwise writes the same format with the few lines below.
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

here = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(2024)

model = torch.nn.LSTM(input_size=64, hidden_size=256)  # ... trained as usual ...
save_file(model.state_dict(), os.path.join(here, "model.safetensors"))

# A sample request: 6 timesteps of one stream, and what PyTorch answers (float32, as the Worker computes).
x = torch.randn(6, 1, 64)
with torch.no_grad():
    output, (h_n, c_n) = model(x)
save_file({"input": x, "output": output, "h_n": h_n, "c_n": c_n}, os.path.join(here, "sample.safetensors"))
print("wrote model.safetensors and sample.safetensors to", here)
