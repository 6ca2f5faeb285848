"""`mx.random`: seeding, and the sampling functions of `mx.nd.random` (`mx.random.uniform` is
`mx.nd.random.uniform`)."""
from ops import random_state

from .base import integer_types
from .context import Context
from .ndarray.random import *  # noqa: F401, F403 - MXNet's mx.random re-exports them
from .ndarray.random import __all__ as _sampling

__all__ = ["seed"] + _sampling


def seed(seed_state, ctx="all"):
    """Seed the generator every random kernel draws from; a seeded run repeats exactly.

    `seed_state` is an int; like MXNet, which passes it on as a C int, only its low 32 bits count (so -1 and
    2**32 - 1 seed alike). `ctx` is accepted for MXNet's signature: dataflow has one generator for all devices,
    so seeding one device seeds them all."""
    if not isinstance(seed_state, integer_types):
        raise ValueError("seed_state must be int")
    if ctx != "all":
        Context(ctx)        # a bad device is still an error
    random_state.seed(int(seed_state) & 0xFFFFFFFF)
