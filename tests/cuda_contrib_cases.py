"""The CUDA kernels of the GluonNLP/GluonCV contrib ops (ops/cuda/resize.py, contrib_indexing.py, transformer.py)
against their CPU kernels: the forward ops on their spec rows' samples, the backward ops on a random head gradient,
float16/32/64 with req write and add, plus an edge case per op (borders and single pixels, repeated and fractional
indices, empty masks and axes, one head of one position). tests/cuda_cases.py compares the forward ops too, as for
every spec row; this file runs alone, in seconds.

Not collected by a plain `pytest` run: numba.cuda must be imported in simulator mode first.
tests/test_cuda_sim.py runs this file in a subprocess with NUMBA_ENABLE_CUDASIM=1.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ops import cuda as ops_cuda
from ops import registry
from ops.errors import MXNetError
from ops.registry import ADD, WRITE, OpContext
from tests.cuda_cases import close, run_gpu
from tests.op_specs import SPECS

pytestmark = pytest.mark.cuda

ops_cuda.register()
SPEC = {s.name: s for s in SPECS}
FORWARD = ("_contrib_BilinearResize2D", "_contrib_index_copy", "_contrib_index_array",
           "_contrib_interleaved_matmul_selfatt_qk", "_contrib_interleaved_matmul_selfatt_valatt",
           "_contrib_interleaved_matmul_encdec_qk", "_contrib_interleaved_matmul_encdec_valatt",
           "_contrib_div_sqrt_dim", "_contrib_arange_like")
# backward op -> (forward op, its inputs from (dy, the forward's inputs))
BACKWARD = {
    "_backward_contrib_BilinearResize2D": ("_contrib_BilinearResize2D", lambda dy, xs: [dy, xs[0]]),
    "_contrib_backward_index_copy": ("_contrib_index_copy", lambda dy, xs: [dy, xs[1], xs[2]]),
    "_contrib_backward_boolean_mask": ("_contrib_boolean_mask", lambda dy, xs: [dy] + list(xs)),
    "_backward_interleaved_matmul_selfatt_qk": ("_contrib_interleaved_matmul_selfatt_qk", lambda dy, xs: [dy] + xs),
    "_backward_interleaved_matmul_selfatt_valatt": ("_contrib_interleaved_matmul_selfatt_valatt",
                                                    lambda dy, xs: [dy] + xs),
    "_backward_interleaved_matmul_encdec_qk": ("_contrib_interleaved_matmul_encdec_qk", lambda dy, xs: [dy] + xs),
    "_backward_interleaved_matmul_encdec_valatt": ("_contrib_interleaved_matmul_encdec_valatt",
                                                   lambda dy, xs: [dy] + xs),
}
DTYPES = ("float16", "float32", "float64", "int32")


def test_the_contrib_kernels_are_listed():
    kinds = ops_cuda.register()
    assert all(kinds[name] == "cuda" for name in FORWARD + ("_contrib_boolean_mask",) + tuple(BACKWARD))
    listed = set(ops_cuda.resize.TESTED_THROUGH_GRADIENTS) | set(ops_cuda.contrib_indexing.TESTED_THROUGH_GRADIENTS) \
        | set(ops_cuda.transformer.TESTED_THROUGH_GRADIENTS)
    assert listed == set(BACKWARD)


def _shapes(opdef, p, inputs):
    if opdef.value_shapes is not None:                  # boolean_mask: the output's rows depend on index's values
        return opdef.value_shapes(p, inputs)
    from scheduler.graph import Node
    from scheduler.infer import apply_rule
    _, shapes = apply_rule(Node(opdef, opdef.name, params=p), [x.shape for x in inputs],
                           [None] * opdef.num_outputs(p), "shape")
    return shapes


def _dtypes(opdef, p, inputs):
    from scheduler.graph import Node
    from scheduler.infer import apply_rule
    return apply_rule(Node(opdef, opdef.name, params=p), [x.dtype for x in inputs], [None] * opdef.num_outputs(p),
                      "dtype")[1]


def _compare(name, p, inputs, rng, reqs=(WRITE, ADD)):
    """The CUDA kernel of `name` gives the CPU kernel's outputs, for each req."""
    opdef = registry.get(name)
    shapes, dtypes = _shapes(opdef, p, inputs), _dtypes(opdef, p, inputs)
    for req in reqs:
        init = [rng.uniform(-1, 1, s).astype(t) if req == ADD else np.zeros(s, t) for s, t in zip(shapes, dtypes)]
        want = [o.copy() for o in init]
        with np.errstate(all="ignore"):
            opdef.cpu(OpContext(), p, [x.copy() for x in inputs], want, [req] * len(want))
        got, _ = run_gpu(opdef, p, inputs, init, [req] * len(init), False)
        for k, (g, c) in enumerate(zip(got, want)):
            close(name, g, c, "%s output %d, req %s" % (name, k, req))


def _backward(name, attrs, inputs, rng):
    forward_name, arrange = BACKWARD[name]
    forward = registry.get(forward_name)
    p = forward.parse_params(attrs)
    dy = rng.standard_normal(_shapes(forward, p, inputs)[0]).astype(inputs[0].dtype)
    _compare(name, p, arrange(dy, list(inputs)), rng)


