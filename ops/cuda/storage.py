"""GPU storage: device arrays from a pooled allocator, one CUDA stream per device, copies between host and device.

Needs: numba-cuda (`pip install -e '.[cuda]'`) and a GPU, or numba-cuda's simulator (`NUMBA_ENABLE_CUDASIM=1` set
before anything imports numba.cuda). numba.cuda is imported on first use, never by `import dataflow`. This module
lives under ops/ (not dataflow/) so that the scheduler's Plan can allocate device arenas without depending on
dataflow: ops -> scheduler -> dataflow.

Storage. The `_data` of an `mx.gpu(i)` NDArray is a numba device array (a `DeviceNDArray`, or the simulator's
`FakeCUDAArray`), C-contiguous like every NDArray's storage. `empty(shape, dtype, device_id)` takes its memory from
the device's `Pool`: freed blocks are kept by size class and handed out again, so a training loop stops calling
`cuMemAlloc` after its first iteration. A block returns to the pool when the last array viewing it dies (numba's
own reference counting of `OwnedPointer`s on a GPU; a `weakref.finalize` on the block's array in the simulator).
A Plan's arena is one such block, cut into views (`scheduler/plan.py`).

Streams and ordering (Note [stream-ordered completion]). Every kernel and copy of device `i` goes to one CUDA
stream, `stream(i)`, from inside an engine op. A GPU-only engine op completes when its work is *queued*: the stream
runs queued work in order, and the engine pushes ops in dependency order, so a kernel reading a buffer always runs
after the kernel that wrote it. Work that hands data to the host synchronises the stream before its engine op
completes: device -> host copies (`asnumpy`, `copyto(cpu)`), and host -> device copies (so that the host buffer
may be reused as soon as the engine lets the next writer run). `NDArray.wait_to_read` and `mx.nd.waitall`
synchronise the stream after the engine wait. Memory returned to the pool is reused by later work on the same
stream, so reuse is ordered too (the reasoning of PyTorch's caching allocator for a single stream). A fault
inside a kernel surfaces at the next synchronisation, not at the op that caused it.
"""
import collections
import math
import threading
import weakref

import numpy as np

from ops.errors import MXNetError

__all__ = ["available", "simulator", "num_gpus", "check_context", "cuda", "empty", "empty_bytes", "Pool", "pool",
           "stream", "activate", "on_device", "synchronize", "from_host", "to_host", "copy", "copy_same_device",
           "is_device_array"]

_lock = threading.RLock()
_tls = threading.local()
_cuda = None


def cuda():
    """The numba.cuda module, imported on first use (its import takes ~0.5 s)."""
    global _cuda
    if _cuda is None:
        from numba import cuda as module
        _cuda = module
    return _cuda


_simulator = None


def simulator():
    """True when numba.cuda runs its simulator (NUMBA_ENABLE_CUDASIM=1 before its import)."""
    global _simulator
    if _simulator is None:
        _simulator = bool(cuda().config.ENABLE_CUDASIM)
    return _simulator


_num_gpus = None


def num_gpus():
    """The number of GPUs numba-cuda can use: the simulator counts as one; 0 without numba-cuda or a driver."""
    global _num_gpus
    if _num_gpus is None:
        try:
            c = cuda()
            _num_gpus = len(c.gpus) if c.is_available() else 0
        except Exception:  # noqa: BLE001 - no numba-cuda, no driver: no GPU
            _num_gpus = 0
    return _num_gpus


def available():
    return num_gpus() > 0


def check_context(ctx):
    """Raise a clear error unless `ctx` (a gpu Context) names a GPU that exists."""
    n = num_gpus()
    if ctx.device_id >= n or ctx.device_id < 0:
        if n == 0:
            raise MXNetError("%s: no GPU is available (mx.context.num_gpus() is 0: numba-cuda cannot find a CUDA "
                             "GPU and driver). Install the cuda extra (pip install -e '.[cuda]') on a machine with a "
                             "GPU, or set NUMBA_ENABLE_CUDASIM=1 before starting Python to use numba-cuda's "
                             "simulator." % ctx)
        raise MXNetError("%s: there %s only %d GPU%s (mx.context.num_gpus() is %d)"
                         % (ctx, "is" if n == 1 else "are", n, "" if n == 1 else "s", n))


def is_device_array(x):
    return hasattr(x, "__cuda_array_interface__") or type(x).__name__ == "FakeCUDAArray"


# ---------------------------------------------------------------------------------------------------------------
# Devices and streams
# ---------------------------------------------------------------------------------------------------------------

def activate(device_id):
    """Make device `device_id` current in this thread (numba-cuda binds CUDA contexts per thread)."""
    if getattr(_tls, "device", None) != device_id:
        cuda().select_device(device_id)
        _tls.device = device_id


def current_device():
    return getattr(_tls, "device", 0)


_streams = {}


def stream(device_id=None):
    """The one stream every kernel and copy of a device is queued on (created on first use)."""
    if device_id is None:
        device_id = current_device()
    s = _streams.get(device_id)
    if s is None:
        with _lock:
            s = _streams.get(device_id)
            if s is None:
                activate(device_id)
                s = _streams[device_id] = cuda().stream()
    return s


