"""Hand-written tests of Convolution, Deconvolution and Pooling: what the rows in tests/specs_conv.py cannot say.

- Values computed once on MXNet 1.9.1 (pip wheel, native CPU kernels: MXNET_MKLDNN_ENABLED=0), forward and
  backward through the executor: 1-D convolution, groups with dilation and stride, Deconvolution's adj and
  target_shape, full-convention average pooling (clipped-window divisor), count_include_pad=False, max pooling's
  tie rule and empty windows, `same` pooling.
- Each op's gradient (its rule, its `_backward_` op and the executor's backward path) against float64 central
  differences (`check_numeric_gradient`).
- Both unfoldings of the convolution kernels (wide columns and plain im2col) against the reference; grad_req='add';
  the message of a wrong weight shape.
- MXNet's exported CNN fixture: inference, and three training steps reproducing MXNet's losses and parameters.
"""
import os

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dataflow as mx
from dataflow.test_utils import check_numeric_gradient
from ops import registry
from ops.cpu import conv_unfold
from ops.errors import ShapeError
from ops.registry import ADD, WRITE, OpContext
from tests import op_specs  # noqa: F401  (first: it imports tests.specs_conv, which imports it back)
from tests import reference_conv as R
from tests.paths import FIXTURES
from tests.specs_conv import conv_sample, deconv_sample


def ints(shape, mod=5, off=2, seed=0, step=7):
    """Small integers ((i * step + seed) % mod - off): exact in float32, so MXNet's values paste exactly."""
    n = int(np.prod(shape))
    return (((np.arange(n) * step + seed) % mod) - off).reshape(shape).astype(np.float32)


def head_grad(shape):
    """The head gradient the MXNet runs used: ints(shape, 3, 1, 1)."""
    return ints(shape, 3, 1, 1)


def run(sym, inputs, dy=None, grad_req="write", times=1):
    """Forward (training) and backward through the executor; (output, [gradient of each argument])."""
    names = sym.list_arguments()
    args = {n: mx.nd.array(a) for n, a in zip(names, inputs, strict=True)}
    grads = {n: mx.nd.zeros(a.shape) for n, a in zip(names, inputs)}
    ex = sym.bind(mx.cpu(), args, args_grad=grads, grad_req=grad_req)
    for _ in range(times):
        y = ex.forward(is_train=True)[0].asnumpy()
        ex.backward([mx.nd.array(head_grad(y.shape) if dy is None else dy)])
    return y, [ex.grad_dict[n].asnumpy() for n in names]


DATA = mx.sym.var("data")

# ---------------------------------------------------------------------------------------------------------------
# Values from MXNet 1.9.1's native CPU kernels (inputs from ints(); head gradient head_grad(y.shape))
# ---------------------------------------------------------------------------------------------------------------

