"""Record MXNet 1.9.1's numpy-mode shape, linalg and random behaviour where it differs from NumPy (or where NumPy 2
changed), for tests/test_numpy_op_shape.py.

Run with the oracle venv: `/work/mxvenv/bin/python reference/np_shape_fixtures.py`. Writes
tests/fixtures/mxnet-1.9.1/np_shape/cases.json: a dict of named cases, each {"inputs": ..., "outputs": ...} with
arrays as {"dtype": str, "shape": list, "data": flat list}, and errors as {"error": exception class name}."""
import json
import os

os.environ.setdefault("MXNET_MKLDNN_ENABLED", "0")

import numpy as onp  # noqa: E402
from mxnet import np, npx  # noqa: E402

npx.set_np()
OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "mxnet-1.9.1", "np_shape")
RS = onp.random.RandomState(8)


def encode(value):
    """A JSON-able form of an mx/NumPy array or scalar (or a tuple of them)."""
    if isinstance(value, (tuple, list)):
        return [encode(v) for v in value]
    if hasattr(value, "asnumpy"):
        value = value.asnumpy()
    value = onp.asarray(value)
    data = value.ravel().astype(onp.float64).tolist() if value.dtype.kind == "f" else value.ravel().tolist()
    return {"dtype": value.dtype.name, "shape": list(value.shape), "data": data}


def outcome(call, *args, **kwargs):
    """The encoded result of `call(*args, **kwargs)`, or the name of the exception it raises (MXNetError for
    MXNet's own)."""
    try:
        return encode(call(*args, **kwargs))
    except Exception as err:  # noqa: BLE001 - the class is the recorded outcome
        return {"error": type(err).__name__}


def delete_cases():
    """np.delete with index arrays holding negative and out-of-bounds entries (MXNet ignores those)."""
    cases = {}
    a = RS.uniform(-1, 1, (2, 5)).astype(onp.float32)
    for name, obj, axis in [("mixed", [-1, 1, 7], None), ("negative_only", [-1], None), ("axis1", [0, 0, 9, -2], 1),
                            ("axis0", [3, 1, -5], 0), ("repeats", [3, 1, 1], None)]:
        for dtype in ("int32", "int64"):
            cases["delete_%s_%s" % (name, dtype)] = {
                "inputs": {"a": encode(a), "obj": encode(onp.array(obj, dtype=dtype)), "axis": axis},
                "outputs": outcome(np.delete, np.array(a), np.array(obj, dtype=dtype), axis=axis)}
    cases["delete_lone_negative_index"] = {"inputs": {"a": encode(a), "obj": -1, "axis": 1},
                                           "outputs": outcome(lambda: np.delete(np.array(a), -1, axis=1))}
    return cases


def linalg_cases():
    cases = {}
    # tensorsolve: MXNet's x keeps all of a's axes when a.ndim == b.ndim
    for name, a_shape, b_shape in [("same_ndim", (1, 1, 1), (1, 1, 1)), ("b_wider", (1, 1), (1, 1, 1, 1, 1)),
                                   ("a_scalar", (), (1, 1, 1)), ("b_scalar", (1, 1, 1), ())]:
        a, b = onp.full(a_shape, 2.0, onp.float32), onp.full(b_shape, 3.0, onp.float32)
        cases["tensorsolve_" + name] = {"inputs": {"a": encode(a), "b": encode(b)},
                                        "outputs": outcome(np.linalg.tensorsolve, np.array(a), np.array(b))}
    # norm takes ord as the strings 'inf' / '-inf' as well
    x = RS.uniform(-3, 3, (2, 3, 4)).astype(onp.float32)
    for ord_, axis in [("inf", 1), ("-inf", 2), ("inf", (0, 2)), ("-inf", (1, 0))]:
        cases["norm_%s_%s" % (ord_, axis)] = {"inputs": {"x": encode(x), "ord": ord_, "axis": axis},
                                              "outputs": outcome(np.linalg.norm, np.array(x), ord_, axis)}
    # eigh / eigvalsh read one triangle of a non-symmetric input
    m = RS.uniform(-2, 2, (2, 4, 4)).astype(onp.float64)
    for uplo in ("L", "U"):
        cases["eigvalsh_" + uplo] = {"inputs": {"a": encode(m), "UPLO": uplo},
                                     "outputs": outcome(np.linalg.eigvalsh, np.array(m), UPLO=uplo)}
    # svd of arrays with no elements
    for shape in [(0, 1), (5, 0, 3, 3), (3, 3, 0, 0)]:
        cases["svd_empty_%s" % "x".join(map(str, shape))] = {
            "inputs": {"shape": list(shape)},
            "outputs": [list(r.shape) for r in np.linalg.svd(np.ones(shape))]}
    return cases


