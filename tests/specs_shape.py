"""Op spec rows for the shape ops (ops/shape.py, ops/stack_split.py, the slicing ops of ops/indexing.py, _arange,
_eye, UpSampling); see tests/op_specs.py. The indexing ops' rows are in tests/specs_indexing.py.
References: tests/reference_shape.py.

Golden shapes and error cases were checked on MXNet 1.9.1 unless a case says it is ours; so are the error
messages' facts (not their wording). Cases that infer inputs from a given output (`outs=`), and stack's filling
of a missing input, are ours: MXNet's rules only go forward there. Import tests.op_specs, never this module first
(op_specs appends these rows at its end).
"""
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ops.errors import DTypeError, ParamError
from tests import reference_shape as R
from tests.op_specs import ALL, FLOATS, SIDE, Err, OpSpec, Shp, array

_SAFE_F = ("float32", "float64")          # rows whose references sum in float64 (float16 rounds differently)


def _shape(draw, min_dims=1, max_dims=4, max_side=4):
    return draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side))


def _axis_of(draw, ndim, negative=True):
    return draw(st.integers(-ndim if negative else 0, ndim - 1))


# ---- samplers: shape ----------------------------------------------------------------------------------------
def transpose_sample(draw, dtype):
    shape = _shape(draw)
    axes = () if draw(st.booleans()) else tuple(draw(st.permutations(range(len(shape)))))
    return ({"axes": axes} if axes or draw(st.booleans()) else {}), [array(draw, dtype, shape)]


def swapaxes_sample(draw, dtype):
    shape = _shape(draw)
    attrs = {"dim1": _axis_of(draw, len(shape)), "dim2": _axis_of(draw, len(shape))}
    return attrs, [array(draw, dtype, shape)]


def expand_dims_sample(draw, dtype):
    shape = _shape(draw, max_dims=3)
    return {"axis": draw(st.integers(-len(shape) - 1, len(shape)))}, [array(draw, dtype, shape)]


def squeeze_sample(draw, dtype):
    shape = tuple(draw(st.sampled_from([1, d])) for d in _shape(draw))
    ones = [i for i, d in enumerate(shape) if d == 1]
    if draw(st.booleans()) or not ones:
        return {}, [array(draw, dtype, shape)]
    axes = draw(st.lists(st.sampled_from(ones), min_size=1, unique=True))
    return {"axis": tuple(a - len(shape) if draw(st.booleans()) else a for a in axes)}, [array(draw, dtype, shape)]


def reverse_sample(draw, dtype):
    shape = _shape(draw)
    axes = draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=3))
    return {"axis": tuple(axes)}, [array(draw, dtype, shape)]


def tile_sample(draw, dtype):
    shape = _shape(draw, max_dims=3, max_side=3)
    reps = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=4)))
    return {"reps": reps}, [array(draw, dtype, shape)]


def repeat_sample(draw, dtype):
    shape = _shape(draw, max_dims=3, max_side=3)
    attrs = {"repeats": draw(st.integers(1, 3))}
    if draw(st.booleans()):
        attrs["axis"] = _axis_of(draw, len(shape))
    return attrs, [array(draw, dtype, shape)]


def pad_sample(draw, dtype):
    ndim = draw(st.sampled_from([4, 5]))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) + tuple(draw(st.integers(2, 4))
                                                                         for _ in range(ndim - 2))
    mode = draw(st.sampled_from(["constant", "edge", "reflect"]))
    widths = [0, 0, 0, 0]
    for d in shape[2:]:
        hi = d - 1 if mode == "reflect" else 3
        widths += [draw(st.integers(0, hi)), draw(st.integers(0, hi))]
    attrs = {"mode": mode, "pad_width": tuple(widths)}
    if mode == "constant" and draw(st.booleans()):
        attrs["constant_value"] = draw(st.sampled_from([-1.5, 0.25, 3.0]))
    return attrs, [array(draw, dtype, shape)]


def stack_sample(draw, dtype):
    shape = _shape(draw, max_dims=3)
    n = draw(st.integers(1, 3))
    attrs = {"num_args": n}
    if draw(st.booleans()):
        attrs["axis"] = draw(st.integers(-len(shape) - 1, len(shape)))
    return attrs, [array(draw, dtype, shape) for _ in range(n)]


