#!/usr/bin/python3
"""Generate PyTorch reference fixtures for rnn-wasm, and the demo model used by `npm start`.

Run from the repository root (needs Debian's torch: `apt-get install python3-torch`):

    /usr/bin/python3 scripts/make_fixtures.py

Writes
  test/fixtures/<case>.safetensors   one file per case (listed in CASES below)
  cli/data/lstm-demo.safetensors         nn.LSTM(64, 256) state_dict (seed fixed)
  cli/data/lstm-demo.input.safetensors   input [128,1,64] and PyTorch's output [128,1,256], h_n, c_n for it

Each fixture holds the module's state_dict under PyTorch's exact names (optionally behind a key prefix such as
`encoder.lstm.`), `input` exactly as fed to PyTorch (batch-first when batchFirst), optional `h0`/`c0`, and the
results: `output`, `h_n`, `c_n` for layers; `h` (and `c` for LSTMCell) for cells. Metadata (all strings):
`kind`, `options` (JSON of our camelCase layer options), `prefix`, `description`.

Accuracy: weights and inputs are drawn in float32; the expected outputs come from a float64 copy of the module
run on float64 copies of those same float32 values, then rounded to float32. So each fixture is the exact answer
for its float32 weights, and a test tolerance measures our error only.

GRU "reset before" (resetAfter: false) is not in PyTorch; it is computed here in float64 torch ops:
  r = σ(W_ir x + b_ir + W_hr h + b_hr);  z = σ(W_iz x + b_iz + W_hz h + b_hz)
  n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn);  h' = (1 − z) ⊙ n + z ⊙ h
with PyTorch's GRU weights and gate order r, z, n. The same code with the reset applied after W_hn h + b_hn is
checked against nn.GRU before any file is written, so the two variants share one verified implementation.

Output is deterministic: a fixed torch.manual_seed per case, CPU only, sorted names in every header.
"""
import copy
import json
import os

import torch
import torch.nn as nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "test", "fixtures")
DATA = os.path.join(ROOT, "cli", "data")
SOURCE = "scripts/make_fixtures.py (PyTorch %s, float64 reference rounded to float32)" % torch.__version__


from safetensors_io import read_safetensors, write_safetensors  # noqa: E402  (scripts/ is on sys.path)


# ---------------------------------------------------------------------------------------------------------------
# Building modules and running them in float64
# ---------------------------------------------------------------------------------------------------------------
def options(I, H, L=1, bidirectional=False, batch_first=False, bias=True, proj=0, nonlinearity="tanh", reset_after=True):
    return {
        "inputSize": I,
        "hiddenSize": H,
        "numLayers": L,
        "bidirectional": bidirectional,
        "batchFirst": batch_first,
        "bias": bias,
        "projSize": proj,
        "nonlinearity": nonlinearity,
        "resetAfter": reset_after,
    }


def randomize_biases(m):
    """The default init draws biases from U(-1/√H, 1/√H); wider ones make every bias term visible in the outputs."""
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.startswith("bias"):
                p.copy_(torch.randn(p.shape) * 0.5)


def make_layer(kind, o):
    common = dict(num_layers=o["numLayers"], bias=o["bias"], batch_first=o["batchFirst"], bidirectional=o["bidirectional"])
    if kind == "lstm":
        return nn.LSTM(o["inputSize"], o["hiddenSize"], proj_size=o["projSize"], **common)
    if kind == "gru":
        return nn.GRU(o["inputSize"], o["hiddenSize"], **common)
    return nn.RNN(o["inputSize"], o["hiddenSize"], nonlinearity=o["nonlinearity"], **common)


def make_cell(kind, o):
    if kind == "lstm_cell":
        return nn.LSTMCell(o["inputSize"], o["hiddenSize"], bias=o["bias"])
    if kind == "gru_cell":
        return nn.GRUCell(o["inputSize"], o["hiddenSize"], bias=o["bias"])
    return nn.RNNCell(o["inputSize"], o["hiddenSize"], bias=o["bias"], nonlinearity=o["nonlinearity"])


