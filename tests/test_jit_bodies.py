"""The njit bodies of ops/jit/ (the Plan compiler's steps) against the ops' CPU kernels, the truth.

Every spec row of tests/op_specs.py whose op has a body is drawn with its own sampler (float32 and float64) and run
twice from the same inputs and the same old output values: through `opdef.cpu` and through the Body, under req
WRITE, ADD, NULL and, where the op allows it, INPLACE (the output buffer is the input's). Outputs, and inputs the op
writes (optimizer states), must agree: bit for bit for exact arithmetic, else within a few units of the dtype's
rounding (libm against numpy's or vmath's transcendental functions, sums in another order, another BLAS).
The fusable scalar functions (`Body.scalar`) are checked elementwise against the same kernels.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ops  # noqa: F401  (registers every op)
from ops import jit
from ops import registry
from ops.registry import ADD, INPLACE, NULL, WRITE, OpContext
from tests.op_specs import SPECS

JIT_DTYPES = ("float32", "float64")
ROWS = [s for s in SPECS if registry.get(s.name).name in set(jit.covered()) and set(s.dtypes) & set(JIT_DTYPES)]

# Ops whose body computes exactly what the kernel computes (same operations in the same order and dtype)
EXACT = {"elemwise_add", "elemwise_sub", "elemwise_mul", "elemwise_div", "broadcast_add", "broadcast_sub",
         "broadcast_mul", "broadcast_div", "_plus_scalar", "_minus_scalar", "_rminus_scalar", "_mul_scalar",
         "_div_scalar", "_rdiv_scalar", "negative", "abs", "sign", "round", "rint", "ceil", "floor", "trunc", "fix",
         "square", "sqrt", "reciprocal", "relu", "_maximum", "_minimum", "broadcast_maximum", "broadcast_minimum",
         "_maximum_scalar", "_minimum_scalar", "_copy", "Reshape", "Flatten", "expand_dims", "BlockGrad", "MakeLoss",
         "squeeze", "zeros_like", "ones_like", "add_n", "sgd_update", "sgd_mom_update", "adam_update", "logical_not",
         "_mod", "broadcast_mod", "_mod_scalar", "_rmod_scalar", "LeakyReLU", "_backward_LeakyReLU"}
EXACT |= {p + name + s for name in ("equal", "not_equal", "greater", "greater_equal", "lesser", "lesser_equal",
                                    "logical_and", "logical_or", "logical_xor")
          for p, s in (("_", ""), ("broadcast_", ""), ("_", "_scalar"))}
# rtol, atol where the body's arithmetic differs from the kernel's within rounding
TOL = {np.dtype(np.float32): (3e-6, 1e-6), np.dtype(np.float64): (1e-13, 1e-13)}
# Ops whose body covers only some params (the rest run interpreted); every other covered op must give a body
MAY_DECLINE = {"softmax": "only the last axis, without temperature or length",
               "log_softmax": "only the last axis, without temperature",
               "SoftmaxOutput": "not multi_output",
               "_backward_SoftmaxOutput": "one label per row, without multi_output, smooth_alpha or out_grad",
               "sum": "one contiguous block of axes", "mean": "one contiguous block of axes",
               "_np_sum": "one contiguous block of axes, no initial", "_npi_mean": "one contiguous block of axes",
               "LeakyReLU": "act_type 'leaky' only", "_backward_LeakyReLU": "act_type 'leaky' only"}


def _metas(opdef, p, inputs):
    n_out = opdef.num_outputs(p)
    _, out_shapes = opdef.infer_shape(p, [x.shape for x in inputs], [None] * n_out)
    _, out_types = opdef.infer_type(p, [x.dtype for x in inputs], [None] * n_out)
    in_meta = tuple((tuple(x.shape), x.dtype) for x in inputs)
    return in_meta, tuple((tuple(s), np.dtype(t)) for s, t in zip(out_shapes, out_types, strict=True))


def _compare(name, got, want):
    assert got.shape == want.shape and got.dtype == want.dtype
    if name in EXACT:
        np.testing.assert_array_equal(got, want, err_msg=name)
    else:
        rtol, atol = TOL[want.dtype]
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, equal_nan=True, err_msg=name)


def _run_both(opdef, p, inputs, out_meta, reqs, inplace=None):
    """(kernel's (inputs, outputs), body's (inputs, outputs)) from the same inputs and old output values;
    `inplace` = (input index, output index) makes that output the input's buffer. None when there is no body."""
    rng = np.random.default_rng(1)
    old = [rng.uniform(-3, 3, shape).astype(dtype) for shape, dtype in out_meta]
    in_meta = tuple((tuple(x.shape), x.dtype) for x in inputs)
    b = jit.body(opdef, p, in_meta, out_meta, tuple(reqs))
    if b is None:
        return None
    results = []
    for use_body in (False, True):
        ins = [x.copy() for x in inputs]
        outs = [o.copy() for o in old]
        if inplace is not None:
            i, o = inplace
            outs[o] = ins[i].reshape(out_meta[o][0])
        with np.errstate(all="ignore"):
            if use_body:        # a flat body takes its arrays as the Plan compiler passes them: one dimension
                b.fn(*[a.reshape(-1) if b.flat else a for a in ins + outs], *b.args)
            else:
                opdef.cpu(OpContext(), p, ins, outs, list(reqs))
        results.append((ins, outs))
    return results


