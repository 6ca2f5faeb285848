"""Gluon parameters: `Parameter` (one named array per context, its gradients and how to initialise it),
`Constant`, and `ParameterDict`.

The internals keep MXNet 1.x's names and meanings, because libraries built on Gluon (GluonCV, GluonNLP) reach
into them:
- `_data` / `_grad`: None before initialisation, else one NDArray per context, in `_ctx_list` order
  (`mx.np.ndarray`s when made in NumPy array mode, whatever the mode later: gluon/numpy_mode.py);
  `_ctx_map[device_typeid & 1][device_id]` is the index of a context in that list.
- `_deferred_init`: `()` or `(init, ctx_list, default_init, data)` while the shape is not known yet (`Dense(128)`
  before it sees data: `(128, 0)`); the first forward, which learns the shape, calls `_finish_deferred_init()`.
- `_var`: the Symbol variable, created once; `_trainer`: the Trainer that updates this parameter.
- `_check_and_get(arrays, ctx)`: the array of one context (`ctx is list`: all of them), or MXNet's errors.
- `_init_impl(data, ctx_list)`: copy `data` to every context and attach gradients; `_reduce()`: the mean over
  contexts, on the CPU; `_load_init(data, ctx, cast_dtype, dtype_source)`: (re)initialise from a loaded array.
"""
import re
import warnings
from collections import OrderedDict

import numpy as np

from ops.errors import MXNetError

from .. import autograd
from .. import initializer as _init
from .. import ndarray as nd
from .. import symbol as _sym
from ..context import Context, cpu, current_context
from . import numpy_mode, parameter_io, parameter_sparse, sparse_grad
from .parameter_io import ParameterLoadError

tensor_types = (_sym.Symbol, nd.NDArray)        # MXNet's `gluon.tensor_types`: what a block takes as a tensor


class DeferredInitializationError(MXNetError):
    """A parameter's data was asked for before its shape was known (run a forward pass first)."""


def _as_ctx_list(ctx):
    if ctx is None:
        return [current_context()]
    if isinstance(ctx, Context):
        return [ctx]
    return [c if isinstance(c, Context) else Context(c) for c in ctx]


