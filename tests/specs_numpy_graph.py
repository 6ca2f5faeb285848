"""Op spec rows for the numpy-mode ops a hybridized block's tile, argmax, diag, reshape, tril, split, pad,
concatenate and around build (see tests/op_specs.py): `_npi_tile`, `_npi_argmax`, `_npi_argmin`, `_npi_diag`,
`_npi_diagonal`, `_np_reshape`, `_npi_tril` and `_npi_triu` (ops/numpy_shapes.py), `_split_v2` and `_npi_hsplit`
(ops/stack_split.py), `_npi_concatenate`, `_npi_hstack` and `_npi_around` (ops/numpy_ops.py), `_npi_pad`
(ops/numpy_pad.py). The references are NumPy's tile, argmax, argmin, diag, diagonal, reshape, tril, triu,
array_split, hsplit, concatenate, hstack, pad and around (integers: MXNet's truncation). Pieces and inputs may be
empty (the hybridized cases of tests/test_numpy_graph_shapes.py and tests/test_numpy_graph_more.py); these rows draw
non-empty ones. Import tests.op_specs, never this module first (op_specs appends these rows at its end).
"""
import numpy as np
from hypothesis import strategies as st

from ops.numpy_pad import MODES
from tests.op_specs import ALL, FLOATS, Err, OpSpec, Shp, array


def _shape(draw, min_dims=1, max_dims=3, min_side=1):
    return tuple(draw(st.integers(min_side, 4)) for _ in range(draw(st.integers(min_dims, max_dims))))


def _split_attrs(draw, length):
    """Sections or points giving non-empty pieces: the generic checks bind through the legacy shape inference,
    where a length 0 means unknown (empty pieces: tests/test_numpy_graph_shapes.py)."""
    if draw(st.booleans()):
        return {"indices": (), "sections": draw(st.integers(1, length))}
    points = sorted(draw(st.sets(st.integers(1, length - 1), max_size=3))) if length > 1 else []
    return {"indices": (0,) + tuple(points)}


def split_v2_sample(draw, dtype):
    shape = _shape(draw)
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    return dict(_split_attrs(draw, shape[axis]), axis=axis), [array(draw, dtype, shape)]


def hsplit_sample(draw, dtype):
    shape = _shape(draw)
    return _split_attrs(draw, shape[0 if len(shape) == 1 else 1]), [array(draw, dtype, shape)]


def _pieces(x, p, axis):
    if p.sections:
        return tuple(np.array_split(x, p.sections, axis=axis))
    return tuple(np.split(x, list(p.indices[1:]), axis=axis))


def _split_v2_ref(p, x):
    return _pieces(x, p, p.axis)


def _hsplit_ref(p, x):
    return _pieces(x, p, 0 if x.ndim == 1 else 1)


def concatenate_sample(draw, dtype):
    rest = _shape(draw, min_dims=0, max_dims=2)
    axis = draw(st.integers(0, len(rest)))
    lengths = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))      # empty inputs: as _split_attrs
    inputs = [array(draw, dtype, rest[:axis] + (n,) + rest[axis:]) for n in lengths]
    return {"num_args": len(inputs), "axis": axis - draw(st.sampled_from([0, len(rest) + 1]))}, inputs


def _concatenate_ref(p, *inputs):
    return np.concatenate(inputs, axis=p.axis)


def hstack_sample(draw, dtype):
    rest = _shape(draw, min_dims=0, max_dims=2)
    if not rest:        # vectors, joined along axis 0 (numbers too: the generic gradient check takes none)
        shapes = [(draw(st.integers(1, 3)),) for _ in range(draw(st.integers(1, 3)))]
    else:
        shapes = [rest[:1] + (draw(st.integers(1, 3)),) + rest[1:] for _ in range(draw(st.integers(1, 3)))]
    return {"num_args": len(shapes)}, [array(draw, dtype, s) for s in shapes]


def _hstack_ref(p, *inputs):
    return np.hstack(inputs)


def pad_sample(draw, dtype):
    shape = _shape(draw, max_dims=3)
    mode = draw(st.sampled_from(MODES))
    pairs = tuple((draw(st.integers(0, 5)), draw(st.integers(0, 5))) for _ in shape)
    attrs = {"pad_width": pairs[:1] if draw(st.booleans()) else pairs, "mode": mode}
    if mode == "constant" and draw(st.booleans()):
        attrs["constant_value"] = 1.5
    if mode in ("maximum", "minimum"):      # elements 0.5 apart: each extreme has a gradient
        order = draw(st.permutations(range(int(np.prod(shape)))))
        return attrs, [(np.asarray(order, dtype=np.float64).reshape(shape) * 0.5).astype(dtype)]
    return attrs, [array(draw, dtype, shape)]


def _pad_ref(p, x):
    extra = {"constant_values": x.dtype.type(p.constant_value)} if p.mode == "constant" else {}
    return np.pad(x, p.pad_width if len(p.pad_width) > 1 else p.pad_width * x.ndim, mode=p.mode, **extra)


