"""NDArray: an asynchronous array handle = storage (a C-contiguous numpy array) + an engine var.

On `mx.gpu(i)` the storage is a numba device array from the device's memory pool and ops run their `gpu` kernels
on the device's stream (ops/cuda/storage.py, Note [stream-ordered completion]); every GPU branch below is taken
once per call on the context's device type, so the CPU path is unchanged.

Every operation on an NDArray is pushed to the engine with the vars it reads and writes, and returns at once;
`asnumpy()`, `wait_to_read()` and `mx.nd.waitall()` wait. Views (`x[1:3]`, `x.reshape(...)`) share their base's
storage and its var, so the engine orders them with the base. Storage is always C-contiguous: indexing that would
give a strided view returns a copy instead (MXNet 1.x does the same), so kernels can treat every array as flat.
"""
import numbers

import numpy as np

from ops import registry
from ops.errors import MXNetError, ShapeError, in_operator
from ops.registry import WRITE, OpContext

from ops.cuda import storage as gpu_storage

from scheduler.engine import get_engine
from scheduler.graph import Node
from scheduler.infer import apply_rule

from .. import autograd
from ..context import Context, check_supported, current_context

_NUMERIC = (numbers.Number, np.number, np.bool_)
_DEFAULT_DTYPE = np.dtype(np.float32)   # MXNet's mx_real_t


