#!/usr/bin/python3
"""ONNX fixtures for rnn-wasm/onnx (test/onnx/): models with their inputs and expected outputs.

Run from the repository root (Debian: `apt-get install python3-onnx python3-torch`):

    /usr/bin/python3 scripts/make_onnx_fixtures.py

Writes test/fixtures/onnx/<group>/<case>.json, each {"model": base64 of the .onnx bytes, "inputs": {...},
"outputs": {...}} with every tensor as {"dtype": "float32" | "int32" | "int64", "shape": [...], "data": ...} (in the
graph's input/output order; float32 data as base64 of its little-endian bytes, int64 values as decimal strings,
smaller integer and bool types as int32 numbers), and examples/onnx-lstm.onnx (the docs' example model). Groups:

  conformance/  every test_lstm_*, test_gru_*, test_rnn_*, test_simple_rnn_* node test of ONNX's own backend test
                generators (onnx/backend/test/case/node/{lstm,gru,rnn}.py, shipped by python3-onnx; Debian does not
                ship the generated data), with the generators' numpy references as expected outputs.
  attributes/   one LSTM, GRU or RNN node per case, over the attributes and inputs the conformance cases leave out
                (bidirectional, reverse, activations with alpha/beta, clip, input_forget, layout 1, peepholes,
                sequence_lens, initial states, Y_c, weights as initializers): expected outputs from `reference`
                below, a float64 numpy model of the spec that follows ONNX Runtime where the spec is open:
                clip bounds each gate's pre-activation (peephole term included), never the cell state;
                input_forget sets f = 1 - i; activation_alpha/beta are consumed only by activations that take them,
                in order, and missing ones default as ONNX Runtime defaults them (LeakyRelu 0.01, HardSigmoid
                0.2/0.5, Elu 1.0, others 0); Y past a row's sequence_lens is 0, Y_h is the state after its last step.
  torch/        nn.LSTM / nn.GRU / nn.RNN weights written as ONNX nodes (PyTorch's gate orders mapped to ONNX's by
                hand, as the exporter maps them), expected outputs from PyTorch itself in float64 (variable lengths
                through pack_padded_sequence): an oracle that is not ours, for gate order and the GRU's reset form.
  glue/         ONNX's own node tests for the other operators rnn-wasm/onnx runs (add.py, slice.py, gather.py, ... of
                the same generators), small ones only (at most 2048 values in all); the test lists the ones it is
                expected to refuse (element types it does not read) and checks it refuses them with an RnnError.
  exported/     whole models through torch.onnx.export (opset 14, dynamic batch and sequence axes): stacked,
                bidirectional and batch-first LSTM/GRU/RNN with Linear heads, with and without initial states,
                run at sizes other than the export's; expected outputs from PyTorch in float64. These graphs hold
                the exporter's glue around the recurrent nodes (Shape, Gather, Unsqueeze, Concat, Transpose, ...).

Deterministic: fixed seeds, CPU only. The whole set stays a few hundred KB.
"""
import base64
import json
import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "onnx")


def tensor_json(a):
    """float32 values as base64 of their little-endian bytes (half the size of decimal text); integers as numbers."""
    a = np.asarray(a)
    if a.dtype in (np.int64, np.uint64):  # as strings: JSON numbers lose int64's low bits
        dtype, data = "int64", "[" + ",".join(f'"{int(v)}"' for v in a.reshape(-1)) + "]"
    elif a.dtype.kind in "iub":
        dtype, data = "int32", "[" + ",".join(str(int(v)) for v in a.reshape(-1)) + "]"
    else:
        dtype, data = "float32", '"' + base64.b64encode(a.astype("<f4").tobytes()).decode("ascii") + '"'
    return f'{{"dtype":"{dtype}","shape":{json.dumps(list(a.shape))},"data":{data}}}'


