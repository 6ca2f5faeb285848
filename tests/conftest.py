"""Hypothesis profiles: "dev" locally, "ci" when CI=true (fewer examples). HYPOTHESIS_PROFILE overrides.

deadline=None: the first example of an op JIT-compiles its kernel for a dtype. too_slow is suppressed for the
same reason.
"""
import os

from hypothesis import HealthCheck, settings

_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("dev", max_examples=50, **_COMMON)
settings.register_profile("ci", max_examples=20, derandomize=True, print_blob=True, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") == "true" else "dev"))