def manipulation_cases():
    cases = {}
    x = RS.uniform(size=(3, 4)).astype(onp.float32)
    t = RS.uniform(size=(2, 3, 4))
    for name, src, shape in [("lead", (5,), (3, 4, -2)), ("zero", (5,), (0, -2)), ("both", (1, 0), (2, -2, -2)),
                             ("middle", (3, 4), (1, 0, -2, 4))]:
        v = RS.uniform(size=src).astype(onp.float32)
        cases["broadcast_to_" + name] = {"inputs": {"a": encode(v), "shape": list(shape)},
                                         "outputs": outcome(np.broadcast_to, np.array(v), shape)}
    for name, call in [("transpose_negative", lambda: np.transpose(np.array(t), (-1, 1, 0))),
                       ("transpose_repeated", lambda: np.array(x).transpose((0, 0))),
                       ("transpose_out_of_range", lambda: np.array(x).transpose((0, 2))),
                       ("squeeze_zero_dim_axis_minus1", lambda: np.squeeze(np.array(1.5), -1)),
                       ("trace_zero_dim", lambda: np.trace(np.array(1.0))),
                       ("trace_one_dim", lambda: np.trace(np.ones(2))),
                       ("trace_same_axes", lambda: np.trace(np.ones((3, 2, 2)), axis1=1, axis2=1)),
                       ("trace_axis_out_of_range", lambda: np.trace(np.ones((3, 2, 2)), axis1=0, axis2=-4)),
                       ("eye_negative", lambda: np.eye(-1)),
                       ("eye_negative_m", lambda: np.eye(1, -1)),
                       ("diag_empty_k2", lambda: np.diag(np.array(()), 2)),
                       ("diag_empty_k-3", lambda: np.diag(np.array(()), -3)),
                       ("nonzero_zero_dim", lambda: npx.nonzero(np.array(5.0))),
                       ("nonzero_zero_dim_false", lambda: npx.nonzero(np.array(0.0))),
                       ("nonzero_2d", lambda: npx.nonzero(np.array([[0.0, 1.0], [2.0, 0.0]]))),
                       ("einsum_broadcast", lambda: np.einsum("ij, ij -> i", np.array([[1.0, 2.0, 3.0]]),
                                                              np.array([[1.0, 1.0, 1.0], [2.0, 0.0, -1.0]]))),
                       ("unique_inverse_flat", lambda: np.unique(np.array([[3.0, 1.0], [1.0, 2.0]]),
                                                                  return_inverse=True)[1])]:
        cases[name] = {"inputs": {}, "outputs": outcome(call)}
    cases["transpose_negative"]["inputs"] = {"a": encode(t), "axes": [-1, 1, 0]}
    return cases


def random_cases():
    """Which parameter values MXNet's samplers refuse (ValueError), and the shapes they give."""
    cases = {}
    for name, call in [("normal_negative_scale", lambda: np.random.normal(0.0, -1.0)),
                       ("normal_zero_scale", lambda: np.random.normal(0.0, 0.0)),
                       ("lognormal_negative_sigma", lambda: np.random.lognormal(0.0, -1.0)),
                       ("exponential_negative", lambda: np.random.exponential(-1.0)),
                       ("exponential_zero", lambda: np.random.exponential(0.0)),
                       ("exponential_negative_array", lambda: np.random.exponential(np.array([-1.0]))),
                       ("rayleigh_negative", lambda: np.random.rayleigh(-1.0)),
                       ("rayleigh_negative_array", lambda: np.random.rayleigh(np.array([-1.0]))),
                       ("gamma_zero_shape", lambda: np.random.gamma(0.0, 1.0)),
                       ("gamma_zero_scale_array", lambda: np.random.gamma(np.array([1.0]), np.array([0.0]))),
                       ("weibull_zero", lambda: np.random.weibull(0.0)),
                       ("weibull_negative_array", lambda: np.random.weibull(np.array([-1.0]))),
                       ("pareto_zero", lambda: np.random.pareto(0.0)),
                       ("bernoulli_prob_above_one", lambda: npx.random.bernoulli(prob=np.array([2.0]))),
                       ("bernoulli_both", lambda: npx.random.bernoulli(prob=0.5, logit=0.0))]:
        result = outcome(call)
        cases["random_" + name] = {"inputs": {}, "outputs": result if "error" in result else {"shape": result["shape"]}}
    for name, call in [("randn_float64", lambda: np.random.randn(2, 3, dtype="float64")),
                       ("rand_float16", lambda: np.random.rand(4, dtype="float16")),
                       ("uniform_n", lambda: npx.random.uniform_n(np.zeros(2), np.ones(2), batch_shape=(3,))),
                       ("normal_n_scalar_batch", lambda: npx.random.normal_n(batch_shape=6)),
                       ("bernoulli_logit", lambda: npx.random.bernoulli(logit=np.zeros((2, 3)), dtype="int32")),
                       ("multivariate_normal_batched", lambda: np.random.multivariate_normal(
                           np.zeros((3, 2)), np.broadcast_to(np.array([[1.0, 0.0], [0.0, 2.0]]), (4, 3, 2, 2)),
                           (2, 5)))]:
        result = outcome(call)
        cases["random_" + name] = {"inputs": {}, "outputs": result if "error" in result else
                                   {"shape": result["shape"], "dtype": result["dtype"]}}
    return cases


def main():
    cases = {}
    for part in (delete_cases, linalg_cases, manipulation_cases, random_cases):
        cases.update(part())
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(cases, f, indent=None, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
