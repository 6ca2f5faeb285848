"""The Plan compiler (issue 15): a Plan's steps become generated numba functions that call the ops' njit bodies in
straight-line order, with elementwise chains fused into one loop.

Needs: a Plan (scheduler/plan.py) and the ops' bodies (`ops.jit.body`, the JIT contract).
Gives: `compile_plan(plan)`, a `CompiledPlan` with the Plan's surface, or the Plan itself when nothing compiles (a
GPU plan, DATAFLOW_JIT=0).
Stages, per range of steps that `run(ctx, start, stop, segment)` is asked for (forward and backward are two ranges
of one Plan): 1. once it ran `COMPILE_AFTER_RUNS` times interpreted, lower it (scheduler/codegen.py): runs of steps
with bodies become segment functions, the others stay interpreted steps between them. 2. write the module to the
plan cache (scheduler/plan_cache.py, named by a hash of its source, numba, the CPU and the body modules' sources),
import it and compile each segment: numba's own cache beside it makes a later process pay no compile. That happens
before the run when it is a cache load (the module was compiled before and numba is set up), else in a background
thread while the range keeps running interpreted: a module never compiled (seconds of numba), the first compile of
a process (numba's own setup, 1-2 s), a range of `BACKGROUND_STEPS` steps or more. Background compiles not yet
started are dropped at interpreter exit (`compile_range.cancel_pending`): a short script does not wait for them.
Runs pass the arena, the segment's sizes (codegen: shapes and offsets are read at run time, so another batch size
reuses the module) and the arrays bound from outside (inputs, parameters, outputs, gradients), read from the
Plan's `arrays` at call time, so `rebind` keeps working. A rebind to an array of another shape, dtype or layout (or
of an entry that lives in the arena) sends this CompiledPlan back to the interpreter: never a stale buffer.
Copies, GPU plans and steps without a body stay interpreted. A range whose biggest GEMM reaches
`blas_threads.PARALLEL_FLOPS` runs each compiled call inside its `GemmSite`, which picks the BLAS threads for the
call (Note [when a 2-thread GEMM pays] in ops/cpu/blas_threads.py).

Note [the first run imports no compiler]: binding a Plan and running it once (a fresh process's first hybridized
call) need neither the bodies (`ops.jit`, ~40 numba dispatchers to define) nor codegen nor the plan cache: ~6 ms
of CPU, half of the bench's first MLP call (measured 13.1 -> 6.5 ms). A CompiledPlan only records where its
entries live (`Where`, defined here for that reason) and runs its ranges interpreted until they are due to compile
(scheduler/compile_range.py), which imports those then. So `compile_plan` cannot tell at bind whether some step has
a body: every CPU Plan becomes a CompiledPlan, and a range whose steps have none lowers to interpreted pieces only
(`info()["segments"] == 0`).

Big fused loops have a two-thread form (Note [two threads] in codegen.py); a range holding one runs each call inside
its `LoopThreads` (scheduler/loop_threads.py), which picks the thread count, unless a GemmSite picks BLAS
threads for that range.

Env: `DATAFLOW_JIT=0` turns the compiler off, `DATAFLOW_JIT=nofuse` compiles without fusing (for bisecting a
wrong answer), `DATAFLOW_JIT_PARALLEL` (scheduler/loop_threads.py) sets when big loops use two threads.
`DATAFLOW_DEBUG=1` prints one line per compiled range: its ops, fused groups, compile time, cache hit.
"""
import collections
import concurrent.futures
import math
import os
import threading
import weakref

import numpy as np

from ops.errors import MXNetError

from . import op_timing
# the background compiles: `wait_all` and `_executor` are asked for here (tests, bench, dataflow/optimizer/fused.py)
from .compile_range import Range, debug as _debug, executor as _executor, wait_all  # noqa: F401

# A range of at least this many steps compiles in a background thread (running interpreted meanwhile); a smaller
# one compiles before its run when that is a cache load (see `compile_range.Range.for_run`).
BACKGROUND_STEPS = 200

# A range compiles once it ran this many times interpreted: a Plan run once (a one-off batch size, the last partial
# batch of an epoch) costs no compile, and no memory in numba, which keeps every module it compiled.
COMPILE_AFTER_RUNS = 1

_NO_COPIES = object()       # a segment name no copy has: runs the steps of a Plan without its copies


def enabled():
    return os.environ.get("DATAFLOW_JIT", "1") != "0"


def _fusing():
    return os.environ.get("DATAFLOW_JIT", "1") != "nofuse"


def compile_plan(plan, bodies=None, background_steps=None):
    """A CompiledPlan running `plan`'s steps through generated numba functions, or `plan` when nothing compiles
    (a GPU plan, the compiler switched off). `bodies(op, params, in_meta, out_meta, req)` gives a step's Body or
    None (default: `ops.jit.body`, imported when a range first compiles: Note [the first run imports no
    compiler])."""
    if not enabled() or plan.device is not None:
        return plan
    return CompiledPlan(plan, bodies, BACKGROUND_STEPS if background_steps is None else background_steps)


