"""`mx.init`: initializers, drawing from the generator `mx.random.seed` seeds.

An initializer is called as `init(desc, arr)` with an `InitDesc` (the parameter's name, and its attributes) and
the NDArray to fill. As in MXNet, the name decides what a generic initializer does: `*_bias`, `*_beta`,
`*_moving_mean`/`*_running_mean` get zeros, `*_gamma` and `*_moving_var`/`*_running_var` ones, and `*_weight`
(anything else) gets the initializer's own distribution.
"""
import json

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
    """Fill with `value`."""

    def __init__(self, value):
        super().__init__(value=value)
        self.value = value

    def _init_weight(self, desc, arr):
        arr[:] = self.value


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
class Mixed(Initializer):
    """Pick an initializer by regular expression on the parameter name."""

    def __init__(self, patterns, initializers):
        super().__init__()
        import re
        self.map = list(zip([re.compile(p) for p in patterns], initializers))

    def __call__(self, desc, arr):
        for pattern, init in self.map:
            if pattern.match(str(desc)):
                init(desc, arr)
                return
        raise ValueError("Parameter %s did not match any pattern of Mixed" % desc)
