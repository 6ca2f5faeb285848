"""NDArray: an asynchronous array handle = storage (a C-contiguous numpy array) + an engine var.

On `mx.gpu(i)` the storage is a numba device array from the device's memory pool and ops run their `gpu` kernels
on the device's stream (ops/cuda/storage.py, Note [stream-ordered completion]); every GPU branch below is taken
once per call on the context's device type, so the CPU path is unchanged.

Every operation on an NDArray is pushed to the engine with the vars it reads and writes, and returns at once;
`asnumpy()`, `wait_to_read()` and `mx.nd.waitall()` wait. Views (`x[1:3]`, `x.reshape(...)`) share their base's
storage and its var, so the engine orders them with the base. Storage is always C-contiguous: indexing that would
give a strided view returns a copy instead (MXNet 1.x does the same), so kernels can treat every array as flat.

This module holds the class, its arithmetic and `_invoke` (running one op now). Indexing is in indexing.py, array
creation (array, zeros, arange ...) in creation.py, numpy/DLPack/pickling/tostype in interop.py, moveaxis and
onehot_encode in wrappers.py.
"""
import functools
import numbers

import numpy as np

from ops import registry
from ops.errors import MXNetError, ShapeError, in_operator
from ops.registry import WRITE, OpContext

from ops.cuda import storage as gpu_storage

from scheduler import op_timing
from scheduler.engine import Var, get_engine
from scheduler.graph import Node
from scheduler.infer import apply_rule

from .. import autograd
from ..autograd.state import _state as _autograd_state
from ..context import Context, as_context, check_supported, current_context
from .calls import (_CALLS, _FORMS, _INLINE_BYTES, _MAX_CACHED, _CallForm, _OpCall, _op_call,  # noqa: F401
                    _order_inputs, _partial_writes)