def gru_step(x, h, w_ih, w_hh, b_ih, b_hh, reset_after):
    """One GRU step in the dtype of its arguments. x (B,I), h (B,H), w_ih (3H,I), w_hh (3H,H), gate order r, z, n."""
    H = h.shape[1]
    gi = x @ w_ih.t() + (b_ih if b_ih is not None else 0)
    bh = b_hh if b_hh is not None else torch.zeros(3 * H, dtype=h.dtype)
    w_hr, w_hz, w_hn = w_hh[:H], w_hh[H : 2 * H], w_hh[2 * H :]
    b_hr, b_hz, b_hn = bh[:H], bh[H : 2 * H], bh[2 * H :]
    r = torch.sigmoid(gi[:, :H] + h @ w_hr.t() + b_hr)
    z = torch.sigmoid(gi[:, H : 2 * H] + h @ w_hz.t() + b_hz)
    if reset_after:  # PyTorch: n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
        n = torch.tanh(gi[:, 2 * H :] + r * (h @ w_hn.t() + b_hn))
    else:  # reset before: n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn)
        n = torch.tanh(gi[:, 2 * H :] + (r * h) @ w_hn.t() + b_hn)
    return (1 - z) * n + z * h


def gru_sequence(m, x, h0, reset_after):
    """A multi-layer (bi)directional GRU from an nn.GRU's parameters. x (T,B,I) time-major, h0 (L*D,B,H)."""
    D = 2 if m.bidirectional else 1
    p = dict(m.named_parameters())
    layer_in = x
    h_n = []
    for l in range(m.num_layers):
        outs = []
        for d in range(D):
            sfx = "_l%d%s" % (l, "_reverse" if d == 1 else "")
            w_ih, w_hh = p["weight_ih" + sfx], p["weight_hh" + sfx]
            b_ih, b_hh = p.get("bias_ih" + sfx), p.get("bias_hh" + sfx)
            h = h0[l * D + d]
            steps = range(x.shape[0] - 1, -1, -1) if d == 1 else range(x.shape[0])
            out = [None] * x.shape[0]
            for t in steps:
                h = gru_step(layer_in[t], h, w_ih, w_hh, b_ih, b_hh, reset_after)
                out[t] = h
            outs.append(torch.stack(out))
            h_n.append(h)
        layer_in = torch.cat(outs, dim=2)
    return layer_in, torch.stack(h_n)


def to64(t):
    return None if t is None else t.double()


def to32(t):
    return t.detach().float()


# ---------------------------------------------------------------------------------------------------------------
# The cases
# ---------------------------------------------------------------------------------------------------------------
def layer_case(name, seed, kind, o, T, B, description, with_state=False, prefix="", reset_after=True):
    """A full layer: nn.LSTM / nn.GRU / nn.RNN (or the reset-before GRU) over T steps."""
    torch.manual_seed(seed)
    o = dict(o, resetAfter=reset_after)
    m = make_layer(kind, o).float()
    randomize_biases(m)
    D = 2 if o["bidirectional"] else 1
    L, H, P = o["numLayers"], o["hiddenSize"], o["projSize"]
    x = torch.randn((B, T, o["inputSize"]) if o["batchFirst"] else (T, B, o["inputSize"]))
    h0 = c0 = None
    if with_state:
        h0 = torch.randn(L * D, B, P if P > 0 else H) * 0.5
        if kind == "lstm":
            c0 = torch.randn(L * D, B, H) * 0.5

    m64 = copy.deepcopy(m).double()
    with torch.no_grad():
        if kind == "gru" and not reset_after:
            x64 = x.double().transpose(0, 1) if o["batchFirst"] else x.double()
            h64 = to64(h0) if h0 is not None else torch.zeros(L * D, B, H, dtype=torch.float64)
            output, h_n = gru_sequence(m64, x64, h64, reset_after=False)
            if o["batchFirst"]:
                output = output.transpose(0, 1)
            c_n = None
        elif kind == "lstm":
            state = (to64(h0), to64(c0)) if with_state else None
            output, (h_n, c_n) = m64(x.double(), state)
        else:
            output, h_n = m64(x.double(), to64(h0))
            c_n = None

    tensors = {prefix + k: v for k, v in m.state_dict().items()}
    tensors.update(input=x, output=to32(output), h_n=to32(h_n))
    if h0 is not None:
        tensors["h0"] = h0
    if c0 is not None:
        tensors["c0"] = c0
    if c_n is not None:
        tensors["c_n"] = to32(c_n)
    return name, kind, o, prefix, description, tensors