def save(group, name, model, inputs, outputs):
    """inputs / outputs: lists of (name, array) in the graph's order."""
    onnx.checker.check_model(model)
    d = os.path.join(OUT, group)
    os.makedirs(d, exist_ok=True)
    model64 = base64.b64encode(model.SerializeToString()).decode("ascii")
    ins = ",".join(f'"{k}":{tensor_json(v)}' for k, v in inputs)
    outs = ",".join(f'"{k}":{tensor_json(v)}' for k, v in outputs)
    with open(os.path.join(d, name + ".json"), "w") as f:
        f.write(f'{{"model":"{model64}","inputs":{{{ins}}},"outputs":{{{outs}}}}}\n')


# ---------------------------------------------------------------------------------------------------------------
# conformance: ONNX's generators, run as ONNX's own backend test collection runs them

GLUE_GENERATORS = ["add", "sub", "mul", "div", "pow", "matmul", "gemm", "transpose", "reshape", "flatten", "squeeze",
                   "unsqueeze", "concat", "slice", "gather", "shape", "constant", "constantofshape", "cast", "identity",
                   "dropout", "relu", "sigmoid", "tanh", "exp", "log", "sqrt", "neg", "abs", "leakyrelu", "elu",
                   "hardsigmoid", "softplus", "softsign", "softmax", "logsoftmax"]


def glue():
    import importlib
    import onnx.backend.test.case.node as node_cases
    before = len(node_cases._NodeTestCases)
    skipped = []
    for m in GLUE_GENERATORS:
        try:
            importlib.import_module("onnx.backend.test.case.node." + m)
        except Exception as e:  # a generator Debian 12's numpy no longer runs
            skipped.append(f"{m} ({type(e).__name__})")
    names = []
    for c in node_cases._NodeTestCases[before:]:
        (inputs, outputs), = c.data_sets
        if c.name.endswith("_expanded") or sum(np.asarray(a).size for a in list(inputs) + list(outputs)) > 2048:
            continue
        if any(np.asarray(a).dtype.kind not in "fiub" for a in list(inputs) + list(outputs)):
            continue  # strings, and so on: not tensors this importer reads
        g = c.model.graph
        save("glue", c.name, c.model, [(vi.name, a) for vi, a in zip(g.input, inputs)], [(vi.name, a) for vi, a in zip(g.output, outputs)])
        names.append(c.name)
    return names, skipped


def conformance():
    # collect_testcases() would import every generator, and some no longer run on Debian 12's numpy (np.float):
    # import the three we need; their metaclass runs each export_* at import (after np.random.seed(0), as ONNX does)
    import importlib
    import onnx.backend.test.case.node as node_cases
    for m in ("lstm", "gru", "rnn"):
        importlib.import_module("onnx.backend.test.case.node." + m)
    cases = [c for c in node_cases._NodeTestCases if c.name.startswith(("test_lstm", "test_gru", "test_rnn", "test_simple_rnn"))]
    seen = set()
    for c in cases:
        if c.name in seen:
            continue
        seen.add(c.name)
        (inputs, outputs), = c.data_sets
        g = c.model.graph
        ins = [(vi.name, a) for vi, a in zip(g.input, inputs)]
        outs = [(vi.name, a) for vi, a in zip(g.output, outputs)]
        save("conformance", c.name, c.model, ins, outs)
    return sorted(seen)


# ---------------------------------------------------------------------------------------------------------------
# reference: the spec in float64, ONNX Runtime's choices where the spec is open

USES = {  # activation -> (takes alpha, takes beta), as ONNX Runtime's rnn_helpers.cc
    "affine": (True, True), "relu": (False, False), "leakyrelu": (True, False), "thresholdedrelu": (True, False),
    "tanh": (False, False), "scaledtanh": (True, True), "sigmoid": (False, False), "hardsigmoid": (True, True),
    "elu": (True, False), "softsign": (False, False), "softplus": (False, False),
}
DEFAULTS = {"leakyrelu": (0.01, 0.0), "hardsigmoid": (0.2, 0.5), "elu": (1.0, 0.0)}


