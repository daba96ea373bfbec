#!/usr/bin/python3
"""Generate PyTorch training fixtures for rnn-wasm: gradients from autograd and optimizer trajectories.

Run from the repository root (needs Debian's torch: `apt-get install python3-torch`):

    /usr/bin/python3 scripts/make_training_fixtures.py

Writes test/fixtures/training/<case>.safetensors, read by test/torch/training.test.ts. Three families, told apart
by the metadata field `type`:

gradient  One layer (nn.LSTM / nn.GRU / nn.RNN), one forward and one backward. Tensors: the state_dict under
          PyTorch's names, `input` (batch-first when batchFirst), optional `h0`/`c0`, optional `lengths` (float32
          holding whole numbers), the upstream gradients `grad_output`, `grad_h_n`, `grad_c_n` (random, applied with
          torch.autograd.backward([output, h_n, c_n], [grad_output, grad_h_n, grad_c_n])), the forward results
          `output`, `h_n`, `c_n`, and the gradients `grad.<param name>`, `grad.input`, `grad.h0`, `grad.c0`.
          With lengths, the forward is pack_padded_sequence(..., enforce_sorted=False) -> module ->
          pad_packed_sequence(..., total_length=T), and grad_output is applied to the padded output: its padded
          positions feed nothing, so they get no gradient, as in our backward. grad_output is random there too, so
          the test checks that we ignore it.
tbptt     Truncated BPTT over chunks: `chunk<k>.input`, `chunk<k>.grad_output`, `chunk<k>.grad_h_n`,
          `chunk<k>.grad_c_n`, the results `chunk<k>.output`, `chunk<k>.h_n`, `chunk<k>.c_n` and `chunk<k>.grad.input`;
          `h0`/`c0` start chunk 0 and `grad.h0`/`grad.c0` are their gradients (from chunk 0 only); `grad.<param>` is
          accumulated over all chunks. Between chunks the state is detached and rounded to float32
          (h = h_n.detach().float().double()), which is exactly what a float32 library carries from one chunk to the
          next, so the fixture stays the exact answer for float32 data.
optimizer nn.LSTM(3, 5) under `lstm.` and nn.Linear(5, 1) under `head.`, prediction head(output[-1]), MSE loss against
          `target` on fixed `input` [T, B, 3]; K steps of zero_grad, forward, backward, clip, opt.step(). Tensors:
          the initial parameters, `input`, `target`, then `step<k>.<name>` (parameters after step k, k = 1..K),
          `loss` [K] (the loss computed before each step) and `clip_norm` [K] (what clip_grad_norm_ returned; zeros
          with clip_grad_value_). Metadata `hyper` is the JSON of the optimizer and clipping settings.

Accuracy: weights and data are drawn in float32. Gradient and tbptt cases run a float64 copy of the module on float64
copies of those float32 values (and float64 upstream gradients), then round the results to float32: the exact
answer for the stored values, so a test tolerance measures our error only. Optimizer cases run in float32, as a
user would (a float64 Adam is not what a float32 library computes); there the tolerance also absorbs PyTorch's own
float32 rounding.

Output is deterministic: a fixed torch.manual_seed per case, one CPU thread, sorted names in every header.
"""
import copy
import json
import os

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "training")
SOURCE = "scripts/make_training_fixtures.py (PyTorch %s)" % torch.__version__


from safetensors_io import read_safetensors, write_safetensors  # noqa: E402  (scripts/ is on sys.path)


# ---------------------------------------------------------------------------------------------------------------
# Modules
# ---------------------------------------------------------------------------------------------------------------
def options(I, H, L=1, bidirectional=False, batch_first=False, bias=True, proj=0, nonlinearity="tanh"):
    """Our camelCase layer options (stored as metadata so the test builds the same architecture)."""
    return {"inputSize": I, "hiddenSize": H, "numLayers": L, "bidirectional": bidirectional,
            "batchFirst": batch_first, "bias": bias, "projSize": proj, "nonlinearity": nonlinearity, "resetAfter": True}


