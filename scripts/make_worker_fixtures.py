#!/usr/bin/python3
"""PyTorch fixtures for the Cloudflare Worker example's tests (test/js-runtimes/workerd.test.ts): models of several
architectures, as a user would save them, and what PyTorch answers for a few requests.

Run from the repository root (Debian: `apt-get install python3-torch`; no `safetensors` package needed):

    /usr/bin/python3 scripts/make_worker_fixtures.py

Writes, for each case in CASES, into test/fixtures/worker/:
  <case>.model.safetensors   the model's state_dict exactly as the Worker gets it (the recurrent module under its
                             prefix, and the Linear head, if any, under its own)
  <case>.cases.safetensors   requests and PyTorch's answers, unbatched as the Worker runs them:
    x [T, I]                                            one sequence
    y [T, O], h_n [D*L, P], c_n [D*L, H]                from a zero state (O: the head's outFeatures, else D*P)
    h0 [D*L, P], c0 [D*L, H]                            a non-zero initial state ...
    y_from_h0, h_n_from_h0, c_n_from_h0                 ... and the answer from it
  unidirectional models also (metadata `split`: the length of the first chunk):
    y_first, h_mid, c_mid                               x[:split] from a zero state
    y_second, h_n_second, c_n_second                    x[split:] from PyTorch's (h_mid, c_mid)
  metadata: `vars` (JSON: the Worker's environment for this model, as wrangler.toml [vars] would set it),
  `description`, `source`.
c_* only for LSTMs. A cell (nn.GRUCell) is stepped over the sequence, its output at each step being its h, and its
states carry one row: the one-layer model the Worker serves it as.

Accuracy: weights and inputs are drawn in float32; the answers come from float64 copies of the modules run on float64
copies of those values, rounded to float32, so a test tolerance measures the Worker's error only.
Deterministic: torch.manual_seed per case, CPU only, sorted names in every header.
"""
import copy
import json
import os
import sys

import torch
import torch.nn as nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "worker")
SOURCE = "scripts/make_worker_fixtures.py (PyTorch %s, float64 reference rounded to float32)" % torch.__version__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import read_safetensors, write_safetensors  # noqa: E402

T = 6  # timesteps of each request's sequence


class Model(nn.Module):
    """The recurrent module under `rnn_prefix` and an optional nn.Linear head under `head_prefix`, applied at every step."""

    def __init__(self, rnn, head=None):
        super().__init__()
        self.rnn, self.head = rnn, head

    def forward(self, x, state=None):
        """x [T, I] -> output [T, O], and the state after the last step: (h_n,) or (h_n, c_n)."""
        if isinstance(self.rnn, nn.RNNCellBase):
            out, state = self.step_cell(x, state)
        else:
            lstm = isinstance(self.rnn, nn.LSTM)
            out, state = self.rnn(x, state if lstm or state is None else state[0])
            state = state if lstm else (state,)
        return (self.head(out) if self.head is not None else out), state

    def step_cell(self, x, state):
        """A cell over the sequence: state rows [1, H] as a one-layer model's h_n."""
        h = state[0][0] if state is not None else torch.zeros(self.rnn.hidden_size, dtype=x.dtype)
        hs = []
        for t in range(x.shape[0]):
            h = self.rnn(x[t], h)
            hs.append(h)
        return torch.stack(hs), (h.unsqueeze(0),)


def state_dict(model, rnn_prefix, head_prefix):
    """The tensors a user saves: the recurrent module's under rnn_prefix, the head's under head_prefix."""
    out = {rnn_prefix + k: v for k, v in model.rnn.state_dict().items()}
    if model.head is not None:
        out.update({head_prefix + k: v for k, v in model.head.state_dict().items()})
    return out


def run64(model, x, state=None):
    """The model in float64 on float64 copies, results rounded to float32."""
    m = copy.deepcopy(model).double()
    with torch.no_grad():
        y, s = m(x.double(), None if state is None else tuple(t.double() for t in state))
    return y.float(), tuple(t.float() for t in s)


def answers(name, y, state):
    out = {name[0]: y, name[1]: state[0]}
    if len(state) == 2:
        out[name[2]] = state[1]
    return out


