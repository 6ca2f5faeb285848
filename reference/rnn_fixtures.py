"""Record MXNet 1.9.1's `gluon.rnn` cells and layers for tests/test_gluon_rnn.py (run with the oracle's python).

    /work/mxvenv/bin/python reference/rnn_fixtures.py

(with oneDNN left on: MXNet 1.9.1's non-oneDNN CPU RNN op fails its own input/output count checks under autograd.)

Writes tests/fixtures/mxnet-1.9.1/rnn/<case>.npz and cases.json; see the README there.

The case table and `build(mx, case)` below are also what the test runs (it loads this file with `mx` = dataflow),
so both sides construct exactly the same blocks. Nothing here imports mxnet outside `main()`.
"""
import json
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "mxnet-1.9.1", "rnn")

N, C, H = 2, 3, 4           # batch, input features, hidden units


def _layer(name, mode, layers=1, bidirectional=False, layout="TNC", states=False, T=4, **extra):
    return dict(name=name, kind="layer", mode=mode, num_layers=layers, bidirectional=bidirectional,
                layout=layout, states=states, T=T, **extra)


def _cell(name, cell, layout="NTC", states=True, T=4, valid_length=None, sample=(C,)):
    return dict(name=name, kind="cell", cell=cell, layout=layout, states=states, T=T, valid_length=valid_length,
                sample=list(sample))


LAYER_CASES = [
    _layer("layer_%s_%s" % (mode, tag), mode, layers, bi, layout, states, T)
    for mode in ("rnn_tanh", "rnn_relu", "lstm", "gru")
    for tag, layers, bi, layout, states, T in [("l1_tnc", 1, False, "TNC", False, 4),
                                               ("l2_ntc_states", 2, False, "NTC", True, 3),
                                               ("bi_tnc_states", 1, True, "TNC", True, 5),
                                               ("l2_bi_ntc", 2, True, "NTC", False, 3)]
] + [
    # MXNet's CPU op has no backward for projection: forward only. No state-clip case: MXNet 1.9.1's oneDNN RNN
    # ignores lstm_state_clip_min/max (its native CPU RNN fails under this build); the test checks clipping in numpy.
    _layer("layer_lstm_projection", "lstm", 2, True, "TNC", True, 3, projection_size=3, forward_only=True),
]

CELL_CASES = [
    _cell("cell_rnn_tanh", "rnn_tanh"),
    _cell("cell_rnn_relu_tnc", "rnn_relu", layout="TNC"),
    _cell("cell_lstm", "lstm"),
    _cell("cell_lstm_default_state", "lstm", states=False, T=3),
    _cell("cell_gru", "gru", layout="TNC"),
    _cell("cell_lstmp", "lstmp"),
    _cell("cell_sequential", "sequential", T=3),
    _cell("cell_hybrid_sequential_residual", "hybrid_sequential_residual"),
    _cell("cell_bidirectional", "bidirectional", layout="TNC"),
    _cell("cell_dropout_zoneout", "dropout_zoneout", T=3),
    _cell("cell_vardrop", "vardrop"),
    _cell("cell_lstm_valid_length", "lstm", valid_length=[2, 4]),
    _cell("cell_bidirectional_valid_length", "bidirectional", valid_length=[4, 3]),
    _cell("cell_conv2d_lstm", "conv2d_lstm", T=3, sample=(2, 4, 4)),
    _cell("cell_conv1d_gru", "conv1d_gru", layout="TNC", T=3, sample=(2, 6)),
    _cell("cell_conv3d_rnn_relu", "conv3d_rnn_relu", T=2, sample=(1, 3, 3, 3), states=False),
]

CASES = LAYER_CASES + CELL_CASES


