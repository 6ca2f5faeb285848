"""What MXNet 1.9.1 refuses and accepts at the edges: bad params, zero-size and negative shapes, dtypes, storage
types, contexts given as strings, params given as numpy values, `inplace=` methods, silent floating-point kernels.

Each row of tests/fixtures/mxnet-1.9.1/errors/behaviour.json (made by reference/errors_fixtures.py) holds an
expression and what MXNet did with it; here the same expression runs on dataflow. Where MXNet raised its
MXNetError we must raise an MXNetError too, with a message naming what is wrong; where it raised a builtin error
(numpy's TypeError for an unknown dtype ...) ours must be an instance of the same class; where it returned a value
we must return the same shape, dtype and values, without a RuntimeWarning.
"""
import builtins
import json
import os
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import dataflow as mx
from dataflow.base import MXNetError
from tests.paths import FIXTURES

with open(os.path.join(FIXTURES, "errors", "behaviour.json")) as _f:
    FACTS = json.load(_f)
EXECUTOR = FACTS.pop("executor_backward")

# Where MXNet's error is an accident of its ctypes layer, not a rule: we keep our (MXNetError-family) error or
# accept the call.
DELIBERATE = {
    "array_ctx_string": "MXNet's array() reads ctx.device_typeid of the string (AttributeError); the ops and "
                        "zeros/ones take 'cpu(0)', so array does too",
    "empty_negative": "MXNet's OverflowError comes from ctypes converting -1 to an unsigned int; ours is an "
                      "MXNetError (ShapeError) naming the shape",
    "full_negative": "as empty_negative",
    "method_reshape_np_array": "MXNet's TypeError comes from ctypes indexing with an array; ours is the Reshape "
                               "op's ParamError naming the shape param",
}

# Words our message must hold for each refused call: the op (or function), the parameter and its value.
MESSAGE_NAMES = {
    "diag_k_far": ["diag", "k=10", "[3,4]"],
    "diag_3d_k_too_large": ["diag", "k=4", "Diagonal does not exist"],
    "depth_to_space_block_zero": ["depth_to_space", "block_size=0"],
    "depth_to_space_indivisible": ["depth_to_space", "block_size**2 = 4", "[1,6,2,2]"],
    "depth_to_space_3d": ["depth_to_space", "4-D"],
    "space_to_depth_block_negative": ["space_to_depth", "block_size=-1"],
    "space_to_depth_indivisible": ["space_to_depth", "block_size=2", "[1,2,3,3]"],
    "zeros_zero_rows": ["_zeros", "(0, 3)"],
    "zeros_negative": ["_zeros", "(-1, 3)"],
    "ones_negative": ["_ones", "(2, -3)"],
    "internal_full_zero_rows": ["_full", "(0, 3)"],
    "random_uniform_zero_rows": ["_random_uniform", "(0, 3)"],
    "empty_negative": ["empty", "(-1, 3)"],
    "full_negative": ["full", "(-1, 3)"],
    "zeros_stype_bogus": ["zeros", "'foo'"],
    "tostype_bogus": ["'foo'", "cast_storage"],
    "arange_step_zero": ["_arange", "step=0"],
    "arange_empty": ["_arange", "empty range"],
    "arange_repeat_zero": ["_arange", "repeat=0"],
    "zeros_dtype_bogus": ["'bogus'"],
    "cast_bogus": ["'bogus'"],
    "zeros_dtype_complex": ["complex64"],
    "transpose_np_array_axes": ["transpose", "'axes'"],
    "zeros_np_array_shape": ["_zeros", "'shape'"],
    "broadcast_to_np_array": ["broadcast_to", "'shape'"],
    "squeeze_function_inplace": ["squeeze", "'inplace'"],
    "take_axis_out_of_range": ["take", "axis=2"],
    "take_axis_neg_out_of_range": ["take", "axis=-3"],
    "take_bad_mode": ["take", "'bogus'", "mode"],
    "zeros_ctx_bogus_string": ["tpu(0)"],
}


def _run(expr):
    value = eval(expr, {"mx": mx, "np": np})
    return value[0] if isinstance(value, (list, tuple)) else value


def _expected_values(fact):
    values = [np.nan if v is None else float(v) if isinstance(v, str) else v for v in fact["values"]]
    return np.array(values, dtype=fact["dtype"]).reshape(fact["shape"])


