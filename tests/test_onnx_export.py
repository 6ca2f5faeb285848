"""`mx.onnx.export_model`: every translated op, the gluon vision model zoo, the seed MLP and a small CNN exported to
ONNX, checked with `onnx.checker` and run by onnxruntime against dataflow's own forward (rtol 1e-4, atol 1e-5).
The full model zoo runs under `-m slow`; a representative set runs by default."""
import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import dataflow as mx  # noqa: E402
from ops.errors import MXNetError  # noqa: E402
from tests.onnx_check import assert_exports_equal, forward, random_params, run_onnx  # noqa: E402

S = mx.sym
x, y = S.var("x"), S.var("y")
rs0 = np.random.RandomState(7)


def _u(*shape, lo=-1.0, hi=1.0):
    return rs0.uniform(lo, hi, shape).astype(np.float32)


def _op(name):
    """The Symbol front end of an op, public (`mx.sym.X`) or internal (`mx.sym._internal._X`)."""
    return getattr(S, name, None) or getattr(S._internal, name)


def _ints(high, *shape):
    return rs0.randint(0, high, shape).astype(np.float32)


X4 = _u(2, 4, 6, 6)
X3 = _u(2, 3, 5)
X2 = _u(3, 5)
POS = _u(2, 3, 5, lo=0.2, hi=2.0)

