"""The fused RNN op (ops/rnn.py): MXNet 1.9.1's outputs and gradients (tests/fixtures/mxnet-1.9.1/rnn_op/), the
kernels against the numpy reference of tests/specs_rnn.py with every output (the generic table tests cannot see
the hidden reserve), sequence lengths, state clipping, dropout between layers, errors and MXNet's graph file."""
import json
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dataflow as mx
from ops import registry
from ops import rnn_layout
from ops.errors import MXNetError, ShapeError
from ops.registry import ADD, NULL, WRITE, OpContext
from reference import rnn_op_fixtures as recipe
from tests import op_specs  # noqa: F401 - loads the table (and tests.specs_rnn) in the right order
from tests.paths import FIXTURES
from tests.specs_rnn import rnn_reference, rnn_sample, unpack

HERE = os.path.join(FIXTURES, "rnn_op")
CASES = json.load(open(os.path.join(HERE, "cases.json")))
RNN = registry.get("RNN")


def _load(case):
    z = np.load(os.path.join(HERE, case["name"] + ".npz"))
    return z, [z[n] for n in recipe.shapes(case)]


# ---- MXNet's numbers -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_outputs_and_gradients_equal_mxnet(case):
    z, inputs = _load(case)
    args = [mx.nd.array(a) for a in inputs]
    for a in args:
        a.attach_grad()
    with mx.autograd.record():
        outs = mx.nd.RNN(*args, **recipe.attrs(case))
        loss = None
        if not case["forward_only"]:
            loss = sum((o * mx.nd.array(z["w%d" % i])).sum() for i, o in enumerate(outs))
    assert len(outs) == (3 if case["mode"] == "lstm" else 2)
    for i, o in enumerate(outs):
        np.testing.assert_allclose(o.asnumpy(), z["out%d" % i], rtol=1e-4, atol=1e-6)
    if loss is None:
        return
    loss.backward()
    for name, a in zip(recipe.shapes(case), args):
        np.testing.assert_allclose(a.grad.asnumpy(), z["grad_" + name], rtol=1e-4, atol=1e-5, err_msg=name)


def test_symbolic_executor_equals_mxnet():
    case = next(c for c in CASES if c["name"] == "lstm_l2_bi")
    z, inputs = _load(case)
    names = list(recipe.shapes(case))
    sym = mx.sym.RNN(*[mx.sym.var(n) for n in names], name="rnn", **recipe.attrs(case))
    assert sym.list_outputs() == ["rnn_output", "rnn_state_output", "rnn_statecell_output"]
    grads = {n: mx.nd.zeros(a.shape) for n, a in zip(names, inputs)}
    ex = sym.bind(mx.cpu(), {n: mx.nd.array(a) for n, a in zip(names, inputs)}, args_grad=grads)
    outs = ex.forward(is_train=True)
    for i, o in enumerate(outs):
        np.testing.assert_allclose(o.asnumpy(), z["out%d" % i], rtol=1e-4, atol=1e-6)
    ex.backward([mx.nd.array(z["w%d" % i]) for i in range(3)])
    for n in names:
        np.testing.assert_allclose(grads[n].asnumpy(), z["grad_" + n], rtol=1e-4, atol=1e-5, err_msg=n)


def test_mxnet_graph_file_loads_and_infers_its_shapes():
    sym = mx.sym.load(os.path.join(HERE, "lstmp_symbol.json"))
    want = json.load(open(os.path.join(HERE, "lstmp_symbol_shapes.json")))
    assert sym.list_arguments() == want["arguments"] and sym.list_outputs() == want["outputs"]
    arg_shapes, out_shapes, _ = sym.infer_shape(x=(5, 2, 3))
    assert [list(s) for s in arg_shapes] == want["arg_shapes"]
    assert [list(s) for s in out_shapes] == want["out_shapes"]
    node = json.loads(sym.tojson())["nodes"][-1]
    mxnet_node = json.load(open(os.path.join(HERE, "lstmp_symbol.json")))["nodes"][-1]
    assert node["attrs"] == mxnet_node["attrs"] and node["inputs"] == mxnet_node["inputs"]


# ---- kernels against the reference, with the reserve -------------------------------------------------------------

