"""The operator library: one registry (`ops.registry`), every op defined once in a family module.

Importing it first makes sure numba can cache the compiled kernels (every kernel is `cache=True`): numba keeps its
cache in `__pycache__` beside the source and, when that is read-only (a system-wide install), in the user's cache
directory. Where neither is writable (a service account without a home), numba would refuse to define the kernels,
so the cache moves to a private temporary directory instead.
"""
import os
import sys
import tempfile


def _writable(directory):
    try:
        os.makedirs(directory, exist_ok=True)
        tempfile.TemporaryFile(dir=directory).close()
        return True
    except OSError:
        return False


def _ensure_numba_cache_dir():
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    if _writable(os.path.join(os.path.dirname(os.path.abspath(__file__)), "cpu", "__pycache__")):
        return                                                  # numba's own in-tree cache works
    home_cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if _writable(os.path.join(home_cache, "numba")):
        return                                                  # numba's user-wide cache works
    fallback = os.path.join(tempfile.gettempdir(), "dataflow-numba-cache-%d" % os.getuid())
    if _writable(fallback):
        os.environ["NUMBA_CACHE_DIR"] = fallback
        if "numba" in sys.modules:                              # numba read its config already
            sys.modules["numba"].config.CACHE_DIR = fallback


_ensure_numba_cache_dir()
