"""Record which calls MXNet 1.9.1 refuses, and what the calls it accepts return, for tests/test_mxnet_errors.py
(run with the oracle's python).

    MXNET_MKLDNN_ENABLED=0 /work/mxvenv/bin/python reference/errors_fixtures.py

Writes tests/fixtures/mxnet-1.9.1/errors/behaviour.json: {case name: {"expr": the Python expression, "outcome":
"error" | "value", and for an error the exception's class name, its MXNet family ("MXNetError" when it is one)
and its first line; for a value its shape, dtype and values as a list}}. The same expressions run on dataflow in
the tests (with `mx` and `np` bound), so each case is one row of CASES below.
"""
import json
import os
import warnings

import numpy as np

import mxnet as mx

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "mxnet-1.9.1", "errors")

# name -> expression (evaluated with mx and np in scope). Each returns an NDArray (or a list of them) or raises.
CASES = {
    # diag: k beyond the matrix
    "diag_k_in_range": "mx.nd.diag(mx.nd.arange(12).reshape((3, 4)), k=3)",
    "diag_k_below_range": "mx.nd.diag(mx.nd.arange(12).reshape((3, 4)), k=-2)",
    "diag_k_too_large": "mx.nd.diag(mx.nd.arange(12).reshape((3, 4)), k=4)",
    "diag_k_too_small": "mx.nd.diag(mx.nd.arange(12).reshape((3, 4)), k=-3)",
    "diag_3d_k_too_large": "mx.nd.diag(mx.nd.arange(24).reshape((2, 3, 4)), k=4)",
    "diag_1d_large_k": "mx.nd.diag(mx.nd.arange(2), k=3)",
    "diag_k_far": "mx.nd.diag(mx.nd.arange(12).reshape((3, 4)), k=10)",
    "diag_3d_k_edge": "mx.nd.diag(mx.nd.arange(24).reshape((2, 3, 4)), k=3)",
    "diag_3d_k_below": "mx.nd.diag(mx.nd.arange(24).reshape((2, 3, 4)), k=-3)",
    "diag_3d_axes_k_too_large": "mx.nd.diag(mx.nd.arange(24).reshape((2, 3, 4)), k=2, axis1=0, axis2=2)",
    # depth_to_space / space_to_depth
    "depth_to_space_ok": "mx.nd.depth_to_space(mx.nd.arange(32).reshape((1, 8, 2, 2)), block_size=2)",
    "depth_to_space_indivisible": "mx.nd.depth_to_space(mx.nd.arange(24).reshape((1, 6, 2, 2)), block_size=2)",
    "depth_to_space_block_zero": "mx.nd.depth_to_space(mx.nd.arange(32).reshape((1, 8, 2, 2)), block_size=0)",
    "depth_to_space_block_negative": "mx.nd.depth_to_space(mx.nd.arange(32).reshape((1, 8, 2, 2)), block_size=-2)",
    "depth_to_space_3d": "mx.nd.depth_to_space(mx.nd.arange(32).reshape((8, 2, 2)), block_size=2)",
    "space_to_depth_ok": "mx.nd.space_to_depth(mx.nd.arange(32).reshape((1, 2, 4, 4)), block_size=2)",
    "space_to_depth_indivisible": "mx.nd.space_to_depth(mx.nd.arange(18).reshape((1, 2, 3, 3)), block_size=2)",
    "space_to_depth_block_zero": "mx.nd.space_to_depth(mx.nd.arange(32).reshape((1, 2, 4, 4)), block_size=0)",
    "space_to_depth_block_negative": "mx.nd.space_to_depth(mx.nd.arange(32).reshape((1, 2, 4, 4)), block_size=-1)",
    "space_to_depth_3d": "mx.nd.space_to_depth(mx.nd.arange(32).reshape((2, 4, 4)), block_size=2)",
    # zero-size and negative shapes at creation
    "zeros_zero_rows": "mx.nd.zeros((0, 3))",
    "zeros_zero_int": "mx.nd.zeros(0)",
    "ones_zero_rows": "mx.nd.ones((0, 3))",
    "empty_zero_rows": "mx.nd.empty((0, 3))",
    "full_zero_rows": "mx.nd.full((0, 3), 7)",
    "array_empty_list": "mx.nd.array([])",
    "array_empty_2d": "mx.nd.array(np.zeros((0, 3)))",
    "zeros_negative": "mx.nd.zeros((-1, 3))",
    "ones_negative": "mx.nd.ones((2, -3))",
    "empty_negative": "mx.nd.empty((-1, 3))",
    "full_negative": "mx.nd.full((-1, 3), 1)",
    "internal_zeros_negative": "mx.nd._internal._zeros(shape=(-1, 3))",
    "internal_full_zero_rows": "mx.nd._internal._full(shape=(0, 3), value=1)",
    "random_uniform_zero_rows": "mx.nd.random.uniform(shape=(0, 3))",
    "linspace_zero": "mx.nd.linspace(0, 1, 0)",
    # storage types
    "zeros_stype_bogus": "mx.nd.zeros((2, 2), stype='foo')",
    "zeros_stype_default": "mx.nd.zeros((2, 2), stype='default')",
    "tostype_bogus": "mx.nd.zeros((2, 2)).tostype('foo')",
    "tostype_default": "mx.nd.ones((2, 2)).tostype('default')",
    # arange
    "arange_step_zero": "mx.nd.arange(0, 10, 0)",
    "arange_empty": "mx.nd.arange(5, 0)",
    "arange_negative_step": "mx.nd.arange(5, 0, -1)",
    "arange_repeat": "mx.nd.arange(0, 3, repeat=2)",
    "arange_repeat_zero": "mx.nd.arange(0, 3, repeat=0)",
    "arange_int_dtype": "mx.nd.arange(0, 5, 2, dtype='int32')",
    # dtypes
    "zeros_dtype_bogus": "mx.nd.zeros((2,), dtype='bogus')",
    "ones_dtype_bogus": "mx.nd.ones((2,), dtype='bogus')",
    "empty_dtype_bogus": "mx.nd.empty((2,), dtype='bogus')",
    "full_dtype_bogus": "mx.nd.full((2,), 1, dtype='bogus')",
    "array_dtype_bogus": "mx.nd.array([1, 2], dtype='bogus')",
    "astype_bogus": "mx.nd.ones((2,)).astype('bogus')",
    "cast_bogus": "mx.nd.Cast(mx.nd.ones((2,)), dtype='bogus')",
    "zeros_dtype_complex": "mx.nd.zeros((2,), dtype='complex64')",
    "zeros_dtype_np_int64": "mx.nd.zeros((2,), dtype=np.int64)",
    # params given as numpy integers and arrays
    "transpose_np_int_axes": "mx.nd.transpose(mx.nd.arange(6).reshape((2, 3)), axes=(np.int64(1), np.int64(0)))",
    "transpose_np_array_axes": "mx.nd.transpose(mx.nd.arange(6).reshape((2, 3)), axes=np.array([1, 0]))",
    "sum_np_int_axis": "mx.nd.sum(mx.nd.arange(6).reshape((2, 3)), axis=np.int64(1))",
    "sum_np_tuple_axis": "mx.nd.sum(mx.nd.arange(6).reshape((2, 3)), axis=(np.int64(1),))",
    "sum_np_array_axis": "mx.nd.sum(mx.nd.arange(6).reshape((2, 3)), axis=np.array([1]))",
    "expand_dims_np_int": "mx.nd.expand_dims(mx.nd.arange(6), axis=np.int64(0))",
    "reshape_np_array_shape": "mx.nd.reshape(mx.nd.arange(6), shape=np.array([2, 3]))",
    "reshape_np_int_tuple": "mx.nd.reshape(mx.nd.arange(6), shape=(np.int64(3), np.int64(2)))",
    "method_reshape_np_array": "mx.nd.arange(6).reshape(np.array([3, 2]))",
    "zeros_np_array_shape": "mx.nd.zeros(np.array([2, 3]))",
    "zeros_np_int_shape": "mx.nd.zeros((np.int64(2), np.int32(3)))",
    "ones_np_array_shape": "mx.nd.ones(np.array([2, 3]))",
    "full_np_array_shape": "mx.nd.full(np.array([2, 3]), 1)",
    "empty_np_array_shape": "mx.nd.zeros(mx.nd.empty(np.array([2, 3])).shape)",
    "internal_zeros_np_array": "mx.nd._internal._zeros(shape=np.array([2, 3]))",
    "broadcast_to_np_array": "mx.nd.broadcast_to(mx.nd.ones((1, 3)), shape=np.array([2, 3]))",
    "tile_np_array_reps": "mx.nd.tile(mx.nd.arange(3), reps=np.array([2]))",
    "slice_axis_np_int": "mx.nd.slice_axis(mx.nd.arange(6), axis=np.int64(0), begin=np.int64(1), end=np.int64(4))",
    "slice_np_tuple": "mx.nd.slice(mx.nd.arange(6), begin=(np.int64(1),), end=(np.int64(4),))",
    "one_hot_np_depth": "mx.nd.one_hot(mx.nd.array([0, 2]), depth=np.int64(3))",
    "squeeze_np_axis": "mx.nd.squeeze(mx.nd.ones((2, 1, 3)), axis=np.int64(1))",
    # inplace= on the Python wrappers of flatten and squeeze (their fluent methods)
    "flatten_method_inplace": "mx.nd.ones((2, 3, 4)).flatten(inplace=True)",
    "squeeze_method_inplace": "mx.nd.ones((2, 1, 3)).squeeze(inplace=True)",
    "flatten_function_inplace": "mx.nd.flatten(mx.nd.ones((2, 3, 4)), inplace=True)",
    "Flatten_function_inplace": "mx.nd.Flatten(mx.nd.ones((2, 3, 4)), inplace=True)",
    "squeeze_function_inplace": "mx.nd.squeeze(mx.nd.ones((2, 1, 3)), inplace=True)",
    "expand_dims_method_inplace": "mx.nd.ones((2, 3)).expand_dims(1, inplace=True)",
    "Flatten_unknown_kwarg": "mx.nd.Flatten(mx.nd.ones((2, 3, 4)), foo=1)",
    "relu_unknown_kwarg": "mx.nd.relu(mx.nd.ones((2,)), foo=1)",
    "negative_unknown_kwarg": "mx.nd.negative(mx.nd.ones((2,)), foo=1)",
    # take: axis and mode
    "take_axis_neg1_clip": "mx.nd.take(mx.nd.arange(12).reshape((3, 4)), mx.nd.array([0, 5, -1]), axis=-1)",
    "take_axis_neg1_wrap": "mx.nd.take(mx.nd.arange(12).reshape((3, 4)), mx.nd.array([0, 5, -1]), axis=-1, "
                           "mode='wrap')",
    "take_axis_neg2_wrap": "mx.nd.take(mx.nd.arange(12).reshape((3, 4)), mx.nd.array([[0, 4], [-1, 2]]), axis=-2, "
                           "mode='wrap')",
    "take_axis1_clip": "mx.nd.take(mx.nd.arange(12).reshape((3, 4)), mx.nd.array([-3, 9]), axis=1, mode='clip')",
    "take_axis_raise_in_range": "mx.nd.take(mx.nd.arange(12).reshape((3, 4)), mx.nd.array([1, 2]), axis=1, "
                                "mode='raise')",
    "take_axis_out_of_range": "mx.nd.take(mx.nd.arange(12).reshape((3, 4)), mx.nd.array([1]), axis=2)",
    "take_axis_neg_out_of_range": "mx.nd.take(mx.nd.arange(12).reshape((3, 4)), mx.nd.array([1]), axis=-3)",
    "take_bad_mode": "mx.nd.take(mx.nd.arange(12).reshape((3, 4)), mx.nd.array([1]), mode='bogus')",
    # ctx given as a string
    "internal_zeros_ctx_string": "mx.nd._internal._zeros(shape=(2,), ctx='cpu(0)')",
    "zeros_ctx_string": "mx.nd.zeros((2,), ctx='cpu(0)')",
    "ones_ctx_string": "mx.nd.ones((2,), ctx='cpu(0)')",
    "arange_ctx_string": "mx.nd.arange(3, ctx='cpu(0)')",
    "array_ctx_string": "mx.nd.array([1, 2], ctx='cpu(0)')",
    "internal_arange_ctx_string": "mx.nd._internal._arange(start=0, stop=3, ctx='cpu(0)')",
    "zeros_ctx_bogus_string": "mx.nd.zeros((2,), ctx='tpu(0)')",
    # silent kernels on inf * 0 and 0 ** -1
    "mul_inf_zero": "mx.nd.array([np.inf, 1]) * mx.nd.array([0, 2])",
    "power_zero_negative": "mx.nd.array([0, 2]) ** -1",
    "rpower_zero": "0 ** mx.nd.array([-1, 2])",
    "div_zero_zero": "mx.nd.array([0, 1]) / mx.nd.array([0, 0])",
    "sqrt_negative": "mx.nd.sqrt(mx.nd.array([-1, 4]))",
    "log_zero_negative": "mx.nd.log(mx.nd.array([0, -1, 1]))",
    "inf_minus_inf": "mx.nd.array([np.inf]) - mx.nd.array([np.inf])",
    "broadcast_power_zero": "mx.nd.broadcast_power(mx.nd.array([0, 0]), mx.nd.array([-1, -2]))",
    "mod_zero": "mx.nd.array([1, 2]) % 0",
}


