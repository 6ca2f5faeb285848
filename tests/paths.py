"""Where the MXNet material the tests compare against lives: inside the repository, so a fresh clone is complete.

- FIXTURES: files written by real MXNet 1.9.1 (tests/fixtures/mxnet-1.9.1/README.md says how and what each holds).
- SEED: what MXNet 1.9.1 printed for the seed tutorial, and its plot_network sources (examples/seed/).
- load_reference: a fixture script of reference/ as a module, for the inputs and blocks it builds.
"""
import importlib.util
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "mxnet-1.9.1")
SEED = os.path.join(ROOT, "examples", "seed")


def load_reference(name):
    """reference/<name>.py as a module (the scripts import mxnet only inside what records, so this runs here).
    sys.path is restored afterwards: a script that puts tests/ on it for its own imports would otherwise make
    `reference` resolve to tests/reference.py for every later `from reference import ...`."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "reference", name + ".py"))
    module = importlib.util.module_from_spec(spec)
    saved = list(sys.path)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = saved
    return module
