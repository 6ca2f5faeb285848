"""`mx.init`: initializers, drawing from the generator `mx.random.seed` seeds.

An initializer is called as `init(desc, arr)` with an `InitDesc` (the parameter's name, and its attributes) and
the NDArray to fill. As in MXNet, the name decides what a generic initializer does: `*_bias`, `*_beta`,
`*_moving_mean`/`*_running_mean` get zeros, `*_gamma` and `*_moving_var`/`*_running_var` ones, and `*_weight`
(anything else) gets the initializer's own distribution.
"""
import json
import logging
import re

import numpy as np

from ops import random_state

_REGISTRY = {}


class InitDesc(str):
    """A parameter name with the attributes of its variable (`__init__` may name an initializer)."""

    def __new__(cls, name, attrs=None, global_init=None):
        desc = super().__new__(cls, name)
        desc.attrs = attrs or {}
        desc.global_init = global_init
        return desc


def register(klass):
    """Register an initializer class under its lower-cased name (for `create` and `__init__` attributes)."""
    _REGISTRY[klass.__name__.lower()] = klass
    return klass


def create(init, **kwargs):
    """An initializer from an instance, a registered name (`'xavier'`, `'zeros'`) or a JSON dump."""
    if isinstance(init, Initializer):
        return init
    if isinstance(init, str):
        text = init.strip()
        if text.startswith("["):
            name, params = json.loads(text)
            return _REGISTRY[name.lower()](**params)
        if text.lower() not in _REGISTRY:
            raise ValueError("Unknown initializer %r; known: %s" % (init, sorted(_REGISTRY)))
        return _REGISTRY[text.lower()](**kwargs)
    raise TypeError("Cannot create an initializer from %r" % (init,))


class Initializer:
    """Base class: dispatches on the parameter's name; subclasses override `_init_weight`."""

    def __init__(self, **kwargs):
        self._kwargs = kwargs

    def dumps(self):
        """`["name", {params}]`, the form MXNet stores in `__init__` attributes."""
        return json.dumps([type(self).__name__.lower(), self._kwargs])

    def __call__(self, desc, arr):
        if isinstance(desc, InitDesc) and desc.global_init is None:
            desc.global_init = self         # what FusedRNN(init=None) falls back to
        init = getattr(desc, "attrs", {}).get("__init__")
        if init and not isinstance(self, _FromAttr):
            create(init)._init_weight(desc, arr)
            return
        name = str(desc)
        if name.endswith(("_bias", "_beta", "moving_mean", "running_mean", "moving_inv_var")):
            self._init_zero(desc, arr)
        elif name.endswith(("_gamma", "moving_var", "running_var", "moving_avg")):
            self._init_one(desc, arr)
        elif name.endswith("_weight"):
            self._init_weight(desc, arr)
        else:
            self._init_default(desc, arr)

    def _init_zero(self, desc, arr):
        arr[:] = 0

    def _init_one(self, desc, arr):
        arr[:] = 1

    def _init_default(self, desc, arr):
        self._init_weight(desc, arr)

    def _init_weight(self, desc, arr):
        raise NotImplementedError("%s must implement _init_weight" % type(self).__name__)

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, ", ".join("%s=%r" % kv for kv in self._kwargs.items()))


class _FromAttr(Initializer):
    pass


def _fill(arr, values):
    arr[:] = values.astype(np.dtype(arr.dtype), copy=False)


@register
class Zero(Initializer):
    """Fill with 0."""

    def _init_weight(self, desc, arr):
        arr[:] = 0


@register
class One(Initializer):
    """Fill with 1."""

    def _init_weight(self, desc, arr):
        arr[:] = 1


_REGISTRY["zeros"] = Zero
_REGISTRY["ones"] = One


