"""Op spec rows for ops/resize.py; see tests/op_specs.py. Reference: tests/reference_resize.py. Golden shapes checked
on MXNet 1.9.1. Import tests.op_specs, never this module first."""
import numpy as np
from hypothesis import strategies as st

from tests import reference_resize as R
from tests.op_specs import FLOATS, Err, OpSpec, Shp, array

_TOL = {"float16": (4e-3, 4e-3), "float32": (1e-5, 1e-5), "float64": (1e-12, 1e-12)}
_MODES = ("size", "scale", "odd_scale", "like", "to_even_down", "to_even_up", "to_odd_down", "to_odd_up")


def _sample(draw, dtype):
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(2, 5)), draw(st.integers(2, 5)))
    mode = draw(st.sampled_from(_MODES))
    attrs = {"align_corners": draw(st.booleans())}
    inputs = [array(draw, dtype, shape, "unit")]
    if mode in ("size", "like"):
        size = (draw(st.integers(1, 7)), draw(st.integers(1, 7)))
        if mode == "like":
            attrs["mode"] = "like"
            inputs.append(np.zeros((1, 1) + size, dtype))
        else:
            attrs.update(height=size[0], width=size[1])
    elif mode in ("scale", "odd_scale"):
        attrs.update(scale_height=draw(st.sampled_from([1.0, 1.5, 2.0, 3.0])),
                     scale_width=draw(st.sampled_from([1.0, 1.5, 2.0, 2.5])))
        if mode == "odd_scale":
            attrs["mode"] = "odd_scale"
    else:
        attrs["mode"] = mode
    return attrs, inputs


SPECS = [
    OpSpec("_contrib_BilinearResize2D", R.bilinear_resize, _sample, dtypes=FLOATS, tol=_TOL, grad=True,
           grad_inputs=("data",),
           attrs=(({"height": "5", "width": "6", "align_corners": "False", "mode": "size"},
                   {"height": 5, "width": 6, "align_corners": False, "mode": "size"}),
                  ({"scale_height": "None", "scale_width": "2.5"}, {"scale_height": None, "scale_width": 2.5})),
           errors=(Err({"mode": "odd_scale"}, shapes=((1, 1, 4, 6),), match="needs both scale_height and scale_width"),
                   Err({"scale_height": 2.0}, shapes=((1, 1, 4, 6),), match="needs both"),
                   Err({"mode": "to_even_down"}, shapes=((1, 1, 1, 4),), match="output of 0x4"),
                   Err({}, shapes=((1, 4, 6),), match="data must be 4-D")),
           shapes=(Shp({"height": 3, "width": 4}, ((1, 2, 5, 5),), ((1, 2, 3, 4),)),
                   Shp({"height": 3, "width": 4}, ((1, 2, 0, 0),), ((1, 2, 3, 4),)),
                   Shp({"mode": "like"}, ((1, 2, 4, 6), (2, 5, 7, 3)), ((1, 2, 7, 3),)),
                   Shp({"mode": "odd_scale", "scale_height": 0.5, "scale_width": 3.0}, ((1, 1, 5, 5),),
                       ((1, 1, 3, 13),)),
                   Shp({"mode": "to_odd_up"}, ((1, 1, 4, 6),), ((1, 1, 5, 7),)))),
]

EXEMPT = {"_backward_contrib_BilinearResize2D": "internal to _contrib_BilinearResize2D's gradient; checked through it "
                                                "in tests/test_gradients.py and against MXNet in "
                                                "tests/test_bilinear_resize.py"}
