"""Shared pieces of the CUDA kernels: launch shapes, req, the float16 detour, copies, fills and casts.

Kernels run inside an engine op on the device made current by `ops.cuda.storage.on_device`; every launch
goes to that device's stream (`stream()`), so launches return at once and the stream keeps them in order (see
Note [stream-ordered completion] in ops/cuda/storage.py). Every array is a C-contiguous numba device array;
kernels take flat 1-D views (`flat(x)`) so that one compiled kernel serves every shape.

req mirrors ops/cpu/common.py: WRITE and INPLACE store, ADD accumulates (`add=True`: the value is first stored
into the output's dtype, then added, as `assign` does: `out += value.astype(out.dtype)`), NULL skips. Grid-stride
loops let any grid cover any size: `launch(n)` gives (blocks, threads), at most `_THREADS` threads per block; under
the simulator (which runs each CUDA thread as a Python thread, ~1.5 ms each) grids are 2 blocks of 4 threads, which
still exercises the block and grid strides.

float16: numba-cuda's float16 has no math library, so (as on the CPU) float16 data is computed in float32:
`compute_inputs` converts float16 inputs into float32 scratch arrays and `in_compute_dtype` runs a kernel into a
float32 scratch and casts the result back into the float16 output, honouring req.

Every kernel is declared with `declare(name, kernel, signatures)`: the PTX test (tests/test_cuda_ptx.py) compiles
each declared kernel for sm_90 with those signatures, so a kernel that the simulator runs but NVVM rejects fails CI.
"""
import numpy as np
from numba import cuda, types

from . import storage as gpu_storage

from ..registry import ADD, NULL

F16, F32, F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
_THREADS = 256
_MAX_BLOCKS = 4096

SIMULATOR = bool(cuda.config.ENABLE_CUDASIM)


@cuda.jit(device=True)
def put(out, i, v, add):
    """out[i] = v, or out[i] += v for req ADD. The value is stored in out's dtype before adding, so the sum is
    taken in out's dtype, as the CPU kernels' `assign` does."""
    if add:
        old = out[i]
        out[i] = v
        out[i] = old + out[i]
    else:
        out[i] = v


@cuda.jit(device=True)
def strided_offset(i, shape, strides, offset):
    """Where element i of a C-ordered `shape` lies in an array with these element `strides`, from `offset`."""
    r = i
    j = offset
    for d in range(len(shape) - 1, -1, -1):
        c = r % shape[d]
        r //= shape[d]
        j += c * strides[d]
    return j

# name -> (kernel, [argument type tuples]) for the PTX test; filled by declare() as the modules load
KERNELS = {}


def declare(name, kernel, signatures):
    """Record a kernel (and the signatures the PTX test compiles it for); returns the kernel."""
    if name in KERNELS:
        raise ValueError("CUDA kernel %r is declared twice" % name)
    KERNELS[name] = (kernel, list(signatures))
    return kernel


def stream():
    return gpu_storage.stream()