class NDArray:
    """An n-dimensional array on a device, computed asynchronously.

    Examples
    --------
    >>> import dataflow as mx
    >>> x = mx.nd.ones((2, 3))
    >>> (x * 2 + 1).asnumpy()
    array([[3., 3., 3.],
           [3., 3., 3.]], dtype=float32)
    """
    __slots__ = ("_data", "_var", "_ctx", "_entry", "__weakref__")
    __array_priority__ = 1000.0    # numpy defers `ndarray + NDArray` to NDArray.__radd__

    def __init__(self, data, var=None, ctx=None):
        self._data = data
        self._var = var if var is not None else get_engine().new_var()
        self._ctx = ctx if ctx is not None else Context("cpu", 0)
        self._entry = None      # autograd: this array's entry in the recorded graph

    # -- properties (no waiting: shape and dtype are known at once) -------------------------------------------
    @property
    def shape(self):
        shape = self._data.shape
        return shape if type(shape) is tuple else tuple(shape)      # the CUDA simulator's shapes are not tuples

    @property
    def dtype(self):
        return self._data.dtype.type

    @property
    def size(self):
        return self._data.size

    @property
    def ndim(self):
        return self._data.ndim

    @property
    def context(self):
        return self._ctx

    ctx = context

    @property
    def stype(self):
        return "default"

    @property
    def handle(self):
        return self._var

    @property
    def writable(self):
        return True

    def __len__(self):
        return self._data.shape[0] if self._data.ndim else 0

    # -- synchronisation ---------------------------------------------------------------------------------------
    def wait_to_read(self):
        """Block until every pending write to this array has finished (raising its error, if any)."""
        get_engine().wait_for_var(self._var)
        if self._ctx.device_type == "gpu":
            gpu_storage.synchronize(self._ctx.device_id)

    def asnumpy(self):
        """A numpy copy of the array's value (waits for pending writes)."""
        get_engine().wait_for_var(self._var)
        if self._ctx.device_type == "gpu":
            return gpu_storage.to_host(self._data, self._ctx.device_id)
        return self._data.copy()

    def asscalar(self):
        """The value of a one-element array as a numpy scalar."""
        if self.size != 1:
            raise ValueError("The current array is not a scalar (shape %s)" % (self.shape,))
        return self.asnumpy().reshape(())[()]

    def __repr__(self):
        shape_info = "x".join("%d" % d for d in self.shape)
        return "\n%s\n<%s %s @%s>" % (self.asnumpy(), type(self).__name__, shape_info, self._ctx)

    def __bool__(self):
        if self.size == 1:
            return bool(self.asscalar())
        if self.size == 0:
            return False
        raise ValueError("The truth value of an NDArray with multiple elements is ambiguous.")

    # -- copies and conversions --------------------------------------------------------------------------------
    def copyto(self, other):
        """Copy into `other` (an NDArray of the same shape) or into a new array on a Context."""
        if isinstance(other, Context):
            check_supported(other)
            target = empty(self.shape, other, self._data.dtype)
        elif isinstance(other, NDArray):
            if other is self:
                return self
            if other.shape != self.shape:
                raise ShapeError("copyto: shape mismatch, source %s, target %s" % (self.shape, other.shape))
            target = other
        else:
            raise TypeError("copyto does not support type %s" % type(other).__name__)
        src, dst = self._data, target._data
        if self._ctx.device_type == "gpu" or target._ctx.device_type == "gpu":
            contexts = (self._ctx, target._ctx)
            get_engine().push(lambda: gpu_storage.copy(src, dst, *contexts), [self._var], [target._var], "_copyto")
            return target
        get_engine().push(lambda: np.copyto(dst, src, casting="unsafe"), [self._var], [target._var], "_copyto")
        return target

    def copy(self):
        return self.copyto(self._ctx)

    def as_in_context(self, context):
        return self if context == self._ctx else self.copyto(context)

    def astype(self, dtype, copy=True):
        """A copy cast to `dtype` (or self when the dtype already matches and `copy` is False)."""
        if not copy and np.dtype(dtype) == self._data.dtype:
            return self
        return _invoke(registry.get("Cast"), "Cast", (self,), {"dtype": registry.dtype_name(dtype)})

    def reshape(self, *shape, **kwargs):
        """A view with a new shape; MXNet's special values 0, -1, -2, -3, -4 apply (see `Reshape`)."""
        if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
            shape = tuple(shape[0])
        shape = kwargs.pop("shape", shape)
        reverse = kwargs.pop("reverse", False)
        if kwargs:
            raise TypeError("reshape got unexpected arguments %s" % sorted(kwargs))
        if autograd.is_recording():     # recorded as the Reshape op, so gradients flow through it
            return _op("Reshape", self, shape=tuple(shape), reverse=reverse)
        opdef = registry.get("Reshape")
        params = opdef.parse_params({"shape": tuple(shape), "reverse": reverse})
        _, (new_shape,) = apply_rule(Node(opdef, "reshape", params=params), [self.shape], [None], "shape")
        return NDArray(self._data.reshape(new_shape), self._var, self._ctx)

    # -- autograd ------------------------------------------------------------------------------------------------
    def attach_grad(self, grad_req="write", stype=None):
        """Allocate a gradient array (zeros) and mark this array as a variable to differentiate."""
        from .. import autograd
        autograd.mark_variables([self], [zeros(self.shape, self._ctx, self._data.dtype)], grad_req)

    @property
    def grad(self):
        """The gradient array attached by `attach_grad()` (None before)."""
        recorded = self._entry.node.recorded if self._entry is not None else None
        return recorded.grad if recorded is not None and self._entry.node.is_variable else None

    def backward(self, out_grad=None, retain_graph=False, train_mode=True):
        """Compute the gradients of this array with respect to the marked variables (see `mx.autograd`)."""
        from .. import autograd
        autograd.backward([self], None if out_grad is None else [out_grad], retain_graph, train_mode)

    def detach(self):
        """The same storage, cut off from the recorded graph."""
        return NDArray(self._data, self._var, self._ctx)

    # -- indexing ------------------------------------------------------------------------------------------------
    def __getitem__(self, key):
        key = _index_key(key)
        if self._ctx.device_type == "gpu":
            return self._getitem_gpu(key)
        if _is_basic(key):
            view = self._data[key]
            if view.ndim == 0:
                view = view.reshape(1)
            if view.flags.c_contiguous:
                return NDArray(view, self._var, self._ctx)      # shares storage, as MXNet's contiguous slices do
        src = self._data
        shape = np.empty(src.shape, dtype=np.bool_)[key].shape if _is_basic(key) else src[key].shape
        result = empty(shape or (1,), self._ctx, src.dtype)
        dst = result._data
        get_engine().push(lambda: np.copyto(dst, np.reshape(src[key], dst.shape)), [self._var],
                          [result._var], "_slice")
        return result

    def _getitem_gpu(self, key):
        """x[key] on a GPU: a view when contiguous (as on the CPU), else a copy through the host."""
        if _is_basic(key):
            view = gpu_storage.basic_view(self._data, key)
            if view is not None:
                return NDArray(view, self._var, self._ctx)
        src, device = self._data, self._ctx.device_id
        probe = np.empty(src.shape, dtype=np.bool_)
        shape = probe[key].shape
        result = empty(shape or (1,), self._ctx, src.dtype)
        dst = result._data

        def run():
            host = gpu_storage.to_host(src, device)
            gpu_storage.from_host(np.reshape(host[key], dst.shape), dst, device)
        get_engine().push(run, [self._var], [result._var], "_slice")
        return result

    def __setitem__(self, key, value):
        key = _index_key(key)
        dst = self._data
        if isinstance(value, NDArray) and value._ctx != self._ctx and "gpu" in (value._ctx.device_type,
                                                                               self._ctx.device_type):
            value = value.as_in_context(self._ctx)
        if self._ctx.device_type == "gpu":
            src, reads = (value._data, [value._var]) if isinstance(value, NDArray) else \
                (np.array(value, dtype=dst.dtype), [])
            device = self._ctx.device_id
            get_engine().push(lambda: gpu_storage.setitem(dst, key, src, device), reads, [self._var], "_set_value")
            return
        if isinstance(value, NDArray):
            src = value._data
            reads = [value._var]
        else:
            src = np.array(value, dtype=dst.dtype)      # copy now: the caller may change `value` later
            reads = []
        get_engine().push(lambda: dst.__setitem__(key, src), reads, [self._var], "_set_value")

    # -- arithmetic (built from the table below) ---------------------------------------------------------------
    def __neg__(self):
        return _invoke(registry.get("negative"), "negative", (self,), {})

    def __pos__(self):
        return self

    def __hash__(self):
        return id(self)

    @property
    def T(self):
        """The transpose (all axes reversed)."""
        return _op("transpose", self)

    def wait_to_write(self):
        self.wait_to_read()


