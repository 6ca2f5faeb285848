"""The Plan compiler (issue 15): a Plan's steps become generated numba functions that call the ops' njit bodies in
straight-line order, with elementwise chains fused into one loop.

Needs: a Plan (scheduler/plan.py) and the ops' bodies (`ops.jit.body`, the JIT contract).
Gives: `compile_plan(plan)`, a `CompiledPlan` with the Plan's surface, or the Plan itself when nothing compiles (a
GPU plan, DATAFLOW_JIT=0, no step with a body).
Stages, per range of steps that `run(ctx, start, stop, segment)` is asked for (forward and backward are two ranges
of one Plan): 1. at its first run, lower it (scheduler/codegen.py): runs of steps with bodies become segment
functions, the others stay interpreted steps between them. 2. once it ran `COMPILE_AFTER_RUNS` times interpreted,
write the module to the plan cache (scheduler/plan_cache.py, named by a hash of its source, numba, the CPU and the
body modules' sources), import it and compile each segment: numba's own cache beside it makes a later process pay
no compile. That happens before the run when it is a cache load (the module
was compiled before and numba is set up), else in a background thread while the range keeps running interpreted:
a module never compiled (seconds of numba), the first compile of a process (numba's own setup, 1-2 s), a range of
`BACKGROUND_STEPS` steps or more.
Runs pass the arena, the segment's sizes (codegen: shapes and offsets are read at run time, so another batch size
reuses the module) and the arrays bound from outside (inputs, parameters, outputs, gradients), read from the
Plan's `arrays` at call time, so `rebind` keeps working. A rebind to an array of another shape, dtype or layout (or
of an entry that lives in the arena) sends this CompiledPlan back to the interpreter: never a stale buffer.
Copies, GPU plans and steps without a body stay interpreted. A range whose biggest GEMM reaches
`blas_threads.PARALLEL_FLOPS` runs each compiled call inside its `GemmSite`, which picks the BLAS threads for the
call (Note [when a 2-thread GEMM pays] in ops/cpu/blas_threads.py).

Big fused loops have a two-thread form (Note [two threads] in codegen.py); a range holding one runs each call inside
its `LoopThreads` (scheduler/loop_threads.py), which picks the thread count, unless a GemmSite picks BLAS
threads for that range.

Env: `DATAFLOW_JIT=0` turns the compiler off, `DATAFLOW_JIT=nofuse` compiles without fusing (for bisecting a
wrong answer), `DATAFLOW_JIT_PARALLEL` (scheduler/loop_threads.py) sets when big loops use two threads.
`DATAFLOW_DEBUG=1` prints one line per compiled range: its ops, fused groups, compile time, cache hit.
"""
import collections
import concurrent.futures
import os
import sys
import threading
import time
import weakref

import numpy as np

from ops.cpu import blas_threads
from ops.cpu.nn import fc_gemm_flops
from ops.errors import MXNetError

from . import codegen, plan_cache
from .loop_threads import LoopThreads, parallel_ok

# A range of at least this many steps compiles in a background thread (running interpreted meanwhile); a smaller
# one compiles before its run when that is a cache load (see `_Range.for_run`).
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
    """A CompiledPlan running `plan`'s steps through generated numba functions, or `plan` when nothing compiles.
    `bodies(op, params, in_meta, out_meta, req)` gives a step's Body or None (default: `ops.jit.body`)."""
    if not enabled() or plan.device is not None:
        return plan
    if bodies is None:
        bodies = _default_bodies()
        if bodies is None:
            return plan
    compiled = CompiledPlan(plan, bodies, BACKGROUND_STEPS if background_steps is None else background_steps)
    return compiled if compiled.shared.any_body(plan) else plan


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
        if isinstance(plan, CompiledPlan) and not plan.copies and not plan.interpreted:
            whole = plan.whole()
            if whole is not None:
                fn, lead, arg_eids = whole
                args = list(lead) + [plan.arrays[e] for e in arg_eids]
                slots = [[len(lead) + j for j, e in enumerate(arg_eids) if e == eid] for eid in self.eids]
                self._fast = fn, args, slots, plan.gemm_site()
                self._last = list(arrays)