# (id, symbol, data)
CASES = [
    ("conv", S.Convolution(x, kernel=(3, 3), num_filter=5, pad=(1, 1), stride=(2, 2), name="c"), {"x": X4}),
    ("conv_group_dilate", S.Convolution(x, kernel=(3, 3), num_filter=4, num_group=2, dilate=(2, 2), no_bias=True,
                                        name="c"), {"x": X4}),
    ("conv1d", S.Convolution(x, kernel=(3,), num_filter=2, pad=(1,), name="c"), {"x": X3}),
    ("deconv", S.Deconvolution(x, kernel=(3, 3), num_filter=3, stride=(2, 2), pad=(1, 1), adj=(1, 1), name="d"),
     {"x": X4}),
    ("deconv_target", S.Deconvolution(x, kernel=(4, 4), num_filter=2, stride=(2, 2), target_shape=(11, 11),
                                      num_group=2, no_bias=False, name="d"), {"x": X4}),
    ("maxpool", S.Pooling(x, kernel=(2, 2), stride=(2, 2), pool_type="max"), {"x": X4}),
    ("avgpool_pad_excl", S.Pooling(x, kernel=(3, 3), stride=(1, 1), pad=(1, 1), pool_type="avg",
                                   count_include_pad=False), {"x": X4}),
    ("avgpool_pad_incl", S.Pooling(x, kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="avg"), {"x": X4}),
    ("maxpool_full", S.Pooling(x, kernel=(3, 3), stride=(2, 2), pool_type="max", pooling_convention="full"),
     {"x": _u(1, 2, 8, 8)}),
    ("avgpool_full_pad", S.Pooling(x, kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="avg",
                                   pooling_convention="full"), {"x": _u(1, 2, 8, 8)}),
    ("avgpool_full_excl", S.Pooling(x, kernel=(3, 3), stride=(2, 2), pool_type="avg", count_include_pad=False,
                                    pooling_convention="full"), {"x": _u(1, 2, 8, 8)}),
    ("sumpool", S.Pooling(x, kernel=(2, 2), stride=(2, 2), pool_type="sum"), {"x": X4}),
    ("global_max", S.Pooling(x, kernel=(1, 1), global_pool=True, pool_type="max"), {"x": X4}),
    ("global_avg", S.Pooling(x, kernel=(1, 1), global_pool=True, pool_type="avg"), {"x": X4}),
    ("batchnorm", S.BatchNorm(x, fix_gamma=False, eps=1e-3, name="bn"), {"x": X4}),
    ("batchnorm_fix_gamma", S.BatchNorm(x, fix_gamma=True, name="bn"), {"x": X4}),
    ("fc_flatten", S.FullyConnected(x, num_hidden=7, name="fc"), {"x": X4}),
    ("fc_no_flatten", S.FullyConnected(x, num_hidden=7, flatten=False, name="fc"), {"x": X3}),
    ("fc_no_bias", S.FullyConnected(x, num_hidden=7, no_bias=True, name="fc"), {"x": X2}),
    *[("act_" + a, S.Activation(x, act_type=a), {"x": X3}) for a in
      ("relu", "sigmoid", "tanh", "softrelu", "softsign")],
    ("leaky", S.LeakyReLU(x, act_type="leaky", slope=0.1), {"x": X3}),
    ("elu", S.LeakyReLU(x, act_type="elu", slope=0.7), {"x": X3}),
    ("selu", S.LeakyReLU(x, act_type="selu"), {"x": X3}),
    ("gelu", S.LeakyReLU(x, act_type="gelu"), {"x": X3}),
    ("prelu", S.LeakyReLU(x, act_type="prelu", name="pr"), {"x": X4}),
    ("softmax", S.softmax(x, axis=1), {"x": X3}),
    ("softmax_temperature", S.softmax(x, temperature=2.0), {"x": X3}),
    ("log_softmax", S.log_softmax(x), {"x": X3}),
    ("softmin", S.softmin(x, axis=0), {"x": X3}),
    ("softmax_output", S.SoftmaxOutput(x, name="sm"), {"x": X3}),
    ("softmax_output_multi", S.SoftmaxOutput(x, multi_output=True, name="sm"), {"x": X3}),
    ("softmax_output_preserve", S.SoftmaxOutput(x, preserve_shape=True, name="sm"), {"x": X3}),
    ("softmax_activation", S.SoftmaxActivation(x), {"x": X3}),
    ("softmax_activation_channel", S.SoftmaxActivation(x, mode="channel"), {"x": X4}),
    ("concat", S.Concat(x, y, dim=1), {"x": X3, "y": _u(2, 2, 5)}),
    ("flatten", S.Flatten(x), {"x": X4}),
    ("reshape_0_-1", S.Reshape(x, shape=(0, -1)), {"x": X4}),
    ("reshape_-2", S.Reshape(x, shape=(-3, -2)), {"x": X4}),
    ("reshape_-3", S.Reshape(x, shape=(0, -3, 0)), {"x": X4}),
    ("reshape_-4", S.Reshape(x, shape=(0, -4, 2, -1, -2)), {"x": X4}),
    ("reshape_reverse", S.Reshape(x, shape=(-1, 0), reverse=True), {"x": X3}),
    ("transpose", S.transpose(x, axes=(2, 0, 1)), {"x": X3}),
    ("transpose_default", S.transpose(x), {"x": X3}),
    ("swapaxes", S.swapaxes(x, dim1=0, dim2=2), {"x": X3}),
    ("slice", S.slice(x, begin=(None, 1, -4), end=(1, None, None), step=(None, 1, 2)), {"x": X3}),
    ("slice_negative_step", S.slice(x, begin=(None, None, 3), end=(None, None, None), step=(1, -1, -2)),
     {"x": X3}),
    ("slice_axis", S.slice_axis(x, axis=2, begin=1, end=None), {"x": X3}),
    ("split", S.SliceChannel(x, num_outputs=3, axis=1), {"x": _u(2, 6, 2)}),
    ("split_squeeze", S.split(x, num_outputs=3, axis=1, squeeze_axis=True), {"x": _u(2, 3, 2)}),
    *[(name, _op(name)(x, y), {"x": X3, "y": _u(2, 3, 5, lo=0.5, hi=1.5)}) for name in
      ("elemwise_add", "elemwise_sub", "elemwise_mul", "elemwise_div", "_maximum", "_minimum")],
    *[(name, _op(name)(x, y), {"x": X3, "y": _u(1, 3, 1, lo=0.5, hi=1.5)}) for name in
      ("broadcast_add", "broadcast_sub", "broadcast_mul", "broadcast_div", "broadcast_maximum",
       "broadcast_minimum", "broadcast_equal", "broadcast_not_equal", "broadcast_greater",
       "broadcast_greater_equal", "broadcast_lesser", "broadcast_lesser_equal")],
    ("broadcast_power", S.broadcast_power(x, y), {"x": POS, "y": _u(1, 3, 1)}),
    ("logical_and", S.broadcast_logical_and(x, y), {"x": _ints(2, 2, 3), "y": _ints(2, 2, 3)}),
    ("logical_or", S.broadcast_logical_or(x, y), {"x": _ints(2, 2, 3), "y": _ints(2, 2, 3)}),
    ("logical_not", S.logical_not(x), {"x": _ints(2, 2, 3)}),
    ("operators", (x + 2) * 3 - 1 / (x * x + 1) + (x > 0.1) + (x <= -0.2) + (x == 0) - (2 - x) / 4, {"x": X3}),
    ("scalar_ops", S.maximum(x, 0.2) + S.minimum(x, -0.3) + (x != 0.5) + (x >= 0) + (x < 0.3), {"x": X3}),
    ("power_scalar", x ** 2.0 + 2.0 ** x, {"x": X3}),
    *[("unary_" + name, _op(name)(x), {"x": X3}) for name in
      ("relu", "sigmoid", "tanh", "exp", "abs", "negative", "floor", "ceil", "sin", "cos", "tan", "arctan",
       "sinh", "cosh", "arcsinh", "square", "sign", "erf", "softsign", "expm1")],
    *[("unary_" + name, _op(name)(x), {"x": POS}) for name in
      ("log", "sqrt", "rsqrt", "reciprocal", "log1p", "log2", "log10", "arccosh")],
    *[("unary_" + name, _op(name)(x), {"x": _u(2, 3, lo=-0.9, hi=0.9)}) for name in
      ("arcsin", "arccos", "arctanh")],
    ("cast", S.Cast(x, dtype="float16"), {"x": X3}),
    ("clip", S.clip(x, -0.5, 0.3), {"x": X3}),
    ("sum_axis", S.sum(x, axis=1), {"x": X3}),
    ("sum_all", S.sum(x), {"x": X3}),
    ("mean_keepdims", S.mean(x, axis=(0, 2), keepdims=True), {"x": X3}),
    ("max_exclude", S.max(x, axis=1, exclude=True), {"x": X3}),
    ("min", S.min(x, axis=-1), {"x": X3}),
    ("prod", S.prod(x, axis=0), {"x": X3}),
    ("norm2", S.norm(x, axis=1), {"x": X3}),
    ("norm1", S.norm(x, ord=1, axis=2, keepdims=True), {"x": X3}),
    ("argmax", S.argmax(x, axis=1), {"x": X3}),
    ("argmin", S.argmin(x, axis=2, keepdims=True), {"x": X3}),
    ("dropout", S.Dropout(x, p=0.5), {"x": X3}),
    ("embedding", S.Embedding(x, input_dim=10, output_dim=4, name="emb"), {"x": _ints(10, 2, 3)}),
    ("layernorm", S.LayerNorm(x, name="ln"), {"x": X3}),
    ("layernorm_axis1", S.LayerNorm(x, axis=1, eps=1e-3, name="ln"), {"x": X3}),
    ("instancenorm", S.InstanceNorm(x, name="in"), {"x": X4}),
    ("l2normalization", S.L2Normalization(x), {"x": X4}),
    ("l2normalization_channel", S.L2Normalization(x, mode="channel"), {"x": X4}),
    ("lrn", S.LRN(x, nsize=3), {"x": X4}),
    ("copy", _op("_copy")(x) + S.identity(x) + S.BlockGrad(x), {"x": X3}),
    ("expand_dims", S.expand_dims(x, axis=-1), {"x": X3}),
    ("squeeze", S.squeeze(x, axis=(0, 2)), {"x": _u(1, 3, 1, 2)}),
    ("squeeze_all", S.squeeze(x), {"x": _u(1, 3, 1, 2)}),
    ("add_n", S.add_n(x, y, x), {"x": X3, "y": X3}),
    ("zeros_ones_like", S.zeros_like(x) + S.ones_like(x) + x, {"x": X3}),
    ("where", S.where(x > 0, x, y), {"x": X3, "y": X3}),
    ("where_rows", S.where(y, x, -x), {"x": X3, "y": _ints(2, 2)}),
    ("dot", S.dot(x, y), {"x": X2, "y": _u(5, 4)}),
    ("dot_transposed", S.dot(x, y, transpose_a=True, transpose_b=True), {"x": X2, "y": _u(4, 3)}),
    ("dot_3d", S.dot(x, y), {"x": X3, "y": _u(5, 2)}),
    ("batch_dot", S.batch_dot(x, y, transpose_b=True), {"x": X3, "y": _u(2, 4, 5)}),
    ("take_clip", S.take(x, y, axis=1), {"x": X3, "y": np.array([[0, 2], [5, -1]], dtype=np.float32)}),
    ("take_wrap", S.take(x, y, axis=2, mode="wrap"), {"x": X3, "y": np.array([1, 7, -2], dtype=np.float32)}),
    ("tile", S.tile(x, reps=(2, 1, 3)), {"x": X3}),
    ("tile_more_reps", S.tile(x, reps=(2, 1, 1, 2)), {"x": X3}),
    ("stack", S.stack(x, y, axis=1), {"x": X3, "y": X3}),
    ("broadcast_to", S.broadcast_to(x, shape=(0, 3, 4)), {"x": _u(2, 1, 4)}),
    ("broadcast_axis", S.broadcast_axis(x, axis=1, size=3), {"x": _u(2, 1, 4)}),
    ("broadcast_like", S.broadcast_like(x, y), {"x": _u(2, 1, 4), "y": _u(2, 3, 4)}),
    ("reshape_like", S.reshape_like(x, y), {"x": X3, "y": _u(6, 5)}),
    ("pad_constant", S.pad(x, mode="constant", pad_width=(0, 0, 0, 0, 1, 2, 2, 1), constant_value=0.5),
     {"x": X4}),
    ("pad_edge", S.pad(x, mode="edge", pad_width=(0, 0, 0, 0, 1, 2, 2, 1)), {"x": X4}),
    ("pad_reflect", S.pad(x, mode="reflect", pad_width=(0, 0, 0, 0, 1, 2, 2, 1)), {"x": X4}),
    ("upsampling", S.UpSampling(x, scale=2, sample_type="nearest"), {"x": X4}),
    ("depth_to_space", S.depth_to_space(x, block_size=2), {"x": X4}),
    ("space_to_depth", S.space_to_depth(x, block_size=2), {"x": X4}),
    ("one_hot", S.one_hot(x, depth=5), {"x": _ints(5, 2, 3)}),
    ("adaptive_avg_pool", S.contrib.AdaptiveAvgPooling2D(x, output_size=1), {"x": X4}),
    ("bilinear_resize", S.contrib.BilinearResize2D(x, height=9, width=4)
     + S.contrib.BilinearResize2D(x, height=9, width=4, align_corners=False), {"x": X4}),
    ("roi_align", S.contrib.ROIAlign(x, y, pooled_size=(3, 2), spatial_scale=0.5, sample_ratio=2)
     + S.contrib.ROIAlign(x, y, pooled_size=(3, 2), spatial_scale=0.5),
     {"x": X4, "y": np.array([[0, 1, 1, 9, 7], [1, 0, 2.5, 4, 11], [1, 3, 3, 3.5, 5]], dtype=np.float32)}),
    ("div_sqrt_dim", S.contrib.div_sqrt_dim(x), {"x": X3}),
    ("arange_like", S.broadcast_add(x + S.contrib.arange_like(x, start=1, step=0.5, repeat=2),
                                    S.contrib.arange_like(x, axis=-1)), {"x": X3}),
    ("internal_binary", _op("_power")(x + 1, y) + _op("_equal")(x, y) + _op("_not_equal")(x, y)
     + _op("_greater")(x, y) + _op("_greater_equal")(x, y) + _op("_lesser")(x, y) + _op("_lesser_equal")(x, y)
     + _op("_minus_scalar")(x, scalar=0.5) + _op("rint")(x * 1.5), {"x": _ints(3, 2, 3), "y": _ints(3, 2, 3)}),
    ("internal_logical", _op("_logical_and")(x, y) + _op("_logical_or")(x, y) + _op("_logical_xor")(x, y)
     + S.broadcast_logical_xor(x, y), {"x": _ints(2, 2, 3), "y": _ints(2, 2, 3)}),
    ("rounding", S.concat(_op("rint")(x), S.round(x), S.fix(x), S.trunc(x), dim=0),
     {"x": np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, -1.7, 1.2], dtype=np.float32)}),
    ("shape_array", S.shape_array(x), {"x": X3}),
    ("make_loss", S.MakeLoss(S.square(x)), {"x": X3}),
    ("filled", x + S.zeros((2, 3, 5)) + S.ones((2, 3, 5)) + S.full((2, 3, 5), 0.5), {"x": X3}),
    ("rnn_lstm", S.RNN(x, S.var("params"), y, S.var("cell"), state_size=4, num_layers=1, mode="lstm", name="rnn"),
     {"x": X3, "y": _u(1, 3, 4), "cell": _u(1, 3, 4)}),
    ("rnn_param_concat",
     S.FullyConnected(x, S.reshape(_op("_rnn_param_concat")(S.var("a", shape=(12,)), S.var("b", shape=(8,)), dim=0,
                                                            num_args=2), shape=(4, 5)), no_bias=True, num_hidden=4),
     {"x": X2}),
    ("regression_outputs", S.Group([S.LinearRegressionOutput(x, name="lin"),
                                    S.LogisticRegressionOutput(x, name="log"),
                                    S.MAERegressionOutput(x, name="mae")]), {"x": X2}),
    ("multiple_outputs", S.Group([S.relu(x), x * 2, S.sigmoid(x)]), {"x": X3}),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_op_exports_and_runs_in_onnxruntime(case, tmp_path):
    _, sym, data = case
    assert_exports_equal(sym, data, tmp_path)