def make_layer(kind, o):
    common = dict(num_layers=o["numLayers"], bias=o["bias"], batch_first=o["batchFirst"], bidirectional=o["bidirectional"])
    if kind == "lstm":
        return nn.LSTM(o["inputSize"], o["hiddenSize"], proj_size=o["projSize"], **common)
    if kind == "gru":
        return nn.GRU(o["inputSize"], o["hiddenSize"], **common)
    return nn.RNN(o["inputSize"], o["hiddenSize"], nonlinearity=o["nonlinearity"], **common)


def randomize_biases(m):
    """Wider biases than the default init, so every bias term shows in the results (as in make_fixtures.py)."""
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.startswith("bias"):
                p.copy_(torch.randn(p.shape) * 0.5)


def shapes(kind, o, T, B):
    D = 2 if o["bidirectional"] else 1
    L, H, P = o["numLayers"], o["hiddenSize"], o["projSize"] or o["hiddenSize"]
    seq = lambda f: (B, T, f) if o["batchFirst"] else (T, B, f)
    return {"input": seq(o["inputSize"]), "output": seq(D * P), "h": (L * D, B, P), "c": (L * D, B, o["hiddenSize"])}


def leaf64(t):
    """A float64 leaf that collects a gradient, from float32 values."""
    return t.double().clone().requires_grad_(True)


def run(m64, kind, x, h0, c0, lengths, batch_first, T):
    """Forward in float64; with lengths, through pack_padded_sequence / pad_packed_sequence."""
    state = (h0, c0) if kind == "lstm" else h0
    if lengths is None:
        out, hn = m64(x, state)
    else:
        packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=batch_first, enforce_sorted=False)
        out, hn = m64(packed, state)
        out, _ = pad_packed_sequence(out, batch_first=batch_first, total_length=T)
    h_n, c_n = hn if kind == "lstm" else (hn, None)
    return out, h_n, c_n


def check_padding(out, lengths, batch_first):
    """Our stated semantics: outputs past a row's length are exactly 0."""
    for b, n in enumerate(lengths):
        tail = out[b, n:] if batch_first else out[n:, b]
        assert tail.numel() == 0 or tail.abs().max().item() == 0.0


# ---------------------------------------------------------------------------------------------------------------
# Gradient cases
# ---------------------------------------------------------------------------------------------------------------
def gradient_case(name, seed, kind, o, T, B, description, with_state=False, lengths=None):
    torch.manual_seed(seed)
    m = make_layer(kind, o).float()
    randomize_biases(m)
    s = shapes(kind, o, T, B)
    x = torch.randn(s["input"])
    h0 = torch.randn(s["h"]) * 0.5 if with_state else None
    c0 = torch.randn(s["c"]) * 0.5 if with_state and kind == "lstm" else None
    g_out = torch.randn(s["output"])
    g_h = torch.randn(s["h"])
    g_c = torch.randn(s["c"]) if kind == "lstm" else None

    m64 = copy.deepcopy(m).double()
    x64 = leaf64(x)
    # Missing state: zeros that still collect a gradient (the test checks dh0 either way).
    h64 = leaf64(h0 if h0 is not None else torch.zeros(s["h"]))
    c64 = leaf64(c0 if c0 is not None else torch.zeros(s["c"])) if kind == "lstm" else None
    out, h_n, c_n = run(m64, kind, x64, h64, c64, lengths, o["batchFirst"], T)
    if lengths is not None:
        check_padding(out, lengths, o["batchFirst"])
    outs, grads = [out, h_n], [g_out.double(), g_h.double()]
    if kind == "lstm":
        outs.append(c_n)
        grads.append(g_c.double())
    torch.autograd.backward(outs, grads)

    tensors = dict(m.state_dict())
    tensors.update(input=x, grad_output=g_out, grad_h_n=g_h, output=out.detach(), h_n=h_n.detach())
    tensors["grad.input"] = x64.grad
    tensors["grad.h0"] = h64.grad
    if h0 is not None:
        tensors["h0"] = h0
    if kind == "lstm":
        tensors.update(grad_c_n=g_c, c_n=c_n.detach())
        tensors["grad.c0"] = c64.grad
        if c0 is not None:
            tensors["c0"] = c0
    if lengths is not None:
        tensors["lengths"] = torch.tensor(lengths, dtype=torch.float32)
    for pname, p in m64.named_parameters():
        tensors["grad." + pname] = p.grad
    meta = {"type": "gradient", "kind": kind, "options": json.dumps(o), "description": description}
    return name, tensors, meta