def _default_bodies():
    try:
        from ops.jit import body
    except ImportError:         # the bodies package is not there: nothing compiles
        return None
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
        if self._interpreted:
            self.plan.run(ctx, start, stop, segment)
            return
        compiled_range = self._range(start, stop)
        compiled = compiled_range.for_run()
        if compiled is None:
            self.plan.run(ctx, start, stop, segment)
            compiled_range.after_interpreted_run()
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
        """Block until the ranges compiling in the background are ready (tests, benchmarks)."""
        for r in list(self.shared.ranges.values()):
            r.start_background()
            if r.future is not None:
                concurrent.futures.wait([r.future], timeout)
                r.ready()

    def info(self, start=0, stop=None):
        """What compiling steps[start:stop] gave (None while it compiles or before its first run): a dict of
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
                    r = shared.ranges[(start, stop)] = _Range(self, start, stop)
        return r


class _Shared:
    """What every CompiledPlan of one structure shares: the graph and memory plan, where each entry lives, the
    reqs and copies are the same, so the bodies and the compiled ranges are too (a hybridized block under
    autograd.record() makes a fresh Plan per call). Kept for the `_MEMO_SIZE` structures used last."""

    def __init__(self, owner, bodies, background_steps, graph, key):
        plan = owner.plan
        self.graph = weakref.ref(graph, lambda _, memo=_memo: memo.pop(key, None))   # forgotten with its graph
        self.background_steps = background_steps
        self.where = _where(plan)
        self._body = bodies
        self._bodies = None         # every step's Body, looked up at the first run, not at bind (Note below)
        self._any_body = None
        self.readers = {}
        for i, step in enumerate(plan.steps):
            for e in plan.graph.inputs[step.nid]:
                self.readers.setdefault(e, []).append(i)
        self.ranges = {}            # (start, stop) -> _Range
        self.lock = threading.Lock()

    # Looking up 40k bodies is about a quarter of a 20k-node training bind: bind asks only whether some step has a
    # body (the first steps usually do), and the whole list is made when a range first runs.
    def any_body(self, plan):
        if self._any_body is None:
            self._any_body = self._bodies is not None and any(b is not None for b in self._bodies) or any(
                _body_of(plan, step, self._body, self.where) is not None for step in plan.steps)
        return self._any_body

    def bodies_for(self, plan):
        if self._bodies is None:     # two threads may both make it: the same list, assigned at once
            self._bodies = [_body_of(plan, step, self._body, self.where) for step in plan.steps]
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


class _Range:
    """Steps [start, stop) of a CompiledPlan: lowered, loaded and compiled once, maybe in the background. A range
    that fails to lower or compile (a body numba cannot type, say) runs interpreted, its `info` saying why.
    `site`: what each compiled call runs inside, the GemmSite of its biggest GEMM or, where that is inactive, the
    LoopThreads of its two-thread loops (one policy times a call at a time)."""

    def __init__(self, owner, start, stop):
        self.site = blas_threads.GemmSite(_biggest_gemm(owner.plan, start, stop))
        self.pieces = None          # [(start, stop, entry point or None, arg eids, sizes)] once compiled
        self.future = None
        self.job = None             # what compiling will do, once the range ran interpreted enough
        self.background = False
        self.runs = 0
        self.info = None
        try:
            # no two-thread loops where the GemmSite times the calls: they would never run on two threads
            lowered = codegen.lower(owner.plan, start, stop, owner.bodies, owner.where, owner.shared.readers,
                                    owner.copied, lambda: not self.site.active and parallel_ok(), _fusing())
        except Exception as err:    # noqa: BLE001 - a compiler bug must not fail the run
            self.pieces, self.info = _interpreted(start, stop, err)
            return
        if not lowered.source:
            self.pieces = [(a, b, None, (), None) for a, b, _ in lowered.pieces]
            self.info = dict(segments=0, interpreted=stop - start, fused=[], compile_ms=0.0, cache_hit=None,
                             key=None, source="", error=None)
            return
        flags = [(seg.sizes, k) for _, _, seg in lowered.pieces if seg is not None for k in seg.threads]
        if flags and not self.site.active:
            self.site = LoopThreads(flags, (lowered.source, tuple(
                seg.sizes.tobytes() for _, _, seg in lowered.pieces if seg is not None)))
        plan = owner.plan
        metas = {seg.name: [owner.where[e] for e in seg.arg_eids] for _, _, seg in lowered.pieces if seg is not None}
        self.job = (lowered, metas, start, stop, [s.op_name for s in plan.steps[start:stop]], owner.shared.graph)
        self.background = stop - start >= owner.shared.background_steps

    def for_run(self):
        """The compiled pieces for this run, or None to run it interpreted (then call `after_interpreted_run`).
        A range compiles once it ran COMPILE_AFTER_RUNS times: synchronously when that is a cheap cache load."""
        self.ready()
        if self.job is not None and self.runs >= COMPILE_AFTER_RUNS and not self.background:
            if _numba_warm() and plan_cache.cached(self.job[0]):
                job, self.job = self.job, None
                self.pieces, self.info = _build(*job)
            else:
                self.background = True
        self.runs += 1
        return self.pieces or None

    def after_interpreted_run(self):
        """Start a due background compile after an interpreted run: the kernels that ran loaded themselves by
        then, and do not wait on numba's compiler lock, which the compile holds for seconds."""
        if self.job is not None and self.background and self.runs > COMPILE_AFTER_RUNS:
            self.start_background()

    def start_background(self):
        if self.job is not None:
            job, self.job = self.job, None
            self.future = _executor().submit(_build, *job)

    def ready(self):
        if self.pieces is None and self.future is not None and self.future.done():
            self.pieces, self.info = self.future.result()
            self.future = None
        return self.pieces or None


