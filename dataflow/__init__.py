"""dataflow: run Apache MXNet 1.x code (`import dataflow as mx`) on numba kernels.

The package mirrors MXNet's Python API: `sym`/`symbol`, `nd`/`ndarray`, `cpu`/`gpu`/`Context`, `name`,
`attribute`, `executor`. See ARCHITECTURE.md for how a graph becomes running kernels.
"""
__version__ = "1.9.1"   # the MXNet API version this package reproduces

from . import attribute, base, context, name  # noqa: E402
from . import autograd, ndarray, random, symbol  # noqa: E402
from . import lr_scheduler, optimizer  # noqa: E402
from . import viz  # noqa: E402
from . import initializer, test_utils  # noqa: E402
from . import gluon  # noqa: E402
from . import callback, io, metric, model, module  # noqa: E402
from .attribute import AttrScope  # noqa: E402
from .base import MXNetError  # noqa: E402
from .context import Context, cpu, cpu_pinned, current_context, gpu, num_gpus  # noqa: E402
from .executor import Executor  # noqa: E402

nd = ndarray
mod = module
sym = symbol
init = initializer


def waitall():
    """Wait for every pending operation (MXNet's `mx.nd.waitall`)."""
    ndarray.waitall()
