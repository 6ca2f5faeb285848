"""`mx.np` on the Symbol side (issue 23): `F.np` / `F.npx` in hybrid_forward traced == imperative == NumPy,
hybridized numpy-mode blocks, export -> import, MXNet's numpy-mode exports (tests/fixtures/mxnet-1.9.1/numpy_sym/,
made by reference/numpy_sym_fixtures.py) loading and giving MXNet's outputs, `npx.reshape`'s special values, and
`npx.save`/`npx.load` against MXNet's bytes."""
import json
import os

import numpy as onp
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import dataflow as mx
from dataflow import autograd, gluon, np, npx
from dataflow.base import MXNetError
from dataflow.gluon import nn
from dataflow.symbol.numpy import _Symbol
from tests.numpy_blocks import np_mode, run_both  # noqa: F401 - np_mode: the autouse fixture

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1", "numpy_sym")


def check_both(fn, expected, *host_inputs, rtol=1e-5, atol=1e-6):
    """`fn` imperatively and hybridized equals `expected` (NumPy's): values, shapes (zero-dim ones too) and dtypes."""
    imperative, hybrid = run_both(fn, *host_inputs)
    expected = expected if isinstance(expected, (list, tuple)) else [expected]
    for ours_i, ours_h, want in zip(imperative, hybrid, expected):
        want = onp.asarray(want)
        assert ours_i.shape == want.shape and ours_i.dtype == want.dtype, (ours_i.shape, ours_i.dtype, want.dtype)
        onp.testing.assert_allclose(ours_i, want, rtol=rtol, atol=atol)
        assert ours_h.shape == want.shape and ours_h.dtype == want.dtype, (ours_h.shape, ours_h.dtype)
        onp.testing.assert_allclose(ours_h, want, rtol=rtol, atol=atol)


RS = onp.random.RandomState(0)
X = RS.uniform(0.25, 2, (3, 4)).astype("float32")
Y = RS.uniform(-1, 1, (4,)).astype("float32")


# -- F.np functions ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "square", "abs", "absolute", "tanh", "sin", "cos",
                                  "negative", "sign", "floor", "ceil", "log1p", "expm1", "log2", "log10",
                                  "reciprocal", "trunc", "rint", "cbrt", "arctan", "sinh", "cosh"])
def test_unary_functions(name):
    check_both(lambda F, x: getattr(F.np, name)(x), getattr(onp, name)(X), X, rtol=1e-5)


@pytest.mark.parametrize("name", ["add", "subtract", "multiply", "divide", "true_divide", "power", "maximum",
                                  "minimum", "mod"])
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=3, max_side=3))
def test_binary_functions_broadcast(name, shapes):
    a = RS.uniform(0.5, 2, shapes.input_shapes[0]).astype("float32")
    b = RS.uniform(0.5, 2, shapes.input_shapes[1]).astype("float32")
    check_both(lambda F, x, y: getattr(F.np, name)(x, y), getattr(onp, name)(a, b), a, b, rtol=1e-5)


def test_operators_and_scalars():
    fn = lambda F, x, y: [x + y, x - 1.5, 2 - x, x * y, 3 / x, x / 2, x ** 2, 2 ** y, -x, abs(y), x % 0.75]  # noqa: E731
    expected = [X + Y, X - 1.5, 2 - X, X * Y, 3 / X, X / 2, X ** 2, 2 ** Y, -X, abs(Y), onp.mod(X, 0.75)]
    check_both(fn, [e.astype("float32") for e in expected], X, Y, rtol=1e-5)


def test_comparisons_give_bool():
    fn = lambda F, x, y: [x > y, x <= 1.0, 1.0 < x, F.np.equal(x, x), F.np.not_equal(x, y), F.np.less(1.0, x)]  # noqa: E731
    check_both(fn, [X > Y, X <= 1.0, 1.0 < X, X == X, X != Y, 1.0 < X], X, Y)


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "prod"])
@pytest.mark.parametrize("axis, keepdims", [(None, False), (0, False), (1, True), ((0, 1), False), (-1, False)])
def test_reductions(name, axis, keepdims):
    expected = getattr(onp, name)(X, axis=axis, keepdims=keepdims)
    check_both(lambda F, x: getattr(F.np, name)(x, axis=axis, keepdims=keepdims), expected, X, rtol=1e-5)
    check_both(lambda F, x: getattr(x, name)(axis=axis, keepdims=keepdims), expected, X, rtol=1e-5)