def binder(plan, eids, fresh=()):
    """A `Binder` running all of `plan` (a Plan or a CompiledPlan) with entries `eids` bound to new arrays per call.
    `fresh`: the positions in `eids` whose arrays the caller allocates itself with the entry's shape and dtype
    (a cached graph's outputs), so they need no layout check."""
    return Binder(plan, eids, fresh)


class Binder:
    """Note [the bound call]: a cached graph binds its inputs and outputs and runs the whole Plan on every call.
    Through `rebind` and `run` that is one Python step per slot the entry has, then the range lookup; once the
    whole Plan is one compiled function and has no copies, a call only puts the arrays into that function's
    argument list and calls it. The Plan's own slots then lag behind (`arrays` is kept current), so any other
    run rebinds every bound entry first: the first call after compiling, a rebind that does not fit, an error
    (rerun through `CompiledPlan.run`, which names the steps)."""

    def __init__(self, plan, eids, fresh):
        self.plan = plan
        self.eids = tuple(eids)
        self._fresh = frozenset(fresh)
        self._fast = None           # (entry point, its argument list, the list positions of each eid)
        self._last = [None] * len(self.eids)    # the arrays of the last call, whose layout was checked

    def __call__(self, ctx, arrays, segment=None):
        fast = self._fast
        if fast is not None and not self.plan._interpreted:
            fn, args, slots, site = fast
            last, where, eids = self._last, self.plan.where, self.eids
            bound = self.plan.plan.arrays
            for k, array in enumerate(arrays):
                if array is not last[k]:
                    if k not in self._fresh and not _fits(array, where[eids[k]]):
                        break
                    last[k] = array
                bound[eids[k]] = array
                for j in slots[k]:
                    args[j] = array
            else:
                try:
                    if site.active:
                        with site:
                            fn(*args)
                    else:
                        fn(*args)
                    return
                except Exception:   # noqa: BLE001 - rerun through the Plan, whose error names the steps
                    pass
        self._slow(ctx, arrays, segment)

    def _slow(self, ctx, arrays, segment):
        plan = self.plan
        self._fast = None
        for eid, array in zip(self.eids, arrays, strict=True):
            plan.rebind(eid, array)
        plan.run(ctx, segment=segment)
        # (a bound array holding other entries' views, scheduler/plan.py `derives`, is rebound through the Plan)
        if isinstance(plan, CompiledPlan) and not plan.copies and not plan.interpreted and not plan.derives(self.eids):
            whole = plan.whole()
            if whole is not None:
                fn, lead, arg_eids = whole
                args = list(lead) + [plan.arrays[e] for e in arg_eids]
                slots = [[len(lead) + j for j, e in enumerate(arg_eids) if e == eid] for eid in self.eids]
                self._fast = fn, args, slots, plan.gemm_site()
                self._last = list(arrays)


def _default_bodies():
    """`ops.jit.body`, or a provider giving no body while the bodies package is not there."""
    try:
        from ops.jit import body
    except ImportError:
        return lambda *_: None
    return body