def test_every_listed_op_has_a_case():
    """get_operator_support lists exactly the ops the cases above export (through any alias)."""
    from ops import registry
    covered = set()
    for _, sym, _ in CASES:
        covered |= {n.op.name for n in sym._graph().nodes if n.op is not None}
    missing = set(mx.onnx.get_operator_support()) - covered
    assert not missing, "translations without a test case: %s" % sorted(missing)
    assert all(registry.exists(name) for name in mx.onnx.get_operator_support())


# -- models ---------------------------------------------------------------------------------------------------

def _small_cnn():
    net = S.Convolution(S.var("data"), kernel=(3, 3), num_filter=8, pad=(1, 1), name="conv1")
    net = S.BatchNorm(net, fix_gamma=False, name="bn1")
    net = S.Activation(net, act_type="relu", name="relu1")
    net = S.Pooling(net, kernel=(2, 2), stride=(2, 2), pool_type="max", name="pool1")
    net = S.Convolution(net, kernel=(3, 3), num_filter=16, name="conv2")
    net = S.Pooling(net, kernel=(1, 1), global_pool=True, pool_type="avg", name="pool2")
    net = S.Flatten(net, name="flat")
    net = S.Dropout(net, p=0.3)
    net = S.FullyConnected(net, num_hidden=10, name="fc")
    return S.SoftmaxOutput(net, name="softmax")


