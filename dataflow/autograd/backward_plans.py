"""The planned backward of a recorded graph, and the cache that keeps it across steps (issues 15 and 22).

Note [cached backward plans]
~~~~~~~~~~~~~~~~~~~~~~~~~~~~
A training loop that is not hybridized records the same graph every step: the same ops with the same params on
values of the same shapes. Lowering that graph (gradient pass, inference), planning its memory and building the
Plan cost far more than running a small backward, so `backward()`/`grad()` keep the planned backward in an LRU
(`LIMIT` entries) keyed by the recorded graph's signature (`signature`): per node its op, params, input entries
and the shapes and dtypes of its recorded values; the heads, the entries differentiated and their grad modes, the
head gradients' and target gradients' dtypes, train mode, context and the backward segmentation setting. Recorded
values are always dense (sparse ops record their dense form), so their storage type is fixed.

The plan of a graph is made on a copy of its nodes without their recorded values (`_copy`): the cache must not
keep a step's activations (or, with `retain_graph`, its whole graph) alive. A `BackwardPlan` knows which entries
are bound to what the caller gives per call: recorded values, head gradients, target gradient arrays, and the
copies of gradients that are some other array's value. Each run binds the new arrays into its Plan (`Plan.rebind`)
inside the pushed engine op, after the previous run of the same Plan ended (every push writes the plan's own
var, as a cached graph's does), declares the new arrays' vars as reads and writes (BatchNorm's moving stats among
the writes; segmented pushes through scheduler/segments.py as before), and drops them again after the run
(`Plan.release`). A backward whose arena and gradients fit `_INLINE_BYTES` runs in the calling thread when its
inputs are ready, as small imperative ops and cached graphs do. A kept Plan is compiled (`scheduler/compile.py`:
its backward range from its second run); a one-off plan (cache off, or a graph that cannot be kept) is not.

Not cached, planned per call as before: graphs holding an op made for one call (a hybridized block's `_CachedOp`,
an `autograd.Function`) or an op keeping state per call (Custom), and `create_graph` (run imperatively).
`DATAFLOW_AUTOGRAD_PLAN_CACHE=0` turns the cache off; `DATAFLOW_DEBUG=1` prints one line per miss.
"""
import collections
import os
import threading


from ops import registry
from ops.registry import OpContext

from scheduler import build, segments
from scheduler.engine import get_engine
from scheduler.graph import Entry, IndexedGraph, Node
from scheduler.plan import Copy, written_variables

from .function import FunctionBackward
from .tape import Recorded, _names

LIMIT = 64      # backward plans kept, least recently used out

_plans = collections.OrderedDict()      # signature -> BackwardPlan
_lock = threading.Lock()
_counts = {"hits": 0, "misses": 0}
_registered = set()     # OpDefs known to be the registry's own (a per-call OpDef never is)


def ones_like(head):
    """The default head gradient: ones of the head's shape, dtype and context."""
    from ..ndarray.creation import ones_of
    return ones_of(head.shape, head.context, head.dtype)


def enabled():
    return os.environ.get("DATAFLOW_AUTOGRAD_PLAN_CACHE", "1") != "0"


def cache_info():
    """{"hits", "misses", "size"}: how often a backward found its plan here, and how many are kept."""
    with _lock:
        return dict(_counts, size=len(_plans))


def clear():
    """Forget every kept plan (and the counts)."""
    with _lock:
        _plans.clear()
        _counts.update(hits=0, misses=0)


def signature(forward, wrt_eids, modes, seeds, targets, train_mode, ctx):
    """The key of the backward of `forward` (the recorded graph's IndexedGraph) for these arguments, or None when
    the graph cannot be cached (an op made for one call, or keeping state per call)."""
    registered = _registered
    key = [bool(train_mode), ctx.device_type, ctx.device_id, segments.setting(), tuple(forward.heads),
           tuple(wrt_eids), tuple(modes), tuple(s._data.dtype for s in seeds),
           tuple(t._data.dtype for t in targets)]
    append = key.append
    inputs = forward.inputs
    for nid, node in enumerate(forward.nodes):
        op = node.op
        if op is not None and op not in registered:
            if op.state_per_call or not registry.exists(op.name) or registry.get(op.name) is not op:
                return None
            registered.add(op)
        arrays = node.recorded.arrays
        if len(arrays) == 1:
            a = arrays[0]
            append((op, node.params, tuple(inputs[nid]), a.shape, a.dtype))
        else:
            append((op, node.params, tuple(inputs[nid]), tuple((a.shape, a.dtype) for a in arrays)))
    return tuple(key)