MXNET_CASES = {
    "conv1d": (
        lambda: mx.sym.Convolution(DATA, kernel=(3,), stride=(2,), pad=(1,), num_filter=2, name="c"),
        [ints((1, 2, 5)), ints((2, 2, 3), 3, 1, 1), np.array([0.5, -1], np.float32)],
        [[[-3.5, 6.5, 2.5], [-5.0, 5.0, 1.0]]],
        [[[[0.0, 0.0, 2.0, -2.0, -2.0], [0.0, 0.0, 2.0, -2.0, -2.0]]],
         [[[1.0, 1.0, -1.0], [1.0, 1.0, -1.0]], [[1.0, 1.0, -1.0], [1.0, 1.0, -1.0]]],
         [0.0, 0.0]]),
    "conv2d_group_dilate_stride": (
        lambda: mx.sym.Convolution(DATA, kernel=(2, 2), stride=(1, 2), pad=(1, 0), dilate=(2, 1), num_filter=4,
                                   num_group=2, no_bias=True, name="c"),
        [ints((1, 4, 5, 5)), ints((4, 2, 2, 2), 3, 1, 2)],
        [[[[-2.0, 2.0], [-2.0, 3.0], [-2.0, 3.0], [-2.0, 3.0], [0.0, 1.0]],
          [[2.0, -3.0], [0.0, -1.0], [0.0, -1.0], [0.0, -1.0], [-2.0, 2.0]],
          [[0.0, 1.0], [2.0, -2.0], [2.0, -2.0], [2.0, -2.0], [2.0, -3.0]],
          [[-2.0, 2.0], [-2.0, 3.0], [-2.0, 3.0], [-2.0, 3.0], [0.0, 1.0]]]],
        [[[[[-1.0, 1.0, 0.0, 1.0, 0.0], [0.0, -2.0, 0.0, 2.0, 0.0], [0.0, 0.0, 0.0, -2.0, 0.0],
            [0.0, 2.0, 0.0, 0.0, 0.0], [-1.0, 0.0, 1.0, 1.0, 0.0]],
           [[1.0, 0.0, 1.0, -1.0, 0.0], [-2.0, 2.0, 2.0, -2.0, 0.0], [0.0, 0.0, -2.0, 2.0, 0.0],
            [2.0, -2.0, 0.0, 0.0, 0.0], [0.0, 1.0, 1.0, -2.0, 0.0]],
           [[-2.0, 1.0, 1.0, 0.0, 0.0], [0.0, 0.0, -2.0, 2.0, 0.0], [2.0, -2.0, 0.0, 0.0, 0.0],
            [-2.0, 2.0, 2.0, -2.0, 0.0], [-1.0, 1.0, 0.0, 1.0, 0.0]],
           [[1.0, 1.0, 0.0, -1.0, 0.0], [0.0, 0.0, 2.0, 0.0, 0.0], [-2.0, 0.0, 0.0, 0.0, 0.0],
            [2.0, 0.0, -2.0, 0.0, 0.0], [1.0, 0.0, 1.0, -1.0, 0.0]]]],
         [[[[2.0, 0.0], [2.0, -1.0]], [[2.0, 0.0], [2.0, -1.0]]],
          [[[2.0, -1.0], [-4.0, 1.0]], [[2.0, -1.0], [-4.0, 1.0]]],
          [[[-4.0, 1.0], [2.0, 0.0]], [[-4.0, 1.0], [2.0, 0.0]]],
          [[[2.0, 0.0], [2.0, -1.0]], [[2.0, 0.0], [2.0, -1.0]]]]]),
    "deconv_adj": (
        lambda: mx.sym.Deconvolution(DATA, kernel=(3, 3), stride=(2, 2), pad=(1, 1), adj=(1, 0), num_filter=3,
                                     name="d"),
        [ints((1, 2, 2, 2)), ints((2, 3, 3, 3), 3, 1, 1)],
        [[[[-1.0, 1.0, -2.0], [1.0, -1.0, -1.0], [2.0, -2.0, 1.0], [2.0, -2.0, 1.0]]] * 3],
        [[[[[-6.0, -6.0], [-9.0, -9.0]], [[-6.0, -6.0], [-9.0, -9.0]]]],
         [[[[-1.0, 1.0, 2.0], [-1.0, 1.0, 0.0], [-1.0, 1.0, 0.0]]] * 3,
          [[[2.0, -2.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 1.0]]] * 3]]),
    "deconv_target_group_bias": (
        lambda: mx.sym.Deconvolution(DATA, kernel=(2,), stride=(3,), target_shape=(8,), num_filter=4, num_group=2,
                                     no_bias=False, name="d"),
        [ints((1, 2, 3)), ints((2, 2, 2), 3, 1, 1), np.array([1, -1, 0.5, 2], np.float32)],
        [[[1.0, -1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 3.0], [1.0, -1.0, -1.0, -1.0, -1.0, -1.0, -3.0, -1.0],
          [-0.5, 1.5, 0.5, 1.5, -0.5, 0.5, -1.5, 2.5], [2.0, 1.0, 2.0, 2.0, 3.0, 2.0, 2.0, 0.0]]],
        [[[[2.0, 2.0, 2.0], [3.0, 3.0, 3.0]]],
         [[[0.0, 0.0], [0.0, 0.0]], [[-2.0, 2.0], [0.0, -2.0]]],
         [1.0, -1.0, 0.0, 1.0]]),
}

