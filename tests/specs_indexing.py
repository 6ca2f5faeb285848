"""Op spec rows for the indexing ops (ops/indexing.py: take, pick, gather_nd, scatter_nd, one_hot, Embedding, where,
clip and the Sequence ops); see tests/op_specs.py. References: tests/reference_shape.py.

Golden shapes and error cases were checked on MXNet 1.9.1 unless a case says it is ours; so are the error messages'
facts (not their wording). Cases that infer inputs from a given output (`outs=`), and scatter_nd's filling of a
missing input, are ours: MXNet's rules only go forward there. Index inputs are drawn as integer values in the row's
dtype (MXNet's usual float32 indices) and are never differentiated: their gradient is zero, and a float index nudged
across an integer would be a kink. Import tests.op_specs, never this module first (op_specs appends these rows at
its end).
"""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ops.errors import ParamError
from tests import reference_shape as R
from tests.op_specs import ALL, NUMERIC, Err, OpSpec, Shp, array
from tests.specs_shape import _axis_of, _shape


def _indices(draw, dtype, shape, lo, hi):
    """Integer-valued indices in [lo, hi] of `dtype` (unsigned dtypes: from 0)."""
    dtype = np.dtype(dtype)
    lo = max(lo, 0) if dtype.kind in "ub" else lo
    hi = min(hi, 127) if dtype == np.int8 else hi
    if dtype.kind == "b":
        lo, hi = 0, min(hi, 1)
    return draw(hnp.arrays(np.int64, shape, elements=st.integers(lo, hi))).astype(dtype)


def take_sample(draw, dtype):
    shape = _shape(draw, max_dims=3)
    axis = _axis_of(draw, len(shape))
    mode = draw(st.sampled_from(["clip", "wrap", "raise"]))
    n = shape[axis]
    lo, hi = (0, n - 1) if mode == "raise" else (-n - 2, n + 2)
    idx = _indices(draw, dtype, _shape(draw, max_dims=2), lo, hi)
    attrs = {"axis": axis} if axis or draw(st.booleans()) else {}
    if mode != "clip" or draw(st.booleans()):
        attrs["mode"] = mode
    return attrs, [array(draw, dtype, shape), idx]


def pick_sample(draw, dtype):
    shape = _shape(draw, max_dims=3)
    axis = _axis_of(draw, len(shape))
    n = shape[axis]
    kept = draw(st.booleans())
    ishape = tuple(1 if i == axis % len(shape) else d for i, d in enumerate(shape)) if kept else \
        (tuple(d for i, d in enumerate(shape) if i != axis % len(shape)) or (1,))
    attrs = {"axis": axis, "keepdims": draw(st.booleans())}
    if draw(st.booleans()):
        attrs["mode"] = draw(st.sampled_from(["clip", "wrap"]))
    return attrs, [array(draw, dtype, shape), _indices(draw, dtype, ishape, -n - 1, n + 1)]


def gather_nd_sample(draw, dtype):
    shape = _shape(draw)
    m = draw(st.integers(1, len(shape)))
    y = _shape(draw, max_dims=2, max_side=3)
    cols = [_indices(draw, dtype, y, -d if np.dtype(dtype).kind == "i" else 0, d - 1) for d in shape[:m]]
    return {}, [array(draw, dtype, shape), np.stack(cols)]


def scatter_nd_sample(draw, dtype):
    out = _shape(draw, max_dims=3)
    m = draw(st.integers(1, len(out)))
    cells = int(np.prod(out[:m]))
    k = draw(st.integers(1, min(cells, 4)))
    flat = draw(st.lists(st.integers(0, cells - 1), min_size=k, max_size=k, unique=True))
    cols = np.array(np.unravel_index(flat, out[:m])).astype(dtype)
    return {"shape": out}, [array(draw, dtype, (k,) + out[m:]), cols]


