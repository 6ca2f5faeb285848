"""Op spec rows for ops/vision.py; see tests/op_specs.py. References: tests/reference_vision.py.

Golden shapes and error cases were checked on MXNet 1.9.1; its exact numbers and gradients are compared with
its fixture in tests/test_new_ops.py. Gradients are checked here where the op is smooth in the input: data of
ROIPooling (distinct values, so no ties), BilinearSampler and SpatialTransformer (linear in data; not in the grid,
which has kinks at whole pixel coordinates), and GridGenerator (linear). Import tests.op_specs, never this module
first (op_specs appends these rows at its end).
"""
import numpy as np
from hypothesis import strategies as st

from ops.errors import DTypeError, ParamError
from tests import reference_vision as R
from tests.op_specs import Err, OpSpec, Shp, array

_F = ("float32", "float64")
_TOL = {"float32": (1e-5, 1e-5)}


def _distinct(draw, dtype, shape):
    """Distinct values (a shuffled grid of multiples of 0.25): max pooling without ties."""
    n = int(np.prod(shape))
    return ((np.array(draw(st.permutations(range(n)))) - n // 2) * 0.25).astype(dtype).reshape(shape)


def roi_sample(draw, dtype):
    n, c, h, w = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(2, 6)), draw(st.integers(2, 6)))
    scale = draw(st.sampled_from([1.0, 0.5, 0.7]))
    n_rois = draw(st.integers(1, 3))
    coord = st.sampled_from([-2.0, 0.0, 1.0, 1.5, 2.5, 3.0, 5.0, 8.0, 12.0])
    rois = [[draw(st.sampled_from(list(range(n)) + [n, -1]))] + [draw(coord) for _ in range(4)]
            for _ in range(n_rois)]
    attrs = {"pooled_size": (draw(st.integers(1, 3)), draw(st.integers(1, 3))), "spatial_scale": scale}
    return attrs, [_distinct(draw, dtype, (n, c, h, w)), np.array(rois, dtype)]


def grid_sample(draw, dtype):
    if draw(st.booleans()):
        attrs = {"transform_type": "affine", "target_shape": (draw(st.integers(2, 4)), draw(st.integers(2, 4)))}
        return attrs, [array(draw, dtype, (draw(st.integers(1, 2)), 6), "unit")]
    shape = (draw(st.integers(1, 2)), 2, draw(st.integers(2, 4)), draw(st.integers(2, 4)))
    return {"transform_type": "warp"}, [array(draw, dtype, shape, "unit")]


def sampler_sample(draw, dtype):
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    data = array(draw, dtype, (n, c, draw(st.integers(1, 4)), draw(st.integers(1, 4))))
    grid = draw(st.lists(st.floats(-1.3, 1.3), min_size=n * 2 * 4, max_size=n * 2 * 4))
    attrs = {"cudnn_off": draw(st.sampled_from([None, True]))} if draw(st.booleans()) else {}
    return attrs, [data, np.array(grid, dtype).reshape(n, 2, 2, 2)]


def st_sample(draw, dtype):
    n = draw(st.integers(1, 2))
    data = array(draw, dtype, (n, draw(st.integers(1, 2)), draw(st.integers(2, 4)), draw(st.integers(2, 4))))
    loc = np.array([1, 0, 0, 0, 1, 0]) + np.array(draw(st.lists(st.floats(-0.5, 0.5), min_size=6 * n,
                                                                 max_size=6 * n))).reshape(n, 6)
    # sizes of 1 give NaN grids in MXNet (tests/test_new_ops.py)
    attrs = {"target_shape": (draw(st.integers(2, 3)), draw(st.integers(2, 3))), "transform_type": "affine",
             "sampler_type": "bilinear"}
    return attrs, [data, loc.astype(dtype)]


_ST = {"transform_type": "affine", "sampler_type": "bilinear"}