def _interpreted(start, stop, err):
    _debug("jit: steps %d..%d run interpreted: compiling failed: %s: %s" % (start, stop - 1, type(err).__name__,
                                                                            err))
    return ([(start, stop, None, (), None)],
            dict(segments=0, interpreted=stop - start, fused=[], compile_ms=0.0, cache_hit=None, key=None,
                 source="", error="%s: %s" % (type(err).__name__, err)))


def _build(lowered, metas, start, stop, op_names, graph):
    """Load and compile a lowered range: (pieces, info); never raises (a failure runs the range interpreted).
    `graph`: a weak reference to the Plan's graph; a queued compile whose graph is gone is skipped."""
    if graph() is None:
        return _interpreted(start, stop, MXNetError("the plan is gone"))
    try:
        return _compile(lowered, metas, start, stop, op_names)
    except Exception as err:        # noqa: BLE001
        return _interpreted(start, stop, err)


def _compile(lowered, metas, start, stop, op_names):
    began = time.perf_counter()
    module, key = plan_cache.load(lowered)
    pieces, hits, misses = [], 0, 0
    for a, b, seg in lowered.pieces:
        if seg is None:
            pieces.append((a, b, None, (), None))
            continue
        dispatcher = getattr(module, seg.name)
        entry = dispatcher.compile(_signature(metas[seg.name]))
        stats = dispatcher.stats
        hits += sum(stats.cache_hits.values())
        misses += sum(stats.cache_misses.values())
        pieces.append((a, b, entry, seg.arg_eids, seg.sizes))
    segments = [seg for _, _, seg in lowered.pieces if seg is not None]
    interpreted = sum(b - a for a, b, seg in lowered.pieces if seg is None)
    fused = [n for seg in segments for n in seg.fused]
    info = dict(segments=len(segments), interpreted=interpreted, fused=fused,
                compile_ms=(time.perf_counter() - began) * 1e3, cache_hit=bool(hits) and not misses, key=key,
                source=lowered.source, error=None)
    _debug("jit: steps %d..%d: %d ops (%s), %d segment%s, %d interpreted, %d fused group%s %s, compile %.0f ms, "
           "cache %s, %s" % (start, stop - 1, stop - start, ", ".join(sorted(set(op_names))), len(segments),
                             "" if len(segments) == 1 else "s", interpreted, len(fused), "" if len(fused) == 1
                             else "s", fused, info["compile_ms"], "hit" if info["cache_hit"] else "miss", key[:12]))
    return pieces, info


