"""Test settings: hypothesis profiles ("dev" locally, "ci" when CI=true: fewer examples; HYPOTHESIS_PROFILE overrides),
and a clean engine at the start of every test.

deadline=None: the first example of an op JIT-compiles its kernel for a dtype. too_slow is suppressed for the
same reason.
"""
import os

import pytest
from hypothesis import HealthCheck, settings

_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("dev", max_examples=50, **_COMMON)
settings.register_profile("ci", max_examples=20, derandomize=True, print_blob=True, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") == "true" else "dev"))


@pytest.fixture(autouse=True)
def _no_engine_error_left_from_an_earlier_test():
    """Start each test with no pending engine error: `waitall` raises the first error since the last `waitall`,
    even one a test already saw at `asnumpy()` (MXNet forgets those), so one test's expected failure would
    otherwise surface in the next test that calls `waitall`."""
    from scheduler.engine import get_engine
    try:
        get_engine().waitall()
    except Exception:  # noqa: BLE001 - the earlier test's error, already checked there
        pass
    yield