# (dunder, op for NDArray ∘ NDArray, op for NDArray ∘ scalar, op for scalar ∘ NDArray). NDArray arithmetic
# broadcasts, as MXNet's does; reflected dunders use the third op; in-place dunders write into self. Comparisons
# return NDArrays of 1/0 in the operands' dtype and have no reflected or in-place form (Python turns `2 < x` into
# `x > 2`). `__hash__` stays identity (defined above).
_ARITHMETIC = (
    ("add", "broadcast_add", "_plus_scalar", "_plus_scalar"),
    ("sub", "broadcast_sub", "_minus_scalar", "_rminus_scalar"),
    ("mul", "broadcast_mul", "_mul_scalar", "_mul_scalar"),
    ("truediv", "broadcast_div", "_div_scalar", "_rdiv_scalar"),
    ("pow", "broadcast_power", "_power_scalar", "_rpower_scalar"),
    ("mod", "broadcast_mod", "_mod_scalar", "_rmod_scalar"),
    ("eq", "broadcast_equal", "_equal_scalar", None),
    ("ne", "broadcast_not_equal", "_not_equal_scalar", None),
    ("gt", "broadcast_greater", "_greater_scalar", None),
    ("ge", "broadcast_greater_equal", "_greater_equal_scalar", None),
    ("lt", "broadcast_lesser", "_lesser_scalar", None),
    ("le", "broadcast_lesser_equal", "_lesser_equal_scalar", None),
)


