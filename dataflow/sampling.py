"""What MXNet's sampling functions (`mx.nd.random.*`, `mx.sym.random.*`) do before running an op, shared by the two
front ends (`dataflow/ndarray/random.py`, `dataflow/symbol/random.py`).

Distribution parameters given as numbers run the `_random_<dist>` op (params only, no inputs). Parameters given as
arrays (NDArrays or Symbols) run the `_sample_<dist>` op, which draws `shape` samples per parameter element; those
ops are called when registered and otherwise raise MXNetError naming the missing op. The imperative front end
draws one sample, shape (1,), when neither `shape` nor `out` is given, and takes the shape of `out` when only
`out` is.
"""
import numbers

import numpy as np

from ops import registry
from ops.errors import MXNetError

_NUMBERS = (numbers.Number, np.number)


class _Unset:
    """A parameter the caller did not give (MXNet's `_Null`)."""

    def __repr__(self):
        return "_Null"


_Null = _Unset()


def run(create, op_name, inputs, params):
    """`create(opdef, op_name, inputs, params)` for a registered op, else a clear MXNetError."""
    if not registry.exists(op_name):
        raise MXNetError("%s: the op %s is not implemented in dataflow" % (op_name.lstrip("_"), op_name))
    return create(registry.get(op_name), op_name, tuple(inputs), params)


def draw(front, random_op, sample_op, params, shape, dtype, kwargs):
    """Run `random_op` for number parameters or `sample_op` for array parameters (MXNet's `_random_helper`).

    `front` = (array type, create function, imperative?); `params` = {name: value} in the op's order."""
    array_type, create, imperative = front
    values = list(params.values())
    extra = dict(kwargs, **({} if dtype is _Null else {"dtype": dtype}))
    if isinstance(values[0], array_type):
        _same_kind(values, array_type)
        if sample_op is None:       # MXNet calls a missing sampler: TypeError
            raise TypeError("%s takes numbers as its parameters, got %s" % (random_op, array_type.__name__))
        return run(create, sample_op, values, dict(extra, **({} if shape is _Null else {"shape": shape})))
    if isinstance(values[0], _NUMBERS):
        _same_kind(values, _NUMBERS)
        if shape is _Null and imperative:
            out = kwargs.get("out")
            shape = out.shape if out is not None else 1       # the op's shape rule does not look at `out`
        return run(create, random_op, (), dict(extra, **({} if shape is _Null else {"shape": shape}), **params))
    raise ValueError("Distribution parameters must be either %s or numbers, but got %s."
                     % (array_type.__name__, type(values[0]).__name__))


def _same_kind(values, kind):
    """MXNet asserts this (AssertionError), naming the first two types."""
    for v in values[1:]:
        if not isinstance(v, kind):
            raise AssertionError("Distribution parameters must all have the same type, but got both %s and %s."
                                 % (type(values[0]), type(v)))