def tbptt_case(name, seed, kind, o, chunk_lengths, B, description):
    """Chunks run one after another; the state between them is detached (and rounded to float32)."""
    torch.manual_seed(seed)
    m = make_layer(kind, o).float()
    randomize_biases(m)
    s0 = shapes(kind, o, 1, B)
    h0 = torch.randn(s0["h"]) * 0.5
    c0 = torch.randn(s0["c"]) * 0.5 if kind == "lstm" else None
    m64 = copy.deepcopy(m).double()
    h64, c64 = leaf64(h0), (leaf64(c0) if kind == "lstm" else None)
    tensors = dict(m.state_dict())
    tensors["h0"] = h0
    if kind == "lstm":
        tensors["c0"] = c0
    h, c = h64, c64
    for k, T in enumerate(chunk_lengths):
        s = shapes(kind, o, T, B)
        x = torch.randn(s["input"])
        g_out, g_h = torch.randn(s["output"]), torch.randn(s["h"])
        g_c = torch.randn(s["c"]) if kind == "lstm" else None
        x64 = leaf64(x)
        out, h_n, c_n = run(m64, kind, x64, h, c, None, o["batchFirst"], T)
        outs, grads = [out, h_n], [g_out.double(), g_h.double()]
        if kind == "lstm":
            outs.append(c_n)
            grads.append(g_c.double())
        torch.autograd.backward(outs, grads)
        p = "chunk%d." % k
        tensors.update({p + "input": x, p + "grad_output": g_out, p + "grad_h_n": g_h,
                        p + "output": out.detach(), p + "h_n": h_n.detach(), p + "grad.input": x64.grad})
        if kind == "lstm":
            tensors.update({p + "grad_c_n": g_c, p + "c_n": c_n.detach()})
        # detach: the next chunk's gradient stops here; float32 rounding: what a float32 caller carries over
        h = h_n.detach().float().double()
        c = c_n.detach().float().double() if kind == "lstm" else None
    tensors["grad.h0"] = h64.grad
    if kind == "lstm":
        tensors["grad.c0"] = c64.grad
    for pname, prm in m64.named_parameters():
        tensors["grad." + pname] = prm.grad
    meta = {"type": "tbptt", "kind": kind, "options": json.dumps(o), "description": description,
            "chunks": json.dumps(chunk_lengths)}
    return name, tensors, meta