_X = ints((1, 1, 4, 5), 7, 3, step=3)
MXNET_POOL_CASES = {
    "avg_full_clipped_window": (
        dict(pool_type="avg", kernel=(3, 3), stride=(2, 2), pad=(1, 1), pooling_convention="full"), _X,
        [[[[-0.444444477558136, 0.0, 0.4444444477558136], [0.3333333432674408, 0.3333333134651184, 0.11111108958721161],
           [0.5, 0.6666666269302368, 0.0]]]],
        [[[[0.0, 0.1111111119389534, 0.1111111119389534, 0.0, -0.1111111119389534],
           [0.0, 0.2222222238779068, 0.2222222238779068, 0.0, -0.2222222238779068],
           [0.0, 0.1111111119389534, 0.1111111119389534, 0.0, -0.1111111119389534],
           [0.0, 0.2777777910232544, 0.2777777910232544, 0.0, -0.2777777910232544]]]]),
    "avg_full_count_include_pad_false": (
        dict(pool_type="avg", kernel=(3, 3), stride=(2, 2), pad=(1, 1), pooling_convention="full",
             count_include_pad=False), _X,
        [[[[-1.0, 0.0, 1.0], [0.5, 0.3333333134651184, 0.1666666567325592], [1.5, 1.3333332538604736, 0.0]]]],
        [[[[0.0, 0.1666666716337204, 0.1666666716337204, -0.0833333283662796, -0.25],
           [0.0, 0.2777777910232544, 0.2777777910232544, -0.1388888955116272, -0.4166666865348816],
           [0.0, 0.1111111119389534, 0.1111111119389534, -0.055555559694767, -0.1666666716337204],
           [0.0, 0.4444444477558136, 0.4444444477558136, -0.2222222089767456, -0.6666666865348816]]]]),
    "max_full": (
        dict(pool_type="max", kernel=(2, 2), stride=(1, 2), pooling_convention="full"), _X,
        [[[[1.0, 3.0, 3.0], [2.0, 1.0, 3.0], [3.0, 2.0, -2.0]]]],
        [[[[0.0, 0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, -2.0], [0.0, 0.0, 0.0, 1.0, 0.0],
           [0.0, 0.0, 0.0, 1.0, -1.0]]]]),
    "sum_pad": (
        dict(pool_type="sum", kernel=(2, 3), stride=(2, 1), pad=(1, 1)), _X,
        [[[[-3.0, 0.0, 2.0, 4.0, 1.0], [0.0, -5.0, -1.0, -4.0, 1.0], [3.0, 2.0, 4.0, -1.0, 0.0]]]],
        [[[[1.0, 0.0, 0.0, 0.0, 1.0], [-1.0, 0.0, 0.0, 0.0, -1.0], [-1.0, 0.0, 0.0, 0.0, -1.0],
           [0.0, 0.0, 0.0, 0.0, 0.0]]]]),
    "lp2_full": (
        dict(pool_type="lp", p_value=2, kernel=(2, 2), stride=(2, 2), pooling_convention="full"), _X,
        [[[[3.7416574954986572, 4.358899116516113, 3.605551242828369],
           [3.7416574954986572, 3.1622776985168457, 3.605551242828369]]]],
        [[[[0.0, 0.0, 0.6882472038269043, -0.22941572964191437, -0.5547001957893372],
           [0.0, 0.0, -0.6882472038269043, 0.0, -0.8320503234863281],
           [0.0, 0.0, -0.6324555277824402, 0.3162277638912201, 0.8320503234863281],
           [0.0, 0.0, -0.3162277638912201, 0.6324555277824402, 0.5547001957893372]]]]),
    # the third window starts past the input: max gives float32's lowest and routes no gradient
    "max_full_empty_window": (
        dict(kernel=(1,), stride=(3,), pooling_convention="full"), np.array([[[3, 1, 2, 5, 4]]], np.float32),
        [[[3.0, 5.0, -3.4028234663852886e+38]]], [[[0.0, 0.0, 0.0, 1.0, 0.0]]]),
    # MXNet 1.9.1 needs pad=(0, 0, 0) to run `same` at all; windows start at o * stride and clip at the end
    "avg_same_1d": (
        dict(kernel=(3,), stride=(2,), pooling_convention="same", pool_type="avg"),
        np.array([[[3, 1, 2, 5, 4]]], np.float32),
        [[[2.0, 3.6666665077209473, 4.0]]],
        [[[0.0, 0.0, 0.3333333432674408, 0.3333333432674408, -0.6666666269302368]]]),
}