class CompiledPlan:
    """A Plan whose ranges run as compiled segments. See the module docstring."""

    def __init__(self, plan, bodies, background_steps):
        self.plan = plan
        self.copied = _copied(plan)
        self.shared = _Shared.of(self, bodies, background_steps)
        self.where = self.shared.where
        self._copy_segments = {c.segment for c in plan.copies}
        self._interpreted = False   # set for good when a rebind no longer fits the compiled code

    @property
    def bodies(self):
        return self.shared.bodies_for(self.plan)

    # -- the Plan surface -------------------------------------------------------------------------------------
    @property
    def arrays(self):
        return self.plan.arrays

    @property
    def steps(self):
        return self.plan.steps

    @property
    def graph(self):
        return self.plan.graph

    @property
    def memory(self):
        return self.plan.memory

    @property
    def copies(self):
        return self.plan.copies

    def __getattr__(self, name):        # arena, device, ...: the Plan's
        return getattr(self.__dict__["plan"], name)

    def __str__(self):
        return str(self.plan)

    def rebind(self, eid, array):
        self.plan.rebind(eid, array)
        w = self.where[eid]
        if w is None:
            return
        if w.offset is not None or not _fits(array, w):
            self._interpreted = True

    def rebind_copy(self, index, dst):
        self.plan.rebind_copy(index, dst)

    def run(self, ctx, start=0, stop=None, segment=None):
        stop = len(self.plan.steps) if stop is None else stop
        if self._interpreted or op_timing.timer is not None:     # the profiler times each step
            self.plan.run(ctx, start, stop, segment)
            return
        compiled_range = self._range(start, stop)
        compiled = compiled_range.for_run(self, COMPILE_AFTER_RUNS)
        if compiled is None:
            self.plan.run(ctx, start, stop, segment)
            compiled_range.after_interpreted_run(COMPILE_AFTER_RUNS)
            return
        if compiled_range.site.active:
            with compiled_range.site:
                self._run_pieces(ctx, compiled)
        else:
            self._run_pieces(ctx, compiled)
        if segment in self._copy_segments:
            self.plan.run(ctx, 0, 0, segment)   # the copies of `segment`

    def _run_pieces(self, ctx, compiled):
        arena, arrays = self.plan.arena, self.plan.arrays
        for a, b, fn, arg_eids, sizes in compiled:
            if fn is None:
                self.plan.run(ctx, a, b, _NO_COPIES)
                continue
            try:
                fn(arena, sizes, *[arrays[e] for e in arg_eids])
            except Exception as err:    # noqa: BLE001 - rerun interpreted for an error naming the step
                self.plan.run(ctx, a, b, _NO_COPIES)
                raise MXNetError("compiled steps %d..%d (%s): %s: %s" % (
                    a, b - 1, ", ".join(s.op_name for s in self.plan.steps[a:b]), type(err).__name__, err)) \
                    from err

    def gemm_site(self, start=0, stop=None):
        """The blas_threads.GemmSite timing the compiled calls of steps[start:stop] (Note [when a 2-thread GEMM
        pays] in ops/cpu/blas_threads.py)."""
        return self._range(start, len(self.plan.steps) if stop is None else stop).site

    def whole(self):
        """(entry point, its leading arguments, the eids of the arrays after them) when all the steps run as one
        compiled function, else None."""
        r = self.shared.ranges.get((0, len(self.plan.steps)))
        pieces = r.ready() if r is not None else None
        if pieces is None or len(pieces) != 1 or pieces[0][2] is None:
            return None
        _, _, fn, arg_eids, sizes = pieces[0]
        return fn, (self.plan.arena, sizes), arg_eids

    @property
    def interpreted(self):
        """True once a rebind made the compiled code unfit: every run is the Plan's own from then on."""
        return self._interpreted

    def wait(self, timeout=None):
        """Compile the ranges that ran and wait until they are ready (tests, benchmarks)."""
        for r in list(self.shared.ranges.values()):
            r.lower(self)
            r.start_background()
            if r.future is not None:
                concurrent.futures.wait([r.future], timeout)
                r.ready()

    def info(self, start=0, stop=None):
        """What compiling steps[start:stop] gave (None until it is due to compile, and while it compiles): a dict of
        `segments`, `interpreted` steps, `fused` group sizes, `compile_ms`, `cache_hit`, `key`, `source`, and
        `error` (why the range runs interpreted, when compiling it failed)."""
        r = self.shared.ranges.get((start, len(self.plan.steps) if stop is None else stop))
        if r is None:
            return None
        r.ready()
        return r.info

    def _range(self, start, stop):
        shared = self.shared
        r = shared.ranges.get((start, stop))
        if r is None:
            with shared.lock:
                r = shared.ranges.get((start, stop))
                if r is None:
                    r = shared.ranges[(start, stop)] = Range(self.plan, start, stop)
        return r


class _Shared:
    """What every CompiledPlan of one structure shares: the graph and memory plan, where each entry lives, the
    reqs and copies are the same, so the bodies and the compiled ranges are too (a hybridized block under
    autograd.record() makes a fresh Plan per call). Kept for the `_MEMO_SIZE` structures used last."""

    def __init__(self, owner, bodies, background_steps, graph, key):
        plan = owner.plan
        self.graph = weakref.ref(graph, lambda _, memo=_memo: memo.pop(key, None))   # forgotten with its graph
        self.background_steps = background_steps
        self.fuse = _fusing()       # part of the key
        self.where = _where(plan)
        self._body = bodies         # None: ops.jit.body, once a range compiles
        self._bodies = None         # every step's Body, looked up when a range first compiles, not at bind
        self.readers = {}
        for i, step in enumerate(plan.steps):
            for e in plan.graph.inputs[step.nid]:
                self.readers.setdefault(e, []).append(i)
        self.ranges = {}            # (start, stop) -> compile_range.Range
        self.lock = threading.Lock()

    def bodies_for(self, plan):
        if self._bodies is None:     # two threads may both make it: the same list, assigned at once
            from .codegen import literal
            provider = self._body or _default_bodies()
            self._bodies = [_body_of(plan, step, provider, self.where, literal) for step in plan.steps]
        return self._bodies

    @staticmethod
    def of(owner, bodies, background_steps):
        plan = owner.plan
        key = (id(plan.graph), id(plan.memory), bodies, background_steps, _fusing(), _layout(plan),
               tuple(tuple(step.req) for step in plan.steps), tuple(sorted(owner.copied)))
        with _memo_lock:
            shared = _memo.pop(key, None)
            if shared is None or shared.graph() is not plan.graph:      # new, or an id reused after a collection
                shared = _Shared(owner, bodies, background_steps, plan.graph, key)
            _memo[key] = shared
            while len(_memo) > _MEMO_SIZE:
                _memo.popitem(last=False)
        return shared