# ---------------------------------------------------------------------------------------------------------------
# Optimizer cases (float32)
# ---------------------------------------------------------------------------------------------------------------
class Model(nn.Module):
    """nn.LSTM(3, 5) then nn.Linear(5, 1) on the last step: the model the test builds as Sequential."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 5)
        self.head = nn.Linear(5, 1)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[-1])


def make_optimizer(params, hyper):
    kind = hyper["optimizer"]
    if kind == "sgd":
        return torch.optim.SGD(params, lr=hyper["lr"], momentum=hyper["momentum"], weight_decay=hyper["weightDecay"],
                               nesterov=hyper["nesterov"])
    args = dict(lr=hyper["lr"], betas=tuple(hyper["betas"]), eps=hyper["eps"], weight_decay=hyper["weightDecay"],
                amsgrad=hyper["amsgrad"])
    return (torch.optim.Adam if kind == "adam" else torch.optim.AdamW)(params, **args)


def optimizer_case(name, seed, hyper, description, K=3, T=7, B=4):
    torch.manual_seed(seed)
    model = Model().float()
    randomize_biases(model)
    x = torch.randn(T, B, 3)
    y = torch.randn(B, 1)
    tensors = {k: v.clone() for k, v in model.state_dict().items()}
    tensors.update(input=x, target=y)
    opt = make_optimizer(model.parameters(), hyper)
    losses, norms = [], []
    for k in range(1, K + 1):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        clip = hyper["clip"]
        if clip["type"] == "norm":
            norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), clip["max"])))
        else:
            torch.nn.utils.clip_grad_value_(model.parameters(), clip["value"])
            norms.append(0.0)
        opt.step()
        losses.append(loss.item())
        for pname, v in model.state_dict().items():
            tensors["step%d.%s" % (k, pname)] = v.clone()
    tensors["loss"] = torch.tensor(losses, dtype=torch.float32)
    tensors["clip_norm"] = torch.tensor(norms, dtype=torch.float32)
    meta = {"type": "optimizer", "kind": "lstm", "hyper": json.dumps(hyper), "steps": str(K), "description": description}
    return name, tensors, meta


def sgd(lr, momentum=0.0, weight_decay=0.0, nesterov=False, clip=None):
    return {"optimizer": "sgd", "lr": lr, "momentum": momentum, "weightDecay": weight_decay, "nesterov": nesterov,
            "clip": clip or {"type": "norm", "max": 0.5}}


def adam(optimizer, lr, weight_decay, amsgrad=False, betas=(0.9, 0.999), clip=None):
    return {"optimizer": optimizer, "lr": lr, "betas": list(betas), "eps": 1e-8, "weightDecay": weight_decay,
            "amsgrad": amsgrad, "clip": clip or {"type": "norm", "max": 0.5}}


# ---------------------------------------------------------------------------------------------------------------
# The cases
# ---------------------------------------------------------------------------------------------------------------
def cases():
    return [
        gradient_case("lstm_plain", 1001, "lstm", options(5, 7), T=6, B=3,
                      description="LSTM, 1 layer, I=5 H=7, no initial state"),
        gradient_case("lstm_2layer_bidir_state", 1002, "lstm", options(5, 7, L=2, bidirectional=True), T=5, B=2,
                      with_state=True, description="LSTM, 2 layers, bidirectional, with h0 and c0"),
        gradient_case("lstm_proj_2layer_bidir_state", 1003, "lstm", options(6, 9, L=2, bidirectional=True, proj=4),
                      T=5, B=3, with_state=True, description="LSTM proj_size=4, 2 layers, bidirectional, with h0 [4,B,4] and c0 [4,B,9]"),
        gradient_case("lstm_nobias_batch_first_state", 1004, "lstm", options(9, 6, batch_first=True, bias=False), T=4, B=3,
                      with_state=True, description="LSTM, bias=False, batch_first, with h0 and c0"),
        gradient_case("lstm_large", 1005, "lstm", options(17, 33), T=20, B=5,
                      description="LSTM, larger case T=20 B=5 I=17 H=33"),
        gradient_case("gru_2layer_state", 2001, "gru", options(5, 7, L=2), T=6, B=3, with_state=True,
                      description="GRU (reset after, as PyTorch), 2 layers, with h0"),
        gradient_case("gru_bidir_batch_first", 2002, "gru", options(6, 10, bidirectional=True, batch_first=True), T=5, B=2,
                      description="GRU, bidirectional, batch_first, no initial state"),
        gradient_case("rnn_tanh_2layer", 3001, "rnn", options(5, 13, L=2), T=7, B=3,
                      description="RNN tanh, 2 layers, no initial state"),
        gradient_case("rnn_relu_bidir_state", 3002, "rnn", options(6, 9, bidirectional=True, nonlinearity="relu"), T=6, B=2,
                      with_state=True, description="RNN relu, bidirectional, with h0"),
        gradient_case("lstm_lengths_2layer_bidir_state", 4001, "lstm", options(5, 7, L=2, bidirectional=True), T=6, B=4,
                      with_state=True, lengths=[4, 2, 5, 1],
                      description="LSTM packed (lengths 4,2,5,1 of T=6, unsorted, none full), 2 layers, bidirectional, with h0 and c0"),
        gradient_case("lstm_lengths_proj_batch_first", 4002, "lstm", options(4, 8, bidirectional=True, batch_first=True, proj=3),
                      T=5, B=3, with_state=True, lengths=[3, 5, 1],
                      description="LSTM packed (lengths 3,5,1), proj_size=3, bidirectional, batch_first, with h0 and c0"),
        gradient_case("gru_lengths_bidir_batch_first", 4003, "gru", options(5, 7, L=2, bidirectional=True, batch_first=True),
                      T=6, B=3, with_state=True, lengths=[2, 6, 4],
                      description="GRU packed (lengths 2,6,4), 2 layers, bidirectional, batch_first, with h0"),
        gradient_case("rnn_relu_lengths", 4004, "rnn", options(6, 8, nonlinearity="relu"), T=7, B=4, lengths=[7, 3, 1, 5],
                      description="RNN relu packed (lengths 7,3,1,5), 1 layer, no initial state"),
        tbptt_case("tbptt_lstm_2layer", 5001, "lstm", options(4, 6, L=2), [4, 3, 5], B=3,
                   description="truncated BPTT: LSTM 2 layers, chunks of 4, 3, 5 steps, state detached between chunks"),
        tbptt_case("tbptt_gru_batch_first", 5002, "gru", options(5, 7, batch_first=True), [3, 3, 2], B=2,
                   description="truncated BPTT: GRU batch_first, chunks of 3, 3, 2 steps"),
        tbptt_case("tbptt_rnn_tanh", 5003, "rnn", options(3, 5), [5, 2], B=2,
                   description="truncated BPTT: RNN tanh, chunks of 5, 2 steps"),
        optimizer_case("opt_sgd_momentum_wd", 6001, sgd(0.1, momentum=0.9, weight_decay=1e-2),
                       description="SGD(lr=0.1, momentum=0.9, weight_decay=1e-2), clip_grad_norm_ 0.5"),
        optimizer_case("opt_sgd_nesterov", 6002, sgd(0.1, momentum=0.9, nesterov=True),
                       description="SGD(lr=0.1, momentum=0.9, nesterov=True), clip_grad_norm_ 0.5"),
        optimizer_case("opt_adam_wd", 6003, adam("adam", 0.01, 1e-2),
                       description="Adam(lr=0.01, weight_decay=1e-2), clip_grad_norm_ 0.5"),
        # beta2 = 0.5: with the default 0.999, v grows over the first steps and max(vmax, v) = v, so amsgrad would
        # change nothing in 3 steps; with 0.5, v falls wherever a gradient shrinks and amsgrad's max shows.
        optimizer_case("opt_adam_amsgrad", 6004, adam("adam", 0.01, 0.0, amsgrad=True, betas=(0.9, 0.5)),
                       description="Adam(lr=0.01, betas=(0.9, 0.5), amsgrad=True), clip_grad_norm_ 0.5"),
        optimizer_case("opt_adamw", 6005, adam("adamw", 0.01, 0.1),
                       description="AdamW(lr=0.01, weight_decay=0.1), clip_grad_norm_ 0.5"),
        optimizer_case("opt_sgd_clip_value", 6006, sgd(0.5, momentum=0.9, clip={"type": "value", "value": 0.01}),
                       description="SGD(lr=0.5, momentum=0.9), clip_grad_value_ 0.01"),
    ]


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    for name, tensors, meta in cases():
        meta = dict(meta, source=SOURCE)
        path = os.path.join(OUT, name + ".safetensors")
        write_safetensors(path, tensors, meta)
        back, back_meta = read_safetensors(path)
        assert back_meta == meta and sorted(back) == sorted(tensors)
        assert all(torch.equal(back[k], tensors[k].detach().float()) for k in tensors)
        print("%-34s %7d bytes  %d tensors" % (name, os.path.getsize(path), len(tensors)))


if __name__ == "__main__":
    main()
