"""Op spec rows for ops/sparse_ops.py (the ops MXNet defines for sparse storage), on the dense arrays a graph
node sees; see tests/op_specs.py. References are numpy: cast_storage is a copy, `_sparse_retain` keeps the listed
rows and zeroes the others, `_square_sum` is sum(x * x) over MXNet's reduced axes, SparseEmbedding is Embedding.
The storage types and the sparse kernels are checked in tests/test_sparse_symbol.py and tests/test_sparse_ops.py.
Import tests.op_specs, never this module first.
"""
import numpy as np
from hypothesis import strategies as st

from ops.errors import ParamError
from tests import reference_reduce as RR
from tests import reference_shape as RS
from tests.op_specs import ALL, FLOATS, NUMERIC, SHAPES, Err, OpSpec, Shp, array, reduce_sample
from tests.specs_indexing import embedding_sample


def cast_storage_sample(draw, dtype):
    return {"stype": draw(st.sampled_from(["default", "row_sparse", "csr"]))}, [array(draw, dtype, draw(SHAPES))]


def cast_storage_ref(p, x):
    return x.copy()


def retain_sample(draw, dtype):
    data = array(draw, dtype, draw(SHAPES))
    rows = draw(st.lists(st.integers(0, data.shape[0] - 1), min_size=1, max_size=4))    # (0,) is unknown in 1.x
    index_dtype = draw(st.sampled_from([np.float32, np.int64]))
    return {}, [data, np.array(rows, index_dtype)]


def retain_ref(p, data, indices):
    out = np.zeros_like(data)
    rows = indices.astype(np.int64)
    out[rows] = data[rows]
    return out


def square_sum_ref(p, x):
    """In float64 (int64 for the sampled integers: |x| <= 20 on at most 256 elements never overflows int32)."""
    wide = np.float64 if x.dtype.kind == "f" else np.int64
    y = np.square(x.astype(wide)).sum(axis=RR.axes(p, x.ndim), keepdims=p.keepdims).astype(x.dtype)
    return y.reshape(1) if y.ndim == 0 else y


SPECS = [
    OpSpec("cast_storage", cast_storage_ref, cast_storage_sample, dtypes=ALL, aliases=("_sparse_cast_storage",),
           grad=True,
           attrs=(({"stype": "csr"}, {"stype": "csr"}),),
           errors=(Err({"stype": "coo"}, ((2, 2),), exc=ParamError, match="coo"),
                   Err({}, ((2, 2),), exc=ParamError, match="stype")),
           shapes=(Shp({"stype": "csr"}, ((2, 3),), ((2, 3),)),)),
    OpSpec("_sparse_retain", retain_ref, retain_sample, dtypes=NUMERIC, grad=True, grad_inputs=("data",),
           errors=(Err({}, ((3, 2), (2, 2)), match="indices"),),
           shapes=(Shp({}, ((4, 3), (2,)), ((4, 3),)), Shp({}, (None, (2,)), ((4, 3),), outs=((4, 3),),
                                                          want_ins=((4, 3), (2,))))),
    OpSpec("_square_sum", square_sum_ref, reduce_sample, dtypes=FLOATS + ("int32", "int64"), grad=True,
           tol={"float16": (5e-3, 5e-2)},
           errors=(Err({"axis": (2,)}, ((2, 2),), match="axis 2"),),
           shapes=(Shp({"axis": (1,), "keepdims": True}, ((4, 3),), ((4, 1),)), Shp({}, ((4, 3),), ((1,),)))),
    OpSpec("_contrib_SparseEmbedding", RS.embedding, embedding_sample, dtypes=NUMERIC, grad=True,
           grad_inputs=("weight",),
           shapes=(Shp({"input_dim": 10, "output_dim": 5}, ((2, 3), None), ((2, 3, 5),),
                       want_ins=((2, 3), (10, 5))),)),
]