def one_hot_sample(draw, dtype):
    depth = draw(st.integers(1, 4))
    attrs = {"depth": depth}
    target = draw(st.sampled_from(["float32", "float64", "int32", "uint8", "float16", "int64"]))
    if draw(st.booleans()):
        attrs["dtype"] = target
    if draw(st.booleans()):
        attrs["on_value"] = draw(st.sampled_from([2.0, -1.0, 0.5, 5.0]))
        attrs["off_value"] = draw(st.sampled_from([0.0, 1.0, -2.5]))
    return attrs, [_indices(draw, dtype, _shape(draw, max_dims=3), -2, depth + 1)]


def embedding_sample(draw, dtype):
    input_dim, output_dim = draw(st.integers(1, 5)), draw(st.integers(1, 4))
    attrs = {"input_dim": input_dim, "output_dim": output_dim, "dtype": dtype.name}
    data = _indices(draw, draw(st.sampled_from([dtype, np.dtype(np.int32)])), _shape(draw, max_dims=3), -1,
                    input_dim)
    return attrs, [data, array(draw, dtype, (input_dim, output_dim))]


def where_sample(draw, dtype):
    shape = _shape(draw)
    cshape = shape if len(shape) == 1 or draw(st.booleans()) else shape[:1]
    cond = _indices(draw, draw(st.sampled_from([dtype, np.dtype(np.float32)])), cshape, 0, 1)
    return {}, [cond, array(draw, dtype, shape), array(draw, dtype, shape)]


def clip_sample(draw, dtype):
    lo = draw(st.sampled_from([-2.5, -1.0, 0.5, 1.5]))
    hi = lo + draw(st.sampled_from([0.0, 1.0, 3.5, -1.0]))        # a_min > a_max included
    if dtype.kind == "u":
        lo, hi = abs(lo), abs(hi)
    x = array(draw, dtype, _shape(draw))
    if dtype.kind == "f":                                            # off the kinks at the bounds
        for bound in (lo, hi):
            x = np.where(np.abs(x.astype(np.float64) - bound) < 0.05, x + np.array(0.125, dtype), x).astype(dtype)
    return {"a_min": lo, "a_max": hi}, [x]


def sequence_sample(axes, drop=False):
    def sample(draw, dtype):
        shape = _shape(draw, min_dims=2, max_dims=4)
        axis = draw(st.sampled_from(axes))
        steps, batch = (shape[0], shape[1]) if axis == 0 else (shape[1], shape[0])
        attrs = {"axis": axis} if axis or draw(st.booleans()) else {}
        ins = [array(draw, dtype, shape)]
        if draw(st.booleans()):
            attrs["use_sequence_length"] = True
            lo = 1 if drop or axes == (0,) else 0          # SequenceLast/Reverse: lengths in [1, steps]
            lengths = draw(hnp.arrays(np.int64, (batch,), elements=st.integers(lo, steps + (lo == 0))))
            ltype = draw(st.sampled_from([dtype, np.dtype(np.int32)]))
            ins.append(lengths.astype(ltype if ltype.kind != "u" or lengths.min() >= 0 else dtype))
        return attrs, ins
    return sample


def mask_sample(draw, dtype):
    attrs, ins = sequence_sample((0, 1))(draw, dtype)
    if draw(st.booleans()):
        attrs["value"] = draw(st.sampled_from([-1.0, 2.5, 7.0]))
    return attrs, ins