def act(name, alpha, beta):
    n = name.lower()
    return {
        "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
        "tanh": np.tanh,
        "relu": lambda x: np.maximum(x, 0),
        "affine": lambda x: alpha * x + beta,
        "leakyrelu": lambda x: np.where(x >= 0, x, alpha * x),
        "thresholdedrelu": lambda x: np.where(x >= alpha, x, 0),
        "scaledtanh": lambda x: alpha * np.tanh(beta * x),
        "hardsigmoid": lambda x: np.clip(alpha * x + beta, 0, 1),
        "elu": lambda x: np.where(x >= 0, x, alpha * (np.exp(x) - 1)),
        "softsign": lambda x: x / (1 + np.abs(x)),
        "softplus": lambda x: np.log1p(np.exp(x)),
    }[n]


def activation_funcs(names, alphas, betas):
    ai, bi, out = 0, 0, []
    for name in names:
        n = name.lower()
        ua, ub = USES[n]
        da, db = DEFAULTS.get(n, (0.0, 0.0))
        a = b = 0.0
        if ua:
            a = alphas[ai] if ai < len(alphas) else da
            ai += 1
        if ub:
            b = betas[bi] if bi < len(betas) else db
            bi += 1
        out.append(act(n, a, b))
    return out


DEFAULT_ACTS = {"LSTM": ["Sigmoid", "Tanh", "Tanh"], "GRU": ["Sigmoid", "Tanh"], "RNN": ["Tanh"]}
GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}


def reference(op, attrs, X, W, R, B=None, seq=None, h0=None, c0=None, P=None):
    """Y, Y_h, Y_c of one ONNX LSTM / GRU / RNN node, float64."""
    X, W, R = (np.asarray(v, np.float64) for v in (X, W, R))
    layout = attrs.get("layout", 0)
    if layout == 1:
        X = X.transpose(1, 0, 2)
        h0 = None if h0 is None else np.asarray(h0).transpose(1, 0, 2)
        c0 = None if c0 is None else np.asarray(c0).transpose(1, 0, 2)
    T, Bn, _ = X.shape
    D, GH, _ = W.shape
    H = attrs["hidden_size"]
    G = GATES[op]
    direction = attrs.get("direction", "forward")
    names = attrs.get("activations", DEFAULT_ACTS[op] * D)
    if len(names) == len(DEFAULT_ACTS[op]) and D == 2:
        names = names * 2
    funcs = activation_funcs(names, attrs.get("activation_alpha", []), attrs.get("activation_beta", []))
    k = len(DEFAULT_ACTS[op])
    clip = attrs.get("clip")
    cl = (lambda x: np.clip(x, -clip, clip)) if clip is not None else (lambda x: x)
    B = np.zeros((D, 2 * G * H)) if B is None else np.asarray(B, np.float64)
    seq = np.full(Bn, T) if seq is None else np.asarray(seq).astype(np.int64)
    h0 = np.zeros((D, Bn, H)) if h0 is None else np.asarray(h0, np.float64)
    c0 = np.zeros((D, Bn, H)) if c0 is None else np.asarray(c0, np.float64)
    P = np.zeros((D, 3 * H)) if P is None else np.asarray(P, np.float64)
    Y = np.zeros((T, D, Bn, H))
    Yh = np.zeros((D, Bn, H))
    Yc = np.zeros((D, Bn, H))
    for d in range(D):
        reverse = direction == "reverse" or d == 1
        f = funcs[d * k:(d + 1) * k]
        Wb, Rb = B[d, :G * H], B[d, G * H:]
        for b in range(Bn):
            h, c = h0[d, b].copy(), c0[d, b].copy()
            L = seq[b]
            for t in (range(L - 1, -1, -1) if reverse else range(L)):
                x = X[t, b]
                if op == "RNN":
                    h = f[0](cl(W[d] @ x + R[d] @ h + Wb + Rb))
                elif op == "GRU":
                    wx = W[d] @ x + Wb
                    z = f[0](cl(wx[:H] + R[d, :H] @ h + Rb[:H]))
                    r = f[0](cl(wx[H:2 * H] + R[d, H:2 * H] @ h + Rb[H:2 * H]))
                    if attrs.get("linear_before_reset", 0):
                        n = f[1](cl(wx[2 * H:] + r * (R[d, 2 * H:] @ h + Rb[2 * H:])))
                    else:
                        n = f[1](cl(wx[2 * H:] + R[d, 2 * H:] @ (r * h) + Rb[2 * H:]))
                    h = (1 - z) * n + z * h
                else:
                    g = W[d] @ x + R[d] @ h + Wb + Rb
                    pi, po, pf = P[d, :H], P[d, H:2 * H], P[d, 2 * H:]
                    i = f[0](cl(g[:H] + pi * c))
                    if attrs.get("input_forget", 0):
                        fg = 1 - i
                    else:
                        fg = f[0](cl(g[2 * H:3 * H] + pf * c))
                    cc = f[1](cl(g[3 * H:]))
                    c = fg * c + i * cc
                    o = f[0](cl(g[H:2 * H] + po * c))
                    h = o * f[2](c)
                Y[t, d, b] = h
            Yh[d, b], Yc[d, b] = h, c
    if layout == 1:
        return Y.transpose(2, 0, 1, 3), Yh.transpose(1, 0, 2), Yc.transpose(1, 0, 2)
    return Y, Yh, Yc


