"""`autograd.Function`: an operation with a user-written backward.

Calling a Function runs its `forward` with recording paused and, when recording, records one node whose OpDef
is made for that call: its gradient rule adds one `FunctionBackward` node taking the outputs' gradients and
giving the inputs' gradients. That node has no kernel: the imperative evaluation of gradients (differentiate.py)
calls the instance's `backward` in the calling thread, so backward may use any NDArray operation, as in MXNet.
"""
import itertools

from ops import autodiff
from ops.errors import MXNetError, in_operator
from ops.registry import OpDef, Params

from scheduler.graph import Node

from . import state
from .tape import record_op

_calls = itertools.count()


class FunctionBackward(OpDef):
    """The gradient node of one Function call; `function` is the instance whose backward it runs."""
    function = None


def _unknown_shapes(p, in_shapes, out_shapes):
    return list(in_shapes), list(out_shapes)


class Function:
    """Customize differentiation: define `forward(*inputs)` and `backward(*output_grads)`.

    `backward` takes one gradient per output of `forward` and returns one NDArray per input of `forward`.
    An instance can be called only once; `save_for_backward(*arrays)` keeps arrays in `saved_tensors`.

    Examples
    --------
    >>> import dataflow as mx
    >>> class sigmoid(mx.autograd.Function):
    ...     def forward(self, x):
    ...         y = 1 / (1 + mx.nd.exp(-x))
    ...         self.save_for_backward(y)
    ...         return y
    ...     def backward(self, dy):
    ...         y, = self.saved_tensors
    ...         return dy * y * (1 - y)
    >>> x = mx.nd.array([0.0])
    >>> x.attach_grad()
    >>> with mx.autograd.record():
    ...     m = sigmoid()(x)
    >>> m.backward()
    >>> x.grad.asnumpy()
    array([0.25], dtype=float32)
    """

    def __init__(self):
        self._used = False
        self.saved_tensors = ()

    def save_for_backward(self, *args):
        self.saved_tensors = args

    def __call__(self, *inputs):
        from ..ndarray.ndarray import NDArray
        if self._used:
            raise AssertionError("Each Function instance can only be called once. Please create another instance.")
        self._used = True
        recording = state.set_recording(False)
        try:
            outputs = self.forward(*inputs)
        finally:
            state.set_recording(recording)
        if not recording:
            return outputs
        outs = (outputs,) if isinstance(outputs, NDArray) else tuple(outputs)
        for x in tuple(inputs) + outs:
            if not isinstance(x, NDArray):
                raise TypeError("%s: autograd.Function takes and returns NDArrays, got %s"
                                % (type(self).__name__, type(x).__name__))
        node = Node(self._forward_op(len(inputs), len(outs)), "%s%d" % (type(self).__name__.lower(), next(_calls)),
                    params=Params({}))
        record_op(node, inputs, outs)
        return outputs

    def _forward_op(self, n_in, n_out):
        """The OpDef of this call: its gradient is one FunctionBackward node."""
        name = type(self).__name__
        backward = FunctionBackward("_backward_%s" % name, arguments=tuple("ograd%d" % k for k in range(n_out)),
                                    outputs=tuple("igrad%d" % k for k in range(n_in)),
                                    infer_shape=_unknown_shapes)
        backward.function = self

        def gradient(p, ins, outs, dys):
            dys = [dy if dy is not None else autodiff.zeros_like(o) for dy, o in zip(dys, outs)]
            grads = autodiff.apply(backward, *dys)
            return grads if isinstance(grads, list) else [grads]
        return OpDef(name, arguments=tuple("data%d" % k for k in range(n_in)),
                     outputs=tuple("output%d" % k for k in range(n_out)), infer_shape=_unknown_shapes,
                     gradient=gradient)

    def forward(self, *inputs):
        """Forward computation."""
        raise NotImplementedError

    def backward(self, *output_grads):
        """Backward computation: takes as many gradients as forward's outputs and returns as many NDArrays as
        forward's inputs."""
        raise NotImplementedError


def run_backward(node, output_grads):
    """Run the Function's backward for its gradient node `node`; the input gradients, checked."""
    from ..ndarray.ndarray import NDArray
    function = node.op.function
    grads = function.backward(*output_grads)
    grads = (grads,) if isinstance(grads, NDArray) else tuple(grads)
    expected = node.op.num_outputs(node.params)
    if len(grads) != expected:
        raise MXNetError(in_operator(node.op.name, node.name, "%s.backward must return exactly the same number of "
                                     "NDArrays as the number of NDArrays arguments to forward. Expecting %d got %d"
                                     % (type(function).__name__, expected, len(grads))))
    for k, g in enumerate(grads):
        if not isinstance(g, NDArray):
            raise MXNetError(in_operator(node.op.name, node.name, "autograd.Function.backward must return "
                                         "NDArrays, not %s (gradient %d)" % (type(g).__name__, k)))
    return list(grads)
