"""Op spec rows for the batched matrix products (batch_dot, linalg gemm/gemm2: ops/linalg.py) and the
normalisation ops and losses (LayerNorm, InstanceNorm, L2Normalization, LRN, softmax_cross_entropy, smooth_l1:
ops/norm.py); see tests/op_specs.py. References: tests/reference_linalg.py.

Golden shapes, aliases and error cases were checked on MXNet 1.9.1 (native CPU kernels) unless a case says it is
ours. Hidden outputs (LayerNorm's mean and std without output_mean_var, ...) are compared by the kernel tests too.
LayerNorm's sampler never sets output_mean_var: the numeric gradient check would then weight the mean and std
outputs, whose head gradients MXNet (and so this project) ignores; the flag only changes how many outputs are
visible (a golden attrs case covers its parsing). Import tests.op_specs, never this module first (op_specs appends
these rows at its end).
"""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ops.errors import DTypeError, ParamError
from tests import reference_linalg as R
from tests.op_specs import FLOATS, NUMERIC, SIDE, Err, OpSpec, Shp, array

F32_F64 = ("float32", "float64")
_MATMUL_TOL = {"float32": (1e-5, 1e-5), "float16": (2e-3, 2e-2)}
_NORM_TOL = {"float32": (1e-5, 1e-5), "float16": (2e-3, 4e-3)}


# ---- samplers ---------------------------------------------------------------------------------------------------
def _matrix(rows, cols, axis, batch, transpose):
    """The shape of a stack of (rows, cols) matrices (transposed if asked) with rows at `axis`."""
    r, c = (cols, rows) if transpose else (rows, cols)
    return tuple(batch[:axis]) + (r,) + tuple(batch[axis:]) + (c,)


def _transposes(draw):
    ta, tb = draw(st.booleans()), draw(st.booleans())
    attrs = {k: v for k, v in (("transpose_a", ta), ("transpose_b", tb)) if v or draw(st.booleans())}
    return ta, tb, attrs


def batch_dot_sample(draw, dtype):
    ta, tb, attrs = _transposes(draw)
    batch = tuple(draw(st.lists(SIDE, min_size=1, max_size=2)))
    m, k, n = draw(SIDE), draw(SIDE), draw(SIDE)
    axis = len(batch)
    return attrs, [array(draw, dtype, _matrix(m, k, axis, batch, ta), "unit"),
                   array(draw, dtype, _matrix(k, n, axis, batch, tb), "unit")]


def gemm_sample(with_c):
    def sample(draw, dtype):
        ta, tb, attrs = _transposes(draw)
        batch = tuple(draw(st.lists(SIDE, min_size=0, max_size=2)))
        ndim = len(batch) + 2
        axis = draw(st.integers(0, ndim - 2))
        if axis != ndim - 2 or draw(st.booleans()):
            attrs["axis"] = axis - ndim if draw(st.booleans()) else axis
        m, k, n = draw(SIDE), draw(SIDE), draw(SIDE)
        attrs["alpha"] = draw(st.sampled_from([1.0, 0.5, -2.0]))
        ins = [array(draw, dtype, _matrix(m, k, axis, batch, ta), "unit"),
               array(draw, dtype, _matrix(k, n, axis, batch, tb), "unit")]
        if with_c:
            attrs["beta"] = draw(st.sampled_from([1.0, 0.0, 3.0]))
            ins.append(array(draw, dtype, _matrix(m, n, axis, batch, False), "unit"))
        return attrs, ins
    return sample


def _eps(draw, attrs):
    eps = draw(st.sampled_from([None, 1e-3, 0.1]))
    if eps is not None:
        attrs["eps"] = eps


def layer_norm_sample(draw, dtype):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    attrs = {"axis": axis} if axis != -1 or draw(st.booleans()) else {}
    _eps(draw, attrs)
    c = shape[axis]
    return attrs, [array(draw, dtype, shape), array(draw, dtype, (c,), "unit"), array(draw, dtype, (c,), "unit")]