@register
class Constant(Initializer):
    """Fill with `value`: a scalar, or an array (NDArray, numpy array, nested lists) of the parameter's shape.

    `dumps()` writes an array value as nested lists, as MXNet does (MXNet fails for a plain list; here it dumps)."""

    def __init__(self, value):
        super().__init__(value=value)
        self.value = value

    def _init_weight(self, desc, arr):
        value = self.value
        if isinstance(value, (list, tuple)):
            value = np.asarray(value)
        arr[:] = value

    def dumps(self):
        value = self._kwargs["value"]
        if not np.isscalar(value):
            value = value.asnumpy().tolist() if hasattr(value, "asnumpy") else np.asarray(value).tolist()
        return json.dumps([type(self).__name__.lower(), dict(self._kwargs, value=value)])


@register
class Uniform(Initializer):
    """Uniform in [-scale, scale] (MXNet's default initializer, scale 0.07)."""

    def __init__(self, scale=0.07):
        super().__init__(scale=scale)
        self.scale = scale

    def _init_weight(self, desc, arr):
        _fill(arr, random_state.generator().uniform(-self.scale, self.scale, arr.shape))


@register
class Normal(Initializer):
    """Normal with mean 0 and standard deviation `sigma`."""

    def __init__(self, sigma=0.01):
        super().__init__(sigma=sigma)
        self.sigma = sigma

    def _init_weight(self, desc, arr):
        _fill(arr, random_state.generator().normal(0.0, self.sigma, arr.shape))


@register
class Xavier(Initializer):
    """Xavier/Glorot: scale = sqrt(magnitude / factor), factor from fan_in/fan_out (`avg`, `in`, `out`)."""

    def __init__(self, rnd_type="uniform", factor_type="avg", magnitude=3):
        super().__init__(rnd_type=rnd_type, factor_type=factor_type, magnitude=magnitude)
        self.rnd_type, self.factor_type, self.magnitude = rnd_type, factor_type, float(magnitude)

    def _init_weight(self, desc, arr):
        shape = arr.shape
        if len(shape) < 2:
            raise ValueError("Xavier initializer cannot be applied to vector %s; it needs at least 2 dimensions"
                             % desc)
        hw_scale = float(np.prod(shape[2:])) if len(shape) > 2 else 1.0
        fan_in, fan_out = shape[1] * hw_scale, shape[0] * hw_scale
        factor = {"avg": (fan_in + fan_out) / 2.0, "in": fan_in, "out": fan_out}.get(self.factor_type)
        if factor is None:
            raise ValueError("Incorrect factor type %r" % self.factor_type)
        scale = np.sqrt(self.magnitude / factor)
        rng = random_state.generator()
        if self.rnd_type == "uniform":
            _fill(arr, rng.uniform(-scale, scale, shape))
        elif self.rnd_type == "gaussian":
            _fill(arr, rng.normal(0.0, scale, shape))
        else:
            raise ValueError("Unknown random type %r" % self.rnd_type)


@register
class MSRAPrelu(Xavier):
    """He/MSRA initialization for PReLU nets: Xavier with gaussian, magnitude 2 / (1 + slope^2)."""

    def __init__(self, factor_type="avg", slope=0.25):
        magnitude = 2.0 / (1 + slope ** 2)
        super().__init__("gaussian", factor_type, magnitude)
        self._kwargs = {"factor_type": factor_type, "slope": slope}


@register
class Orthogonal(Initializer):
    """An orthogonal matrix times `scale` (https://arxiv.org/abs/1312.6120): the weight, seen as (shape[0], rest),
    is the U (or V) factor of the SVD of a random matrix drawn uniform in [-1, 1] (`rand_type='uniform'`) or
    standard normal (`'normal'`), whichever has the weight's shape."""

    def __init__(self, scale=1.414, rand_type="uniform"):
        super().__init__(scale=scale, rand_type=rand_type)
        self.scale = scale
        self.rand_type = rand_type

    def _init_weight(self, desc, arr):
        nout, nin = arr.shape[0], int(np.prod(arr.shape[1:]))
        rng = random_state.generator()
        if self.rand_type == "uniform":
            tmp = rng.uniform(-1.0, 1.0, (nout, nin))
        elif self.rand_type == "normal":
            tmp = rng.normal(0.0, 1.0, (nout, nin))
        else:
            raise ValueError("Orthogonal: unknown rand_type %r (use 'uniform' or 'normal')" % self.rand_type)
        u, _, v = np.linalg.svd(tmp, full_matrices=False)
        _fill(arr, self.scale * (u if u.shape == tmp.shape else v).reshape(arr.shape))