def split_sample(draw, dtype):
    shape = list(_shape(draw, max_dims=3))
    axis = _axis_of(draw, len(shape))
    n = draw(st.integers(1, 3))
    squeeze = len(shape) > 1 and draw(st.booleans())            # no 0-d outputs (MXNet 1.x: unknown)
    shape[axis] = n if squeeze else n * draw(st.integers(1, 2))
    attrs = {"num_outputs": n, "squeeze_axis": squeeze}
    if axis != 1 or draw(st.booleans()):
        attrs["axis"] = axis
    return attrs, [array(draw, dtype, tuple(shape))]


def _slice_bound(draw, d):
    return draw(st.one_of(st.none(), st.integers(-d - 2, d + 2)))


def slice_sample(draw, dtype):
    shape = _shape(draw)
    k = draw(st.integers(1, len(shape)))
    while True:
        begin = tuple(_slice_bound(draw, d) for d in shape[:k])
        end = tuple(_slice_bound(draw, d) for d in shape[:k])
        step = tuple(draw(st.sampled_from([None, 1, 2, -1, -2])) for _ in range(k))
        if all(len(range(*slice(b, e, s).indices(d))) for b, e, s, d in zip(begin, end, step, shape)):
            break                                  # a non-empty result (0 is an unknown dim in MXNet 1.x)
    attrs = {"begin": begin, "end": end}
    if any(s is not None for s in step) or draw(st.booleans()):
        attrs["step"] = step
    return attrs, [array(draw, dtype, shape)]


def slice_axis_sample(draw, dtype):
    shape = _shape(draw)
    axis = _axis_of(draw, len(shape))
    d = shape[axis]
    begin = draw(st.integers(0, d - 1))
    end = draw(st.integers(begin + 1, d))
    attrs = {"axis": axis, "begin": begin - d if draw(st.booleans()) else begin,
             "end": draw(st.sampled_from([end, end - d if end < d else None, None if end == d else end]))}
    return attrs, [array(draw, dtype, shape)]


def slice_like_sample(draw, dtype):
    shape = _shape(draw)
    like = tuple(draw(st.integers(1, d)) for d in shape)
    attrs = {}
    if draw(st.booleans()):
        axes = draw(st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1, max_size=len(shape),
                             unique_by=lambda a: a % len(shape)))
        attrs["axes"] = tuple(axes)
        keep = {a % len(shape) for a in axes}
        like = tuple(d if i in keep else draw(SIDE) for i, d in enumerate(like))
    return attrs, [array(draw, dtype, shape), array(draw, dtype, like)]


def broadcast_like_sample(draw, dtype):
    target = _shape(draw)
    if draw(st.booleans()):
        lhs = tuple(draw(st.sampled_from([1, t])) for t in target)
        return {}, [array(draw, dtype, lhs), array(draw, dtype, target)]
    lhs = list(_shape(draw, max_dims=3))
    k = draw(st.integers(1, min(len(lhs), len(target))))
    la = draw(st.lists(st.integers(0, len(lhs) - 1), min_size=k, max_size=k, unique=True))
    ra = draw(st.lists(st.integers(0, len(target) - 1), min_size=k, max_size=k, unique=True))
    for a in la:
        lhs[a] = 1
    attrs = {"lhs_axes": tuple(a - len(lhs) if draw(st.booleans()) else a for a in la), "rhs_axes": tuple(ra)}
    return attrs, [array(draw, dtype, tuple(lhs)), array(draw, dtype, target)]


def block_sample(to_space):
    def sample(draw, dtype):
        b = draw(st.integers(1, 3))
        n, c, h, w = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
        shape = (n, c * b * b, h, w) if to_space else (n, c, h * b, w * b)
        return {"block_size": b}, [array(draw, dtype, shape)]
    return sample


