"""Gluon parameters: `Parameter` (one named array, its gradient and how to initialise it) and `ParameterDict`.

A Parameter whose shape is not fully known (`Dense(128)` before it sees data: `(128, 0)`) is *pending*:
`initialize()` records the initializer, and the first forward call, which learns the shape, completes it. MXNet
signals that case with a `DeferredInitializationError` used as control flow; here the state is explicit
(`Parameter.pending`) and blocks ask for it.
"""
import re
from collections import OrderedDict

import numpy as np

from ops.errors import MXNetError

from .. import initializer as _init
from .. import symbol as _sym
from ..context import Context, cpu, current_context
from .. import ndarray as nd


class DeferredInitializationError(MXNetError):
    """A parameter's data was asked for before its shape was known (run a forward pass first)."""


class Parameter:
    """A named parameter of a Block.

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
    """

    def __init__(self, name, grad_req="write", shape=None, dtype=np.float32, lr_mult=1.0, wd_mult=1.0, init=None,
                 allow_deferred_init=False, differentiable=True, stype="default", grad_stype="default"):
        self.name = name
        self._grad_req = grad_req if differentiable else "null"
        self._shape = None if shape is None else ((shape,) if isinstance(shape, int) else tuple(shape))
        self.dtype = np.dtype(dtype)
        self.lr_mult, self.wd_mult = lr_mult, wd_mult
        self.init = init
        self.allow_deferred_init = allow_deferred_init
        self._differentiable = differentiable
        self._data = None           # the NDArray
        self._var = None            # the Symbol variable, once asked for
        self._pending = None        # (initializer, ctx, default_init) until the shape is known
        self._ctx = None

    def __repr__(self):
        return "Parameter %s (shape=%s, dtype=%s)" % (self.name, self.shape, self.dtype.type.__name__
                                                      if hasattr(self.dtype, "type") else self.dtype)

    # -- shape and state ---------------------------------------------------------------------------------------------
    @property
    def shape(self):
        return self._shape

    @shape.setter
    def shape(self, new_shape):
        new_shape = tuple(new_shape)
        if self._shape is not None:
            if len(self._shape) != len(new_shape) or any(a and b and a != b for a, b in zip(self._shape, new_shape)):
                raise MXNetError("Expected shape %s is incompatible with given shape %s for Parameter %s"
                                 % (self._shape, new_shape, self.name))
            new_shape = tuple(a or b for a, b in zip(self._shape, new_shape))
        self._shape = new_shape

    @property
    def grad_req(self):
        return self._grad_req

    @grad_req.setter
    def grad_req(self, req):
        if req not in ("write", "add", "null"):
            raise ValueError("grad_req must be one of 'write', 'add', or 'null', but got %r" % req)
        if not self._differentiable:
            req = "null"
        if self._grad_req != req:
            self._grad_req = req
            if self._data is not None:
                self._attach()

    @property
    def pending(self):
        """True between `initialize()` and the first forward that tells the shape."""
        return self._pending is not None

    def _shape_known(self):
        return self._shape is not None and all(d > 0 for d in self._shape)

    # -- initialisation ----------------------------------------------------------------------------------------------
    def initialize(self, init=None, ctx=None, default_init=_init.Uniform(), force_reinit=False):
        """Allocate and fill the data (now, or at the first forward when the shape is not known yet)."""
        if self._data is not None and not force_reinit:
            return
        ctx = ctx[0] if isinstance(ctx, (list, tuple)) else ctx
        self._ctx = ctx or current_context()
        self._data = None
        if not self._shape_known():
            if not self.allow_deferred_init:
                raise MXNetError("Cannot initialize Parameter %s because it has invalid shape: %s"
                                 % (self.name, self._shape))
            self._pending = (init, default_init)
            return
        self._finish_init(init, default_init)

    def _finish_init(self, init, default_init):
        data = nd.zeros(self._shape, self._ctx, self.dtype)
        chosen = self.init if self.init is not None else (init if init is not None else default_init)
        _init.create(chosen)(_init.InitDesc(self.name, {"__init__": _init.create(self.init).dumps()}
                                            if self.init is not None else {}), data)
        self._data = data
        self._pending = None
        self._attach()

    def _finish_deferred_init(self):
        """Complete a pending initialisation once the shape is known (called by blocks)."""
        if self._pending is not None:
            if not self._shape_known():
                raise DeferredInitializationError("Parameter %s still has an unknown shape %s"
                                                  % (self.name, self._shape))
            self._finish_init(*self._pending)

    def _attach(self):
        from .. import autograd
        if self._grad_req != "null":
            autograd.mark_variables([self._data], [nd.zeros(self._shape, self._ctx, self.dtype)], self._grad_req)
        else:
            self._data._entry = None

    def reset_ctx(self, ctx):
        """Move the parameter to another context (only cpu here)."""
        self._ctx = ctx[0] if isinstance(ctx, (list, tuple)) else ctx

    # -- access ------------------------------------------------------------------------------------------------------
    def _check(self):
        if self._data is None:
            if self._pending is not None:
                raise DeferredInitializationError(
                    "Parameter %s has not been initialized yet because initialization was deferred. Actual "
                    "initialization happens during the first forward pass. Please pass one batch of data through "
                    "the network before accessing Parameters." % self.name)
            raise MXNetError("Parameter %s has not been initialized. Note that you should initialize parameters "
                             "and create Trainer with Block.collect_params() instead of Block.params because the "
                             "later does not include Parameters of nested child Blocks" % self.name)

    def data(self, ctx=None):
        """The parameter's NDArray."""
        self._check()
        return self._data

    def list_data(self):
        return [self.data()]

    def grad(self, ctx=None):
        """The gradient NDArray (None for grad_req 'null')."""
        self._check()
        return self._data.grad

    def list_grad(self):
        return [self.grad()]

    def list_ctx(self):
        self._check()
        return [self._ctx or cpu()]

    def set_data(self, data):
        """Replace the value (the shape must match), keeping the array the network is bound to."""
        value = data if isinstance(data, nd.NDArray) else nd.array(data, dtype=self.dtype)
        self.shape = value.shape
        if self._data is None:
            if self._pending is not None:
                self._finish_deferred_init()
            else:
                raise MXNetError("Parameter %s has not been initialized" % self.name)
        value.copyto(self._data)

    def zero_grad(self):
        """Set the gradient to zero."""
        g = self.grad()
        if g is not None:
            g[:] = 0

    def var(self):
        """The Symbol variable of this parameter, with its shape, dtype, multipliers and initializer."""
        if self._var is None:     # created once, as MXNet does: later traces share the variable
            self._var = _sym.var(self.name, shape=self._shape, dtype=self.dtype, lr_mult=self.lr_mult,
                                 wd_mult=self.wd_mult, init=self.init, stype="default")
        return self._var

    def cast(self, dtype):
        self.dtype = np.dtype(dtype)
        if self._data is not None:
            self._data = self._data.astype(dtype)
            self._attach()


