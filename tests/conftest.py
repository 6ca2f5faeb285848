"""Test settings: hypothesis profiles ("dev" locally, "ci" when CI=true: fewer examples; HYPOTHESIS_PROFILE overrides),
a clean engine at the start of every test, and `slow` tests (the whole model zoo, exported to ONNX and run) only
when asked for: `python -m pytest -m slow` (any -m expression naming slow) or DATAFLOW_SLOW_TESTS=1. CI runs them
in a step of their own (.ci/run), so the README's test command stays short.

The tests never import real MXNet (its answers are fixtures under tests/fixtures/mxnet-1.9.1/): `import mxnet` in a
test reaches dataflow through `install_as_mxnet()`'s alias, and without the alias it fails here (`_NoRealMXNet`)
even where an MXNet is installed.

deadline=None: the first example of an op JIT-compiles its kernel for a dtype. too_slow is suppressed for the
same reason.
"""
import importlib.abc
import os
import sys

import pytest
from hypothesis import HealthCheck, settings


class _NoRealMXNet(importlib.abc.MetaPathFinder):
    """Refuses `mxnet` and its submodules unless dataflow's alias finder is installed (it then answers them)."""

    def find_spec(self, name, path=None, target=None):
        if name != "mxnet" and not name.startswith("mxnet."):
            return None
        from dataflow import _mxnet_alias
        if any(isinstance(f, _mxnet_alias._MXNetAliasFinder) for f in sys.meta_path):
            return None
        raise ImportError("the tests never import real MXNet (%s): record its answers as fixtures" % name)


sys.meta_path.insert(0, _NoRealMXNet())

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


@pytest.fixture(autouse=True)
def _no_compile_left_queued_by_an_earlier_test():
    """Drop the background Plan compiles a test queued and did not wait for (scheduler/compile_range.py
    `cancel_pending`): its Plans are gone, and a backlog would run in later tests, slowing them and any `wait_all`."""
    yield
    from scheduler import compile_range
    compile_range.cancel_pending()


def pytest_collection_modifyitems(config, items):
    if "slow" in (config.getoption("markexpr") or "") or os.environ.get("DATAFLOW_SLOW_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="slow: run with -m slow or DATAFLOW_SLOW_TESTS=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
