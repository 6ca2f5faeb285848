"""An Executor bound to sparse arrays: csr / row_sparse arguments, row_sparse gradients, sparse outputs.

Note [sparse executors]
~~~~~~~~~~~~~~~~~~~~~~~
`Executor(...)` (and so `bind` / `simple_bind`) makes a `SparseExecutor` when an argument or gradient array is
sparse (`Executor.__new__`); `simple_bind` allocates sparse arrays where storage-type inference says so
(scheduler/infer_storage.py: the variables' `stype`, `stype_dict`, and MXNet's gradient rules, e.g. the weight of
`dot(csr, w)` and of `Embedding(sparse_grad=True)` get row_sparse gradients).

The values are computed by an ordinary compiled Executor over dense twins of the sparse arrays: each `forward`
writes the sparse arguments' values into their twins and runs the compiled Plan; `backward` runs it and stores each
row_sparse gradient from its dense twin, keeping MXNet's rows: for the weight of `dot(csr, w)` the columns the csr
data stores, for `Embedding(sparse_grad=True)` the indices it looked up (the rows MXNet's sparse kernels write,
zero or not), else the rows that are not all zero (a csr gradient: the entries that are not zero). Outputs that
inference makes sparse (`dot(csr.T, x)`) are converted after the forward. The values therefore equal the dense
graph's, and a node MXNet would run on dense copies (no sparse kernel for its storage types) warns as MXNet's
storage fallback does, once per message. What this does not give is sparse *speed*: a large csr batch or
row_sparse weight is densified once per forward, except for the one case the sparse linear models live on:

A `dot(csr data, weight)` or an `Embedding(data, weight, sparse_grad=True)` (or a `SparseEmbedding`, MXNet's same
op) whose operands are bound variables (the data without a gradient, the weight used by no other node) is lifted
out of the compiled graph (`Lifted`): the Plan binds its output as a variable, each forward computes it
imperatively (the csr kernel `sparse_ops.dot`; `mx.nd.Embedding`), and backward gives the weight's gradient from
the output's: `dot(csr.T, dy)` (the rows of the columns the batch stores) or dy summed per index looked up
(`sum_rows`), row_sparse with MXNet's rows. So a wide csr batch is never densified, and an embedding's gradient
costs the batch, not the vocabulary. Running every node through the sparse kernels is the next step.

Which nodes are lifted is decided in one place, `liftable`, and `without_lifted` makes the graph that binds their
outputs as variables; hybridized Gluon blocks lift their sparse Embeddings with the same two (gluon/cached_sparse.py,
Note [hybridized sparse embeddings]).
"""
import numpy as np

from ops.errors import MXNetError, ShapeError

from scheduler.graph import Entry, IndexedGraph, Node
from scheduler.infer_storage import CSR, DEFAULT, ROW_SPARSE, infer_storage, is_sparse_embedding

from ops.cpu.sparse_ops import retained_rows
from ops.cpu.sparse_update import sum_rows

from . import ndarray as mx_nd
from .executor import Executor, _grad_req_dict
from .ndarray import ndarray as nd
from .ndarray import sparse_ops
from .ndarray.ndarray import NDArray
from .ndarray.sparse import _rsp, zeros as sparse_zeros
from .ndarray.sparse.fallback import fallback_message, warn_once
from .symbol.symbol import Symbol


def is_sparse(array):
    return array is not None and array.stype != DEFAULT


def allocate(symbol, forward, ctx, stype_dict, arg_names, shapes, types, grad_reqs):
    """simple_bind's argument and gradient arrays: sparse where `stype_dict`, the variables' stypes and the
    gradient rules say so (None when every array is dense: the ordinary Executor then binds)."""
    stypes = infer_storage(forward, stype_dict)
    arg_stypes = [stypes.entries[forward.node_row_ptr[nid]] for nid in forward.argument_nodes]
    grad_stypes = [stypes.gradients[n] for n in arg_names]
    if all(s == DEFAULT for s in arg_stypes + grad_stypes):
        return None

    def make(stype, shape, dtype):
        return nd.zeros(shape, ctx, dtype) if stype == DEFAULT else sparse_zeros(stype, shape, ctx=ctx, dtype=dtype)
    args = [make(s, shape, t) for s, shape, t in zip(arg_stypes, shapes, types, strict=True)]
    grads = [make(s, shape, t) if grad_reqs[n] != "null" else None
             for n, s, shape, t in zip(arg_names, grad_stypes, shapes, types, strict=True)]
    return args, grads