# ---------------------------------------------------------------------------------------------------------------
# Where entries live, and what compiles
# ---------------------------------------------------------------------------------------------------------------

def _layout(plan):
    """What decides `_where` beyond the graph and the memory plan, cheaply: which entries are arena views (the
    memory plan places them), and the shape, dtype and fitness of the others."""
    arena = plan.arena
    return tuple(None if not isinstance(a, np.ndarray) else True if a.base is arena and a.size
                 else (a.shape, a.dtype, a.flags.c_contiguous and a.flags.aligned) for a in plan.arrays)


def _where(plan):
    """eid -> codegen.Where: the arena offset of an entry whose array is an arena view, None for a passed array."""
    arena = plan.arena
    base, end = arena.ctypes.data, arena.ctypes.data + arena.nbytes
    where = []
    view_offsets = getattr(plan, "view_offsets", None)      # known offsets of the Plan's own arena views
    for eid, array in enumerate(plan.arrays):
        if array is None or not isinstance(array, np.ndarray):
            where.append(None)
            continue
        if view_offsets is not None and view_offsets[eid] is not None and array.size > 0:   # contiguous, inside
            where.append(codegen.Where(view_offsets[eid], tuple(array.shape), array.dtype))
            continue
        ptr = array.ctypes.data
        inside = array.size > 0 and base <= ptr < end and array.flags.c_contiguous
        where.append(codegen.Where(ptr - base if inside else None, tuple(array.shape), array.dtype))
    return where


def _copied(plan):
    """The entries whose arrays a copy of the Plan reads."""
    sources = {id(c.src) for c in plan.copies if c.src is not None}
    return {e for e, a in enumerate(plan.arrays) if id(a) in sources} if sources else set()


def _fits(array, w):
    return (isinstance(array, np.ndarray) and array.shape == w.shape and array.dtype == w.dtype
            and array.flags.c_contiguous and array.flags.aligned)


def _body_of(plan, step, bodies, where):
    """The step's Body, or None when it must run interpreted."""
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
        [codegen.literal(a) for a in tuple(body.args) + tuple(body.scalar_args)]
    except TypeError:
        return None
    return body


def _biggest_gemm(plan, start, stop):
    """FLOPs of the biggest GEMM that steps[start:stop] run (FullyConnected, forward or backward: the GEMMs that
    have njit bodies)."""
    flops = 0
    for step in plan.steps[start:stop]:
        if step.op_name in ("FullyConnected", "_backward_FullyConnected"):
            data = step.inputs[0 if step.op_name == "FullyConnected" else 1]
            if isinstance(data, np.ndarray):
                flops = max(flops, fc_gemm_flops(step.params, data))
    return flops


def _signature(metas):
    """The numba types of a segment's arguments: the arena, its sizes (codegen.Segment), then C-contiguous arrays
    (what numba.typeof gives for the arrays that `_fits`), made from the metas alone so that a background compile
    never reads the arrays."""
    from numba.core import types
    from numba.np.numpy_support import from_dtype
    return (types.Array(types.uint8, 1, "C"), types.Array(types.int64, 1, "C")) + tuple(
        types.Array(from_dtype(m.dtype), len(m.shape), "C") for m in metas)


def _numba_warm():
    """Whether numba has loaded its array support: the first njit compile or cache load of a process spends 1-2 s
    importing it (numba's `load_additional_registries`, scipy's BLAS check), so that one goes to the background
    too, and the first calls run interpreted."""
    return "numba.np.arraymath" in sys.modules


_pool = None


def _executor():
    global _pool
    if _pool is None:
        _pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="dataflow-jit")
    return _pool


def wait_all(timeout=None):
    """Block until every background compile queued so far is done (tests and benchmarks that measure memory or
    time from a quiet start)."""
    if _pool is not None:
        _pool.submit(lambda: None).result(timeout)


def _debug(line):
    if int(os.environ.get("DATAFLOW_DEBUG", 0) or 0) >= 1:
        print(line)