def _around_ref(p, x):
    if x.dtype.kind == "f":
        return np.around(x, p.decimals)
    step = 10 ** max(-p.decimals, 0)          # MXNet truncates integers toward zero
    return (np.trunc(x.astype(np.float64) / step) * step).astype(x.dtype)


def around_sample(draw, dtype):
    return {"decimals": draw(st.integers(-3, 3))}, [array(draw, dtype, _shape(draw, min_dims=0))]


def _tile_ref(p, x):
    return np.tile(x, p.reps)


def np_tile_sample(draw, dtype):
    """Reps >= 1: a 0 rep (an empty result) is tested in tests/test_numpy_graph_more.py, a zero-dim input too."""
    reps = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=4)))
    return {"reps": reps}, [array(draw, dtype, _shape(draw))]


def _arg_ref(find):
    return lambda p, x: np.asarray(find(x, axis=None if x.ndim == 0 else p.axis, keepdims=p.keepdims))


def np_arg_sample(draw, dtype):
    shape = _shape(draw, min_dims=0)
    axis = draw(st.sampled_from([None] + list(range(-len(shape), len(shape))) or [0]))
    return {"axis": axis, "keepdims": draw(st.booleans())}, [array(draw, dtype, shape)]


def _on_the_matrix(draw, rows, cols):
    """An offset whose diagonal is not empty (an empty one: the shape rows and tests/test_numpy_graph_more.py)."""
    return draw(st.integers(1 - rows, cols - 1))


def np_diag_sample(draw, dtype):
    shape = _shape(draw, max_dims=2)
    k = draw(st.integers(-5, 5)) if len(shape) == 1 else _on_the_matrix(draw, *shape)
    return {"k": k}, [array(draw, dtype, shape)]


def np_diagonal_sample(draw, dtype):
    shape = _shape(draw, min_dims=2)
    axis1, axis2 = draw(st.permutations(range(len(shape))))[:2]
    attrs = {"offset": _on_the_matrix(draw, shape[axis1], shape[axis2]), "axis1": axis1, "axis2": axis2 - len(shape)}
    return attrs, [array(draw, dtype, shape)]


def np_reshape_sample(draw, dtype):
    """Non-empty inputs and NumPy's shapes (-1 inferred); zero lengths, the legacy codes: the shape rows and
    tests/test_numpy_graph_more.py."""
    shape = _shape(draw, min_dims=1)
    newshape = draw(st.permutations(shape))
    if draw(st.booleans()):
        newshape = newshape[:draw(st.integers(0, len(newshape) - 1))] + [-1]
    return {"newshape": tuple(newshape)}, [array(draw, dtype, shape)]


def np_triangle_sample(draw, dtype):
    return {"k": draw(st.integers(-3, 3))}, [array(draw, dtype, _shape(draw, min_dims=1))]


