"""Op spec rows for the neural-network ops (BatchNorm, Dropout, softmax, LeakyReLU, Concat, losses) and their
`_backward_*` ops; see tests/op_specs.py. References: tests/reference_nn.py.

The generic tests run kernels with is_train=False: BatchNorm's rows check inference (the moving stats) and
Dropout's the identity; training behaviour, randomness and the aux update are in tests/test_nn_ops.py. Golden
shapes were checked on MXNet 1.9.1 unless a case says it is ours. Rows differentiable without kinks or randomness
set grad=True.
Import tests.op_specs, never this module first (op_specs appends these rows at its end).
"""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ops.errors import DTypeError, ParamError
from tests import reference_nn as R
from tests.op_specs import (ALL, FLOATS, NUMERIC, SHAPES, SIDE, Err, OpSpec, Shp, act_params, array, fc_sample,
                            regression_sample, same, softmax_output_sample)

_F32 = {"float32": (1e-5, 1e-6)}


def _shape(draw, min_dims=1):
    return draw(hnp.array_shapes(min_dims=min_dims, max_dims=4, min_side=1, max_side=4))


# ---- samplers ---------------------------------------------------------------------------------------------------
def add_n_sample(draw, dtype):
    n, shape = draw(st.integers(1, 3)), draw(SHAPES)
    return {"num_args": n}, [array(draw, dtype, shape) for _ in range(n)]


def concat_sample(draw, dtype):
    shape = list(_shape(draw))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    n = draw(st.integers(1, 3))
    ins = []
    for _ in range(n):
        shape[dim] = draw(SIDE)
        ins.append(array(draw, dtype, tuple(shape)))
    attrs = {"num_args": n}
    if dim != 1 or draw(st.booleans()):
        attrs["dim"] = dim
    return attrs, ins


def backward_concat_sample(draw, dtype):
    attrs, xs = concat_sample(draw, dtype)
    dy = array(draw, dtype, np.concatenate(xs, axis=attrs.get("dim", 1)).shape)
    return attrs, [dy] + xs


def softmax_sample(with_length=False):
    """with_length: False, True or 'maybe' (use_length and an int32 length input)."""
    def sample(draw, dtype):
        shape = _shape(draw)
        axis = draw(st.integers(-len(shape), len(shape) - 1))
        attrs = {"axis": axis} if axis != -1 or draw(st.booleans()) else {}
        if draw(st.booleans()):
            attrs["temperature"] = draw(st.sampled_from([0.5, 2.0]))
        if draw(st.integers(0, 3)) == 0:           # never narrower than data (keeps numeric gradients exact)
            attrs["dtype"] = draw(st.sampled_from([n for n in ("float32", "float64")
                                                   if np.dtype(n).itemsize >= dtype.itemsize]))
        ins = [array(draw, dtype, shape)]
        if with_length is True or (with_length == "maybe" and draw(st.booleans())):
            attrs["use_length"] = True
            rest = tuple(d for i, d in enumerate(shape) if i != axis % len(shape))
            ins.append(draw(hnp.arrays(np.int32, rest, elements=st.integers(0, shape[axis]))))
        return attrs, ins
    return sample


def make_loss_sample(draw, dtype):
    attrs = {}
    if draw(st.booleans()):
        attrs["grad_scale"] = draw(st.sampled_from([1.0, 0.5, 3.0]))
    attrs["normalization"] = draw(st.sampled_from(["null", "batch", "valid"]))
    if draw(st.booleans()):
        attrs["valid_thresh"] = draw(st.sampled_from([0.0, 0.5, -1.0]))
    return attrs, [array(draw, dtype, _shape(draw))]


def svm_sample(draw, dtype):
    shape = _shape(draw)
    k = shape[-1]
    attrs = {}
    for key, values in (("margin", [1.0, 0.5, 2.0]), ("regularization_coefficient", [1.0, 2.0]),
                        ("use_linear", [False, True])):
        if draw(st.booleans()):
            attrs[key] = draw(st.sampled_from(values))
    # labels outside [0, k) mark no column; values between integers truncate
    label = draw(hnp.arrays(np.float64, shape[:-1], elements=st.sampled_from([0, 1.5, k - 1, k, k + 2.0])))
    return attrs, [array(draw, dtype, shape), label.astype(dtype)]


def backward_softmax_sample(log):
    def sample(draw, dtype):
        attrs, ins = softmax_sample(False if log else "maybe")(draw, dtype)
        attrs.pop("dtype", None)
        p = _parse("log_softmax" if log else "softmax", attrs)
        y = (R.log_softmax(p, ins[0]) if log else R.softmax(p, *ins)).astype(dtype)
        return attrs, [array(draw, dtype, y.shape), y] + ins[1:]
    return sample