def launch(n):
    """(blocks, threads) for a grid-stride loop over n items."""
    if SIMULATOR:
        return (2, 4) if n > 4 else (1, max(1, n))
    threads = _THREADS if n >= _THREADS else max(32, n)
    return min(_MAX_BLOCKS, -(-n // threads)), threads


def flat(x):
    """The 1-D view of a C-contiguous device array."""
    return x if x.ndim == 1 else x.reshape(x.size)


def empty(shape, dtype):
    """A scratch device array on the current device (pooled)."""
    return gpu_storage.empty(shape, dtype, gpu_storage.current_device())


def empty_like(x, dtype=None):
    return empty(x.shape, x.dtype if dtype is None else dtype)


def compute_dtype(dtype):
    """The dtype a kernel computes in for data of `dtype` (float16 -> float32)."""
    return F32 if dtype == F16 else np.dtype(dtype)


def same_memory(a, b):
    """True when device arrays a and b start at the same address (an output that already is its input)."""
    return gpu_storage._address(a) == gpu_storage._address(b)


def overlap(a, b):
    return gpu_storage.same_memory(a, b)


# ---------------------------------------------------------------------------------------------------------------
# Kernels: copy (with conversion), fill, cast
# ---------------------------------------------------------------------------------------------------------------

@cuda.jit
def _copy_kernel(out, x, add, n):
    # out (req) x, converting to out's dtype (C++ cast: floats to integers truncate toward zero)
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        put(out, i, x[i], add)
        i += step


@cuda.jit
def _fill_kernel(out, value, add, n):
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        put(out, i, value, add)
        i += step


@cuda.jit
def _broadcast_copy_kernel(out, x, shape, sx, add, n):
    # out (req) x broadcast: element i of out reads x at sum(coord_d * sx[d]) (sx[d] = 0 along broadcast dims)
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        put(out, i, x[strided_offset(i, shape, sx, 0)], add)
        i += step


_1D = {t: types.Array(t, 1, "C") for t in (types.float32, types.float64, types.float16, types.int32, types.int64,
                                          types.int8, types.uint8, types.boolean)}
A32, A64, AI32, AI64 = _1D[types.float32], _1D[types.float64], _1D[types.int32], _1D[types.int64]
declare("common.copy", _copy_kernel, [(A32, A32, types.boolean, types.int64), (A32, _1D[types.float16],
                                                                                types.boolean, types.int64),
                                      (_1D[types.float16], A32, types.boolean, types.int64),
                                      (AI32, A64, types.boolean, types.int64)])
declare("common.fill", _fill_kernel, [(A32, types.float32, types.boolean, types.int64),
                                      (AI64, types.int64, types.boolean, types.int64)])
declare("common.broadcast_copy", _broadcast_copy_kernel,
        [(A32, A32, types.UniTuple(types.int64, 2), types.UniTuple(types.int64, 2), types.boolean, types.int64)])


def copy_into(x, out, req="write"):
    """out (req) x, same size; converts dtypes (float16 included: numba-cuda converts float16 <-> float32)."""
    if req == NULL or out.size == 0:
        return
    if req != ADD and x.dtype == out.dtype:
        out.copy_to_device(x, stream=stream()) if same_shape(x, out) else \
            flat(out).copy_to_device(flat(x), stream=stream())
        return
    if (x.dtype == F16 and out.dtype not in (F32, F16)) or (out.dtype == F16 and x.dtype not in (F32, F16)):
        tmp = empty(x.shape, F32)
        copy_into(x, tmp)
        x = tmp
    n = out.size
    _copy_kernel[launch(n) + (stream(),)](flat(out), flat(x), req == ADD, n)


def same_shape(a, b):
    return tuple(a.shape) == tuple(b.shape)


def fill(out, value, req="write"):
    """out (req) value; the value is converted to out's dtype as C++ `DType(value)` does (see scalar_in)."""
    if req == NULL or out.size == 0:
        return
    from ..cpu.common import scalar_in
    dt = out.dtype
    v = scalar_in(value, compute_dtype(dt))[()] if not isinstance(value, np.generic) or value.dtype != dt else value
    if dt == F16:
        v = np.float32(v)
    n = out.size
    _fill_kernel[launch(n) + (stream(),)](flat(out), v, req == ADD, n)


def broadcast_strides(in_shape, out_shape, itemstrides=None):
    """Element strides of a C-contiguous array of in_shape read as out_shape (numpy broadcasting: 0 along
    broadcast dims, in_shape aligned to the right)."""
    nd = len(out_shape)
    in_shape = (1,) * (nd - len(in_shape)) + tuple(in_shape)
    strides, step = [0] * nd, 1
    for d in range(nd - 1, -1, -1):
        strides[d] = step if in_shape[d] != 1 else 0
        step *= in_shape[d]
    return strides


def collapse(shape, *strides_list):
    """Merge adjacent dims along which every stride list stays contiguous; returns (shape, strides...) as tuples
    (at least one dim). Fewer dims: less index arithmetic in the kernels and fewer compiled variants."""
    dims = [(d, [s[i] for s in strides_list]) for i, d in enumerate(shape) if d != 1]
    if not dims:
        return ((1,),) + tuple((0,) for _ in strides_list)
    out = [dims[0]]
    for d, st in dims[1:]:
        pd, pst = out[-1]
        if all(ps == s * d for ps, s in zip(pst, st)):
            out[-1] = (pd * d, st)
        else:
            out.append((d, st))
    shape = tuple(d for d, _ in out)
    return (shape,) + tuple(tuple(st[k] for _, st in out) for k in range(len(strides_list)))


def broadcast_into(x, out, req="write"):
    """out (req) x broadcast to out's shape (numpy rules)."""
    if req == NULL or out.size == 0:
        return
    if x.size == out.size:
        copy_into(x, out, req)
        return
    if out.dtype == F16 or x.dtype == F16:
        in_compute_dtype(out, req, lambda dst: broadcast_into(as_compute(x), dst))
        return
    shape, sx = collapse(out.shape, broadcast_strides(x.shape, out.shape))
    n = out.size
    _broadcast_copy_kernel[launch(n) + (stream(),)](flat(out), flat(x), shape, sx, req == ADD, n)


def as_compute(x, dtype=None):
    """x in the dtype kernels compute in (`dtype`, else float16 -> float32): x itself or a converted copy."""
    want = compute_dtype(x.dtype) if dtype is None else np.dtype(dtype)
    if x.dtype == want:
        return x
    tmp = empty(x.shape, want)
    copy_into(x, tmp)
    return tmp


def in_compute_dtype(out, req, compute):
    """Run compute(dst), which writes a full result into dst, with dst in out's compute dtype (a float32 scratch
    for float16 outputs); out ends up as req says."""
    if req == NULL:
        return
    cdt = compute_dtype(out.dtype)
    if cdt == out.dtype:
        store(out, req, compute)
    else:
        tmp = empty(out.shape, cdt)
        compute(tmp)
        copy_into(tmp, out, req)


def store(out, req, compute):
    """Run compute(dst) (a full result into dst) so that out ends up as req says (ADD: through a scratch)."""
    if req == NULL:
        return
    if req == ADD:
        tmp = empty(out.shape, out.dtype)
        compute(tmp)
        copy_into(tmp, out, ADD)
    else:
        compute(out)


def copy_view(x, out, req):
    """out = x reshaped (Reshape, Flatten, _copy, identity forwards); nothing to do when out already is x."""
    if req == NULL:
        return
    if req == ADD or not same_memory(x, out):
        copy_into(x, out, req)


def scalar(value, dtype):
    """A float param as a numpy scalar of the compute dtype of `dtype` (C++ `DType(value)`)."""
    from ..cpu.common import scalar_in
    return scalar_in(value, compute_dtype(dtype))[()]