SPECS = [
    OpSpec("ROIPooling", R.roi_pooling, roi_sample, dtypes=_F, grad=True, grad_inputs=("data",),
           attrs=(({"pooled_size": "(2, 3)", "spatial_scale": "0.5"}, {"pooled_size": (2, 3), "spatial_scale": 0.5}),),
           errors=(Err({"pooled_size": (2, 2), "spatial_scale": 1}, ((2, 3, 8), (5, 5)), match=r"4-D.*\[2,3,8\]"),
                   Err({"pooled_size": (2, 2), "spatial_scale": 1}, ((2, 3, 8, 8), (5, 4)), match=r"5 columns"),
                   Err({"pooled_size": (2, 2), "spatial_scale": 1}, ((2, 3, 8, 8), (5,)), match=r"2-D.*\[5\]"),
                   Err({"pooled_size": (2,), "spatial_scale": 1}, ((2, 3, 8, 8), (5, 5)), match=r"pooled_size"),
                   Err({"pooled_size": (2, 2)}, exc=ParamError, match="spatial_scale"),
                   Err({"pooled_size": (2, 2), "spatial_scale": 1}, dtypes=("int32", None), exc=DTypeError,
                       match="int32")),
           shapes=(Shp({"pooled_size": (2, 3), "spatial_scale": 0.5}, ((2, 3, 8, 8), (5, 5)), ((5, 3, 2, 3),)),
                   Shp({"pooled_size": (2, 3), "spatial_scale": 0.5}, ((2, 3, 8, 8), None), ((0, 3, 2, 3),),
                       want_ins=((2, 3, 8, 8), (0, 5))))),
    OpSpec("GridGenerator", R.grid_generator, grid_sample, dtypes=_F, tol=_TOL, grad=True,
           attrs=(({"transform_type": "affine", "target_shape": "(3, 4)"},
                   {"transform_type": "affine", "target_shape": (3, 4)}),),
           errors=(Err({"transform_type": "affine"}, ((2, 6),), match=r"target_shape"),
                   Err({"transform_type": "affine", "target_shape": (3, 4)}, ((2, 5),), match=r"6 columns"),
                   Err({"transform_type": "warp"}, ((2, 3, 3, 4),), match=r"2 channels"),
                   Err({"transform_type": "shear"}, exc=ParamError, match="shear")),
           shapes=(Shp({"transform_type": "affine", "target_shape": (3, 4)}, ((2, 6),), ((2, 2, 3, 4),)),
                   Shp({"transform_type": "warp"}, ((2, 2, 3, 4),), ((2, 2, 3, 4),)))),
    OpSpec("BilinearSampler", R.bilinear_sampler, sampler_sample, dtypes=_F, tol=_TOL, grad=True,
           grad_inputs=("data",),
           errors=(Err({}, ((2, 3, 5, 6), (2, 3, 3, 4)), match=r"2 channels"),
                   Err({}, ((2, 3, 5), (2, 2, 3, 4)), match=r"4-D.*\[2,3,5\]"),
                   Err({}, dtypes=("int32", None), exc=DTypeError, match="int32")),
           shapes=(Shp({}, ((2, 3, 5, 6), (2, 2, 3, 4)), ((2, 3, 3, 4),)),
                   Shp({}, ((2, 3, 5, 6), None), ((2, 3, 0, 0),), want_ins=((2, 3, 5, 6), (2, 2, 0, 0))))),   # ours
    OpSpec("SpatialTransformer", R.spatial_transformer, st_sample, dtypes=_F, tol=_TOL, grad=True,
           grad_inputs=("data",),
           attrs=(({"target_shape": "(3, 4)", "transform_type": "affine", "sampler_type": "bilinear",
                    "cudnn_off": "None"},
                   {"target_shape": (3, 4), "transform_type": "affine", "sampler_type": "bilinear",
                    "cudnn_off": None}),),
           errors=(Err(_ST, ((2, 3, 5, 6), (2, 6)), match=r"target_shape"),
                   Err(dict(_ST, target_shape=(3, 4)), ((2, 3, 5, 6), (2, 5)), match=r"6 columns"),
                   Err(dict(_ST, target_shape=(3, 4)), ((2, 3, 5), (2, 6)), match=r"4-D.*\[2,3,5\]"),
                   Err({"target_shape": (3, 4), "transform_type": "affine"}, exc=ParamError, match="sampler_type"),
                   Err(dict(_ST, target_shape=(3, 4)), dtypes=("int32", None), exc=DTypeError, match="int32")),
           shapes=(Shp(dict(_ST, target_shape=(3, 4)), ((2, 3, 5, 6), None), ((2, 3, 3, 4),),
                       want_ins=((2, 3, 5, 6), (2, 6))),)),
]