class SparseExecutor(Executor):
    """An Executor with sparse arrays among its arguments or gradients (Note [sparse executors])."""

    def __init__(self, symbol, ctx, args, args_grad=None, grad_req="write", aux_states=None, _prepared=None):
        forward = _prepared[0] if _prepared else IndexedGraph(symbol._outputs)
        arg_names = [forward.nodes[i].name for i in forward.argument_nodes]
        aux_names = [forward.nodes[i].name for i in forward.aux_nodes]
        user_args = _by_position(args, arg_names)
        user_grads = _by_position(args_grad, arg_names)
        reqs = _grad_req_dict(grad_req, arg_names)
        self._symbol, self._ctx, self._forward = symbol, ctx, forward
        self._arg_names, self._aux_names, self._output_names = arg_names, aux_names, symbol.list_outputs()
        self._grad_req = reqs
        self.arg_arrays, self.grad_arrays = user_args, user_grads
        for name, grad in zip(arg_names, user_grads):
            if is_sparse(grad) and reqs[name] == "add":
                raise MXNetError("bind: grad_req 'add' is not supported for the %s gradient of %r (MXNet's sparse "
                                 "kernels write gradients only); use 'write'" % (grad.stype, name))
        self._lifted = liftable(forward, self.arg_dict, self.grad_dict, reqs)
        self._dense = self._bind_dense(aux_states, _prepared)
        self._monitor = None
        self.aux_arrays = [self._dense.aux_dict[n] for n in aux_names]
        self._stypes = infer_storage(forward, {n: a.stype for n, a in zip(arg_names, user_args) if a is not None})
        heads = [self._stypes.entries[eid] for eid in forward.heads]
        self.outputs = [o if s == DEFAULT else sparse_zeros(s, o.shape, ctx=ctx, dtype=o.dtype)
                        for o, s in zip(self._dense.outputs, heads)]
        # a retain output stores exactly the rows it keeps, zero or not (as MXNet's): the indices variable's values
        self._retained_rows = [_retain_indices(e) if o is not d else None
                               for e, o, d in zip(forward.head_entries, self.outputs, self._dense.outputs)]
        self._row_sources = {n: _row_sources(forward, n) for n, g in zip(arg_names, user_grads)
                             if is_sparse(g) and n in self._twins}

    def _bind_dense(self, aux_states, prepared):
        """The compiled Executor of the graph (less the lifted dots) over dense twins of the sparse arrays."""
        symbol, ctx = self._symbol, self._ctx
        if self._lifted:
            symbol, prepared = without_lifted(symbol, self._lifted), None
        names = symbol.list_arguments()
        self._twins = {n: _dense_twin(a) for n, a in self.arg_dict.items() if n in names}
        self._grad_twins = {n: _dense_twin(g) for n, g in self.grad_dict.items() if n in names}
        args, grads, reqs = dict(self._twins), dict(self._grad_twins), dict(self._grad_req)
        for lift in self._lifted:
            weight = self.arg_dict[lift.weight]
            args[lift.name] = nd.zeros(lift.shape, ctx, weight.dtype)
            wanted = self.grad_dict[lift.weight] is not None and self._grad_req[lift.weight] != "null"
            grads[lift.name] = nd.zeros(args[lift.name].shape, ctx, weight.dtype) if wanted else None
            reqs[lift.name] = "write" if wanted else "null"
        if isinstance(aux_states, (list, tuple)):
            aux_states = dict(zip(self._aux_names, aux_states))
        return Executor(symbol, ctx, args, grads, {n: reqs[n] for n in names}, aux_states, _prepared=prepared)

    def forward(self, is_train=False, **kwargs):
        """Run the forward pass (Note [sparse executors]); keyword arrays are copied into the arguments first."""
        for key, value in kwargs.items():
            target = self.arg_dict.get(key)
            if target is None:
                raise MXNetError("forward: %r is not an argument; the arguments are %s" % (key, self._arg_names))
            source = value if isinstance(value, NDArray) else nd.array(value, dtype=target.dtype)
            if source.shape != target.shape:
                raise ShapeError("forward: argument %r is bound with shape %s, got %s"
                                 % (key, target.shape, source.shape))
            source.copyto(target)
        for lift in self._lifted:
            data, weight = self.arg_dict[lift.data], self.arg_dict[lift.weight]
            if lift.kind == "dot":
                value = sparse_ops.dot(data, weight)
            else:
                attrs = {k: v for k, v in lift.node.attrs.items() if not k.startswith("__")}
                value = mx_nd.Embedding(data, weight, **attrs)
            value.copyto(self._dense.arg_dict[lift.name])
        for name, twin in self._twins.items():
            user = self.arg_dict[name]
            if user is not twin:
                user.copyto(twin)
        self._warn_fallbacks()
        self._dense.forward(is_train=is_train)
        for mine, dense, kept in zip(self.outputs, self._dense.outputs, self._retained_rows):
            if mine is dense:
                continue
            if kept is None:
                dense.tostype(mine.stype).copyto(mine)
                continue
            rows = np.unique(retained_rows(self.arg_dict[kept].asnumpy(), dense.shape[0]))
            _rsp(dense.asnumpy()[rows], rows, dense.shape, mine.context).copyto(mine)
        return self.outputs

    def backward(self, out_grads=None, is_train=True):
        """Run the backward pass; row_sparse gradients keep MXNet's rows (Note [sparse executors])."""
        if out_grads is not None:
            out_grads = [out_grads] if isinstance(out_grads, NDArray) else list(out_grads)
            out_grads = [g.tostype(DEFAULT) if is_sparse(g) else g for g in out_grads]
        self._dense.backward(out_grads, is_train=is_train)
        for lift in self._lifted:
            target = self.grad_dict[lift.weight]
            if target is None or self._grad_req[lift.weight] == "null":
                continue
            grad = self._lifted_gradient(lift)
            (grad if target.stype == ROW_SPARSE else grad.tostype(DEFAULT)).copyto(target)
        for name, twin in self._grad_twins.items():
            user = self.grad_dict[name]
            if user is twin or self._grad_req[name] == "null":
                continue
            if user.stype != ROW_SPARSE:        # csr: the entries that are not zero
                twin.tostype(user.stype).copyto(user)
                continue
            dense = twin.asnumpy()
            rows = self._gradient_rows(name, dense)
            _rsp(np.ascontiguousarray(dense[rows]), rows, dense.shape, user.context).copyto(user)

    def _lifted_gradient(self, lift):
        """The weight's row_sparse gradient from the lifted node's output gradient dy: dot(csr.T, dy), or dy's rows
        summed per index looked up (MXNet's rows: the indices, sorted and unique)."""
        data, dy = self.arg_dict[lift.data], self._dense.grad_dict[lift.name]
        if lift.kind == "dot":
            return sparse_ops.dot(data, dy, transpose_a=True)
        weight = self.arg_dict[lift.weight]
        ids = _checked_indices(data, lift.data, weight.shape[0])
        rows, values = sum_rows(ids, dy.asnumpy().reshape(len(ids), -1))
        return _rsp(values.astype(weight.dtype, copy=False), rows, weight.shape, weight.context)

    def _gradient_rows(self, name, dense):
        """The rows MXNet's sparse gradient kernels store for argument `name` (sorted, unique int64)."""
        sources = self._row_sources[name]
        if sources is None:         # some consumer's rows are not known from a bound input: the nonzero rows
            return np.flatnonzero(np.any(dense.reshape(len(dense), -1) != 0, axis=1)).astype(np.int64)
        rows = []
        for kind, input_name, limit in sources:
            value = self.arg_dict[input_name]
            if kind == "columns":           # dot(csr, w): the columns the csr data stores
                rows.append(value.indices.asnumpy() if is_sparse(value) else
                            np.flatnonzero(np.any(value.asnumpy() != 0, axis=0)))
            else:                           # Embedding: the indices looked up
                rows.append(_checked_indices(value, input_name, limit))
        return np.unique(np.concatenate(rows)).astype(np.int64) if rows else np.zeros(0, np.int64)

    def _warn_fallbacks(self):
        nodes, entries, row = self._forward.nodes, self._stypes.entries, self._forward.node_row_ptr
        for nid in self._stypes.fallback:
            node = nodes[nid]
            params = node.op.format_attrs({k: v for k, v in node.attrs.items() if not k.startswith("__")})
            outs = [entries[row[nid] + k] for k in range(node.num_outputs())]
            ins = [entries[eid] for eid in self._forward.inputs[nid]]
            warn_once(fallback_message(node.op.name, ins, outs, params, self._ctx.device_type))

    # -- what the dense executor does for the whole graph -------------------------------------------------------------
    def set_monitor_callback(self, callback, monitor_all=False):
        self._dense.set_monitor_callback(callback, monitor_all)

    def memory_stats(self):
        return self._dense.memory_stats()

    def debug_str(self):
        return self._dense.debug_str()


