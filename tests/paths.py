"""Where the shared MXNet material lives: `../shared` beside the repository (as in CI), or $DATAFLOW_SHARED."""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("DATAFLOW_SHARED", os.path.join(ROOT, "..", "shared"))
FIXTURES = os.path.join(SHARED, "fixtures", "mxnet-1.9.1")
SEED = os.path.join(SHARED, "seed")
