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
from . import contrib, image, monitor, operator, registry, runtime, util  # noqa: E402
from ._mxnet_alias import install_as_mxnet  # noqa: E402
from .attribute import AttrScope  # noqa: E402
from .base import MXNetError  # noqa: E402
from .context import Context, cpu, cpu_pinned, current_context, gpu, num_gpus  # noqa: E402
from .executor import Executor  # noqa: E402
from .util import (is_np_array, is_np_shape, np_array, np_shape, set_np_shape, use_np, use_np_array,  # noqa: E402,F401
                   use_np_shape)

nd = ndarray
mod = module
sym = symbol
init = initializer


def waitall():
    """Wait for every pending operation (MXNet's `mx.nd.waitall`)."""
    ndarray.waitall()