def _seed_mlp():
    """The seed tutorial's fc1/relu1/fc2/SoftmaxOutput network (examples/seed_snippets.py, S3)."""
    net = S.FullyConnected(S.var("data"), name="fc1", num_hidden=128)
    net = S.Activation(net, name="relu1", act_type="relu")
    net = S.FullyConnected(net, name="fc2", num_hidden=10)
    return S.SoftmaxOutput(net, name="out")


def test_seed_mlp(tmp_path):
    import onnx
    path = assert_exports_equal(_seed_mlp(), {"data": _u(4, 20)}, tmp_path)
    graph = onnx.load(path).graph
    assert [i.name for i in graph.input] == ["data"]        # the label is left out, as MXNet does
    assert [o.name for o in graph.output] == ["out"]        # `out_output` without `_output`, as MXNet names it


def test_small_cnn_with_a_dynamic_batch(tmp_path):
    import onnx
    data = {"data": _u(2, 3, 12, 12)}
    path = assert_exports_equal(_small_cnn(), data, tmp_path, dynamic=True,
                                more=[{"data": _u(1, 3, 12, 12)}, {"data": _u(5, 3, 12, 12)}])
    dims = onnx.load(path).graph.input[0].type.tensor_type.shape.dim
    assert len(dims) == 4 and not any(d.HasField("dim_value") for d in dims)


