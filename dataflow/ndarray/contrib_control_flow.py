"""MXNet's imperative control flow in `mx.nd.contrib`: `foreach`, `while_loop` and `cond`.

The NDArray forms run the user's Python functions step by step, so every op inside them is an ordinary imperative
call: autograd records it like any other and gradients flow through the loop (as in MXNet, whose NDArray forms are
Python loops too). The symbolic forms, which build one `_foreach`/`_while_loop`/`_cond` node holding the functions as
subgraphs, live in dataflow/symbol/contrib_control_flow.py; both share the flatten/regroup of nested lists here.

Checks beyond MXNet's imperative forms: a body whose states change count or shape between steps raises a ShapeError
naming the op, the state and both shapes (MXNet's symbolic forms fail there; its imperative foreach would go on).
"""
import numpy as np

from ops.errors import MXNetError, ShapeError

from .ndarray import NDArray

__all__ = ["foreach", "while_loop", "cond"]


# ---------------------------------------------------------------------------------------------------------------
# Nested lists of arrays (or symbols): MXNet's _flatten / _regroup
# ---------------------------------------------------------------------------------------------------------------

def flatten(args, what, leaf=NDArray, leaf_format=lambda x: 0):
    """(flat list of leaves, format) of an array or a nested list of them; the format rebuilds the nesting.

    A leaf's format is `leaf_format(leaf)`: 0 for one value (a Symbol with n > 1 outputs keeps n, as MXNet)."""
    if isinstance(args, leaf):
        return [args], leaf_format(args)
    if not isinstance(args, (list, tuple)):
        raise MXNetError("%s must be a (nested) list of %s, but got %r of type %s"
                         % (what, leaf.__name__, args, type(args).__name__))
    flat, formats = [], []
    for item in args:
        items, fmt = flatten(item, what, leaf, leaf_format)
        flat.extend(items)
        formats.append(fmt)
    return flat, formats


def regroup(flat, fmt):
    """The nesting `fmt` (from `flatten`) rebuilt from the flat list; returns (nested, the leaves left over)."""
    if isinstance(fmt, int):
        if fmt == 0:
            return flat[0], flat[1:]
        return list(flat[:fmt]), flat[fmt:]
    nested = []
    for sub in fmt:
        item, flat = regroup(flat, sub)
        nested.append(item)
    return nested, flat


def as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def to_python(value, kind, what):
    """`value` (an NDArray, numpy value or Python value) as a Python bool or int, or a ValueError naming it."""
    if hasattr(value, "asscalar"):
        value = value.asscalar()
    try:
        return kind(value)
    except Exception:  # noqa: BLE001 - whatever the value, the message is MXNet's
        raise ValueError("Cannot convert %s to python %s" % (what, kind.__name__)) from None


def check_same_states(op, before, after, what="state"):
    """The loop's new states must match the old ones in number, shape and dtype (one error naming them)."""
    if len(before) != len(after):
        raise MXNetError("%s: the body returned %d %ss, but the loop has %d" % (op, len(after), what, len(before)))
    for i, (old, new) in enumerate(zip(before, after)):
        if not isinstance(new, NDArray):
            raise MXNetError("%s: %s %d returned by the body is a %s, not an NDArray"
                             % (op, what, i, type(new).__name__))
        if old.shape != new.shape or np.dtype(old.dtype) != np.dtype(new.dtype):
            raise ShapeError("%s: %s %d changed from shape %s (%s) to %s (%s) in the body; a loop state keeps its "
                             "shape and dtype" % (op, what, i, old.shape, np.dtype(old.dtype).name, new.shape,
                                                  np.dtype(new.dtype).name))


def _slice(array, i):
    """`array[i]`, recorded as ops while autograd records (MXNet's NDArray::AtWithRecord), so gradients reach the
    data; a plain view otherwise."""
    from .. import autograd
    view = array[i]
    if not autograd.is_recording():
        return view
    from . import op as ops
    return ops.Reshape(ops.slice_axis(array, axis=0, begin=i, end=i + 1), shape=view.shape)


def _stack_steps(op, steps):
    """Per flat output, the step values stacked along a new axis 0 (shapes checked first, naming the step)."""
    from . import op as ops
    stacked = []
    for i, values in enumerate(zip(*steps)):
        first = values[0]
        for step, value in enumerate(values):
            if value.shape != first.shape:
                raise ShapeError("%s: output %d has shape %s at step 0 but %s at step %d; every step must give the "
                                 "same shapes" % (op, i, first.shape, value.shape, step))
        stacked.append(ops.stack(*values, axis=0, num_args=len(values)))
    return stacked


# ---------------------------------------------------------------------------------------------------------------
# The three functions
# ---------------------------------------------------------------------------------------------------------------

