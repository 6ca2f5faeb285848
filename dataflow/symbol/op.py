"""MXNet's `symbol.op`: the generated Symbol op functions (`gen_op`)."""
from . import gen_op
from .gen_op import *  # noqa: F401,F403

__all__ = gen_op.__all__
