"""Record what MXNet 1.9.1's fused `RNN` op does with float16 and float64 on the CPU, for tests/test_rnn_fp16.py
(run with the oracle's python; oneDNN left on, as for reference/rnn_op_fixtures.py):

    /work/mxvenv/bin/python reference/rnn_fp16_fixtures.py

float16: every way in (mx.nd.RNN per mode, forward and backward; gluon.rnn.LSTM(dtype='float16') imperative and
hybridized; `.cast('float16')`) runs in a process of its own, because an error of MXNet's engine can resurface in
later calls of the same process; errors.json records whether it raised and the error's last line. infer_type.json
records the symbol's type inference for float16 data. float64: forward and backward of a few configurations,
float64_<case>.npz. Writes tests/fixtures/mxnet-1.9.1/rnn_fp16/; see the README there. Nothing here imports mxnet
outside the functions that record.
"""
import json
import os
import subprocess
import sys

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "mxnet-1.9.1", "rnn_fp16")

T, N, C, H = 3, 2, 4, 5         # steps, batch, input features, state size
GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}

# float16 ways in: name -> (kind, mode, with backward)
FP16_CASES = {"nd_%s_%s" % (mode, "backward" if backward else "forward"): ("nd", mode, backward)
              for mode in GATES for backward in (False, True)}
FP16_CASES.update({"gluon_lstm_dtype": ("gluon_dtype", "lstm", False),
                   "gluon_lstm_dtype_hybridized": ("gluon_dtype_hybrid", "lstm", False),
                   "gluon_lstm_cast": ("gluon_cast", "lstm", False),
                   "gluon_lstm_cast_backward": ("gluon_cast", "lstm", True)})

# float64 cases: name -> (mode, layers, bidirectional)
FLOAT64_CASES = {"lstm_l2_bi": ("lstm", 2, True), "gru_l1": ("gru", 1, False), "rnn_tanh_l1": ("rnn_tanh", 1, False)}


def param_size(mode, layers, bidirectional):
    d = 2 if bidirectional else 1
    size, width = 0, C
    for _ in range(layers):
        size += d * GATES[mode] * H * (width + H + 2)
        width = d * H
    return size


def inputs(mode, layers, bidirectional, seed, dtype):
    """data, parameters, state (and state_cell): uniform draws from RandomState(seed), in that order."""
    rs = np.random.RandomState(seed)
    d = 2 if bidirectional else 1
    out = [rs.uniform(-1, 1, (T, N, C)), rs.uniform(-0.5, 0.5, (param_size(mode, layers, bidirectional),)),
           rs.uniform(-1, 1, (layers * d, N, H))]
    if mode == "lstm":
        out.append(rs.uniform(-1, 1, (layers * d, N, H)))
    return [a.astype(dtype) for a in out]


def _fp16_case(name):
    """Run one float16 way in; print a JSON line {"raises": ..., "message": ..., "dtype": ...}."""
    import mxnet as mx
    kind, mode, backward = FP16_CASES[name]
    result = {}
    try:
        if kind == "nd":
            args = [mx.nd.array(a, dtype="float16") for a in inputs(mode, 1, False, 0, np.float32)]
            for a in args:
                a.attach_grad()
            with mx.autograd.record(train_mode=backward):
                y = mx.nd.RNN(*args, mode=mode, state_size=H, num_layers=1)
            if backward:
                y.backward()
                args[1].grad.asnumpy()
        else:
            x = mx.nd.array(inputs(mode, 1, False, 0, np.float32)[0], dtype="float16")
            if kind == "gluon_cast":
                net = mx.gluon.rnn.LSTM(H, input_size=C)
                net.initialize()
                net.cast("float16")
            else:
                net = mx.gluon.rnn.LSTM(H, input_size=C, dtype="float16")
                net.initialize()
            if kind == "gluon_dtype_hybrid":
                net.hybridize()
            with mx.autograd.record(train_mode=backward):
                y = net(x)
            if backward:
                y.backward()
        result["dtype"] = str(y.asnumpy().dtype)
        mx.nd.waitall()
        result["raises"] = False
    except mx.base.MXNetError as error:
        result["raises"] = True
        result["message"] = str(error).strip().splitlines()[-1]
    print(json.dumps(result))


def _infer_type():
    import mxnet as mx
    out = {}
    for mode in GATES:
        names = ["data", "parameters", "state"] + (["state_cell"] if mode == "lstm" else [])
        sym = mx.sym.RNN(*[mx.sym.var(n) for n in names], mode=mode, state_size=H, num_layers=1, state_outputs=True)
        arg_types, out_types, _ = sym.infer_type(data="float16")
        out[mode] = dict(arguments=[np.dtype(t).name for t in arg_types], outputs=[np.dtype(t).name for t in out_types])
    return out


def _float64_case(name):
    import mxnet as mx
    mode, layers, bidirectional = FLOAT64_CASES[name]
    arrays = inputs(mode, layers, bidirectional, len(name), np.float64)
    args = [mx.nd.array(a, dtype="float64") for a in arrays]
    for a in args:
        a.attach_grad()
    rs = np.random.RandomState(len(name) + 100)
    with mx.autograd.record():
        outs = mx.nd.RNN(*args, mode=mode, state_size=H, num_layers=layers, bidirectional=bidirectional,
                         state_outputs=True)
        weights = [rs.uniform(-1, 1, o.shape) for o in outs]
        loss = sum((o * mx.nd.array(w, dtype="float64")).sum() for o, w in zip(outs, weights))
    loss.backward()
    names = ["data", "parameters", "state", "state_cell"][:len(args)]
    record = {n: a for n, a in zip(names, arrays)}
    record.update({"out%d" % i: o.asnumpy() for i, o in enumerate(outs)})
    record.update({"w%d" % i: w for i, w in enumerate(weights)})
    record.update({"grad_" + n: a.grad.asnumpy() for n, a in zip(names, args)})
    assert all(v.dtype == np.float64 for v in record.values())
    np.savez_compressed(os.path.join(OUT, "float64_%s.npz" % name), **record)


def main():
    os.makedirs(OUT, exist_ok=True)
    errors = {}
    for name in FP16_CASES:
        run = subprocess.run([sys.executable, __file__, name], capture_output=True, text=True, check=True)
        errors[name] = json.loads(run.stdout.strip().splitlines()[-1])
    with open(os.path.join(OUT, "errors.json"), "w") as f:
        json.dump(errors, f, indent=1, sort_keys=True)
    with open(os.path.join(OUT, "infer_type.json"), "w") as f:
        json.dump(_infer_type(), f, indent=1, sort_keys=True)
    for name in FLOAT64_CASES:
        _float64_case(name)


if __name__ == "__main__":
    os.environ.setdefault("MXNET_STORAGE_FALLBACK_LOG_VERBOSE", "0")
    if len(sys.argv) > 1:
        _fp16_case(sys.argv[1])
    else:
        main()
