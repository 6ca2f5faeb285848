"""One range of a compiled Plan's steps (scheduler/compile.py): when it compiles, lowering it (scheduler/codegen.py),
loading and compiling its module (scheduler/plan_cache.py), in the calling thread or the background one.

Needs: the CompiledPlan that runs the range (its Plan, where its entries live, its bodies). Gives: `Range`, whose
`for_run` says how a run goes (interpreted, or the compiled pieces); `executor()`, `wait_all()` and
`cancel_pending()` for the background compiles; `debug()`. Imports no compiler itself: codegen, the bodies and
plan_cache are imported when a range is due to compile (Note [the first run imports no compiler] in
scheduler/compile.py).
"""
import atexit
import concurrent.futures
import os
import sys
import threading
import time

import numpy as np

from ops.cpu import blas_threads
from ops.cpu.nn import fc_gemm_flops
from ops.errors import MXNetError

from .loop_threads import LoopThreads, parallel_ok


class Range:
    """Steps [start, stop) of a CompiledPlan: lowered once due to compile (never for a range run fewer than
    compile.COMPILE_AFTER_RUNS times), then loaded and compiled once, maybe in the background. A range that fails
    to lower or compile (a body numba cannot type, say) runs interpreted, its `info` saying why. `site`: what each
    compiled call runs inside, the GemmSite of its biggest GEMM or, where that is inactive, the LoopThreads of its
    two-thread loops (one policy times a call at a time)."""

    def __init__(self, plan, start, stop):
        self.start, self.stop = start, stop
        self.site = blas_threads.GemmSite(_biggest_gemm(plan, start, stop))
        self.lowered = False
        self.pieces = None          # [(start, stop, entry point or None, arg eids, sizes)] once compiled
        self.future = None
        self.job = None             # what compiling will do, once lowered
        self.background = False
        self.runs = 0
        self.info = None

    def lower(self, owner):
        """Lower the range (`owner`: a CompiledPlan of the shared structure) and say what compiling it will do."""
        with owner.shared.lock:
            if not self.lowered:
                self._lower(owner)
                self.lowered = True

    def _lower(self, owner):
        from . import codegen
        start, stop = self.start, self.stop
        try:
            # no two-thread loops where the GemmSite times the calls: they would never run on two threads
            lowered = codegen.lower(owner.plan, start, stop, owner.bodies, owner.where, owner.shared.readers,
                                    owner.copied, lambda: not self.site.active and parallel_ok(), owner.shared.fuse)
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
        # per segment, in piece order: segments with one function may differ in their arguments' types
        metas = [[owner.where[e] for e in seg.arg_eids] for _, _, seg in lowered.pieces if seg is not None]
        self.job = (lowered, metas, start, stop, [s.op_name for s in plan.steps[start:stop]], owner.shared.graph)
        self.background = stop - start >= owner.shared.background_steps

    def for_run(self, owner, after_runs):
        """The compiled pieces for this run of `owner` (a CompiledPlan), or None to run it interpreted (then call
        `after_interpreted_run`). A range compiles once it ran `after_runs` times (compile.COMPILE_AFTER_RUNS):
        synchronously when that is a cheap cache load."""
        self.ready()
        if not self.lowered and self.runs >= after_runs:
            self.lower(owner)
        if self.job is not None and self.runs >= after_runs and not self.background:
            from . import plan_cache
            if _numba_warm() and plan_cache.cached(self.job[0]):
                job, self.job = self.job, None
                self.pieces, self.info = _build(*job)
            else:
                self.background = True
        self.runs += 1
        return self.pieces or None

    def after_interpreted_run(self, after_runs):
        """Start a due background compile after an interpreted run: the kernels that ran loaded themselves by
        then, and do not wait on numba's compiler lock, which the compile holds for seconds."""
        if self.job is not None and self.background and self.runs > after_runs:
            self.start_background()

    def start_background(self):
        if self.job is not None:
            job, self.job = self.job, None
            self.future = executor().submit(_build, *job)
            self.future.job = job
            _queued[:] = [f for f in _queued if not f.done()] + [self.future]

    def ready(self):
        if self.pieces is None and self.future is not None and self.future.done():
            if self.future.cancelled():     # `cancel_pending`: queued again after the next interpreted run
                self.job, self.future = self.future.job, None
                return None
            self.pieces, self.info = self.future.result()
            self.future = None
        return self.pieces or None


def _interpreted(start, stop, err):
    debug("jit: steps %d..%d run interpreted: compiling failed: %s: %s" % (start, stop - 1, type(err).__name__,
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
    from ops.jit import native

    from . import plan_cache
    began = time.perf_counter()
    module, key = plan_cache.load(lowered)
    pieces, hits, misses = [], 0, 0
    segment_metas = iter(metas)
    for a, b, seg in lowered.pieces:
        if seg is None:
            pieces.append((a, b, None, (), None))
            continue
        for slot, fn, argtypes in seg.natives:      # Note [bodies called by address] in scheduler/codegen.py
            seg.sizes[slot] = native.address(getattr(module, fn) if isinstance(fn, str) else fn, argtypes)
        dispatcher = getattr(module, seg.name)
        entry = dispatcher.compile(_signature(next(segment_metas)))
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
    debug("jit: steps %d..%d: %d ops (%s), %d segment%s, %d interpreted, %d fused group%s %s, compile %.0f ms, "
           "cache %s, %s" % (start, stop - 1, stop - start, ", ".join(sorted(set(op_names))), len(segments),
                             "" if len(segments) == 1 else "s", interpreted, len(fused), "" if len(fused) == 1
                             else "s", fused, info["compile_ms"], "hit" if info["cache_hit"] else "miss", key[:12]))
    return pieces, info


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
    (what numba.typeof gives for the arrays that `compile._fits`), made from the metas alone so that a background
    compile never reads the arrays."""
    from ops.jit import native
    return (native.array_type(np.uint8, 1), native.array_type(np.int64, 1)) + tuple(
        native.array_type(m.dtype, len(m.shape)) for m in metas)


def _numba_warm():
    """Whether numba has loaded its array support: the first njit compile or cache load of a process spends 1-2 s
    importing it (numba's `load_additional_registries`, scipy's BLAS check), so that one goes to the background
    too, and the first calls run interpreted."""
    return "numba.np.arraymath" in sys.modules


_pool = None


def executor():
    global _pool
    if _pool is None:
        _pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="dataflow-jit")
        # before the executor's own exit hook joins its thread (these hooks run last registered first)
        getattr(threading, "_register_atexit", atexit.register)(cancel_pending)
    return _pool


_queued = []        # the Ranges' background compiles, maybe done


def cancel_pending():
    """Drop the background compiles that have not started (the one running finishes): at interpreter exit, which
    would otherwise wait for every compile queued, and between tests. A dropped compile's Range runs interpreted
    and queues it again after its next run."""
    for future in list(_queued):   # a copy: a plan running on another thread may queue one meanwhile
        future.cancel()             # a cancelled future is done: `start_background` prunes it


def wait_all(timeout=None):
    """Block until every background compile queued so far is done (tests and benchmarks that measure memory or
    time from a quiet start)."""
    if _pool is not None:
        _pool.submit(lambda: None).result(timeout)


def debug(line):
    """Print `line` when DATAFLOW_DEBUG is 1 or more."""
    if int(os.environ.get("DATAFLOW_DEBUG", 0) or 0) >= 1:
        print(line)
