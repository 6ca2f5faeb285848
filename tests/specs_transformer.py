"""Op spec rows for ops/transformer.py; see tests/op_specs.py. References: tests/reference_transformer.py.
Golden shapes and dtypes checked on MXNet 1.9.1. Import tests.op_specs, never this module first."""
import numpy as np
from hypothesis import strategies as st

from tests import reference_transformer as R
from tests.op_specs import FLOATS, NUMERIC, SHAPES, Err, OpSpec, Shp, array

_TOL = {"float16": (4e-3, 4e-3), "float32": (1e-5, 1e-5), "float64": (1e-10, 1e-10)}


def _data(draw, dtype):
    return {}, [array(draw, dtype, draw(SHAPES))]


def _arange_like_sample(draw, dtype):
    x = array(draw, dtype, draw(SHAPES))
    attrs = {"start": draw(st.sampled_from([0.0, 2.0, 5.0])), "step": draw(st.sampled_from([1.0, 3.0, 0.5])),
             "repeat": draw(st.integers(1, 3))}
    if draw(st.booleans()):
        attrs["axis"] = draw(st.integers(-x.ndim, x.ndim - 1))
    if np.dtype(dtype).kind in "iu":        # integer outputs: whole start and step (a C++ cast truncates)
        attrs["step"] = float(int(attrs["step"])) or 1.0
    return attrs, [x]


def _qkv_shape(draw):
    seq, batch, heads, dim = (draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 3)),
                              draw(st.integers(1, 3)))
    return (seq, batch, heads * 3 * dim), heads


def _qk_sample(draw, dtype):
    shape, heads = _qkv_shape(draw)
    return {"heads": heads}, [array(draw, dtype, shape, "unit")]


def _valatt_sample(draw, dtype):
    shape, heads = _qkv_shape(draw)
    att = array(draw, dtype, (shape[1] * heads, shape[0], shape[0]), "unit")
    return {"heads": heads}, [array(draw, dtype, shape, "unit"), att]


def _encdec_shapes(draw):
    q_seq, k_seq, batch, heads, dim = (draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 3)),
                                       draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    return (q_seq, batch, heads * dim), (k_seq, batch, heads * 2 * dim), (batch * heads, q_seq, k_seq), heads


def _encdec_qk_sample(draw, dtype):
    q, kv, _, heads = _encdec_shapes(draw)
    return {"heads": heads}, [array(draw, dtype, q, "unit"), array(draw, dtype, kv, "unit")]


def _encdec_valatt_sample(draw, dtype):
    _, kv, att, heads = _encdec_shapes(draw)
    return {"heads": heads}, [array(draw, dtype, kv, "unit"), array(draw, dtype, att, "unit")]


SPECS = [
    OpSpec("_contrib_div_sqrt_dim", R.div_sqrt_dim, _data, dtypes=FLOATS + ("int32",), tol=_TOL, grad=True,
           shapes=(Shp({}, ((2, 5),), ((2, 5),)),)),
    OpSpec("_contrib_arange_like", R.arange_like, _arange_like_sample, dtypes=NUMERIC,
           attrs=(({"start": "2", "step": "0.5", "repeat": "2", "axis": "-1"},
                   {"start": 2.0, "step": 0.5, "repeat": 2, "axis": -1}),
                  ({"axis": "None"}, {"axis": None})),
           errors=(Err({"axis": 2}, shapes=((3, 4),), match="axis=2 is out of range"),
                   Err({"repeat": 0}, shapes=((3, 4),), match="repeat=0")),
           shapes=(Shp({}, ((3, 4),), ((3, 4),)), Shp({"axis": 0}, ((3, 4),), ((3,),)),
                   Shp({"axis": -1}, ((3, 4),), ((4,),)))),
    OpSpec("_contrib_interleaved_matmul_selfatt_qk", R.selfatt_qk, _qk_sample, dtypes=FLOATS, tol=_TOL, grad=True,
           errors=(Err({"heads": 5}, shapes=((3, 2, 12),), match="heads=5"),
                   Err({"heads": 1}, shapes=((3, 12),), match="3-D")),
           shapes=(Shp({"heads": 2}, ((3, 2, 12),), ((4, 3, 3),)),)),
    OpSpec("_contrib_interleaved_matmul_selfatt_valatt", R.selfatt_valatt, _valatt_sample, dtypes=FLOATS, tol=_TOL,
           grad=True, shapes=(Shp({"heads": 2}, ((3, 2, 12), None), ((3, 2, 4),), want_ins=((3, 2, 12), (4, 3, 3))),)),
    OpSpec("_contrib_interleaved_matmul_encdec_qk", R.encdec_qk, _encdec_qk_sample, dtypes=FLOATS, tol=_TOL,
           grad=True,
           errors=(Err({"heads": 3}, shapes=((3, 2, 4), (5, 2, 8)), match="queries.*heads=3"),
                   Err({"heads": 2}, shapes=((3, 2, 4), (5, 8)), match="keys_values must be 3-D"),
                   Err({"heads": 2}, shapes=((3, 2, 4), (5, 2, 6)), match=r"last dim of keys_values \(6\)")),
           shapes=(Shp({"heads": 2}, ((3, 2, 4), (5, 2, 8)), ((4, 3, 5),)),
                   Shp({"heads": 2}, ((3, 2, 4), None), (None,)))),
    OpSpec("_contrib_interleaved_matmul_encdec_valatt", R.encdec_valatt, _encdec_valatt_sample, dtypes=FLOATS,
           tol=_TOL, grad=True,
           errors=(Err({"heads": 2}, shapes=((5, 2, 8), (4, 3)), match="attention must be 3-D"),),
           shapes=(Shp({"heads": 2}, ((5, 2, 8), (4, 3, 5)), ((3, 2, 4),)),
                   Shp({"heads": 2}, ((5, 2, 8), None), (None,)))),
]

EXEMPT = {name: "internal to %s's gradient; checked through it in tests/test_gradients.py" % forward
          for name, forward in (("_backward_interleaved_matmul_selfatt_qk", "_contrib_interleaved_matmul_selfatt_qk"),
                                ("_backward_interleaved_matmul_selfatt_valatt",
                                 "_contrib_interleaved_matmul_selfatt_valatt"),
                                ("_backward_interleaved_matmul_encdec_qk", "_contrib_interleaved_matmul_encdec_qk"),
                                ("_backward_interleaved_matmul_encdec_valatt",
                                 "_contrib_interleaved_matmul_encdec_valatt"))}