@pytest.mark.parametrize("case", sorted(FACTS))
def test_same_outcome_as_mxnet(case):
    fact = FACTS[case]
    if case in DELIBERATE:
        pytest.skip(DELIBERATE[case])
    if fact["outcome"] == "error":
        expected = MXNetError if fact["mxnet_error"] else getattr(builtins, fact["type"])
        with pytest.raises(expected) as caught:
            _run(fact["expr"]).wait_to_read()
        for word in MESSAGE_NAMES.get(case, ()):
            assert word in str(caught.value), (word, str(caught.value))
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)      # MXNet's kernels are silent on inf * 0, 0 ** -1 ...
        result = _run(fact["expr"]).asnumpy()
    assert list(result.shape) == fact["shape"] and result.dtype.name == fact["dtype"], case
    np.testing.assert_array_equal(result, _expected_values(fact), err_msg=case)


def test_deliberate_differences_still_fail_cleanly():
    for case in ("empty_negative", "full_negative", "method_reshape_np_array"):
        with pytest.raises(MXNetError):
            _run(FACTS[case]["expr"])
    assert mx.nd.array([1, 2], ctx="cpu(0)").context == mx.cpu(0)


def test_every_refusal_names_its_cause():
    refused = {name for name, fact in FACTS.items() if fact["outcome"] == "error" and fact["mxnet_error"]}
    unnamed = sorted(refused - set(MESSAGE_NAMES) - {"diag_3d_k_below", "internal_zeros_negative",
                                                      "internal_zeros_np_array", "ones_np_array_shape",
                                                      "ones_zero_rows", "zeros_zero_int", "space_to_depth_3d",
                                                      "depth_to_space_block_negative",
                                                      "space_to_depth_block_zero", "reshape_np_array_shape"})
    assert not unnamed, "cases MXNet refuses without a message check here: %s" % unnamed


def test_zero_size_shapes_are_real_under_np_shape():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)      # dataflow's note that it has no mx.np front end
        with mx.util.np_shape(True):
            assert mx.nd.zeros((0, 3)).shape == (0, 3)
    with pytest.raises(MXNetError, match="_zeros"):
        mx.nd.zeros((0, 3))


@pytest.mark.parametrize("method, args, shape", [("flatten", (), (2, 12)), ("squeeze", (), (2, 12)),
                                                 ("expand_dims", (1,), (2, 1, 12))])
def test_inplace_methods_are_views(method, args, shape):
    # MXNet's docstrings: with inplace=True the result shares data with the array; without, it is a copy.
    base = mx.nd.ones((2, 1, 12)) if method == "squeeze" else mx.nd.ones((2, 12) if args else (2, 3, 4))
    view = getattr(base, method)(*args, inplace=True)
    copy = getattr(base, method)(*args)
    assert view.shape == copy.shape == shape
    view[:] = -1
    assert (base.asnumpy() == -1).all() and (copy.asnumpy() == 1).all()


def test_squeeze_inplace_checks_the_axis():
    with pytest.raises(MXNetError, match="squeeze"):
        mx.nd.ones((2, 3)).squeeze(axis=0, inplace=True)


def test_executor_backward_empty_out_grads_means_none_given():
    # MXNet: out_grads=[] is the same as None (both refuse a head that is not a loss, which we give ones instead,
    # see ARCHITECTURE.md); given gradients are used.
    assert EXECUTOR["empty_list"] == EXECUTOR["none"]
    x = mx.sym.var("x")
    exe = (x * 2).simple_bind(mx.cpu(), x=(3,))
    exe.arg_dict["x"][:] = 1
    grads = {}
    for name, out_grads in [("none", None), ("empty_list", []), ("given", [mx.nd.ones((3,)) * 3])]:
        exe.forward(is_train=True)
        exe.backward(out_grads=out_grads)
        grads[name] = exe.grad_dict["x"].asnumpy().tolist()
    assert grads["empty_list"] == grads["none"] == [2.0] * 3
    assert grads["given"] == EXECUTOR["given"]["grad"]


def test_ctx_strings_reach_generated_ops():
    assert mx.nd._internal._zeros(shape=(2,), ctx="cpu(0)").context == mx.cpu(0)
    assert mx.nd._internal._arange(start=0, stop=3, ctx="cpu(1)").context == mx.cpu(1)
    with pytest.raises(MXNetError, match="Invalid context string"):
        mx.nd._internal._zeros(shape=(2,), ctx="gpu:0")


@settings(max_examples=25 if os.environ.get("CI") else 150, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), data=st.data(),
       mode=st.sampled_from(["clip", "wrap"]))
def test_take_axis_and_mode_like_numpy(shape, data, mode):
    # MXNet's take: 'clip' clips each index to [0, n - 1], 'wrap' takes it modulo n; numpy's take does the same.
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[axis]
    indices = data.draw(st.lists(st.integers(-2 * n - 1, 2 * n + 1), min_size=1, max_size=5))
    x = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    got = mx.nd.take(mx.nd.array(x), mx.nd.array(indices), axis=axis, mode=mode).asnumpy()
    np.testing.assert_array_equal(got, np.take(x, indices, axis=axis, mode=mode))
