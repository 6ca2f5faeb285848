"""Op spec rows for the reduce family: nansum, nanprod, argmax, argmin, argmax_channel, topk, sort, argsort; see
tests/op_specs.py (which also holds the rows of sum, mean, prod, max, min and norm). References:
tests/reference_reduce.py. Golden shapes, aliases and error cases were checked on MXNet 1.9.1.

Ties: argmax and the ordering ops have a defined answer at ties (the first occurrence; a stable sort), so their
forward samples draw small integer values with many ties. float64, the dtype of the gradient check, draws distinct
values half a unit apart instead: a tie, or values within the check's step of each other, is a kink.
Import tests.op_specs, never this module first (op_specs appends these rows at its end).
"""
import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ops.errors import DTypeError, ParamError
from tests import reference_reduce as R
from tests.op_specs import SHAPES, Err, OpSpec, Shp, reduce_sample

INDEX_DTYPES = ("float16", "float32", "float64", "int32", "int64", "uint8")


# ---- samplers ---------------------------------------------------------------------------------------------------
def nan_reduce_sample(domain="any"):
    """A reduction's attrs and data; float data gets NaNs in some places (whole lanes among them, sometimes)."""
    def sample(draw, dtype):
        attrs, (x,) = reduce_sample(draw, dtype, domain)
        if x.dtype.kind == "f":
            holes = draw(hnp.arrays(np.bool_, x.shape, elements=st.sampled_from([False, False, True])))
            x = np.where(holes, np.nan, x).astype(x.dtype)
        return attrs, [x]
    return sample


def ordered_values(draw, dtype, shape):
    """Data for the index and ordering ops: ties (small integers) or, for float64, distinct values 0.5 apart."""
    dtype = np.dtype(dtype)
    n = math.prod(shape)
    if dtype == np.float64:
        order = np.array(draw(st.permutations(range(n))), dtype=np.float64)
        return ((order - n // 2) * 0.5).reshape(shape)
    lo = 0 if dtype.kind == "u" else -3
    return draw(hnp.arrays(np.int64, shape, elements=st.integers(lo, lo + 6))).astype(dtype)


def _axis_or_none(draw, ndim):
    return draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1)))


def arg_sample(draw, dtype):
    shape = draw(SHAPES)
    attrs = {"keepdims": draw(st.booleans())}
    axis = _axis_or_none(draw, len(shape))
    if axis is not None:
        attrs["axis"] = axis
    return attrs, [ordered_values(draw, dtype, shape)]


def argmax_channel_sample(draw, dtype):
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=4))
    return {}, [ordered_values(draw, dtype, shape)]


def topk_sample(draw, dtype):
    shape = draw(SHAPES)
    axis = _axis_or_none(draw, len(shape))
    n = math.prod(shape) if axis is None else shape[axis]
    attrs = {"axis": axis, "k": draw(st.one_of(st.integers(1, n), st.sampled_from([0, -1]))),
             "ret_typ": draw(st.sampled_from(["value", "indices", "both", "mask"])),
             "is_ascend": draw(st.booleans()), "dtype": draw(st.sampled_from(INDEX_DTYPES))}
    if axis == -1 and draw(st.booleans()):
        del attrs["axis"]                                  # the default
    return attrs, [ordered_values(draw, dtype, shape)]


def sort_sample(with_dtype=False):
    def sample(draw, dtype):
        shape = draw(SHAPES)
        attrs = {"axis": _axis_or_none(draw, len(shape)), "is_ascend": draw(st.booleans())}
        if with_dtype:
            attrs["dtype"] = draw(st.sampled_from(INDEX_DTYPES))
        return attrs, [ordered_values(draw, dtype, shape)]
    return sample


# ---- the rows ---------------------------------------------------------------------------------------------------
_NO_BOOL = Err({}, dtypes=("bool",), exc=DTypeError, match="bool")
_F32_PROD = {"float32": (2e-5, 1e-6)}        # a product of up to 256 factors, rounded at each step

