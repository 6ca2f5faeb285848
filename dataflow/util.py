"""`mx.util`: MXNet's NumPy-semantics switches, environment helpers, and small file helpers of the package.

NumPy semantics. MXNet 1.9.1 keeps two per-thread flags: NumPy *shape* semantics (`()` is a scalar's shape and 0 a
zero-size dimension, instead of "unknown") and NumPy *array* semantics (Gluon makes `mx.np.ndarray`s). Libraries
read them (`is_np_array()` picks `F.np` or `F`), and decorate classes with `use_np`. The switches, scopes and
decorators below keep and restore the flags exactly as MXNet's do. With array semantics on, Gluon's blocks return
`mx.np.ndarray`s, parameters' `data()` and DataLoader batches are ones (dataflow/numpy); the legacy `mx.nd` ops
keep their semantics whatever the flags say.
"""
import functools
import hashlib
import inspect
import json
import os
import secrets
import stat
import threading

from ops.errors import MXNetError

__all__ = ["is_np_shape", "set_np_shape", "np_shape", "use_np_shape", "is_np_array", "np_array", "use_np_array",
           "use_np", "set_np", "reset_np", "getenv", "setenv", "makedirs", "get_gpu_count", "get_gpu_memory",
           "get_cuda_compute_capability",
           "set_module", "as_np_if_active", "atomic_write", "write_files", "finish_pending_save", "SaveError"]

class _Flags(threading.local):
    """This thread's switches; off in every new thread. (Class defaults: reading one is a plain attribute read,
    which `as_np_if_active` does on every Gluon call.)"""
    np_shape = False
    np_array = False


_flags = _Flags()


def is_np_shape():
    """Whether NumPy shape semantics is on in this thread."""
    return _flags.np_shape


def set_np_shape(active):
    """Turn NumPy shape semantics on or off in this thread; returns the previous state. Turning it off while
    NumPy array semantics is on is a ValueError (use `reset_np()`)."""
    if not active and is_np_array():
        raise ValueError("Deactivating NumPy shape semantics while NumPy array semantics is still active is not "
                         "allowed. Please consider calling `npx.reset_np()` to deactivate both of them.")
    previous = is_np_shape()
    _flags.np_shape = bool(active)
    return previous


def is_np_array():
    """Whether NumPy array semantics is on in this thread."""
    return _flags.np_array


def _set_np_array(active):
    """Turn NumPy array semantics on or off in this thread; returns the previous state."""
    previous = is_np_array()
    _flags.np_array = bool(active)
    return previous


def as_np_if_active(value):
    """`value` (arrays, nested in lists/tuples) as mx.np.ndarrays sharing storage while NumPy array semantics is
    on (Gluon's outputs, parameters and batches), else `value` itself."""
    if not _flags.np_array:
        return value
    from .numpy.multiarray import as_np
    return as_np(value)


def set_np(shape=True, array=True):
    """Set both switches. Array semantics needs shape semantics: `set_np(shape=False, array=True)` is a
    ValueError."""
    if not shape and array:
        raise ValueError("NumPy Shape semantics is required in using NumPy array semantics.")
    _set_np_array(array)
    set_np_shape(shape)


def reset_np():
    """Turn both switches off."""
    set_np(shape=False, array=False)


class _Scope:
    """`with np_shape(active):` / `with np_array(active):`: the switch set inside, restored on exit."""

    def __init__(self, setter, active):
        self._setter = setter
        self._active = active
        self._previous = None

    def __enter__(self):
        if self._active is not None:
            self._previous = self._setter(self._active)
        return self

    def __exit__(self, *exc):
        if self._active is not None and self._previous != self._active:
            self._setter(self._previous)


def np_shape(active=True):
    """A `with` scope in which NumPy shape semantics is `active`."""
    return _Scope(set_np_shape, active)


def np_array(active=True):
    """A `with` scope in which NumPy array semantics is `active`."""
    return _Scope(_set_np_array, active)


def _decorate_in_scope(scope, func, decorator_name):
    """`func` (a function, or every method, static function and property of a class) run inside `scope()`."""
    if inspect.isclass(func):
        members = inspect.getmembers(func, lambda f: inspect.isfunction(f) or inspect.ismethod(f)
                                     or isinstance(f, property))
        for name, member in members:
            if isinstance(member, property):
                wrapped = property(_decorate_in_scope(scope, member.__get__, decorator_name), member.__set__,
                                   member.__delattr__, member.__doc__)
            else:
                wrapped = _decorate_in_scope(scope, member, decorator_name)
            setattr(func, name, wrapped)
        return func
    if callable(func):
        @functools.wraps(func)
        def scoped(*args, **kwargs):
            with scope():
                return func(*args, **kwargs)
        return scoped
    raise TypeError("%s can only decorate classes and callable objects, while received a %s"
                    % (decorator_name, type(func)))