def cell_case(name, seed, kind, o, B, description, with_state=False, reset_after=True):
    """One step of nn.LSTMCell / nn.GRUCell / nn.RNNCell (or the reset-before GRU cell). input (B,I)."""
    torch.manual_seed(seed)
    o = dict(o, resetAfter=reset_after)
    m = make_cell(kind, o).float()
    randomize_biases(m)
    H = o["hiddenSize"]
    x = torch.randn(B, o["inputSize"])
    h0 = torch.randn(B, H) * 0.5 if with_state else None
    c0 = torch.randn(B, H) * 0.5 if with_state and kind == "lstm_cell" else None

    m64 = copy.deepcopy(m).double()
    c = None
    with torch.no_grad():
        if kind == "gru_cell" and not reset_after:
            h_prev = to64(h0) if h0 is not None else torch.zeros(B, H, dtype=torch.float64)
            h = gru_step(x.double(), h_prev, m64.weight_ih, m64.weight_hh, m64.bias_ih, m64.bias_hh, reset_after=False)
        elif kind == "lstm_cell":
            h, c = m64(x.double(), (to64(h0), to64(c0)) if with_state else None)
        else:
            h = m64(x.double(), to64(h0))

    tensors = dict(m.state_dict())
    tensors.update(input=x, h=to32(h))
    if h0 is not None:
        tensors["h0"] = h0
    if c0 is not None:
        tensors["c0"] = c0
    if c is not None:
        tensors["c"] = to32(c)
    return name, kind, o, "", description, tensors


def cases():
    return [
        layer_case("lstm_basic", 101, "lstm", options(5, 7), T=6, B=3,
                   description="LSTM, 1 layer, I=5 H=7, no initial state"),
        layer_case("lstm_2layer_bidir_state", 102, "lstm", options(5, 7, L=2, bidirectional=True), T=4, B=2,
                   with_state=True, description="LSTM, 2 layers, bidirectional, with h0 and c0"),
        layer_case("lstm_proj_bidir_state", 103, "lstm", options(6, 9, L=2, bidirectional=True, proj=5), T=5, B=2,
                   with_state=True, description="LSTM with proj_size=5, 2 layers, bidirectional, h0 [4,B,5], c0 [4,B,9]"),
        layer_case("lstm_batch_first_nobias", 104, "lstm", options(17, 11, batch_first=True, bias=False), T=5, B=3,
                   with_state=True, description="LSTM, batch_first, bias=False, I=17 H=11, with h0 and c0"),
        layer_case("lstm_large", 105, "lstm", options(17, 33), T=20, B=5,
                   description="LSTM, larger case T=20 B=5 I=17 H=33"),
        layer_case("lstm_b1_prefixed", 106, "lstm", options(5, 13, L=2), T=9, B=1, prefix="encoder.lstm.",
                   description="LSTM, 2 layers, B=1, state_dict keys prefixed with 'encoder.lstm.'"),
        layer_case("lstm_proj_t1", 107, "lstm", options(7, 10, proj=3, batch_first=True), T=1, B=2,
                   description="LSTM with proj_size=3, batch_first, T=1, no initial state"),
        layer_case("gru_basic_state", 201, "gru", options(5, 7), T=6, B=3, with_state=True,
                   description="GRU, 1 layer, I=5 H=7, with h0"),
        layer_case("gru_3layer_bidir_bf", 202, "gru", options(6, 10, L=3, bidirectional=True, batch_first=True), T=5, B=2,
                   description="GRU, 3 layers, bidirectional, batch_first, no initial state"),
        layer_case("gru_large", 203, "gru", options(17, 33), T=20, B=5, with_state=True,
                   description="GRU, larger case T=20 B=5 I=17 H=33, with h0"),
        layer_case("gru_t1_nobias", 204, "gru", options(9, 6, bias=False), T=1, B=4,
                   description="GRU, T=1 B=4, bias=False"),
        layer_case("gru_reset_before_2layer_bidir", 205, "gru", options(5, 7, L=2, bidirectional=True), T=5, B=3,
                   with_state=True, reset_after=False,
                   description="GRU reset-before variant (not in PyTorch; float64 torch ops in the script), 2 layers, bidirectional, with h0"),
        layer_case("rnn_tanh_2layer", 301, "rnn", options(5, 13, L=2), T=7, B=3,
                   description="RNN tanh, 2 layers, I=5 H=13, no initial state"),
        layer_case("rnn_relu_bidir_state", 302, "rnn", options(6, 9, bidirectional=True, nonlinearity="relu"), T=6, B=2,
                   with_state=True, description="RNN relu, bidirectional, with h0"),
        layer_case("rnn_relu_b1_prefixed", 303, "rnn", options(17, 7, L=2, batch_first=True, nonlinearity="relu"), T=8, B=1,
                   prefix="model.rnn.", description="RNN relu, 2 layers, batch_first, B=1, keys prefixed with 'model.rnn.'"),
        cell_case("lstm_cell_nostate", 401, "lstm_cell", options(5, 7), B=3,
                  description="LSTMCell, one step, no state"),
        cell_case("lstm_cell_state", 402, "lstm_cell", options(17, 11), B=2, with_state=True,
                  description="LSTMCell, one step, with h and c"),
        cell_case("gru_cell_nostate", 403, "gru_cell", options(5, 7), B=3,
                  description="GRUCell, one step, no state"),
        cell_case("gru_cell_state", 404, "gru_cell", options(9, 13), B=2, with_state=True,
                  description="GRUCell, one step, with h"),
        cell_case("gru_cell_reset_before_state", 405, "gru_cell", options(6, 9), B=2, with_state=True, reset_after=False,
                  description="GRUCell reset-before variant (not in PyTorch; float64 torch ops in the script), with h"),
        cell_case("rnn_cell_tanh_state", 406, "rnn_cell", options(5, 7), B=3, with_state=True,
                  description="RNNCell tanh, one step, with h"),
        cell_case("rnn_cell_relu_nostate", 407, "rnn_cell", options(17, 10, nonlinearity="relu"), B=1,
                  description="RNNCell relu, one step, no state, B=1"),
    ]