def test_argmax_argmin_are_int64():
    check_both(lambda F, x: [F.np.argmax(x, axis=1), x.argmin(axis=0)], [X.argmax(1), X.argmin(0)], X)


def test_shape_functions():
    fn = lambda F, x, y: [x.reshape(2, 6), F.np.reshape(x, (-1, 2)), x.T, F.np.transpose(x, (1, 0)),  # noqa: E731
                          F.np.expand_dims(y, 0), F.np.squeeze(F.np.expand_dims(y, 1)), F.np.ravel(x),
                          F.np.concatenate([x, x * 2], axis=1), F.np.stack([y, y + 1], axis=1),
                          F.np.clip(x, 0.5, 1.5), x.flatten()]
    expected = [X.reshape(2, 6), X.reshape(-1, 2), X.T, X.T, Y[None], Y, X.ravel(), onp.concatenate([X, X * 2], 1),
                onp.stack([Y, Y + 1], 1), onp.clip(X, 0.5, 1.5), X.ravel()]
    check_both(fn, expected, X, Y)


def test_more_shape_functions():
    fn = lambda F, x: [F.np.swapaxes(x, 0, 1), *F.np.split(x, 2, axis=1), F.np.tile(x, (2, 1)),  # noqa: E731
                       F.np.repeat(x, 2, axis=0), F.np.flip(x, 1), F.np.flip(x), F.np.sort(x, axis=0),
                       F.np.argsort(x), F.np.where(x > 1, x, F.np.zeros_like(x))]
    check_both(fn, [X.swapaxes(0, 1), *onp.split(X, 2, axis=1), onp.tile(X, (2, 1)), X.repeat(2, axis=0),
                    onp.flip(X, 1), onp.flip(X), onp.sort(X, axis=0), onp.argsort(X), onp.where(X > 1, X, 0)], X)


def test_indexing():
    fn = lambda F, x: [x[1], x[:, 1:3], x[0, ::2], x[-1], x[1:, -1]]  # noqa: E731
    check_both(fn, [X[1], X[:, 1:3], X[0, ::2], X[-1], X[1:, -1]], X)


def test_dot_and_creation_like():
    w = RS.uniform(-1, 1, (4, 5)).astype("float32")
    fn = lambda F, x, w: [F.np.dot(x, w), F.np.zeros_like(x), F.np.ones_like(w), F.np.full_like(x, 2.5)]  # noqa: E731
    check_both(fn, [X @ w, onp.zeros_like(X), onp.ones_like(w), onp.full_like(X, 2.5)], X, w, rtol=1e-5)


# -- F.npx functions --------------------------------------------------------------------------------------------------
def softmax(x, axis=-1):
    e = onp.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def test_npx_activations_and_softmax():
    fn = lambda F, x: [F.npx.relu(x - 1), F.npx.sigmoid(x), F.npx.activation(x, act_type="tanh"),  # noqa: E731
                       F.npx.softmax(x, axis=0), F.npx.log_softmax(x), F.npx.leaky_relu(x - 1, slope=0.1)]
    z = X - 1
    check_both(fn, [onp.maximum(z, 0), 1 / (1 + onp.exp(-X)), onp.tanh(X), softmax(X, 0), onp.log(softmax(X)),
                    onp.where(z > 0, z, 0.1 * z)], X, rtol=1e-5)


def test_npx_softmax_with_length():
    length = onp.array([2, 4, 1], dtype="int32")
    masked = onp.where(onp.arange(4) < length[:, None], X, -onp.inf)
    expected = onp.where(onp.arange(4) < length[:, None], softmax(masked), 0).astype("float32")
    check_both(lambda F, x, n: F.npx.softmax(x, n, axis=-1, use_length=True), expected, X, length, rtol=1e-5)


