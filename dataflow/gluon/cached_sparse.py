"""Hybridized blocks with `Embedding(sparse_grad=True)` under autograd: the row_sparse weight gradient MXNet gives.

Note [hybridized sparse embeddings]
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
MXNet's CachedOp infers a row_sparse gradient for the weight of an `Embedding(sparse_grad=True)` and computes it
from the output gradient without a dense pass over the vocabulary; its rows are the looked-up indices (a row whose
summed gradient is zero is kept, so lazy updates still apply its weight decay and momentum). A traced graph here
gets the same by lifting such lookups out of the compiled graph, as the sparse executor does for bound Symbols
(`liftable` / `without_lifted` in dataflow/executor_sparse.py, Note [sparse executors]): when the data is an input
of the block and the weight a parameter with grad_stype 'row_sparse' that nothing else in the graph reads (grad_req
'write'), each call computes the lookup first as the non-hybridized layer does (`sparse_grad.embedding`: the output
is marked as a variable and its (indices, dy) noted on the parameter) and passes its output to the compiled graph
as one more input. The graph's backward writes dy; `Parameter.grad()` sums it per index. Any other graph compiles
as it is (`_CachedBackward`), and its sparse Embeddings' gradients are the non-zero rows of a dense gradient; so
do blocks on a GPU (the row kernels run on the host) and blocks with an op hook (which must see every node).
"""
from scheduler.graph import IndexedGraph

from .. import autograd
from .. import ndarray as nd
from . import sparse_grad
from .cached_graph import _CachedBackward


def cached_backward(out, input_names, args, params, training, block_name, monitor=None):
    """The compiled graph with its gradients for a call under `autograd.record()`: `_CachedBackward`, or one with its
    sparse Embedding lookups lifted out (see the Note)."""
    graph = IndexedGraph(out._outputs)
    sparse = any(node.op is not None and node.op.name == "Embedding" and node.params.sparse_grad
                 for node in graph.nodes)
    lifts = _lifts(graph, input_names, args, params) \
        if sparse and monitor is None and args and args[0].context.device_type == "cpu" else []
    if not lifts:
        return _CachedBackward(out, input_names, args, params, training, block_name, monitor)
    return _LiftedBackward(out, input_names, args, params, training, block_name, lifts)


def _lifts(graph, input_names, args, params):
    """[(lift, position of its data among the inputs, its weight Parameter)] of the lookups to lift."""
    from ..executor_sparse import liftable         # not at import: `import dataflow` loads no executor
    ctx = args[0].context
    inputs = dict(zip(input_names, args))
    weights = {name: p for name, p in params.items() if p._grad_stype == "row_sparse" and p._stype == "default"
               and p.grad_req == "write" and p._data is not None}
    bound = dict(inputs, **{name: p.data(ctx) for name, p in weights.items()})
    wants_grad = {name: a for name, a in inputs.items() if a._entry is not None}
    reqs = dict({name: "write" for name in wants_grad}, **{name: "write" for name in weights})
    found = liftable(graph, bound, wants_grad, reqs)
    return [(lift, list(input_names).index(lift.data), weights[lift.weight]) for lift in found
            if lift.kind == "embedding" and lift.data in inputs and lift.weight in weights]


class _LiftedBackward:
    """`_CachedBackward` over the graph whose lifted lookups' outputs are inputs (see the Note)."""

    def __init__(self, out, input_names, args, params, training, block_name, lifts):
        from ..executor_sparse import without_lifted
        self._lifts = [(position, weight, _lookup_kwargs(lift.node.params)) for lift, position, weight in lifts]
        stand_ins = []          # arrays like the lookups' outputs, asking for their gradient, to compile the graph
        for lift, _, weight in lifts:
            with autograd.pause():
                array = nd.zeros(lift.shape, args[0].context, weight.dtype)
            autograd.mark_variables([array], [nd.zeros(lift.shape, args[0].context, weight.dtype)])
            stand_ins.append(array)
        graph = without_lifted(out, [lift for lift, _, _ in lifts])
        kept = {name: p for name, p in params.items() if all(p is not w for _, w, _ in self._lifts)}
        self._inner = _CachedBackward(graph, list(input_names) + [lift.name for lift, _, _ in lifts],
                                      list(args) + stand_ins, kept, training, block_name)
        self._ids = [id(weight._data) for _, weight, _ in self._lifts]

    @property
    def plans_built(self):
        return self._inner.plans_built

    def valid(self):
        return self._inner.valid() and self._ids == [id(w._data) for _, w, _ in self._lifts]

    def _lookups(self, args):
        ctx = args[0].context
        return [sparse_grad.embedding(weight, args[position], weight.data(ctx), **kwargs)
                for position, weight, kwargs in self._lifts]

    def __call__(self, args):
        return self._inner(list(args) + self._lookups(args))


def _lookup_kwargs(p):
    return {"input_dim": p.input_dim, "output_dim": p.output_dim, "dtype": p.dtype, "sparse_grad": True}