def lookup(key):
    """The BackwardPlan kept for `key`, or None (counted as a miss)."""
    with _lock:
        plan = _plans.get(key)
        if plan is None:
            _counts["misses"] += 1
            return None
        _plans.move_to_end(key)
        _counts["hits"] += 1
        return plan


def keep(key, plan):
    with _lock:
        _plans[key] = plan
        _plans.move_to_end(key)
        while len(_plans) > LIMIT:
            _plans.popitem(last=False)


class BackwardPlan:
    """The gradient steps of one recorded graph, planned with every per-call array bound by position (see the
    Note). `run` binds one call's arrays and pushes them.

    Built from `forward` (the recorded graph), `wrt` (its Entries to differentiate), `seeds` (one head-gradient
    NDArray per head), `targets` (one gradient NDArray per `wrt`, filled as `modes` say). With `reusable` the
    graph is planned on a copy of its nodes and the Plan is compiled. When the gradient graph
    holds a node that must run in Python (an `autograd.Function`'s backward): then `python_nodes` is set and
    nothing is planned."""

    def __init__(self, forward, wrt, seeds, targets, modes, ctx, reusable):
        from ..executor import bind_gradients
        self.reusable = reusable
        graph = _copy(forward) if reusable else forward
        heads = graph.head_entries
        wrt = [Entry(graph.nodes[forward.nid[id(e.node)]], e.index) for e in wrt] if reusable else list(wrt)
        head_nodes = [Node(None, "head_grad%d" % next(_names)) for _ in heads]
        if not reusable:        # the graph may be run imperatively (`python_nodes`), which reads the values here
            for node, seed in zip(head_nodes, seeds):
                node.recorded = Recorded([seed._data], [seed._var])
        self.lowered = lowered = build.lower(heads, {}, {}, wrt, [Entry(n) for n in head_nodes], graph, infer=False)
        self.python_nodes = any(isinstance(node.op, FunctionBackward) for node in lowered.graph.nodes)
        if self.python_nodes:
            return
        g = lowered.graph
        # the recorded values by position: (nid, output index, eid), nids and eids of `forward` and of `g` alike
        self._recorded = [(nid, i, forward.node_row_ptr[nid] + i) for nid, node in enumerate(forward.nodes)
                          for i in range(len(node.recorded.arrays))]
        self._head_grads = [(k, eid) for k, eid in enumerate(lowered.head_grads) if eid is not None]
        arrays = _recorded_arrays(forward, self._recorded)
        bound = {eid: a for (_, _, eid), a in zip(self._recorded, arrays)}
        bound.update({eid: seeds[k]._data for k, eid in self._head_grads})
        self._infer(lowered, forward, bound, seeds, head_nodes)
        # bind_gradients decides by entry, never by array: bound with the targets' positions, it says which
        # target each gradient entry and each copy goes to
        positions = dict.fromkeys(bound)
        copies, req = bind_gradients(lowered.gradients, list(range(len(targets))), modes, positions,
                                     lowered.read_entries())
        self._direct = [(k, eid) for eid, k in positions.items() if k is not None]      # target k is entry eid
        self._copies = [(c.src, c.dst) for c in copies]     # (src eid or None, target position)
        bound.update({eid: targets[k]._data for k, eid in self._direct})
        self._bound = sorted(bound)
        # what `run` binds per call, in its order: the recorded values, the head gradients, the direct targets
        self._eids = [eid for _, _, eid in self._recorded] + [eid for _, eid in self._head_grads] + \
                     [eid for _, eid in self._direct]
        plan_copies = [Copy(c.src, targets[c.dst]._data, c.add, c.segment) for c in copies]
        # a one-off plan is not compiled: a compiled plan pays its compilation at its first run
        self.plan = lowered.plan(bound, plan_copies, req, ctx=ctx, compile=reusable)
        self.start = lowered.n_forward
        self._written = written_variables(g, self.start)    # nids: BatchNorm's moving stats, written by its backward
        self._bounds, self._publish = _segmentation(self.plan, g, self.start, lowered.gradients, req,
                                                    [t._data.nbytes for t in targets])
        from ..ndarray.calls import _INLINE_BYTES
        # a small backward runs in the calling thread when its inputs are ready, as a small imperative op does
        self._small = _arena_bytes(self.plan) + sum(t._data.nbytes for t in targets) <= _INLINE_BYTES
        self._var = get_engine().new_var("backward plan")     # one run of the plan at a time
        self._ones = [None] * len(heads)

    @staticmethod
    def _infer(lowered, forward, bound, seeds, head_nodes):
        """Shapes and dtypes: the forward's are those of the recorded values (inferred only where some value was
        not recorded), the gradient nodes' are inferred from there."""
        n = forward.num_entries
        values = [bound.get(eid) for eid in range(n)]
        if any(a is None for a in values):
            shapes = dtypes = None
        else:
            shapes, dtypes = [a.shape for a in values], [a.dtype for a in values]
        known = {forward.nodes[nid].name: forward.nodes[nid].recorded.arrays[0] for nid in forward.arg_nodes}
        known.update({node.name: seed._data for node, seed in zip(head_nodes, seeds)})
        lowered.infer({k: a.shape for k, a in known.items()}, {k: a.dtype for k, a in known.items()}, shapes,
                      dtypes)

    def default_seeds(self, heads):
        """Head gradients of ones, one per head, made once per plan: the plan only reads them."""
        from . import state
        ones = self._ones
        for k, h in enumerate(heads):
            if ones[k] is None:
                with state.pause():
                    ones[k] = ones_like(h)
        return ones

    def run(self, forward, seeds, targets, train_mode):
        """Push the backward of the recorded graph `forward` (a graph of this plan's signature) with head
        gradients `seeds`, into `targets`."""
        plan, start, engine = self.plan, self.start, get_engine()
        nodes = forward.nodes
        values = [nodes[nid].recorded for nid, _, _ in self._recorded]
        reads = [r.vars[i] for r, (_, i, _) in zip(values, self._recorded)]
        arrays = [r.arrays[i] for r, (_, i, _) in zip(values, self._recorded)]
        arrays += [seeds[k]._data for k, _ in self._head_grads]
        reads += [seeds[k]._var for k, _ in self._head_grads]
        arrays += [targets[k]._data for k, _ in self._direct]
        copy_targets = [targets[k]._data for _, k in self._copies]
        written = [nodes[nid].recorded.vars[0] for nid in self._written]
        eids = self._eids
        op_ctx = OpContext(is_train=bool(train_mode))
        bounds, first, last = self._bounds, self._bounds[0], self._bounds[-1]

        def run(a, b, copies):
            if a == first:
                self._bind(eids, arrays, copy_targets)
            try:
                plan.run(op_ctx, a, b, copies)
            finally:
                if b == last and self.reusable:
                    plan.release(self._bound)   # the cache keeps no step's arrays

        if len(bounds) > 2:     # Note [segmented backward] in scheduler/segments.py
            published = [[targets[k]._var for k in ks] for ks in self._publish]
            segments.push_ranges(run, bounds, reads, written + [self._var], published, "backward")
            return
        writes = [t._var for t in targets] + written
        writes.append(self._var)
        engine.push(lambda: run(start, last, "backward"), reads, writes, "backward",
                    inline=self._small)

    def _bind(self, eids, arrays, copy_targets):
        plan = self.plan
        current = plan.arrays
        for eid, array in zip(eids, arrays):
            if current[eid] is not array:
                plan.rebind(eid, array)
        # copies by position: `rebind` follows a copy by its array's identity, which two entries may share
        for copy, (src, _), dst in zip(plan.copies, self._copies, copy_targets):
            copy.src = None if src is None else current[src]
            copy.dst = dst