def foreach(body, data, init_states):
    """Run `body` over the slices of `data` along axis 0, threading states through the steps.

    `out, states = body(data_i, states)` per step (data_i is an NDArray, or a list when `data` is a list); the
    outputs of all steps are stacked on axis 0; the states of the last step are returned with them.

    Returns `(outputs, states)`, nested as the body returns them.

    Examples
    --------
    >>> import dataflow as mx
    >>> step = lambda x, states: (x + states[0], [states[0] * 2])
    >>> outs, states = mx.nd.contrib.foreach(step, mx.nd.ones((3, 2)), [mx.nd.ones((2,))])
    >>> outs.asnumpy().tolist(), states[0].asnumpy().tolist()
    ([[2.0, 2.0], [3.0, 3.0], [5.0, 5.0]], [8.0, 8.0])
    """
    flat_data, _ = flatten(data, "foreach input")
    flatten(init_states, "foreach states")
    if not flat_data:
        raise MXNetError("foreach: data must hold at least one NDArray")
    length = flat_data[0].shape[0] if flat_data[0].ndim else 0
    for i, d in enumerate(flat_data):
        if d.ndim == 0 or d.shape[0] != length:
            raise ShapeError("foreach: every data array is sliced on axis 0, so they must share its length; data 0 "
                             "has shape %s, data %d has shape %s" % (flat_data[0].shape, i, d.shape))
    states, steps, out_fmt = init_states, [], None
    for i in range(length):
        slices = _slice(data, i) if isinstance(data, NDArray) else [_slice(d, i) for d in data]
        outs, new_states = body(slices, states)
        flat_outs, out_fmt = flatten(outs, "foreach output")
        flat_new, _ = flatten(new_states, "foreach states")
        check_same_states("foreach", flatten(states, "foreach states")[0], flat_new)
        if steps and len(flat_outs) != len(steps[0]):
            raise MXNetError("foreach: the body returned %d outputs at step %d but %d at step 0"
                             % (len(flat_outs), i, len(steps[0])))
        steps.append(flat_outs)
        states = new_states
    if not steps:
        return [], states
    outputs, _ = regroup(_stack_steps("foreach", steps), out_fmt)
    return outputs, states


def while_loop(cond, func, loop_vars, max_iterations=None):
    """Run `func` while `cond` holds, at most `max_iterations` times.

    `cond(*loop_vars)` gives a scalar NDArray; `func(*loop_vars)` gives `(step_output, new_loop_vars)`. Returns
    `(outputs, loop_vars)`: each step output stacked on axis 0 and padded to `max_iterations` rows (the padding is
    left uninitialised, as MXNet's), and the final loop variables.

    Examples
    --------
    >>> import dataflow as mx
    >>> cond = lambda i, s: i <= 5
    >>> func = lambda i, s: ([i + s], [i + 1, s + i])
    >>> loop_vars = (mx.nd.array([0], dtype="int64"), mx.nd.array([1], dtype="int64"))
    >>> outputs, states = mx.nd.contrib.while_loop(cond, func, loop_vars, max_iterations=10)
    >>> outputs[0].shape, outputs[0][:6].asnumpy().ravel().tolist(), [s.asnumpy().tolist() for s in states]
    ((10, 1), [1, 2, 4, 7, 11, 16], [[6], [16]])
    """
    from . import creation
    from . import op as ops
    if max_iterations is None:
        raise ValueError("max_iterations should be specified")
    max_iterations = to_python(max_iterations, int, "max_iteration")
    single = isinstance(loop_vars, NDArray)
    loop_vars = as_list(loop_vars)
    if not loop_vars:
        raise ValueError("loop_vars should contain at least one element")
    steps, out_fmt = [], None
    while len(steps) < max_iterations and to_python(cond(*loop_vars), bool, "Return value of cond"):
        step_output, new_vars = func(*loop_vars)
        step_output = [] if step_output is None else step_output
        new_vars = as_list([] if new_vars is None else new_vars)
        if len(new_vars) != len(loop_vars):
            raise ValueError("The length of loop_vars should be consistent during the loop")
        check_same_states("while_loop", loop_vars, new_vars, "loop_var")
        flat_outs, out_fmt = flatten(step_output, "while output")
        if steps and len(flat_outs) != len(steps[0]):
            raise ValueError("Number of elements in step_output should be the same in each step")
        steps.append(flat_outs)
        loop_vars = new_vars
    outputs = _stack_steps("while_loop", steps) if steps else []
    if steps and len(steps) < max_iterations:
        outputs = [ops.concat(out, creation.empty((max_iterations - len(steps),) + out.shape[1:], ctx=out.context,
                                                  dtype=out.dtype), dim=0, num_args=2) for out in outputs]
    if out_fmt is not None:
        outputs, _ = regroup(outputs, out_fmt)
    return outputs, (loop_vars[0] if single else loop_vars)


def cond(pred, then_func, else_func):
    """`then_func()` if the scalar `pred` is true, else `else_func()`.

    Examples
    --------
    >>> import dataflow as mx
    >>> a, b = mx.nd.array([1]), mx.nd.array([2])
    >>> mx.nd.contrib.cond(a * b < 5, lambda: (a + 5) * (b + 5), lambda: (a - 5) * (b - 5)).asnumpy().tolist()
    [42.0]
    """
    return then_func() if to_python(pred, bool, "pred") else else_func()
