"""The scheduler's entry point: from the heads of a graph to a runnable plan, in two calls.

    lowered = lower(heads, shapes, dtypes, wrt, head_grads)    graph -> (+ gradient nodes) -> shapes and dtypes
    plan = lowered.plan(bound, copies, req, ctx)               -> memory plan -> Plan -> compiled plan

The Executor (`dataflow/executor.py`), a hybridized block's cached graphs (`dataflow/gluon/cached_graph.py`) and
autograd's planned backward (`dataflow/autograd/backward_plans.py`) all bind through these two calls: each pass runs
once per bind, and the JIT (`scheduler/compile.py`, skipped when it is absent or `DATAFLOW_JIT=0`) plugs in here
once for all of them (autograd compiles only the backward plans it keeps for the next step, Note [cached backward
plans]: a plan run once pays a compilation for nothing). What differs between the callers is only which arrays they
bind to which entries: between the two calls they read the lowered graph's shapes and dtypes to allocate outputs
and head gradients, and look up the entries to bind (`Lowered.eid`, `Lowered.variables`).

Lowering walks the forward graph once. The gradient pass extends that IndexedGraph (`IndexedGraph.extended`: the
walk of the forward heads is a prefix of the walk of forward and gradient heads) instead of walking everything
again, and inference of the extended graph starts from the forward's values, visiting only the gradient nodes
(the forward nodes run again only if a gradient node changes one of their entries, which a complete forward never
sees). A caller that knows every forward value already (autograd: the recorded arrays) passes them and skips the
forward inference too.

Binding a graph of 20k nodes creates some hundred thousand objects and frees almost none; the cyclic garbage
collector, which would rescan the whole heap many times over meanwhile, is paused during both calls (`paused_gc`).
"""
import contextlib
import dataclasses
import gc

from ops.errors import ShapeError
from ops.registry import NULL, WRITE

from .fold import enabled as fold_enabled, fold_inference
from .gradient import add_backward
from .graph import IndexedGraph
from .infer import infer_dtypes, infer_shapes
from .memory import plan_memory
from .plan import Plan


@dataclasses.dataclass
class Lowered:
    """A graph ready to plan: forward nodes first, then the gradient nodes, with every entry's shape and dtype."""
    graph: IndexedGraph
    forward: IndexedGraph       # the graph of the heads alone: a prefix of `graph`
    n_forward: int              # op nodes of the forward: a plan's steps [0, n_forward) run the forward
    gradients: list             # per `wrt` entry: the eid of its gradient, or None where no gradient flows
    head_grads: list            # per head: the eid of its head gradient, or None where it is not in the graph
    shapes: tuple = None        # per eid: a shape tuple (None or with 0s where unknown), once inferred
    dtypes: tuple = None        # per eid: a numpy dtype (None where unknown), once inferred

    def infer(self, shapes, dtypes, forward_shapes=None, forward_dtypes=None):
        """Infer every entry's shape and dtype from known values by variable name (`shapes`, `dtypes`); the
        forward's first, unless given (`forward_shapes`/`forward_dtypes`: one value per entry of `forward`), then
        the gradient nodes from there. A head-gradient variable whose value is not known takes its head's."""
        with paused_gc():
            forward, g = self.forward, self.graph
            fwd_shapes = infer_shapes(forward, shapes).values if forward_shapes is None else tuple(forward_shapes)
            fwd_dtypes = infer_dtypes(forward, dtypes).values if forward_dtypes is None else tuple(forward_dtypes)
            if g is forward:
                self.shapes, self.dtypes = fwd_shapes, fwd_dtypes
                return self
            shapes, dtypes = dict(shapes), dict(dtypes)
            for head, grad in zip(forward.heads, self.head_grads, strict=True):
                node = None if grad is None else g.nodes[g.entry_node(grad)[0]]
                if node is not None and node.is_variable:
                    if shapes.get(node.name) is None:
                        shapes[node.name] = fwd_shapes[head]
                    if dtypes.get(node.name) is None:
                        dtypes[node.name] = fwd_dtypes[head]
            self.shapes = infer_shapes(g, shapes, seed=fwd_shapes).values
            self.dtypes = infer_dtypes(g, dtypes, seed=fwd_dtypes).values
            return self

    def eid(self, entry):
        return self.graph.eid(entry)

    def variables(self):
        """{variable name: eid} of every variable in the graph."""
        g = self.graph
        return {g.nodes[nid].name: g.node_row_ptr[nid] for nid in g.arg_nodes}

    def check_complete(self, what):
        """Raise a ShapeError naming the first entry whose shape or dtype is still unknown."""
        try:        # the common case, checked over the distinct values only
            if not any(t is None for t in set(self.dtypes)) and not any(s is None or 0 in s
                                                                        for s in set(self.shapes)):
                return
        except TypeError:   # an unhashable shape (a list): the loop below checks it
            pass
        for eid, (shape, dtype) in enumerate(zip(self.shapes, self.dtypes, strict=True)):
            if shape is None or 0 in shape or dtype is None:
                raise ShapeError("%s: cannot infer the shape and dtype of %r (got %s, %s) from the bound arrays"
                                 % (what, self.graph.entry_name(eid), shape, dtype))

    def unread_gradient_outputs(self, exclude=()):
        """{eid: NULL} for the outputs of gradient nodes that no node reads, that are no head and not in `exclude`
        (what the caller binds or copies): e.g. `_backward_RNN`'s data gradient when the data wants none. A kernel
        given req NULL skips that output (saving a GEMM there); its storage is still planned, so a kernel that
        writes it anyway harms nothing."""
        g = self.graph
        first = g.node_row_ptr[len(self.forward.nodes)]     # gradient nodes follow the forward's
        read = self.read_entries() | set(g.heads) | set(exclude)
        return {eid: NULL for eid in range(first, g.num_entries) if eid not in read}

    def read_entries(self):
        """The eids that some node reads."""
        read = set()
        for eids in self.graph.inputs:
            read.update(eids)
        return read

    def memory_plan(self, external, into=()):
        """The memory plan of every entry outside `external` (eids: what the caller binds, now or per call);
        `into`: the external outputs bound to arrays of their own (see `bound_outputs`)."""
        with paused_gc():
            return plan_memory(self.graph, self.shapes, self.dtypes, external=external, into=into)

    def bound_outputs(self, bound, req=None):
        """The heads in `bound` (eids) that an op writes with req WRITE: each has an array of its own (a graph output,
        a gradient array), so a Concat writing one may write its inputs straight into it (`plan_memory(into=)`)."""
        g, req = self.graph, req or {}
        variables = {g.node_row_ptr[nid] for nid in g.arg_nodes}
        return {eid for eid in g.heads if eid in bound and eid not in variables and req.get(eid, WRITE) == WRITE}

    def plan(self, bound, copies=(), req=None, ctx=None, memory=None, compile=True):
        """A runnable plan of the whole graph: the entries in `bound` (eid -> array) live in those arrays, the
        others in one arena laid out by `memory` (default: planned now, every bound entry external). `copies` and
        `req` are the Plan's (scheduler/plan.py); gradient outputs nobody reads get req NULL unless `req` says
        otherwise (`unread_gradient_outputs`). A planned entry that a copy reads lives to the end of the plan (the
        copies run after the steps). With `compile`, the Plan goes through the JIT."""
        with paused_gc():
            if memory is None:
                copied = {c.src for c in copies if c.src is not None and c.src not in bound}
                into = self.bound_outputs(bound, req) if ctx is None or ctx.device_type != "gpu" else ()
                memory = plan_memory(self.graph, self.shapes, self.dtypes, external=set(bound), keep=copied,
                                     into=into)
            if self.graph is not self.forward:      # the caller's req wins
                skipped = self.unread_gradient_outputs(set(bound) | {c.src for c in copies})
                req = {**skipped, **(req or {})}
            plan = Plan(self.graph, self.shapes, self.dtypes, memory, bound, copies, req, ctx=ctx)
            return _compiled(plan) if compile else plan