@pytest.mark.parametrize("case", sorted(MXNET_CASES))
def test_convolutions_match_mxnet(case):
    build, inputs, want_y, want_grads = MXNET_CASES[case]
    y, grads = run(build(), inputs)
    np.testing.assert_array_equal(y, np.array(want_y, np.float32))
    for got, want in zip(grads, want_grads, strict=True):
        np.testing.assert_array_equal(got, np.array(want, np.float32))


@pytest.mark.parametrize("case", sorted(MXNET_POOL_CASES))
def test_pooling_matches_mxnet(case):
    attrs, x, want_y, want_dx = MXNET_POOL_CASES[case]
    y, (dx,) = run(mx.sym.Pooling(DATA, **attrs), [x])
    np.testing.assert_allclose(y, np.array(want_y, np.float32), rtol=1e-6)
    np.testing.assert_allclose(dx, np.array(want_dx, np.float32), rtol=1e-6, atol=1e-7)


# MXNet 1.9.1: the gradient of a window of equal maxima goes to its first element in row-major order.
@pytest.mark.parametrize("x,want", [
    ([[1, 1], [1, 1]], [[1, 0], [0, 0]]),
    ([[0, 1], [1, 1]], [[0, 1], [0, 0]]),
    ([[0, 0], [1, 1]], [[0, 0], [1, 0]]),
    ([[0, 1], [1, 0]], [[0, 1], [0, 0]]),
])
def test_max_pooling_ties_go_to_the_first_max(x, want):
    _, (dx,) = run(mx.sym.Pooling(DATA, kernel=(2, 2)), [np.array([[x]], np.float32)], dy=np.ones((1, 1, 1, 1)))
    np.testing.assert_array_equal(dx, np.array([[want]], np.float32))


def test_global_pooling_ignores_kernel_and_pad():
    x = np.arange(1, 6, dtype=np.float32).reshape(1, 1, 5)
    y, (dx,) = run(mx.sym.Pooling(DATA, global_pool=True, pool_type="avg", pad=(1,), kernel=(2,)), [x],
                   dy=np.ones((1, 1, 1)))
    np.testing.assert_array_equal(y, [[[3.0]]])                     # MXNet 1.9.1: 3, not (1+...+5)/7
    np.testing.assert_allclose(dx, np.full((1, 1, 5), 0.2, np.float32))


# ---------------------------------------------------------------------------------------------------------------
# Gradients against float64 central differences (rule + _backward_ op + executor)
# ---------------------------------------------------------------------------------------------------------------

def _location(sym, shapes, rng, distinct=False):
    names = sym.list_arguments()
    arg_shapes, _, _ = sym.infer_shape(**shapes)
    loc = {}
    for name, shape in zip(names, arg_shapes, strict=True):
        if distinct and name == "data":          # no ties: max pooling is smooth there
            loc[name] = (rng.permutation(int(np.prod(shape))) + 1.0).reshape(shape) / 4
        else:
            loc[name] = rng.uniform(-1, 1, shape)
    return loc