def instance_norm_sample(draw, dtype):
    shape = draw(hnp.array_shapes(min_dims=3, max_dims=4, min_side=1, max_side=4))
    attrs = {}
    _eps(draw, attrs)
    c = shape[1]
    return attrs, [array(draw, dtype, shape), array(draw, dtype, (c,), "unit"), array(draw, dtype, (c,), "unit")]


def group_norm_sample(draw, dtype):
    shape = list(draw(hnp.array_shapes(min_dims=3, max_dims=4, min_side=1, max_side=3)))
    groups = draw(st.integers(1, 3))
    shape[1] *= groups
    attrs = {"num_groups": groups} if groups != 1 or draw(st.booleans()) else {}
    _eps(draw, attrs)       # output_mean_var left out: mean and std get no gradient (MXNet's fixture checks them)
    return attrs, [array(draw, dtype, tuple(shape)), array(draw, dtype, (groups,), "unit"),
                   array(draw, dtype, (groups,), "unit")]


def l2_normalization_sample(draw, dtype):
    mode = draw(st.sampled_from(["instance", "channel", "spatial"]))
    shape = draw(hnp.array_shapes(min_dims=1 if mode == "instance" else 3, max_dims=4, min_side=1, max_side=4))
    attrs = {"mode": mode} if mode != "instance" or draw(st.booleans()) else {}
    if draw(st.booleans()):
        attrs["eps"] = draw(st.sampled_from([1e-10, 0.1]))
    # away from a zero norm, where the gradient is 1/sqrt(eps) large
    return attrs, [array(draw, dtype, shape, "nonzero")]


def lrn_sample(draw, dtype):
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 6)), draw(SIDE), draw(SIDE))
    attrs = {"nsize": draw(st.sampled_from([n for n in (1, 3, 5) if n <= shape[1]]))}
    for key, values in (("alpha", [1e-4, 0.5]), ("beta", [0.75, 0.5, 1.2]), ("knorm", [2.0, 1.0, 0.5])):
        if draw(st.booleans()):
            attrs[key] = draw(st.sampled_from(values))
    return attrs, [array(draw, dtype, shape, "unit")]


def softmax_cross_entropy_sample(draw, dtype):
    n, k = draw(SIDE), draw(st.integers(1, 5))
    labels = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, k - 1))).astype(dtype)
    return {}, [array(draw, dtype, (n, k)), labels]


def smooth_l1_sample(draw, dtype):
    attrs = {"scalar": draw(st.sampled_from([1.0, 2.0, 0.5, 1.5, -1.5]))} if draw(st.integers(0, 4)) else {}
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    return attrs, [array(draw, dtype, shape)]


# ---- rows --------------------------------------------------------------------------------------------------------
def _type_err(dtype, n_inputs):
    return Err({}, dtypes=(dtype,) + (None,) * (n_inputs - 1), exc=DTypeError, match=dtype)