_NUMERIC = (numbers.Number, np.number, np.bool_)
_GRAD_STYPES = {}   # id(array) -> (weakref, stype): the sparse storage type attach_grad(stype=...) asked for
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
        self._var = var if var is not None else Var()     # every engine's vars are plain `Var`s
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
        return "default"       # tostype, DLPack and pickling are in interop.py

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
            target = NDArray(_alloc(self.shape, self._data.dtype, other), ctx=other)
        elif isinstance(other, NDArray):
            if other is self:
                return self
            if other.shape != self.shape:
                raise ShapeError("copyto: shape mismatch, source %s, target %s" % (self.shape, other.shape))
            if other.stype != "default":        # a sparse target takes the value in its own storage type
                return self.tostype(other.stype).copyto(other)
            target = other
        else:
            raise TypeError("copyto does not support type %s" % type(other).__name__)
        src, dst = self._data, target._data
        reads = [self._var] + _partial_writes([target])     # a copy into a slice keeps the target's stored error
        if self._ctx.device_type == "gpu" or target._ctx.device_type == "gpu":
            contexts = (self._ctx, target._ctx)
            get_engine().push(lambda: gpu_storage.copy(src, dst, *contexts), reads, [target._var], "_copyto")
            return target
        get_engine().push(lambda: np.copyto(dst, src, casting="unsafe"), reads, [target._var], "_copyto")
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
        new_shape = _apply_rule_shape("Reshape", {"shape": tuple(shape), "reverse": reverse}, self.shape)
        return NDArray(self._data.reshape(new_shape), self._var, self._ctx)

    def broadcast_to(self, shape):
        """A copy broadcast to `shape`: axes of size 1 grow, and a `shape` with more axes (any sequence of ints,
        a numpy array too) first gets the array leading axes of size 1, as MXNet's method does (its op does not)."""
        shape = tuple(int(d) for d in shape)
        padded = (1,) * (len(shape) - self.ndim) + self.shape
        if len(shape) < self.ndim or any(d != n and d != 1 for d, n in zip(padded, shape)):
            raise ValueError("operands could not be broadcast together with remapped shapes[original->remapped]: "
                             "%s and requested shape %s" % (self.shape, shape))
        return _op("broadcast_to", self if padded == self.shape else self.reshape(padded), shape=shape)

    # -- autograd ------------------------------------------------------------------------------------------------
    def attach_grad(self, grad_req="write", stype=None):
        """Allocate a gradient array (zeros) and mark this array as a variable to differentiate. With a sparse
        `stype` the gradient is still computed dense; `.grad` returns it in that storage type (a copy)."""
        from .. import autograd
        from .sparse.arrays import ask_grad_stype
        grad = NDArray(_alloc(self.shape, self._data.dtype, self._ctx), ctx=self._ctx)
        grad[:] = 0
        ask_grad_stype(self, stype)
        autograd.mark_variables([self], [grad], grad_req)

    @property
    def grad(self):
        """The gradient array attached by `attach_grad()` (None before)."""
        recorded = self._entry.node.recorded if self._entry is not None else None
        grad = recorded.grad if recorded is not None and self._entry.node.is_variable else None
        if grad is not None and id(self) in _GRAD_STYPES:
            from .sparse.arrays import grad_in_asked_stype
            return grad_in_asked_stype(self, grad)
        return grad

    def backward(self, out_grad=None, retain_graph=False, train_mode=True):
        """Compute the gradients of this array with respect to the marked variables (see `mx.autograd`)."""
        from .. import autograd
        autograd.backward([self], None if out_grad is None else [out_grad], retain_graph, train_mode)

    def detach(self):
        """The same storage, cut off from the recorded graph."""
        return NDArray(self._data, self._var, self._ctx)

    def as_np_ndarray(self):
        """An `mx.np.ndarray` sharing this array's storage and its place in the recorded graph."""
        from ..numpy.multiarray import as_np
        return as_np(self)

    def as_nd_ndarray(self):
        return self

    # `x[key]` and `x[key] = value` are in indexing.py; tostype, DLPack and pickling in interop.py.

    # -- arithmetic (built from the table below) ---------------------------------------------------------------
    def __neg__(self):
        return _invoke(registry.get("negative"), "negative", (self,), {})

    def __pos__(self):
        return self

    def __abs__(self):
        return _invoke(registry.get("abs"), "abs", (self,), {})

    def __hash__(self):
        return id(self)

    # MXNet's methods with `inplace`: True gives a view (a reshape sharing storage), False a copy (the op).
    def flatten(self, inplace=False):
        """The array as (d1, d2 * ... * dk)."""
        return self.reshape((0, -1)) if inplace else _op("Flatten", self)

    def expand_dims(self, axis, inplace=False):
        """The array with a new axis of size 1 at `axis`."""
        if not inplace:
            return _op("expand_dims", self, axis=axis)
        return self.reshape(_apply_rule_shape("expand_dims", dict(axis=axis), self.shape))

    def squeeze(self, axis=None, inplace=False):
        """The array without its size-1 axes (or only those in `axis`)."""
        if not inplace:
            return _op("squeeze", self, axis=axis)
        return self.reshape(_apply_rule_shape("squeeze", dict(axis=axis), self.shape))

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
            return _op(array_op, self, _from_host(other.copy(), self._ctx, self._data.dtype), **extra)
        return NotImplemented

    def reflected(self, other):
        if isinstance(other, _NUMERIC):
            return _op(rscalar_op, self, scalar=float(other))
        if isinstance(other, np.ndarray):
            return _op(array_op, _from_host(other.copy(), self._ctx, self._data.dtype), self)
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


# ---------------------------------------------------------------------------------------------------------------
# Running an op imperatively: registry -> infer -> allocate -> engine.push(kernel); the parsed calls and their
# caches are in calls.py (Note [the imperative fast path])
# ---------------------------------------------------------------------------------------------------------------

_TRAIN, _PREDICT = OpContext(is_train=True), OpContext(is_train=False)


def _invoke(opdef, op_name, args, kwargs):
    """Run op `opdef` (called as `op_name`) on NDArrays now; returns the output NDArray(s)."""
    key = None
    if "out" not in kwargs:
        for value in kwargs.values():
            if isinstance(value, NDArray):      # an input by name: never cached
                break
        else:
            key = (opdef, op_name, len(args), *kwargs.items())
            try:
                form = _FORMS.get(key)
            except TypeError:       # an unhashable param (a list): parsed every time
                key = form = None
            if form is not None:
                return _run(form, args, None)
    out = kwargs.pop("out", None)
    form, inputs = _parse(opdef, op_name, args, kwargs)
    if key is not None and inputs is args:
        if len(_FORMS) >= _MAX_CACHED:
            _FORMS.clear()
        _FORMS[key] = form
    return _run(form, inputs, out)


