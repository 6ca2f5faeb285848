"""Op spec rows for broadcast_axis, shape_array, size_array, amp_cast, amp_multicast (ops/matrix.py), _linspace
(ops/init.py) and the deprecated row selectors batch_take, _onehot_encode, fill_element_0index (ops/indexing.py);
see tests/op_specs.py. References: tests/reference_matrix.py.

Golden shapes, dtypes and error cases were checked on MXNet 1.9.1 (native CPU kernels). Import tests.op_specs,
never this module first (op_specs appends these rows at its end).
"""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ops.errors import DTypeError, ParamError
from tests import reference_matrix as R
from tests.op_specs import ALL, FLOATS, NUMERIC, SHAPES, Err, OpSpec, Shp, array, same

_F32 = ("float32",)


def broadcast_axis_sample(draw, dtype):
    shape = list(draw(SHAPES))
    axes = sorted(draw(st.sets(st.integers(0, len(shape) - 1))))
    for a in axes:
        shape[a] = 1
    sizes = [draw(st.integers(1, 3)) for _ in axes]
    attrs = {"axis": tuple(axes), "size": tuple(sizes)} if axes or draw(st.booleans()) else {}
    return attrs, [array(draw, dtype, tuple(shape))]


def amp_cast_sample(draw, dtype):
    target = draw(st.sampled_from(("float16", "float32", "float64", "int32", "int64", "int8", "uint8")))
    # in-range values: C++ leaves out-of-range float -> int conversions undefined
    domain = "nonneg" if target == "uint8" and np.dtype(dtype).kind != "u" else "any"
    return {"dtype": target}, [array(draw, dtype, draw(SHAPES), domain)]


def amp_multicast_sample(draw, dtype):
    n = draw(st.integers(1, 3))
    dtypes = [dtype] + [np.dtype(draw(st.sampled_from(("float16", "float32", "float64", "int32")))) for _ in
                        range(n - 1)]
    attrs = {"num_outputs": n}
    if draw(st.booleans()):
        attrs["cast_narrow"] = draw(st.booleans())
    return attrs, [array(draw, t, draw(SHAPES)) for t in dtypes]


def linspace_sample(draw, dtype):
    start, stop = (draw(st.floats(-10, 10).map(lambda v: round(v, 2))) for _ in range(2))
    if np.dtype(dtype).kind == "u":
        start, stop = abs(start), abs(stop)
    # num >= 1: a 0 dim is an unknown shape to MXNet 1.x's symbolic inference (num=0: tests/test_new_ops.py)
    attrs = {"start": start, "stop": stop, "num": draw(st.integers(1, 6)), "dtype": np.dtype(dtype).name}
    if draw(st.booleans()):
        attrs["endpoint"] = draw(st.booleans())
    return attrs, []


def batch_take_sample(draw, dtype):
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=4))
    rows = int(np.prod(shape[:-1]))
    index_shape = draw(st.sampled_from([(rows,), (1, rows)]))
    indices = draw(hnp.arrays(np.int32, index_shape, elements=st.integers(-2, shape[-1] + 1)))   # out of range clips
    return {}, [array(draw, dtype, shape), indices]


def _float_indices(draw, n, k):
    """n float indices: in range, fractional (truncated), negative or past k (ignored)."""
    return draw(hnp.arrays(np.float32, (n,), elements=st.sampled_from([0.0, 1.0, k - 1.0, k - 0.5, k, k + 3.0,
                                                                      -1.0, -0.5])))


def onehot_sample(draw, dtype):
    n, k = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    return {}, [_float_indices(draw, n, k), array(draw, dtype, (n, k))]


def fill_element_sample(draw, dtype):
    n, k = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    return {}, [array(draw, dtype, (n, k)), array(draw, dtype, (n,)), _float_indices(draw, n, k)]


_F32_ERR = Err({}, dtypes=("float64", None, None), exc=DTypeError, match="float64")

