"""Timing each operator that a Plan step or an imperative call runs, for `mx.profiler` (dataflow/profiler.py sets
`timer` while it records operators). With no timer, the cost is one global read per Plan run or imperative push;
while one is set, compiled Plans run their steps interpreted (a fused loop has no operator boundaries to time)."""
import time

timer = None    # callable(op_name, start, end), times in time.perf_counter() seconds; or None


def timed(fn, op_name):
    """`fn` (no arguments) wrapped to report its run to the timer set when it finishes."""
    def run():
        start = time.perf_counter()
        try:
            return fn()
        finally:
            report = timer
            if report is not None:
                report(op_name, start, time.perf_counter())
    return run
