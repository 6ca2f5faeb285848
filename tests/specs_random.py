"""Spec rows of the random family (ops/random.py): none, since samples have no pointwise numpy reference.

Every random op is exempt from the generic kernel tests; tests/test_random*.py check seeding, shapes and dtypes
against MXNet 1.9.1 fixtures (tests/fixtures/mxnet-1.9.1/random/) and the draws' distributions statistically.
"""
from ops import random as random_ops

SPECS = []

_WHY = "random: no pointwise reference; shapes/dtypes against MXNet fixtures and statistics in tests/test_random*.py"
EXEMPT = {name: _WHY for name in
          ["_random_%s_like" % d for d in random_ops.SAMPLERS if d != "randint"]
          + ["_sample_" + d for d in random_ops._SAMPLE_INPUTS] + ["_sample_unique_zipfian"]}
