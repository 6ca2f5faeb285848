"""Op spec rows for ops/contrib_indexing.py; see tests/op_specs.py. References: tests/reference_contrib_indexing.py.
Golden shapes checked on MXNet 1.9.1. Import tests.op_specs, never this module first."""
import numpy as np
from hypothesis import strategies as st

from tests import reference_contrib_indexing as R
from tests.op_specs import ALL, FLOATS, NUMERIC, SHAPES, Err, OpSpec, Shp, array

_INDEX_DTYPES = ("float32", "int32", "int64", "float16")


def _index_copy_sample(draw, dtype):
    old = draw(SHAPES)
    rows = draw(st.integers(1, old[0]))
    index = draw(st.permutations(range(old[0])))[:rows]          # distinct: the gradient check needs them
    index_dtype = draw(st.sampled_from(_INDEX_DTYPES))
    return {}, [array(draw, dtype, old), np.array(index, index_dtype), array(draw, dtype, (rows,) + old[1:])]


def _index_array_sample(draw, dtype):
    x = array(draw, dtype, draw(SHAPES))
    if draw(st.booleans()):
        return {}, [x]
    # at least one axis: axes=() makes a last dimension of 0, which a bound graph reads as unknown (MXNet 1.x's
    # convention); imperatively it is checked against MXNet in tests/test_contrib_indexing_ops.py
    axes = draw(st.lists(st.integers(-x.ndim, x.ndim - 1), min_size=1, max_size=4))
    return {"axes": tuple(axes)}, [x]


def _boolean_mask_sample(draw, dtype):
    x = array(draw, dtype, draw(SHAPES))
    index_dtype = draw(st.sampled_from(_INDEX_DTYPES + ("uint8",)))
    return {}, [x, array(draw, index_dtype, (x.shape[0],), "unit")]


SPECS = [
    OpSpec("_contrib_index_copy", R.index_copy, _index_copy_sample, dtypes=NUMERIC, grad=True,
           grad_inputs=("old_tensor", "new_tensor"),
           errors=(Err({}, shapes=((5, 3), (3, 1), (3, 3)), match="index_vector must be 1-D"),
                   Err({}, shapes=((5, 3), (3,), (3,)), match="rank"),
                   Err({}, shapes=((2, 3), (3,), (3, 3)), match="more rows")),
           shapes=(Shp({}, ((5, 3), (3,), (3, 3)), ((5, 3),)),
                   Shp({}, ((5, 3, 2), None, None), ((5, 3, 2),), want_ins=((5, 3, 2), (0,), (0, 3, 2))),
                   Shp({}, ((5, 3), (2,), None), ((5, 3),), want_ins=((5, 3), (2,), (2, 3))))),
    OpSpec("_contrib_index_array", R.index_array, _index_array_sample, dtypes=ALL,
           attrs=(({"axes": "(1, 0)"}, {"axes": (1, 0)}), ({"axes": "None"}, {"axes": None})),
           errors=(Err({"axes": (3,)}, shapes=((3, 2, 2),), match=r"axes=\(3,\) is out of range"),),
           shapes=(Shp({}, ((3, 2),), ((3, 2, 2),)), Shp({"axes": (1, 0)}, ((3, 2, 2),), ((3, 2, 2, 2),)),
                   Shp({"axes": ()}, ((3, 2, 2),), ((3, 2, 2, 0),)), Shp({}, ((4,),), ((4, 1),)))),
    OpSpec("_contrib_boolean_mask", R.boolean_mask, _boolean_mask_sample, dtypes=FLOATS + ("int32", "uint8"),
           skips={"rules": "the output's shape depends on index's values: checked imperatively in "
                           "tests/test_contrib_indexing_ops.py"},
           errors=(Err({"axis": 1}, shapes=((4, 3), (3,)), match="axis=1 is not supported"),
                   Err({}, shapes=((4, 3), (4, 1)), match="index must be 1-D"),
                   Err({}, shapes=((4, 3), (3,)), match="one entry per row"),
                   Err({}, shapes=((4, 3), (4,)), match="depends on the values of `index`")),
           shapes=(Shp({}, (None, (4,)), (None,)),)),
]

EXEMPT = {
    "_contrib_backward_index_copy": "internal to _contrib_index_copy's gradient; checked through it in "
                                    "tests/test_gradients.py and against MXNet in tests/test_contrib_indexing_ops.py",
    "_contrib_backward_boolean_mask": "internal to _contrib_boolean_mask's gradient; checked against MXNet and "
                                      "numeric gradients in tests/test_contrib_indexing_ops.py",
}
