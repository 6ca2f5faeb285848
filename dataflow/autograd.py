"""`mx.autograd`: record imperative NDArray operations and differentiate them.

While recording, every imperative op (`dataflow/ndarray/ndarray.py::_invoke`) also becomes a graph `Node` whose
inputs are the entries of its input arrays, and each output array remembers its entry. A node keeps the arrays it
computed (`node.recorded`), so the graph and its values live exactly as long as some array still refers to them,
as MXNet's autograd graph does. `backward()` takes that graph to the same gradient pass the Symbol API uses
(scheduler/gradient.py), plans the backward nodes with the forward values bound in place, and runs them as one
engine push: one gradient machinery, not two.

Examples
--------
>>> import dataflow as mx
>>> x = mx.nd.array([1.0, 2.0, 3.0])
>>> x.attach_grad()
>>> with mx.autograd.record():
...     y = x * x + 1
>>> y.backward()
>>> x.grad.asnumpy()
array([2., 4., 6.], dtype=float32)
"""
import itertools
import threading

from ops.errors import MXNetError
from ops.registry import OpContext

from scheduler.engine import get_engine
from scheduler.gradient import add_backward
from scheduler.graph import Entry, IndexedGraph, Node
from scheduler.infer import infer_dtypes, infer_shapes
from scheduler.memory import plan_memory
from scheduler.plan import Plan

_state = threading.local()
_names = itertools.count()


class Recorded:
    """What a node computed while recording: its output arrays and engine vars; for a variable also the gradient
    array and grad_req."""
    __slots__ = ("arrays", "vars", "grad", "grad_req", "fresh_grad")

    def __init__(self, arrays, variables, grad=None, grad_req="null"):
        self.arrays = arrays
        self.vars = variables
        self.grad = grad
        self.grad_req = grad_req
        self.fresh_grad = False     # set by backward; the Trainer clears it and warns about stale gradients


# -- recording state ------------------------------------------------------------------------------------------------

def is_recording():
    """True inside `record()` (and not inside `pause()`)."""
    return getattr(_state, "recording", False)


def is_training():
    """True in training mode: `record()` by default, or `train_mode()`."""
    return getattr(_state, "training", False)


def set_recording(is_recording):
    """Set the recording state; returns the previous one."""
    previous = globals()["is_recording"]()
    _state.recording = bool(is_recording)
    return previous


def set_training(train_mode):
    """Set the training state; returns the previous one."""
    previous = is_training()
    _state.training = bool(train_mode)
    return previous


class _Scope:
    def __init__(self, recording, training):
        self._recording, self._training = recording, training

    def __enter__(self):
        self._old = (is_recording(), is_training())
        if self._recording is not None:
            _state.recording = self._recording
        if self._training is not None:
            _state.training = self._training
        return self

    def __exit__(self, *exc):
        _state.recording, _state.training = self._old


def record(train_mode=True):
    """Record the operations in this block for `backward()`; training mode by default."""
    return _Scope(True, train_mode)


def pause(train_mode=False):
    """Stop recording inside this block."""
    return _Scope(False, train_mode)


def train_mode():
    """Training mode (Dropout drops, BatchNorm uses batch statistics) without changing recording."""
    return _Scope(None, True)


def predict_mode():
    """Inference mode without changing recording."""
    return _Scope(None, False)


# -- variables and recording ----------------------------------------------------------------------------------------

def mark_variables(variables, gradients, grad_reqs="write"):
    """Mark arrays as variables to differentiate, with the arrays that receive their gradients."""
    from .ndarray.ndarray import NDArray
    variables = [variables] if isinstance(variables, NDArray) else list(variables)
    gradients = [gradients] if isinstance(gradients, NDArray) else list(gradients)
    reqs = [grad_reqs] * len(variables) if isinstance(grad_reqs, str) else list(grad_reqs)
    for var, grad, req in zip(variables, gradients, reqs, strict=True):
        if req not in ("write", "add", "null"):
            raise ValueError("grad_req must be 'write', 'add' or 'null', got %r" % (req,))
        node = Node(None, "var%d" % next(_names))
        node.recorded = Recorded([var._data], [var._var], grad, req)
        var._entry = Entry(node)


def entry_of(array):
    """The graph entry of an array: recorded, a marked variable, or a new constant."""
    if array._entry is None:
        node = Node(None, "const%d" % next(_names))
        node.recorded = Recorded([array._data], [array._var])
        return Entry(node)
    return array._entry