def node_case(name, op, attrs, T, Bn, I, *, bias=True, seq=None, h0=False, c0=False, P=False, outputs=("Y", "Y_h", "Y_c"),
              initializers=(), seed=0, scale=0.5, seq_dtype=np.int32):
    rng = np.random.default_rng(seed)
    H = attrs["hidden_size"]
    D = 2 if attrs.get("direction") == "bidirectional" else 1
    G = GATES[op]
    layout = attrs.get("layout", 0)
    f32 = lambda *s: (rng.standard_normal(s) * scale).astype(np.float32)
    vals = {"X": f32(T, Bn, I) if layout == 0 else f32(Bn, T, I), "W": f32(D, G * H, I), "R": f32(D, G * H, H)}
    if bias:
        vals["B"] = f32(D, 2 * G * H)
    if seq is not None:
        vals["sequence_lens"] = np.asarray(seq, seq_dtype)
    state = (lambda: f32(D, Bn, H)) if layout == 0 else (lambda: f32(Bn, D, H))
    if h0:
        vals["initial_h"] = state()
    if c0:
        vals["initial_c"] = state()
    if P:
        vals["P"] = f32(D, 3 * H)
    order = ["X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"][:{"LSTM": 8, "GRU": 6, "RNN": 6}[op]]
    last = max(i for i, k in enumerate(order) if k in vals)
    node_inputs = [k if k in vals else "" for k in order[:last + 1]]
    outs = list(outputs) if op == "LSTM" else [o for o in outputs if o != "Y_c"]
    node = helper.make_node(op, node_inputs, [o if o else "" for o in outs], name=f"{op.lower()}_node", **attrs)
    Y, Yh, Yc = reference(op, attrs, vals["X"], vals["W"], vals["R"], vals.get("B"), vals.get("sequence_lens"),
                          vals.get("initial_h"), vals.get("initial_c"), vals.get("P"))
    results = {"Y": Y, "Y_h": Yh, "Y_c": Yc}
    graph_inputs, inits, feeds = [], [], []
    for k in node_inputs:
        if not k:
            continue
        v = vals[k]
        if k in initializers:
            inits.append(numpy_helper.from_array(v, k))
        else:
            elem = TensorProto.INT32 if v.dtype == np.int32 else TensorProto.FLOAT
            graph_inputs.append(helper.make_tensor_value_info(k, elem, list(v.shape)))
            feeds.append((k, v))
    graph_outputs = [helper.make_tensor_value_info(o, TensorProto.FLOAT, list(results[o].shape)) for o in outs if o]
    graph = helper.make_graph([node], name, graph_inputs, graph_outputs, initializer=inits)
    model = helper.make_model(graph, producer_name="rnn-wasm make_onnx_fixtures.py",
                              opset_imports=[helper.make_operatorsetid("", 14)])
    save("attributes", name, model, feeds, [(o, results[o]) for o in outs if o])
    return name