SPECS = [
    OpSpec("broadcast_axis", R.broadcast_axis, broadcast_axis_sample, dtypes=ALL, aliases=("broadcast_axes",),
           grad=True,
           attrs=(({"axis": "(0, 2)", "size": "(3, 4)"}, {"axis": (0, 2), "size": (3, 4)}),
                  ({"axis": "1", "size": "2"}, {"axis": (1,), "size": (2,)})),
           errors=(Err({"axis": (-1,), "size": (3,)}, ((1, 2, 1),), match=r"axis -1.*\[1,2,1\]"),
                   Err({"axis": (3,), "size": (3,)}, ((1, 2, 1),), match=r"axis 3"),
                   Err({"axis": (1,), "size": (3,)}, ((1, 2, 1),), match=r"axis 1.*size 2"),
                   Err({"axis": (0,), "size": (3, 4)}, ((1, 2, 1),), match=r"same length"),
                   Err({"axis": (0, 0), "size": (3, 3)}, ((1, 2, 1),), match=r"axis 0")),
           shapes=(Shp({"axis": (0, 2), "size": (3, 4)}, ((1, 2, 1),), ((3, 2, 4),)),
                   Shp({"axis": (0,), "size": (3,)}, ((1, 2, 1),), ((3, 2, 1),)),
                   Shp({}, ((1, 2, 1),), ((1, 2, 1),)),
                   Shp({"axis": (0,), "size": (0,)}, ((1, 2, 1),), ((0, 2, 1),)),
                   Shp({"axis": (0, 2), "size": (3, 4)}, (None,), ((3, 2, 4),), outs=((3, 2, 4),),
                       want_ins=((1, 2, 1),)),                                                # ours: backwards
                   Shp({"axis": (0,), "size": (3,)}, ((0, 2, 1),), ((3, 2, 1),), want_ins=((1, 2, 1),)))),  # ours
    OpSpec("shape_array", R.shape_array, same(), dtypes=ALL,
           shapes=(Shp({}, ((2, 3, 4),), ((3,),)),)),
    OpSpec("size_array", R.size_array, same(), dtypes=ALL,
           shapes=(Shp({}, ((2, 3, 4),), ((1,),)),)),
    OpSpec("amp_cast", R.amp_cast, amp_cast_sample, dtypes=NUMERIC, grad=True,
           attrs=(({"dtype": "float16"}, {"dtype": np.dtype(np.float16)}),),
           errors=(Err({"dtype": "bfloat16"}, exc=ParamError, match="bfloat16"),
                   Err({}, exc=ParamError, match="dtype"))),
    OpSpec("amp_multicast", R.amp_multicast, amp_multicast_sample, dtypes=FLOATS + ("int32",),
           attrs=(({"num_outputs": "2", "cast_narrow": "True"}, {"num_outputs": 2, "cast_narrow": True}),),
           errors=(Err({}, exc=ParamError, match="num_outputs"),),
           shapes=(Shp({"num_outputs": 2}, ((2, 3), (4,)), ((2, 3), (4,))),)),
    OpSpec("_linspace", R.linspace, linspace_sample, dtypes=("float32", "float64", "float16", "int32", "int64"),
           tol={"float32": (1e-6, 1e-6)},
           attrs=(({"start": "0", "stop": "1", "num": "3", "endpoint": "True", "dtype": "float32"},
                   {"start": 0.0, "stop": 1.0, "num": 3, "endpoint": True, "dtype": np.dtype(np.float32)}),),
           errors=(Err({"start": 0, "stop": 1, "num": -1}, match="num=-1"),
                   Err({"start": 0, "num": 3}, exc=ParamError, match="stop"),
                   Err({"start": 0, "stop": 1}, exc=ParamError, match="num")),
           shapes=(Shp({"start": 0, "stop": 1, "num": 5}, (), ((5,),)),
                   Shp({"start": 0, "stop": 1, "num": 0}, (), ((0,),)))),
    OpSpec("batch_take", R.batch_take, batch_take_sample, dtypes=NUMERIC,
           errors=(Err({}, ((3, 2), (2,)), match=r"\[2\].*\[3,2\]"),
                   Err({}, ((3,), (3,)), match=r"at least 2 dims")),
           shapes=(Shp({}, ((3, 4), (3,)), ((3,),)), Shp({}, ((3, 4), None), (None,)))),
    OpSpec("_onehot_encode", R.onehot_encode, onehot_sample, dtypes=_F32,
           errors=(Err({}, ((1, 3), (3, 4)), match=r"1-D.*\[1,3\]"),
                   Err({}, dtypes=("float32", "int32"), exc=DTypeError, match="int32")),
           shapes=(Shp({}, ((3,), (3, 4)), ((3, 4),)),)),
    OpSpec("fill_element_0index", R.fill_element_0index, fill_element_sample, dtypes=_F32,
           errors=(Err({}, ((3, 4, 2), (3,), (3,)), match=r"2-D.*\[3,4,2\]"),
                   _F32_ERR),
           shapes=(Shp({}, ((3, 4), None, None), ((3, 4),), want_ins=((3, 4), (3,), (3,))),)),
]