GRAD_CASES = {
    "conv1d_stride_pad": (lambda: mx.sym.Convolution(DATA, kernel=(3,), stride=(2,), pad=(1,), num_filter=3),
                          (2, 2, 6)),
    "conv2d_group_dilate": (lambda: mx.sym.Convolution(DATA, kernel=(2, 3), dilate=(2, 1), pad=(1, 1),
                                                       num_filter=4, num_group=2), (1, 4, 5, 4)),
    "conv2d_stride_no_bias": (lambda: mx.sym.Convolution(DATA, kernel=(3, 3), stride=(2, 2), num_filter=2,
                                                         no_bias=True), (2, 2, 5, 6)),
    "conv2d_1x1": (lambda: mx.sym.Convolution(DATA, kernel=(1, 1), num_filter=3), (2, 2, 3, 3)),
    "conv3d": (lambda: mx.sym.Convolution(DATA, kernel=(2, 2, 2), pad=(1, 0, 1), num_filter=2), (1, 2, 3, 3, 2)),
    "deconv1d_adj_bias": (lambda: mx.sym.Deconvolution(DATA, kernel=(3,), stride=(2,), pad=(1,), adj=(1,),
                                                       num_filter=2, no_bias=False), (2, 3, 3)),
    "deconv2d_target_group": (lambda: mx.sym.Deconvolution(DATA, kernel=(3, 2), stride=(2, 3), dilate=(1, 2),
                                                           target_shape=(6, 5), num_filter=4, num_group=2),
                              (1, 4, 3, 2)),
    "deconv2d_stride1_pad": (lambda: mx.sym.Deconvolution(DATA, kernel=(3, 3), pad=(1, 1), num_filter=2),
                             (1, 3, 4, 4)),
}

POOL_GRAD_CASES = {
    "max_pad": dict(kernel=(2, 3), stride=(1, 2), pad=(1, 1)),
    "max_full_1d": dict(kernel=(3,), stride=(2,), pooling_convention="full"),
    "max_3d": dict(kernel=(2, 2, 2), stride=(1, 2, 1)),
    "avg_full_pad": dict(kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="avg", pooling_convention="full"),
    "avg_no_pad_count": dict(kernel=(3, 2), stride=(2, 1), pad=(1, 1), pool_type="avg", count_include_pad=False),
    "sum": dict(kernel=(2, 2), pool_type="sum", pad=(1, 0)),
    "lp1": dict(kernel=(2,), stride=(1,), pool_type="lp", p_value=1),
    "lp2": dict(kernel=(2, 2), stride=(2, 1), pool_type="lp", p_value=2, pooling_convention="full"),
    "lp3": dict(kernel=(3,), stride=(2,), pad=(1,), pool_type="lp", p_value=3),
    "global_max": dict(global_pool=True),
    "global_avg": dict(global_pool=True, pool_type="avg"),
    "same_1d": dict(kernel=(3,), stride=(2,), pooling_convention="same", pool_type="avg"),
}
_POOL_SHAPES = {1: (2, 2, 7), 2: (1, 2, 5, 6), 3: (1, 1, 3, 4, 3)}


@pytest.mark.parametrize("case", sorted(GRAD_CASES))
def test_convolution_gradients_are_central_differences(case):
    build, shape = GRAD_CASES[case]
    sym = build()
    check_numeric_gradient(sym, _location(sym, {"data": shape}, np.random.RandomState(0)), rtol=1e-5, atol=1e-7,
                           dtype=np.float64)


@pytest.mark.parametrize("case", sorted(POOL_GRAD_CASES))
def test_pooling_gradients_are_central_differences(case):
    attrs = POOL_GRAD_CASES[case]
    sym = mx.sym.Pooling(DATA, **attrs)
    nd = len(attrs.get("kernel", (1, 1)))
    loc = _location(sym, {"data": _POOL_SHAPES[nd]}, np.random.RandomState(1), distinct=True)
    check_numeric_gradient(sym, loc, rtol=1e-5, atol=1e-7, dtype=np.float64)