def _make_cell(mx, kind, prefix, input_size, hidden=H):
    rnn = mx.gluon.rnn
    if kind in ("rnn_tanh", "rnn_relu"):
        return rnn.RNNCell(hidden, activation=kind[4:], input_size=input_size, prefix=prefix)
    if kind == "lstm":
        return rnn.LSTMCell(hidden, input_size=input_size, prefix=prefix)
    if kind == "gru":
        return rnn.GRUCell(hidden, input_size=input_size, prefix=prefix)
    if kind == "lstmp":
        return mx.gluon.contrib.rnn.LSTMPCell(hidden, 3, input_size=input_size, prefix=prefix)
    if kind == "sequential":
        cell = rnn.SequentialRNNCell(prefix=prefix)
        with cell.name_scope():
            cell.add(rnn.LSTMCell(hidden, input_size=input_size, prefix="c0_"))
            cell.add(rnn.GRUCell(hidden, input_size=hidden, prefix="c1_"))
        return cell
    if kind == "hybrid_sequential_residual":
        cell = rnn.HybridSequentialRNNCell(prefix=prefix)
        with cell.name_scope():
            cell.add(rnn.RNNCell(hidden, input_size=input_size, prefix="c0_"))
            cell.add(rnn.ResidualCell(rnn.GRUCell(hidden, input_size=hidden, prefix="c1_")))
        return cell
    if kind == "bidirectional":
        return rnn.BidirectionalCell(rnn.LSTMCell(hidden, input_size=input_size, prefix=prefix + "l_"),
                                     rnn.GRUCell(hidden, input_size=input_size, prefix=prefix + "r_"))
    if kind == "dropout_zoneout":   # recorded with train_mode=False: dropout and zoneout are the identity
        cell = rnn.SequentialRNNCell(prefix=prefix)
        with cell.name_scope():
            cell.add(rnn.ZoneoutCell(rnn.LSTMCell(hidden, input_size=input_size, prefix="c0_"), 0.5, 0.5))
            cell.add(rnn.DropoutCell(0.5))
            cell.add(rnn.RNNCell(hidden, input_size=hidden, prefix="c1_"))
        return cell
    crnn = mx.gluon.contrib.rnn
    if kind == "conv2d_lstm":
        return crnn.Conv2DLSTMCell((2, 4, 4), 3, i2h_kernel=3, h2h_kernel=3, i2h_pad=1, prefix=prefix)
    if kind == "conv1d_gru":
        return crnn.Conv1DGRUCell((2, 6), 3, i2h_kernel=3, h2h_kernel=(3,), h2h_dilate=2, prefix=prefix)
    if kind == "conv3d_rnn_relu":
        return crnn.Conv3DRNNCell((1, 3, 3, 3), 2, i2h_kernel=(1, 3, 3), h2h_kernel=3, i2h_pad=(0, 1, 1),
                                  activation="relu", prefix=prefix)
    if kind == "vardrop":
        return mx.gluon.contrib.rnn.VariationalDropoutCell(
            rnn.GRUCell(hidden, input_size=input_size, prefix=prefix), 0.3, 0.3, 0.3)
    raise ValueError(kind)


def build(mx, case):
    """The block of `case`, parameters initialised and set by the recipe of the README."""
    if case["kind"] == "layer":
        rnn = mx.gluon.rnn
        kwargs = dict(num_layers=case["num_layers"], layout=case["layout"], bidirectional=case["bidirectional"],
                      input_size=C, prefix="layer_")
        mode = case["mode"]
        if mode.startswith("rnn"):
            block = rnn.RNN(H, activation=mode[4:], **kwargs)
        elif mode == "lstm":
            for key in ("projection_size", "state_clip_min", "state_clip_max"):
                if key in case:
                    kwargs[key] = case[key]
            block = rnn.LSTM(H, **kwargs)
        else:
            block = rnn.GRU(H, **kwargs)
    else:
        block = _make_cell(mx, case["cell"], "cell_", C)
    block.initialize()
    set_parameters(block, seed=len(case["name"]))
    return block


def set_parameters(block, seed):
    """Uniform(-0.5, 0.5) from RandomState(seed), drawn parameter by parameter in sorted-name order."""
    rs = np.random.RandomState(seed)
    params = block.collect_params()
    for name in sorted(params.keys()):
        params[name].set_data(rs.uniform(-0.5, 0.5, size=params[name].shape).astype("float32"))


def inputs_of(case, state_shapes):
    """x, the given states, the output weight w and one weight per returned state (seeded by the case)."""
    rs = np.random.RandomState(1000 + len(case["name"]))
    T = case["T"]
    sample = tuple(case.get("sample", (C,)))
    x = rs.uniform(-1, 1, size=((T, N) if case["layout"] == "TNC" else (N, T)) + sample).astype("float32")
    states = [rs.uniform(-1, 1, size=s).astype("float32") for s in state_shapes] if case["states"] else []
    return x, states, rs