def diag_sample(draw, dtype):
    shape = _shape(draw)
    if len(shape) == 1:
        return {"k": draw(st.integers(-2, 2))}, [array(draw, dtype, shape)]
    a1 = _axis_of(draw, len(shape))
    a2 = draw(st.sampled_from([a for a in range(-len(shape), len(shape)) if (a - a1) % len(shape)]))
    d1, d2 = shape[a1], shape[a2]
    k = draw(st.integers(-d1 + 1, d2 - 1))               # a non-empty diagonal
    return {"k": k, "axis1": a1, "axis2": a2}, [array(draw, dtype, shape)]


def arange_sample(draw, dtype):
    start = draw(st.integers(-4, 4)) / (1 if dtype.kind in "iub" else 2)
    step = draw(st.sampled_from([1, 2, -1, 3] if dtype.kind in "iub" else [0.5, 1.0, -1.5, 2.0, 0.25]))
    if dtype.kind == "u":
        start, step = abs(start), abs(step)
    count = draw(st.integers(1, 5))
    attrs = {"start": start, "stop": start + count * step - (0.5 if dtype.kind == "f" else 0) * step,
             "step": step, "repeat": draw(st.integers(1, 3)), "dtype": dtype.name}
    if draw(st.integers(0, 3)) == 0 and start > 0 and step > 0 and dtype.kind in "iu":
        attrs = {"start": start, "dtype": dtype.name}            # stop=None: [0, start)
    return attrs, []


def eye_sample(draw, dtype):
    n, m = draw(st.integers(1, 4)), draw(st.integers(0, 4))
    return {"N": n, "M": m, "k": draw(st.integers(-3, 3)), "dtype": dtype.name}, []


def upsampling_sample(draw, dtype):
    scale = draw(st.integers(1, 3))
    if draw(st.integers(0, 2)) == 0:                    # bilinear: data and a (c, 1, k, k) weight
        n, c, h, w = (draw(st.integers(1, 2)) for _ in range(4))
        k = 2 * scale - scale % 2
        attrs = {"scale": scale, "sample_type": "bilinear", "num_args": 2, "num_filter": c}
        return attrs, [array(draw, dtype, (n, c, h, w)), array(draw, dtype, (c, 1, k, k))]
    n, c, h = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    w = draw(st.integers(1, 2))
    mode = draw(st.sampled_from(["concat", "sum"]))
    ins = [array(draw, dtype, (n, c, h, w))]
    for _ in range(draw(st.integers(0, 2))):            # more inputs, each scaled by a divisor of h*scale
        f = draw(st.sampled_from([d for d in range(1, scale + 1) if scale % d == 0]))
        ins.append(array(draw, dtype, (n, c if mode == "sum" else draw(st.integers(1, 2)), h * f, w * f)))
    attrs = {"scale": scale, "sample_type": "nearest", "num_args": len(ins)}
    if mode == "sum" or draw(st.booleans()):
        attrs["multi_input_mode"] = mode
    return attrs, ins


# ---------------------------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------------------------