def test_grad_req_add_accumulates():
    sym = mx.sym.Convolution(DATA, kernel=(3, 3), pad=(1, 1), num_filter=2, num_group=2, name="c")
    rng = np.random.RandomState(2)
    inputs = [rng.uniform(-1, 1, s).astype(np.float32) for s in [(2, 2, 4, 4), (2, 1, 3, 3), (2,)]]
    _, once = run(sym, inputs)
    _, twice = run(sym, inputs, grad_req="add", times=2)
    for a, b in zip(once, twice, strict=True):
        np.testing.assert_allclose(b, 2 * a, rtol=1e-5, atol=1e-6)


def test_wrong_weight_shape_names_the_node_and_the_weight():
    w = mx.sym.var("w", shape=(4, 3, 2, 2))
    sym = mx.sym.Convolution(DATA, weight=w, kernel=(3, 3), num_filter=4, no_bias=True, name="conv1")
    with pytest.raises(ShapeError, match=r"conv1 \(Convolution\).*'weight' \(w\).*\(4, 3, 2, 2\).*\(4, 3, 3, 3\)"):
        sym.infer_shape(data=(1, 3, 7, 7))
    sym = mx.sym.Deconvolution(DATA, kernel=(3, 3), num_filter=4, name="up")
    with pytest.raises(ShapeError, match=r"up \(Deconvolution\).*up_weight.*\(3, 4, 3, 3\)"):
        sym.infer_shape(data=(1, 3, 5, 5), up_weight=(4, 3, 3, 3))


def test_argument_names_and_defaults():
    assert mx.sym.Convolution(DATA, kernel=(3,), num_filter=2, name="c").list_arguments() == \
        ["data", "c_weight", "c_bias"]
    assert mx.sym.Deconvolution(DATA, kernel=(3,), num_filter=2, name="d").list_arguments() == ["data", "d_weight"]
    assert mx.sym.Pooling(DATA, kernel=(2, 2)).name.startswith("pooling")


# ---------------------------------------------------------------------------------------------------------------
# Both unfoldings agree with the reference (the spec rows mostly draw sizes where plain im2col is chosen)
# ---------------------------------------------------------------------------------------------------------------

def _kernel_run(name, p, inputs, n_out, req=WRITE):
    opdef = registry.get(name)
    shapes = opdef.infer_shape(p, [x.shape for x in inputs], [None] * n_out)[1]
    outs = [np.full(s, np.nan) for s in shapes]
    opdef.cpu(OpContext(), p, inputs, outs, [req] * n_out)
    return outs


@pytest.mark.parametrize("waste", [-1.0, 1e9], ids=["plain", "wide"])
@pytest.mark.parametrize("op,sample,ref,bwd_ref", [
    ("Convolution", conv_sample, R.convolution, R.backward_convolution),
    ("Deconvolution", deconv_sample, R.deconvolution, R.backward_deconvolution),
], ids=["conv", "deconv"])
@given(data=st.data())
def test_unfoldings_match_reference(op, sample, ref, bwd_ref, waste, data):
    old = conv_unfold.WIDE_MAX_WASTE, conv_unfold.FORWARD_WIDE_MAX_WASTE
    conv_unfold.WIDE_MAX_WASTE = conv_unfold.FORWARD_WIDE_MAX_WASTE = waste
    try:
        attrs, inputs = sample(data.draw, np.dtype(np.float64))
        p = registry.get(op).parse_params(attrs)
        (y,) = _kernel_run(op, p, inputs, 1)
        np.testing.assert_allclose(y, ref(p, *inputs), rtol=1e-10, atol=1e-10)
        dy = np.random.RandomState(0).uniform(-1, 1, y.shape)
        want = bwd_ref(p, dy, inputs[0], inputs[1])
        got = _kernel_run("_backward_" + op, p, [dy, inputs[0], inputs[1]], len(want))
        for g, w in zip(got, want, strict=True):
            np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-10)
    finally:
        conv_unfold.WIDE_MAX_WASTE, conv_unfold.FORWARD_WIDE_MAX_WASTE = old