class Constant(Parameter):
    """A parameter that holds a constant value and gets no gradient."""

    def __init__(self, name, value):
        value = value if isinstance(value, nd.NDArray) else nd.array(value)
        super().__init__(name, grad_req="null", shape=value.shape, dtype=value.dtype,
                         init=_init.Constant(0.0), differentiable=False)
        self._value = value

    def _finish_init(self, init, default_init):
        self._data = self._value.copy()
        self._pending = None


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
        """The Parameter `prefix + name`, created with `kwargs` if it does not exist."""
        full = self._prefix + name
        param = self._get_impl(full)
        if param is None:
            param = Parameter(full, **kwargs)
            self._params[full] = param
        else:
            for key, value in kwargs.items():
                if key == "shape" and value is not None:
                    param.shape = value
                elif key == "init" and value is not None and param.init is None:
                    param.init = value
        return param

    def get_constant(self, name, value=None):
        full = self._prefix + name
        param = self._get_impl(full)
        if param is None:
            if value is None:
                raise KeyError("No constant named %r; give a value to create it" % full)
            param = self._params[full] = Constant(full, value)
        return param

    def update(self, other):
        for key, value in other.items():
            if key in self._params and self._params[key] is not value:
                raise ValueError("Cannot update self with other because they have different Parameters with the "
                                 "same name %r" % key)
            self._params[key] = value

    def select(self, pattern):
        return _select(self, pattern)

    def initialize(self, init=_init.Uniform(), ctx=None, verbose=False, force_reinit=False):
        """Initialize every parameter (`init` is the default for those without their own)."""
        for param in self.values():
            param.initialize(None, ctx, default_init=init, force_reinit=force_reinit)

    def zero_grad(self):
        for param in self.values():
            if param.grad_req != "null" and param._data is not None:
                param.zero_grad()

    def reset_ctx(self, ctx):
        for param in self.values():
            param.reset_ctx(ctx)

    def setattr(self, name, value):
        for param in self.values():
            setattr(param, name, value)

    def save(self, filename, strip_prefix=""):
        """Save the parameters with their names (minus `strip_prefix`) in MXNet's format."""
        arrays = {}
        for param in self.values():
            name = param.name
            if strip_prefix and name.startswith(strip_prefix):
                name = name[len(strip_prefix):]
            arrays[name] = param.data()
        nd.save(filename, arrays)

    def load(self, filename, ctx=None, allow_missing=False, ignore_extra=False, restore_prefix=""):
        loaded = nd.load(filename)
        loaded = {restore_prefix + k.split(":", 1)[-1]: v for k, v in loaded.items()}
        for name, param in self.items():
            if name not in loaded:
                if not allow_missing:
                    raise MXNetError("Parameter %r is missing in file %r" % (name, filename))
                continue
            if param._data is None and param._pending is None:
                param.shape = loaded[name].shape
                param.initialize(ctx=ctx)
            param.set_data(loaded[name])
        if not ignore_extra:
            extra = set(loaded) - set(self.keys())
            if extra:
                raise MXNetError("Parameters %s in file %r are not in this ParameterDict" % (sorted(extra),
                                                                                            filename))


def _select(params, pattern):
    regex = re.compile(pattern)
    result = ParameterDict(params.prefix)
    for name, value in params.items():
        if regex.match(name):
            result._params[name] = value
    return result


def _ctx_list(ctx):
    if ctx is None:
        return [current_context()]
    return list(ctx) if isinstance(ctx, (list, tuple)) else [ctx if isinstance(ctx, Context) else Context(ctx)]
