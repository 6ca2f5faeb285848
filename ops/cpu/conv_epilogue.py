"""The epilogue of a convolution's forward: per output channel scale and bias, then an activation, applied in the
pass that writes the output (inference folding, ops/fold.py `_conv_fused`; a plain Convolution's bias).

The activations are one formula, so one loop serves them all: v = conv * scale[f] + bias[f], then
    v = v if v > 0 else v * slope          (LeakyReLU 'leaky'; slope 1 leaves v as it is)
    v = lo_value if v < lo, hi_value if v > hi  (clip; relu is clip to [0, inf))
with the comparisons and the NaN behaviour of the ops they stand for: NaN stays NaN (every comparison is false),
and `clip`'s bounds are compared as ops/cpu/indexing.py's clip compares them (its `_bounds`: float32 data against
bounds rounded inwards, the same answers as MXNet's double comparisons), its later test winning when a_min > a_max.
All selects, no branches: LLVM vectorises the loops.
"""
import numba
import numpy as np

from .common import scalar_in
from .indexing import _bounds

__all__ = ["Activation", "activate", "activation", "channel_args", "epilogue", "epilogue_in_place"]


class Activation:
    """The activation of an epilogue as the scalars of the loops (slope, lo, hi, lo_value, hi_value) in the data's
    dtype; `none(dtype)` for none."""

    def __init__(self, on, scalars):
        self.on, self.scalars = on, scalars

    @classmethod
    def none(cls, dtype):
        return cls(False, _identity_scalars(dtype))

    @classmethod
    def clip(cls, a_min, a_max, dtype, slope=1.0):
        lo, hi = _bounds(_Bounds(a_min, a_max), dtype)
        cast = dtype.type
        return cls(True, (cast(slope), cast(lo), cast(hi), scalar_in(a_min, dtype)[()], scalar_in(a_max, dtype)[()]))

    def args(self):
        return (self.on,) + self.scalars


class _Bounds:
    def __init__(self, a_min, a_max):
        self.a_min, self.a_max = a_min, a_max


def _identity_scalars(dtype):
    cast = dtype.type
    return cast(1), cast(-np.inf), cast(np.inf), cast(-np.inf), cast(np.inf)


def activation(p, dtype):
    """The Activation of a `_conv_fused` node's params (act_type none, relu, clip with a_min/a_max, leaky with
    slope) for data of `dtype` (float32 or float64)."""
    dtype = np.dtype(dtype)
    kind = getattr(p, "act_type", "none")
    if kind == "relu":
        return Activation.clip(0.0, np.inf, dtype)
    if kind == "clip":
        return Activation.clip(p.a_min, p.a_max, dtype)
    if kind == "leaky":
        return Activation(True, (dtype.type(p.slope),) + _identity_scalars(dtype)[1:])
    return Activation.none(dtype)


@numba.njit(inline="always")
def activate(v, on, slope, lo, hi, lo_value, hi_value):
    """v through the activation whose loop scalars (`Activation.args()`) follow it."""
    if on:
        if not v > 0:
            v = v * slope
        r = v
        if v < lo:
            r = lo_value
        if v > hi:
            r = hi_value
        v = r
    return v


@numba.njit(nogil=True, cache=True)
def epilogue(src, pitch, scale, bias, on, slope, lo, hi, lo_value, hi_value, dst):
    """dst[f, z, y, x] = act(src[f, (z * pitch[0] + y) * pitch[1] + x] * scale[f] + bias[f]): a GEMM's columns src
    (F, L) cropped into dst (F, OD, OH, OW), a separate array."""
    F, OD, OH, OW = dst.shape
    PH, PW = pitch
    for f in range(F):
        s, b = scale[f], bias[f]
        for z in range(OD):
            for y in range(OH):
                row, source = dst[f, z, y], src[f, (z * PH + y) * PW:]     # views: the loop vectorises
                for x in range(OW):
                    row[x] = activate(source[x] * s + b, on, slope, lo, hi, lo_value, hi_value)


@numba.njit(nogil=True, cache=True)
def epilogue_in_place(a, scale, bias, on, slope, lo, hi, lo_value, hi_value):
    """a[f, j] = act(a[f, j] * scale[f] + bias[f]) over a C-contiguous (F, L) array."""
    F, L = a.shape
    for f in range(F):
        s, b = scale[f], bias[f]
        row = a[f]
        for j in range(L):
            row[j] = activate(row[j] * s + b, on, slope, lo, hi, lo_value, hi_value)


def channel_args(scale, bias, channels, dtype):
    """(scale, bias) arrays of `channels` for the loops: ones for no scale, zeros for no bias."""
    return (np.ones(channels, dtype) if scale is None else scale,
            np.zeros(channels, dtype) if bias is None else bias)