@register
class Bilinear(Initializer):
    """Weights of a bilinear upsampling kernel (for a Deconvolution used as UpSampling): with f = ceil(W / 2) and
    c = (2f - 1 - f mod 2) / 2f, element (..., y, x) is (1 - |x / f - c|) * (1 - |y / f - c|)."""

    def __init__(self):
        super().__init__()

    def _init_weight(self, desc, arr):
        shape = arr.shape
        if len(shape) != 4:
            raise ValueError("Bilinear initializer needs a 4-D weight (filters, channels, height, width); %s has "
                             "shape %s" % (desc, shape))
        f = np.ceil(shape[3] / 2.0)
        c = (2 * f - 1 - f % 2) / (2.0 * f)
        y = np.arange(shape[2]).reshape(-1, 1)
        x = np.arange(shape[3]).reshape(1, -1)
        kernel = ((1 - abs(x / f - c)) * (1 - abs(y / f - c))).astype(np.float32)
        _fill(arr, np.broadcast_to(kernel, shape))


@register
class LSTMBias(Initializer):
    """An LSTM cell's bias: 0 except the forget gate's quarter (the second of the four gates), set to forget_bias.
    It acts through a variable's `__init__` attribute (as a global initializer, a `*_bias` still gets 0)."""

    def __init__(self, forget_bias=1.0):
        super().__init__(forget_bias=forget_bias)
        self.forget_bias = forget_bias

    def _init_weight(self, desc, arr):
        num_hidden = int(arr.shape[0] / 4)
        values = np.zeros(arr.shape, np.float64)
        values[num_hidden:2 * num_hidden] = self.forget_bias
        _fill(arr, values)


_GATES = {"rnn_relu": [""], "rnn_tanh": [""], "lstm": ["_i", "_f", "_c", "_o"], "gru": ["_r", "_z", "_o"]}


def fused_rnn_slices(size, num_hidden, num_layers, mode, bidirectional):
    """The named pieces of a fused RNN parameter vector of `size` (MXNet's RNN op layout), as
    [(name, offset, shape)]: every layer's i2h then h2h weights per direction and gate, then the biases the same
    way; names like `l0_i2h_i_weight`, `r1_h2h_f_bias`."""
    if mode not in _GATES:
        raise ValueError("FusedRNN: unknown mode %r (one of %s)" % (mode, ", ".join(sorted(_GATES))))
    gates, directions = _GATES[mode], ["l", "r"] if bidirectional else ["l"]
    b, h = len(directions), num_hidden
    num_input = size // b // h // len(gates) - (num_layers - 1) * (h + b * h + 2) - h - 2
    pieces, p = [], 0
    for layer in range(num_layers):
        for d in directions:
            for g in gates:
                shape = (h, num_input) if layer == 0 else (h, b * h)
                pieces.append(("%s%d_i2h%s_weight" % (d, layer, g), p, shape))
                p += shape[0] * shape[1]
            for g in gates:
                pieces.append(("%s%d_h2h%s_weight" % (d, layer, g), p, (h, h)))
                p += h * h
    for layer in range(num_layers):
        for d in directions:
            for kind in ("i2h", "h2h"):
                for g in gates:
                    pieces.append(("%s%d_%s%s_bias" % (d, layer, kind, g), p, (h,)))
                    p += h
    if num_input <= 0 or p != size:
        raise ValueError("FusedRNN: %d parameters do not fit a %s of %d layers, %d hidden units%s"
                         % (size, mode, num_layers, num_hidden, ", bidirectional" if bidirectional else ""))
    return pieces


