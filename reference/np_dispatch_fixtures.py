"""Record MXNet 1.9.1's NumPy dispatch protocol facts for tests/test_numpy_dispatch_interop.py (run with the
oracle's python):

    MXNET_MKLDNN_ENABLED=0 /work/mxvenv/bin/python reference/np_dispatch_fixtures.py

Writes tests/fixtures/mxnet-1.9.1/np_dispatch/dispatch.json: MXNet's dispatch lists (`_NUMPY_ARRAY_FUNCTION_LIST`,
`_NUMPY_ARRAY_UFUNC_LIST`), `mx.np.fallback.__all__` and `mx.np.fallback_linalg.__all__`, and what official NumPy
functions return on mx.np arrays in a few cases (the interop test's workloads that failed here): each case's result
as a nested list with its dtype and shape and whether it came back as an mx.np array, or the exception's kind.
"""
import json
import os

import numpy as onp

import mxnet as mx
from mxnet import autograd
from mxnet.numpy_dispatch_protocol import _NUMPY_ARRAY_FUNCTION_LIST, _NUMPY_ARRAY_UFUNC_LIST

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "mxnet-1.9.1", "np_dispatch")
mx.npx.set_np()
np = mx.np


def _record(thunk):
    try:
        value = thunk()
    except Exception as e:  # noqa: BLE001 - the error kind is the fact recorded
        return {"error": type(e).__name__}
    items = value if isinstance(value, (list, tuple)) else [value]
    results = []
    for item in items:
        host = item.asnumpy() if isinstance(item, np.ndarray) else onp.asarray(item)
        results.append({"mx_array": isinstance(item, np.ndarray), "dtype": host.dtype.name,
                        "shape": list(host.shape), "value": onp.where(onp.isnan(host), None, host).tolist()
                        if host.dtype.kind == "f" else host.tolist(),
                        "signbit": onp.signbit(host).tolist() if host.dtype.kind == "f" else None})
    return {"container": type(value).__name__ if isinstance(value, (list, tuple)) else None, "results": results}


def _recording_fallback():
    x = np.array([1.0, 2.0])
    x.attach_grad()
    with autograd.record():
        return onp.nanmax(x * 2)


CASES = {
    "arctan2_signed_zeros": lambda: onp.arctan2(np.array([0.0, -0.0]), np.array([-0.0, -0.0])),
    "arctan2_zero_y_negative_x": lambda: onp.arctan2(np.array([0.0, -0.0]), np.array([-1.0, -1.0])),
    "arctan2_infinities": lambda: onp.arctan2(np.array([onp.inf, -onp.inf]), np.array([onp.inf, onp.inf])),
    "vstack_one_array": lambda: onp.vstack(np.ones((4, 1))),
    "hstack_one_array": lambda: onp.hstack(np.ones((4, 1))),
    "dstack_one_array": lambda: onp.dstack(np.ones((4, 1))),
    "vstack_one_empty_array": lambda: onp.vstack(np.ones((1, 1, 0))),
    "take_float_zero_dim_index": lambda: onp.take(np.arange(1, 25).reshape(2, 3, 4), np.array(1), axis=0),
    "array_uint8_wraps": lambda: np.array([1621], dtype="uint8"),
    "array_int8_wraps": lambda: np.array([300, -1], dtype="int8"),
    "ndarray_repeat_method": lambda: np.arange(5).repeat(2),
    "broadcast_arrays": lambda: onp.broadcast_arrays(np.ones((4, 1)), np.ones((1, 2))),
    "meshgrid": lambda: onp.meshgrid(np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0])),
    "linalg_eigh": lambda: onp.linalg.eigh(np.array(onp.diag((1.0, 2.0)))),
    "sum_dispatches": lambda: onp.sum(np.array([[1.0, 2.0], [3.0, 4.0]]), axis=0),
    "ldexp_on_host": lambda: onp.ldexp(np.array([2.0, 3.0]), np.array([3, 1], dtype="int32")),
    "nanmax_on_host": lambda: onp.nanmax(np.array([[1.0, onp.nan], [3.0, 0.5]]), axis=1),
    "add_reduce_not_dispatched": lambda: onp.add.reduce(np.array([1.0, 2.0])),
    "fallback_while_recording": _recording_fallback,
}

facts = {
    "function_list": list(_NUMPY_ARRAY_FUNCTION_LIST),
    "ufunc_list": list(_NUMPY_ARRAY_UFUNC_LIST),
    "fallback_all": list(np.fallback.__all__),
    "fallback_linalg_all": list(np.fallback_linalg.__all__),
    "cases": {name: _record(thunk) for name, thunk in CASES.items()},
}
os.makedirs(OUT, exist_ok=True)
with open(os.path.join(OUT, "dispatch.json"), "w") as fh:
    json.dump(facts, fh, indent=1, sort_keys=True)
    fh.write("\n")