@pytest.mark.parametrize("name", FORWARD)
@pytest.mark.parametrize("dtype", DTYPES)
@settings(max_examples=4, derandomize=True, database=None)
@given(data=st.data())
def test_forward_kernel_matches_cpu(name, dtype, data):
    if dtype not in SPEC[name].dtypes:
        pytest.skip("%s takes %s only" % (name, SPEC[name].dtypes))
    attrs, inputs = SPEC[name].sample(data.draw, np.dtype(dtype))
    _compare(name, registry.get(name).parse_params(attrs), inputs, np.random.default_rng(0))


@pytest.mark.parametrize("name", sorted(BACKWARD))
@pytest.mark.parametrize("dtype", DTYPES)
@settings(max_examples=4, derandomize=True, database=None)
@given(data=st.data())
def test_backward_kernel_matches_cpu(name, dtype, data):
    if dtype not in SPEC[BACKWARD[name][0]].dtypes:
        pytest.skip("%s takes %s only" % (BACKWARD[name][0], SPEC[BACKWARD[name][0]].dtypes))
    attrs, inputs = SPEC[BACKWARD[name][0]].sample(data.draw, np.dtype(dtype))
    _backward(name, attrs, inputs, np.random.default_rng(1))


# ---- edge cases -------------------------------------------------------------------------------------------------
def _both_ways(name, attrs, inputs, rng=None):
    """The forward and (when it has one here) the backward kernel of the forward op `name` on one case."""
    rng = rng or np.random.default_rng(2)
    _compare(name, registry.get(name).parse_params(attrs), inputs, rng)
    for backward, (forward, _) in BACKWARD.items():
        if forward == name:
            _backward(backward, attrs, inputs, rng)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", ["single_row_to_many", "to_one_pixel", "downsample_corners", "like"])
def test_bilinear_resize_edges(dtype, case):
    """A one-pixel-high source (both source rows are the border), a 1x1 output, a downsampling with aligned corners
    and mode='like'."""
    x = np.random.default_rng(3).standard_normal({"single_row_to_many": (1, 2, 1, 3)}.get(case, (2, 1, 5, 4)))
    x = x.astype(dtype)
    attrs, inputs = {"single_row_to_many": ({"height": 4, "width": 7}, [x]),
                     "to_one_pixel": ({"height": 1, "width": 1}, [x]),
                     "downsample_corners": ({"height": 2, "width": 3, "align_corners": True}, [x]),
                     "like": ({"mode": "like"}, [x, np.zeros((3, 1, 7, 2), dtype)])}[case]
    _both_ways("_contrib_BilinearResize2D", attrs, inputs)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_index_copy_repeated_and_fractional_indices(dtype):
    """A repeated row keeps the last copy, float indices truncate toward zero (1.9 is row 1); the gradient of new
    reads every listed row, old's gradient zeroes each copied row once."""
    rng = np.random.default_rng(4)
    old, new = rng.integers(-5, 5, (5, 2, 3)).astype(dtype), rng.integers(-5, 5, (4, 2, 3)).astype(dtype)
    index = np.array([3.0, 1.9, 3.2, 0.0], np.float32)
    attrs, inputs = {}, [old, index, new]
    if dtype == "int32":
        _compare("_contrib_index_copy", registry.get("_contrib_index_copy").parse_params(attrs), inputs, rng)
    else:
        _both_ways("_contrib_index_copy", attrs, inputs, rng)


def test_index_copy_out_of_range_is_the_cpu_error():
    old, new = np.zeros((3, 2), np.float32), np.ones((1, 2), np.float32)
    opdef = registry.get("_contrib_index_copy")
    for index in (np.array([3], np.int64), np.array([np.nan], np.float32), np.array([-1], np.int32)):
        with pytest.raises(MXNetError, match=r"index_vector holds .*outside \[0, 3\)"):
            run_gpu(opdef, opdef.parse_params({}), [old, index, new], [np.zeros_like(old)], [WRITE], False)


@pytest.mark.parametrize("axes", [None, (), (-1, 0, -1), (2,)])
def test_index_array_axes(axes):
    """Every axis, no axis (a last dimension of 0: nothing to write), repeated and negative axes."""
    x = np.zeros((2, 3, 4), np.float32)
    attrs = {} if axes is None else {"axes": axes}
    opdef = registry.get("_contrib_index_array")
    p = opdef.parse_params(attrs)
    n = 3 if axes is None else len(axes)
    for req in (WRITE, ADD):
        init = np.arange(24 * n, dtype=np.int64).reshape(2, 3, 4, n) if req == ADD else np.zeros((2, 3, 4, n),
                                                                                                  np.int64)
        want = init.copy()
        opdef.cpu(OpContext(), p, [x], [want], [req])
        got, _ = run_gpu(opdef, p, [x], [init], [req], False)
        np.testing.assert_array_equal(got[0], want)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int32"])