def use_np_shape(func):
    """Decorator: run `func` (or every method of a class) with NumPy shape semantics on."""
    return _decorate_in_scope(np_shape, func, "use_np_shape")


def use_np_array(func):
    """Decorator: run `func` (or every method of a class) with NumPy array semantics on."""
    return _decorate_in_scope(np_array, func, "use_np_array")


def use_np(func):
    """Decorator: `use_np_shape(use_np_array(func))`."""
    return use_np_shape(use_np_array(func))


def set_module(module):
    """Decorator: set the `__module__` a function or class reports (when `module` is not None)."""
    def decorator(func):
        if module is not None:
            func.__module__ = module
        return func
    return decorator


def getenv(name):
    """The value of environment variable `name`, or None when unset."""
    return os.environ.get(name)


def setenv(name, value):
    """Set environment variable `name` to `value` (None unsets it)."""
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def makedirs(d):
    """Create directory `d` and its parents unless they exist."""
    os.makedirs(d, exist_ok=True)


def get_gpu_count():
    """The number of GPUs (see `mx.context.num_gpus`)."""
    from .context import num_gpus
    return num_gpus()


def get_gpu_memory(gpu_dev_id):
    """(free, total) bytes of a GPU (see `mx.context.gpu_memory_info`)."""
    from .context import gpu_memory_info
    return gpu_memory_info(gpu_dev_id)


def get_cuda_compute_capability(ctx):
    """The CUDA compute capability of GPU context `ctx` as one number (70 for sm_70); ValueError for another
    context, as MXNet's."""
    if ctx.device_type != "gpu":
        raise ValueError("Expecting a gpu context to get cuda compute capability, while received ctx %s" % ctx)
    from ops.cuda import storage
    storage.check_context(ctx)
    with storage.on_device(ctx.device_id):
        major, minor = storage.cuda().get_current_device().compute_capability
    return 10 * major + minor


# -- saving files ------------------------------------------------------------------------------------------------
# Note [saving files]: every file dataflow saves goes through `write_files`. Each target is written to a temp file
# `.NAME.HASH.PID.RANDOM.tmp` beside it (NAME cut to 200 bytes, so a 255-byte name still has a temp name), synced,
# and renamed over the target: readers see the old file or the whole new one. The temp is created with mode 0666,
# so the umask applies as with a plain open(); a target that exists keeps its mode. A symlink is followed (its
# target is replaced), and a target that is not a regular file (/dev/null, a FIFO) is written through with a plain
# open(), as MXNet's writer does. Several files saved together (a checkpoint's JSON and params) are committed
# together: after every temp is synced, a commit record `.NAME.HASH.commit` naming the renames is written
# (atomically), then the renames run and the record is removed. A kill before the record leaves the old files; a
# kill after it leaves a record that the next save or `finish_pending_save` (load_checkpoint calls it) completes,
# giving the new files. Temps of the same target left by a dead process are removed on its next save.

_NAME_BYTES = 200
_writing = set()                 # temp files this process is writing now (other threads' are not stale)
_writing_lock = threading.Lock()


class SaveError(OSError, MXNetError):
    """Saving a file failed (no space left, no permission, no such directory ...). It is an `OSError` (with the
    `errno` and `filename` of the failure) and an `MXNetError`; the files being saved are left as they were."""


def atomic_write(path, data):
    """Write `data` (bytes) to `path` so that readers see the old file or the whole new one, never a part
    (Note [saving files])."""
    write_files([(path, data)])