def test_npx_layers():
    data = RS.uniform(-1, 1, (2, 3, 6, 6)).astype("float32")
    weight = RS.uniform(-1, 1, (4, 3, 3, 3)).astype("float32")
    bias = RS.uniform(-1, 1, (4,)).astype("float32")

    def fn(F, x, w, b):
        conv = F.npx.convolution(x, w, b, kernel=(3, 3), num_filter=4, pad=(1, 1))
        pooled = F.npx.pooling(conv, kernel=(2, 2), stride=(2, 2), pool_type="max")
        fc = F.npx.fully_connected(pooled, F.np.ones((5, 36)), no_bias=True, num_hidden=5)
        return conv, pooled, fc
    conv = onp.zeros((2, 4, 6, 6), "float32")
    padded = onp.pad(data, ((0, 0), (0, 0), (1, 1), (1, 1)))
    for i in range(6):
        for j in range(6):
            conv[:, :, i, j] = onp.einsum("ncij,kcij->nk", padded[:, :, i:i + 3, j:j + 3], weight) + bias
    pooled = conv.reshape(2, 4, 3, 2, 3, 2).max(axis=(3, 5))
    check_both(fn, [conv, pooled, pooled.reshape(2, -1) @ onp.ones((36, 5), "float32")], data, weight, bias,
               rtol=1e-4, atol=1e-5)


def test_npx_batch_norm_embedding_one_hot_pick_topk_sequence_mask_dropout():
    gamma, beta = onp.array([1.0, 2.0, 0.5, 1.5], "float32"), onp.array([0.0, 0.1, -0.1, 0.3], "float32")
    mean, var = onp.array([0.5, 1.0, 1.5, 1.0], "float32"), onp.array([1.0, 0.5, 2.0, 1.5], "float32")
    idx = onp.array([2, 0, 1], "float32")

    def fn(F, x, g, b, m, v, i):
        return [F.npx.batch_norm(x, g, b, m, v, eps=1e-5, fix_gamma=False, use_global_stats=True),
                F.npx.embedding(i, x, input_dim=3, output_dim=4), F.npx.one_hot(i, depth=4),
                F.npx.pick(x, i, axis=1), F.npx.topk(x, k=2, ret_typ="value"),
                F.npx.sequence_mask(x, i, use_sequence_length=True, axis=1, value=-1.0),
                F.npx.dropout(x, p=0.5)]
    bn = (X - mean) / onp.sqrt(var + 1e-5) * gamma + beta
    topk = -onp.sort(-X, axis=-1)[:, :2]
    masked = onp.where(onp.arange(4)[None, :] < idx.astype(int)[:, None], X, -1.0)
    check_both(fn, [bn, X[idx.astype(int)], onp.eye(4, dtype="float32")[idx.astype(int)],
                    X[onp.arange(3), idx.astype(int)], topk, masked, X], X, gamma, beta, mean, var, idx, rtol=1e-5)


# -- npx.reshape ------------------------------------------------------------------------------------------------------
# the examples of MXNet 1.9.1's npx.reshape docstring: (input shape, newshape, reverse, output shape)
RESHAPE_EXAMPLES = [((2, 3, 8), (-2, -2, 2, -1), False, (2, 3, 2, 4)),
                    ((8, 3, 3, 3, 4, 4), (-6, 2, -1, -4), False, (2, 4, 3, 3, 3, 4, 4)),
                    ((8, 3, 3, 3, 4, 4), (-5, -4), False, (24, 3, 3, 4, 4)),
                    ((8, 1, 1, 1, 3), (-2, -3, -3, -3, -2), False, (8, 3)),
                    ((8, 3, 3, 3, 3, 8), (-4, -5), True, (8, 3, 3, 3, 24)),
                    ((8, 3, 2, 4, 8), (-4, -1, 2, -6), True, (8, 3, 2, 4, 4, 2))]


@pytest.mark.parametrize("shape, newshape, reverse, expected", RESHAPE_EXAMPLES)
def test_npx_reshape_special_values(shape, newshape, reverse, expected):
    x = onp.arange(int(onp.prod(shape)), dtype="float32").reshape(shape)
    out = npx.reshape(np.array(x), newshape, reverse=reverse)
    assert isinstance(out, np.ndarray) and out.shape == expected
    onp.testing.assert_array_equal(out.asnumpy(), x.reshape(expected))
    check_both(lambda F, a: F.npx.reshape(a, newshape, reverse=reverse), x.reshape(expected), x)


def test_npx_reshape_errors_name_the_shapes():
    with pytest.raises(MXNetError, match=r"-3 drops a dimension of size 1.*\(2, 3\)"):
        npx.reshape(np.ones((2, 3)), (-3, -2))
    with pytest.raises(MXNetError, match="cannot reshape"):
        npx.reshape(np.ones((2, 3)), (4, -1))