def run(mx, case, block, x, states, rs, hybrid_wrapper=None):
    """Forward + backward of sum(out * w) + sum_i sum(state_i * ws_i) under autograd.record() (cells: train_mode=False).

    Returns a dict of numpy arrays: out, hn<i>, w, ws<i>, grad_x, grad_state<i>, grad:<param name>."""
    nd, autograd = mx.nd, mx.autograd
    xs = nd.array(x)
    xs.attach_grad()
    given = [nd.array(s) for s in states]
    for s in given:
        s.attach_grad()
    T = case["T"]
    valid = nd.array(case["valid_length"]) if case.get("valid_length") else None
    # MXNet's fused RNN op cannot run backward after a predict-mode forward; the layers have no dropout here
    forward_only = case.get("forward_only", False)
    with autograd.record(train_mode=case["kind"] == "layer") if not forward_only else _nothing():
        if hybrid_wrapper is not None:
            out, hn = hybrid_wrapper(xs, given, valid)
        elif case["kind"] == "layer":
            if given:
                out, hn = block(xs, given)
            else:
                out, hn = block(xs), []
        else:
            out, hn = block.unroll(T, xs, begin_state=given or None, layout=case["layout"], merge_outputs=True,
                                   valid_length=valid)
        rec = {"w": rs.uniform(-1, 1, size=out.shape).astype("float32")}
        loss = (out * nd.array(rec["w"])).sum()
        for i, h in enumerate(hn):
            rec["ws%d" % i] = rs.uniform(-1, 1, size=h.shape).astype("float32")
            loss = loss + (h * nd.array(rec["ws%d" % i])).sum()
    rec["out"] = out.asnumpy()
    for i, h in enumerate(hn):
        rec["hn%d" % i] = h.asnumpy()
    if forward_only:
        return rec
    loss.backward()
    rec["grad_x"] = xs.grad.asnumpy()
    for i, s in enumerate(given):
        rec["grad_state%d" % i] = s.grad.asnumpy()
    for name, p in block.collect_params().items():
        rec["grad:" + name] = p.grad().asnumpy()
    return rec


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def state_shapes(block):
    return [tuple(info["shape"]) for info in block.state_info(N)]


SAVED_LAYER = dict(name="saved_gru", kind="layer", mode="gru", num_layers=2, bidirectional=True, layout="TNC",
                   states=False, T=3)


def record_saved_layer(mx):
    """A 2-layer bidirectional GRU saved with MXNet's save_parameters (its `_unfused.*` keys) and its output."""
    block = build(mx, SAVED_LAYER)
    block.save_parameters(os.path.join(OUT, "saved_gru.params"))
    x = np.random.RandomState(7).uniform(-1, 1, size=(3, N, C)).astype("float32")
    np.savez_compressed(os.path.join(OUT, "saved_gru.npz"), x=x, out=block(mx.nd.array(x)).asnumpy(),
                        keys=np.array(sorted(mx.nd.load(os.path.join(OUT, "saved_gru.params")))))


def check_against_unfused(mx, case, block, x, states, out):
    """The oneDNN layer's output equals MXNet's own cells (`_unfuse()`) unrolled with the same parameters."""
    cells = block._unfuse()
    begin = None
    if states:      # (layers*dirs, N, H) per kind -> the cells' order: per layer and direction, h (and c)
        slots = case["num_layers"] * (2 if case["bidirectional"] else 1)
        begin = [mx.nd.array(s[slot]) for slot in range(slots) for s in states]
    unfused, _ = cells.unroll(case["T"], mx.nd.array(x), begin_state=begin, layout=case["layout"],
                              merge_outputs=True)
    assert np.abs(unfused.asnumpy() - out).max() < 1e-6, case["name"]


def main():
    os.environ.setdefault("MXNET_STORAGE_FALLBACK_LOG_VERBOSE", "0")
    import mxnet as mx
    os.makedirs(OUT, exist_ok=True)
    for case in CASES:
        block = build(mx, case)
        x, states, rs = inputs_of(case, state_shapes(block))
        rec = run(mx, case, block, x, states, rs)
        if case["kind"] == "layer" and not case.get("projection_size"):
            check_against_unfused(mx, case, block, x, states, rec["out"])
        rec["x"] = x
        for i, s in enumerate(states):
            rec["state%d" % i] = s
        np.savez_compressed(os.path.join(OUT, case["name"] + ".npz"), **rec)
        print(case["name"], rec["out"].shape, len(rec))
    record_saved_layer(mx)
    with open(os.path.join(OUT, "cases.json"), "w") as fh:
        json.dump(CASES, fh, indent=1)


if __name__ == "__main__":
    main()
