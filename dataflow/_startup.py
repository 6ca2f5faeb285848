"""What `import dataflow` does to start quickly (issue 15): `quick_import()` wraps the package's own imports.

Note [the import's garbage collector]: an import allocates ~120k objects (numpy, numba, llvmlite, the op
library) and frees almost none, while the cyclic collector, counting allocations, runs ~160 times over the
growing heap: ~15% of the import's CPU. `quick_import` pauses it, and afterwards moves everything alive to the
permanent generation (`gc.freeze()`), so no later collection walks the modules, functions and types the process
keeps to its end either; the first model's calls would otherwise pay those walks (measured: ~45 ms for one full
collection). The cost: a reference cycle that existed at import and becomes garbage later is never collected
(one full collection after the import finds ~400 unreachable objects, all its own temporaries).

Note [numba's import checks]: numba's own import loads two modules only for checks that rarely apply: SciPy,
to refuse versions older than 1.0, and PyYAML, to read a `.numba_config.yaml` in the working directory. numba
also imports `importlib.metadata` (and with it email, csv, socket ...) for its plugin entry points, which it reads
at its first compilation. `_import_numba` skips the SciPy check (a SciPy that old cannot be installed beside a
numpy numba supports) and hands numba stand-ins for PyYAML and `importlib.metadata` that import the real module
when numba first reads from them: ~20 ms of CPU, the same behaviour. A process that imported numba before
dataflow is left as it is.

Note [numba's cache set-up, deferred]: `njit(cache=True)` sets up a function's on-disk cache when it is defined:
it finds the cache directory, hashes the whole source file and names the index files, ~70 us a function, ~13 ms
for the ~180 kernels the op library defines at import, of which a first model runs a few (and none compiled or
loaded at its first call). `_defer_function_caches` makes numba do that at the function's first compile or cache
load instead, for the functions of this project's packages. numba keys the cache by the source file's hash at
set-up time, so the file's (mtime, size) is read at definition, and a function whose file changed since runs
uncached rather than filed under the new source.
"""
import contextlib
import gc
import importlib
import importlib.util
import os
import sys
import types

_PACKAGES = ("ops", "scheduler", "dataflow")     # whose numba functions set up their caches when first used


@contextlib.contextmanager
def quick_import():
    """Run the package's imports with the cyclic GC paused, numba imported first (Notes above)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        _import_numba()
        _defer_function_caches()
        yield
    finally:
        if was_enabled:
            gc.enable()
    gc.freeze()


def _import_numba():
    if "numba" in sys.modules:
        return
    stand_ins = {name: _Deferred(name) for name in ("yaml", "importlib.metadata")
                 if name not in sys.modules and importlib.util.find_spec(name) is not None}
    if "scipy" not in sys.modules:
        stand_ins["scipy"] = None               # `import scipy` raises ImportError: numba skips its check
    sys.modules.update(stand_ins)
    try:
        import numba  # noqa: F401
    finally:
        for name, stand_in in stand_ins.items():
            if name in sys.modules and sys.modules[name] is stand_in:
                del sys.modules[name]


class _Deferred(types.ModuleType):
    """Stands in for module `name` while numba imports it: the real module is imported at the first attribute
    numba reads (`yaml.safe_load`, `importlib_metadata.entry_points`). Not left in sys.modules afterwards, so any
    other `import` gets the real module."""

    def __getattr__(self, attr):
        name = self.__name__
        if sys.modules.get(name) is self:
            del sys.modules[name]
        return getattr(importlib.import_module(name), attr)


def _defer_function_caches():
    from numba.core import caching, dispatcher
    eager = getattr(dispatcher.Dispatcher, "enable_caching", None)
    if eager is None or not hasattr(caching, "NullCache") or getattr(eager, "deferred", False):
        return          # a numba whose internals differ from those this was written for: caches set up as usual

    def enable_caching(self):
        module = getattr(self.py_func, "__module__", None) or ""
        stamp = _file_stamp(self.py_func) if module.partition(".")[0] in _PACKAGES else None
        if stamp is None:
            eager(self)
        else:
            self._cache = _DeferredCache(self, eager, stamp)

    enable_caching.deferred = True
    dispatcher.Dispatcher.enable_caching = enable_caching


def _file_stamp(py_func):
    if getattr(sys, "frozen", False):
        return None
    try:
        st = os.stat(py_func.__code__.co_filename)
    except (AttributeError, OSError):
        return None                             # not from a source file: numba decides, at definition
    return st.st_mtime, st.st_size


class _DeferredCache:
    """A dispatcher's cache until first used: then numba's own (or none, when the source file changed since)."""

    def __init__(self, dispatcher, make, stamp):
        self._dispatcher, self._make, self._stamp = dispatcher, make, stamp

    def __getattr__(self, attr):
        from numba.core.caching import NullCache
        disp = self._dispatcher
        if disp._cache is self:
            if _file_stamp(disp.py_func) == self._stamp:
                self._make(disp)
            else:
                disp._cache = NullCache()
        return getattr(disp._cache, attr)