def test_backward_add_accumulates_without_touching_null_outputs():
    p = registry.get("Convolution").parse_params(dict(kernel=(3, 3), pad=(1, 1), num_filter=2))
    rng = np.random.RandomState(3)
    dy, x, w = rng.uniform(-1, 1, (2, 2, 6, 6)), rng.uniform(-1, 1, (2, 3, 6, 6)), rng.uniform(-1, 1, (2, 3, 3, 3))
    want = R.backward_convolution(p, dy, x, w)
    outs = [np.ones_like(want[0]), np.full(w.shape, np.nan), np.ones(2)]
    registry.get("_backward_Convolution").cpu(OpContext(), p, [dy, x, w], outs, [ADD, "null", ADD])
    np.testing.assert_allclose(outs[0], want[0] + 1, rtol=1e-12)
    assert np.isnan(outs[1]).all()
    np.testing.assert_allclose(outs[2], want[2] + 1, rtol=1e-12)


# ---------------------------------------------------------------------------------------------------------------
# MXNet's exported CNN (Conv2D pad 1, MaxPool2D, Conv2D, GlobalAvgPool2D, with BatchNorm and Dense between)
# ---------------------------------------------------------------------------------------------------------------

def _cnn_fixture():
    d = os.path.join(FIXTURES, "cnn")
    if not os.path.isdir(d):
        pytest.skip("MXNet fixtures not found at %s" % d)
    return d


def _split(params):
    return ({k[4:]: v.copy() for k, v in params.items() if k.startswith("arg:")},
            {k[4:]: v.copy() for k, v in params.items() if k.startswith("aux:")})


def test_mxnet_cnn_fixture_inference():
    d = _cnn_fixture()
    args, aux = _split(mx.nd.load(os.path.join(d, "cnn-0000.params")))
    args["data"] = mx.nd.array(np.load(os.path.join(d, "input.npy")))
    ex = mx.sym.load(os.path.join(d, "cnn-symbol.json")).bind(mx.cpu(), args, aux_states=aux)
    np.testing.assert_allclose(ex.forward(is_train=False)[0].asnumpy(), np.load(os.path.join(d, "output.npy")),
                               rtol=1e-5, atol=1e-6)


def test_mxnet_cnn_fixture_trains_like_mxnet():
    """Three SGD steps (lr 0.1, batch 4, softmax cross-entropy) from cnn-init.params reproduce MXNet's per-step
    losses and its exported parameters and BatchNorm statistics."""
    d = _cnn_fixture()
    args, aux = _split(mx.nd.load(os.path.join(d, "cnn-init.params")))
    data = np.load(os.path.join(d, "train_data.npz"))
    args["data"] = mx.nd.zeros((4, 3, 16, 16))
    grads = {k: mx.nd.zeros(v.shape) for k, v in args.items() if k != "data"}
    ex = mx.sym.load(os.path.join(d, "cnn-symbol.json")).bind(
        mx.cpu(), args, args_grad=grads, grad_req={k: "null" if k == "data" else "write" for k in args},
        aux_states=aux)
    for step in range(3):
        x, y = data["x%d" % step], data["y%d" % step].astype(int)
        ex.arg_dict["data"][:] = x
        logits = ex.forward(is_train=True)[0].asnumpy().astype(np.float64)
        prob = np.exp(logits - logits.max(axis=1, keepdims=True))
        prob /= prob.sum(axis=1, keepdims=True)
        np.testing.assert_allclose(-np.log(prob[np.arange(4), y]), data["losses"][step], rtol=1e-5, atol=1e-6)
        prob[np.arange(4), y] -= 1                        # d(sum of losses) / d logits
        ex.backward([mx.nd.array(prob.astype(np.float32))])
        for name, grad in grads.items():
            ex.arg_dict[name][:] = ex.arg_dict[name].asnumpy() - 0.1 * grad.asnumpy() / 4
    for key, want in mx.nd.load(os.path.join(d, "cnn-0000.params")).items():
        got = (ex.arg_dict if key.startswith("arg:") else ex.aux_dict)[key[4:]]
        np.testing.assert_allclose(got.asnumpy(), want.asnumpy(), rtol=1e-5, atol=1e-6, err_msg=key)