def record_op(node, inputs, outputs):
    """Make `node` (an op applied imperatively) part of the recorded graph."""
    node.inputs = [entry_of(x) for x in inputs]
    node.recorded = Recorded([o._data for o in outputs], [o._var for o in outputs])
    for i, o in enumerate(outputs):
        o._entry = Entry(node, i)


# -- backward ---------------------------------------------------------------------------------------------------------

def backward(heads, head_grads=None, retain_graph=False, train_mode=True):
    """Compute the gradients of `heads` with respect to the marked variables, into their `.grad` arrays.

    `head_grads` default to ones. Without `retain_graph`, the recorded graph is released afterwards."""
    from .executor import bind_gradients
    from .ndarray import ndarray as nd
    heads = [heads] if isinstance(heads, nd.NDArray) else list(heads)
    if head_grads is None:
        head_grads = [None] * len(heads)
    elif isinstance(head_grads, nd.NDArray):
        head_grads = [head_grads]
    for h in heads:
        if h._entry is None or h._entry.node.recorded is None:
            raise MXNetError("backward: cannot differentiate an array that was not computed inside "
                             "autograd.record() (or whose graph was freed: use retain_graph=True)")
    head_entries = [h._entry for h in heads]
    forward = IndexedGraph(head_entries)
    for node in forward.nodes:
        if node.recorded is None:
            raise MXNetError("backward: the graph of node %s was freed by an earlier backward; pass "
                             "retain_graph=True to the first one" % node.name)
    wrt = [Entry(forward.nodes[i]) for i in forward.arg_nodes
           if forward.nodes[i].recorded.grad is not None and forward.nodes[i].recorded.grad_req != "null"]
    if not wrt:
        raise MXNetError("backward: no variable with a gradient was used; call attach_grad() on the inputs first")
    grad_nodes = []
    for h, g in zip(heads, head_grads, strict=True):
        g = nd.ones(h.shape, h.context, h.dtype) if g is None else g
        node = Node(None, "head_grad%d" % next(_names))
        node.recorded = Recorded([g._data], [g._var])
        grad_nodes.append(node)
    grads = add_backward(head_entries, wrt, [Entry(n) for n in grad_nodes])
    g = IndexedGraph(head_entries + [e for e in grads if e is not None])
    bound, reads = {}, []
    for nid, node in enumerate(g.nodes):
        if node.recorded is not None:
            for i, (array, var) in enumerate(zip(node.recorded.arrays, node.recorded.vars, strict=True)):
                bound[g.node_row_ptr[nid] + i] = array
                reads.append(var)
    known = {n.name: n.recorded.arrays[0] for n in g.nodes if n.is_variable}
    shapes = infer_shapes(g, {k: v.shape for k, v in known.items()}).values
    dtypes = infer_dtypes(g, {k: v.dtype for k, v in known.items()}).values
    infos = [e.node.recorded for e in wrt]
    copies, req = bind_gradients(g, grads, [i.grad._data for i in infos], [i.grad_req for i in infos], bound)
    plan = Plan(g, shapes, dtypes, plan_memory(g, shapes, dtypes, external=set(bound)), bound, copies, req,
                ctx=heads[0].context)
    start = sum(1 for node in forward.nodes if not node.is_variable)
    op_ctx = OpContext(is_train=bool(train_mode))
    get_engine().push(lambda: plan.run(op_ctx, start, None, "backward"), reads,
                      [i.grad._var for i in infos], "backward")
    for info in infos:
        info.fresh_grad = True
    if not retain_graph:
        for node in forward.nodes:
            if not node.is_variable:
                node.recorded = None


def grad_and_loss(func, argnum=None):
    """Return a function computing both the gradient of `func`'s output and the output itself."""
    def wrapped(*args):
        variables = args if argnum is None else [args[i] for i in ([argnum] if isinstance(argnum, int)
                                                                  else argnum)]
        from .ndarray import ndarray as nd
        grads = [nd.zeros(x.shape, x.context, x.dtype) for x in variables]
        mark_variables(variables, grads)
        with record():
            outputs = func(*args)
        backward([outputs] if isinstance(outputs, nd.NDArray) else outputs)
        return grads, outputs
    return wrapped