def _check(opdef, p, inputs, out_meta, reqs, inplace=None):
    both = _run_both(opdef, p, inputs, out_meta, reqs, inplace)
    if both is None:
        return False
    (k_ins, k_outs), (b_ins, b_outs) = both
    for got, want in zip(b_outs, k_outs, strict=True):
        _compare(opdef.name, got, want)
    for got, want in zip(b_ins, k_ins, strict=True):     # written inputs (states) too; the others are unchanged
        _compare(opdef.name, got, want)
    return True


@pytest.mark.parametrize("spec", ROWS, ids=[s.name for s in ROWS])
@settings(deadline=None)
@given(data=st.data())
def test_body_equals_kernel(spec, data):
    dtype = np.dtype(data.draw(st.sampled_from([d for d in spec.dtypes if d in JIT_DTYPES]), label="dtype"))
    attrs, inputs = spec.sample(data.draw, dtype)
    opdef = registry.get(spec.name)
    p = opdef.parse_params(attrs)
    in_meta, out_meta = _metas(opdef, p, inputs)
    n = len(out_meta)
    for req in (WRITE, ADD, NULL):
        if not _check(opdef, p, inputs, out_meta, [req] * n):
            assert opdef.name in MAY_DECLINE, "no body for %s %s" % (opdef.name, attrs)
            return
    for i, o in opdef.inplace:
        if inputs[i].size == _size(out_meta[o][0]) and inputs[i].dtype == out_meta[o][1]:
            reqs = [WRITE] * n
            reqs[o] = INPLACE
            _check(opdef, p, inputs, out_meta, reqs, inplace=(i, o))


def _size(shape):
    return int(np.prod(shape, dtype=np.int64))




# Covered ops without a spec row (exempt in tests/op_specs.py), and the test here that checks them
DEDICATED = {"_backward_reduce": "test_backward_reduce"}


@pytest.mark.parametrize("name", jit.covered())
def test_every_covered_op_is_checked(name):
    assert name in DEDICATED or any(registry.get(s.name).name == name for s in ROWS), name


# ---- specific cases the samplers may not reach ----------------------------------------------------------------
def _op(name, **attrs):
    opdef = registry.get(name)
    return opdef, opdef.parse_params(attrs)


@pytest.mark.parametrize("dtype", JIT_DTYPES)
@pytest.mark.parametrize("req", [WRITE, ADD, NULL])
def test_fully_connected_forward_and_backward(dtype, req):
    rng = np.random.RandomState(0)
    x, w, bias = (rng.uniform(-1, 1, s).astype(dtype) for s in ((5, 3, 4), (7, 12), (7,)))
    dy = rng.uniform(-1, 1, (5, 7)).astype(dtype)
    for no_bias in (False, True):
        opdef, p = _op("FullyConnected", num_hidden=7, no_bias=no_bias)
        ins = [x, w] if no_bias else [x, w, bias]
        assert _check(opdef, p, ins, (((5, 7), np.dtype(dtype)),), [req])
        opdef, p = _op("_backward_FullyConnected", num_hidden=7, no_bias=no_bias)
        outs = [((5, 3, 4), np.dtype(dtype)), ((7, 12), np.dtype(dtype))] + ([] if no_bias else [((7,),
                                                                                               np.dtype(dtype))])
        assert _check(opdef, p, [dy, x, w], tuple(outs), [req, WRITE, ADD][:len(outs)])


@pytest.mark.parametrize("dtype", JIT_DTYPES)
@pytest.mark.parametrize("attrs", [{}, {"normalization": "batch"}, {"normalization": "valid", "use_ignore": True,
                                                                     "ignore_label": 2}, {"grad_scale": 0.5}])
def test_softmax_output_backward(dtype, attrs):
    rng = np.random.RandomState(0)
    x = rng.uniform(-4, 4, (6, 5)).astype(dtype)
    label = np.array([0, 2, 4, 2, 1, 7], dtype)          # 7: out of range, no one-hot entry
    opdef, p = _op("SoftmaxOutput", **attrs)
    meta = (((6, 5), np.dtype(dtype)),)
    assert _check(opdef, p, [x, label], meta, [WRITE])
    out = np.empty((6, 5), dtype)
    opdef.cpu(OpContext(), p, [x, label], [out], [WRITE])
    back, p = _op("_backward_SoftmaxOutput", **attrs)
    for req in (WRITE, ADD):
        assert _check(back, p, [out, label], meta, [req])


