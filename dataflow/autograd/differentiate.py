"""`backward()` and `grad()`: differentiate the recorded graph.

Both take the recorded graph of the heads to the gradient pass the Symbol API uses (scheduler/gradient.py) and
then evaluate the gradient nodes it adds, one of two ways:
- planned (first-order gradients): plan only the gradient nodes, with every recorded value bound in place, and
  run them as one engine push: one gradient machinery for Symbol and NDArray, and the fast one. The plan is kept
  for the next backward of a graph with the same signature (backward_plans.py, Note [cached backward plans]).
- imperative (`create_graph=True`, or a graph holding an `autograd.Function`): run the gradient nodes one by one
  as imperative ops. With create_graph recording is on, so the gradients are recorded arrays whose graph reaches
  back into the forward graph, and differentiating them again gives higher-order gradients (every op a gradient
  rule emits has a gradient rule of its own). A Function's backward is Python and runs here, in the calling
  thread, never inside an engine push.
"""
import os

from ops.errors import MXNetError

from scheduler import build
from scheduler.graph import Entry, IndexedGraph, Node

from . import backward_plans, state
from .function import FunctionBackward, run_backward
from .tape import Recorded, _names, entry_of, is_marked, record_op

_NOT_RECORDED = ("Cannot differentiate node because it is not in a computational graph. You need to set "
                 "is_recording to true or use autograd.record() to save computational graphs for backward. If you "
                 "want to differentiate the same graph twice, you need to pass retain_graph=True to backward.")


def backward(heads, head_grads=None, retain_graph=False, train_mode=True):
    """Compute the gradients of `heads` with respect to the marked variables, into their `.grad` arrays (as
    their grad_req says: 'write' or 'add').

    `head_grads` default to ones. Without `retain_graph`, the recorded graph is released afterwards."""
    heads, head_grads = _parse_heads(heads, head_grads)
    forward = _forward_graph(heads, "backward")
    wrt = [Entry(forward.nodes[i]) for i in forward.arg_nodes
           if forward.nodes[i].recorded.grad is not None and forward.nodes[i].recorded.grad_req != "null"]
    if not wrt:
        raise MXNetError("backward: there are no inputs in the computation graph that require gradients "
                         "(call attach_grad() on them before recording)")
    infos = [e.node.recorded for e in wrt]
    _differentiate(heads, head_grads, forward, wrt, [i.grad for i in infos], [i.grad_req for i in infos],
                   False, train_mode)
    for info in infos:
        info.fresh_grad = True
    if not retain_graph:
        _free(forward)


def grad(heads, variables, head_grads=None, retain_graph=None, create_graph=False, train_mode=True):
    """The gradients of `heads` with respect to `variables` (marked arrays), as a list of new NDArrays; the
    variables' `.grad` arrays are left alone.

    With `create_graph`, the gradient computation is recorded too, so the results can be differentiated again
    (higher-order gradients). `retain_graph` defaults to `create_graph`.

    Examples
    --------
    >>> import dataflow as mx
    >>> x = mx.nd.array([1.0])
    >>> x.attach_grad()
    >>> with mx.autograd.record():
    ...     z = mx.nd.elemwise_add(mx.nd.exp(x), x)
    >>> dx = mx.autograd.grad(z, [x], create_graph=True)
    >>> dx[0].asnumpy()
    array([3.7182817], dtype=float32)
    """
    from ..ndarray import ndarray as nd
    variables = [variables] if isinstance(variables, nd.NDArray) else list(variables)
    if not variables:
        raise MXNetError("grad: variables cannot be an empty list")
    heads, head_grads = _parse_heads(heads, head_grads)
    retain_graph = create_graph if retain_graph is None else retain_graph
    forward = _forward_graph(heads, "grad")
    for i, v in enumerate(variables):
        if not isinstance(v, nd.NDArray):
            raise TypeError("grad: variables must be NDArrays, got %s" % type(v).__name__)
        if not is_marked(v):
            raise MXNetError("grad: Cannot differentiate with respect to the %d-th variable because it does not "
                             "require gradient (call attach_grad() on it before recording)" % (i + 1))
        if id(v._entry.node) not in forward.nid:
            raise MXNetError("grad: Cannot differentiate with respect to the %d-th variable because it is "
                             "unreachable from the outputs." % (i + 1))
    wrt = [v._entry for v in variables]
    if create_graph:
        grads = _differentiate(heads, head_grads, forward, wrt, None, None, True, train_mode)
    else:
        with state.pause():
            grads = [nd.zeros(v.shape, v.context, v.dtype) for v in variables]
        _differentiate(heads, head_grads, forward, wrt, grads, ["write"] * len(grads), False, train_mode)
    if not retain_graph:
        _free(forward)
    return grads