@register
class FusedRNN(Initializer):
    """A fused RNN layer's parameter vector, initialised piece by piece: each gate's weight and bias is cut out
    (`fused_rnn_slices`), named (`l0_i2h_f_bias` ...) and given to `init` (or, when None, the global initializer
    of the call), except LSTM forget-gate biases, set to forget_bias. (MXNet 1.9.1 cannot rebuild `init` from
    the JSON of `dumps()`; here it can.)"""

    def __init__(self, init, num_hidden, num_layers, mode, bidirectional=False, forget_bias=1.0):
        if isinstance(init, str):
            init = create(init)
        super().__init__(init=init.dumps() if init is not None else None, num_hidden=num_hidden,
                         num_layers=num_layers, mode=mode, bidirectional=bidirectional, forget_bias=forget_bias)
        self._init = init
        self._num_hidden, self._num_layers, self._mode = num_hidden, num_layers, mode
        self._bidirectional, self._forget_bias = bidirectional, forget_bias

    def _init_weight(self, desc, arr):
        from . import ndarray as nd
        flat = arr.asnumpy().reshape(-1).astype(np.float64)
        pieces = fused_rnn_slices(flat.size, self._num_hidden, self._num_layers, self._mode, self._bidirectional)
        global_init = getattr(desc, "global_init", None)
        for name, offset, shape in pieces:
            size = int(np.prod(shape))
            if self._mode == "lstm" and name.endswith("_f_bias"):
                flat[offset:offset + size] = self._forget_bias
                continue
            init = self._init if self._init is not None else global_init
            if init is None:
                raise ValueError("FusedRNN: no initializer for %s (give `init`, or call it with a global one)"
                                 % name)
            piece = nd.zeros(shape, arr.context, arr.dtype)
            init(InitDesc(name, global_init=global_init), piece)
            flat[offset:offset + size] = piece.asnumpy().reshape(-1)
        _fill(arr, flat.reshape(arr.shape))


class Load:
    """Initialise from saved arrays (a `.params` file name or a dict name -> NDArray), dropping MXNet's `arg:`
    and `aux:` prefixes; names not found go to `default_init`."""

    def __init__(self, param, default_init=None, verbose=False):
        if isinstance(param, str):
            from .ndarray import load
            param = load(param)
        if not isinstance(param, dict):
            raise TypeError("Load: expected a file name or a dict of name -> NDArray, got %s" % type(param).__name__)
        self.param = {name[4:] if name.startswith(("arg:", "aux:")) else name: arr for name, arr in param.items()}
        self.default_init = default_init
        self.verbose = verbose

    def __call__(self, name, arr):
        if name in self.param:
            if arr.shape != self.param[name].shape:
                raise ValueError("Parameter %s cannot be initialized from loading. Shape mismatch, target %s vs "
                                 "loaded %s" % (name, arr.shape, self.param[name].shape))
            arr[:] = self.param[name]
            if self.verbose:
                logging.info("Initialized %s by loading", name)
            return
        if self.default_init is None:
            raise ValueError("Cannot Initialize %s. Not found in loaded param and no default Initializer is "
                             "provided." % name)
        self.default_init(name, arr)
        if self.verbose:
            logging.info("Initialized %s by default", name)


@register
class Mixed(Initializer):
    """Pick an initializer by regular expression on the parameter name (the first pattern that matches)."""

    def __init__(self, patterns, initializers):
        super().__init__()
        if len(patterns) != len(initializers):
            raise ValueError("Mixed: %d patterns but %d initializers" % (len(patterns), len(initializers)))
        self.map = list(zip([re.compile(p) for p in patterns], initializers))

    def __call__(self, desc, arr):
        for pattern, init in self.map:
            if pattern.match(str(desc)):
                init(desc, arr)
                return
        raise ValueError("Parameter name %s did not match any pattern. Consider add a \".*\" pattern at the end "
                         "with default Initializer." % desc)
