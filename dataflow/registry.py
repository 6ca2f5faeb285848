"""`mx.registry`: MXNet's factories for a family of classes, by lower-case name.

For a base class (Optimizer, Initializer, EvalMetric ...) `get_register_func` gives the decorator that registers a
subclass under its lower-cased name (or a given one), `get_alias_func` one that registers it under several names,
and `get_create_func` the `create(name_or_instance_or_config, *args, **kwargs)` that builds one: from a name,
an instance (returned as is), a dict of keyword arguments with the name under the nickname key, or the JSON
strings `'["name", {kwargs}]'` / `'{"nickname": "name", ...}'` that `dumps()` of such objects writes.

Examples
--------
>>> from dataflow import registry
>>> class Shape: pass
>>> register = registry.get_register_func(Shape, "shape")
>>> create = registry.get_create_func(Shape, "shape")
>>> @register
... class Square(Shape):
...     def __init__(self, side=1): self.side = side
>>> create("square", side=3).side, create('["Square", {"side": 2}]').side, create(shape="SQUARE").side
(3, 2, 1)
"""
import json
import warnings

from .base import string_types

_REGISTRY = {}      # base class -> {lower-case name: class}


def get_registry(base_class):
    """A copy of the name -> class table of `base_class`."""
    return dict(_REGISTRY.setdefault(base_class, {}))


def get_register_func(base_class, nickname):
    """The decorator `register(klass, name=None)` for subclasses of `base_class` (`nickname` names the family in
    messages). Registering a taken name warns and replaces the old class."""
    registry = _REGISTRY.setdefault(base_class, {})

    def register(klass, name=None):
        assert issubclass(klass, base_class), "Can only register subclass of %s" % base_class.__name__
        key = (klass.__name__ if name is None else name).lower()
        old = registry.get(key)
        if old is not None:
            warnings.warn("New %s %s.%s registered with name %s is overriding existing %s %s.%s"
                          % (nickname, klass.__module__, klass.__name__, key, nickname, old.__module__,
                             old.__name__), UserWarning, stacklevel=2)
        registry[key] = klass
        return klass

    register.__doc__ = "Register %s to the %s factory" % (nickname, nickname)
    return register


def get_alias_func(base_class, nickname):
    """The decorator factory `alias(*names)`: `@alias('a', 'b')` registers the class under each name."""
    register = get_register_func(base_class, nickname)

    def alias(*aliases):
        def reg(klass):
            for name in aliases:
                register(klass, name)
            return klass
        return reg
    return alias


def get_create_func(base_class, nickname):
    """The factory `create(...)` of `base_class` (see the module docstring for what it accepts)."""
    registry = _REGISTRY.setdefault(base_class, {})

    def create(*args, **kwargs):
        if args:
            name, args = args[0], args[1:]
        else:
            name = kwargs.pop(nickname)
        if isinstance(name, base_class):
            assert not args and not kwargs, \
                "%s is already an instance. Additional arguments are invalid" % nickname
            return name
        if isinstance(name, dict):
            return create(**name)
        assert isinstance(name, string_types), "%s must be of string type" % nickname
        if name.startswith("["):
            assert not args and not kwargs
            name, kwargs = json.loads(name)
            return create(name, **kwargs)
        if name.startswith("{"):
            assert not args and not kwargs
            return create(**json.loads(name))
        key = name.lower()
        assert key in registry, "%s is not registered. Please register with %s.register first" % (key, nickname)
        return registry[key](*args, **kwargs)

    create.__doc__ = ("Create a %s instance from config.\n\nParameters\n----------\n%s : str or %s instance\n"
                      "    class name of desired instance. If is a instance, it will be returned directly.\n"
                      "**kwargs : dict\n    arguments to be passed to constructor"
                      % (nickname, nickname, base_class.__name__))
    return create