def softmax_activation_sample(draw, dtype):
    mode = draw(st.sampled_from(["instance", "channel"]))
    shape = _shape(draw, 3 if mode == "channel" else 1)
    return ({"mode": mode} if mode == "channel" or draw(st.booleans()) else {}), [array(draw, dtype, shape)]


_LEAKY_KINDS = ["leaky", "prelu", "elu", "selu", "gelu"]


def leaky_sample(kinds=tuple(_LEAKY_KINDS)):
    def sample(draw, dtype):
        act = draw(st.sampled_from(kinds))
        shape = _shape(draw, 2 if act == "prelu" else 1)
        attrs = {"act_type": act} if act != "leaky" or draw(st.booleans()) else {}
        if act in ("leaky", "elu") and draw(st.booleans()):
            attrs["slope"] = draw(st.sampled_from([0.1, 0.5]))
        ins = [array(draw, dtype, shape, "nonzero")]       # off the kink at 0
        if act == "prelu":
            ins.append(array(draw, dtype, (shape[1],), "unit"))     # gamma (1,): tests/test_nn_ops.py
        return attrs, ins
    return sample


def backward_leaky_sample(draw, dtype):
    attrs, ins = leaky_sample(tuple(_LEAKY_KINDS) + ("rrelu",))(draw, dtype)
    p = _parse("LeakyReLU", attrs)
    x = ins[0]
    if p.act_type == "rrelu":
        y, _ = R.leaky_relu(p, x)
        extra = [draw(hnp.arrays(dtype, x.shape, elements=st.sampled_from([0.125, 0.25, 0.3125])))]
    else:
        y, extra = R.leaky_relu(p, *ins), ins[1:]
    return attrs, [array(draw, dtype, x.shape), x, y] + extra


def batch_norm_sample(draw, dtype):
    shape = _shape(draw, 2)
    axis = draw(st.sampled_from([1, 1, -1, 0]))
    c = shape[axis]
    pdt = np.dtype(np.float32) if dtype == np.float16 else dtype
    attrs = draw(st.fixed_dictionaries({}, optional={"fix_gamma": st.booleans(), "use_global_stats": st.booleans(),
                                                     "output_mean_var": st.booleans(), "eps": st.just(1e-5),
                                                     "momentum": st.just(0.8)}))
    if axis != 1:
        attrs["axis"] = axis
    gamma, beta, mean = (array(draw, pdt, (c,), "unit") for _ in range(3))
    var = array(draw, pdt, (c,), "nonneg")
    return attrs, [array(draw, dtype, shape), gamma, beta, mean, var]


def backward_batch_norm_sample(draw, dtype):
    attrs, (x, gamma, beta, mean, var) = batch_norm_sample(draw, dtype)
    invstd = (1 / np.sqrt(var.astype(np.float64) + attrs.get("eps", 1e-3))).astype(var.dtype)
    return attrs, [array(draw, dtype, x.shape), x, gamma, mean, invstd, mean.copy(), var.copy()]


def dropout_sample(draw, dtype):
    shape = _shape(draw)
    attrs = {"p": draw(st.sampled_from([0.0, 0.25, 0.5, 0.9]))}
    if draw(st.booleans()):
        attrs["axes"] = tuple(sorted(draw(st.sets(st.integers(0, len(shape) - 1), max_size=len(shape)))))
    return attrs, [array(draw, dtype, shape)]


def backward_fc_sample(draw, dtype):
    attrs, ins = fc_sample(draw, dtype)
    x, w = ins[0], ins[1]
    out = (x.shape[0], attrs["num_hidden"]) if attrs["flatten"] else x.shape[:-1] + (attrs["num_hidden"],)
    return attrs, [array(draw, dtype, out, "unit"), x, w]


def backward_activation_sample(draw, dtype):
    attrs = draw(act_params())
    shape = draw(SHAPES)
    return attrs, [array(draw, dtype, shape), array(draw, dtype, shape, "unit")]


def backward_softmax_output_sample(draw, dtype):
    attrs, (x, label) = softmax_output_sample(draw, dtype)
    attrs.update(draw(st.fixed_dictionaries({}, optional={"ignore_label": st.sampled_from([0.0, 1.0]),
                                                          "out_grad": st.booleans(),
                                                          "smooth_alpha": st.sampled_from([0.1, 0.3])})))
    if draw(st.integers(0, 4)) == 0:                     # probabilities as labels
        label = array(draw, dtype, x.shape, "nonneg")
    p = _parse("SoftmaxOutput", attrs)
    out = R.softmax(_parse("softmax", {"axis": 1 if p.multi_output else -1}),
                    x.reshape(x.shape[0], -1) if not (p.multi_output or p.preserve_shape) else x)
    return attrs, [out.reshape(x.shape).astype(dtype), label]


