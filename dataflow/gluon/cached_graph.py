"""MXNet's CachedOp for Gluon: a traced HybridBlock graph compiled once per input signature.

`_CachedGraph` runs the forward only (a Plan whose input and output buffers are rebound on each call);
`_CachedBackward`, used under `autograd.record()`, compiles the graph with its gradients and records one node per
call whose gradient runs that call's backward steps. Parameters are bound per context: the arrays of the context
the inputs live on.

`PlanCache` keeps a block's compiled graphs, one per signature, least recently used first out: each holds an arena
sized for its input shapes, so a block fed many batch sizes would otherwise keep one arena per size forever.
"""
import collections
import functools
import os
import threading
import weakref

import numpy as np

from ops import autodiff
from ops.cpu.common import assign
from ops.errors import MXNetError
from ops.registry import OpContext, OpDef, Params

from scheduler import build, segments as backward_segments
from scheduler.engine import get_engine
from scheduler.graph import Entry, IndexedGraph, Node
from scheduler.plan import Plan, bind_outputs, written_variables

from .. import autograd, monitoring, ndarray as nd_module
from ..context import current_context
from ..ndarray.ndarray import NDArray, _alloc


class PlanCache:
    """A HybridBlock's compiled graphs by signature, at most `DATAFLOW_CACHED_GRAPH_LIMIT` (default 16; 0: no
    limit) of them: a lookup makes its entry the most recent, and a new entry beyond the limit drops the least
    recently used one, whose arena is freed once no call in flight still runs it. (MXNet's CachedOp keeps every
    signature; a rebuilt graph costs one inference and planning pass, nothing is numba-compiled again.)"""

    def __init__(self, limit=None):
        if limit is None:
            text = os.environ.get("DATAFLOW_CACHED_GRAPH_LIMIT", "16")
            try:
                limit = int(text)
            except ValueError:
                raise MXNetError("DATAFLOW_CACHED_GRAPH_LIMIT must be an integer, got %r" % text) from None
        self.limit = max(0, limit)
        self._entries = collections.OrderedDict()

    def get(self, key):
        cached = self._entries.get(key)
        if cached is not None:
            self._entries.move_to_end(key)
        return cached

    def __setitem__(self, key, cached):
        self._entries[key] = cached
        self._entries.move_to_end(key)
        while self.limit and len(self._entries) > self.limit:
            self._entries.popitem(last=False)

    def __len__(self):
        return len(self._entries)

    def __contains__(self, key):
        return key in self._entries

    def clear(self):
        self._entries.clear()


def _one_variable_per_name(heads):
    """(heads, their IndexedGraph) of the graph to bind: MXNet binds a graph's inputs by name, so variables sharing a
    name are one input. A Gluon parameter used in two control flow subgraphs has a node per use (as MXNet's export
    writes it): then the heads of a copy where each name is one variable node."""
    g = IndexedGraph(heads)
    names = [g.nodes[nid].name for nid in g.arg_nodes]
    if len(set(names)) == len(names):
        return heads, g
    first, copies = {}, {}
    for node in g.nodes:
        if node.is_variable:
            copies[id(node)] = first.setdefault(node.name, node)
        else:
            copies[id(node)] = Node(node.op, node.name, node.attrs, node.params,
                                    [Entry(copies[id(e.node)], e.index, e.version) for e in node.inputs])
    merged = [Entry(copies[id(e.node)], e.index, e.version) for e in heads]
    return merged, IndexedGraph(merged)


