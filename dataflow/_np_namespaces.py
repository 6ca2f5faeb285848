"""The numpy-mode namespaces of `mx.nd` and `mx.sym` (`F.np`, `F.npx` in a HybridBlock's hybrid_forward), imported
on first use (Note [lazy submodules] in dataflow/__init__.py) by the module `__getattr__`s made here."""
import importlib


def _lazy(package, targets):
    def __getattr__(name):  # noqa: N807 - a module's __getattr__
        target = targets.get(name)
        if target is None:
            raise AttributeError("module %r has no attribute %r" % (package, name))
        return importlib.import_module(target)
    return __getattr__


# mx.nd.np is mx.np itself: its functions take and give mx.np.ndarrays, as MXNet's `mx.nd.np` functions do
ndarray_getattr = _lazy("dataflow.ndarray", {"np": "dataflow.numpy", "numpy": "dataflow.numpy",
                                              "npx": "dataflow.numpy_extension",
                                              "numpy_extension": "dataflow.numpy_extension"})
symbol_getattr = _lazy("dataflow.symbol", {"np": "dataflow.symbol.numpy", "npx": "dataflow.symbol.numpy_extension"})