def backward_regression_sample(draw, dtype):
    attrs, ins = regression_sample(draw, dtype)
    if draw(st.booleans()):
        attrs["grad_scale"] = draw(st.sampled_from([0.5, 2.0]))
    return attrs, ins


def _parse(op_name, attrs):
    from ops import registry
    return registry.get(op_name).parse_params(attrs)


# ---- the rows ---------------------------------------------------------------------------------------------------

SPECS = [
    # ---- ops the gradient pass uses ----
    OpSpec("add_n", R.add_n, add_n_sample, dtypes=NUMERIC, aliases=("ElementWiseSum",), grad=True,
           attrs=(({"num_args": "3"}, {"num_args": 3}),),
           shapes=(Shp({"num_args": 2}, ((2, 3), (0, 3)), ((2, 3),), want_ins=((2, 3), (2, 3))),)),   # ours
    OpSpec("zeros_like", R.zeros_like, same(), dtypes=ALL),
    OpSpec("ones_like", R.ones_like, same(), dtypes=ALL),
    OpSpec("BlockGrad", R.block_grad, same(), dtypes=ALL, aliases=("stop_gradient",)),
    OpSpec("Concat", R.concat, concat_sample, dtypes=ALL, aliases=("concat",), grad=True,
           attrs=(({"num_args": "2", "dim": "0"}, {"num_args": 2, "dim": 0}),),
           errors=(Err({"num_args": 3}, ((2, 3), (3, 4), (2, 1)), match=r"arg1.*\[2,-1\].*\[3,4\]"),
                   Err({"num_args": 3}, ((2, 3), (2, 4, 1), (2, 1)), match=r"arg1.*\[2,4,1\]"),
                   Err({"num_args": 2, "dim": 2}, ((2, 3), (2, 3)), match=r"dim=2")),
           shapes=(Shp({"num_args": 3}, ((2, 3), (2, 4), (2, 1)), ((2, 8),)),
                   Shp({"num_args": 2, "dim": -1}, ((2, 3), (2, 3)), ((2, 6),)),
                   Shp({"num_args": 2, "dim": 0}, ((2, 3), (2, 3)), ((4, 3),)),
                   Shp({"num_args": 2, "dim": 0}, ((3,), (4,)), ((7,),)),
                   Shp({"num_args": 1}, ((2, 3),), ((2, 3),)),
                   Shp({"num_args": 3}, ((2, 3), (2, 0), (2, 1)), ((2, 0),)),
                   Shp({"num_args": 3}, ((2, 3), None, (2, 1)), ((2, 0),), want_ins=((2, 3), (2, 0), (2, 1))),
                   Shp({"num_args": 2}, ((2, 3), (2, 0)), ((2, 7),), outs=((2, 7),),          # ours: backward
                       want_ins=((2, 3), (2, 4))))),
    # ---- activations ----
    OpSpec("LeakyReLU", R.leaky_relu, leaky_sample(), dtypes=FLOATS, tol=_F32, grad=True,
           attrs=(({"act_type": "prelu", "slope": "0.1", "upper_bound": "0.334"},
                   {"act_type": "prelu", "slope": 0.1, "upper_bound": 0.334}),),
           errors=(Err({"act_type": "swish"}, exc=ParamError, match="swish.*act_type"),
                   Err({"act_type": "prelu"}, ((5,), None), match=r"prelu.*\[5\]"),
                   Err({}, dtypes=("int32",), exc=DTypeError, match="int32")),
           shapes=(Shp({"act_type": "prelu"}, ((2, 3, 4), None), ((2, 3, 4),), want_ins=((2, 3, 4), (3,))),
                   Shp({"act_type": "prelu"}, ((2, 3), (1,)), ((2, 3),)),
                   Shp({"act_type": "rrelu"}, ((2, 3, 4),), ((2, 3, 4), (2, 3, 4))),
                   Shp({"act_type": "gelu"}, ((2, 3, 4),), ((2, 3, 4),)))),
    # ---- softmax family ----
    # use_length (an integer input the generic gradient test would make float64): tests/test_nn_ops.py
    OpSpec("softmax", R.softmax, softmax_sample(False), dtypes=FLOATS, tol=_F32, grad=True,
           attrs=(({"axis": "0", "temperature": "2.0", "dtype": "float64", "use_length": "True"},
                   {"axis": 0, "temperature": 2.0, "dtype": np.dtype(np.float64), "use_length": True}),
                  ({"temperature": "None", "use_length": "False"}, {"temperature": None, "use_length": False})),
           errors=(Err({"axis": 2}, ((2, 3),), match=r"axis 2"),
                   Err({"use_length": True}, dtypes=("float32", "float32"), exc=DTypeError, match="length"),
                   Err({}, dtypes=("int32",), exc=DTypeError, match="int32")),
           shapes=(Shp({"use_length": True}, ((2, 3, 4), None), ((2, 3, 4),), want_ins=((2, 3, 4), (2, 3))),
                   Shp({"use_length": True, "axis": 1}, ((2, 3, 4), None), ((2, 3, 4),),
                       want_ins=((2, 3, 4), (2, 4))))),
    OpSpec("log_softmax", R.log_softmax, softmax_sample(False), dtypes=FLOATS, tol={"float32": (1e-5, 1e-5)},
           grad=True,
           errors=(Err({"use_length": True}, ((2, 3),), exc=ParamError, match="use_length"),
                   Err({"axis": -3}, ((2, 3),), match=r"axis -3"))),
    OpSpec("SoftmaxActivation", R.softmax_activation, softmax_activation_sample, dtypes=FLOATS, tol=_F32,
           grad=True,
           errors=(Err({"mode": "channel"}, ((2, 3),), match=r"channel.*\[2,3\]"),
                   Err({"mode": "spatial"}, exc=ParamError, match="spatial.*mode"))),
    OpSpec("softmin", R.softmin, softmax_sample(False), dtypes=FLOATS, tol={"float32": (1e-5, 1e-6)}, grad=True,
           errors=(Err({"use_length": True}, ((2, 3),), exc=ParamError, match="use_length"),
                   Err({"axis": 2}, ((2, 3),), match=r"axis 2"),
                   Err({}, dtypes=("int32",), exc=DTypeError, match="int32"))),
    # ---- losses (gradients against MXNet's in tests/test_new_ops.py) ----
    OpSpec("MakeLoss", R.identity, make_loss_sample, dtypes=FLOATS,
           attrs=(({"grad_scale": "0.5", "valid_thresh": "0.1", "normalization": "valid"},
                   {"grad_scale": 0.5, "valid_thresh": 0.1, "normalization": "valid"}),),
           errors=(Err({"normalization": "all"}, exc=ParamError, match="all.*normalization"),
                   Err({}, dtypes=("int32",), exc=DTypeError, match="int32"))),
    OpSpec("make_loss", R.identity, same(), dtypes=ALL),
    OpSpec("SVMOutput", R.identity, svm_sample, dtypes=FLOATS,
           attrs=(({"margin": "0.5", "regularization_coefficient": "2", "use_linear": "True"},
                   {"margin": 0.5, "regularization_coefficient": 2.0, "use_linear": True}),),
           errors=(Err({}, dtypes=("int32", None), exc=DTypeError, match="int32"),),
           shapes=(Shp({}, ((4, 3), None), ((4, 3),), want_ins=((4, 3), (4,))),
                   Shp({}, ((4, 3, 2), None), ((4, 3, 2),), want_ins=((4, 3, 2), (4, 3))))),
    # ---- losses ----
    OpSpec("LogisticRegressionOutput", R.logistic_regression_output, regression_sample, dtypes=FLOATS,
           alt_shapes=(1,), tol=_F32,
           errors=(Err({}, dtypes=("int32", None), exc=DTypeError, match="int32"),),
           shapes=(Shp({}, ((3, 1), None), ((3, 1),), want_ins=((3, 1), (3,))),
                   Shp({}, ((3, 2), None), ((3, 2),), want_ins=((3, 2), (3, 2))),
                   Shp({}, ((3,), None), ((3,),), want_ins=((3,), (3,))))),
    OpSpec("MAERegressionOutput", R.mae_regression_output, regression_sample, dtypes=FLOATS, alt_shapes=(1,),
           shapes=(Shp({}, ((3, 1), None), ((3, 1),), want_ins=((3, 1), (3,))),)),
    # ---- BatchNorm, Dropout (inference here) ----
    # grad: tests/test_nn_ops.py (the generic gradient test passes every input as an argument, not aux states)
    OpSpec("BatchNorm", R.batch_norm, batch_norm_sample, dtypes=FLOATS, tol={"float32": (1e-5, 1e-5)},
           attrs=(({"eps": "1e-05", "momentum": "0.8", "fix_gamma": "False", "use_global_stats": "True",
                    "axis": "-1", "min_calib_range": "None", "max_calib_range": "2.5", "cudnn_off": "False"},
                   {"eps": 1e-5, "momentum": 0.8, "fix_gamma": False, "use_global_stats": True, "axis": -1,
                    "min_calib_range": None, "max_calib_range": 2.5, "cudnn_off": False}),),
           errors=(Err({}, ((4,), None, None, None, None), match=r"axis.*\[4\]"),
                   Err({"axis": 3}, ((2, 3), None, None, None, None), match=r"axis=3.*\[2,3\]"),
                   Err({}, dtypes=("int32", None, None, None, None), exc=DTypeError, match="int32")),
           shapes=(Shp({}, ((2, 3, 4, 5), None, None, None, None), ((2, 3, 4, 5), (3,), (3,)),
                       want_ins=((2, 3, 4, 5), (3,), (3,), (3,), (3,))),
                   Shp({"axis": -1}, ((2, 3, 2), None, None, None, None), ((2, 3, 2), (2,), (2,)),
                       want_ins=((2, 3, 2), (2,), (2,), (2,), (2,))),
                   Shp({"axis": -2}, ((2, 3, 4), None, None, None, None), ((2, 3, 4), (3,), (3,)),
                       want_ins=((2, 3, 4), (3,), (3,), (3,), (3,))),
                   Shp({}, ((4, 3), None, None, None, None), ((4, 3), (3,), (3,)),
                       want_ins=((4, 3), (3,), (3,), (3,), (3,))),
                   Shp({}, (None, (3,), None, None, None), (None, (3,), (3,)),
                       want_ins=(None, (3,), (3,), (3,), (3,))))),
    OpSpec("Dropout", R.dropout, dropout_sample, dtypes=FLOATS,
           attrs=(({"p": "0.3", "axes": "(1,)", "mode": "always", "cudnn_off": "False"},
                   {"p": 0.3, "axes": (1,), "mode": "always", "cudnn_off": False}),),
           errors=(Err({"p": 1.5}, ((2, 3),), exc=ParamError, match=r"p=1.5"),
                   Err({"axes": (2,)}, ((2, 3),), match=r"axes=\(2,\)"),
                   Err({"mode": "sometimes"}, exc=ParamError, match="sometimes.*mode")),
           shapes=(Shp({}, ((2, 3),), ((2, 3), (2, 3))),
                   Shp({"axes": (1,)}, ((2, 3, 4),), ((2, 3, 4), (2, 3, 4))))),
    # ---- backward ops (inputs as the gradient rules pass them) ----
    OpSpec("_backward_FullyConnected", R.backward_fully_connected, backward_fc_sample, dtypes=FLOATS,
           tol={"float32": (1e-5, 2e-4), "float16": (4e-3, 4e-3)}),
    OpSpec("_backward_Activation", R.backward_activation, backward_activation_sample, dtypes=FLOATS, tol=_F32),
    OpSpec("_backward_LeakyReLU", R.backward_leaky_relu, backward_leaky_sample, dtypes=FLOATS, tol=_F32),
    OpSpec("_backward_softmax", R.backward_softmax, backward_softmax_sample(False), dtypes=FLOATS,
           tol={"float32": (1e-5, 1e-5)}),
    OpSpec("_backward_log_softmax", R.backward_log_softmax, backward_softmax_sample(True), dtypes=FLOATS,
           tol={"float32": (1e-5, 1e-5)}),
    OpSpec("_backward_SoftmaxOutput", R.backward_softmax_output, backward_softmax_output_sample, dtypes=FLOATS,
           alt_shapes=(1,), tol=_F32),
    OpSpec("_backward_linear_reg_out", R.backward_linear_reg_out, backward_regression_sample, dtypes=FLOATS,
           alt_shapes=(1,)),
    OpSpec("_backward_logistic_reg_out", R.backward_logistic_reg_out, backward_regression_sample, dtypes=FLOATS,
           alt_shapes=(1,)),
    OpSpec("_backward_mae_reg_out", R.backward_mae_reg_out, backward_regression_sample, dtypes=FLOATS,
           alt_shapes=(1,)),
    OpSpec("_backward_BatchNorm", R.backward_batch_norm, backward_batch_norm_sample, dtypes=FLOATS,
           tol={"float32": (1e-5, 1e-5)}),
    OpSpec("_backward_Concat", R.backward_concat, backward_concat_sample, dtypes=ALL),
    OpSpec("_backward_MakeLoss", R.backward_make_loss, make_loss_sample, dtypes=FLOATS),
    OpSpec("_backward_SVMOutput", R.backward_svm_output, svm_sample, dtypes=FLOATS, tol=_F32),
]