SPECS = [
    # ---- batched matrix products ----
    OpSpec("batch_dot", R.batch_dot, batch_dot_sample, dtypes=FLOATS, aliases=("_npx_batch_dot",), tol=_MATMUL_TOL,
           attrs=(({"transpose_a": "True", "forward_stype": "None"}, {"transpose_a": True}),),
           errors=(Err({}, ((3, 4), (4, 5)), match=r"at least 3"),
                   Err({}, ((2, 6, 3, 4), (6, 4, 5)), match=r"\[2,6,3,4\].*\[6,4,5\].*same number of dim"),
                   Err({}, ((2, 3, 4), (3, 4, 5)), match=r"\[2,3,4\].*\[3,4,5\].*batch dims"),
                   Err({}, ((2, 3, 4), (2, 5, 5)), match=r"contracted dims differ \(4 vs 5\)"),
                   _type_err("int32", 2)),
           shapes=(Shp({}, ((2, 3, 4), (2, 4, 5)), ((2, 3, 5),)),
                   Shp({"transpose_a": True}, ((2, 4, 3), (2, 4, 5)), ((2, 3, 5),)),
                   Shp({"transpose_b": True}, ((2, 3, 4), (2, 5, 4)), ((2, 3, 5),)),
                   Shp({"transpose_a": True, "transpose_b": True}, ((2, 4, 3), (2, 5, 4)), ((2, 3, 5),)),
                   Shp({}, ((2, 6, 3, 4), (2, 6, 4, 5)), ((2, 6, 3, 5),)),
                   Shp({}, ((2, 3, 4), None), ((2, 3, 0),), want_ins=((2, 3, 4), (2, 4, 0))),          # ours
                   Shp({}, ((2, 3, 0), (2, 4, 5)), ((2, 3, 5),), want_ins=((2, 3, 4), (2, 4, 5)))),    # ours
           grad=True),
    OpSpec("_linalg_gemm", R.linalg_gemm, gemm_sample(True), dtypes=F32_F64, aliases=("linalg_gemm",),
           tol=_MATMUL_TOL,
           attrs=(({"alpha": "2.0", "beta": "10", "axis": "-3", "transpose_b": "1"},
                   {"alpha": 2.0, "beta": 10.0, "axis": -3, "transpose_b": True}),),
           errors=(Err({}, ((2, 3), (3, 4), (1, 4)), match=r"C \[1,4\].*rows of the output differ \(1 vs 2\)"),
                   Err({}, ((2, 3), (3, 4), (3, 2, 4)), match=r"same number of dim"),
                   _type_err("float16", 3)),
           shapes=(Shp({"transpose_a": True}, ((3, 2), (3, 4), None), ((2, 4),), want_ins=((3, 2), (3, 4), (2, 4))),
                   Shp({"axis": 1}, ((2, 3, 4, 5), (2, 5, 4, 3), None), ((2, 3, 4, 3),),
                       want_ins=((2, 3, 4, 5), (2, 5, 4, 3), (2, 3, 4, 3))),
                   Shp({}, (None, None, (2, 4)), ((2, 4),), want_ins=((2, 0), (0, 4), (2, 4)))),       # ours
           grad=True),
    OpSpec("_linalg_gemm2", R.linalg_gemm2, gemm_sample(False), dtypes=F32_F64, aliases=("linalg_gemm2",),
           tol=_MATMUL_TOL,
           errors=(Err({"axis": -1}, ((3, 3), (3, 3)), match=r"invalid row axis -1"),
                   Err({"axis": 2}, ((2, 3, 3), (2, 3, 3)), match=r"invalid row axis 2"),
                   Err({"axis": -4}, ((2, 3, 3), (2, 3, 3)), match=r"invalid row axis -4"),
                   Err({}, ((3,), (3,)), match=r"at least 2"),
                   Err({}, ((2, 3, 4), (1, 4, 5)), match=r"batch dims"),
                   _type_err("int32", 2)),
           shapes=(Shp({"axis": 1}, ((2, 3, 4, 5), (2, 5, 4, 3)), ((2, 3, 4, 3),)),
                   Shp({"axis": 0}, ((3, 2, 4, 5), (5, 2, 4, 3)), ((3, 2, 4, 3),)),
                   Shp({"axis": -4}, ((3, 2, 4, 5), (5, 2, 4, 3)), ((3, 2, 4, 3),)),
                   Shp({"axis": 0, "transpose_a": True}, ((5, 2, 4, 3), (5, 2, 4, 3)), ((3, 2, 4, 3),)),
                   Shp({"transpose_b": True}, ((2, 3, 4, 5), (2, 3, 4, 5)), ((2, 3, 4, 4),))),
           grad=True),
    # ---- normalisation ----
    OpSpec("LayerNorm", R.layer_norm, layer_norm_sample, dtypes=FLOATS, aliases=("_npx_layer_norm",), tol=_NORM_TOL,
           attrs=(({"axis": "1", "eps": "1e-05", "output_mean_var": "True"},
                   {"axis": 1, "eps": 1e-5, "output_mean_var": True}),),
           errors=(Err({"axis": 3}, ((2, 3, 4), None, None), match=r"axis=3.*\[2,3,4\]"),
                   Err({"axis": -4}, ((2, 3, 4), None, None), match=r"axis=-4"),
                   _type_err("int32", 3)),
           shapes=(Shp({}, ((2, 3, 4), None, None), ((2, 3, 4), (2, 3, 1), (2, 3, 1)),
                       want_ins=((2, 3, 4), (4,), (4,))),
                   Shp({"axis": 1}, ((2, 3, 4), None, None), ((2, 3, 4), (2, 1, 4), (2, 1, 4)),
                       want_ins=((2, 3, 4), (3,), (3,))),
                   Shp({"axis": -3}, ((2, 3, 4), None, None), ((2, 3, 4), (1, 3, 4), (1, 3, 4)),
                       want_ins=((2, 3, 4), (2,), (2,))),
                   Shp({}, ((5,), None, None), ((5,), (1,), (1,)), want_ins=((5,), (5,), (5,))),
                   Shp({}, (None, (4,), None), (None, None, None), want_ins=(None, (4,), (4,))),          # ours: beta
                   Shp({}, ((2, 3, 0), (4,), None), ((2, 3, 4), (2, 3, 1), (2, 3, 1)),
                       want_ins=((2, 3, 4), (4,), (4,)))),                                                 # ours
           grad=True),
    OpSpec("InstanceNorm", R.instance_norm, instance_norm_sample, dtypes=F32_F64, tol=_NORM_TOL,
           attrs=(({"eps": "0.001"}, {"eps": 1e-3}),),
           errors=(Err({}, ((2, 3), None, None), match=r"at least 3 dims.*\[2,3\]"),
                   _type_err("float16", 3)),
           shapes=(Shp({}, ((2, 3, 4), None, None), ((2, 3, 4), (2, 3), (2, 3)), want_ins=((2, 3, 4), (3,), (3,))),
                   Shp({}, ((2, 3, 4, 5, 2), None, None), ((2, 3, 4, 5, 2), (2, 3), (2, 3)),
                       want_ins=((2, 3, 4, 5, 2), (3,), (3,))),
                   Shp({}, ((2, 0, 4), (3,), None), ((2, 3, 4), (2, 3), (2, 3)),
                       want_ins=((2, 3, 4), (3,), (3,)))),                                                 # ours
           grad=True),
    OpSpec("GroupNorm", R.group_norm, group_norm_sample, dtypes=FLOATS, tol=_NORM_TOL,
           attrs=(({"num_groups": "4", "eps": "1e-05", "output_mean_var": "True"},
                   {"num_groups": 4, "eps": 1e-5, "output_mean_var": True}),),
           errors=(Err({"num_groups": 2}, ((2, 4),), match=r"at least 3 dims.*\[2,4\]"),
                   Err({"num_groups": 3}, ((2, 4, 3),), match=r"4 channels.*\[2,4,3\].*num_groups=3"),
                   _type_err("int32", 3)),
           # checked on MXNet 1.9.1: gamma and beta are (num_groups,), mean and std (N, num_groups)
           shapes=(Shp({"num_groups": 2, "output_mean_var": True}, ((2, 4, 3), None, None),
                       ((2, 4, 3), (2, 2), (2, 2)), want_ins=((2, 4, 3), (2,), (2,))),
                   Shp({}, ((2, 4, 3), None, None), ((2, 4, 3),), want_ins=((2, 4, 3), (1,), (1,))),
                   Shp({"num_groups": 2}, ((2, 4, 3, 2, 2), None, None), ((2, 4, 3, 2, 2),),
                       want_ins=((2, 4, 3, 2, 2), (2,), (2,)))),
           grad=True),
    OpSpec("L2Normalization", R.l2_normalization, l2_normalization_sample, dtypes=FLOATS, tol=_NORM_TOL,
           attrs=(({"mode": "spatial", "eps": "1e-10"}, {"mode": "spatial", "eps": 1e-10}),),
           errors=(Err({"mode": "channel"}, ((2, 3),), match=r"mode=channel.*\[2,3\]"),
                   Err({"mode": "spatial"}, ((5,),), match=r"mode=spatial"),
                   Err({"mode": "batch"}, exc=ParamError, match=r"batch.*mode"),
                   _type_err("int32", 1)),
           shapes=(Shp({}, ((2, 3, 4),), ((2, 3, 4), (2,))), Shp({}, ((5,),), ((5,), (5,))),
                   Shp({"mode": "channel"}, ((2, 3, 4, 5),), ((2, 3, 4, 5), (2, 20))),
                   Shp({"mode": "spatial"}, ((2, 3, 4, 5),), ((2, 3, 4, 5), (2, 3)))),
           grad=True),
    OpSpec("LRN", R.lrn, lrn_sample, dtypes=F32_F64, tol=_NORM_TOL,
           attrs=(({"nsize": "5", "alpha": "0.0001", "beta": "0.75", "knorm": "2"},
                   {"nsize": 5, "alpha": 1e-4, "beta": 0.75, "knorm": 2.0}),),
           errors=(Err({"nsize": 4}, ((2, 5, 3, 3),), match=r"nsize=4"),
                   Err({"nsize": 7}, ((2, 5, 3, 3),), match=r"nsize=7.*5 channels"),
                   Err({"nsize": 3}, ((2, 5, 3),), match=r"4-D.*\[2,5,3\]"),
                   Err({}, exc=ParamError, match=r"nsize"),
                   Err({"nsize": 3}, dtypes=("float16",), exc=DTypeError, match="float16")),
           shapes=(Shp({"nsize": 3}, ((2, 5, 3, 3),), ((2, 5, 3, 3), (2, 5, 3, 3))),),
           grad=True),
    # ---- losses ----
    OpSpec("softmax_cross_entropy", R.softmax_cross_entropy, softmax_cross_entropy_sample, dtypes=FLOATS,
           tol={"float32": (1e-5, 1e-5), "float16": (4e-3, 4e-3)},
           errors=(Err({}, ((2, 3, 4), None), match=r"2-D.*\[2,3,4\]"),
                   Err({}, ((3, 5), (4,)), match=r"\[3,5\].*\[4\].*batch size"),
                   Err({}, ((3, 5), (3, 5)), match=r"1-D.*\[3,5\]"),
                   _type_err("int32", 2)),
           shapes=(Shp({}, ((3, 5), (3,)), ((1,),)),
                   Shp({}, ((3, 5), None), ((1,),), want_ins=((3, 5), (3,))),                            # ours
                   Shp({}, (None, (3,)), ((1,),), want_ins=((3, 0), (3,)))),                            # ours
           grad=True, grad_inputs=("data",)),
    OpSpec("smooth_l1", R.smooth_l1, smooth_l1_sample, dtypes=NUMERIC, aliases=("_npx_smooth_l1",),
           attrs=(({"scalar": "2"}, {"scalar": 2.0}),),
           errors=(Err({"scalar": "sigma"}, ((2,),), exc=ParamError, match=r"sigma.*scalar"),),
           grad=True),
]

EXEMPT = {name: "internal to %s's gradient; checked through it in tests/test_gradients.py" % op for name, op in (
    ("_backward_batch_dot", "batch_dot"), ("_backward_linalg_gemm", "_linalg_gemm"),
    ("_backward_linalg_gemm2", "_linalg_gemm2"), ("_backward_LayerNorm", "LayerNorm"),
    ("_backward_InstanceNorm", "InstanceNorm"), ("_backward_GroupNorm", "GroupNorm"),
    ("_backward_L2Normalization", "L2Normalization"),
    ("_backward_LRN", "LRN"), ("_backward_softmax_cross_entropy", "softmax_cross_entropy"),
    ("_backward_smooth_l1", "smooth_l1"))}
