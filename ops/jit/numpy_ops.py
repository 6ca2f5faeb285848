"""njit bodies of the numpy-mode ops (ops/numpy_ops.py, numpy_reductions.py) that compute what a legacy op does:
the arithmetic for operands of the result's dtype (the legacy broadcast ops' bodies, Note [the legacy kernel]
there), so compiled numpy-mode graphs fuse it, and sum/mean (the legacy reductions' body, which also writes a
zero-dim result). Mixed dtypes, `initial` and `axis=()` run interpreted."""
import numpy as np

from ops import registry
from ops.numpy_ops import LEGACY
from ops.numpy_reductions import NP_REDUCTIONS

from .common import builds
from .elemwise import BINARY, binary_body
from .nn import _reduce as _legacy_reduce


@builds(*LEGACY)
def _numpy_binary(op, params, in_meta, out_meta, req):
    dtype = np.dtype(out_meta[0][1])
    if any(np.dtype(m[1]) != dtype for m in in_meta):
        return None
    key = BINARY[LEGACY[op.name]].get(dtype)
    return None if key is None else binary_body(key, in_meta, out_meta, req)


@builds("_np_sum", "_npi_mean")
def _numpy_reduce(op, params, in_meta, out_meta, req):
    if params.initial is not None or (params.axis is not None and not params.axis):
        return None
    return _legacy_reduce(registry.get(NP_REDUCTIONS[op.name]), params, in_meta, out_meta, req)