def _checked_indices(data, name, limit):
    """The indices an Embedding looked up, flat int64; MXNet's sparse gradient refuses any outside [0, limit)."""
    indices = data.asnumpy().astype(np.int64).ravel()
    outside = indices[(indices < 0) | (indices >= limit)]
    if outside.size:
        raise MXNetError("Embedding (sparse_grad): input %r holds indices outside [0, %d): %s; MXNet's sparse "
                         "gradient needs them in range" % (name, limit, outside))
    return indices


def _by_position(arrays, names):
    if isinstance(arrays, dict):
        return [arrays.get(n) for n in names]
    return [None] * len(names) if arrays is None else list(arrays)


def _dense_twin(array):
    """The dense array the compiled executor binds for `array`: the array itself when it is dense."""
    if not is_sparse(array):
        return array
    return nd.zeros(array.shape, array.context, array.dtype)


def _retain_indices(entry):
    """The name of the variable holding the indices of a `_sparse_retain` output entry, else None."""
    node = entry.node
    if node.is_variable or node.op.name != "_sparse_retain" or not node.inputs[1].node.is_variable:
        return None
    return node.inputs[1].node.name


def _row_sources(forward, name):
    """Where the rows of argument `name`'s row_sparse gradient come from: [(kind, input variable, limit)], one per
    consumer, or None when some consumer's rows cannot be read off a bound input."""
    if any(e.node.is_variable and e.node.name == name for e in forward.head_entries):
        return None         # an output too: its head gradient reaches every row
    sources = []
    for node in forward.nodes:
        for pos, entry in enumerate(node.inputs):
            if not (entry.node.is_variable and entry.node.name == name):
                continue
            other = node.inputs[0].node
            if not other.is_variable:
                return None
            if node.op.name == "dot" and pos == 1:
                sources.append(("columns", other.name, None))
            elif node.op.name in ("Embedding", "_contrib_SparseEmbedding") and pos == 1:
                sources.append(("indices", other.name, node.params.input_dim))
            else:
                return None
    return sources