def synchronize(device_id=None):
    """Wait for the work queued on one device's stream (all devices' when None)."""
    ids = list(_streams) if device_id is None else [device_id]
    for i in ids:
        s = _streams.get(i)
        if s is not None:
            activate(i)
            s.synchronize()


# The simulator keeps the running kernel in a module global, so a launch from a second thread while one runs would
# be taken for a device-function call: under the simulator, work inside `on_device` is serialised by this lock.
_SIM_LOCK = threading.RLock()


class on_device:
    """`with on_device(i):` makes device i current in this thread for the kernels launched inside; returns the
    device's stream."""
    __slots__ = ("_id", "_old", "_lock")

    def __init__(self, device_id):
        self._id = device_id

    def __enter__(self):
        self._lock = simulator()
        if self._lock:
            _SIM_LOCK.acquire()
        self._old = getattr(_tls, "device", None)
        activate(self._id)
        return stream(self._id)

    def __exit__(self, *exc):
        if self._old is not None and self._old != self._id:
            activate(self._old)
        if self._lock:
            _SIM_LOCK.release()


# ---------------------------------------------------------------------------------------------------------------
# The pooled allocator
# ---------------------------------------------------------------------------------------------------------------

_SMALL = 1 << 20        # up to 1 MiB: multiples of 512 bytes; beyond: multiples of 2 MiB


