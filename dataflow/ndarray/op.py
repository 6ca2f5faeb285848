"""MXNet's `ndarray.op`: the generated NDArray op functions (`gen_op`) and `CachedOp`."""
from . import CachedOp, gen_op  # noqa: F401
from .gen_op import *  # noqa: F401,F403

__all__ = ["CachedOp"] + gen_op.__all__