def _make_arithmetic(array_op, scalar_op, rscalar_op):
    def forward(self, other, out=None):
        extra = {} if out is None else {"out": out}
        if isinstance(other, NDArray):
            return _op(array_op, self, other, **extra)
        if isinstance(other, _NUMERIC):
            return _op(scalar_op, self, scalar=float(other), **extra)
        if isinstance(other, np.ndarray):
            return _op(array_op, self, array(other, self._ctx, self._data.dtype), **extra)
        return NotImplemented

    def reflected(self, other):
        if isinstance(other, _NUMERIC):
            return _op(rscalar_op, self, scalar=float(other))
        if isinstance(other, np.ndarray):
            return _op(array_op, array(other, self._ctx, self._data.dtype), self)
        return NotImplemented

    def inplace(self, other):
        return forward(self, other, out=self)
    return forward, reflected, inplace


for _dunder, _array_op, _scalar_op, _rscalar_op in _ARITHMETIC:
    _kinds = ("__%s__", "__r%s__", "__i%s__") if _rscalar_op is not None else ("__%s__",)
    for _kind, _fn in zip(_kinds, _make_arithmetic(_array_op, _scalar_op, _rscalar_op)):
        _fn.__name__ = _kind % _dunder
        setattr(NDArray, _kind % _dunder, _fn)
NDArray.__div__, NDArray.__rdiv__, NDArray.__idiv__ = NDArray.__truediv__, NDArray.__rtruediv__, \
    NDArray.__itruediv__


def _index_key(key):
    if isinstance(key, NDArray):
        return key.asnumpy().astype(np.int64)
    if isinstance(key, tuple):
        return tuple(k.asnumpy().astype(np.int64) if isinstance(k, NDArray) else k for k in key)
    return key


def _is_basic(key):
    parts = key if isinstance(key, tuple) else (key,)
    return all(isinstance(k, (numbers.Integral, slice)) or k is Ellipsis or k is None for k in parts)


# ---------------------------------------------------------------------------------------------------------------
# Running an op imperatively: registry -> infer -> allocate -> engine.push(kernel)
# ---------------------------------------------------------------------------------------------------------------

class _OpCall:
    """One op with one set of params, ready to run imperatively: parsed once, then cached by `_invoke`.

    `infer` remembers the output shapes and dtypes per input signature (rules are pure functions of the params
    and the input shapes and dtypes), so a steady-state call only allocates and pushes."""
    __slots__ = ("opdef", "op_name", "params", "input_names", "n_args", "n_out", "n_visible", "kernel",
                 "_inferred")

    def __init__(self, opdef, op_name, params):
        self.opdef, self.op_name, self.params = opdef, op_name, params
        self.input_names = opdef.input_names(params)
        self.n_args = len(opdef.argument_names(params))
        self.n_out = opdef.num_outputs(params)
        self.n_visible = opdef.visible_outputs(params)
        self.kernel = opdef.cpu
        if self.kernel is None:
            raise MXNetError(in_operator(opdef.name, op_name, "has no CPU kernel"))
        self._inferred = {}

    def infer(self, inputs):
        key = tuple((x._data.shape, x._data.dtype) for x in inputs)
        hit = self._inferred.get(key)
        if hit is None:
            node = Node(self.opdef, self.op_name, params=self.params)
            _, shapes = apply_rule(node, [x.shape for x in inputs], [None] * self.n_out, "shape")
            _, dtypes = apply_rule(node, [x._data.dtype for x in inputs], [None] * self.n_out, "dtype")
            unknown = [i for i, (s, t) in enumerate(zip(shapes, dtypes)) if s is None or t is None]
            if unknown:
                raise ShapeError(in_operator(self.opdef.name, self.op_name, "cannot infer the shape and dtype of "
                                             "outputs %s from inputs of shapes %s"
                                             % (unknown, [x.shape for x in inputs])))
            hit = self._inferred[key] = (shapes, dtypes)
        return hit


