"""`mx.contrib.autograd`: MXNet's first autograd API (before `mx.autograd`), on top of `dataflow.autograd`.

`train_section()` / `test_section()` turn recording and training on / off together; `mark_variables`,
`backward` (`compute_gradient`), and the function transforms `grad_and_loss` / `grad`.
"""
import functools

from .. import autograd as _autograd
from ..ndarray import NDArray, zeros_like


def set_is_training(is_train):
    """Set recording and training both to `is_train`; returns the previous training state."""
    previous = _autograd.set_training(is_train)
    _autograd.set_recording(is_train)
    return bool(previous)


class TrainingStateScope:
    """`with TrainingStateScope(state):` records and trains (True) or neither (False) inside."""

    def __init__(self, enter_state):
        self._enter_state = enter_state
        self._prev = None

    def __enter__(self):
        self._prev = set_is_training(self._enter_state)

    def __exit__(self, ptype, value, trace):
        if self._prev != self._enter_state:
            set_is_training(self._prev)


def train_section():
    """A scope that records operations for gradients, in training mode."""
    return TrainingStateScope(True)


def test_section():
    """A scope that neither records nor trains (e.g. inside a train_section)."""
    return TrainingStateScope(False)


def mark_variables(variables, gradients, grad_reqs="write"):
    """Attach `gradients` as the gradient buffers of `variables` (`grad_reqs`: one or one per variable)."""
    _autograd.mark_variables(variables, gradients, grad_reqs)


def backward(outputs, out_grads=None, retain_graph=False):
    """Differentiate the recorded `outputs` (a list or tuple) into the marked variables' gradients."""
    assert isinstance(outputs, (list, tuple)), "outputs must be a list or tuple of NDArrays"
    if out_grads is not None and len(out_grads) != len(outputs):
        raise AssertionError("outputs and out_grads must have the same length")
    _autograd.backward(list(outputs), None if out_grads is None else list(out_grads), retain_graph=retain_graph)


def compute_gradient(outputs):
    """Deprecated: `backward(outputs)`."""
    backward(outputs)


def grad_and_loss(func, argnum=None):
    """`func` turned into a function returning (gradients of the arguments `argnum` (default: all), `func`'s
    outputs)."""
    @functools.wraps(func)
    def wrapped(*args):
        variables = args
        if argnum is not None:
            variables = [args[i] for i in (argnum if isinstance(argnum, list) else [argnum])]
        for x in variables:
            assert isinstance(x, NDArray), "type of autograd input should NDArray."
        grads = [zeros_like(x) for x in variables]
        mark_variables(variables, grads)
        with train_section():
            outputs = func(*args)
        compute_gradient([outputs] if isinstance(outputs, NDArray) else outputs)
        return grads, outputs
    return wrapped


def grad(func, argnum=None):
    """`func` turned into a function returning the gradients of its arguments `argnum` (default: all)."""
    grad_with_loss_func = grad_and_loss(func, argnum)

    @functools.wraps(grad_with_loss_func)
    def wrapped(*args):
        return grad_with_loss_func(*args)[0]
    return wrapped