def _arena_bytes(plan):
    arena = getattr(plan, "arena", None)
    return 0 if arena is None else int(arena.nbytes)


def _recorded_arrays(forward, recorded):
    nodes = forward.nodes
    return [nodes[nid].recorded.arrays[i] for nid, i, _ in recorded]


def _copy(forward):
    """An IndexedGraph of copies of `forward`'s nodes without their recorded values, numbered as `forward`."""
    copies = {}
    for node in forward.nodes:
        copies[id(node)] = Node(node.op, node.name, node.attrs, node.params,
                                [Entry(copies[id(e.node)], e.index, e.version) for e in node.inputs])
    return IndexedGraph([Entry(copies[id(h.node)], h.index, h.version) for h in forward.head_entries])


def _segmentation(plan, g, start, gradients, direct, target_bytes):
    """(bounds of the backward's pushes, per push the target positions it publishes); one push unless cut by
    `ends_push` nodes or the segmentation setting (Note [segmented backward])."""
    stop = len(plan.steps)
    cuts = [k + 1 for k in range(start, stop - 1) if getattr(g.nodes[plan.steps[k].nid].op, "ends_push", False)]
    if cuts:
        bounds = [start] + cuts + [stop]
    else:
        how = segments.setting()
        bounds = [start, stop]
        if segments.asked(how):
            finishes = [(step, nbytes) for step, nbytes, eid in zip(segments.finishing_steps(plan, g, gradients),
                                                                   target_bytes, gradients)
                        if step is not None and eid in direct]
            ranges = segments.ranges(start, stop, finishes, how)
            bounds = [a for a, _ in ranges] + [ranges[-1][1]]
    publish = segments.published(plan, g, bounds, gradients, direct) if len(bounds) > 2 else None
    return bounds, publish
