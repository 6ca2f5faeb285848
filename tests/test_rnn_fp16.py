"""The fused RNN op's dtypes against MXNet 1.9.1 on the CPU (tests/fixtures/mxnet-1.9.1/rnn_fp16/): float16 passes
type inference but the CPU kernel refuses it with MXNet's error, through every way in (mx.nd.RNN forward and
backward, gluon.rnn.LSTM with dtype='float16' or .cast('float16')); float64 runs forward and backward with
MXNet's numbers."""
import json
import os

import numpy as np
import pytest

import dataflow as mx
from ops.errors import MXNetError
from tests.paths import FIXTURES, load_reference

HERE = os.path.join(FIXTURES, "rnn_fp16")
ERRORS = json.load(open(os.path.join(HERE, "errors.json")))
INFER_TYPE = json.load(open(os.path.join(HERE, "infer_type.json")))
recipe = load_reference("rnn_fp16_fixtures")


def _run_fp16(name):
    """The recorded float16 way in, on dataflow."""
    kind, mode, backward = recipe.FP16_CASES[name]
    x = recipe.inputs(mode, 1, False, 0, np.float32)
    if kind == "nd":
        args = [mx.nd.array(a, dtype="float16") for a in x]
        for a in args:
            a.attach_grad()
        with mx.autograd.record(train_mode=backward):
            y = mx.nd.RNN(*args, mode=mode, state_size=recipe.H, num_layers=1)
        if backward:
            y.backward()
            args[1].grad.asnumpy()
        return y.asnumpy()
    data = mx.nd.array(x[0], dtype="float16")
    if kind == "gluon_cast":
        net = mx.gluon.rnn.LSTM(recipe.H, input_size=recipe.C)
        net.initialize()
        net.cast("float16")
    else:
        net = mx.gluon.rnn.LSTM(recipe.H, input_size=recipe.C, dtype="float16")
        net.initialize()
    if kind == "gluon_dtype_hybrid":
        net.hybridize()
    with mx.autograd.record(train_mode=backward):
        y = net(data)
    if backward:
        y.backward()
    return y.asnumpy()


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_float16_on_cpu_raises_as_mxnet(name):
    recorded = ERRORS[name]
    assert recorded["raises"], "MXNet 1.9.1 ran %s: this test expects its CPU op to refuse float16" % name
    expected = recorded["message"].split("MXNetError: ", 1)[-1]
    with pytest.raises(MXNetError, match="RNN") as caught:
        _run_fp16(name)
    assert expected in str(caught.value)
    assert "(%d, %d, %d)" % (recipe.T, recipe.N, recipe.C) in str(caught.value)      # names the data's shape


@pytest.mark.parametrize("mode", sorted(INFER_TYPE))
def test_float16_type_inference_equals_mxnet(mode):
    names = ["data", "parameters", "state"] + (["state_cell"] if mode == "lstm" else [])
    sym = mx.sym.RNN(*[mx.sym.var(n) for n in names], mode=mode, state_size=recipe.H, num_layers=1,
                     state_outputs=True)
    arg_types, out_types, _ = sym.infer_type(data="float16")
    assert [np.dtype(t).name for t in arg_types] == INFER_TYPE[mode]["arguments"]
    assert [np.dtype(t).name for t in out_types] == INFER_TYPE[mode]["outputs"]


def test_integer_data_is_refused_at_type_inference():
    sym = mx.sym.RNN(mx.sym.var("data"), mx.sym.var("parameters"), mx.sym.var("state"), mode="gru",
                     state_size=recipe.H, num_layers=1)
    with pytest.raises(MXNetError, match="RNN: data must be float16, float32 or float64, got int32"):
        sym.infer_type(data="int32")


@pytest.mark.parametrize("name", sorted(recipe.FLOAT64_CASES))
def test_float64_outputs_and_gradients_equal_mxnet(name):
    mode, layers, bidirectional = recipe.FLOAT64_CASES[name]
    z = np.load(os.path.join(HERE, "float64_%s.npz" % name))
    names = ["data", "parameters", "state"] + (["state_cell"] if mode == "lstm" else [])
    args = [mx.nd.array(z[n], dtype="float64") for n in names]
    for a in args:
        a.attach_grad()
    with mx.autograd.record():
        outs = mx.nd.RNN(*args, mode=mode, state_size=recipe.H, num_layers=layers, bidirectional=bidirectional,
                         state_outputs=True)
        loss = sum((o * mx.nd.array(z["w%d" % i], dtype="float64")).sum() for i, o in enumerate(outs))
    loss.backward()
    for i, o in enumerate(outs):
        assert o.dtype == np.float64
        np.testing.assert_allclose(o.asnumpy(), z["out%d" % i], rtol=1e-10, atol=1e-12)
    for n, a in zip(names, args):
        assert a.grad.dtype == np.float64
        np.testing.assert_allclose(a.grad.asnumpy(), z["grad_" + n], rtol=1e-9, atol=1e-12, err_msg=n)