def grad_and_loss(func, argnum=None):
    """Return a function computing both the gradient of `func`'s output and the output itself."""
    def wrapped(*args):
        from ..ndarray import ndarray as nd
        from .tape import mark_variables
        variables = args if argnum is None else [args[i] for i in ([argnum] if isinstance(argnum, int)
                                                                  else argnum)]
        grads = [nd.zeros(x.shape, x.context, x.dtype) for x in variables]
        mark_variables(variables, grads)
        with state.record():
            outputs = func(*args)
        backward([outputs] if isinstance(outputs, nd.NDArray) else outputs)
        return grads, outputs
    return wrapped


# -- shared steps -----------------------------------------------------------------------------------------------

def _parse_heads(heads, head_grads):
    from ..ndarray import ndarray as nd
    heads = [heads] if isinstance(heads, nd.NDArray) else list(heads)
    if head_grads is None:
        head_grads = [None] * len(heads)
    elif isinstance(head_grads, nd.NDArray):
        head_grads = [head_grads]
    else:
        head_grads = list(head_grads)
    if len(head_grads) != len(heads):
        raise MXNetError("heads and head_grads must be lists of the same length: %d heads, %d head_grads"
                         % (len(heads), len(head_grads)))
    for h, g in zip(heads, head_grads):
        if g is not None and g.shape != h.shape:
            raise MXNetError("head_grads: a head of shape %s got a head gradient of shape %s" % (h.shape, g.shape))
    return heads, head_grads


def _forward_graph(heads, caller):
    """The recorded graph of `heads`, checked to be alive (not freed by an earlier backward)."""
    for h in heads:
        if h._entry is None or h._entry.node.recorded is None:
            raise MXNetError("%s: %s" % (caller, _NOT_RECORDED))
    forward = IndexedGraph([h._entry for h in heads])
    for node in forward.nodes:
        if node.recorded is None:
            raise MXNetError("%s: the graph of node %s was freed by an earlier backward; %s"
                             % (caller, node.name, _NOT_RECORDED))
    return forward


def _free(forward):
    """Release the values the forward graph's ops recorded (variables keep theirs; one marked with grad_req
    'null' loses its gradient array, so its `.grad` is None afterwards, as in MXNet)."""
    for node in forward.nodes:
        if not node.is_variable:
            node.recorded = None
        elif node.recorded is not None and node.recorded.grad_req == "null":
            node.recorded.grad = None


def _differentiate(heads, head_grads, forward, wrt, targets, modes, create_graph, train_mode):
    """Gradients of `heads` with respect to the entries `wrt`: into the NDArrays `targets` as `modes` say, or
    (targets None) returned as new arrays, recorded when `create_graph`."""
    from ..ndarray import ndarray as nd
    if targets is not None and not create_graph:
        lowered = _run_planned(heads, head_grads, forward, wrt, targets, modes, train_mode)
        if lowered is None:
            return targets
    else:       # a recorded head gradient takes part in the graph, as in MXNet
        grad_entries = [entry_of(g) if g._entry is None or g._entry.node.recorded is not None else _constant(g)
                        for g in _seeds(heads, head_grads)]
        lowered = build.lower([h._entry for h in heads], {}, {}, wrt, grad_entries, forward, infer=False)
    values = _run_imperative(lowered.graph, lowered.gradients, heads[0].context, create_graph, train_mode)
    if targets is None:         # no gradient flows (through zero-gradient ops only): zeros, as MXNet gives
        with state.pause():
            return [nd.zeros(e.node.recorded.arrays[0].shape, heads[0].context, e.node.recorded.arrays[0].dtype)
                    if v is None else v for e, v in zip(wrt, values)]
    with state.pause():
        for target, mode, value in zip(targets, modes, values):
            if value is None:
                if mode == "write":
                    target[:] = 0
            elif mode == "add":
                nd._op("elemwise_add", target, value, out=target)
            else:
                nd._op("_copy", value, out=target)
    return targets