# -- hybridized numpy-mode blocks: export and import ------------------------------------------------------------------
class NpFunctions(nn.HybridBlock):
    """reference/numpy_sym_fixtures.py's block: MXNet recorded its outputs and its numpy-mode export."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.w = self.params.get("w", shape=(4, 3))
            self.b = self.params.get("b", shape=(3,))

    def hybrid_forward(self, F, x, w, b):
        h = F.npx.relu(F.np.dot(x, w) + b)
        h = h * 2 - 1.5
        h = F.np.tanh(h) / 3 + F.np.exp(-h)
        s = F.np.sum(h, axis=1, keepdims=True)
        h = h.reshape(-1, 3).T
        h = F.np.concatenate([h, F.np.maximum(h, 0.2)], axis=0)
        h = F.npx.softmax(h, axis=-1) + F.np.mean(h) + F.npx.sigmoid(h).sum()
        return F.np.transpose(h), s, F.np.sqrt(F.np.abs(h)).max(axis=0), F.npx.log_softmax(h) * F.np.square(s.T)


def recorded(name):
    arrays = onp.load(os.path.join(FIXTURES, name + ".npz"))
    return arrays["x"], [arrays["y%d" % i] for i in range(len(arrays.files) - 1)]


def fixture_npfn_block():
    net = NpFunctions(prefix="npfn_")
    net.initialize()
    saved = mx.nd.load(os.path.join(FIXTURES, "npfn-0000.params"))
    net.w.set_data(saved["arg:npfn_w"])
    net.b.set_data(saved["arg:npfn_b"])
    return net


@pytest.mark.parametrize("hybridize", [False, True])
def test_np_block_equals_mxnet(hybridize):
    x, expected = recorded("npfn")
    net = fixture_npfn_block()
    if hybridize:
        net.hybridize()
    outs = net(np.array(x))
    assert len(outs) == len(expected)
    for ours, want in zip(outs, expected):
        assert isinstance(ours, np.ndarray) and ours.shape == want.shape
        onp.testing.assert_allclose(ours.asnumpy(), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["npfn", "convnet"])
def test_mxnet_numpy_mode_export_loads(name):
    """MXNet's numpy-mode JSON (`_np_dot`, `_npi_add`, `_npx_relu`, unknown dims as -1) loads as our ops."""
    x, expected = recorded(name)
    with open(os.path.join(FIXTURES, name + "-symbol.json")) as fh:
        doc = json.load(fh)
    assert doc["attrs"]["is_np_shape"] == ["int", 1]
    if name == "npfn":
        assert {"_np_dot", "_npi_add", "_npx_relu", "_np_sum", "_npi_mean"} <= {n["op"] for n in doc["nodes"]}
    block = gluon.SymbolBlock.imports(os.path.join(FIXTURES, name + "-symbol.json"), ["data"],
                                      os.path.join(FIXTURES, name + "-0000.params"))
    outs = block(np.array(x))
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    for ours, want in zip(outs, expected):
        assert isinstance(ours, np.ndarray)
        onp.testing.assert_allclose(ours.asnumpy(), want, rtol=1e-5, atol=1e-6)


def test_export_import_round_trip(tmp_path):
    x, expected = recorded("npfn")
    net = fixture_npfn_block()
    net.hybridize()
    first = net(np.array(x))
    net.export(str(tmp_path / "ours"))
    block = gluon.SymbolBlock.imports(str(tmp_path / "ours-symbol.json"), ["data"],
                                      str(tmp_path / "ours-0000.params"))
    for ours, want in zip(block(np.array(x)), first):
        assert isinstance(ours, np.ndarray)
        onp.testing.assert_allclose(ours.asnumpy(), want.asnumpy(), rtol=1e-6, atol=1e-7)


def test_hybridized_np_block_trains_like_imperative():
    x = RS.uniform(-1, 1, (8, 4)).astype("float32")
    grads = []
    for hybridize in (False, True):
        net = fixture_npfn_block()
        if hybridize:
            net.hybridize()
        with autograd.record():
            outs = net(np.array(x))
            loss = sum(o.sum() for o in outs[:3])
        loss.backward()
        grads.append([p.grad().asnumpy() for p in net.collect_params().values()])
    for a, b in zip(*grads):
        onp.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


