"""The plan cache: the modules that scheduler/codegen.py writes, on disk under a name made of their hash, and numba's
own cache of their compiled functions beside them, so that a later process loads what an earlier one compiled.

Needs: a `codegen.Lowered` (its source and the modules it imports bodies from).   Gives: `load(lowered)` -> (the
imported module, its key); `cached(lowered)`: whether it was compiled before; `cache_dir()`.
A module file is written atomically and never rewritten (its mtime is part of numba's cache key); the key hashes
everything the compiled code depends on, the body modules' sources included, since numba does not invalidate a
caller when a callee changes. The `MODULES_KEPT` modules used last stay imported.
"""
import collections
import hashlib
import importlib
import importlib.util
import os
import sys
import tempfile
import threading

from ops.errors import MXNetError


_modules = collections.OrderedDict()    # key -> imported module, the `MODULES_KEPT` used last
MODULES_KEPT = 16
_module_lock = threading.Lock()
_source_hashes = {}         # module name -> (mtime, size, sha256 of its source)


def cache_dir():
    """Where generated plan modules live: under NUMBA_CACHE_DIR when set, else the user's cache directory, else a
    private temporary directory."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        candidates = [os.path.join(os.environ["NUMBA_CACHE_DIR"], "dataflow-plans")]
    else:
        home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        candidates = [os.path.join(home, "dataflow", "plans")]
    candidates.append(os.path.join(tempfile.gettempdir(), "dataflow-plans-%d" % os.getuid()))
    for directory in candidates:
        try:
            os.makedirs(directory, exist_ok=True)
            if os.access(directory, os.W_OK):
                return directory
        except OSError:
            continue
    raise MXNetError("no writable directory for compiled plans (tried %s)" % ", ".join(candidates))


def cache_key(lowered):
    """A hash of everything the compiled code depends on: the source, the body modules' sources, numba, the CPU."""
    import llvmlite.binding as llvm
    import numba
    h = hashlib.sha256()
    for part in (lowered.source, numba.__version__, sys.version, llvm.get_host_cpu_name(),
                 llvm.get_host_cpu_features().flatten()):
        h.update(part.encode())
        h.update(b"\0")
    for module in lowered.imports:
        h.update(module.encode() + b"\0" + _source_hash(module) + b"\0")
    return h.hexdigest()


def _source_hash(module_name):
    module = importlib.import_module(module_name)
    path = getattr(module, "__file__", None)
    if not path:
        return b""
    st = os.stat(path)
    known = _source_hashes.get(module_name)
    if known is None or known[:2] != (st.st_mtime_ns, st.st_size):
        with open(path, "rb") as f:
            known = (st.st_mtime_ns, st.st_size, hashlib.sha256(f.read()).digest())
        _source_hashes[module_name] = known
    return known[2]


def load(lowered):
    """The imported module of `lowered`'s source, written to the cache directory once (never rewritten: its mtime is
    part of numba's cache key)."""
    key = cache_key(lowered)
    with _module_lock:
        module = _modules.get(key)
        if module is not None:
            _modules.move_to_end(key)
            return module, key
        name, path = _module_path(key)
        if not os.path.exists(path):
            _write_once(path, lowered.source)
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
        _modules[key] = module
        while len(_modules) > MODULES_KEPT:     # the plans using an old module keep its compiled functions
            _, old = _modules.popitem(last=False)
            sys.modules.pop(old.__name__, None)
        return module, key


def cached(lowered):
    """Whether this module was compiled before, here or by an earlier process (its file is in the plan cache): then
    compiling it is a cache load, not seconds of numba."""
    key = cache_key(lowered)
    return key in _modules or os.path.exists(_module_path(key)[1])


def _module_path(key):
    name = "dataflow_plan_%s" % key[:32]
    return name, os.path.join(cache_dir(), name + ".py")


def _write_once(path, text):
    """Write `text` to `path` atomically unless some process wrote it first."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-", suffix=".py")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)          # fails if present: a file once written is never replaced
        except FileExistsError:
            pass
        except OSError:                 # no hard links here
            if not os.path.exists(path):
                os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