_CALLS = {}
_TRAIN, _PREDICT = OpContext(is_train=True), OpContext(is_train=False)


def _op_call(opdef, op_name, kwargs):
    try:
        key = (opdef, op_name, tuple(sorted(kwargs.items())))
        hash(key)
    except TypeError:           # unhashable param values (lists): parse every time
        return _OpCall(opdef, op_name, opdef.parse_params(kwargs))
    call = _CALLS.get(key)
    if call is None:
        call = _CALLS[key] = _OpCall(opdef, op_name, opdef.parse_params(kwargs))
    return call


def _invoke(opdef, op_name, args, kwargs):
    """Run op `opdef` (called as `op_name`) on NDArrays now; returns the output NDArray(s)."""
    out = kwargs.pop("out", None)
    kwargs.pop("name", None)
    inputs = list(args)
    names_given = {k: kwargs.pop(k) for k in list(kwargs) if isinstance(kwargs[k], NDArray)}
    if opdef.variadic and opdef.variadic not in kwargs:
        kwargs[opdef.variadic] = len(inputs)
    if kwargs.get("dtype") is not None and "dtype" in opdef.params:
        kwargs["dtype"] = registry.dtype_name(kwargs["dtype"])
    ctx = kwargs.pop("ctx", None)
    if isinstance(ctx, Context):
        check_supported(ctx)
    call = _op_call(opdef, op_name, kwargs)
    if names_given or len(inputs) != len(call.input_names):
        inputs = _order_inputs(opdef, op_name, call.input_names, inputs, names_given)
    for i, x in enumerate(inputs):
        if not isinstance(x, NDArray):
            raise TypeError("%s: input %r must be an NDArray, got %s"
                            % (op_name, call.input_names[i], type(x).__name__))
    shapes, dtypes = call.infer(inputs)
    ctx = ctx or (inputs[0]._ctx if inputs else None)
    if out is None:
        ctx = ctx or current_context()
        outputs = [NDArray(_alloc(s, t, ctx), ctx=ctx) for s, t in zip(shapes, dtypes)]
    else:
        outputs = _given_outputs(out, shapes, dtypes, opdef, op_name, ctx)
    _push(call, inputs, outputs, out is not None)
    if autograd.is_recording():
        autograd.record_op(Node(opdef, op_name, params=call.params), inputs, outputs)
    if out is not None:
        return out
    return outputs[0] if call.n_visible == 1 else outputs[:call.n_visible]


def _order_inputs(opdef, op_name, input_names, positional, by_name):
    if not by_name:
        if len(positional) != len(input_names):
            raise MXNetError(in_operator(opdef.name, op_name, "%d inputs given, it takes %d (%s)"
                                         % (len(positional), len(input_names), ", ".join(input_names))))
        return positional
    slots = dict(zip(input_names, positional))
    for key, value in by_name.items():
        if key not in input_names:
            raise MXNetError(in_operator(opdef.name, op_name, "%r is not an input; the inputs are %s"
                                         % (key, input_names)))
        slots[key] = value
    missing = [n for n in input_names if n not in slots]
    if missing:
        raise MXNetError(in_operator(opdef.name, op_name, "missing inputs %s" % missing))
    return [slots[n] for n in input_names]


def _given_outputs(out, shapes, dtypes, opdef, op_name, ctx):
    """The user's `out` arrays (checked), plus fresh arrays for the op's hidden outputs."""
    given = list(out) if isinstance(out, (list, tuple)) else [out]
    ctx = ctx or given[0]._ctx
    for i, (o, s) in enumerate(zip(given, shapes)):
        if o.shape != tuple(s):
            raise ShapeError(in_operator(opdef.name, op_name, "output %d: `out` has shape %s, the result has %s"
                                         % (i, o.shape, tuple(s))))
    hidden = [NDArray(_alloc(s, t, ctx), ctx=ctx) for s, t in zip(shapes[len(given):], dtypes[len(given):])]
    return given + hidden