@pytest.mark.parametrize("act_type", ["relu", "sigmoid", "tanh", "softrelu", "softsign"])
@pytest.mark.parametrize("dtype", JIT_DTYPES)
def test_activation_forward_and_backward(act_type, dtype):
    rng = np.random.RandomState(0)
    x = rng.uniform(-30, 30, (4, 33)).astype(dtype)
    x[0, :4] = (0, np.inf, -np.inf, np.nan)
    opdef, p = _op("Activation", act_type=act_type)
    meta = ((x.shape, np.dtype(dtype)),)
    for req in (WRITE, ADD):
        assert _check(opdef, p, [x], meta, [req])
    assert _check(opdef, p, [x], meta, [INPLACE], inplace=(0, 0))
    y = np.empty_like(x)
    opdef.cpu(OpContext(), p, [x], [y], [WRITE])
    dy = rng.uniform(-1, 1, x.shape).astype(dtype)
    back, p = _op("_backward_Activation", act_type=act_type)
    v = x if act_type == "softsign" else y
    for req in (WRITE, ADD):
        assert _check(back, p, [dy, v], meta, [req])


@pytest.mark.parametrize("shapes", [((2, 3, 4), (3, 1)), ((2, 1, 5), (3, 1)), ((4,), (2, 3, 4)),
                                    ((2, 3, 4, 5, 6), (1,)), ((1, 1), (3, 4))])
@pytest.mark.parametrize("name", ["broadcast_add", "broadcast_div", "broadcast_maximum", "broadcast_greater"])
def test_broadcast_layouts(shapes, name):
    rng = np.random.RandomState(0)
    ins = [rng.uniform(0.5, 2, s).astype(np.float32) for s in shapes]
    opdef, p = _op(name)
    out_meta = ((np.broadcast_shapes(*shapes), np.dtype(np.float32)),)
    for req in (WRITE, ADD):
        assert _check(opdef, p, ins, out_meta, [req])


@pytest.mark.parametrize("dtype", JIT_DTYPES)
@pytest.mark.parametrize("mode", ["sum", "mean"])
@pytest.mark.parametrize("shape,attrs", [((3, 4, 5), {}), ((3, 4, 5), {"axis": (1,)}), ((3, 4, 5), {"axis": (1, 2)}),
                                         ((3, 4, 5), {"axis": (0,), "exclude": True, "keepdims": True})])
def test_backward_reduce(dtype, mode, shape, attrs):
    rng = np.random.RandomState(0)
    x = rng.uniform(-1, 1, shape).astype(dtype)
    forward, p = _op(mode, **attrs)
    y_shape = forward.infer_shape(p, [shape], [None])[1][0]
    y = np.empty(y_shape, dtype)
    forward.cpu(OpContext(), p, [x], [y], [WRITE])
    dy = rng.uniform(-1, 1, y_shape).astype(dtype)
    opdef, p = _op("_backward_reduce", mode=mode, **attrs)
    for req in (WRITE, ADD):
        assert _check(opdef, p, [dy, x, y], ((shape, np.dtype(dtype)),), [req])


@pytest.mark.parametrize("dtype", JIT_DTYPES)
@pytest.mark.parametrize("attrs", [{}, {"normalization": "batch", "grad_scale": 3.0},
                                   {"normalization": "valid", "valid_thresh": 0.2}])
def test_backward_make_loss(dtype, attrs):
    y = np.random.RandomState(0).uniform(-1, 1, (4, 6)).astype(dtype)
    opdef, p = _op("_backward_MakeLoss", **attrs)
    for req in (WRITE, ADD):
        assert _check(opdef, p, [y], ((y.shape, np.dtype(dtype)),), [req])


def test_no_body_for_float16_and_integers():
    opdef, p = _op("elemwise_add")
    for dtype in (np.float16, np.int32):
        meta = (((3,), np.dtype(dtype)),)
        assert jit.body(opdef, p, meta * 2, meta, (WRITE,)) is None


def test_scalar_functions_match_the_kernels():
    """Body.scalar, applied value by value as the compiler's fused loop does, gives the kernel's results."""
    rng = np.random.RandomState(0)
    cases = [("exp", {}, 1), ("sigmoid", {}, 1), ("sqrt", {}, 1), ("_mul_scalar", {"scalar": 0.3}, 1),
             ("_rdiv_scalar", {"scalar": 1.7}, 1), ("elemwise_mul", {}, 2), ("broadcast_sub", {}, 2)]
    for dtype in JIT_DTYPES:
        for name, attrs, arity in cases:
            opdef, p = _op(name, **attrs)
            ins = [rng.uniform(0.1, 3, 50).astype(dtype) for _ in range(arity)]
            meta = (((50,), np.dtype(dtype)),)
            b = jit.body(opdef, p, meta * arity, meta, (WRITE,))
            # vmath's float32 functions are marked: a fused loop runs them tiled (scheduler/codegen.py)
            assert b.scalar_vmath == (np.dtype(dtype) == np.float32 and name in ("exp", "sigmoid")), (name, dtype)
            want = np.empty(50, dtype)
            opdef.cpu(OpContext(), p, ins, [want], [WRITE])
            got = np.array([b.scalar(*[x[i] for x in ins], *b.scalar_args) for i in range(50)]).astype(dtype)
            _compare(name, got, want)
            assert getattr(__import__(b.scalar.__module__, fromlist=["_"]), b.scalar_name) is b.scalar
            assert getattr(__import__(b.fn.__module__, fromlist=["_"]), b.name) is b.fn
