"""dataflow: run Apache MXNet 1.x code (`import dataflow as mx`) on numba kernels.

The package mirrors MXNet's Python API: `sym`/`symbol`, `nd`/`ndarray`, `cpu`/`gpu`/`Context`, `name`,
`attribute`, `executor`. See ARCHITECTURE.md for how a graph becomes running kernels.

Note [lazy submodules]: `import dataflow` imports what a first model needs (arrays, symbols, autograd, Gluon's
blocks and layers) and nothing else: every other submodule (`mx.viz` and graphviz, `mx.test_utils` and
numpy.testing, `mx.module`, `mx.io`, `mx.metric`, `mx.optimizer`, `mx.lr_scheduler`, `mx.contrib`, `mx.image`, ...)
and name (`mx.Executor`) is imported on first use by the module `__getattr__` below, as `gluon.loss`,
`gluon.Trainer`, `gluon.rnn`, `gluon.data` ... by gluon's, so `mx.test_utils.assert_almost_equal` and
`from dataflow import viz` work as before. This machine sets PYTHONDONTWRITEBYTECODE, so every module imported
is also compiled from source at every start: each KB of source left out saves ~0.14 ms of CPU (issue 15).
"""
import importlib as _importlib
import importlib.util as _importlib_util

__version__ = "1.9.1"   # the MXNet API version this package reproduces

from ._startup import quick_import as _quick_import  # noqa: E402

with _quick_import():    # the cyclic GC paused, numba imported lean (Notes in dataflow/_startup.py)
    from . import attribute, base, context, name
    from . import autograd, ndarray, random, symbol
    from . import initializer
    from . import gluon
    from . import threads, util
    from ._mxnet_alias import install_as_mxnet
    from .attribute import AttrScope
    from .base import MXNetError
    from .context import Context, cpu, cpu_pinned, current_context, gpu, num_gpus
    from .util import (is_np_array, is_np_shape, np_array, np_shape, set_np_shape, use_np,  # noqa: F401
                       use_np_array, use_np_shape)

    threads._init()      # BLAS on one thread unless DATAFLOW_BLAS_THREADS says otherwise (Note [one BLAS thread])

nd = ndarray
sym = symbol
init = initializer

# Imported on first use (Note [lazy submodules]); any other submodule, e.g. `mx.engine`, is found the same way.
_LAZY = {"mod": "module", "viz": "viz", "test_utils": "test_utils", "callback": "callback", "io": "io",
         "metric": "metric", "model": "model", "module": "module", "contrib": "contrib", "image": "image",
         "img": "image", "monitor": "monitor", "operator": "operator", "registry": "registry", "runtime": "runtime",
         "optimizer": "optimizer", "lr_scheduler": "lr_scheduler", "kv": "kvstore",
         "np": "numpy", "npx": "numpy_extension"}
_LAZY_NAMES = {"Executor": "executor"}      # names of submodules imported on first use: name -> submodule


def __getattr__(attr):
    if attr in _LAZY_NAMES:
        value = getattr(_importlib.import_module(__name__ + "." + _LAZY_NAMES[attr]), attr)
        globals()[attr] = value
        return value
    target = _LAZY.get(attr, attr)
    if not attr.startswith("_") and _importlib_util.find_spec(__name__ + "." + target) is not None:
        module = _importlib.import_module(__name__ + "." + target)
        globals()[attr] = module
        return module
    raise AttributeError("module %r has no attribute %r" % (__name__, attr))


def __dir__():
    return sorted(set(globals()) | set(_LAZY) | set(_LAZY_NAMES))


def waitall():
    """Wait for every pending operation (MXNet's `mx.nd.waitall`)."""
    ndarray.waitall()