def _run_forward(p, inputs, is_train=False, req=WRITE, outs=None):
    steps, batch, features = inputs[0].shape
    in_shapes, out_shapes = RNN.infer_shape(p, [x.shape for x in inputs], [None] * RNN.num_outputs(p))
    assert [tuple(s) for s in in_shapes] == [x.shape for x in inputs]
    assert out_shapes[-1] == (rnn_layout.reserve_size(p, steps, batch, features),)
    if outs is None:
        outs = [np.full(s, np.nan, inputs[0].dtype) for s in out_shapes]
    RNN.cpu(OpContext(is_train=is_train), p, inputs, outs, [req] * len(outs))
    return outs


@settings(max_examples=30)
@given(data=st.data())
def test_kernel_matches_reference_with_add_and_null(data):
    dtype = np.dtype(data.draw(st.sampled_from(["float32", "float64"])))
    attrs, inputs = rnn_sample(data.draw, dtype)
    p = RNN.parse_params(attrs)
    want = rnn_reference(p, *inputs)
    want = list(want) if isinstance(want, tuple) else [want]
    before = [x.copy() for x in inputs]
    outs = _run_forward(p, inputs)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    for got, w in zip(outs, want):
        assert got.dtype == w.dtype
        np.testing.assert_allclose(got, w, **tol)
    for x, b in zip(inputs, before):
        np.testing.assert_array_equal(x, b)
    old = [np.ones(o.shape, dtype) for o in outs]
    added = _run_forward(p, inputs, req=ADD, outs=[o.copy() for o in old])
    for got, w in zip(added, want):
        np.testing.assert_allclose(got, w + 1, **tol)
    untouched = _run_forward(p, inputs, req=NULL, outs=[o.copy() for o in old])
    for got, o in zip(untouched[:len(want)], old):
        np.testing.assert_array_equal(got, o)


def _lstm_params(**extra):
    return RNN.parse_params(dict(dict(mode="lstm", state_size=3, num_layers=1, state_outputs=True), **extra))


def _random_inputs(p, steps=4, batch=3, features=2, seed=0):
    rs = np.random.RandomState(seed)
    size = rnn_layout.param_size(p, features)
    d = 2 if p.bidirectional else 1
    r = p.projection_size or p.state_size
    inputs = [rs.uniform(-1, 1, (steps, batch, features)), rs.uniform(-0.8, 0.8, (size,)),
              rs.uniform(-1, 1, (p.num_layers * d, batch, r))]
    if p.mode == "lstm":
        inputs.append(rs.uniform(-1, 1, (p.num_layers * d, batch, p.state_size)))
    return inputs


# ---- sequence lengths --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["lstm", "gru", "rnn_tanh"])
def test_sequence_length_equals_each_row_run_alone(mode):
    p = RNN.parse_params(dict(mode=mode, state_size=3, num_layers=2, bidirectional=True, state_outputs=True,
                              use_sequence_length=True))
    inputs = _random_inputs(p)
    lengths = np.array([4.0, 1.0, 3.0])
    outs = _run_forward(p, inputs + [lengths])
    alone = RNN.parse_params(dict(mode=mode, state_size=3, num_layers=2, bidirectional=True, state_outputs=True))
    for b, length in enumerate(lengths.astype(int)):
        row = [inputs[0][:length, b:b + 1], inputs[1]] + [s[:, b:b + 1] for s in inputs[2:]]
        ref = _run_forward(alone, row)
        np.testing.assert_allclose(outs[0][:length, b], ref[0][:, 0], rtol=1e-12)
        assert not outs[0][length:, b].any(), "steps past the length output 0"
        for k in range(1, len(ref) - 1):
            np.testing.assert_allclose(outs[k][:, b], ref[k][:, 0], rtol=1e-12)


def test_bad_sequence_length_is_an_error_naming_the_op():
    p = _lstm_params(use_sequence_length=True)
    with pytest.raises(MXNetError, match="RNN: sequence_length .* between 1 and .* 4"):
        _run_forward(p, _random_inputs(p) + [np.array([1.0, 5.0, 2.0])])


# ---- state clipping ----------------------------------------------------------------------------------------------