def _push(call, inputs, outputs, user_out):
    """Push the kernel: reads the inputs, writes the outputs and the aux inputs (BatchNorm's moving stats)."""
    if outputs[0]._ctx.device_type == "gpu" or (_GPU_USED and any(x._ctx.device_type == "gpu" for x in inputs)):
        _push_gpu(call, inputs, outputs, user_out)
        return
    in_data = [x._data for x in inputs]
    out_data = [o._data for o in outputs]
    final = out_data
    if user_out:
        # An output written over one of its inputs (x += y) is safe only for ops declaring that pair in place.
        out_data = list(out_data)
        for j, o in enumerate(out_data):
            for i, x in enumerate(in_data):
                if np.may_share_memory(o, x) and (i, j) not in call.opdef.inplace:
                    out_data[j] = np.empty_like(o)
    reads = [x._var for x in inputs]
    writes = [o._var for o in outputs]
    if call.n_args < len(inputs):
        writes += reads[call.n_args:]
    req = [WRITE] * len(outputs)
    kernel, params = call.kernel, call.params
    op_ctx = _TRAIN if autograd.is_training() else _PREDICT

    if out_data is final:
        def run():
            kernel(op_ctx, params, in_data, out_data, req)
    else:
        def run():
            kernel(op_ctx, params, in_data, out_data, req)
            for tmp, dst in zip(out_data, final):
                if tmp is not dst:
                    np.copyto(dst, tmp)
    small = sum(o.nbytes for o in final) <= _INLINE_BYTES
    get_engine().push(run, reads, writes, call.op_name, inline=small)


# Ops writing at most this many bytes run in the calling thread when their inputs are ready (see engine.py).
_INLINE_BYTES = 1 << 16
_GPU_USED = False       # set when the first GPU array is made: only then do CPU ops check for GPU inputs


def _push_gpu(call, inputs, outputs, user_out):
    """_push on a GPU: the op's `gpu` kernel runs on the device's stream (queued: it returns at once)."""
    device = outputs[0]._ctx
    for x in list(inputs) + list(outputs):
        if x._ctx != device:
            raise MXNetError(in_operator(call.opdef.name, call.op_name, "all inputs and outputs must be on one "
                                         "device; got %s and %s (use as_in_context / copyto)" % (x._ctx, device)))
    kernel = call.opdef.gpu
    if kernel is None:
        raise MXNetError(in_operator(call.opdef.name, call.op_name, "has no GPU kernel"))
    in_data = [x._data for x in inputs]
    final = [o._data for o in outputs]
    out_data = list(final)
    if user_out:        # as on the CPU: an output over an input is safe only for declared in-place pairs
        for j, o in enumerate(out_data):
            if any(gpu_storage.same_memory(o, x) and (i, j) not in call.opdef.inplace for i, x in enumerate(in_data)):
                out_data[j] = gpu_storage.empty(o.shape, o.dtype, device.device_id)
    reads = [x._var for x in inputs]
    writes = [o._var for o in outputs]
    if call.n_args < len(inputs):
        writes += reads[call.n_args:]
    req = [WRITE] * len(outputs)
    params, device_id = call.params, device.device_id
    op_ctx = _TRAIN if autograd.is_training() else _PREDICT

    def run():
        with gpu_storage.on_device(device_id):
            kernel(op_ctx, params, in_data, out_data, req)
            for tmp, dst in zip(out_data, final):
                if tmp is not dst:
                    gpu_storage.copy_same_device(tmp, dst)
    get_engine().push(run, reads, writes, call.op_name, inline=True)


