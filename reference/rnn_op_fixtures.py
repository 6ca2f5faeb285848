"""Record MXNet 1.9.1's fused `RNN` op for tests/test_rnn_op.py (run with the oracle's python).

    /work/mxvenv/bin/python reference/rnn_op_fixtures.py

oneDNN is left on: MXNet 1.9.1's native CPU RNN op fails its own input count check for LSTM in this build
(`in_data.size() == num_inputs (4 vs. 3)`); LSTMP runs on the native kernel either way (forward only: "No training
support for LSTM with projection"). Writes tests/fixtures/mxnet-1.9.1/rnn_op/<case>.npz and cases.json; see the
README there. Nothing here imports mxnet outside `main()`.
"""
import json
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "mxnet-1.9.1", "rnn_op")

T, N, C, H = 4, 2, 3, 4         # steps, batch, input features, state size


def _case(mode, layers, bidirectional, projection_size=None, forward_only=False, steps=T):
    tag = "%s_l%d%s%s" % (mode, layers, "_bi" if bidirectional else "", "_p%d" % projection_size
                          if projection_size else "")
    return dict(name=tag, mode=mode, num_layers=layers, bidirectional=bidirectional, projection_size=projection_size,
                forward_only=forward_only, T=steps)


CASES = [_case(mode, layers, bi) for mode in ("rnn_tanh", "rnn_relu", "lstm", "gru")
         for layers, bi in ((1, False), (2, False), (1, True), (2, True))] + \
    [_case("lstm", 1, False, 2, forward_only=True), _case("lstm", 2, True, 3, forward_only=True, steps=3)]


def attrs(case):
    """The op's keyword arguments for a case (the test calls dataflow's RNN with the same)."""
    out = dict(mode=case["mode"], state_size=H, num_layers=case["num_layers"], bidirectional=case["bidirectional"],
               state_outputs=True)
    if case["projection_size"]:
        out["projection_size"] = case["projection_size"]
    return out


def shapes(case):
    """{input name: shape} of a case: data, parameters, state (and state_cell)."""
    d = 2 if case["bidirectional"] else 1
    r = case["projection_size"] or H
    g = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}[case["mode"]]
    size, width = 0, C
    for _ in range(case["num_layers"]):
        size += d * (g * H * (width + r + 2) + (r * H if case["projection_size"] else 0))
        width = d * r
    out = {"data": (case["T"], N, C), "parameters": (size,), "state": (case["num_layers"] * d, N, r)}
    if case["mode"] == "lstm":
        out["state_cell"] = (case["num_layers"] * d, N, H)
    return out


def inputs(case):
    """The case's inputs, drawn from RandomState(len(name) * 7 + num_layers), plus the loss weights `w_<output>`."""
    rs = np.random.RandomState(len(case["name"]) * 7 + case["num_layers"])
    arrays = {name: rs.uniform(-0.5 if name == "parameters" else -1, 0.5 if name == "parameters" else 1,
                               size=shape).astype(np.float32) for name, shape in shapes(case).items()}
    return arrays, rs


def export_layer(mx):
    """A hybridized 2-layer bidirectional NTC LSTM exported by MXNet (gluon_lstm-symbol.json, -0000.params), its
    input and output (gluon_lstm.npz)."""
    layer = mx.gluon.rnn.LSTM(H, num_layers=2, layout="NTC", bidirectional=True, input_size=C, prefix="lstm_")
    mx.random.seed(0)
    layer.initialize(mx.init.Uniform(0.5))
    layer.hybridize()
    x = np.random.RandomState(5).uniform(-1, 1, (N, T, C)).astype(np.float32)
    out = layer(mx.nd.array(x))
    layer.export(os.path.join(OUT, "gluon_lstm"))
    np.savez_compressed(os.path.join(OUT, "gluon_lstm.npz"), x=x, out=out.asnumpy())


def main():
    os.environ.setdefault("MXNET_STORAGE_FALLBACK_LOG_VERBOSE", "0")
    import mxnet as mx
    os.makedirs(OUT, exist_ok=True)
    for case in CASES:
        arrays, rs = inputs(case)
        nd = {k: mx.nd.array(v) for k, v in arrays.items()}
        for v in nd.values():
            v.attach_grad()
        record = dict(arrays)
        if case["forward_only"]:
            outs = mx.nd.RNN(*nd.values(), **attrs(case))
        else:
            with mx.autograd.record():
                outs = mx.nd.RNN(*nd.values(), **attrs(case))
                weights = [mx.nd.array(rs.uniform(-1, 1, size=o.shape).astype(np.float32)) for o in outs]
                loss = sum((o * w).sum() for o, w in zip(outs, weights))
            loss.backward()
            for i, w in enumerate(weights):
                record["w%d" % i] = w.asnumpy()
            for k, v in nd.items():
                record["grad_" + k] = v.grad.asnumpy()
        for i, o in enumerate(outs):
            record["out%d" % i] = o.asnumpy()
        np.savez_compressed(os.path.join(OUT, case["name"] + ".npz"), **record)
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(CASES, f, indent=1)
    # a graph file: LSTMP, bidirectional, with sequence_length, and its inferred shapes
    sym = mx.sym.RNN(*[mx.sym.var(n) for n in ("x", "p", "s", "c", "L")], mode="lstm", state_size=4, num_layers=1,
                     bidirectional=True, projection_size=2, state_outputs=True, use_sequence_length=True, name="rnn")
    sym.save(os.path.join(OUT, "lstmp_symbol.json"))
    export_layer(mx)
    arg_shapes, out_shapes, _ = sym.infer_shape(x=(5, 2, 3))
    with open(os.path.join(OUT, "lstmp_symbol_shapes.json"), "w") as f:
        json.dump(dict(arguments=sym.list_arguments(), outputs=sym.list_outputs(), arg_shapes=arg_shapes,
                       out_shapes=out_shapes), f)


if __name__ == "__main__":
    main()