class _CachedGraph:
    """A traced graph compiled for one input signature: a Plan whose input and output buffers are rebound on
    each call (MXNet's CachedOp). When every head has its own output array, a call is one engine push of the
    Plan's `Binder` (scheduler/compile.py, Note [the bound call]): once compiled, one numba call."""

    def __init__(self, out, input_names, args, params, training, block_name, monitor=None):
        ctx = args[0].context if args else None
        self._params = {name: p.data(ctx) for name, p in params.items()}
        known_shapes = {n: a.shape for n, a in zip(input_names, args)}
        known_dtypes = {n: a._data.dtype for n, a in zip(input_names, args)}
        for name, array in self._params.items():
            known_shapes[name], known_dtypes[name] = array.shape, array._data.dtype
        heads, forward = _one_variable_per_name(out._outputs)
        lowered = build.lower(heads, known_shapes, known_dtypes, forward=forward, fold=not training and monitor is None)
        g, shapes, dtypes = lowered.graph, lowered.shapes, lowered.dtypes
        names = {g.nodes[nid].name: g.node_row_ptr[nid] for nid in g.arg_nodes}
        missing = [n for n in names if n not in self._params and n not in input_names]
        if missing:
            raise MXNetError("%s: the graph needs inputs %s that are neither inputs nor parameters"
                             % (block_name, missing))
        self._input_eids = [names.get(n) for n in input_names]
        self._heads = list(g.heads)
        bound = {names[n]: a._data for n, a in self._params.items() if n in names}
        for eid, a in zip(self._input_eids, args):
            if eid is not None:
                bound[eid] = a._data
        self._out_specs = [(tuple(shapes[e]), dtypes[e]) for e in self._heads]
        device = args[0].context if args else None
        # a head that is an input, a parameter or an earlier head is copied into its array (`_copy_of`)
        copies, self._copy_of = bind_outputs(self._heads, [_alloc(shape, dtype, device or current_context())
                                                           for shape, dtype in self._out_specs], bound)
        self._monitor = monitor             # (callback, monitor_all) of register_op_hook
        if monitor is not None:
            monitoring.own_buffers(g, shapes, dtypes, bound, lambda s, t: _alloc(s, t, device or current_context()))
            self._points = monitoring.monitored_entries(g, range(len(g.nodes)), monitor[1])
        self._plan = lowered.plan(bound, copies, ctx=device)
        self._ctx = OpContext(is_train=training, computes_gradients=False)    # called outside autograd.record()
        self._param_vars = [a._var for a in self._params.values()]
        self._written_vars = [self._params[g.nodes[i].name]._var for i in written_variables(g)
                              if g.nodes[i].name in self._params]       # aux states, a fixed gamma
        self._var = get_engine().new_var("cached graph of %s" % block_name)    # one run of the arena at a time
        # a small graph runs in the calling thread when its inputs are ready (a thread hop costs more than it)
        self._small = self._plan.arena.nbytes + sum(int(np.prod(s)) * np.dtype(t).itemsize
                                                    for s, t in self._out_specs) <= nd_module.ndarray._INLINE_BYTES
        self._ids = {n: id(p._data) for n, p in params.items()}
        self._params_dict = params
        self._reads = [a._var for a in args] + self._param_vars     # the first len(args) are replaced per call
        self._writes = [None] * len(self._out_specs) + [self._var] + self._written_vars
        self._run = None
        if all(c is None for c in self._copy_of):      # every head is bound to its output array
            from scheduler.compile import binder
            eids = [e for e in self._input_eids if e is not None] + self._heads
            self._run = binder(self._plan, eids, fresh=range(len(eids) - len(self._heads), len(eids)))

    def valid(self):
        """False when a parameter's array was replaced (re-initialised), so the Plan must be rebuilt."""
        return all(id(p._data) == self._ids.get(n) for n, p in self._params_dict.items() if n in self._ids)

    def __call__(self, args):
        if self._run is not None and self._monitor is None:
            return self._call_bound(args)
        device = args[0]._ctx
        outputs = [NDArray(_alloc(shape, dtype, device), None, device) for shape, dtype in self._out_specs]
        plan, ctx = self._plan, self._ctx
        input_pairs = [(eid, a._data) for eid, a in zip(self._input_eids, args) if eid is not None]
        output_pairs = [(eid, copy, o._data) for eid, copy, o in zip(self._heads, self._copy_of, outputs)]

        def run():
            bound = plan.arrays
            for eid, array in input_pairs:
                if bound[eid] is not array:     # a loop feeding the same array binds it once
                    plan.rebind(eid, array)
            for eid, copy, array in output_pairs:
                if copy is None:
                    plan.rebind(eid, array)
                else:
                    plan.rebind_copy(copy, array)
            plan.run(ctx, segment="forward")
        reads = [a._var for a in args]
        reads += self._param_vars
        writes = [o._var for o in outputs]
        writes.append(self._var)
        if self._written_vars:
            writes += self._written_vars
        get_engine().push(run, reads, writes, "cached graph", inline=self._small)
        if self._monitor is not None:
            nd_module.waitall()
            monitoring.report(self._points, plan.arrays, device, self._monitor[0], with_op_name=True)
        return outputs[0] if len(outputs) == 1 else outputs

    def runner(self):
        """The fastest way to call this graph on a list or tuple of NDArrays (what `_LastCall` keeps)."""
        return self._call_bound if self._run is not None and self._monitor is None else self.__call__

    def _call_bound(self, args):
        """`__call__` when every head has its own output array: one engine push of the Plan's `Binder`."""
        device = args[0]._ctx
        outputs = [NDArray(_alloc(shape, dtype, device), None, device) for shape, dtype in self._out_specs]
        reads, writes = self._reads.copy(), self._writes.copy()
        arrays = []
        for k, a in enumerate(args):
            reads[k] = a._var
            if self._input_eids[k] is not None:     # an input the graph never reads is not bound
                arrays.append(a._data)
        for k, o in enumerate(outputs):
            writes[k] = o._var
            arrays.append(o._data)
        get_engine().push(functools.partial(self._run, self._ctx, arrays, "forward"), reads, writes, "cached graph",
                          inline=self._small)
        return outputs[0] if len(outputs) == 1 else outputs