def _parse(opdef, op_name, args, kwargs):
    """(_CallForm, inputs in the op's order) of a call; `kwargs` (without `out`) is consumed."""
    kwargs.pop("name", None)
    names_given = {k: kwargs.pop(k) for k in list(kwargs) if isinstance(kwargs[k], NDArray)}
    if opdef.variadic and opdef.variadic not in kwargs:
        kwargs[opdef.variadic] = len(args)
    if kwargs.get("dtype") is not None and "dtype" in opdef.params:
        kwargs["dtype"] = registry.dtype_name(kwargs["dtype"])
    ctx = kwargs.pop("ctx", None) or None      # "" (the ops' default of the param) is no context either
    ctx = as_context(ctx) if ctx is not None else None
    call = _op_call(opdef, op_name, kwargs)
    inputs = args
    if names_given or len(args) != len(call.input_names):
        inputs = _order_inputs(opdef, op_name, call.input_names, list(args), names_given)
    return _CallForm(call, ctx, kwargs), inputs


def _run(form, inputs, out):
    """Run a parsed call on `inputs` (into `out` when given): allocate, push, record. The common call (fresh
    outputs on the CPU, no GPU array made yet in the process) is written out flat here; the rest is `_run_general`."""
    call = form.call
    if out is not None or _GPU_USED or call.state_per_call:
        return _run_general(form, inputs, out)
    in_data, reads, key = [], [], []
    for x in inputs:
        if type(x) is not NDArray and (not isinstance(x, NDArray) or x.stype != "default"):
            return _run_general(form, inputs, out)      # refuses non-arrays, hands sparse arrays on
        data = x._data
        in_data.append(data)
        reads.append(x._var)
        key.append(data.shape)
        key.append(data.dtype)
    ctx = form.ctx or (inputs[0]._ctx if inputs else None) or current_context()
    if ctx.device_type == "gpu":
        return _run_general(form, inputs, out)
    key = tuple(key)
    signature = call._inferred.get(key) if inputs else None   # without inputs, `signature` checks the shape param
    if signature is None:
        signature = call.signature(inputs, key)
    outputs, out_data, writes = [], [], []
    for shape, dtype in signature.outputs:
        data, var = np.empty(shape, dtype), Var()
        outputs.append(NDArray(data, var, ctx))
        out_data.append(data)
        writes.append(var)
    if call.written:
        writes += [reads[i] for i in call.written]
    # _push_kernel written out (a frame less per call)
    op_ctx = _TRAIN if _autograd_state.training else _PREDICT
    run = functools.partial(call.kernel, op_ctx, call.params, in_data, out_data, [WRITE] * len(out_data))
    if op_timing.timer is not None:     # mx.profiler records operators
        run = op_timing.timed(run, call.op_name)
    get_engine().push(run, reads, writes, call.op_name, inline=signature.small)
    if _autograd_state.recording:
        autograd.record_op(Node(call.opdef, call.op_name, attrs=form.attrs, params=call.params), inputs, outputs)
    return outputs[0] if call.n_visible == 1 else outputs[:call.n_visible]


def _run_general(form, inputs, out):
    """`_run` into the user's `out`, on a GPU, or for an op whose kernel keeps state per call."""
    call = form.call
    for x in inputs:
        if not isinstance(x, NDArray):
            _refuse_input(call, inputs)
    if any(x.stype != "default" for x in inputs) or (out is not None and _any_sparse(out)):
        from .sparse.fallback import run_sparse     # Note [sparse storage] in sparse/__init__.py
        return run_sparse(form, inputs, out, _run_general)
    if call.state_per_call:     # its own Params, which its kernel state is kept by (a Custom op's CustomOp)
        call = _OpCall(call.opdef, call.op_name, registry.Params(call.params.as_dict()))
    signature = call.signature(inputs)
    ctx = form.ctx or (inputs[0]._ctx if inputs else None)
    if out is None:
        ctx = ctx or current_context()
        outputs = [NDArray(_alloc(s, t, ctx), ctx=ctx) for s, t in signature.outputs]
    else:
        outputs = _given_outputs(out, signature.shapes, signature.dtypes, call.opdef, call.op_name, ctx)
    _push(call, inputs, outputs, out is not None, signature.small)
    if _autograd_state.recording:
        autograd.record_op(Node(call.opdef, call.op_name, attrs=form.attrs, params=call.params), inputs, outputs)
    if out is not None:
        return out
    return outputs[0] if call.n_visible == 1 else outputs[:call.n_visible]


def _any_sparse(out):
    return any(o.stype != "default" for o in (out if isinstance(out, (list, tuple)) else [out]))


