"""Devices: `mx.cpu()`, `mx.gpu()`, `mx.Context`, and the default context of a `with` block."""
import re
import threading

from ops.errors import MXNetError

from .base import _MXClassPropertyMetaClass, classproperty

__all__ = ["Context", "cpu", "cpu_pinned", "gpu", "num_gpus", "gpu_memory_info", "current_context"]


class _DefaultContext(threading.local):
    ctx = None      # a class default: reading an unset thread-local attribute would raise and catch (~1 us)


_state = _DefaultContext()


class Context(metaclass=_MXClassPropertyMetaClass):
    """A device: `Context('cpu', 0)`, `Context('gpu', 1)`; usable as `with mx.gpu(0): ...`.

    `Context.default_ctx` is the current default context (read and assign, as in MXNet)."""
    devtype2str = {1: "cpu", 2: "gpu", 3: "cpu_pinned", 5: "cpu_shared"}
    devstr2type = {v: k for k, v in devtype2str.items()}

    def __init__(self, device_type, device_id=0):
        if isinstance(device_type, Context):
            device_type, device_id = device_type.device_type, device_type.device_id
        if device_type not in self.devstr2type:
            raise MXNetError("Unknown device type %r; expected one of %s" % (device_type, list(self.devstr2type)))
        self.device_type = device_type
        self.device_id = int(device_id)
        self._old_ctx = None

    @property
    def device_typeid(self):
        return self.devstr2type[self.device_type]

    def __eq__(self, other):
        return isinstance(other, Context) and (self.device_type, self.device_id) == (other.device_type,
                                                                                     other.device_id)

    def __hash__(self):
        return hash((self.device_type, self.device_id))

    def __repr__(self):
        return "%s(%d)" % (self.device_type, self.device_id)

    __str__ = __repr__

    def __enter__(self):
        self._old_ctx = current_context()
        _state.ctx = self
        return self

    def __exit__(self, *exc):
        _state.ctx = self._old_ctx

    @classproperty
    def default_ctx(cls):
        return current_context()

    @default_ctx.setter
    def default_ctx(cls, value):
        _state.ctx = value

    def empty_cache(self):
        """Give the GPU memory cached by this device's pool back to the device (nothing to do on a CPU)."""
        if self.device_type == "gpu":
            from ops.cuda import storage
            storage.check_context(self)
            storage.pool(self.device_id).empty_cache()


def cpu(device_id=0):
    """The CPU context."""
    return Context("cpu", device_id)


def cpu_pinned(device_id=0):
    return Context("cpu_pinned", device_id)


def gpu(device_id=0):
    """A GPU context. Arrays on it need a GPU (see `num_gpus()`)."""
    return Context("gpu", device_id)


def num_gpus():
    """The number of GPUs numba-cuda can use (0 without the package or a driver; 1 under its simulator,
    NUMBA_ENABLE_CUDASIM=1)."""
    from ops.cuda import storage
    return storage.num_gpus()


def gpu_memory_info(device_id=0):
    """(free, total) bytes of GPU `device_id`, as the CUDA driver reports them (under numba's simulator, whose
    "device" arrays live in host memory: the host's)."""
    import os

    from ops.cuda import storage
    storage.check_context(gpu(device_id))
    if storage.simulator():
        page = os.sysconf("SC_PAGE_SIZE")
        return os.sysconf("SC_AVPHYS_PAGES") * page, os.sysconf("SC_PHYS_PAGES") * page
    with storage.on_device(device_id):
        free, total = storage.cuda().current_context().get_memory_info()
    return int(free), int(total)


def current_context():
    """The default context: the innermost `with ctx:` block, else cpu(0)."""
    ctx = _state.ctx
    return ctx if ctx is not None else Context("cpu", 0)


def check_supported(ctx):
    """Raise a clear error for a context arrays cannot live on: a GPU that is not there (see `num_gpus()`). The
    first GPU context also attaches the GPU kernels to the ops (ops/cuda)."""
    if ctx.device_type == "gpu":
        from ops import cuda
        from ops.cuda import storage
        storage.check_context(ctx)
        cuda.register()


_CONTEXT_STRING = re.compile(r"^(\w+)\((\d+)\)$")


def as_context(ctx):
    """A supported Context from a Context, its string form ('cpu(0)', as the ops' `ctx` param takes it) or None
    (the current one)."""
    if ctx is None:
        return current_context()
    if isinstance(ctx, str):
        match = _CONTEXT_STRING.match(ctx.strip())
        if match is None and ctx in Context.devstr2type:
            match = _CONTEXT_STRING.match(ctx + "(0)")
        if match is None or match.group(1) not in Context.devstr2type:
            raise MXNetError("Invalid context string %s: expected one of %s followed by (device id), "
                             "e.g. 'cpu(0)'" % (ctx, sorted(Context.devstr2type)))
        ctx = Context(match.group(1), int(match.group(2)))
    elif not isinstance(ctx, Context):
        raise MXNetError("ctx must be a Context or a string such as 'cpu(0)', got %s" % type(ctx).__name__)
    check_supported(ctx)
    return ctx