# ---------------------------------------------------------------------------------------------------------------
# Self-checks and the demo model
# ---------------------------------------------------------------------------------------------------------------
def check_gru_reference():
    """gru_sequence/gru_step with reset after must reproduce nn.GRU / nn.GRUCell, so the reset-before path is trusted."""
    torch.manual_seed(7)
    m = nn.GRU(5, 7, num_layers=2, bidirectional=True).double()
    randomize_biases(m)
    x, h0 = torch.randn(6, 3, 5, dtype=torch.float64), torch.randn(4, 3, 7, dtype=torch.float64)
    with torch.no_grad():
        want_out, want_h = m(x, h0)
        got_out, got_h = gru_sequence(m, x, h0, reset_after=True)
        assert torch.allclose(want_out, got_out, atol=1e-12, rtol=0) and torch.allclose(want_h, got_h, atol=1e-12, rtol=0)
        cell = nn.GRUCell(5, 7).double()
        randomize_biases(cell)
        hc = cell(x[0], h0[0])
        got = gru_step(x[0], h0[0], cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh, reset_after=True)
        assert torch.allclose(hc, got, atol=1e-12, rtol=0)
        # and the reset-before form is a different function (so the fixture checks something)
        rb_out, _ = gru_sequence(m, x, h0, reset_after=False)
        assert (rb_out - want_out).abs().max() > 1e-3


def make_demo():
    torch.manual_seed(2024)
    m = nn.LSTM(input_size=64, hidden_size=256).float()
    x = torch.randn(128, 1, 64)
    with torch.no_grad():
        output, (h_n, c_n) = copy.deepcopy(m).double()(x.double())
    meta = {"kind": "lstm", "source": SOURCE, "prefix": "",
            "options": json.dumps(options(64, 256)),
            "description": "demo model: nn.LSTM(input_size=64, hidden_size=256), default init, torch.manual_seed(2024)"}
    write_safetensors(os.path.join(DATA, "lstm-demo.safetensors"), dict(m.state_dict()), meta)
    write_safetensors(os.path.join(DATA, "lstm-demo.input.safetensors"),
                      {"input": x, "output": to32(output), "h_n": to32(h_n), "c_n": to32(c_n)},
                      {"kind": "lstm", "source": SOURCE,
                       "description": "input [128,1,64] (randn) for cli/data/lstm-demo.safetensors, and PyTorch's output, h_n, c_n"})


def main():
    torch.set_num_threads(1)
    check_gru_reference()
    os.makedirs(FIXTURES, exist_ok=True)
    for name, kind, o, prefix, description, tensors in cases():
        path = os.path.join(FIXTURES, name + ".safetensors")
        meta = {"kind": kind, "options": json.dumps(o), "prefix": prefix, "description": description, "source": SOURCE}
        write_safetensors(path, tensors, meta)
        back, back_meta = read_safetensors(path)
        assert back_meta == meta and sorted(back) == sorted(tensors)
        assert all(torch.equal(back[k], tensors[k].float()) for k in tensors)
        print("%-34s %6d bytes  %s" % (name, os.path.getsize(path), ", ".join("%s%s" % (k, list(v.shape)) for k, v in sorted(tensors.items()))))
    make_demo()
    for f in ("lstm-demo.safetensors", "lstm-demo.input.safetensors"):
        print("cli/data/%-25s %6d bytes" % (f, os.path.getsize(os.path.join(DATA, f))))


if __name__ == "__main__":
    main()