_MEMO_SIZE = 64
_memo = collections.OrderedDict()
_memo_lock = threading.Lock()


# ---------------------------------------------------------------------------------------------------------------
# Where entries live, and what compiles
# ---------------------------------------------------------------------------------------------------------------

def _layout(plan):
    """What decides `_where` beyond the graph and the memory plan, cheaply: which entries are arena views (the
    memory plan places them), and the shape, dtype and fitness of the others."""
    arena = plan.arena
    return tuple(None if not isinstance(a, np.ndarray) else True if a.base is arena and a.size
                 else (a.shape, a.dtype, a.flags.c_contiguous and a.flags.aligned) for a in plan.arrays)


class Where:
    """Where an entry's values live for generated code (scheduler/codegen.py): `offset` in the arena, or None for
    an array passed in. (A plain class: a dataclass costs the bind half a millisecond to define.)"""
    __slots__ = ("offset", "shape", "dtype")

    def __init__(self, offset, shape, dtype):
        self.offset, self.shape, self.dtype = offset, shape, dtype

    def __eq__(self, other):
        return isinstance(other, Where) and (self.offset, self.shape, self.dtype) == (other.offset, other.shape,
                                                                                     other.dtype)

    def __hash__(self):
        return hash((self.offset, self.shape, self.dtype))

    def __repr__(self):
        return "Where(offset=%r, shape=%r, dtype=%r)" % (self.offset, self.shape, self.dtype)

    @property
    def size(self):
        return math.prod(self.shape)

    @property
    def nbytes(self):
        return self.size * self.dtype.itemsize


def _where(plan):
    """eid -> Where: the arena offset of an entry whose array is an arena view, None for a passed array."""
    arena = plan.arena
    base, end = arena.ctypes.data, arena.ctypes.data + arena.nbytes
    where = []
    view_offsets = getattr(plan, "view_offsets", None)      # known offsets of the Plan's own arena views
    for eid, array in enumerate(plan.arrays):
        if array is None or not isinstance(array, np.ndarray):
            where.append(None)
            continue
        if view_offsets is not None and view_offsets[eid] is not None and array.size > 0:   # contiguous, inside
            where.append(Where(view_offsets[eid], tuple(array.shape), array.dtype))
            continue
        ptr = array.ctypes.data
        inside = array.size > 0 and base <= ptr < end and array.flags.c_contiguous
        where.append(Where(ptr - base if inside else None, tuple(array.shape), array.dtype))
    return where


def _copied(plan):
    """The entries whose arrays a copy of the Plan reads."""
    sources = {id(c.src) for c in plan.copies if c.src is not None}
    return {e for e, a in enumerate(plan.arrays) if id(a) in sources} if sources else set()


def _fits(array, w):
    return (isinstance(array, np.ndarray) and array.shape == w.shape and array.dtype == w.dtype
            and array.flags.c_contiguous and array.flags.aligned)


def _body_of(plan, step, bodies, where, literal):
    """The step's Body, or None when it must run interpreted. `literal`: codegen's, which refuses a Body constant
    it cannot write into the source."""
    node = plan.graph.nodes[step.nid]
    op = node.op
    if op.takes_training or op.cpu is None or step.kernel is not op.cpu:
        return None         # bodies see no OpContext; a step without the op's own kernel is not the op
    eids = list(plan.graph.inputs[step.nid]) + list(range(plan.graph.node_row_ptr[step.nid],
                                                          plan.graph.node_row_ptr[step.nid + 1]))
    metas = [where[e] for e in eids]
    if any(m is None for m in metas) or any(m.offset is None and not _fits(plan.arrays[e], m)
                                            for e, m in zip(eids, metas)):
        return None
    n_in = len(plan.graph.inputs[step.nid])
    try:
        body = bodies(op, step.params, tuple((m.shape, m.dtype) for m in metas[:n_in]),
                      tuple((m.shape, m.dtype) for m in metas[n_in:]), tuple(step.req))
    except Exception as err:        # noqa: BLE001 - a body builder's bug: the step runs interpreted
        _debug("jit: no body for %s (%s): %s: %s" % (step.name, op.name, type(err).__name__, err))
        return None
    if body is None:
        return None
    try:
        [literal(a) for a in tuple(body.args) + tuple(body.scalar_args)]
    except TypeError:
        return None
    return body