# Note [the backward reads the outputs]: a Concat that makes a graph output writes its branches straight into the
# caller's output array (Concat elision, scheduler/elision.py), so the backward reads those branch values back from
# that array. The backward node therefore takes the call's outputs as inputs too (its kernel ignores them): the
# engine then orders a later write into an output (`y[:] = 0` right after `y.backward()`) after the backward, and
# the gradients are MXNet's whatever the caller does with its outputs afterwards.
def _outputs_read(n):
    return tuple("output%d" % k for k in range(n))


class _CachedBackward:
    """A traced graph compiled with its gradients, for calls under `autograd.record()` (MXNet's CachedOp).

    The graph, shapes and memory plan are built once per signature. Each call runs the forward steps on a Plan
    instance of its own (its arena keeps what backward needs, so two calls before one backward do not collide) and
    records one node on the autograd graph; that node's gradient is a `_backward_CachedOp` node whose kernel runs
    the same instance's backward steps.

    Instances are pooled (MXNet's CachedOp pools its storage the same way): a call takes an idle one, rebinding
    its inputs and outputs, or builds one; a `_Lease` gives it back once the call is over. A fresh multi-MB arena
    each call would pay its first-touch page faults every step."""

    _IDLE_LIMIT = 2     # idle Plans kept per signature: a training step needs one, gradient accumulation two

    def __init__(self, out, input_names, args, params, training, block_name, monitor=None):
        heads, forward = _one_variable_per_name(list(out._outputs))
        variables = {forward.nodes[i].name: forward.nodes[i] for i in forward.arg_nodes}
        ctx = args[0].context if args else None
        self._params = {name: p.data(ctx) for name, p in params.items() if name in variables}
        self._param_objs = params
        self._names = list(input_names) + list(self._params)
        arrays = list(args) + list(self._params.values())
        missing = [n for n in variables if n not in self._names]
        if missing:
            raise MXNetError("%s: the graph needs inputs %s that are neither inputs nor parameters"
                             % (block_name, missing))
        needs = [a._entry is not None for a in args] + [params[n].grad_req != "null" for n in self._params]
        self._wanted = [n for n, need in zip(self._names, needs) if need and n in variables]
        known_shapes = {n: a.shape for n, a in zip(self._names, arrays)}
        known_dtypes = {n: a._data.dtype for n, a in zip(self._names, arrays)}
        self._head_nodes = [Node(None, "_head_grad%d" % k) for k in range(len(heads))]
        lowered = build.lower(heads, known_shapes, known_dtypes, [Entry(variables[n]) for n in self._wanted],
                              [Entry(n) for n in self._head_nodes], forward)
        g = self._graph = lowered.graph
        self._shapes, self._dtypes = lowered.shapes, lowered.dtypes
        by_name = lowered.variables()
        self._input_eids = [by_name.get(n) for n in self._names]
        self._head_grad_eids = list(lowered.head_grads)
        self._heads = list(g.heads[:len(heads)])
        self._grad_eids = dict(zip(self._wanted, lowered.gradients, strict=True))
        external = {e for e in self._input_eids + self._head_grad_eids + self._heads if e is not None}
        self._own = [e for e in set(self._grad_eids.values()) if e is not None and e not in external]
        self._monitor = monitor             # register_op_hook: every entry in its own buffer, forward reported
        if monitor is not None:
            self._own = [e for e in range(g.num_entries) if e not in external and e not in by_name.values()]
            forward_ops = [nid for nid, node in enumerate(g.nodes) if not node.is_variable]
            self._points = monitoring.monitored_entries(g, forward_ops[:sum(1 for n in forward.nodes
                                                                            if not n.is_variable)], monitor[1])
        # the heads `bind_outputs` binds to their output arrays (neither an input nor a repeated head)
        bound_heads = {e for k, e in enumerate(self._heads) if e not in self._input_eids and e not in self._heads[:k]}
        self._memory = lowered.memory_plan(external | set(self._own), into=lowered.bound_outputs(bound_heads))
        self._skipped = lowered.unread_gradient_outputs(external | set(self._own))     # req NULL: nobody reads them
        self._n_forward = lowered.n_forward
        self._training = training
        self._device = args[0].context if args else current_context()
        # the parameters the forward steps write (a fixed gamma, aux states) and the backward steps write (the
        # moving stats BatchNorm's backward updates): the forward push and the `_backward_CachedOp` node declare them
        self._forward_written, self._backward_written = (
            [g.nodes[i].name for i in nids if g.nodes[i].name in self._params]
            for nids in (written_variables(g, 0, self._n_forward), written_variables(g, self._n_forward)))
        self._ids = {n: id(self._param_objs[n]._data) for n in self._params}
        self._idle = []             # Plans no call holds, ready for the next one
        self._out = weakref.WeakSet()   # the `_Lease`s of the Plans that calls hold
        self._lock = threading.Lock()
        self._copy_of = None        # per head: the index of the copy filling its output, None where bound to it
        self.plans_built = 0
        self._finish = _finishing_steps(g, self._grad_eids)     # Note [segmented backward]
        self._n_steps = sum(1 for node in g.nodes if node.op is not None)
        self._segment_cache = {}

    def valid(self):
        """False when a parameter's arrays were replaced (re-initialised, cast), so the Plan must be rebuilt."""
        return all(id(self._param_objs[n]._data) == i for n, i in self._ids.items())

    def _buffer(self, eid):
        return _alloc(self._shapes[eid], self._dtypes[eid], self._device)

    def __call__(self, args):
        arrays = list(args) + [self._params[n] for n in self._names[len(args):]]
        outputs = [NDArray(self._buffer(e), ctx=args[0].context) for e in self._heads]
        plan = self._take(arrays, outputs)
        lease = _Lease(self, plan)
        ctx, stop = OpContext(is_train=self._training), self._n_forward

        def forward():
            try:
                plan.run(ctx, 0, stop, "forward")
            finally:
                lease.done()
        reads = [a._var for a in arrays]
        writes = [o._var for o in outputs] + [self._params[n]._var for n in self._forward_written]
        lease.hold()
        get_engine().push(forward, reads, writes, "cached graph forward")
        if self._monitor is not None:
            nd_module.waitall()
            monitoring.report(self._points, plan.arrays, args[0].context, self._monitor[0], with_op_name=True)
        node = Node(self._forward_op(plan, lease), "_CachedOp", params=Params({}))
        lease.node = weakref.ref(node)
        weakref.finalize(node, lease.close).atexit = False     # no backward can be asked for any more
        autograd.record_op(node, arrays, outputs)
        with self._lock:
            self._out.add(lease)
        return outputs[0] if len(outputs) == 1 else outputs

    def _take(self, arrays, outputs):
        """A Plan for one call, bound to its input and output arrays: an idle one rebound, or a new one."""
        with self._lock:
            if not self._idle:      # a call whose backward ran and freed its graph (no retain_graph) is over
                for lease in list(self._out):
                    if lease.node is not None and (lease.node() is None or lease.node().recorded is None):
                        lease.close_locked()
            plan = self._idle.pop() if self._idle else None
        if plan is None:
            bound = {e: a._data for e, a in zip(self._input_eids, arrays) if e is not None}
            copies, self._copy_of = bind_outputs(self._heads, [o._data for o in outputs], bound)    # a repeated
            # head, an input: copied. Head gradients and the gradients no caller binds live with the Plan.
            bound.update({e: self._buffer(e) for e in self._head_grad_eids + self._own if e is not None})
            from scheduler.compile import compile_plan     # every call's Plan shares the compiled ranges of the first
            self.plans_built += 1
            return compile_plan(Plan(self._graph, self._shapes, self._dtypes, self._memory, bound, copies,
                                     self._skipped, ctx=self._device))
        for eid, a in zip(self._input_eids, arrays):
            if eid is not None and plan.arrays[eid] is not a._data:
                plan.rebind(eid, a._data)
        for eid, copy, o in zip(self._heads, self._copy_of, outputs):
            if copy is None:
                plan.rebind(eid, o._data)
            else:
                plan.rebind_copy(copy, o._data)
        return plan

    def _give_back(self, plan):
        """Keep `plan` for a later call (under `_lock`), unless enough are idle already."""
        if len(self._idle) < self._IDLE_LIMIT:
            self._idle.append(plan)

    def _forward_op(self, plan, lease):
        """The OpDef of one recorded call: its gradient runs `plan`'s backward steps."""
        n_heads, names, wanted = len(self._heads), self._names, set(self._wanted)
        grads = slice(n_heads, n_heads + len(names))
        backward = OpDef("_backward_CachedOp", arguments=tuple("head_grad%d" % k for k in range(n_heads)) +
                         tuple(names) + _outputs_read(n_heads), outputs=tuple("%s_grad" % n for n in names),
                         infer_shape=lambda p, ins, outs: (list(ins), list(ins[grads])),
                         infer_type=lambda p, ins, outs: (list(ins), list(ins[grads])),
                         writes_arguments=lambda p: self._backward_written,
                         cpu=self._backward_kernel(plan, lease), gpu=self._backward_kernel(plan, lease))

        def gradient(p, ins, outs, dys):
            dys = [dy if dy is not None else autodiff.zeros_like(o) for dy, o in zip(dys, outs)]
            segments = self._segments()
            if len(segments) > 1:
                return self._segmented_gradient(plan, lease, segments, dys, ins, outs)
            lease.hold()        # until the backward kernel has run (see `_Lease`)
            grads = autodiff.apply(backward, *dys, *ins, *outs)      # Note [the backward reads the outputs]
            grads = grads if isinstance(grads, list) else [grads]
            return [g if n in wanted else None for n, g in zip(names, grads)]
        shapes = [tuple(self._shapes[e]) for e in self._heads]
        return OpDef("_CachedOp", arguments=tuple(names), outputs=tuple("output%d" % k for k in range(n_heads)),
                     infer_shape=lambda p, ins, outs: (list(ins), shapes), gradient=gradient)

    def _segments(self):
        """[(first step, stop, indices of the names whose gradients it finishes)] of this graph's backward under the
        current setting (Note [segmented backward]); one range when not cut."""
        how = backward_segments.setting()
        cached = self._segment_cache.get(how)
        if cached is not None:
            return cached
        start, stop = self._n_forward, self._n_steps
        finishes = [(self._finish[n], int(np.prod(self._shapes[self._grad_eids[n]])) *
                     np.dtype(self._dtypes[self._grad_eids[n]]).itemsize)
                    for n in self._wanted if n in self._params and self._finish.get(n) is not None]
        cached = []
        for a, b in backward_segments.ranges(start, stop, finishes, how):
            published = [k for k, n in enumerate(self._names) if n in self._grad_eids
                         and a <= min(max(self._finish.get(n, stop - 1), start), stop - 1) < b]
            if cached and not published and b == stop:      # the last push must give a gradient: merged
                cached[-1] = (cached[-1][0], b, cached[-1][2])
            else:
                cached.append((a, b, published))
        self._segment_cache[how] = cached
        return cached

    def _segmented_gradient(self, plan, lease, segments, dys, ins, outs):
        """The gradients of one call as a chain of `_backward_CachedOp` nodes, one per segment of the backward
        steps, each writing the gradients its steps finish (Note [segmented backward])."""
        names, n_heads = self._names, len(self._heads)
        grads, token = [None] * len(names), []
        for i, (start, stop, published) in enumerate(segments):
            last = i == len(segments) - 1
            shapes = lambda p, ins, outs, published=published, last=last: (      # noqa: E731
                list(ins), [ins[n_heads + k] for k in published] + ([] if last else [(1,)]))
            types = lambda p, ins, outs, published=published, last=last: (       # noqa: E731
                list(ins), [ins[n_heads + k] for k in published] + ([] if last else [np.dtype(np.float32)]))
            kernel = self._backward_kernel(plan, lease, start, stop, [self._grad_eids.get(names[k]) for k in published],
                                           first=i == 0, token=not last)
            op = OpDef("_backward_CachedOp", arguments=tuple("head_grad%d" % k for k in range(n_heads)) +
                       tuple(names) + (("token",) if token else ()) + _outputs_read(n_heads),
                       outputs=tuple("%s_grad" % names[k] for k in published) + (() if last else ("token",)),
                       infer_shape=shapes, infer_type=types, writes_arguments=lambda p: self._backward_written,
                       cpu=kernel, gpu=kernel)
            op.ends_push = not last         # autograd's planned backward ends a push after this node
            lease.hold()        # until this segment's kernel has run (see `_Lease`)
            out = autodiff.apply(op, *dys, *ins, *token, *outs)
            out = out if isinstance(out, list) else [out]
            for k, grad in zip(published, out):
                grads[k] = grad
            token = [] if last else [out[-1]]
        return grads

    def _backward_kernel(self, plan, lease, start=None, stop=None, grad_eids=None, first=True, token=False):
        """The kernel running `plan`'s backward steps [start, stop) (default: all of them) and writing the gradients
        `grad_eids` (default: every name's) into its outputs, then a token after them when `token`; the `first`
        segment copies the head gradients in."""
        n_heads, head_grad_eids = len(self._heads), self._head_grad_eids
        start = self._n_forward if start is None else start
        if grad_eids is None:
            grad_eids = [self._grad_eids.get(n) for n in self._names]
        grad_eids = list(grad_eids) + [None] * token          # a token is written with zeros

        def kernel(ctx, p, inputs, outputs, req):
            try:
                run(ctx, inputs, outputs, req)
            finally:
                lease.done()

        def run(ctx, inputs, outputs, req):
            if plan.device is not None:         # on a GPU: device copies
                from ops.cuda import common
                if first:
                    for eid, dy in zip(head_grad_eids, inputs[:n_heads]):
                        if eid is not None:
                            common.copy_into(dy, plan.arrays[eid])
                plan.run(ctx, start, stop)
                for out, r, eid in zip(outputs, req, grad_eids):
                    common.copy_into(plan.arrays[eid], out, r) if eid is not None else common.fill(out, 0, r)
                return
            if first:
                for eid, dy in zip(head_grad_eids, inputs[:n_heads]):
                    if eid is not None:
                        np.copyto(plan.arrays[eid], dy)
            plan.run(ctx, start, stop)
            for out, r, eid in zip(outputs, req, grad_eids):
                assign(out, r, plan.arrays[eid] if eid is not None else 0)
        return kernel


