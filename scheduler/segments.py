"""A backward cut into several engine pushes, each publishing the gradients it finishes (hybridized blocks,
autograd's backward, bound Executors).

Note [segmented backward]
A hybridized block under `autograd.record()` runs its backward as the steps [n_forward, n_steps) of one compiled Plan
(`_CachedBackward` in cached_graph.py). Run as one engine push, every parameter gradient becomes readable only when
the whole backward ends. Cut into k pushes, each push declares as written only the gradients it finishes (a
gradient is finished by the step that computes it: the last layer's first), so an engine op reading those (a dist
KVStore's bucket reduction, dataflow/kvstore/overlap.py) can start while the pushes after it still run: MXNet's
overlap of communication with the backward, where each op of the backward publishes its outputs.

How it is wired. A hybridized block: the cached graph's gradient rule (dataflow/gluon/cached_graph.py) emits k
`_backward_CachedOp` nodes instead of one, chained by a one-element token entry, node i running steps
[cut_i, cut_{i+1}) of the same Plan and writing the gradients finished there (`ends_push` set on all but the last);
autograd's planned backward (dataflow/autograd/backward_plans.py `_segmentation`) cuts its push after each node marked
`ends_push`; without such nodes (a block that is not hybridized) it cuts its own steps by the same rule. A bound
Executor (Module) cuts its backward steps by that rule too (dataflow/executor.py). All push
with `push_ranges`, which lists in a push's writes only the gradient arrays it finishes and no later step reads
(`published`). The values are those of the single push: the same steps in the same order on the same arena (a
compiled Plan compiles each range on its own, so fusion stops at a cut: float32 results may differ in the last bit).

Cuts: the parameters' gradients, in the order the steps finish them, are grouped so that each group holds at least
the byte target (the last group may hold less); a cut follows the step that finishes a group. Each push costs one
engine round trip and each range compiles on its own (once, cached), so segments of a few MB suit large models and
small ones get one push. Off (one push) unless asked: `request(target)` (the Trainer or Module on a dist store with
overlap: Note [overlapped reduction] in dataflow/kvstore/overlap.py), or DATAFLOW_BACKWARD_SEGMENTS=k (k pushes of
about equal gradient bytes; 1: one push), which overrides it.
"""
import bisect
import os

from ops.errors import MXNetError

from .engine import get_engine

_requested = [None]     # what `request` set for this process: a function giving the byte target (0: one push)


def request(target):
    """Cut every backward of this process into pushes of about `target()` bytes of gradients (read at
    each backward; 0: one push). None: one push again."""
    _requested[0] = target


def setting():
    """(kind, value): ('count', k) from DATAFLOW_BACKWARD_SEGMENTS, else ('bytes', n) from `request`; k = 1 or
    n = 0 mean one push."""
    raw = os.environ.get("DATAFLOW_BACKWARD_SEGMENTS")
    if raw is None:
        return ("bytes", max(0, int(_requested[0]())) if _requested[0] is not None else 0)
    try:
        count = int(raw)
    except ValueError:
        count = 0
    if count < 1:
        raise MXNetError("DATAFLOW_BACKWARD_SEGMENTS must be a positive number of pushes, got %r" % raw)
    return ("count", count)


def asked(how):
    """Whether the setting `how` asks for more than one push."""
    kind, value = how
    return value > 1 if kind == "count" else value > 0


def ranges(start, stop, finishes, how):
    """The step ranges [(a, b)] covering [start, stop) for the gradients `finishes` = [(step finishing it, nbytes)]
    under the setting `how` (Note [segmented backward]); [(start, stop)] when no cut is asked for or possible."""
    kind, value = how
    total = sum(n for _, n in finishes)
    target = total / value if kind == "count" else value
    if not finishes or target <= 0 or target >= total:
        return [(start, stop)]
    # at most value - 1 cuts for a count: bytes held over from a step that could not be cut again would count twice
    most = value - 1 if kind == "count" else len(finishes)
    cuts, held = [], 0
    for step, nbytes in sorted(finishes):
        held += nbytes
        if held >= target and start < step + 1 < stop and (not cuts or cuts[-1] < step + 1) and len(cuts) < most:
            cuts.append(step + 1)
            held = 0
    bounds = [start] + cuts + [stop]
    return list(zip(bounds[:-1], bounds[1:]))


def finishing_steps(plan, graph, eids):
    """Per eid of `eids` (None allowed), the index of the Plan step whose node outputs it, or None (a variable's
    entry, None). A Plan's steps are the graph's op nodes in order."""
    step_of = {step.nid: k for k, step in enumerate(plan.steps)}
    row = graph.node_row_ptr
    owner = {eid: nid for nid in step_of for eid in range(row[nid], row[nid + 1])}
    return [None if e is None or e not in owner else step_of[owner[e]] for e in eids]


def published(plan, graph, bounds, eids, direct):
    """Per range between `bounds`, the indices k of the gradient entries `eids` that it publishes: an entry written
    straight into its array (`direct`: eids bound to the caller's arrays) by a step of the range and read by no step
    of a later range; every other one in the last range (the Plan's copies run there)."""
    last_read = {}
    for k, step in enumerate(plan.steps):
        for eid in graph.inputs[step.nid]:
            last_read[eid] = k
    n = len(bounds) - 1
    out = [[] for _ in range(n)]
    for k, (eid, step) in enumerate(zip(eids, finishing_steps(plan, graph, eids))):
        where = n - 1
        if eid is not None and eid in direct and step is not None:
            where = min(max(bisect.bisect_right(bounds, step) - 1, 0), n - 1)
            if bisect.bisect_right(bounds, last_read.get(eid, -1)) - 1 > where:
                where = n - 1
        out[where].append(k)
    return out


def push_ranges(run, bounds, reads, writes, published_vars, name):
    """Push `run(start, stop, copies)` once per range between `bounds`, in order: each reads `reads` and writes
    `writes`, its `published_vars` and one var chaining the pushes; `copies` is "backward" for the last range (the
    Plan's copies of the backward run after its steps) and a name no copy has before."""
    engine = get_engine()
    order = engine.new_var("segmented backward")
    for i in range(len(bounds) - 1):
        a, b = bounds[i], bounds[i + 1]
        copies = "backward" if i == len(bounds) - 2 else "backward, in part"
        engine.push(lambda a=a, b=b, copies=copies: run(a, b, copies), reads,
                    list(published_vars[i]) + list(writes) + [order], "%s (steps %d..%d)" % (name, a, b - 1))