def _jsonable(value):
    a = value.asnumpy()
    listed = [None if np.isnan(v) else ("inf" if v == np.inf else "-inf" if v == -np.inf else v)
              for v in a.astype(np.float64).ravel().tolist()] if a.dtype.kind == "f" else a.ravel().tolist()
    return {"outcome": "value", "shape": list(a.shape), "dtype": a.dtype.name, "values": listed}


def run_case(expr):
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = eval(expr, {"mx": mx, "np": np})
            if isinstance(value, (list, tuple)):
                value = value[0]
            result = _jsonable(value)
        result["runtime_warnings"] = sorted({str(w.message) for w in caught if w.category is RuntimeWarning})
        return result
    except Exception as err:        # the exception itself is the fact recorded
        return {"outcome": "error", "type": type(err).__name__,
                "mxnet_error": isinstance(err, mx.base.MXNetError), "message": _message(err)}


def _message(err):
    """The line that says what went wrong: MXNet's messages open with a C++ traceback."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    said = [line for line in lines if line.startswith("MXNetError:")]
    return (said or lines or [""])[0][:300]


def executor_backward():
    """Executor.backward of y = 2 x (not a loss) with out_grads None, [] and [ones * 3]: x's gradient each time."""
    x = mx.sym.var("x")
    exe = (x * 2).simple_bind(mx.cpu(), x=(3,))
    exe.arg_dict["x"][:] = 1
    facts = {}
    for name, out_grads in [("none", None), ("empty_list", []), ("given", [mx.nd.ones((3,)) * 3])]:
        exe.forward(is_train=True)
        try:
            exe.backward(out_grads=out_grads)
            facts[name] = {"outcome": "value", "grad": exe.grad_dict["x"].asnumpy().tolist()}
        except Exception as err:        # the exception itself is the fact recorded
            facts[name] = {"outcome": "error", "type": type(err).__name__, "message": _message(err)}
    return facts


def main():
    os.makedirs(OUT, exist_ok=True)
    facts = {}
    for name, expr in CASES.items():
        facts[name] = dict(expr=expr, **run_case(expr))
    facts["executor_backward"] = executor_backward()
    with open(os.path.join(OUT, "behaviour.json"), "w") as f:
        json.dump(facts, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