class Parameter:
    """A named parameter of a Block, held on one or more contexts.

    Parameters
    ----------
    name : str
    grad_req : {'write', 'add', 'null'}
    shape : tuple of int, 0 for a dimension still unknown
    dtype : numpy dtype or str
    lr_mult, wd_mult : float, learning-rate and weight-decay multipliers
    init : Initializer or str, overrides the global initializer
    allow_deferred_init : bool
    differentiable : bool

    Examples
    --------
    >>> import dataflow as mx
    >>> w = mx.gluon.Parameter('w', shape=(2,), init=mx.init.One())
    >>> w.initialize(ctx=[mx.cpu(0), mx.cpu(1)])
    >>> [a.context for a in w.list_data()]
    [cpu(0), cpu(1)]
    >>> w.data(mx.cpu(1)).asnumpy()
    array([1., 1.], dtype=float32)
    """

    def __init__(self, name, grad_req="write", shape=None, dtype=np.float32, lr_mult=1.0, wd_mult=1.0, init=None,
                 allow_deferred_init=False, differentiable=True, stype="default", grad_stype="default"):
        self.name = name
        self._grad_req = grad_req if differentiable else "null"
        self._shape = None if shape is None else numpy_mode.stored_shape(shape)
        self.dtype = np.dtype(dtype)
        self.lr_mult, self.wd_mult = lr_mult, wd_mult
        self.init = init
        self._allow_deferred_init = allow_deferred_init
        self._differentiable = differentiable
        parameter_sparse.check_stypes(name, stype, grad_stype)
        self._stype, self._grad_stype = stype, grad_stype      # Note [row_sparse parameters] for stype 'row_sparse'
        if stype != "default":
            parameter_sparse.refuse_dense_access(self)
        self._data = None           # one NDArray per context
        self._grad = None           # one gradient NDArray per context (None for grad_req 'null')
        self._ctx_list = None
        self._ctx_map = None
        self._deferred_init = ()    # (init, ctx_list, default_init, data) until the shape is known
        self._var = None
        self._trainer = None

    # Every replacement of a parameter's arrays (initialisation, loading, cast, grad_req 'null') bumps
    # `Parameter.generation`, the one number a hybridized block's fast path compares to know that the arrays its
    # compiled graph binds are still the parameters' (dataflow/gluon/block.py, Note [the hybridized fast path]).
    generation = 0

    @property
    def _data(self):
        """The NDArrays, one per context (None before initialisation); MXNet's name, which GluonCV reads."""
        return self._arrays

    @_data.setter
    def _data(self, arrays):
        self._arrays = arrays
        Parameter.generation += 1

    def __repr__(self):
        return "Parameter %s (shape=%s, dtype=%s)" % (self.name, self.shape, self.dtype.type.__name__
                                                      if hasattr(self.dtype, "type") else self.dtype)

    # -- shape and state ---------------------------------------------------------------------------------------------
    @property
    def shape(self):
        """The shape; an unknown dimension is 0, or -1 under NumPy shape semantics (MXNet's convention)."""
        return numpy_mode.shown_shape(self._shape)

    @shape.setter
    def shape(self, new_shape):
        new_shape = numpy_mode.stored_shape(new_shape)
        if self._shape is not None:
            if len(self._shape) != len(new_shape) or any(a and b and a != b for a, b in zip(self._shape, new_shape)):
                raise MXNetError("Expected shape %s is incompatible with given shape %s for Parameter %s"
                                 % (self._shape, new_shape, self.name))
            new_shape = tuple(a or b for a, b in zip(self._shape, new_shape))
        self._shape = new_shape

    @property
    def allow_deferred_init(self):
        return self._allow_deferred_init

    @allow_deferred_init.setter
    def allow_deferred_init(self, value):
        self._allow_deferred_init = value

    @property
    def grad_req(self):
        return self._grad_req

    @grad_req.setter
    def grad_req(self, req):
        if req not in ("write", "add", "null"):
            raise ValueError("grad_req must be one of 'write', 'add', or 'null', but got '%s'" % req)
        if not self._differentiable:
            req = "null"
        if self._grad_req == req:
            return
        self._grad_req = req
        if req == "null" and self._grad is not None:
            self._grad = None
            self._data = [a.detach() for a in self._data]
        elif self._data is not None:
            self._init_grad()

    @property
    def pending(self):
        """True between `initialize()` and the first forward that tells the shape."""
        return self._data is None and bool(self._deferred_init)

    def _shape_known(self):
        return numpy_mode.shape_known(self._shape)

    def _set_trainer(self, trainer):
        """Remember the Trainer that updates this parameter (one for life for a row_sparse one: its store holds the
        value)."""
        if self._stype != "default" and self._trainer and trainer and self._trainer is not trainer:
            raise RuntimeError("Failed to set the trainer for Parameter '%s' because it was already set. More than "
                               "one trainers for a %s Parameter is not supported." % (self.name, self._stype))
        self._trainer = trainer

    # -- initialisation ----------------------------------------------------------------------------------------------
    def initialize(self, init=None, ctx=None, default_init=_init.Uniform(), force_reinit=False):
        """Allocate and fill the data on each context of `ctx` (now, or at the first forward when the shape is
        not known yet). `init` overrides the parameter's own `init`, which overrides `default_init`."""
        if self._data is not None and not force_reinit:
            warnings.warn("Parameter '%s' is already initialized, ignoring. Set force_reinit=True to "
                          "re-initialize." % self.name, stacklevel=2)
            return
        self._data = self._grad = None
        ctx = _as_ctx_list(ctx)
        if init is None:
            init = default_init if self.init is None else self.init
        self._deferred_init = (init, ctx, default_init, None)
        if not self._shape_known():
            if self._allow_deferred_init:
                return
            self._deferred_init = ()
            raise ValueError("Cannot initialize Parameter '%s' because it has invalid shape: %s."
                             % (self.name, self._shape))
        self._finish_deferred_init()

    def _finish_deferred_init(self):
        """Complete a pending initialisation once the shape is known (blocks call it after shape inference)."""
        if not self._deferred_init:
            return
        init, ctx, default_init, data = self._deferred_init
        if not self._shape_known():
            raise DeferredInitializationError("Cannot initialize Parameter '%s' because it has invalid shape: %s. "
                                              "Please specify in_units, in_channels, etc for `Block`s."
                                              % (self.name, self._shape))
        self._deferred_init = ()
        with autograd.pause():
            if data is None:
                data = nd.zeros(self._shape, cpu(), self.dtype)
                # an Initializer instance is used as it is, registered or not (MXNet passes it through __init__)
                _init.create(default_init)(_init.InitDesc(self.name, {"__init__": init}), data)
            self._init_impl(data, ctx)

    def _init_impl(self, data, ctx_list):
        """Copy `data` to every context of `ctx_list` and attach the gradient buffers."""
        self._ctx_list = list(ctx_list)
        self._ctx_map = [[], []]
        for i, ctx in enumerate(self._ctx_list):
            devices = self._ctx_map[ctx.device_typeid & 1]
            devices.extend([None] * (ctx.device_id + 1 - len(devices)))
            devices[ctx.device_id] = i
        source = data if isinstance(data, nd.NDArray) else nd.array(data, dtype=self.dtype)
        if self._stype == "row_sparse":
            self._data = [parameter_sparse.all_rows(source, ctx) for ctx in self._ctx_list]
        else:       # mx.np.ndarrays when made in NumPy array mode, for life (gluon/numpy_mode.py)
            self._data = [numpy_mode.in_current_mode(source.copyto(ctx)) for ctx in self._ctx_list]
        self._init_grad()

    def _init_grad(self):
        if self._grad_req == "null":
            self._grad = None
            return
        if self._stype == "row_sparse":     # only lookups make its gradient (sparse_grad.py), autograd never does
            self._grad = [parameter_sparse.empty_rows(a) for a in self._data]
            return
        self._grad = [numpy_mode.zeros_like(a) for a in self._data]
        autograd.mark_variables(self._data, self._grad, self._grad_req)

    def _load_init(self, data, ctx, cast_dtype=False, dtype_source="current"):
        """(Re)initialise from a loaded array: the shape must fit; with `cast_dtype`, `dtype_source='current'`
        casts the data to this parameter's dtype and `'saved'` adopts the file's dtype."""
        if cast_dtype and dtype_source not in ("current", "saved"):
            raise ValueError("dtype_source must be 'current' or 'saved', got %r" % (dtype_source,))
        if self._shape:
            if len(self._shape) != len(data.shape) or any(d and d != s for d, s in zip(self._shape, data.shape)):
                raise ParameterLoadError("Failed loading Parameter '%s' from saved params: shape incompatible "
                                         "expected %s vs saved %s" % (self.name, self._shape, data.shape))
        self._shape = tuple(data.shape)
        if data.stype != "default" and self._stype == "default":    # a saved row_sparse array into a dense one
            data = data.tostype("default")
        if np.dtype(self.dtype) != np.dtype(data.dtype):
            if not cast_dtype:
                raise ParameterLoadError("Failed loading Parameter '%s' from saved params: dtype incompatible "
                                         "expected %s vs saved %s. Set cast_dtype=True to cast the dtype of saved "
                                         "params." % (self.name, np.dtype(self.dtype), np.dtype(data.dtype)))
            if dtype_source == "current":
                data = data.astype(self.dtype)
            else:
                self.dtype = np.dtype(data.dtype)
        ctx = None if ctx is None else _as_ctx_list(ctx)
        if self._data is None:
            if self._deferred_init:
                if ctx is not None and set(ctx) != set(self._deferred_init[1]):
                    raise ParameterLoadError("Failed to load Parameter '%s' on %s because it was previous initialized "
                                             "on %s." % (self.name, ctx, self.list_ctx()))
                ctx = self._deferred_init[1]
            self._deferred_init = ()
            self._init_impl(data, ctx or [cpu()])
        else:
            if ctx is not None and set(ctx) != set(self.list_ctx()):
                raise ParameterLoadError("Failed to load Parameter '%s' on %s because it was previous initialized on "
                                         "%s." % (self.name, ctx, self.list_ctx()))
            if np.dtype(self._data[0].dtype) != np.dtype(data.dtype):      # adopting the saved dtype
                self._init_impl(data, self._ctx_list)
            else:
                self.set_data(data)
        self._deferred_init = ()

    def reset_ctx(self, ctx):
        """Move the parameter to other contexts (one copy each), keeping its value (the mean over the old ones)."""
        ctx = _as_ctx_list(ctx)
        if self._data is not None:
            data = self._reduce()
            with autograd.pause():
                self._init_impl(data, ctx)
        elif self._deferred_init:
            init, _, default_init, data = self._deferred_init
            self._deferred_init = (init, ctx, default_init, data)
        else:
            raise ValueError("Cannot reset context for Parameter '%s' because it has not been initialized."
                             % self.name)

    def _reduce(self):
        """The value on the CPU: the mean of the copies on all contexts (a row_sparse one: all its rows)."""
        if self._stype == "row_sparse":
            return parameter_sparse.reduce(self)
        arrays = self.list_data()
        if len(arrays) == 1:
            return arrays[0].copyto(cpu())
        return nd.add_n(*[a.copyto(cpu()) for a in arrays]) / len(arrays)

    # -- access ------------------------------------------------------------------------------------------------------
    def _check_and_get(self, arr_list, ctx):
        """The array of `arr_list` (data or grads) for `ctx`; `ctx is list`: all of them; None: the only one,
        else the current context's."""
        if arr_list is not None:
            if ctx is list:
                return arr_list
            if ctx is None:
                if len(arr_list) == 1:
                    return arr_list[0]
                ctx = current_context()
            devices = self._ctx_map[ctx.device_typeid & 1]
            if ctx.device_id < len(devices) and devices[ctx.device_id] is not None:
                return arr_list[devices[ctx.device_id]]
            raise RuntimeError("Parameter '%s' was not initialized on context %s. It was only initialized on %s."
                               % (self.name, ctx, self._ctx_list))
        if self._deferred_init:
            raise DeferredInitializationError(
                "Parameter '%s' has not been initialized yet because initialization was deferred. Actual "
                "initialization happens during the first forward pass. Please pass one batch of data through the "
                "network before accessing Parameters. You can also avoid deferred initialization by specifying "
                "in_units, num_features, etc., for network layers." % self.name)
        raise RuntimeError("Parameter '%s' has not been initialized. Note that you should initialize parameters "
                           "and create Trainer with Block.collect_params() instead of Block.params because the "
                           "later does not include Parameters of nested child Blocks" % self.name)

    def data(self, ctx=None):
        """The parameter's NDArray on `ctx` (default: its only context, else the current one)."""
        arrays = self._arrays
        if arrays is not None and len(arrays) == 1 and arrays[0]._ctx is ctx:     # the common case, at once
            return arrays[0]
        return self._check_and_get(arrays, ctx)

    def list_data(self):
        """The NDArrays on all contexts, in initialisation order."""
        return self._check_and_get(self._data, list)

    def _check_grad(self):
        if self._data is not None and self._grad is None:
            raise RuntimeError("Cannot get gradient array for Parameter '%s' because grad_req='null'" % self.name)

    def grad(self, ctx=None):
        """The gradient NDArray on `ctx` (a RowSparseNDArray for grad_stype 'row_sparse')."""
        self._check_grad()
        grad = self._check_and_get(self._grad, ctx)
        if self._grad_stype == "row_sparse":
            return sparse_grad.row_sparse_grads(self, [grad])[0]
        return grad

    def list_grad(self):
        """The gradient NDArrays on all contexts, in the order of `list_data()`."""
        self._check_grad()
        grads = self._check_and_get(self._grad, list)
        return sparse_grad.row_sparse_grads(self, grads) if self._grad_stype == "row_sparse" else grads

    def row_sparse_data(self, row_id):
        """The RowSparseNDArray of a parameter of stype 'row_sparse' on row_id's context, holding the rows `row_id`
        (an NDArray) pulled from its Trainer's kvstore (Note [row_sparse parameters] in parameter_sparse.py)."""
        if self._stype != "row_sparse":
            raise RuntimeError("Cannot return a copy of Parameter %s via row_sparse_data() because its storage type "
                               "is %s. Please use data() instead." % (self.name, self._stype))
        return parameter_sparse.pull_rows(self, getattr(row_id, "context", None), row_id)

    def list_row_sparse_data(self, row_id):
        """`row_sparse_data` on every context, in the order of `list_ctx()`."""
        if self._stype != "row_sparse":
            raise RuntimeError("Cannot return copies of Parameter '%s' on all contexts via list_row_sparse_data() "
                               "because its storage type is %s. Please use data() instead."
                               % (self.name, self._stype))
        return parameter_sparse.pull_rows(self, list, row_id)

    def list_ctx(self):
        """The contexts this parameter is (or, when deferred, will be) initialised on."""
        if self._data is None:
            if self._deferred_init:
                return self._deferred_init[1]
            raise RuntimeError("Parameter '%s' has not been initialized" % self.name)
        return self._ctx_list

    def set_data(self, data):
        """Set the value on every context (the shape must fit). Before a deferred initialisation completes,
        the value is kept and used then."""
        self.shape = data.shape
        if self._data is None:
            if not self._deferred_init:
                raise AssertionError("Parameter '%s' has not been initialized" % self.name)
            self._deferred_init = self._deferred_init[:3] + (data,)
            return
        if self._stype == "row_sparse":
            parameter_sparse.set_rows(self, data)
            return
        for array in self._data:
            array[:] = data
        if self._trainer is not None:       # a store holding the value takes the new one (Note [row_sparse weights])
            self._trainer._param_value_changed(self)

    def zero_grad(self):
        """Set the gradients on all contexts to zero (nothing without gradients)."""
        if self._stype == "row_sparse":
            self._grad = self._grad and [parameter_sparse.empty_rows(g) for g in self._grad]
        else:
            for g in self._grad or ():
                g[:] = 0
        sparse_grad.reset(self)

    def var(self):
        """The Symbol variable of this parameter, with its shape, dtype, multipliers and initializer."""
        if self._var is None:     # created once, as MXNet does: later traces share the variable
            self._var = _sym.var(self.name, shape=self._shape, dtype=self.dtype, lr_mult=self.lr_mult,
                                 wd_mult=self.wd_mult, init=self.init, stype=self._stype)
        return self._var

    def cast(self, dtype):
        """Cast the data and gradients to `dtype`."""
        self.dtype = np.dtype(dtype)
        if self._data is None:
            return
        with autograd.pause():
            self._data = [a.astype(dtype) for a in self._data]
            if self._grad is not None:
                self._grad = [g.astype(dtype) for g in self._grad]
                if self._stype == "default":
                    autograd.mark_variables(self._data, self._grad, self._grad_req)