EXEMPT = {name: "internal to %s's gradient; checked through it (tests/test_gradients.py, MXNet's fixture in "
                "tests/test_new_ops.py)" % name[len("_backward_"):]
          for name in ("_backward_ROIPooling", "_backward_GridGenerator", "_backward_BilinearSampler",
                       "_backward_SpatialTransformer")}


# ---- _contrib_SyncBatchNorm (ops/contrib_ops.py): BatchNorm over axis 1 whose var output is the variance ----
# The kernel table runs is_train=False (the moving statistics); training against MXNet: tests/test_gluoncv.py.
def _sync_bn_sample(draw, dtype):
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 4))) + tuple(draw(st.lists(st.integers(1, 4), max_size=2)))
    attrs = draw(st.fixed_dictionaries({"key": st.just("bn0")},
                                       optional={"fix_gamma": st.booleans(), "use_global_stats": st.booleans(),
                                                 "output_mean_var": st.booleans(), "eps": st.just(1e-5)}))
    c = shape[1]
    gamma, beta, mean = (array(draw, dtype, (c,), "unit") for _ in range(3))
    return attrs, [array(draw, dtype, shape), gamma, beta, mean, array(draw, dtype, (c,), "nonneg")]


def _sync_bn_ref(p, x, gamma, beta, moving_mean, moving_var):
    """Inference: (x - moving_mean) / sqrt(moving_var + eps) * gamma + beta; mean and var outputs hold the moving
    statistics, the hidden output 1/sqrt(moving_var + eps)."""
    channel = (1, -1) + (1,) * (x.ndim - 2)
    invstd = 1 / np.sqrt(moving_var.astype(np.float64) + p.eps)
    scale = invstd if p.fix_gamma else invstd * gamma
    y = (x.astype(np.float64) - moving_mean.reshape(channel)) * scale.reshape(channel) + beta.reshape(channel)
    return y.astype(x.dtype), moving_mean.copy(), moving_var.copy(), invstd.astype(x.dtype)


SPECS.append(
    OpSpec("_contrib_SyncBatchNorm", _sync_bn_ref, _sync_bn_sample, dtypes=_F, tol=_TOL,
           attrs=(({"key": "bn0", "ndev": "2", "eps": "1e-05", "fix_gamma": "False"},
                   {"key": "bn0", "ndev": 2, "eps": 1e-5, "momentum": 0.9, "fix_gamma": False,
                    "use_global_stats": False, "output_mean_var": False}),),
           errors=(Err({}, ((2, 3, 4), None, None, None, None), exc=ParamError, match="key"),
                   Err({"key": "k"}, ((4,), None, None, None, None), match=r"axis.*\[4\]"),
                   Err({"key": "k"}, dtypes=("int32", None, None, None, None), exc=DTypeError, match="int32")),
           shapes=(Shp({"key": "k"}, ((2, 3, 4, 5), None, None, None, None), ((2, 3, 4, 5),),
                       want_ins=((2, 3, 4, 5), (3,), (3,), (3,), (3,))),
                   Shp({"key": "k", "output_mean_var": True}, ((2, 3), None, None, None, None),
                       ((2, 3), (3,), (3,)), want_ins=((2, 3), (3,), (3,), (3,), (3,))))))