def test_state_clip_bounds_the_cell_state_and_matches_the_reference():
    p = _lstm_params(lstm_state_clip_min=-0.1, lstm_state_clip_max=0.2, num_layers=2)
    inputs = _random_inputs(p)
    inputs[3] *= 3
    outs = _run_forward(p, inputs)
    assert outs[2].min() >= -0.1 and outs[2].max() <= 0.2
    for got, want in zip(outs, rnn_reference(p, *inputs)):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    unclipped = _run_forward(_lstm_params(num_layers=2), inputs)
    assert not np.allclose(unclipped[2], outs[2])


def test_state_clip_nan_stops_nan():
    inputs = _random_inputs(_lstm_params())
    inputs[3][0, 1, 2] = np.nan
    kept = _run_forward(_lstm_params(lstm_state_clip_min=-1.0, lstm_state_clip_max=1.0, lstm_state_clip_nan=True),
                        inputs)
    assert np.isfinite(kept[0]).all() and np.isfinite(kept[2]).all()
    spread = _run_forward(_lstm_params(lstm_state_clip_min=-1.0, lstm_state_clip_max=1.0), inputs)
    assert np.isnan(spread[2][0, 1, 2])


# ---- dropout between layers ----------------------------------------------------------------------------------------

def test_dropout_masks_the_lower_layers_outputs_and_the_backward_uses_the_same_masks():
    p = RNN.parse_params(dict(mode="gru", state_size=3, num_layers=3, p=0.4, state_outputs=True))
    inputs = _random_inputs(p)
    mx.random.seed(3)
    outs = _run_forward(p, inputs, is_train=True)
    steps, batch, features = inputs[0].shape
    reserve = rnn_layout.Reserve(outs[-1], p, rnn_layout.Dims(p, steps, batch, features))
    masks = [m.copy() for m in reserve.mask[:-1]]
    assert all(set(np.unique(m)) <= {0.0, 1 / 0.6} for m in masks) and any((m == 0).any() for m in masks)
    np.testing.assert_allclose(outs[0], rnn_reference(p, *inputs, dropout_masks=masks)[0], rtol=1e-12)
    np.testing.assert_allclose(_run_forward(p, inputs)[0], rnn_reference(p, *inputs)[0], rtol=1e-12)   # predict
    # backward with the stored masks against central differences of the reference with the same masks
    rs = np.random.RandomState(1)
    heads = [rs.uniform(-1, 1, o.shape) for o in outs[:2]]
    grads = [np.empty(x.shape) for x in inputs[:3]]
    registry.get("_backward_RNN").cpu(OpContext(is_train=True), p, heads + inputs + [outs[-1]], grads, [WRITE] * 3)

    def objective(k, value):
        args = list(inputs)
        args[k] = value
        return sum((o * h).sum() for o, h in zip(rnn_reference(p, *args, dropout_masks=masks), heads))
    for k in range(3):
        numeric = np.zeros(inputs[k].size)
        for i in range(inputs[k].size):
            up, down = inputs[k].copy().ravel(), inputs[k].copy().ravel()
            up[i] += 1e-6
            down[i] -= 1e-6
            numeric[i] = (objective(k, up.reshape(inputs[k].shape)) -
                          objective(k, down.reshape(inputs[k].shape))) / 2e-6
        np.testing.assert_allclose(grads[k].ravel(), numeric, rtol=1e-5, atol=1e-7)


def test_seeded_dropout_repeats():
    x = mx.nd.array(np.random.RandomState(0).uniform(-1, 1, (4, 2, 3)))
    params = mx.nd.array(np.random.RandomState(1).uniform(-1, 1, (3 * 3 * (3 + 3 + 2) + 3 * 3 * (3 + 3 + 2),)))
    h0 = mx.nd.zeros((2, 2, 3))
    runs = []
    for _ in range(2):
        mx.random.seed(11)
        with mx.autograd.record(train_mode=True):
            runs.append(mx.nd.RNN(x, params, h0, mode="gru", state_size=3, num_layers=2, p=0.5).asnumpy())
    predict = mx.nd.RNN(x, params, h0, mode="gru", state_size=3, num_layers=2, p=0.5).asnumpy()
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.allclose(runs[0], predict)


# ---- errors and layout -------------------------------------------------------------------------------------------