def size_class(nbytes):
    """The block size that serves a request of `nbytes` (at least 512 bytes)."""
    unit = 512 if nbytes <= _SMALL else 2 << 20
    return max(unit, -(-nbytes // unit) * unit)


class Pool:
    """Device memory by size class: `acquire(nbytes)` hands out a freed block of the same class, or a new one from
    `allocate(size)`; `release(size, block)` puts it back. `allocate` failing (out of memory) empties the cache of
    free blocks and tries once more. Thread-safe; `release` may run from a garbage-collector finalizer."""

    def __init__(self, allocate):
        self._allocate = allocate
        self._free = collections.defaultdict(list)
        self._lock = threading.RLock()
        self.allocations = 0        # calls to `allocate`
        self.reuses = 0             # requests served from a freed block
        self.bytes_reserved = 0     # held by the pool: in use or free
        self.bytes_in_use = 0

    def acquire(self, nbytes):
        size = size_class(nbytes)
        with self._lock:
            free = self._free.get(size)
            if free:
                self.reuses += 1
                self.bytes_in_use += size
                return size, free.pop()
        try:
            block = self._allocate(size)
        except Exception:  # noqa: BLE001 - out of memory: give the cached blocks back and try again
            self.empty_cache()
            block = self._allocate(size)
        with self._lock:
            self.allocations += 1
            self.bytes_reserved += size
            self.bytes_in_use += size
        return size, block

    def release(self, size, block):
        with self._lock:
            self._free[size].append(block)
            self.bytes_in_use -= size

    def empty_cache(self):
        """Drop the free blocks (their memory goes back to the device)."""
        with self._lock:
            dropped = sum(size * len(blocks) for size, blocks in self._free.items())
            self._free.clear()
            self.bytes_reserved -= dropped

    def stats(self):
        with self._lock:
            return {"allocations": self.allocations, "reuses": self.reuses, "bytes_reserved": self.bytes_reserved,
                    "bytes_in_use": self.bytes_in_use,
                    "free_blocks": sum(len(b) for b in self._free.values())}


_pools = {}


def pool(device_id=0):
    """The Pool of one device."""
    p = _pools.get(device_id)
    if p is None:
        with _lock:
            p = _pools.get(device_id)
            if p is None:
                if simulator():
                    p = Pool(lambda size: np.empty(size, np.uint8))
                else:
                    def allocate(size, device_id=device_id):
                        activate(device_id)
                        return cuda().current_context().memalloc(size)
                    p = Pool(allocate)
                _pools[device_id] = p
    return p


def _strides(shape, itemsize):
    strides, step = [], itemsize
    for d in reversed(shape):
        strides.append(step)
        step *= max(d, 1)
    return tuple(reversed(strides))


_live = {}      # real GPUs: the AutoFreePointer of each allocation in use (numba's OwnedPointers hold proxies)


def empty(shape, dtype, device_id=0):
    """An uninitialised C-contiguous device array on device `device_id`, from the device's pool."""
    shape = tuple(int(d) for d in shape)
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    activate(device_id)
    if nbytes == 0:
        return cuda().device_array(shape, dtype)
    p = pool(device_id)
    size, block = p.acquire(nbytes)
    if simulator():
        from numba.cuda.simulator.cudadrv.devicearray import FakeCUDAArray
        host = np.frombuffer(memoryview(block)[:nbytes], dtype)
        weakref.finalize(host, p.release, size, block)      # fires when the last view of `host` dies
        return FakeCUDAArray(host.reshape(shape))
    from numba.cuda.cudadrv import driver
    from numba.cuda.cudadrv.devicearray import DeviceNDArray
    context = cuda().current_context()
    key = object()

    def give_back():
        _live.pop(key, None)
        p.release(size, block)
    # numba's own scheme (MemoryManager.memalloc): views hold OwnedPointers counting references to this pointer;
    # when the count reaches zero its finalizer runs, which here returns the block to the pool instead of freeing.
    mem = driver.AutoFreePointer(weakref.proxy(context), block.device_pointer, size, finalizer=give_back)
    _live[key] = mem
    return DeviceNDArray(shape, _strides(shape, dtype.itemsize), dtype, gpu_data=mem.own())


def empty_bytes(nbytes, device_id=0):
    """A 1-D uint8 device array of `nbytes` (one pooled allocation, e.g. a Plan's arena)."""
    return empty((nbytes,), np.uint8, device_id)


# ---------------------------------------------------------------------------------------------------------------
# Copies (each called from inside an engine op; see Note [stream-ordered completion] above)
# ---------------------------------------------------------------------------------------------------------------

def from_host(host, dst, device_id):
    """dst (device) = host (numpy, same shape; converted to dst's dtype); returns when host may be reused."""
    host = np.ascontiguousarray(host, dtype=dst.dtype).reshape(dst.shape)
    if host.size == 0:
        return
    with on_device(device_id) as s:
        dst.copy_to_device(host, stream=s)
        s.synchronize()


def to_host(src, device_id, out=None):
    """A numpy copy of device array src (into `out`, converting to its dtype, when given)."""
    with on_device(device_id) as s:
        host = src.copy_to_host(stream=s) if src.size else np.empty(src.shape, src.dtype)
        s.synchronize()
    if out is None:
        return host
    np.copyto(out, host.reshape(out.shape), casting="unsafe")
    return out


def copy(src, dst, src_ctx, dst_ctx):
    """dst = src between any two contexts (numpy arrays on the CPU, device arrays on a GPU); dtypes convert as
    C++ casts do (`casting='unsafe'`)."""
    src_gpu, dst_gpu = src_ctx.device_type == "gpu", dst_ctx.device_type == "gpu"
    if src_gpu and dst_gpu:
        if src_ctx.device_id == dst_ctx.device_id:
            with on_device(dst_ctx.device_id):
                from . import common
                common.copy_into(src, dst)
        else:                                   # between two GPUs: through the host
            from_host(to_host(src, src_ctx.device_id), dst, dst_ctx.device_id)
    elif dst_gpu:
        from_host(src, dst, dst_ctx.device_id)
    else:
        to_host(src, src_ctx.device_id, out=dst)


def copy_same_device(src, dst):
    """dst = src, both on the current device (queued on its stream)."""
    from . import common
    common.copy_into(src, dst)


def same_memory(a, b):
    """True when device arrays a and b overlap."""
    a0, b0 = _address(a), _address(b)
    return a0 < b0 + b.nbytes and b0 < a0 + a.nbytes


def _address(x):
    if type(x).__name__ == "FakeCUDAArray":
        return x._ary.__array_interface__["data"][0]
    return x.__cuda_array_interface__["data"][0]


def basic_view(x, key):
    """The device view of x[key] for basic indexing, or None when it is not C-contiguous (a copy is needed).
    An integer index that leaves no dimension gives a 1-element view of shape (1,)."""
    probe = np.lib.stride_tricks.as_strided(np.zeros(1, x.dtype), x.shape, _strides(x.shape, x.dtype.itemsize))
    parts = key if isinstance(key, tuple) else (key,)
    view = probe[parts if any(k is Ellipsis for k in parts) else parts + (Ellipsis,)]     # a 0-d view, not a scalar
    if not view.flags.c_contiguous:
        return None
    flat = x.reshape(x.size) if x.ndim != 1 else x
    start = (view.__array_interface__["data"][0] - probe.__array_interface__["data"][0]) // x.dtype.itemsize
    shape = view.shape or (1,)
    return flat[start:start + view.size].reshape(shape) if view.size else None


def setitem(dst, key, value, device_id):
    """dst[key] = value on the device (value: a numpy array or scalar, or a device array); from an engine op."""
    with on_device(device_id):
        from . import common
        full = key == slice(None) or key is Ellipsis or key == ()
        view = dst if full else basic_view(dst, key)
        if view is not None:
            if is_device_array(value):
                if value.shape == view.shape or value.size == view.size:
                    common.copy_into(value, view.reshape(view.shape))
                    return
            else:
                value = np.asarray(value)
                if value.size == 1:
                    common.fill(view, value.reshape(()).item())
                    return
                from_host(np.broadcast_to(value, view.shape), view, device_id)
                return
        # anything else (strided or advanced indexing, broadcast device values): through the host
        host = to_host(dst, device_id)
        host[key] = to_host(value, device_id) if is_device_array(value) else value
        from_host(host, dst, device_id)


def environment_note():
    """One line about the CUDA setup, for bench and test logs."""
    return "numba-cuda %s, %s, %d GPU(s)" % (getattr(__import__("numba_cuda"), "__version__", "?"),
                                            "simulator" if simulator() else "driver", num_gpus())