def _seeds(heads, head_grads):
    """The head gradients: the given ones, ones where None."""
    with state.pause():
        return [backward_plans.ones_like(h) if g is None else g for h, g in zip(heads, head_grads)]


def _constant(array):
    """A new graph variable holding `array`'s value, with no gradient of its own."""
    node = Node(None, "head_grad%d" % next(_names))
    node.recorded = Recorded([array._data], [array._var])
    return Entry(node)


def _run_planned(heads, head_grads, forward, wrt, targets, modes, train_mode):
    """Run the gradient nodes as one planned push (or a few: Note [segmented backward]) with the recorded values
    bound in place: the plan kept for this graph's signature, or a new one (Note [cached backward plans] in
    backward_plans.py). None, or the lowered gradient graph when it holds a node that must run in Python (a
    Function's backward): the caller runs it imperatively."""
    ctx = heads[0].context
    key = None
    if backward_plans.enabled():
        wrt_eids = [forward.eid(e) for e in wrt]
        seed_specs = [h if g is None else g for h, g in zip(heads, head_grads)]
        key = backward_plans.signature(forward, wrt_eids, modes, seed_specs, targets, train_mode, ctx)
    plan = None if key is None else backward_plans.lookup(key)
    if plan is not None:
        seeds = [g for g in head_grads]
        if any(g is None for g in seeds):
            ones = plan.default_seeds(heads)
            seeds = [ones[k] if g is None else g for k, g in enumerate(seeds)]
        plan.run(forward, seeds, targets, train_mode)
        return None
    seeds = _seeds(heads, head_grads)
    plan = backward_plans.BackwardPlan(forward, wrt, seeds, targets, modes, ctx, reusable=key is not None)
    if plan.python_nodes:
        return plan.lowered
    if key is not None:
        backward_plans.keep(key, plan)
        _debug("autograd: backward planned and kept (%d nodes, %d steps; %d kept)"
               % (len(forward.nodes), len(plan.plan.steps) - plan.start, backward_plans.cache_info()["size"]))
    plan.run(forward, seeds, targets, train_mode)
    return None


def _debug(line):
    if int(os.environ.get("DATAFLOW_DEBUG", 0) or 0) >= 1:
        print(line)


def _run_imperative(g, grads, ctx, recording, train_mode):
    """Run the nodes of `g` that have no recorded values as imperative ops (recorded when `recording`); the
    NDArrays of the entries `grads` (eids; None stays None). A gradient that is an existing value (a head gradient
    passed straight through) comes back as a copy."""
    from ..ndarray import ndarray as nd
    values, computed = {}, set()

    def value(eid):
        array = values.get(eid)
        if array is None:
            nid, i = g.entry_node(eid)
            node = g.nodes[nid]
            array = values[eid] = nd.NDArray(node.recorded.arrays[i], node.recorded.vars[i], ctx)
            array._entry = Entry(node, i)
        return array

    with state._Scope(bool(recording), bool(train_mode)):
        for nid, node in enumerate(g.nodes):
            if node.recorded is not None:
                continue
            inputs = [value(e) for e in g.inputs[nid]]
            outputs = _run_node(node, inputs, ctx, recording)
            for i, out in enumerate(outputs):
                eid = g.node_row_ptr[nid] + i
                values[eid] = out
                computed.add(eid)
        results = []
        for eid in grads:
            if eid is None:
                results.append(None)
                continue
            results.append(value(eid) if eid in computed else nd._op("_copy", value(eid)))
    return results


def _run_node(node, inputs, ctx, recording):
    """One gradient node run imperatively on NDArrays; all its outputs. Recording makes the node itself part
    of the recorded graph (its inputs are already recorded entries). A Function's backward is not one node: the
    ops it runs are recorded one by one, as any user code."""
    from ..ndarray import ndarray as nd
    if isinstance(node.op, FunctionBackward):
        return run_backward(node, inputs)
    call = nd._OpCall(node.op, node.name, node.params)
    shapes, dtypes = call.infer(inputs)
    outputs = [nd.NDArray(nd._alloc(s, t, ctx), ctx=ctx) for s, t in zip(shapes, dtypes)]
    nd._push(call, inputs, outputs, False)
    if recording:
        record_op(node, inputs, outputs)
    return outputs