SPECS = [
    # ---- views and permutations ----
    OpSpec("transpose", R.transpose, transpose_sample, dtypes=ALL, grad=True,
           attrs=(({"axes": "(1, 0, 2)"}, {"axes": (1, 0, 2)}),),
           errors=(Err({"axes": (0, 1)}, ((2, 3, 4),), match=r"axes=\(0, 1\)"),
                   Err({"axes": (-1, 0, 1)}, ((2, 3, 4),), match=r"axes=\(-1, 0, 1\)"),
                   Err({"axes": (0, 0, 1)}, ((2, 3, 4),), match=r"axes=\(0, 0, 1\)")),      # ours: MXNet runs it
           shapes=(Shp({}, ((2, 3, 4),), ((4, 3, 2),)), Shp({"axes": (1, 0, 2)}, ((2, 3, 4),), ((3, 2, 4),)),
                   Shp({"axes": (2, 0, 1)}, (None,), ((4, 2, 3),), outs=((4, 2, 3),), want_ins=((2, 3, 4),)))),
    OpSpec("SwapAxis", R.swapaxes, swapaxes_sample, dtypes=ALL, aliases=("swapaxes",), grad=True,
           attrs=(({"dim1": "1", "dim2": "-1"}, {"dim1": 1, "dim2": -1}),),
           errors=(Err({"dim1": 3}, ((2, 3, 4),), match="dim1=3"),),
           shapes=(Shp({"dim1": -1, "dim2": 0}, ((2, 3, 4),), ((4, 3, 2),)),
                   Shp({}, ((2, 3),), ((2, 3),)))),
    OpSpec("expand_dims", R.expand_dims, expand_dims_sample, dtypes=ALL, grad=True,
           errors=(Err({"axis": 4}, ((2, 3, 4),), match="axis=4"), Err({"axis": -5}, ((2, 3, 4),), match="axis=-5"),
                   Err({}, exc=ParamError, match="axis")),
           shapes=(Shp({"axis": -4}, ((2, 3, 4),), ((1, 2, 3, 4),)), Shp({"axis": 3}, ((2, 3, 4),), ((2, 3, 4, 1),)),
                   Shp({"axis": 1}, (None,), ((2, 1, 3),), outs=((2, 1, 3),), want_ins=((2, 3),)))),
    OpSpec("squeeze", R.squeeze, squeeze_sample, dtypes=ALL, grad=True,
           attrs=(({"axis": "(0, -1)"}, {"axis": (0, -1)}), ({"axis": "None"}, {"axis": None})),
           errors=(Err({"axis": (1,)}, ((1, 3, 1),), match=r"axis 1 of \[1,3,1\]"),
                   Err({"axis": (0, 0)}, ((1, 3, 1),), match=r"duplicate"),
                   Err({"axis": (3,)}, ((1, 3, 1),), match=r"axis=3")),
           shapes=(Shp({}, ((1, 3, 1),), ((3,),)), Shp({}, ((1, 1),), ((1,),)),
                   Shp({"axis": (0,)}, ((1, 3, 1),), ((3, 1),)), Shp({"axis": ()}, ((1, 3, 1),), ((1, 3, 1),)),
                   Shp({"axis": (0, -1)}, ((1, 0, 1),), ((3,),), outs=((3,),), want_ins=((1, 3, 1),)))),
    OpSpec("reverse", R.reverse, reverse_sample, dtypes=ALL, aliases=("flip",), grad=True,
           errors=(Err({"axis": (-1,)}, ((2, 3, 4),), match="axis -1"), Err({"axis": (3,)}, ((2, 3, 4),),
                                                                          match="axis 3"),
                   Err({}, exc=ParamError, match="axis")),
           shapes=(Shp({"axis": (0, 0)}, ((2, 3),), ((2, 3),)),)),
    OpSpec("tile", R.tile, tile_sample, dtypes=ALL, grad=True,
           errors=(Err({"reps": (0, 1)}, ((2, 3, 4),), match=r"reps=\(0, 1\)"),
                   Err({"reps": (-1,)}, ((2,),), match=r"reps=\(-1,\)")),
           shapes=(Shp({"reps": (2,)}, ((2, 3, 4),), ((2, 3, 8),)),
                   Shp({"reps": (2, 1, 1, 2)}, ((2, 3, 4),), ((2, 2, 3, 8),)), Shp({"reps": ()}, ((2, 3),), ((2, 3),)),
                   Shp({"reps": (2, 3)}, ((0, 0),), ((4, 6),), outs=((4, 6),), want_ins=((2, 2),)))),   # ours
    OpSpec("repeat", R.repeat, repeat_sample, dtypes=ALL, grad=True,
           errors=(Err({"repeats": -1, "axis": 1}, ((2, 3),), match="repeats=-1"),
                   Err({"repeats": 2, "axis": 3}, ((2, 3, 4),), match="axis=3")),
           shapes=(Shp({"repeats": 2}, ((2, 3, 4),), ((48,),)),
                   Shp({"repeats": 2, "axis": -1}, ((2, 3, 4),), ((2, 3, 8),)),
                   Shp({"repeats": 2, "axis": 0}, ((0, 3),), ((4, 3),), outs=((4, 3),), want_ins=((2, 3),)))),
    OpSpec("Pad", R.pad, pad_sample, dtypes=FLOATS, aliases=("pad",), grad=True,
           attrs=(({"mode": "edge", "pad_width": "(0, 0, 0, 0, 1, 2, 2, 1)"},
                   {"mode": "edge", "pad_width": (0, 0, 0, 0, 1, 2, 2, 1), "constant_value": 0.0}),),
           errors=(Err({"mode": "constant", "pad_width": (0, 0, 0, 0, 1, 1)}, ((2, 3, 4),), match="4-D or 5-D"),
                   Err({"mode": "constant", "pad_width": (1, 0, 0, 0, 1, 2, 2, 1)}, ((1, 2, 3, 4),),
                       match="first two axes"),
                   Err({"mode": "constant", "pad_width": (0, 0, 0, 0, 1, 2)}, ((1, 2, 3, 4),), match="2 values"),
                   Err({"mode": "reflect", "pad_width": (0, 0, 0, 0, 3, 3, 1, 1)}, ((1, 2, 3, 4),),
                       match=r"reflect.*\[1,2,3,4\]"),
                   Err({"mode": "wrap", "pad_width": (0,) * 8}, exc=ParamError, match="wrap"),
                   Err({"mode": "edge", "pad_width": (0,) * 8}, dtypes=("int32",), exc=DTypeError, match="int32")),
           shapes=(Shp({"mode": "constant", "pad_width": (0, 0, 0, 0, 1, 2, 2, 1)}, ((1, 2, 3, 4),), ((1, 2, 6, 7),)),
                   Shp({"mode": "reflect", "pad_width": (0, 0, 0, 0, 2, 2, 1, 1)}, ((1, 2, 3, 4),), ((1, 2, 7, 6),)),
                   Shp({"mode": "edge", "pad_width": (0, 0, 0, 0, 1, 1, 1, 2, 2, 1)}, ((1, 2, 2, 3, 4),),
                       ((1, 2, 4, 6, 7),)),
                   Shp({"mode": "edge", "pad_width": (0, 0, 0, 0, 1, 1, 1, 1)}, (None,), ((1, 2, 3, 4),),
                       outs=((1, 2, 3, 4),), want_ins=((1, 2, 1, 2),)))),
    # ---- joining and splitting ----
    OpSpec("stack", R.stack, stack_sample, dtypes=ALL, grad=True,
           attrs=(({"axis": "1", "num_args": "2"}, {"axis": 1, "num_args": 2}),),
           errors=(Err({"num_args": 2, "axis": 3}, ((2, 3), (2, 3)), match="axis=3"),
                   Err({"num_args": 2, "axis": -4}, ((2, 3), (2, 3)), match="axis=-4"),
                   Err({"num_args": 2}, ((2, 3), (3, 2)), match=r"arg1.*\[3,2\]")),      # ours: MXNet runs it
           shapes=(Shp({"num_args": 2, "axis": -1}, ((2, 3), (2, 3)), ((2, 3, 2),)),
                   Shp({"num_args": 2, "axis": 1}, ((2, 3), None), ((2, 2, 3),), want_ins=((2, 3), (2, 3))),
                   Shp({"num_args": 2, "axis": 1}, (None, None), ((2, 2, 3),), outs=((2, 2, 3),),
                       want_ins=((2, 3), (2, 3))))),
    OpSpec("SliceChannel", R.slice_channel, split_sample, dtypes=ALL, aliases=("split",), grad=True,
           attrs=(({"num_outputs": "3", "axis": "-1", "squeeze_axis": "True"},
                   {"num_outputs": 3, "axis": -1, "squeeze_axis": True}),),
           errors=(Err({"num_outputs": 2}, ((2, 3, 4),), match=r"\[2,3,4\].*num_outputs=2"),
                   Err({"num_outputs": 2, "axis": 2, "squeeze_axis": True}, ((2, 3, 4),), match="squeeze_axis"),
                   Err({"num_outputs": 2, "axis": 3}, ((2, 3, 4),), match="axis=3"),
                   Err({"num_outputs": 0}, ((2, 3, 4),), match="num_outputs=0")),
           shapes=(Shp({"num_outputs": 3}, ((2, 3, 4),), ((2, 1, 4),) * 3),
                   Shp({"num_outputs": 4, "axis": -1, "squeeze_axis": True}, ((2, 3, 4),), ((2, 3),) * 4),
                   Shp({"num_outputs": 1}, ((2, 3, 4),), ((2, 3, 4),)),
                   Shp({"num_outputs": 2}, (None,), ((2, 3),) * 2, outs=((2, 3), None), want_ins=((2, 6),)))),
    # ---- slicing ----
    OpSpec("slice", R.slice_, slice_sample, dtypes=ALL, aliases=("crop", "_npx_slice"), grad=True,
           attrs=(({"begin": "(None, 1)", "end": "(None, None)", "step": "(1, -1)"},
                   {"begin": (None, 1), "end": (None, None), "step": (1, -1)}),
                  ({"begin": "[0,None]", "end": "(2,3)"}, {"begin": (0, None), "end": (2, 3), "step": ()})),
           errors=(Err({"begin": (0,), "end": (1,), "step": (0,)}, ((2, 3),), match=r"step=\(0,\)"),
                   Err({"begin": (0, 0, 0, 0), "end": (1, 1, 1, 1)}, ((2, 3, 4),), match=r"begin=\(0, 0, 0, 0\)"),
                   Err({"begin": (0, 0), "end": (1,)}, ((2, 3, 4),), match=r"begin=\(0, 0\).*end=\(1,\)"),
                   Err({"begin": (0, 0), "end": (2, 3), "step": (1,)}, ((2, 3, 4),), match=r"step=\(1,\)"),
                   Err({"begin": "(0, x)", "end": (1, 1)}, exc=ParamError, match="begin")),
           shapes=(Shp({"begin": (None, 1), "end": (None, None)}, ((2, 3, 4),), ((2, 2, 4),)),
                   Shp({"begin": (None, None, 3), "end": (None, None, None), "step": (1, -1, -2)}, ((2, 3, 4),),
                       ((2, 3, 2),)),
                   Shp({"begin": (-1, -2), "end": (None, -1)}, ((2, 3, 4),), ((1, 1, 4),)),
                   Shp({"begin": (0,), "end": (5,)}, ((2, 3, 4),), ((2, 3, 4),)),
                   Shp({"begin": (1,), "end": (-3,), "step": (-1,)}, ((2, 3, 4),), ((2, 3, 4),)),
                   Shp({"begin": (0, 1), "end": (1, 2)}, ((0, 0),), ((0, 0),)))),
    OpSpec("slice_axis", R.slice_axis, slice_axis_sample, dtypes=ALL, grad=True,
           attrs=(({"axis": "1", "begin": "-3", "end": "None"}, {"axis": 1, "begin": -3, "end": None}),),
           errors=(Err({"axis": 1, "begin": 0, "end": 5}, ((2, 3, 4),), match="end=5"),
                   Err({"axis": 1, "begin": 2, "end": 2}, ((2, 3, 4),), match="begin=2, end=2"),
                   Err({"axis": 1, "begin": -4, "end": 1}, ((2, 3, 4),), match="begin=-4"),
                   Err({"axis": 3, "begin": 0, "end": 1}, ((2, 3, 4),), match="axis=3"),
                   Err({"axis": 1, "begin": 0}, exc=ParamError, match="'end'")),
           shapes=(Shp({"axis": -1, "begin": -3, "end": None}, ((2, 3, 4),), ((2, 3, 3),)),
                   Shp({"axis": 0, "begin": 1, "end": 3}, ((0, 4),), ((2, 4),)),       # ours: fills the length
                   Shp({"axis": 0, "begin": 1, "end": 3}, ((0, 0),), ((2, 5),), outs=((2, 5),), want_ins=((0, 5),)))),
    OpSpec("slice_like", R.slice_like, slice_like_sample, dtypes=ALL, grad=True, grad_inputs=("data",),
           errors=(Err({}, ((2, 3, 4), (1, 2)), match=r"\[2,3,4\].*\[1,2\]"),
                   Err({"axes": (0,)}, ((2, 3, 4), (3, 2, 3)), match=r"axis 0"),
                   Err({"axes": (2,)}, ((2, 3, 4), (1, 2)), match=r"axis 2"),
                   Err({"axes": (-1,)}, ((2, 3, 4), (1, 2)), match=r"axis -1.*\[1,2\]")),
           shapes=(Shp({"axes": (0, -1)}, ((2, 3, 4), (1, 2, 3)), ((1, 3, 3),)),
                   Shp({}, ((2, 3, 4), (1, 2, 3)), ((1, 2, 3),)), Shp({}, ((2, 3, 4), None), (None,)))),
    OpSpec("broadcast_like", R.broadcast_like, broadcast_like_sample, dtypes=ALL, grad=True, grad_inputs=("lhs",),
           attrs=(({"lhs_axes": "(0, 2)", "rhs_axes": "(1, 0)"}, {"lhs_axes": (0, 2), "rhs_axes": (1, 0)}),),
           errors=(Err({}, ((3,), (2, 3)), match=r"\[3\].*\[2,3\]"),
                   Err({}, ((2, 3), (4, 3)), match=r"\[2,3\].*\[4,3\]"),
                   Err({"lhs_axes": (0,), "rhs_axes": (0,)}, ((2, 3), (4, 5)), match=r"axis 0"),
                   Err({"lhs_axes": (0,), "rhs_axes": (0, 1)}, ((1, 3), (4, 5)), match=r"lhs_axes=\(0,\)"),
                   Err({"lhs_axes": (0,)}, ((1, 3), (4, 5)), match=r"\[1,3\].*\[4,5\]")),
           shapes=(Shp({"lhs_axes": (0, 2), "rhs_axes": (1, 0)}, ((1, 3, 1), (4, 5, 6)), ((5, 3, 4),)),
                   Shp({"lhs_axes": (-1,), "rhs_axes": (-1,)}, ((1, 3, 1), (4, 5, 6)), ((1, 3, 6),)),
                   Shp({}, ((1, 3), (2, 0)), ((2, 3),)), Shp({}, ((1, 3), None), (None,)))),
    OpSpec("depth_to_space", R.depth_to_space, block_sample(True), dtypes=ALL, grad=True,
           errors=(Err({"block_size": 2}, ((1, 6, 2, 2),), match=r"\[1,6,2,2\]"),
                   Err({"block_size": 2}, ((4, 2, 2),), match="4-D"),
                   Err({"block_size": 0}, ((1, 4, 2, 2),), match="block_size=0")),
           shapes=(Shp({"block_size": 2}, ((2, 8, 2, 3),), ((2, 2, 4, 6),)),
                   Shp({"block_size": 2}, (None,), ((2, 2, 4, 6),), outs=((2, 2, 4, 6),), want_ins=((2, 8, 2, 3),)))),
    OpSpec("space_to_depth", R.space_to_depth, block_sample(False), dtypes=ALL, grad=True,
           errors=(Err({"block_size": 2}, ((1, 1, 3, 2),), match=r"\[1,1,3,2\]"),),
           shapes=(Shp({"block_size": 2}, ((2, 2, 4, 6),), ((2, 8, 2, 3),)),)),
    OpSpec("diag", R.diag, diag_sample, dtypes=ALL, grad=True,
           errors=(Err({"axis1": 1, "axis2": 1}, ((2, 3, 4),), match="same axis"),
                   Err({"axis1": 3}, ((2, 3, 4),), match="axis1=3"), Err({}, ((),), match=r"\(\)")),
           shapes=(Shp({"k": 1}, ((3,),), ((4, 4),)), Shp({"k": -2}, ((3,),), ((5, 5),)),
                   Shp({"k": 1}, ((3, 4),), ((3,),)), Shp({"k": 4}, ((3, 4),), ((0,),)),
                   Shp({"k": 1, "axis1": -1, "axis2": 0}, ((2, 3, 4),), ((3, 1),)))),
    OpSpec("_arange", R.arange, arange_sample, dtypes=("float32", "float64", "int32", "int64"),
           attrs=(({"start": "5", "stop": "None", "step": "1.0", "repeat": "1", "infer_range": "False",
                    "dtype": "float32"}, {"start": 5.0, "stop": None, "repeat": 1, "infer_range": False}),),
           errors=(Err({"start": 4, "stop": 1, "step": 1}, match=r"\(4, 1, 1\)"),
                   Err({"start": 0, "stop": 5, "step": 0}, match="step=0"), Err({}, exc=ParamError, match="start")),
           shapes=(Shp({"start": 5}, (), ((5,),)), Shp({"start": 1, "stop": 4, "step": 0.5, "repeat": 2}, (), ((12,),)),
                   Shp({"start": 4, "stop": 1, "step": -1.5}, (), ((2,),)),
                   Shp({"start": 0.5, "stop": 5.5, "step": 1.3, "dtype": "int32"}, (), ((4,),)),
                   Shp({"start": 2, "step": 3, "infer_range": True}, (), (None,)),
                   Shp({"start": 2, "step": 3, "infer_range": True}, (), ((4,),), outs=((4,),)))),   # ours
    OpSpec("_eye", R.eye, eye_sample, dtypes=ALL,
           attrs=(({"N": "3", "M": "0", "k": "0", "dtype": "int32"}, {"N": 3, "M": 0, "k": 0}),),
           errors=(Err({"N": -1}, match="N=-1"), Err({}, exc=ParamError, match="'N'")),
           shapes=(Shp({"N": 3, "M": 4, "k": 1}, (), ((3, 4),)), Shp({"N": 3}, (), ((3, 3),)))),
    OpSpec("UpSampling", R.upsampling, upsampling_sample, dtypes=_SAFE_F, grad=True, tol={"float32": (1e-5, 1e-5)},
           attrs=(({"scale": "2", "sample_type": "nearest", "num_args": "1"},
                   {"scale": 2, "sample_type": "nearest", "num_args": 1, "multi_input_mode": "concat"}),),
           errors=(Err({"scale": 2, "sample_type": "nearest", "num_args": 2}, ((1, 2, 2, 2), (1, 1, 1, 3)),
                       match=r"arg1 \[1,1,1,3\]"),
                   Err({"scale": 2, "sample_type": "nearest", "num_args": 2}, ((1, 2, 2, 2), (1, 1, 1, 2)),
                       match=r"arg1 \[1,1,1,2\]"),                           # ours: MXNet fails in the kernel
                   Err({"scale": 2, "sample_type": "nearest", "num_args": 1}, ((2, 2, 2),), match="4-D"),
                   Err({"scale": 2, "sample_type": "nearest", "num_args": 2, "multi_input_mode": "sum"},
                       ((1, 2, 2, 2), (1, 3, 1, 1)), match="equal channels"),
                   Err({"scale": 2, "sample_type": "bilinear", "num_args": 1, "num_filter": 2},
                       ((1, 2, 3, 3),), match="num_args=1"),                  # ours: data and weight given
                   Err({"scale": 2, "sample_type": "nearest", "num_args": 1}, dtypes=("int32",),
                       exc=DTypeError, match="int32")),
           shapes=(Shp({"scale": 2, "sample_type": "nearest", "num_args": 1}, ((1, 2, 2, 2),), ((1, 2, 4, 4),)),
                   Shp({"scale": 2, "sample_type": "nearest", "num_args": 2}, ((1, 2, 2, 2), (1, 3, 1, 1)),
                       ((1, 5, 4, 4),)),
                   Shp({"scale": 2, "sample_type": "bilinear", "num_args": 2, "num_filter": 2}, ((1, 2, 3, 3), None),
                       ((1, 2, 6, 6),), want_ins=((1, 2, 3, 3), (2, 1, 4, 4))),
                   Shp({"scale": 3, "sample_type": "bilinear", "num_args": 2}, ((1, 3, 3, 3), None),
                       ((1, 3, 9, 9),), want_ins=((1, 3, 3, 3), (3, 1, 5, 5))))),
]

# Internal backward ops: each is run by the gradient check of its forward op (tests/test_gradients.py).
EXEMPT = {name: "internal to %s's gradient; checked through it in tests/test_gradients.py" % forward
          for name, forward in [("_backward_tile", "tile"), ("_backward_repeat", "repeat"), ("_backward_Pad", "Pad"),
                                ("_backward_slice", "slice"), ("_backward_slice_axis", "slice_axis"),
                                ("_backward_slice_like", "slice_like"), ("_backward_diag", "diag"),
                                ("_backward_UpSampling", "UpSampling")]}