class _CopyValue(_init.Initializer):
    """Fills a Constant with its value."""

    def __init__(self, value):
        super().__init__(value=value.asnumpy().tolist())
        self._value = value

    def _init_weight(self, desc, arr):
        self._value.copyto(arr)


class Constant(Parameter):
    """A parameter that holds a constant value and gets no gradient."""

    def __init__(self, name, value):
        value = value if isinstance(value, nd.NDArray) else nd.array(value)
        self.value = value
        super().__init__(name, grad_req="null", shape=value.shape, dtype=value.dtype, init=_CopyValue(value),
                         differentiable=False)

    def __repr__(self):
        return "Constant %s (shape=%s, dtype=%s)" % (self.name, self.shape, self.dtype.type.__name__)

    @property
    def grad_req(self):
        return "null"

    @grad_req.setter
    def grad_req(self, req):
        if req != "null":
            warnings.warn("Constant parameter \"%s\" does not support grad_req other than \"null\", and new value "
                          "\"%s\" is ignored." % (self.name, req), stacklevel=2)


class ParameterDict:
    """An ordered dict of Parameters sharing a name prefix; `get` creates or returns one."""

    def __init__(self, prefix="", shared=None):
        self._prefix = prefix
        self._params = OrderedDict()
        self._shared = shared

    def __repr__(self):
        body = "\n".join("  %r" % p for p in self._params.values())
        return "%s(\n%s\n)" % (self._prefix + " " if self._prefix else "", body) if body else "()"

    @property
    def prefix(self):
        return self._prefix

    def __getitem__(self, key):
        return self._params[key]

    def __iter__(self):
        return iter(self._params)

    def __len__(self):
        return len(self._params)

    def __contains__(self, key):
        return key in self._params

    def keys(self):
        return self._params.keys()

    def values(self):
        return self._params.values()

    def items(self):
        return self._params.items()

    def _get_impl(self, name):
        if name in self._params:
            return self._params[name]
        if self._shared is not None and name in self._shared._params:
            self._params[name] = self._shared._params[name]
            return self._params[name]
        return None

    def get(self, name, **kwargs):
        """The Parameter `prefix + name`, created with `kwargs` if it does not exist (an existing one takes the
        shape's known dimensions and attributes it does not have yet)."""
        full = self._prefix + name
        param = self._get_impl(full)
        if param is None:
            param = Parameter(full, **kwargs)
            self._params[full] = param
            return param
        for key, value in kwargs.items():
            if key == "shape" and value is not None:
                param.shape = (value,) if isinstance(value, int) else value
            elif key == "dtype" and value is not None:
                continue
            elif value is not None and getattr(param, key, None) is None:
                setattr(param, key, value)
        return param

    def get_constant(self, name, value=None):
        full = self._prefix + name
        param = self._get_impl(full)
        if param is None:
            if value is None:
                raise KeyError("No constant named '%s'. Please specify value if you want to create a new constant."
                               % full)
            param = self._params[full] = Constant(full, value)
        return param

    def update(self, other):
        for key, value in other.items():
            if key in self._params and self._params[key] is not value:
                raise ValueError("Cannot update self with other because they have different Parameters with the "
                                 "same name '%s'" % key)
            self._params[key] = value

    def select(self, pattern):
        return _select(self, pattern)

    def initialize(self, init=_init.Uniform(), ctx=None, verbose=False, force_reinit=False):
        """Initialize every parameter on `ctx` (a context or a list); `init` is the default for parameters
        without their own."""
        for param in self.values():
            param.initialize(None, ctx, default_init=init, force_reinit=force_reinit)

    def zero_grad(self):
        for param in self.values():
            param.zero_grad()

    def reset_ctx(self, ctx):
        for param in self.values():
            param.reset_ctx(ctx)

    def list_ctx(self):
        """The contexts of all parameters, each once."""
        seen = []
        for param in self.values():
            seen.extend(c for c in param.list_ctx() if c not in seen)
        return seen

    def setattr(self, name, value):
        for param in self.values():
            setattr(param, name, value)

    def save(self, filename, strip_prefix=""):
        """Save the parameters (averaged over contexts) under their names minus `strip_prefix`."""
        parameter_io.save(self, filename, strip_prefix)

    def load(self, filename, ctx=None, allow_missing=False, ignore_extra=False, restore_prefix="", cast_dtype=False,
             dtype_source="current"):
        """Load a file written by `save` (or an export's `arg:`/`aux:` file)."""
        parameter_io.check_prefix(self, restore_prefix)
        self.load_dict(nd.load(filename), ctx, allow_missing, ignore_extra, restore_prefix, filename, cast_dtype,
                       dtype_source)

    def load_dict(self, param_dict, ctx=None, allow_missing=False, ignore_extra=False, restore_prefix="",
                  filename=None, cast_dtype=False, dtype_source="current"):
        """Load parameters from a dict of NDArrays (keys may carry `arg:`/`aux:`)."""
        parameter_io.load_dict(self, param_dict, ctx, allow_missing, ignore_extra, restore_prefix, filename,
                               cast_dtype, dtype_source)


def _select(params, pattern):
    regex = re.compile(pattern)
    result = ParameterDict(params.prefix)
    for name, value in params.items():
        if regex.match(name):
            result._params[name] = value
    return result