def _refuse_input(call, inputs):
    for i, x in enumerate(inputs):
        if not isinstance(x, NDArray):
            raise TypeError("%s: input %r must be an NDArray, got %s" % (call.op_name, call.input_names[i],
                                                                         type(x).__name__))


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


def _push(call, inputs, outputs, user_out, small=None):
    """Push the kernel: reads the inputs, writes the outputs and the aux inputs (BatchNorm's moving stats).
    `small`: the outputs fit `_INLINE_BYTES` (None: measure them), so the op may run in the calling thread."""
    if outputs[0]._ctx.device_type == "gpu" or (_GPU_USED and any(x._ctx.device_type == "gpu" for x in inputs)):
        _push_gpu(call, inputs, outputs, user_out)
        return
    in_data = [x._data for x in inputs]
    out_data = [o._data for o in outputs]
    reads = [x._var for x in inputs]
    writes = [o._var for o in outputs]
    if call.written:
        writes += [reads[i] for i in call.written]
    if small is None:
        small = sum(o.nbytes for o in out_data) <= _INLINE_BYTES
    if user_out:
        reads += _partial_writes(outputs)
        # An output written over one of its inputs (x += y) is safe only for ops declaring that pair in place:
        # the kernel then writes a temporary, copied over afterwards.
        temps = [np.empty_like(o) if any(np.may_share_memory(o, x) and (i, j) not in call.opdef.inplace
                                         for i, x in enumerate(in_data)) else o
                 for j, o in enumerate(out_data)]
        if any(tmp is not o for tmp, o in zip(temps, out_data)):
            _push_kernel(call, in_data, temps, reads, writes, small, copy_to=out_data)
            return
    _push_kernel(call, in_data, out_data, reads, writes, small)


def _push_kernel(call, in_data, out_data, reads, writes, small, copy_to=None):
    """Push `call`'s CPU kernel from `in_data` into `out_data` (then copied into `copy_to`, when given)."""
    kernel, params, req = call.kernel, call.params, [WRITE] * len(out_data)
    op_ctx = _TRAIN if _autograd_state.training else _PREDICT
    if copy_to is None:
        run = functools.partial(kernel, op_ctx, params, in_data, out_data, req)     # no Python frame of its own
    else:
        def run():
            kernel(op_ctx, params, in_data, out_data, req)
            for tmp, dst in zip(out_data, copy_to):
                if tmp is not dst:
                    np.copyto(dst, tmp)
    if op_timing.timer is not None:     # mx.profiler records operators
        run = op_timing.timed(run, call.op_name)
    get_engine().push(run, reads, writes, call.op_name, inline=small)


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
    if call.written:
        writes += [reads[i] for i in call.written]
    if user_out:
        reads += _partial_writes(outputs)
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


def _apply_rule_shape(op_name, kwargs, shape):
    """The output shape op `op_name` gives an input of `shape` (its shape rule, with its errors)."""
    opdef = registry.get(op_name)
    node = Node(opdef, op_name.lower(), params=opdef.parse_params({k: v for k, v in kwargs.items()
                                                                  if v is not None}))
    _, (out_shape,) = apply_rule(node, [shape], [None], "shape")
    return out_shape


def _from_host(source, ctx, dtype):
    """A new array on ctx holding `source` (a host array or array-like) in `dtype`; the storage on a CPU is
    `source` itself when it is already a C-contiguous array of that dtype, so pass a copy the caller owns."""
    data = np.asarray(source, dtype=dtype, order="C")
    if ctx.device_type != "gpu":
        return NDArray(data, ctx=ctx)
    result = NDArray(_alloc(data.shape, data.dtype, ctx), ctx=ctx)
    dst, device = result._data, ctx.device_id
    get_engine().push(lambda: gpu_storage.from_host(data, dst, device), [], [result._var], "_copyto")
    return result


def waitall():
    """Wait for every pending operation; raise the first error any of them stored."""
    get_engine().waitall()
    gpu_storage.synchronize()


# array, zeros, arange ... live in creation.py, moveaxis and onehot_encode in wrappers.py (both build on this module);
# MXNet's paths `mxnet.ndarray.ndarray.zeros`, `.moveaxis` ... (and code reaching them through here) still find them.
_CREATION = ("array", "empty", "zeros", "ones", "full", "arange", "eye", "linspace", "concatenate")
_WRAPPERS = ("moveaxis", "onehot_encode")


def __getattr__(name):
    if name in _CREATION:
        from . import creation
        return getattr(creation, name)
    if name in _WRAPPERS:
        from . import wrappers
        return getattr(wrappers, name)
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
