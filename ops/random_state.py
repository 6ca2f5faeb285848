"""The one source of randomness for kernels (Dropout masks, the random ops), seeded by `mx.random.seed`.

Kernels draw from `generator()`, a numpy Generator; `seed(n)` resets it, so a seeded dataflow run repeats exactly.
Draws happen when kernels run, in engine order, which is the order ops were pushed for dependent work.
"""
import threading

import numpy as np

_lock = threading.Lock()
_generator = np.random.default_rng(0)


def seed(seed_state):
    """Reset the generator (MXNet's `mx.random.seed`)."""
    global _generator
    with _lock:
        _generator = np.random.default_rng(int(seed_state))


def generator():
    """The current numpy Generator."""
    return _generator