def _alloc(shape, dtype, ctx):
    """Storage of a new array on ctx: a numpy array, or a pooled device array on a GPU."""
    if ctx.device_type == "gpu":
        global _GPU_USED
        _GPU_USED = True
        return gpu_storage.empty(shape, dtype, ctx.device_id)
    return np.empty(shape, dtype=dtype)


def _op(op_name, *args, **kwargs):
    return _invoke(registry.get(op_name), op_name, args, kwargs)


# ---------------------------------------------------------------------------------------------------------------
# Creating arrays
# ---------------------------------------------------------------------------------------------------------------

def _context(ctx):
    ctx = ctx if ctx is not None else current_context()
    if not isinstance(ctx, Context):
        ctx = Context(ctx)
    check_supported(ctx)
    return ctx


def array(source_array, ctx=None, dtype=None):
    """An NDArray holding a copy of `source_array`; float32 unless `dtype` is given or the source is an NDArray
    (MXNet turns numpy arrays of any dtype into float32 by default)."""
    if isinstance(source_array, NDArray):
        dtype = source_array.dtype if dtype is None else dtype
        source_array = source_array.asnumpy()
    dtype = np.dtype(_DEFAULT_DTYPE if dtype is None else dtype)
    data = np.array(source_array, dtype=dtype, order="C", copy=True)
    ctx = _context(ctx)
    if ctx.device_type == "gpu":
        result = NDArray(_alloc(data.shape, dtype, ctx), ctx=ctx)
        dst, device = result._data, ctx.device_id
        get_engine().push(lambda: gpu_storage.from_host(data, dst, device), [], [result._var], "_copyto")
        return result
    return NDArray(data, ctx=ctx)


def empty(shape, ctx=None, dtype=None):
    """An uninitialized array."""
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    ctx = _context(ctx)
    return NDArray(_alloc(shape, np.dtype(_DEFAULT_DTYPE if dtype is None else dtype), ctx), ctx=ctx)


def _filled(op_name, shape, ctx, dtype, **extra):
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    ctx = _context(ctx)
    out = NDArray(_alloc(shape, np.dtype(_DEFAULT_DTYPE if dtype is None else dtype), ctx), ctx=ctx)
    return _invoke(registry.get(op_name), op_name, (), dict(shape=shape, dtype=out._data.dtype.name, out=out,
                                                          **extra))


def zeros(shape, ctx=None, dtype=None, **kwargs):
    """An array of zeros."""
    return _filled("_zeros", shape, ctx, dtype)


def ones(shape, ctx=None, dtype=None, **kwargs):
    """An array of ones."""
    return _filled("_ones", shape, ctx, dtype)


def full(shape, val, ctx=None, dtype=None, out=None):
    """An array filled with `val`."""
    return _filled("_full", shape, ctx, dtype, value=float(val))


def arange(start, stop=None, step=1.0, repeat=1, ctx=None, dtype=None, infer_range=False):
    """Evenly spaced values in [start, stop), each repeated `repeat` times."""
    if stop is None:
        start, stop = 0.0, start
    values = np.arange(start, stop, step, dtype=np.float64)
    if repeat != 1:
        values = np.repeat(values, repeat)
    return array(values, ctx, _DEFAULT_DTYPE if dtype is None else dtype)


def eye(N, M=0, k=0, ctx=None, dtype=None, **kwargs):
    """A 2-D array with ones on the k-th diagonal."""
    return _invoke(registry.get("_eye"), "_eye", (), dict(N=N, M=M, k=k, dtype=np.dtype(dtype or _DEFAULT_DTYPE).name,
                                                        **kwargs))


def waitall():
    """Wait for every pending operation; raise the first error any of them stored."""
    get_engine().waitall()
    gpu_storage.synchronize()


def concatenate(arrays, axis=0, always_copy=True):
    """Join arrays along `axis` (computed on the host)."""
    return array(np.concatenate([a.asnumpy() for a in arrays], axis=axis), arrays[0].context, arrays[0].dtype)