class Lifted:
    """A node computed outside the compiled graph (Note [sparse executors]): `kind` 'dot' or 'embedding', `data`
    and `weight` the bound variables' names, `name` the variable standing for its output, `shape` its shape."""

    def __init__(self, kind, node, data, weight, name, shape):
        self.kind, self.node, self.data, self.weight, self.name, self.shape = kind, node, data, weight, name, shape


def liftable(forward, args, grads, reqs):
    """[`Lifted`] of the nodes of IndexedGraph `forward` to lift, given the bound arrays `args` and `grads` and the
    gradient requests `reqs` (dicts by variable name): `dot(csr variable, weight variable)` without transposes or
    forward_stype, and `Embedding(variable, weight variable, sparse_grad=True)` or SparseEmbedding; no gradient
    asked of the data, and a weight no other node (or output) reads, whose gradient is written, not added."""
    readers = {}
    for entry in [e for node in forward.nodes for e in node.inputs] + list(forward.head_entries):
        readers[id(entry.node)] = readers.get(id(entry.node), 0) + 1
    taken = set(args)
    lifted = []
    for node in forward.nodes:
        if node.is_variable or not (node.op.name == "dot" or is_sparse_embedding(node)) or len(node.inputs) != 2:
            continue
        data, weight = (e.node for e in node.inputs)
        lhs, rhs = args.get(data.name), args.get(weight.name)
        if not (data.is_variable and weight.is_variable) or data is weight or lhs is None or rhs is None:
            continue
        if (grads.get(data.name) is not None and reqs[data.name] != "null") or readers[id(weight)] != 1 or \
                reqs.get(weight.name) == "add" or len(rhs.shape) != 2:
            continue
        p = node.params
        if node.op.name == "dot":
            if p.transpose_a or p.transpose_b or getattr(p, "forward_stype", None) or \
                    getattr(lhs, "stype", None) != CSR or lhs.shape[1] != rhs.shape[0]:
                continue    # (a shape mismatch is left to the compiled graph's inference, which names it)
            kind, shape = "dot", (lhs.shape[0], rhs.shape[1])
        else:
            if is_sparse(lhs) or is_sparse(rhs) or rhs.shape != (p.input_dim, p.output_dim):
                continue
            kind, shape = "embedding", tuple(lhs.shape) + (p.output_dim,)
        name = node.name + "_output"
        while name in taken:
            name += "_"
        taken.add(name)
        lifted.append(Lifted(kind, node, data.name, weight.name, name, shape))
    return lifted


def without_lifted(symbol, lifted):
    """A copy of `symbol` in which the output of each node of `lifted` (from `liftable`) is a variable named
    `lift.name` (the lifted nodes and, where nothing else reads them, their operands leave the graph)."""
    graph = IndexedGraph(symbol._outputs)
    stand_in = {id(lift.node): lift.name for lift in lifted}
    copies = {}
    for node in graph.nodes:
        if id(node) in stand_in:
            copies[id(node)] = Node(None, stand_in[id(node)])
            continue
        copy = Node(node.op, node.name, node.attrs, node.params,
                    [Entry(copies[id(e.node)], e.index, e.version) for e in node.inputs])
        copy.version = node.version
        copies[id(node)] = copy
    return Symbol([Entry(copies[id(e.node)], e.index, e.version) for e in symbol._outputs])