SPECS = [
    OpSpec("take", R.take, take_sample, dtypes=NUMERIC, grad=True, grad_inputs=("a",),
           attrs=(({"axis": "1", "mode": "wrap"}, {"axis": 1, "mode": "wrap"}),),
           errors=(Err({"axis": 3}, ((2, 3, 4), (1,)), match="axis=3"),
                   Err({"mode": "fail"}, exc=ParamError, match="fail")),
           shapes=(Shp({"axis": 1}, ((2, 3, 4), (5,)), ((2, 5, 4),)),
                   Shp({"axis": 1}, ((2, 3, 4), (2, 2)), ((2, 2, 2, 4),)),
                   Shp({}, ((2, 3, 4), None), (None,)),
                   Shp({"axis": -1}, ((2, 3), None), ((2, 5, 2),), outs=((2, 5, 2),),
                       want_ins=((2, 3), (5, 2))))),                               # ours: indices from out
    OpSpec("pick", R.pick, pick_sample, dtypes=NUMERIC, aliases=("choose_element_0index", "_npx_pick"), grad=True,
           grad_inputs=("data",), alt_shapes=(1,),
           attrs=(({"axis": "None"}, {"axis": None}), ({"axis": "1", "keepdims": "True", "mode": "wrap"},
                                                       {"axis": 1, "keepdims": True, "mode": "wrap"})),
           errors=(Err({"axis": 1}, ((2, 3, 4), (8,)), match=r"\[8\].*\[2,3,4\]"),
                   Err({"axis": 1}, ((2, 3, 4), (4, 2)), match=r"\[4,2\]"),
                   Err({"axis": None}, ((2, 3), (2,)), match="axis=None"),
                   Err({"axis": 2}, ((2, 3), (2,)), match="axis=2")),
           shapes=(Shp({"axis": 1}, ((2, 3, 4), None), ((2, 4),), want_ins=((2, 3, 4), (2, 4))),
                   Shp({"axis": 1, "keepdims": True}, ((2, 3, 4), (2, 1, 4)), ((2, 1, 4),)),
                   Shp({"axis": 1}, ((2, 3, 4), (2, 1, 4)), ((2, 4),)),
                   Shp({"axis": 0}, ((3,), (1,)), ((1,),)))),
    OpSpec("gather_nd", R.gather_nd, gather_nd_sample, dtypes=NUMERIC, aliases=("_npx_gather_nd",), grad=True,
           grad_inputs=("data",),
           errors=(Err({}, ((2, 3, 4), (4, 2)), match=r"\[4,2\].*\[2,3,4\]"),
                   Err({}, ((2, 3, 4), (2,)), match=r"at least 2")),
           shapes=(Shp({}, ((2, 3, 4), (2, 5)), ((5, 4),)), Shp({}, ((2, 3, 4), (3, 1)), ((1,),)))),
    OpSpec("scatter_nd", R.scatter_nd, scatter_nd_sample, dtypes=NUMERIC, grad=True, grad_inputs=("data",),
           errors=(Err({"shape": (2, 4)}, ((2, 3), (1, 2)), match=r"\[2,3\].*\[1,2\].*\(2, 4\)"),),
           shapes=(Shp({"shape": (2, 3)}, ((3,), (2, 3)), ((2, 3),)),
                   Shp({"shape": (2, 3)}, (None, (2, 3)), ((2, 3),), want_ins=((3,), (2, 3))))),
    OpSpec("one_hot", R.one_hot, one_hot_sample, dtypes=NUMERIC, aliases=("_npx_one_hot",),
           attrs=(({"depth": "3", "on_value": "2.5", "dtype": "int32"},
                   {"depth": 3, "on_value": 2.5, "off_value": 0.0, "dtype": np.dtype(np.int32)}),),
           errors=(Err({"depth": -1}, ((2,),), match="depth=-1"),),
           shapes=(Shp({"depth": 3}, ((2, 3),), ((2, 3, 3),)),
                   Shp({"depth": 3}, (None,), ((2, 3),), outs=((2, 3),), want_ins=((2,),)))),
    OpSpec("Embedding", R.embedding, embedding_sample, dtypes=NUMERIC, aliases=("_npx_embedding",), grad=True,
           grad_inputs=("weight",),
           attrs=(({"input_dim": "10", "output_dim": "5", "dtype": "float64", "sparse_grad": "False"},
                   {"input_dim": 10, "output_dim": 5, "dtype": np.dtype(np.float64), "sparse_grad": False}),),
           errors=(Err({"input_dim": 0, "output_dim": 3}, ((2,), None), match="input_dim=0"),
                   Err({"input_dim": 4}, exc=ParamError, match="output_dim")),
           shapes=(Shp({"input_dim": 10, "output_dim": 5}, ((2, 3), None), ((2, 3, 5),), want_ins=((2, 3), (10, 5))),
                   Shp({"input_dim": 10, "output_dim": 5}, (None, None), ((2, 3, 5),), outs=((2, 3, 5),),
                       want_ins=((2, 3), (10, 5))))),
    OpSpec("where", R.where, where_sample, dtypes=ALL, grad=True, grad_inputs=("x", "y"),
           errors=(Err({}, ((3,), (2, 3), (2, 3)), match=r"\[3\].*\[2,3\]"),
                   Err({}, ((2, 1), (2, 3), (2, 3)), match=r"\[2,1\].*\[2,3\]")),
           shapes=(Shp({}, ((2,), (2, 3), None), ((2, 3),), want_ins=((2,), (2, 3), (2, 3))),
                   Shp({}, ((2, 3), None, None), ((2, 3),), want_ins=((2, 3), (2, 3), (2, 3))),   # ours
                   Shp({}, ((2,), None, None), (None,)))),
    OpSpec("clip", R.clip, clip_sample, dtypes=NUMERIC, grad=True,
           attrs=(({"a_min": "-1", "a_max": "2.5"}, {"a_min": -1.0, "a_max": 2.5}),),
           errors=(Err({"a_min": 0}, exc=ParamError, match="a_max"),)),
    OpSpec("SequenceMask", R.sequence_mask, mask_sample, dtypes=NUMERIC, aliases=("_npx_sequence_mask",), grad=True,
           grad_inputs=("data",),
           attrs=(({"use_sequence_length": "True", "value": "-1", "axis": "1"},
                   {"use_sequence_length": True, "value": -1.0, "axis": 1}),),
           errors=(Err({"use_sequence_length": True, "axis": 2}, ((3, 2, 4), (2,)), match="axis=2"),
                   Err({"use_sequence_length": True}, ((3, 2, 4), (3,)), match=r"\[3\].*\[3,2,4\]"),
                   Err({}, ((3,),), match=r"\[3\]")),
           shapes=(Shp({"use_sequence_length": True}, ((3, 2, 4), None), ((3, 2, 4),), want_ins=((3, 2, 4), (2,))),
                   Shp({"use_sequence_length": True, "axis": 1}, ((3, 2, 4), None), ((3, 2, 4),),
                       want_ins=((3, 2, 4), (3,))))),
    OpSpec("SequenceLast", R.sequence_last, sequence_sample((0, 1), drop=True), dtypes=NUMERIC, grad=True,
           grad_inputs=("data",),
           errors=(Err({"axis": 2}, ((3, 2, 4),), match="axis=2"),),
           shapes=(Shp({"use_sequence_length": True}, ((3, 2, 4), None), ((2, 4),), want_ins=((3, 2, 4), (2,))),
                   Shp({"axis": 1}, ((3, 2, 4),), ((3, 4),)), Shp({}, ((3, 2),), ((2,),)))),
    OpSpec("SequenceReverse", R.sequence_reverse, sequence_sample((0,)), dtypes=NUMERIC, grad=True,
           grad_inputs=("data",),
           errors=(Err({"axis": 1}, ((3, 2, 4),), match="axis=1"),),
           shapes=(Shp({"use_sequence_length": True}, ((3, 2, 4), None), ((3, 2, 4),), want_ins=((3, 2, 4), (2,))),)),
]

# Internal backward ops: each is run by the gradient check of its forward op (tests/test_gradients.py).
EXEMPT = {name: "internal to %s's gradient; checked through it in tests/test_gradients.py" % forward
          for name, forward in [("_backward_take", "take"), ("_backward_pick", "pick"),
                                ("_backward_gather_nd", "gather_nd"), ("_backward_Embedding", "Embedding"),
                                ("_backward_clip", "clip"), ("_backward_SequenceLast", "SequenceLast")]}