def lower(heads, shapes, dtypes, wrt=(), head_grads=(), forward=None, forward_shapes=None, forward_dtypes=None,
          infer=True, fold=False):
    """The graph of `heads` (Entries), extended with the gradients of the heads with respect to the variable
    entries `wrt` (given one head-gradient Entry per head, or None where no gradient flows from it), with every
    entry's shape and dtype inferred from `shapes` and `dtypes` (known values by variable name; see
    `Lowered.infer`, which a caller passing `infer=False` calls itself, or never). `forward`: the IndexedGraph of
    `heads` when the caller has built it; `forward_shapes`/`forward_dtypes`: its values, when already known.
    `fold`: the graph runs in inference (no gradients, not training), so BatchNorms fold into convolutions
    (scheduler/fold.py); `graph` and `forward` are then the folded graph's, with the same variables."""
    with paused_gc():
        heads = list(heads)
        if forward is None:
            forward = IndexedGraph(heads)
        if fold and not wrt and fold_enabled():
            folded = fold_inference(heads, forward)
            if folded is not heads:
                heads, forward, forward_shapes, forward_dtypes = folded, IndexedGraph(folded), None, None
        n_forward = sum(1 for node in forward.nodes if node.op is not None)
        if not wrt:
            lowered = Lowered(forward, forward, n_forward, [], [None] * len(heads))
        else:
            grads = add_backward(heads, list(wrt), list(head_grads), forward)
            g = forward.extended([e for e in grads if e is not None])
            lowered = Lowered(g, forward, n_forward, [None if e is None else g.eid(e) for e in grads],
                              [None if e is None or id(e.node) not in g.nid else g.eid(e) for e in head_grads])
        return lowered.infer(shapes, dtypes, forward_shapes, forward_dtypes) if infer else lowered


def _compiled(plan):
    """`scheduler.compile.compile_plan(plan)`, or the Plan itself while the compiler is absent or switched off."""
    try:
        from .compile import compile_plan, enabled
    except ImportError:
        return plan
    return compile_plan(plan) if enabled() else plan


@contextlib.contextmanager
def paused_gc():
    """Pause the cyclic garbage collector (it stays paused when some caller paused it already)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