def attributes():
    names = []
    c = lambda *a, **k: names.append(node_case(*a, **k))
    for op in ("LSTM", "GRU", "RNN"):
        lo = op.lower()
        extra = {"c0": True} if op == "LSTM" else {}
        c(f"{lo}_forward_state", op, {"hidden_size": 5}, 4, 3, 3, h0=True, seed=1, **extra)
        c(f"{lo}_reverse", op, {"hidden_size": 4, "direction": "reverse"}, 5, 2, 3, h0=True, seed=2, **extra)
        c(f"{lo}_bidirectional_seq_lens", op, {"hidden_size": 6, "direction": "bidirectional"}, 6, 3, 5, seq=[6, 2, 4], h0=True, seed=3, **extra)
        c(f"{lo}_layout1_bidirectional", op, {"hidden_size": 3, "direction": "bidirectional", "layout": 1}, 4, 2, 3, seq=[3, 4], h0=True, seed=4, **extra)
        c(f"{lo}_no_bias_initializers", op, {"hidden_size": 7}, 3, 2, 9, bias=False, initializers=("W", "R"), seed=5)
        c(f"{lo}_clip", op, {"hidden_size": 4, "clip": 0.4}, 4, 2, 3, seed=6, scale=1.5)
        c(f"{lo}_seq_lens_float", op, {"hidden_size": 4, "direction": "bidirectional"}, 5, 3, 2, seq=[5, 1, 3], seed=7, seq_dtype=np.float32)
    # activations with alpha / beta (per direction: forward and reverse differ)
    c("lstm_activations", "LSTM", {"hidden_size": 4, "direction": "bidirectional",
                                   "activations": ["HardSigmoid", "Softsign", "Elu", "Sigmoid", "ScaledTanh", "Softplus"],
                                   "activation_alpha": [0.3, 0.7, 1.2], "activation_beta": [0.4, 0.6]}, 4, 2, 3, h0=True, c0=True, seed=8)
    c("gru_activations", "GRU", {"hidden_size": 4, "direction": "bidirectional",
                                 "activations": ["HardSigmoid", "LeakyRelu", "Sigmoid", "Affine"],
                                 "activation_alpha": [0.25, 0.1, 0.8], "activation_beta": [0.45, 0.1]}, 4, 2, 3, seed=9)
    c("rnn_activations", "RNN", {"hidden_size": 4, "direction": "bidirectional", "activations": ["ThresholdedRelu", "Softsign"],
                                 "activation_alpha": [0.1]}, 4, 2, 3, seed=10)
    c("rnn_relu_default_alpha", "RNN", {"hidden_size": 4, "activations": ["Relu"]}, 5, 2, 3, seed=11)
    c("lstm_activation_defaults", "LSTM", {"hidden_size": 3, "activations": ["HardSigmoid", "LeakyRelu", "Elu"]}, 4, 2, 3, seed=12)
    # LSTM only: peepholes, input_forget, and all of it at once
    c("lstm_peepholes_bidirectional", "LSTM", {"hidden_size": 5, "direction": "bidirectional"}, 4, 3, 3, seq=[4, 3, 1], h0=True, c0=True, P=True, seed=13)
    c("lstm_input_forget", "LSTM", {"hidden_size": 4, "input_forget": 1}, 5, 2, 3, h0=True, c0=True, seed=14)
    c("lstm_everything", "LSTM", {"hidden_size": 4, "direction": "bidirectional", "layout": 1, "clip": 0.9, "input_forget": 1,
                                  "activations": ["Sigmoid", "Tanh", "Softsign", "HardSigmoid", "Tanh", "Tanh"]},
      5, 3, 2, seq=[5, 2, 4], h0=True, c0=True, P=True, seed=15, scale=1.0)
    c("gru_lbr_clip_layout1", "GRU", {"hidden_size": 5, "linear_before_reset": 1, "clip": 0.7, "layout": 1}, 4, 3, 2, seq=[4, 1, 3], h0=True, seed=16, scale=1.2)
    c("gru_lbr_bidirectional", "GRU", {"hidden_size": 6, "linear_before_reset": 1, "direction": "bidirectional"}, 5, 2, 4, h0=True, seed=17)
    c("lstm_only_y", "LSTM", {"hidden_size": 3}, 3, 2, 2, outputs=("Y",), seed=18)
    c("lstm_only_y_c", "LSTM", {"hidden_size": 3}, 3, 2, 2, outputs=("", "", "Y_c"), seed=19)
    c("gru_wide_simd_tails", "GRU", {"hidden_size": 13, "direction": "bidirectional"}, 7, 5, 11, seq=[7, 6, 1, 3, 7], h0=True, seed=20,
      initializers=("W", "R", "B"))
    c("lstm_wide_simd_tails", "LSTM", {"hidden_size": 17, "direction": "bidirectional"}, 6, 3, 10, seq=[2, 6, 5], h0=True, c0=True, seed=21,
      initializers=("W", "R", "B"))
    return names