# -- loading MXNet's numpy-mode JSON: what the mapping refuses ---------------------------------------------------------
def _np_graph(op, attrs):
    return json.dumps({"nodes": [{"op": "null", "name": "x", "inputs": []},
                                 {"op": op, "name": "y", "attrs": attrs, "inputs": [[0, 0, 0]]}],
                       "arg_nodes": [0], "heads": [[1, 0, 0]], "attrs": {"is_np_shape": ["int", 1]}})


def test_npx_reshape_node_loads_or_names_the_node():
    sym = mx.sym.load_json(_np_graph("_npx_reshape", {"newshape": "(-2, -5)"}))
    assert sym.infer_shape(x=(2, 3, 4))[1] == [(2, 12)]
    # -3 (drop an axis of size 1, as MXNet's indexing writes) is a squeeze before the Reshape
    assert mx.sym.load_json(_np_graph("_npx_reshape", {"newshape": "(-2, -3, -4)"})).infer_shape(
        x=(2, 1, 4, 5))[1] == [(2, 4, 5)]
    assert mx.sym.load_json(_np_graph("_npx_reshape", {"newshape": "(-2, -3, -5)"})).infer_shape(
        x=(2, 1, 4, 5))[1] == [(2, 20)]
    with pytest.raises(MXNetError, match=r"node 1 \(y\).*_npx_reshape.*-7"):
        mx.sym.load_json(_np_graph("_npx_reshape", {"newshape": "(-2, -7)"}))


def test_unknown_dims_are_minus_one_only_in_numpy_mode_json():
    doc = json.loads(_np_graph("_npx_relu", {}))
    doc["nodes"][0]["attrs"] = {"__shape__": "(-1, 3)"}
    sym = mx.sym.load_json(json.dumps(doc))
    assert sym.infer_shape(x=(2, 3))[1] == [(2, 3)]
    del doc["attrs"]
    doc["nodes"][1]["op"] = "relu"
    with pytest.raises(MXNetError, match="negative"):
        mx.sym.load_json(json.dumps(doc))


# -- namespaces -------------------------------------------------------------------------------------------------------
def test_namespaces():
    assert mx.nd.np is np and mx.nd.npx is npx
    assert mx.sym.np is mx.symbol.numpy and mx.sym.npx is mx.symbol.numpy_extension
    assert isinstance(mx.sym.np.exp(mx.sym.var("a")), _Symbol)
    assert type(mx.sym.np.exp(mx.sym.var("a")).as_nd_ndarray()) is mx.sym.Symbol
    with pytest.raises(AttributeError):
        mx.nd.no_such_thing  # noqa: B018
    with pytest.raises(AttributeError):
        mx.sym.no_such_thing  # noqa: B018


# -- npx.save / npx.load -----------------------------------------------------------------------------------------------
def _values():
    arrays = onp.load(os.path.join(FIXTURES, "npx_values.npz"))
    return {k: np.array(arrays[k], dtype=arrays[k].dtype) for k in ("scalar", "matrix", "ints")}


@pytest.mark.parametrize("kind", ["list", "dict"])
def test_npx_save_writes_mxnet_bytes(tmp_path, kind):
    values = _values()
    assert values["scalar"].shape == ()
    path = str(tmp_path / "a")
    npx.save(path, list(values.values()) if kind == "list" else values)
    with open(path, "rb") as ours, open(os.path.join(FIXTURES, "npx_%s.bytes" % kind), "rb") as theirs:
        assert ours.read() == theirs.read()


def test_npx_load_gives_np_arrays_and_zero_dim():
    with open(os.path.join(FIXTURES, "npx_loaded.json")) as fh:
        mxnet_loaded = json.load(fh)
    loaded = npx.load(os.path.join(FIXTURES, "npx_list.bytes"))
    assert [list(a.shape) for a in loaded] == mxnet_loaded["shapes"]
    assert all(type(a) is np.ndarray for a in loaded)
    for ours, want in zip(loaded, _values().values()):
        assert ours.dtype == want.dtype
        onp.testing.assert_array_equal(ours.asnumpy(), want.asnumpy())
    as_dict = npx.load(os.path.join(FIXTURES, "npx_dict.bytes"))
    assert list(as_dict) == ["scalar", "matrix", "ints"] and as_dict["scalar"].item() == 2.5


