"""Where the MXNet material the tests compare against lives: inside the repository, so a fresh clone is complete.

- FIXTURES: files written by real MXNet 1.9.1 (tests/fixtures/mxnet-1.9.1/README.md says how and what each holds).
- SEED: what MXNet 1.9.1 printed for the seed tutorial, and its plot_network sources (examples/seed/).
"""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "mxnet-1.9.1")
SEED = os.path.join(ROOT, "examples", "seed")