# ---------------------------------------------------------------------------------------------------------------
# torch: PyTorch's modules as ONNX nodes, PyTorch's outputs

def torch_cases():
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
    names = []

    def reorder(w, kind):  # PyTorch gate blocks -> ONNX gate blocks, along axis 0
        H = w.shape[0] // GATES[kind]
        blocks = [w[k * H:(k + 1) * H] for k in range(GATES[kind])]
        if kind == "LSTM":  # i, f, g, o -> i, o, f, c
            blocks = [blocks[0], blocks[3], blocks[1], blocks[2]]
        elif kind == "GRU":  # r, z, n -> z, r, h
            blocks = [blocks[1], blocks[0], blocks[2]]
        return np.concatenate(blocks, 0)

    def case(name, kind, I, H, T, Bn, bidirectional, lengths=None, seed=0, relu=False, states=True):
        torch.manual_seed(seed)
        cls = {"LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU, "RNN": torch.nn.RNN}[kind]
        kw = {"nonlinearity": "relu"} if relu else {}
        m = cls(I, H, bidirectional=bidirectional, **kw).double()
        with torch.no_grad():  # float32 weights, computed in float64
            for p in m.parameters():
                p.copy_(p.float().double())
        D = 2 if bidirectional else 1
        x = torch.randn(T, Bn, I).float().double()
        h0 = (torch.randn(D, Bn, H) * 0.5).float().double() * states
        c0 = (torch.randn(D, Bn, H) * 0.5).float().double() * states
        state = (h0, c0) if kind == "LSTM" else h0
        with torch.no_grad():
            if lengths is None:
                out, st = m(x, state)
            else:
                packed, st = m(pack_padded_sequence(x, torch.tensor(lengths), enforce_sorted=False), state)
                out, _ = pad_packed_sequence(packed, total_length=T)
        hn, cn = (st if kind == "LSTM" else (st, None))
        sfx = ["", "_reverse"][:D]
        sd = {k: v.numpy() for k, v in m.state_dict().items()}
        W = np.stack([reorder(sd["weight_ih_l0" + s], kind) for s in sfx]).astype(np.float32)
        R = np.stack([reorder(sd["weight_hh_l0" + s], kind) for s in sfx]).astype(np.float32)
        B = np.stack([np.concatenate([reorder(sd["bias_ih_l0" + s], kind), reorder(sd["bias_hh_l0" + s], kind)]) for s in sfx]).astype(np.float32)
        attrs = {"hidden_size": H, "direction": "bidirectional" if bidirectional else "forward"}
        if kind == "GRU":
            attrs["linear_before_reset"] = 1
        if relu:
            attrs["activations"] = ["Relu"] * D
        feeds = [("X", x.numpy().astype(np.float32))]
        inits = [numpy_helper.from_array(W, "W"), numpy_helper.from_array(R, "R"), numpy_helper.from_array(B, "B")]
        node_in = ["X", "W", "R", "B", "", "initial_h"] if states else ["X", "W", "R", "B"]
        if lengths is not None:
            feeds.append(("sequence_lens", np.asarray(lengths, np.int32)))
            node_in[4] = "sequence_lens"
        if states:
            feeds.append(("initial_h", h0.numpy().astype(np.float32)))
        if kind == "LSTM" and states:
            node_in += ["initial_c"]
            feeds.append(("initial_c", c0.numpy().astype(np.float32)))
        Y = out.numpy().reshape(T, Bn, D, H).transpose(0, 2, 1, 3)  # PyTorch [T, B, D*H] -> ONNX [T, D, B, H]
        outs = [("Y", Y), ("Y_h", hn.numpy())] + ([("Y_c", cn.numpy())] if kind == "LSTM" else [])
        node = helper.make_node(kind, node_in, [o for o, _ in outs], **attrs)
        gi = [helper.make_tensor_value_info(k, TensorProto.INT32 if v.dtype == np.int32 else TensorProto.FLOAT, list(v.shape)) for k, v in feeds]
        go = [helper.make_tensor_value_info(k, TensorProto.FLOAT, list(v.shape)) for k, v in outs]
        model = helper.make_model(helper.make_graph([node], name, gi, go, initializer=inits),
                                  producer_name="rnn-wasm make_onnx_fixtures.py", opset_imports=[helper.make_operatorsetid("", 14)])
        save("torch", name, model, feeds, outs)
        names.append(name)
        return model

    case("lstm", "LSTM", 3, 5, 4, 2, False, seed=1)
    case("lstm_bidirectional_lengths", "LSTM", 4, 6, 5, 3, True, lengths=[5, 2, 3], seed=2)
    case("gru", "GRU", 3, 5, 4, 2, False, seed=3)
    case("gru_bidirectional_lengths", "GRU", 4, 7, 6, 3, True, lengths=[1, 6, 4], seed=4)
    case("rnn_tanh_bidirectional", "RNN", 3, 4, 5, 2, True, seed=5)
    case("rnn_relu_lengths", "RNN", 3, 4, 5, 3, False, lengths=[5, 3, 1], seed=6, relu=True)
    example = case("lstm_example", "LSTM", 2, 8, 6, 1, False, seed=7, states=False)
    return names, example


def exported_cases():
    import io
    import warnings
    import torch
    names = []

    class Net(torch.nn.Module):
        def __init__(self, rnn, out_features, head=True, return_state=False):
            super().__init__()
            self.rnn = rnn
            D = 2 if rnn.bidirectional else 1
            self.head = torch.nn.Linear(D * rnn.hidden_size, out_features) if head else None
            self.return_state = return_state

        def forward(self, x, *state):
            st = None if not state else (state if len(state) > 1 else state[0])
            out, hn = self.rnn(x, st) if st is not None else self.rnn(x)
            y = self.head(out) if self.head is not None else out
            if not self.return_state:
                return y
            return (y, *hn) if isinstance(hn, tuple) else (y, hn)

    def case(name, rnn, out_features, states, T, Bn, seed, head=True, return_state=False, export_T=5, export_B=2):
        torch.manual_seed(seed)
        net = Net(rnn, out_features, head, return_state).eval()
        with torch.no_grad():
            for p in net.parameters():
                p.copy_(p * 1.0)
        kind = type(rnn).__name__
        L, D, H, I = rnn.num_layers, 2 if rnn.bidirectional else 1, rnn.hidden_size, rnn.input_size
        bf = rnn.batch_first
        shape = lambda t, b: (b, t, I) if bf else (t, b, I)
        state_names = (["h0", "c0"] if kind == "LSTM" else ["h0"]) if states else []
        args = (torch.randn(*shape(export_T, export_B)),) + tuple(torch.randn(L * D, export_B, H) for _ in state_names)
        in_names = ["input"] + state_names
        out_names = ["output"] + ((["h_n", "c_n"] if kind == "LSTM" else ["h_n"]) if return_state else [])
        dyn = {"input": {0: "batch", 1: "seq"} if bf else {0: "seq", 1: "batch"}}
        for n in state_names:
            dyn[n] = {1: "batch"}
        for n in out_names:
            dyn[n] = ({0: "batch", 1: "seq"} if bf else {0: "seq", 1: "batch"}) if n == "output" else {1: "batch"}
        f = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(net, args, f, input_names=in_names, output_names=out_names, dynamic_axes=dyn, opset_version=14)
        model = onnx.load_from_string(f.getvalue())
        x = torch.randn(*shape(T, Bn))
        st = tuple(torch.randn(L * D, Bn, H) * 0.5 for _ in state_names)
        net64 = Net(type(rnn)(I, H, num_layers=L, bidirectional=rnn.bidirectional, batch_first=bf,
                              **({"nonlinearity": rnn.nonlinearity} if kind == "RNN" else {})), out_features, head, return_state)
        net64.load_state_dict(net.state_dict())
        net64 = net64.double().eval()
        with torch.no_grad():
            res = net64(x.double(), *(s.double() for s in st))
        res = res if isinstance(res, tuple) else (res,)
        feeds = [("input", x.numpy())] + [(n, s.numpy()) for n, s in zip(state_names, st)]
        save("exported", name, model, feeds, [(n, r.numpy()) for n, r in zip(out_names, res)])
        names.append(name)
        return model

    case("lstm_2layer_head", torch.nn.LSTM(3, 8, num_layers=2), 2, False, 7, 3, seed=31)
    case("lstm_bidirectional_batch_first_states", torch.nn.LSTM(4, 6, bidirectional=True, batch_first=True), 3, True, 6, 4, seed=32, return_state=True)
    case("gru_2layer_bidirectional_head", torch.nn.GRU(3, 5, num_layers=2, bidirectional=True), 1, False, 5, 2, seed=33)
    case("gru_batch_first_states", torch.nn.GRU(2, 7, batch_first=True), 2, True, 4, 3, seed=34, return_state=True)
    case("rnn_relu_2layer_bidirectional", torch.nn.RNN(3, 4, num_layers=2, bidirectional=True, nonlinearity="relu"), 2, False, 6, 2, seed=35)
    case("rnn_tanh_no_head_states", torch.nn.RNN(3, 5, batch_first=True), 1, True, 5, 1, seed=36, head=False, return_state=True)
    return names


def main():
    np.random.seed(0)  # the RNN generators draw from numpy's global generator
    n1 = conformance()
    n2 = attributes()
    n3, example = torch_cases()
    n4 = exported_cases()
    n5, skipped = glue()
    with open(os.path.join(ROOT, "examples", "onnx-lstm.onnx"), "wb") as f:
        f.write(example.SerializeToString())
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(OUT) for f in fs)
    print(f"{len(n1)} conformance, {len(n2)} attribute, {len(n3)} PyTorch and {len(n4)} exported cases, {total} bytes under {os.path.relpath(OUT, ROOT)}")
    print("conformance:", ", ".join(n1))
    print(f"glue: {len(n5)} node tests; generators skipped: {', '.join(skipped) or 'none'}")


if __name__ == "__main__":
    sys.exit(main())