def _finishing_steps(g, grad_eids):
    """{name: index of the Plan step computing its gradient entry} for the names in `grad_eids` whose gradient an op
    computes (Plan steps are the graph's op nodes in order)."""
    step_of, owner = {}, {}
    for nid, node in enumerate(g.nodes):
        if node.op is not None:
            step_of[nid] = len(step_of)
        for eid in range(g.node_row_ptr[nid], g.node_row_ptr[nid + 1]):
            owner[eid] = nid
    return {n: step_of[owner[e]] for n, e in grad_eids.items() if e is not None and owner.get(e) in step_of}


class _Lease:
    """One recorded call's hold on its Plan. The Plan goes back to its `_CachedBackward`'s pool once no backward
    can be asked for any more (`close`: the call's node is gone, a weakref finalizer; or a backward freed its
    recorded values, which the next call notices) and no engine op that runs it is pending: each push that runs it
    (the forward; each backward, from the moment its gradient rule built the `_backward_CachedOp` node, which is
    before that backward frees anything) holds it and lets go when it ends, on the engine's worker. So a Plan is
    reused only after every op that reads or writes its arena is done, whatever order the node dies and the ops
    end in. A gradient node built but never run keeps its Plan out of the pool: freed as any object, not reused."""
    __slots__ = ("owner", "plan", "pending", "closed", "node", "__weakref__")

    def __init__(self, owner, plan):
        self.owner, self.plan, self.pending, self.closed, self.node = owner, plan, 0, False, None

    def hold(self):
        with self.owner._lock:
            self.pending += 1

    def done(self):
        with self.owner._lock:
            self.pending -= 1
            self._release()

    def close(self):
        with self.owner._lock:
            self.close_locked()

    def close_locked(self):
        """`close` with the owner's lock held."""
        self.closed = True
        self._release()

    def _release(self):
        if self.closed and self.pending == 0 and self.plan is not None:
            self.owner._out.discard(self)
            self.owner._give_back(self.plan)
            self.plan = None