def test_dynamic_reshape_keeps_the_batch_symbolic(tmp_path):
    sym = S.FullyConnected(S.Reshape(S.var("x"), shape=(0, -1)), num_hidden=3, name="fc")
    sym = S.Reshape(sym, shape=(-1, 1, 3))
    assert_exports_equal(sym, {"x": _u(2, 4, 5)}, tmp_path, dynamic=True, more=[{"x": _u(7, 4, 5)}])


class _BertLikeBlock(mx.gluon.HybridBlock):
    """Embedding, multi-head self-attention (reshape with 0/-3/-4, transpose, split, batch_dot, softmax), residual
    LayerNorms and a GELU feed-forward: the ops a BERT encoder layer exports."""

    def __init__(self, units=16, heads=2, vocab=20, **kwargs):
        super().__init__(**kwargs)
        self.units, self.heads = units, heads
        nn = mx.gluon.nn
        with self.name_scope():
            self.emb = nn.Embedding(vocab, units)
            self.qkv = nn.Dense(3 * units, flatten=False)
            self.proj = nn.Dense(units, flatten=False)
            self.ln1 = nn.LayerNorm()
            self.ffn1 = nn.Dense(32, flatten=False)
            self.act = nn.GELU()
            self.ffn2 = nn.Dense(units, flatten=False)
            self.ln2 = nn.LayerNorm()
            self.drop = nn.Dropout(0.1)

    def hybrid_forward(self, F, tokens):
        x = self.emb(tokens)
        qkv = F.transpose(F.reshape(self.qkv(x), shape=(0, 0, 3 * self.heads, -1)), axes=(0, 2, 1, 3))
        q, k, v = [F.reshape(part, shape=(-3, 0, 0)) for part in F.split(qkv, num_outputs=3, axis=1)]
        att = F.softmax(F.batch_dot(q, k, transpose_b=True) / np.sqrt(self.units // self.heads), axis=-1)
        ctx = F.reshape(F.batch_dot(self.drop(att), v), shape=(-4, -1, self.heads, 0, 0))
        ctx = F.reshape(F.transpose(ctx, axes=(0, 2, 1, 3)), shape=(0, 0, -1))
        x = self.ln1(x + self.proj(ctx))
        return self.ln2(x + self.ffn2(self.act(self.ffn1(x))))


def test_bert_like_block_with_a_dynamic_batch(tmp_path):
    net = _BertLikeBlock()
    sym = net(S.var("data"))
    tokens = {"data": _ints(20, 2, 5)}
    assert_exports_equal(sym, tokens, tmp_path, dynamic=True, more=[{"data": _ints(20, 3, 5)}])


def test_files_in_and_out(tmp_path):
    """sym and params as `-symbol.json` / `.params` paths (arg:/aux: keys), the old argument names, the path."""
    sym = _small_cnn()
    data = {"data": _u(1, 3, 8, 8)}
    params = random_params(sym, data, np.random.RandomState(1), label="softmax_label")
    sym.save(str(tmp_path / "m-symbol.json"))
    arg_names = set(sym.list_arguments())
    mx.nd.save(str(tmp_path / "m-0000.params"),
               {("arg:" if k in arg_names else "aux:") + k: v for k, v in params.items()})
    out = str(tmp_path / "m.onnx")
    returned = mx.onnx.export_model(str(tmp_path / "m-symbol.json"), str(tmp_path / "m-0000.params"),
                                    input_shape=[(1, 3, 8, 8)], input_type=np.float32, onnx_file_path=out,
                                    run_shape_inference=True)
    assert returned == out
    np.testing.assert_allclose(run_onnx(out, data)[0], forward(sym, data, params)[0], rtol=1e-4, atol=1e-5)
    arg = {k: v for k, v in params.items() if k in arg_names}
    aux = {k: v for k, v in params.items() if k not in arg_names}
    out2 = mx.onnx.export_model(sym, [arg, aux], [(1, 3, 8, 8)], onnx_file_path=str(tmp_path / "m2.onnx"))
    np.testing.assert_allclose(run_onnx(out2, data)[0], forward(sym, data, params)[0], rtol=1e-4, atol=1e-5)


ZOO_FAST = {"resnet18_v1": 32, "resnet18_v2": 32, "mobilenet0.25": 32, "mobilenetv2_0.25": 32,
            "squeezenet1.1": 224}


def _zoo_params():
    from dataflow.gluon.model_zoo import vision
    cases = []
    for name in sorted(vision._models):
        side = 299 if name.startswith("inception") else 224
        side = ZOO_FAST.get(name, side)
        marks = () if name in ZOO_FAST else (pytest.mark.slow,)
        cases.append(pytest.param(name, side, marks=marks, id=name))
    return cases


@pytest.mark.parametrize("name,side", _zoo_params())
def test_model_zoo(name, side, tmp_path):
    from dataflow.gluon.model_zoo import vision
    rs = np.random.RandomState(0)
    net = vision.get_model(name)
    net.initialize()
    data = {"data": rs.uniform(-1, 1, (1, 3, side, side)).astype(np.float32)}
    net(mx.nd.array(data["data"]))     # finish deferred initialisation
    sym = net(S.var("data"))
    params = random_params(sym, data, rs)
    for key, p in net.collect_params().items():
        p.set_data(params[key])
    got = run_onnx(mx.onnx.export_model(sym, params, [(1, 3, side, side)],
                                        onnx_file_path=str(tmp_path / "m.onnx")), data)[0]
    want = net(mx.nd.array(data["data"])).asnumpy()
    # deep nets with these random weights reach logits in the hundreds: the absolute tolerance scales with them
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * max(1.0, float(np.abs(want).max())))


# -- errors ---------------------------------------------------------------------------------------------------

def test_an_op_without_translation_names_the_op_and_node(tmp_path):
    sym = S.topk(S.var("x"), k=2, name="mytopk")
    with pytest.raises(MXNetError, match=r"topk.*'mytopk'"):
        mx.onnx.export_model(sym, {}, [(2, 5)], onnx_file_path=str(tmp_path / "m.onnx"))


def test_an_unsupported_mode_names_the_op_and_node(tmp_path):
    sym = S.Pooling(S.var("x"), kernel=(2,), pooling_convention="same", name="p")
    with pytest.raises(MXNetError, match=r"ONNX export: operator Pooling \(node 'p'\) .*'same'"):
        mx.onnx.export_model(sym, {}, [(1, 1, 4)], onnx_file_path=str(tmp_path / "m.onnx"))


@pytest.mark.parametrize("sym", [S.Dropout(x, mode="always", name="n"), S.BatchNorm(x, output_mean_var=True, name="n"),
                                 S.LayerNorm(x, output_mean_var=True, name="n")], ids=["dropout", "bn", "ln"])
def test_modes_onnx_cannot_hold_are_refused(sym, tmp_path):
    params = random_params(sym, {"x": X4}, np.random.RandomState(0))
    with pytest.raises(MXNetError, match=r"operator \w+ \(node 'n'\) with"):
        mx.onnx.export_model(sym, params, [X4.shape], onnx_file_path=str(tmp_path / "m.onnx"))


def test_wrong_number_of_input_shapes(tmp_path):
    with pytest.raises(ValueError, match=r"data inputs are \['x', 'y'\]"):
        mx.onnx.export_model(S.var("x") + S.var("y"), {}, [(2, 3)], onnx_file_path=str(tmp_path / "m.onnx"))


def test_a_shape_left_unknown_is_named(tmp_path):
    sym = S.broadcast_add(S.var("x"), S.var("y"))     # 0: a dimension MXNet 1.x calls unknown
    with pytest.raises(MXNetError, match="'x' stays unknown"):
        mx.onnx.export_model(sym, {}, [(0, 4), (1, 4)], onnx_file_path=str(tmp_path / "m.onnx"))


def test_bad_sym_and_params(tmp_path):
    with pytest.raises(ValueError, match="files or objects"):
        mx.onnx.export_model(S.var("x"), 3, [(2, 3)], onnx_file_path=str(tmp_path / "m.onnx"))
    with pytest.raises(ValueError, match="does not exist"):
        mx.onnx.export_model(str(tmp_path / "none.json"), str(tmp_path / "none.params"), [(2, 3)])
