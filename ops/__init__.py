"""The operator library: one registry (`ops.registry`), every op defined once in a family module.

Importing it first makes sure numba can cache the compiled kernels (every kernel is `cache=True`): numba keeps its
cache in `__pycache__` beside the source and, when that is read-only (a system-wide install), in the user's cache
directory. Where neither is writable (a service account without a home), numba would refuse to define the kernels,
so the cache moves to a private temporary directory instead.

Note [numba's cache directory check]: numba checks that a function's cache directory is writable by creating and
deleting a temporary file in it, for every `cache=True` function when it is defined and again before each save:
~190 files at every start of a first model (import, and the Plan compiler's bodies at the first run), 5-15 ms.
The answer is the same for every function of a directory, so `_remember_writable_cache_dirs` makes numba probe
each directory once per process (and still create it when missing).
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


def _remember_writable_cache_dirs():
    from numba.core import caching
    locator = getattr(caching, "_CacheLocator", None)
    probe = getattr(locator, "ensure_cache_path", None)
    if probe is None or getattr(probe, "remembers_writable", False):
        return                                                  # another numba, or done already
    writable = set()

    def ensure_cache_path(self):
        path = self.get_cache_path()
        if path in writable:
            os.makedirs(path, exist_ok=True)
            return
        probe(self)                                             # raises OSError when not writable
        writable.add(path)

    ensure_cache_path.remembers_writable = True
    locator.ensure_cache_path = ensure_cache_path


_ensure_numba_cache_dir()
_remember_writable_cache_dirs()