def test_npx_save_load_need_numpy_mode(tmp_path):
    npx.reset_np()
    with pytest.raises(ValueError, match="legacy mode"):
        npx.save(str(tmp_path / "a"), np.ones(2))
    with pytest.raises(ValueError, match="legacy mode"):
        npx.load(os.path.join(FIXTURES, "npx_list.bytes"))


@given(st.lists(hnp.arrays(onp.float32, hnp.array_shapes(min_dims=0, max_dims=3, max_side=3)), min_size=1,
                max_size=3))
def test_npx_save_load_round_trip(tmp_path_factory, arrays):
    npx.set_np()
    path = str(tmp_path_factory.mktemp("npx") / "f")
    npx.save(path, [np.array(a, dtype=a.dtype) for a in arrays])
    for ours, want in zip(npx.load(path), arrays):
        assert ours.shape == want.shape
        onp.testing.assert_array_equal(ours.asnumpy(), want)


# -- files Gluon writes in numpy mode ----------------------------------------------------------------------------------
def convnet():
    net = nn.HybridSequential(prefix="convnet_")
    with net.name_scope():
        net.add(nn.Conv2D(4, kernel_size=3, padding=1, activation="relu"), nn.MaxPool2D(2), nn.BatchNorm(),
                nn.Dense(8, activation="sigmoid"), nn.Dropout(0.5), nn.Dense(3))
    return net


def test_export_params_are_mxnet_bytes(tmp_path):
    """MXNet 1.9.1 refuses a V2 file in numpy mode; an export there writes V3 records: ours are its bytes."""
    x, expected = recorded("convnet")
    net = convnet()
    net.initialize()
    net.hybridize()
    net(np.array(x))
    saved = mx.nd.load(os.path.join(FIXTURES, "convnet-0000.params"))
    for name, param in net.collect_params().items():
        param.set_data(saved.get("arg:" + name, saved.get("aux:" + name)))
    onp.testing.assert_allclose(net(np.array(x)).asnumpy(), expected[0], rtol=1e-5, atol=1e-6)
    net.export(str(tmp_path / "convnet"))
    with open(tmp_path / "convnet-0000.params", "rb") as ours, \
            open(os.path.join(FIXTURES, "convnet-0000.params"), "rb") as theirs:
        assert ours.read() == theirs.read()
    net.save_parameters(str(tmp_path / "structural.params"))
    with open(tmp_path / "structural.params", "rb") as fh:
        assert fh.read()[24:28] == bytes.fromhex("cafa93f9")       # the first record's magic: V3
    again = convnet()
    again.load_parameters(str(tmp_path / "structural.params"))
    onp.testing.assert_allclose(again(np.array(x)).asnumpy(), expected[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("loss_class", ["SoftmaxCrossEntropyLoss", "L2Loss", "L1Loss", "HuberLoss",
                                        "SigmoidBinaryCrossEntropyLoss", "LogisticLoss", "HingeLoss"])
def test_losses_hybridized_in_numpy_mode(loss_class):
    """Gluon's losses take mx.np.ndarrays, hybridized or not, and give the same per-sample values."""
    pred = RS.uniform(-1, 1, (4, 5)).astype("float32")
    if loss_class == "SoftmaxCrossEntropyLoss":
        label = RS.randint(0, 5, 4).astype("float32")
        expected = -onp.log(softmax(pred))[onp.arange(4), label.astype(int)]
    else:
        label = onp.sign(RS.uniform(-1, 1, (4, 5))).astype("float32")
        expected = None
    results = []
    for hybridize in (False, True):
        loss = getattr(gluon.loss, loss_class)()
        if hybridize:
            loss.hybridize()
        out = loss(np.array(pred), np.array(label))
        assert isinstance(out, np.ndarray) and out.shape == (4,)
        results.append(out.asnumpy())
    onp.testing.assert_allclose(results[0], results[1], rtol=1e-6)
    if expected is not None:
        onp.testing.assert_allclose(results[0], expected, rtol=1e-5)
    if loss_class == "L2Loss":
        onp.testing.assert_allclose(results[0], ((pred - label) ** 2 / 2).mean(axis=1), rtol=1e-5)

