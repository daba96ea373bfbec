"""Export a PyTorch LSTM for rnn-wasm: its state_dict as safetensors, an input, and PyTorch's output for it.

    python3 examples/export_pytorch.py OUT_DIR
    node dist/src/cli.js run --model OUT_DIR/m.safetensors --input OUT_DIR/x.safetensors --out OUT_DIR/y.safetensors

Uses the `safetensors` package when it is installed (pip install safetensors); otherwise writes the same format
with the few lines below, as scripts/make_fixtures.py does.
"""
import json
import os
import struct
import sys

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

out = sys.argv[1] if len(sys.argv) > 1 else "."
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)

# region save
model = torch.nn.LSTM(input_size=10, hidden_size=20, num_layers=2)  # ... trained as usual ...
save_file(model.state_dict(), os.path.join(out, "m.safetensors"))

x = torch.randn(7, 3, 10)  # (T, B, input_size)
with torch.no_grad():
    output, (h_n, c_n) = model(x)
save_file({"input": x}, os.path.join(out, "x.safetensors"))
save_file({"output": output, "h_n": h_n, "c_n": c_n}, os.path.join(out, "torch-y.safetensors"))
# endregion
print("wrote m.safetensors, x.safetensors and torch-y.safetensors to", out)