SPECS = [
    OpSpec("nansum", R.nansum, nan_reduce_sample(), grad=True,
           errors=(Err({"axis": (3,)}, ((2, 3),), match="axis 3"),),
           shapes=(Shp({}, ((2, 3),), ((1,),)), Shp({"axis": 1, "exclude": True}, ((2, 3),), ((3,),)),
                   Shp({"axis": (0, 1), "keepdims": True}, ((2, 3),), ((1, 1),)))),
    OpSpec("nanprod", R.nanprod, nan_reduce_sample("nonzero"), grad=True, tol=_F32_PROD,
           errors=(Err({"axis": (0, -2)}, ((2, 3),), match="twice"),)),
    OpSpec("argmax", R.argmax, arg_sample, grad=True,
           attrs=(({"axis": "None", "keepdims": "1"}, {"axis": None, "keepdims": True}),
                  ({"axis": "-1"}, {"axis": -1})),
           errors=(Err({"axis": 2}, ((2, 3),), match="axis 2"), Err({"axis": -3}, ((2, 3),), match="axis -3"),
                   Err({"axis": (0, 1)}, exc=ParamError, match=r"\(0, 1\).*axis"), _NO_BOOL),
           shapes=(Shp({}, ((2, 3),), ((1,),)), Shp({"keepdims": True}, ((2, 3, 4),), ((1, 1, 1),)),
                   Shp({"axis": 1}, ((2, 3, 4),), ((2, 4),)), Shp({"axis": -1, "keepdims": True}, ((2, 3),), ((2, 1),)),
                   Shp({"axis": 0}, ((5,),), ((1,),)))),
    OpSpec("argmin", R.argmin, arg_sample, grad=True, errors=(Err({"axis": 2}, ((2, 3),), match="axis 2"), _NO_BOOL)),
    OpSpec("argmax_channel", R.argmax_channel, argmax_channel_sample,
           errors=(Err({}, ((3,),), match=r"\[3\]"), _NO_BOOL),
           shapes=(Shp({}, ((2, 3),), ((2,),)), Shp({}, ((2, 3, 4, 5),), ((2, 4, 5),)))),
    OpSpec("topk", R.topk, topk_sample, grad=True,
           attrs=(({"axis": "None", "k": "3", "ret_typ": "both", "is_ascend": "1", "dtype": "int32"},
                   {"axis": None, "k": 3, "ret_typ": "both", "is_ascend": True, "dtype": np.dtype(np.int32)}),
                  ({}, {"axis": -1, "k": 1, "ret_typ": "indices", "is_ascend": False,
                        "dtype": np.dtype(np.float32)})),
           errors=(Err({"k": 5}, ((2, 4),), match="k=5"), Err({"k": 9, "axis": None}, ((2, 4),), match="k=9"),
                   Err({"axis": 2}, ((2, 4),), match="axis 2"), Err({"axis": -3}, ((2, 4),), match="axis -3"),
                   Err({"ret_typ": "foo"}, exc=ParamError, match="foo.*ret_typ"),
                   Err({"dtype": "int8"}, dtypes=("float32",), exc=DTypeError, match="dtype=int8"), _NO_BOOL),
           shapes=(Shp({}, ((2, 3),), ((2, 1),)), Shp({"k": 2}, ((2, 4),), ((2, 2),)),
                   Shp({"k": 0}, ((2, 4),), ((2, 4),)), Shp({"k": -1}, ((2, 4),), ((2, 4),)),
                   Shp({"k": 3, "axis": None}, ((2, 3),), ((3,),)),
                   Shp({"k": 3, "axis": None, "ret_typ": "mask"}, ((2, 3),), ((2, 3),)),
                   Shp({"k": 1, "axis": 0, "ret_typ": "both"}, ((2, 4),), ((1, 4), (1, 4))),
                   Shp({"k": 2, "axis": 1, "ret_typ": "value"}, ((2, 3, 4),), ((2, 2, 4), (2, 2, 4))),
                   Shp({"k": 5, "axis": None}, ((2, 4),), ((5,),)))),
    OpSpec("sort", R.sort, sort_sample(), grad=True,
           errors=(Err({"axis": 2}, ((2, 4),), match="axis 2"), _NO_BOOL),
           shapes=(Shp({}, ((2, 3),), ((2, 3), (2, 3))), Shp({"axis": None}, ((2, 3),), ((6,), (6,))))),
    OpSpec("argsort", R.argsort, sort_sample(with_dtype=True), grad=True,
           errors=(Err({"dtype": "int8"}, dtypes=("float32",), exc=DTypeError, match="dtype=int8"),
                   Err({"axis": -3}, ((2, 4),), match="axis -3"), _NO_BOOL),
           shapes=(Shp({"axis": 0}, ((2, 3),), ((2, 3),)), Shp({"axis": None}, ((2, 3),), ((6,),)))),
]



def _cumsum_reference(p, x):
    """Each output element as the sum of its lane's prefix (np.sum of a slice), in the output's dtype."""
    dtype = p.dtype if p.dtype is not None else (np.dtype(np.int64) if x.dtype.kind == "b" else x.dtype)
    lanes = x.reshape(-1) if p.axis is None else np.moveaxis(x, p.axis, -1)
    out = np.stack([np.sum(lanes[..., :i + 1], axis=-1, dtype=dtype) for i in range(lanes.shape[-1])], axis=-1)
    return out.astype(dtype) if p.axis is None else np.moveaxis(out, -1, p.axis).astype(dtype)


def cumsum_sample(draw, dtype):
    shape = draw(SHAPES)
    attrs = {"axis": _axis_or_none(draw, len(shape))}
    if np.dtype(dtype) != np.float64 and draw(st.booleans()):      # float64: the gradient check's, kept
        attrs["dtype"] = draw(st.sampled_from(("float32", "float64", "int32", "int64")))
    values = draw(hnp.arrays(np.int64, shape, elements=st.integers(-3, 3)))
    return attrs, [(values > 0 if dtype == "bool" else values).astype(dtype)]


SPECS.append(OpSpec("_np_cumsum", _cumsum_reference, cumsum_sample, dtypes=("float32", "float64", "int32", "int64",
                                                                            "bool"), grad=True,
                    errors=(Err({"axis": 2}, ((2, 4),), match="axis 2"),),
                    shapes=(Shp({}, ((2, 3),), ((6,),)), Shp({"axis": -1}, ((2, 3),), ((2, 3),)))))

EXEMPT = {"_backward_topk": "internal to topk's and sort's gradients; checked through them in tests/test_gradients.py",
          "_backward_np_cumsum": "internal to _np_cumsum's gradient; checked through it (grad=True)"}
