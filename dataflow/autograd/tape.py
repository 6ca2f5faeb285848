"""The recorded graph: marked variables, recorded ops, and `get_symbol`.

While recording, every imperative op (`dataflow/ndarray/ndarray.py::_invoke`) also becomes a graph `Node` whose
inputs are the entries of its input arrays, and each output array remembers its entry (`array._entry`). A node
keeps the arrays it computed (`node.recorded`), so the graph and its values live exactly as long as some array
still refers to them, as MXNet's autograd graph (AGInfo) does.
"""
import itertools

from ops.errors import MXNetError

from scheduler.graph import Entry, IndexedGraph, Node

_names = itertools.count()


class Recorded:
    """What a node computed while recording: its output arrays and engine vars; for a marked variable also the
    gradient NDArray and grad_req."""
    __slots__ = ("arrays", "vars", "grad", "grad_req", "fresh_grad")

    def __init__(self, arrays, variables, grad=None, grad_req="null"):
        self.arrays = arrays
        self.vars = variables
        self.grad = grad
        self.grad_req = grad_req
        self.fresh_grad = False     # set by backward; the Trainer clears it and warns about stale gradients


def mark_variables(variables, gradients, grad_reqs="write"):
    """Mark arrays as variables to differentiate, with the arrays that receive their gradients
    (`x.attach_grad()` is `mark_variables(x, zeros_like(x))`)."""
    from ..ndarray.ndarray import NDArray
    variables = [variables] if isinstance(variables, NDArray) else list(variables)
    gradients = [gradients] if isinstance(gradients, NDArray) else list(gradients)
    reqs = [grad_reqs] * len(variables) if isinstance(grad_reqs, str) else list(grad_reqs)
    if not len(variables) == len(gradients) == len(reqs):
        raise MXNetError("mark_variables: %d variables, %d gradients and %d grad_reqs; they must match"
                         % (len(variables), len(gradients), len(reqs)))
    for var, grad, req in zip(variables, gradients, reqs):
        if req not in ("write", "add", "null"):
            raise ValueError("grad_req must be 'write', 'add' or 'null', got %r" % (req,))
        if not isinstance(var, NDArray) or not isinstance(grad, NDArray):
            raise TypeError("mark_variables: variables and gradients must be NDArrays, got %s and %s"
                            % (type(var).__name__, type(grad).__name__))
        if grad.shape != var.shape:
            raise MXNetError("mark_variables: the gradient of a variable of shape %s has shape %s"
                             % (var.shape, grad.shape))
        node = Node(None, "var%d" % next(_names))
        node.recorded = Recorded([var._data], [var._var], grad, req)
        var._entry = Entry(node)


def is_marked(array):
    """True for an array marked as a variable (`attach_grad`, `mark_variables`)."""
    entry = array._entry
    return (entry is not None and entry.node.is_variable and entry.node.recorded is not None
            and entry.node.recorded.grad is not None)


def entry_of(array):
    """The graph entry of an array: recorded, a marked variable, or a new constant (a variable without a
    gradient, as MXNet makes for an unrecorded input of a recorded op)."""
    if array._entry is None:
        node = Node(None, "var%d" % next(_names))
        node.recorded = Recorded([array._data], [array._var])
        return Entry(node)
    return array._entry


def record_op(node, inputs, outputs):
    """Make `node` (an op applied imperatively on NDArrays `inputs`, giving `outputs`) part of the recorded
    graph."""
    node.inputs = [entry_of(x) for x in inputs]
    node.recorded = Recorded([o._data for o in outputs], [o._var for o in outputs])
    for i, o in enumerate(outputs):
        o._entry = Entry(node, i)


def get_symbol(x):
    """The recorded computation of `x` as a Symbol: variables keep their `varN` names, ops are named `node_N`
    (MXNet's names), attributes are the params the ops were called with."""
    from ..ndarray.ndarray import NDArray
    from ..symbol.symbol import Symbol
    if not isinstance(x, NDArray):
        raise TypeError("get_symbol: Invalid argument type, expecting NDArray, got %s" % type(x).__name__)
    if x._entry is None or x._entry.node.recorded is None:
        raise MXNetError("get_symbol: the array was not computed inside autograd.record() (or its graph was "
                         "freed by backward)")
    g = IndexedGraph([x._entry])
    copies = {}
    for node in g.nodes:
        if node.is_variable:
            copy = Node(None, node.name)
        else:
            attrs = {k: v for k, v in node.attrs.items() if v is not None}
            copy = Node(node.op, "node_%d" % next(_names), node.op.format_attrs(attrs), node.params,
                        [Entry(copies[id(e.node)], e.index) for e in node.inputs])
        copies[id(node)] = copy
    return Symbol([Entry(copies[id(x._entry.node)], x._entry.index)])