def make(case, model, I, rnn_prefix="", head_prefix="head.", vars=None, description=""):
    torch.manual_seed(CASES_SEEDS[case])
    rnn = model.rnn
    cell = isinstance(rnn, nn.RNNCellBase)
    lstm = isinstance(rnn, (nn.LSTM, nn.LSTMCell))
    D = 2 if getattr(rnn, "bidirectional", False) else 1
    L = 1 if cell else rnn.num_layers
    H = rnn.hidden_size
    P = getattr(rnn, "proj_size", 0) or H

    x = torch.randn(T, I)
    tensors = {"x": x}
    tensors.update(answers(("y", "h_n", "c_n"), *run64(model, x)))
    h0 = 0.5 * torch.randn(D * L, P)
    state0 = (h0, 0.5 * torch.randn(D * L, H)) if lstm else (h0,)
    tensors.update({"h0": state0[0], **({"c0": state0[1]} if lstm else {})})
    tensors.update(answers(("y_from_h0", "h_n_from_h0", "c_n_from_h0"), *run64(model, x, state0)))
    meta = {"vars": json.dumps(vars or {}, sort_keys=True), "description": description, "source": SOURCE}
    if D == 1:
        split = 2
        y1, mid = run64(model, x[:split])
        tensors.update(answers(("y_first", "h_mid", "c_mid"), y1, mid))
        tensors.update(answers(("y_second", "h_n_second", "c_n_second"), *run64(model, x[split:], mid)))
        meta["split"] = split

    os.makedirs(OUT, exist_ok=True)
    model_path = os.path.join(OUT, case + ".model.safetensors")
    cases_path = os.path.join(OUT, case + ".cases.safetensors")
    saved = state_dict(model, rnn_prefix, head_prefix)
    write_safetensors(model_path, saved, {"source": SOURCE, "description": description})
    write_safetensors(cases_path, tensors, meta)
    # read both back: the files hold what was computed, bit for bit
    back, _ = read_safetensors(model_path)
    assert sorted(back) == sorted(saved) and all(torch.equal(back[k], saved[k].float()) for k in saved)
    back, _ = read_safetensors(cases_path)
    assert all(torch.equal(back[k], tensors[k]) for k in tensors)
    print("%-22s %6d + %5d bytes  %s" % (case, os.path.getsize(model_path), os.path.getsize(cases_path), description))


CASES_SEEDS = {"lstm_2layer_bidir": 11, "gru_2layer": 12, "rnn_relu_head": 13, "lstm_proj_bidir_head": 14, "gru_cell": 15}


def main():
    # Each model is built under its case's seed (make() reseeds for the data).
    torch.manual_seed(CASES_SEEDS["lstm_2layer_bidir"])
    make("lstm_2layer_bidir", Model(nn.LSTM(5, 12, num_layers=2, bidirectional=True)), I=5,
         description="nn.LSTM(5, 12, num_layers=2, bidirectional=True), bare names; output 24 per step, state [4, 12]")

    torch.manual_seed(CASES_SEEDS["gru_2layer"])
    make("gru_2layer", Model(nn.GRU(4, 10, num_layers=2)), I=4, rnn_prefix="encoder.gru.",
         description="nn.GRU(4, 10, num_layers=2) under 'encoder.gru.'; output 10 per step, state h [2, 10]")

    torch.manual_seed(CASES_SEEDS["rnn_relu_head"])
    make("rnn_relu_head", Model(nn.RNN(3, 8, nonlinearity="relu"), nn.Linear(8, 2)), I=3, rnn_prefix="rnn.",
         vars={"RNN_NONLINEARITY": "relu"},
         description="nn.RNN(3, 8, nonlinearity='relu') under 'rnn.' + nn.Linear(8, 2) under 'head.' on every step")

    torch.manual_seed(CASES_SEEDS["lstm_proj_bidir_head"])
    make("lstm_proj_bidir_head", Model(nn.LSTM(6, 16, num_layers=2, bidirectional=True, proj_size=8), nn.Linear(16, 3)),
         I=6, rnn_prefix="lstm.", head_prefix="out.", vars={"HEAD_PREFIX": "out."},
         description="nn.LSTM(6, 16, num_layers=2, bidirectional=True, proj_size=8) under 'lstm.' + nn.Linear(16, 3) "
                     "under 'out.'; state h [4, 8], c [4, 16]")

    torch.manual_seed(CASES_SEEDS["gru_cell"])
    make("gru_cell", Model(nn.GRUCell(4, 6)), I=4, rnn_prefix="cell.",
         description="nn.GRUCell(4, 6) under 'cell.', stepped over the sequence; state h [1, 6]")


if __name__ == "__main__":
    main()