def write_files(files):
    """Write each `(path, bytes)` of `files` atomically, and commit them together: after a crash the next save,
    or `finish_pending_save(files[0][0])`, leaves all old or all new (Note [saving files]). Failures raise
    `SaveError` and leave every target as it was."""
    targets = [(_resolve(path), data) for path, data in files]
    if not targets:
        return
    temps = []          # removed on failure, until the commit record exists: from then on they are the new files
    try:
        record = _tag(targets[0][0]) + ".commit"
        _finish_commit(record)
        _remove_stale_temps(record)
        regular = []
        for target, data in targets:
            if _is_special(target):
                with open(target, "wb") as fh:      # /dev/null, a FIFO: written through, not replaced
                    fh.write(data)
                continue
            _remove_stale_temps(target)
            temps.append(_write_temp(target, data))
            regular.append((temps[-1], target))
        if len(regular) > 1:
            record_temp = _write_temp(record, json.dumps(regular).encode("utf-8"))
            temps.append(record_temp)
            os.replace(record_temp, record)     # the commit point
            temps = []          # from here an interrupted rename is finished by the next save or load
            _finish_commit(record)
        else:
            _commit(regular)
    except OSError as err:
        raise _save_error(err, targets) from err
    finally:
        for temp in temps:
            _forget(temp)
            _unlink_quietly(temp)


def finish_pending_save(path):
    """Complete a group save to `path` (and the files saved with it) that a crash interrupted after its commit
    record was written; nothing to do otherwise. Loaders of file pairs call it before reading (a `path` that is not
    a path is left for the loader to report)."""
    if not isinstance(path, (str, bytes, os.PathLike)):
        return
    try:
        _finish_commit(_tag(_resolve(path)) + ".commit")
    except OSError as err:
        raise _save_error(err, [(path, None)], "finishing an interrupted save of") from err


def _resolve(path):
    return os.path.realpath(os.fsdecode(os.fspath(path)))       # symlinks followed: their target is written


def _is_special(target):
    try:
        return not stat.S_ISREG(os.stat(target).st_mode)
    except FileNotFoundError:
        return False


def _tag(target):
    """`DIR/.NAME.HASH`: the start of the names of `target`'s temp files and commit record."""
    directory, name = os.path.split(target)
    raw = os.fsencode(name)
    return os.path.join(directory, ".%s.%s" % (os.fsdecode(raw[:_NAME_BYTES]), hashlib.sha1(raw).hexdigest()[:10]))


def _write_temp(target, data):
    """A synced temp file beside `target` holding `data`: created 0666 & ~umask, or with `target`'s mode."""
    tag = _tag(target)
    while True:
        temp = "%s.%d.%s.tmp" % (tag, os.getpid(), secrets.token_hex(4))
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
            break
        except FileExistsError:
            continue
    with _writing_lock:
        _writing.add(temp)
    try:
        try:
            os.fchmod(fd, stat.S_IMODE(os.stat(target).st_mode))   # plain open() keeps an existing file's mode
        except FileNotFoundError:
            pass
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        _forget(temp)
        _unlink_quietly(temp)
        raise
    os.close(fd)
    return temp


def _commit(renames):
    for temp, target in renames:
        os.replace(temp, target)
    for directory in {os.path.dirname(target) for _, target in renames}:
        _sync_directory(directory)


def _finish_commit(record):
    """Run the renames of a commit record whose temps still exist, then remove it."""
    try:
        with open(record, "rb") as fh:
            renames = json.loads(fh.read().decode("utf-8"))
    except FileNotFoundError:
        return
    except ValueError:          # cannot happen (the record is written atomically); a foreign file: leave it
        return
    _commit([(temp, target) for temp, target in renames if os.path.exists(temp)])
    _unlink_quietly(record)


def _remove_stale_temps(target):
    """Remove temp files of `target` whose writer is gone (killed, or the disk filled up before its cleanup)."""
    directory, prefix = os.path.split(_tag(target))
    prefix += "."
    try:
        names = [n for n in os.listdir(directory) if n.startswith(prefix) and n.endswith(".tmp")]
    except OSError:
        return
    for name in names:
        pid = name[len(prefix):].split(".", 1)[0]
        path = os.path.join(directory, name)
        if not pid.isdigit() or _alive(int(pid)) and (int(pid) != os.getpid() or path in _writing):
            continue
        _unlink_quietly(path)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:              # another user's process
        return True
    return True


def _sync_directory(directory):
    try:
        fd = os.open(directory or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)             # the renames survive a power cut
    except OSError:
        pass
    finally:
        os.close(fd)


def _forget(temp):
    with _writing_lock:
        _writing.discard(temp)


def _unlink_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def _save_error(err, targets, doing="saving"):
    if isinstance(err, SaveError):
        return err
    names = ", ".join(repr(t) for t, _ in targets)
    return SaveError(err.errno, "%s %s failed: %s; the files were left as they were"
                     % (doing, names, err.strerror or err), err.filename)