SPECS = [
    OpSpec("_npi_tril", lambda p, x: np.tril(x, p.k), np_triangle_sample, dtypes=ALL, grad=True,
           errors=(Err({"k": 0}, ((),), match="at least one dimension"),),
           shapes=(Shp({"k": 1}, ((3,),), ((3, 3),)), Shp({"k": -1}, ((2, 3, 4),), ((2, 3, 4),)))),
    OpSpec("_npi_triu", lambda p, x: np.triu(x, p.k), np_triangle_sample, dtypes=ALL, grad=True,
           shapes=(Shp({"k": 0}, ((2,),), ((2, 2),)),)),
    OpSpec("_np_reshape", lambda p, x: x.reshape(p.newshape), np_reshape_sample, dtypes=ALL, grad=True,
           errors=(Err({"newshape": (-1, 0)}, ((2, 0),), match="ambiguous"),
                   Err({"newshape": (3,)}, ((0, 3),), match="size 0"),
                   Err({"newshape": (-1, -1)}, ((0,),), match="only one -1")),
           shapes=(Shp({"newshape": (0,)}, ((1, 0),), ((0,),)), Shp({"newshape": (3, 0)}, ((0, 3),), ((3, 0),)),
                   Shp({"newshape": (0, -1)}, ((2, 3, 4),), ((2, 12),)))),
    OpSpec("_npi_diag", lambda p, x: np.diag(x, p.k), np_diag_sample, dtypes=ALL, grad=True,
           errors=(Err({"k": 0}, ((),), match="has no diagonal"),
                   Err({"k": 0}, ((2, 3, 4),), match="has no diagonal")),
           shapes=(Shp({"k": 6}, ((1, 5),), ((0,),)), Shp({"k": -2}, ((0,),), ((2, 2),)),
                   Shp({"k": 1}, ((3,),), ((4, 4),)))),
    OpSpec("_npi_diagonal", lambda p, x: np.diagonal(x, p.offset, p.axis1, p.axis2), np_diagonal_sample, dtypes=ALL,
           grad=True, errors=(Err({"axis1": 1, "axis2": -1}, ((2, 3),), match="are not two axes"),),
           shapes=(Shp({"offset": -4}, ((3, 2, 4),), ((4, 0),)),
                   Shp({"offset": 1, "axis2": 2}, ((3, 2, 4),), ((2, 3),)))),
    OpSpec("_npi_argmax", _arg_ref(np.argmax), np_arg_sample, dtypes=FLOATS + ("int32", "uint8"),
           errors=(Err({"axis": 2}, ((2, 3),), match="axis 2 is out of range"),),
           shapes=(Shp({"axis": 0}, ((3,),), ((),)), Shp({"axis": -1}, ((),), ((),)),
                   Shp({"axis": None, "keepdims": True}, ((2, 3),), ((1, 1),)))),
    OpSpec("_npi_argmin", _arg_ref(np.argmin), np_arg_sample, dtypes=FLOATS + ("int32", "uint8"),
           shapes=(Shp({"axis": 1, "keepdims": True}, ((2, 3),), ((2, 1),)),)),
    OpSpec("_npi_tile", _tile_ref, np_tile_sample, dtypes=ALL, grad=True,
           errors=(Err({"reps": (-1,)}, ((2,),), match=r"reps=\(-1,\)"),),
           shapes=(Shp({"reps": (0, 2)}, ((2, 3),), ((0, 6),)), Shp({"reps": (2,)}, ((),), ((2,),)))),
    OpSpec("_npi_around", _around_ref, around_sample, dtypes=FLOATS + ("int32", "int64", "int8"),
           attrs=(({"decimals": "-1"}, {"decimals": -1}),), shapes=(Shp({}, ((),), ((),)),)),
    OpSpec("_split_v2", _split_v2_ref, split_v2_sample, dtypes=ALL, grad=True,
           attrs=(({"indices": "(0, 2, 3)", "axis": "0", "squeeze_axis": "False", "sections": "0"},
                   {"indices": (0, 2, 3), "axis": 0, "squeeze_axis": False, "sections": 0}),),
           errors=(Err({"indices": (0, 4, 2), "axis": 0}, ((6,),), match=r"\[4, 2\)"),
                   Err({"indices": (0, 8), "axis": 0}, ((6,),), match="length 6"),
                   Err({"indices": (), "axis": 0}, ((6,),), match="sections > 0 or indices")),
           shapes=(Shp({"indices": (0, 2, 2), "axis": 1}, ((3, 5),), ((3, 2), (3, 0), (3, 3))),
                   Shp({"indices": (), "sections": 3, "axis": -1}, ((2, 7),), ((2, 3), (2, 2), (2, 2))),
                   Shp({"indices": (0, 1), "axis": 0, "squeeze_axis": True}, ((2, 3),), ((3,), (3,))))),
    OpSpec("_npi_hsplit", _hsplit_ref, hsplit_sample, dtypes=FLOATS, grad=True,
           errors=(Err({"indices": (0, 1)}, ((),), match="1 or more dimensions"),),
           shapes=(Shp({"indices": (0, 4)}, ((6,),), ((4,), (2,))),
                   Shp({"indices": (), "sections": 2}, ((2, 6, 3),), ((2, 3, 3),) * 2))),
    OpSpec("_npi_concatenate", _concatenate_ref, concatenate_sample, dtypes=ALL, grad=True,
           shapes=(Shp({"num_args": 2, "axis": 0}, ((0, 3), (2, 3)), ((2, 3),)),
                   Shp({"num_args": 2, "axis": -1}, ((2, 1), (2, 3)), ((2, 4),)))),
    OpSpec("_npi_hstack", _hstack_ref, hstack_sample, dtypes=ALL, grad=True,
           shapes=(Shp({"num_args": 2}, ((), (2,)), ((3,),)),
                   Shp({"num_args": 2}, ((2, 1, 4), (2, 3, 4)), ((2, 4, 4),)),
                   Shp({"num_args": 2}, ((2, 0), (2, 3)), ((2, 3),)))),
    OpSpec("_npi_pad", _pad_ref, pad_sample, dtypes=FLOATS + ("int32", "uint8"), grad=True,
           attrs=(({"pad_width": "((1, 2),)", "mode": "constant", "constant_value": "0"},
                   {"pad_width": ((1, 2),), "mode": "constant", "constant_value": 0.0}),),
           errors=(Err({"pad_width": ((1, 2), (0, 1))}, ((2, 3, 4),), match="2 pairs for an input of 3 axes"),),
           shapes=(Shp({"pad_width": ((1, 2),)}, ((2, 3),), ((5, 6),)),
                   Shp({"pad_width": ((1, 2), (0, 0)), "mode": "reflect"}, ((0, 3),), ((3, 3),)))),
]

EXEMPT = {"_split_v2_backward": "internal to _split_v2's gradient; checked through it (grad=True)",
          "_npi_hsplit_backward": "internal to _npi_hsplit's gradient; checked through it (grad=True)",
          "_backward_npi_pad": "internal to _npi_pad's gradient; checked through it (grad=True)",
          "_backward_np_hstack": "internal to _npi_hstack's gradient; checked through it (grad=True)",
          "_backward_npi_tril": "internal to _npi_tril's gradient; checked through it (grad=True)",
          "_backward_npi_triu": "internal to _npi_triu's gradient; checked through it (grad=True)"}
