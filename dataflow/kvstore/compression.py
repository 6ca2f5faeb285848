"""Gradient compression (`KVStore.set_gradient_compression`): MXNet's 2-bit quantisation with a residual.

Each pushing context keeps a residual per key; a push adds the gradient to it, and each element sends +threshold
when the residual reached threshold, -threshold when it reached -threshold, else 0, subtracting what it sent. The
store sums the dequantised values, so the numbers are MXNet's. MXNet packs 16 such codes into one float on the
wire; here the dequantised float32 values are reduced (the same sums, without the bandwidth saving).
"""
import numba
import numpy as np

from ..base import MXNetError


@numba.njit(nogil=True, cache=True)
def _quantize_2bit(grad, residual, threshold, out):
    for i in range(grad.size):
        r = residual[i] + grad[i]
        q = threshold if r >= threshold else (-threshold if r <= -threshold else 0.0)
        residual[i] = r - q
        out[i] = q


class TwoBit:
    """2-bit quantisation with threshold `threshold` (> 0) and one residual per (key, context)."""

    def __init__(self, threshold=0.5):
        threshold = float(threshold)
        if not threshold > 0:
            raise MXNetError("gradient compression 2bit: threshold must be positive, got %r" % threshold)
        self.threshold = threshold
        self._residuals = {}

    def __call__(self, key, slot, grad):
        """The quantised `grad` (numpy float32) pushed for `key` from context number `slot`."""
        flat = np.ascontiguousarray(grad, dtype=np.float32).reshape(-1)
        residual = self._residuals.get((key, slot))
        if residual is None or residual.size != flat.size:
            residual = self._residuals[(key, slot)] = np.zeros(flat.size, np.float32)
        out = np.empty_like(flat)
        _quantize_2bit(flat, residual, np.float32(self.threshold), out)
        return out.reshape(np.shape(grad))


def create(params):
    """The compressor for MXNet's `compression_params` dict ({'type': '2bit', 'threshold': 0.5})."""
    params = dict(params or {})
    kind = params.pop("type", None)
    if kind is None:
        raise MXNetError("gradient compression: compression_params needs a 'type' (only '2bit' exists)")
    if kind == "none":
        return None
    if kind != "2bit":
        raise MXNetError("gradient compression: unknown type %r (only '2bit' exists)" % (kind,))
    unknown = set(params) - {"threshold"}
    if unknown:
        raise MXNetError("gradient compression 2bit: unknown parameter(s) %s" % ", ".join(sorted(unknown)))
    return TwoBit(params.get("threshold", 0.5))
