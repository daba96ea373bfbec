# The README's PyTorch recipe: an LSTM with a Linear head, saved for rnn-wasm. Writes model.safetensors (its
# state_dict) and sample.safetensors (an input and PyTorch's output for it) into the current directory.
# examples/pytorch-files.mjs runs it for the examples that load those files; README.md shows the region below.
# region recipe
import json
import struct

import torch

try:
    from safetensors.torch import save_file  # pip install safetensors
except ImportError:  # or write the format by hand: u64 header length, JSON header, little-endian float32 data
    def save_file(tensors, path):
        header, blobs, offset = {}, [], 0
        for name in sorted(tensors):
            values = tensors[name].detach().float().flatten().tolist()
            header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + 4 * len(values)]}
            blobs.append(struct.pack(f"<{len(values)}f", *values))
            offset += 4 * len(values)
        text = json.dumps(header).encode()
        text += b" " * (-len(text) % 8)
        with open(path, "wb") as f:
            f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(input_size=8, hidden_size=32, num_layers=2, batch_first=True)
        self.head = torch.nn.Linear(32, 1)

    def forward(self, x):  # x (B, T, 8) -> (B, T, 1): the head on every step's output
        output, _ = self.lstm(x)
        return self.head(output)


torch.manual_seed(0)
model = Model()  # ... trained as usual ...
save_file(model.state_dict(), "model.safetensors")  # lstm.weight_ih_l0, ..., head.weight, head.bias

x = torch.randn(3, 20, 8)  # (B, T, 8)
with torch.no_grad():
    save_file({"input": x, "output": model(x)}, "sample.safetensors")  # what rnn-wasm should reproduce
# endregion