@pytest.mark.parametrize("mask", [[0, 0, 0, 0], [1, 0, np.nan, 0], [0.5, -1, 1, 2]])
def test_boolean_mask_rows(dtype, mask):
    """No row kept (an empty output and a zero gradient), NaN and fractions as non-zero, every row kept."""
    rng = np.random.default_rng(5)
    data = rng.integers(-9, 9, (4, 3)).astype(dtype)
    inputs = [data, np.array(mask, np.float32)]
    _compare("_contrib_boolean_mask", registry.get("_contrib_boolean_mask").parse_params({}), inputs, rng)
    if dtype != "int32":
        _backward("_contrib_backward_boolean_mask", {}, inputs, rng)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind", ["selfatt", "encdec"])
def test_interleaved_one_head_one_position(dtype, kind):
    """One head, one position (of queries; several keys for encdec), and several heads with q_seq != k_seq."""
    rng = np.random.default_rng(6)
    for heads, q_seq, k_seq, batch, dim in ((1, 1, 3, 1, 2), (3, 2, 5, 2, 1)):
        if kind == "selfatt":
            qkv = rng.standard_normal((q_seq, batch, heads * 3 * dim)).astype(dtype)
            att = rng.standard_normal((batch * heads, q_seq, q_seq)).astype(dtype)
            qk, valatt = [qkv], [qkv, att]
        else:
            q = rng.standard_normal((q_seq, batch, heads * dim)).astype(dtype)
            kv = rng.standard_normal((k_seq, batch, heads * 2 * dim)).astype(dtype)
            att = rng.standard_normal((batch * heads, q_seq, k_seq)).astype(dtype)
            qk, valatt = [q, kv], [kv, att]
        _both_ways("_contrib_interleaved_matmul_%s_qk" % kind, {"heads": heads}, qk, rng)
        _both_ways("_contrib_interleaved_matmul_%s_valatt" % kind, {"heads": heads}, valatt, rng)


# ---- the whole GPU path: imperative calls and autograd on mx.gpu() against mx.cpu() ------------------------------
def test_autograd_on_gpu_matches_cpu():
    """An encoder-decoder attention block (scaled by div_sqrt_dim, weighted by arange_like), a resize and the row ops
    recorded on each device: the same outputs and
    gradients (the backward kernels run through autograd's gradient nodes)."""
    import dataflow as mx
    rng = np.random.default_rng(7)
    heads, dim = 2, 3
    values = {"q": rng.standard_normal((2, 3, heads * dim)), "kv": rng.standard_normal((4, 3, heads * 2 * dim)),
              "img": rng.standard_normal((1, 2, 3, 4)), "old": rng.standard_normal((5, 2)),
              "new": rng.standard_normal((2, 2))}

    def run(ctx):
        arrays = {k: mx.nd.array(v, ctx=ctx) for k, v in values.items()}
        for a in arrays.values():
            a.attach_grad()
        with mx.autograd.record():
            att = mx.nd.softmax(mx.nd.contrib.interleaved_matmul_encdec_qk(arrays["q"], arrays["kv"], heads=heads))
            context = mx.nd.contrib.interleaved_matmul_encdec_valatt(arrays["kv"], att, heads=heads)
            context = mx.nd.contrib.div_sqrt_dim(context) * mx.nd.contrib.arange_like(context, start=1.0, step=0.1)
            image = mx.nd.contrib.BilinearResize2D(arrays["img"], height=5, width=3)
            rows = mx.nd.contrib.index_copy(arrays["old"], mx.nd.array([4, 1], ctx=ctx), arrays["new"])
            kept = mx.nd.contrib.boolean_mask(rows, mx.nd.array([1, 0, 1, 1, 0], ctx=ctx))
            loss = (context ** 2).sum() + (image * image).sum() + (kept ** 3).sum()
        loss.backward()
        positions = mx.nd.contrib.index_array(arrays["img"], axes=(-1, 1))
        return [loss.asnumpy(), positions.asnumpy()] + [a.grad.asnumpy() for a in arrays.values()]
    for g, c in zip(run(mx.gpu()), run(mx.cpu())):
        np.testing.assert_allclose(g, c, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", ["int32", "float32", "float64"])
def test_div_sqrt_dim_and_arange_like_edges(dtype):
    """div_sqrt_dim over a last dim of 5: int32 divides by the truncated root 2, negatives toward zero (-7 -> -3);
    arange_like with a repeat longer than the array, along an axis, and a fractional step that an integer dtype
    truncates to 0 (a constant)."""
    x = np.arange(-7, 8, dtype=dtype).reshape(3, 5)
    _compare("_contrib_div_sqrt_dim", registry.get("_contrib_div_sqrt_dim").parse_params({}), [x],
             np.random.default_rng(8))
    for attrs in ({"start": 5.0, "step": 0.5, "repeat": 20}, {"start": 2.0, "step": 3.0, "axis": -1, "repeat": 2}):
        p = registry.get("_contrib_arange_like").parse_params(attrs)
        _compare("_contrib_arange_like", p, [x], np.random.default_rng(9))
