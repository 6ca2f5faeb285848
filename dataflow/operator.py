"""`mx.operator`: custom operators written in Python (CustomOp, CustomOpProp, register).

A `CustomOpProp` subclass, registered under a name with `@mx.operator.register(name)`, describes an op (its
arguments, outputs, aux states, shape and type rules, backward dependencies) and creates the `CustomOp` that
computes it; `mx.nd.Custom(..., op_type=name)`, `mx.sym.Custom(...)` and `F.Custom(...)` in a hybridized block
run it. The op itself lives in ops/custom.py; this module is the Python API and the bridge that runs a
CustomOp's methods on NDArrays wrapping the kernel's buffers (see the Note there on scheduling and errors).

Examples
--------
>>> import numpy as np
>>> import dataflow as mx
>>> class Square(mx.operator.CustomOp):
...     def forward(self, is_train, req, in_data, out_data, aux):
...         self.assign(out_data[0], req[0], in_data[0] * in_data[0])
...     def backward(self, req, out_grad, in_data, out_data, in_grad, aux):
...         self.assign(in_grad[0], req[0], 2 * in_data[0] * out_grad[0])
>>> @mx.operator.register("doctest_square")
... class SquareProp(mx.operator.CustomOpProp):
...     def create_operator(self, ctx, in_shapes, in_dtypes):
...         return Square()
>>> mx.nd.Custom(mx.nd.array([1, 2, 3]), op_type="doctest_square").asnumpy()
array([1., 4., 9.], dtype=float32)
"""
import collections

from ops import custom as _custom
from ops import registry as _registry

from scheduler.engine import ImmediateEngine, scoped

from . import autograd
from .context import Context
from .ndarray.ndarray import NDArray

__all__ = ["CustomOp", "CustomOpProp", "register", "get_all_registered_operators", "get_operator_arguments",
           "OperatorArguments"]


class CustomOp:
    """Base class of the operators a CustomOpProp creates: override `forward` and `backward`."""

    def __init__(self):
        pass

    def forward(self, is_train, req, in_data, out_data, aux):
        """Compute `out_data` from `in_data` (lists of NDArrays), writing each output with `req[i]` ('null',
        'write', 'inplace' or 'add'), e.g. `self.assign(out_data[0], req[0], result)`."""

    def backward(self, req, out_grad, in_data, out_data, in_grad, aux):
        """Compute `in_grad` (one per argument) with `req`. Values the Prop's declare_backward_dependency left out
        are None."""

    def assign(self, dst, req, src):
        """Write `src` into `dst` as `req` says: 'null' skips, 'write'/'inplace' copy, 'add' accumulates."""
        if req == "null":
            return
        if req in ("write", "inplace"):
            dst[:] = src
        elif req == "add":
            dst[:] += src


class CustomOpProp:
    """Base class of a custom op's description: names, shape/type rules, backward dependencies, the operator.

    `need_top_grad`: whether backward reads the output gradients (False for a loss, whose gradient ignores them).
    Keyword arguments given to `Custom` arrive at `__init__` as strings."""

    def __init__(self, need_top_grad=True):
        self.need_top_grad_ = need_top_grad

    def infer_shape(self, in_shape):
        """(argument shapes, output shapes[, aux shapes]) from the argument shapes (lists of ints)."""
        return in_shape, (in_shape[0],) * len(self.list_outputs()), ()

    def infer_type(self, in_type):
        """(argument types, output types[, aux types]) from the argument types (numpy types)."""
        return in_type, [in_type[0]] * len(self.list_outputs()), [in_type[0]] * len(self.list_auxiliary_states())

    def infer_storage_type(self, in_stype):
        """Storage types: only 'default' (dense) arrays exist here."""
        for i, stype in enumerate(in_stype):
            if stype != "default":
                raise ValueError("in_stype[%d] is %r; only 'default' storage is supported" % (i, stype))
        return in_stype, ["default"] * len(self.list_outputs()), ["default"] * len(self.list_auxiliary_states())

    def infer_storage_type_backward(self, ograd_stype, in_stype, out_stype, igrad_stype, aux_stype):
        """Storage types of the backward: all 'default'."""
        lists = [ograd_stype, in_stype, out_stype, igrad_stype, aux_stype]
        return tuple(["default"] * len(values) for values in lists)

    def list_outputs(self):
        return ["output"]

    def list_arguments(self):
        return ["data"]

    def list_auxiliary_states(self):
        return []

    def declare_backward_dependency(self, out_grad, in_data, out_data):
        """Ids (from the three lists) of the values backward reads: by default the output gradients when
        `need_top_grad`, and every input and output."""
        deps = list(out_grad) if self.need_top_grad_ else []
        return deps + list(in_data) + list(out_data)

    def create_operator(self, ctx, in_shapes, in_dtypes):
        """The CustomOp computing this op for inputs of these shapes (lists) and dtypes (MXNet's dtype codes)."""
        return CustomOp()


def register(reg_name):
    """Class decorator: register a CustomOpProp subclass as the op `Custom(..., op_type=reg_name)`."""
    def do_register(prop_cls):
        return _custom.register_prop(reg_name, prop_cls)
    return do_register


register("custom_op")(CustomOpProp)


def get_all_registered_operators():
    """Names of every registered operator (and alias)."""
    return [name for name, _ in _registry.all_names()]


OperatorArguments = collections.namedtuple("OperatorArguments", ["narg", "names", "types"])


def get_operator_arguments(op_name):
    """The parameters of an operator: their number, names and type descriptions."""
    opdef = _registry.get(op_name)
    names = list(opdef.params)
    return OperatorArguments(len(names), names, [opdef.params[n].describe() for n in names])


class _Bridge:
    """How ops/custom.py's kernels reach NDArrays: the buffers wrapped (no copy) in NDArrays with fresh engine
    vars, the method run with this thread's engine an ImmediateEngine (its NDArray ops run at once and raise at
    once, never waiting on the worker that runs the callback), recording paused and training mode `is_train`."""
    _CPU = Context("cpu", 0)    # the kernels run on host buffers (on a GPU, through ops.cuda.host_fallback)

    def create_operator(self, prop, in_shapes, in_dtypes):
        return prop.create_operator(self._CPU, in_shapes, in_dtypes)

    def run(self, method, is_train, arrays):
        wrapped = {key: [None if x is None else NDArray(x, ctx=self._CPU) for x in value]
                   if isinstance(value, list) and key != "req" else value for key, value in arrays.items()}
        with scoped(ImmediateEngine()), autograd.pause(train_mode=is_train), self._CPU:
            method(**wrapped)


_custom.install_bridge(_Bridge())