def test_wrong_parameter_size_names_node_input_and_both_sizes():
    sym = mx.sym.RNN(mx.sym.var("x"), mx.sym.var("w"), mx.sym.var("h"), mx.sym.var("c"), mode="lstm", state_size=4,
                     num_layers=1, name="rnn1")
    with pytest.raises(ShapeError, match=r"rnn1.*RNN.*parameters.*\(7,\).*\(144,\)"):
        sym.infer_shape(x=(5, 2, 3), w=(7,))
    with pytest.raises(ShapeError, match=r"RNN.*parameters.*\(7,\).*\(144,\)"):
        mx.nd.RNN(mx.nd.zeros((5, 2, 3)), mx.nd.zeros((7,)), mx.nd.zeros((1, 2, 4)), mx.nd.zeros((1, 2, 4)),
                  mode="lstm", state_size=4, num_layers=1)
    with pytest.raises(ShapeError, match=r"RNN.*state.*\(1, 3, 4\).*\(1, 2, 4\)"):
        mx.nd.RNN(mx.nd.zeros((5, 2, 3)), mx.nd.zeros((144,)), mx.nd.zeros((1, 3, 4)), mx.nd.zeros((1, 2, 4)),
                  mode="lstm", state_size=4, num_layers=1)


def test_packed_layout_is_weights_then_biases():
    """The reference's unpacking (MXNet's order) puts each parameter where a one-hot vector shows the kernel reads
    it: a vector that is zero except one i2h bias entry of layer 1's reverse direction moves only that unit."""
    p = RNN.parse_params(dict(mode="rnn_tanh", state_size=2, num_layers=2, bidirectional=True, state_outputs=True))
    size = rnn_layout.param_size(p, 3)
    views = unpack(np.arange(size, dtype=np.float64), "rnn_tanh", 2, True, 3, 2)
    assert views[0][0]["Wx"].ravel()[0] == 0 and views[1][1]["bh"].ravel()[-1] == size - 1
    params = np.zeros(size)
    params[int(views[1][1]["bx"][1])] = 0.5
    outs = _run_forward(p, [np.zeros((2, 1, 3)), params, np.zeros((4, 1, 2))])
    np.testing.assert_allclose(outs[0][:, 0, 3], np.tanh(0.5) * np.ones(2))
    assert not np.delete(outs[0], 3, axis=2).any()


@settings(max_examples=10)
@given(data=st.data())
def test_ndarray_and_symbol_front_ends_equal_the_reference(data):
    """tests/test_frontends.py's check (its table row is skipped with the forward test): mx.nd.RNN equals the
    reference, and a bound mx.sym.RNN equals mx.nd.RNN."""
    dtype = np.dtype(data.draw(st.sampled_from(["float32", "float64"])))
    attrs, inputs = rnn_sample(data.draw, dtype)
    want = rnn_reference(RNN.parse_params(attrs), *inputs)
    want = list(want) if isinstance(want, tuple) else [want]
    arrays = [mx.nd.array(x, dtype=x.dtype) for x in inputs]
    got = mx.nd.RNN(*arrays, **attrs)
    got = got if isinstance(got, list) else [got]
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g.asnumpy(), w, **tol)
    names = RNN.input_names(RNN.parse_params(attrs))
    ex = mx.sym.RNN(*[mx.sym.var(n) for n in names], **attrs).bind(mx.cpu(), dict(zip(names, arrays)),
                                                                   grad_req="null")
    for o, g in zip(ex.forward(), got, strict=True):
        np.testing.assert_allclose(o.asnumpy(), g.asnumpy(), **tol)


def test_backward_without_the_data_gradient_gives_the_same_other_gradients():
    p = RNN.parse_params(dict(mode="lstm", state_size=3, num_layers=2, bidirectional=True, state_outputs=True))
    inputs = _random_inputs(p)
    outs = _run_forward(p, inputs, is_train=True)
    heads = [np.random.RandomState(4).uniform(-1, 1, o.shape) for o in outs[:3]]
    backward = registry.get("_backward_RNN")
    full = [np.empty(x.shape) for x in inputs]
    backward.cpu(OpContext(is_train=True), p, heads + inputs + [outs[-1]], full, [WRITE] * 4)
    partial = [np.full(x.shape, 7.0) for x in inputs]
    backward.cpu(OpContext(is_train=True), p, heads + inputs + [outs[-1]], partial, [NULL, WRITE, WRITE, WRITE])
    assert (partial[0] == 7.0).all()
    for got, want in zip(partial[1:], full[1:]):
        np.testing.assert_array_equal(got, want)
