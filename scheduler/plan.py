"""Plan: the ordered steps of a graph, each bound to the buffers it reads and writes; built once, run many times.

Needs: an IndexedGraph, shapes and dtypes per entry, a MemoryPlan, and the arrays that live outside the plan
(`bound`: eid -> numpy array, for variables and outputs).   Gives: a runnable `Plan`.
Stages: 1. lay the planned storages out in one arena (at the memory plan's offsets). 2. give every entry its array: the
bound one, or a view of its storage in the arena. 3. one Step per op node, with its kernel, params, input and
output arrays and `req` (INPLACE where the memory plan shared an input's buffer, or as the caller asks: ADD for
grad_req='add'). `run(ctx, start, stop, segment)` runs a range of steps and then the copies of that segment, so
forward and backward are two ranges of one plan. Entries that Concat elision made batch-strided (the memory plan's
`row_strides`) are strided views; their steps run through `_SampleBySample`. Entries that Concat elision put in a
bound output's array (the memory plan's `outside`) are views of that array, made again whenever it is rebound; a GPU
plan, or one given no fitting array, gives them buffers of their own and runs that Concat as the real copy.
On a GPU (`ctx=mx.gpu(i)`), the arena is one device allocation from the device's pool (ops/cuda/storage.py), the
views are device arrays, the steps run the ops' `gpu` kernels on the device's stream, and the copies are device
copies; the steps and the memory plan are the same.
Leaves out: threading — a Plan runs on one engine worker as one pushed op.
"""
import dataclasses
import math
import time

import numpy as np

from ops.errors import MXNetError, in_operator
from ops.registry import INPLACE, WRITE

from . import op_timing
from .elision import SHAPE_ONLY_FROM
from .memory import EXTERNAL

_ALIGN = 64


@dataclasses.dataclass(slots=True)
class Step:
    nid: int
    name: str
    op_name: str
    kernel: object
    params: object
    inputs: list
    outputs: list
    req: list


@dataclasses.dataclass
class Copy:
    """After a segment runs: dst = src (or dst += src when `add`; dst = 0 when src is None). `src` is an eid when
    given to Plan, the entry's array inside it."""
    src: object
    dst: np.ndarray
    add: bool = False
    segment: str = None


class Plan:
    """Steps bound to views of one arena. See the module docstring."""

    def __init__(self, graph, shapes, dtypes, memory, bound, copies=(), req=None, ctx=None):
        self.graph = graph
        self.memory = memory
        self.device = ctx.device_id if ctx is not None and ctx.device_type == "gpu" else None
        offsets = memory.offsets
        if offsets is None:     # a plan without an arena layout: the storages end to end
            offsets, end = [], 0
            for nbytes in memory.storage_bytes:
                offsets.append(end)
                end += -(-nbytes // _ALIGN) * _ALIGN
        outside = memory.outside or (None,) * len(memory.storage_bytes)
        total = max((o + n for o, n, held in zip(offsets, memory.storage_bytes, outside, strict=True) if held is None),
                    default=0)
        if self.device is None:
            self.arena = np.empty(total, dtype=np.uint8)
        else:
            from ops.cuda import storage
            self.arena = storage.empty_bytes(max(total, _ALIGN), self.device)      # one pooled allocation
        self.arrays = self._views(graph, shapes, dtypes, memory, bound, offsets)
        strided = self._strided
        self.steps = []
        req, inplace, row = req or {}, memory.inplace, graph.node_row_ptr
        arrays = self.arrays
        on_cpu = self.device is None
        for nid, node in enumerate(graph.nodes):
            op = node.op
            if op is None:
                continue
            first, last = row[nid], row[nid + 1]
            if last - first == 1:       # most ops: one output
                outs, reqs = [arrays[first]], [req.get(first) or (INPLACE if inplace[first] else WRITE)]
            else:
                outs = arrays[first:last]
                reqs = [req.get(e) or (INPLACE if inplace[e] else WRITE) for e in range(first, last)]
            # no kernel: e.g. a recorded call whose values exist, never run again
            kernel = (op.cpu if on_cpu else op.gpu) or _no_kernel
            if nid in memory.elided and nid not in self._copying:
                kernel = _elided        # a Concat/split whose slices alias its inputs/outputs: nothing to copy
            elif strided and (any(e in strided for e in graph.inputs[nid][:SHAPE_ONLY_FROM.get(op.name)])
                              or any(e in strided for e in range(first, last))):
                kernel = _SampleBySample(op, kernel)    # (inputs read for their shapes only may stay strided)
            self.steps.append(Step(nid, node.name, op.name, kernel, node.params,
                                   [arrays[e] for e in graph.inputs[nid]], outs, reqs))
        self.copies = [Copy(None if c.src is None else self.arrays[c.src], c.dst, c.add, c.segment)
                       for c in copies]
        self._uses = None       # eid -> [(list, position)] of the step slots holding its array: built by `rebind`

    def _views(self, graph, shapes, dtypes, memory, bound, offsets):
        """Every entry's array: the bound one, a view of its storage in the arena, or None (an external entry
        nobody bound: a variable this plan never reads)."""
        arrays = []
        storage_id, arena = memory.storage_id, self.arena
        row_strides = memory.row_strides or (None,) * len(memory.storage_bytes)
        # a GPU plan gives batch-strided sids buffers of their own and runs the elided steps touching them as the
        # real copies: the CUDA kernels take contiguous arrays (the arena keeps their bytes unused)
        self._copying, own = set(), {}
        self._strided = set()           # the eids of batch-strided views (CPU)
        if self.device is not None:
            from ops.cuda import storage
            if any(s is not None for s in row_strides):
                self._copying = {nid for nid in memory.elided if any(
                    row_strides[storage_id[e]] is not None for e in _entries(graph, nid))}
        # Concat inputs elided into a bound output's array: views of it (`_derived`), or, on a GPU or without a
        # fitting array, buffers of their own per sid (`alone`) and the elided steps touching them copying
        outside = memory.outside or (None,) * len(memory.storage_bytes)
        self._derived = {}              # bound eid -> [(eid, offset, shape, dtype, strides)] of the views of its array
        unfit = {held for held in set(outside) if held is not None and (
            self.device is not None or not _holds(bound.get(held), shapes[held], dtypes[held]))}
        alone = {sid for sid, held in enumerate(outside) if held in unfit}
        self._held = {held: (tuple(shapes[held]), dtypes[held]) for held in set(outside) - unfit - {None}}
        if alone:
            self._copying |= {nid for nid in memory.elided if any(storage_id[e] in alone for e in _entries(graph, nid))}
        # per eid: the byte offset of its view in the arena, None when it has none (bound, external, rebound, or
        # on a GPU); the JIT reads it (scheduler/compile.py `_where`) instead of asking numpy for each pointer
        self.view_offsets = view_offsets = [None] * graph.num_entries
        for eid in range(graph.num_entries):
            if eid in bound:
                arrays.append(bound[eid])
                continue
            sid = storage_id[eid]
            if sid == EXTERNAL:
                arrays.append(None)
                continue
            stride, held = row_strides[sid], outside[sid]
            if self.device is None and stride is None and held is None:     # a view made in one call: 2.5x faster
                arrays.append(np.ndarray(shapes[eid], dtypes[eid], arena, offsets[sid]))    # than slice, view, reshape
                view_offsets[eid] = offsets[sid]
                continue
            dtype, shape = np.dtype(dtypes[eid]), tuple(shapes[eid])
            # batch-strided: each sample C-contiguous, the samples `stride` bytes apart
            strides = None if stride is None else (stride,) + _sample_strides(shape, dtype)
            if held is not None and sid not in alone:
                self._derived.setdefault(held, []).append((eid, offsets[sid], shape, dtype, strides))
                arrays.append(np.ndarray(shape, dtype, bound[held], offsets[sid], strides))
                if strides is not None:
                    self._strided.add(eid)
                continue
            if self.device is None:
                if sid in alone:
                    if sid not in own:
                        own[sid] = np.empty(memory.storage_bytes[sid], np.uint8)
                    arrays.append(np.ndarray(shape, dtype, own[sid]))
                    continue
                arrays.append(np.ndarray(shape, dtype, arena, offsets[sid], strides))
                self._strided.add(eid)
                continue
            nbytes = math.prod(shape) * dtype.itemsize
            if nbytes == 0:
                arrays.append(storage.empty(shape, dtype, self.device))
                continue
            if stride is not None or sid in alone:
                if sid not in own:
                    own[sid] = storage.empty_bytes(max(memory.storage_bytes[sid], _ALIGN), self.device)
                arrays.append(own[sid][:nbytes].view(dtype).reshape(shape))
                continue
            arrays.append(arena[offsets[sid]:offsets[sid] + nbytes].view(dtype).reshape(shape))
        return arrays

    def rebind(self, eid, array):
        """Point every step that reads or writes entry `eid` at `array` (a new input or output buffer), and the
        entries living in its array (Concat inputs elided into it) at their views of the new one."""
        derived = self._derived.get(eid)
        if derived:         # checked before anything changes: a refused array leaves the plan as it was
            shape, dtype = self._held[eid]
            if not _holds(array, shape, dtype):
                raise MXNetError("%r is bound to %s; the Concat writing it puts its inputs into its array, which "
                                 "must be a C-contiguous %s array of shape %s" % (
                                     self.graph.entry_name(eid), _describe(array), np.dtype(dtype).name, shape))
        for slots, j in self._slot_uses().get(eid, ()):
            slots[j] = array
        old, self.arrays[eid] = self.arrays[eid], array
        self.view_offsets[eid] = None
        for copy in self.copies:
            if copy.src is old:
                copy.src = array
            if copy.dst is old:
                copy.dst = array
        if derived:
            for view_eid, offset, shape, dtype, strides in derived:
                self.rebind(view_eid, np.ndarray(shape, dtype, array, offset, strides))

    def derives(self, eids):
        """Whether some entry lives in the array bound at one of `eids` (a view `rebind` makes again)."""
        return any(eid in self._derived for eid in eids)

    def release(self, eids):
        """Drop the references to the arrays bound at `eids` and to every copy's arrays (a kept plan must not keep
        the arrays of its last run alive); a run needs each of them bound again first (`rebind`, and the copies'
        `src`/`dst`). A compiled plan keeps expecting the layouts it was compiled for."""
        uses, arrays = self._slot_uses(), self.arrays
        eids = list(eids) + [view[0] for eid in eids for view in self._derived.get(eid, ())]
        for eid in eids:
            for slots, j in uses.get(eid, ()):
                slots[j] = None
            arrays[eid] = None
        for copy in self.copies:
            copy.src = copy.dst = None

    def _slot_uses(self):
        """eid -> [(slot list, position)] of the step slots holding its array, built once."""
        if self._uses is None:
            self._uses = {}
            for step in self.steps:
                for used, slots, j in _slots(self.graph, step):
                    self._uses.setdefault(used, []).append((slots, j))
        return self._uses

    def rebind_copy(self, index, dst):
        """Point copy `index` (its position in the `copies` given to the Plan) at a new destination array, e.g.
        the fresh output array of a head that `bind_outputs` copies."""
        self.copies[index].dst = dst

    def run(self, ctx, start=0, stop=None, segment=None):
        """Run steps[start:stop], then the copies of `segment`."""
        if self.device is not None:
            from ops.cuda import storage
            with storage.on_device(self.device):
                self._run(ctx, start, stop, segment)
        else:
            self._run(ctx, start, stop, segment)

    def _run(self, ctx, start, stop, segment):
        timer = op_timing.timer
        for step in self.steps[start:stop]:
            try:
                if timer is None:
                    step.kernel(ctx, step.params, step.inputs, step.outputs, step.req)
                else:
                    began = time.perf_counter()
                    step.kernel(ctx, step.params, step.inputs, step.outputs, step.req)
                    timer(step.op_name, began, time.perf_counter())
            except MXNetError:
                raise
            except Exception as err:
                raise MXNetError(in_operator(step.op_name, step.name, "%s: %s" % (type(err).__name__, err))) \
                    from err
        for copy in self.copies:
            if copy.segment != segment:
                continue
            if self.device is not None:
                from ops.cuda import common
                if copy.src is None:
                    common.fill(copy.dst, 0)
                else:
                    common.copy_into(copy.src, copy.dst, "add" if copy.add else "write")
                continue
            if copy.src is None:
                copy.dst.fill(0)
            elif copy.add:
                np.add(copy.dst, copy.src, out=copy.dst)
            else:
                np.copyto(copy.dst, copy.src)

    def __str__(self):
        lines = []
        for step in self.steps:
            g = self.graph
            ins = ", ".join("%%%d" % e for e in g.inputs[step.nid])
            outs = range(g.node_row_ptr[step.nid], g.node_row_ptr[step.nid + 1])
            for e, arr, req in zip(outs, step.outputs, step.req, strict=True):
                sid = self.memory.storage_id[e]
                lines.append("%%%d = %s(%s)  %s %s %s%s" % (
                    e, step.op_name, ins, "sid=%d" % sid if sid != EXTERNAL else "external",
                    tuple(arr.shape), arr.dtype.name, "  inplace" if req == INPLACE else ""))
        return "\n".join(lines)


def _slots(graph, step):
    """(eid, slot list, position) for every input and output slot of a step."""
    for j, eid in enumerate(graph.inputs[step.nid]):
        yield eid, step.inputs, j
    for j in range(len(step.outputs)):
        yield graph.node_row_ptr[step.nid] + j, step.outputs, j


def _entries(graph, nid):
    return list(graph.inputs[nid]) + list(range(graph.node_row_ptr[nid], graph.node_row_ptr[nid + 1]))


def _elided(ctx, p, inputs, outputs, req):
    pass


def _sample_strides(shape, dtype):
    """The C-contiguous byte strides of one sample of `shape` (its axes after the first)."""
    strides, step = [], dtype.itemsize
    for d in reversed(shape[1:]):
        strides.append(step)
        step *= d
    return tuple(reversed(strides))


def _holds(array, shape, dtype):
    """Whether `array` can hold the views of the entries elided into a bound entry of `shape` and `dtype`."""
    return (isinstance(array, np.ndarray) and array.flags.c_contiguous and array.flags.writeable
            and array.nbytes == math.prod(shape) * np.dtype(dtype).itemsize)


def _describe(array):
    if not isinstance(array, np.ndarray):
        return type(array).__name__
    return "a %s%s array of shape %s" % ("" if array.flags.c_contiguous else "non-contiguous ", array.dtype.name,
                                          array.shape)


def _batch_strided(array):
    """Whether `array` is batch-strided: not C-contiguous, but its first sample is."""
    return (isinstance(array, np.ndarray) and array.ndim > 0 and not array.flags.c_contiguous
            and array[:1].flags.c_contiguous)


class _SampleBySample:
    """The kernel of a step that reads or writes batch-strided arrays (Concat elision at batch > 1: each sample
    C-contiguous, the samples a row stride apart): the kernel itself where it takes them (`batch_strided` set on
    the CPU kernel), else sample by sample over contiguous one-sample slices where the op computes each sample
    alone (`OpDef.per_sample` in this mode), else over contiguous copies."""

    __slots__ = ("op", "kernel")

    def __init__(self, op, kernel):
        self.op, self.kernel = op, kernel

    def __call__(self, ctx, p, inputs, outputs, req):
        if getattr(self.kernel, "batch_strided", False):
            self.kernel(ctx, p, inputs, outputs, req)
            return
        split = self.op.per_sample(p, ctx.is_train) if self.op.per_sample is not None else None
        if split is not None and _batched_only(inputs, outputs, *split):
            ins_at, outs_at = split
            n = (inputs[ins_at[0]] if ins_at else outputs[outs_at[0]]).shape[0]
            for i in range(n):
                self.kernel(ctx, p, [a[i:i + 1] if k in ins_at else a for k, a in enumerate(inputs)],
                            [a[i:i + 1] if k in outs_at else a for k, a in enumerate(outputs)], req)
            return
        contiguous = [np.ascontiguousarray(a) if _batch_strided(a) else a for a in outputs]
        self.kernel(ctx, p, [np.ascontiguousarray(a) if _batch_strided(a) else a for a in inputs], contiguous, req)
        for out, result in zip(outputs, contiguous, strict=True):
            if result is not out:
                np.copyto(out, result)


def _batched_only(inputs, outputs, ins_at, outs_at):
    """Whether every batch-strided array is at a batched position, and the batched arrays share axis 0."""
    sizes = set()
    for arrays, at in ((inputs, ins_at), (outputs, outs_at)):
        for k, a in enumerate(arrays):
            if k in at:
                if a is None or a.ndim == 0:
                    return False
                sizes.add(a.shape[0])
            elif _batch_strided(a):
                return False
    return len(sizes) == 1


def _no_kernel(ctx, p, inputs, outputs, req):
    raise MXNetError("this op has no CPU kernel")


def bind_outputs(heads, arrays, bound, segment="forward"):
    """Bind the graph's head entries to their output arrays, one array per head; returns (copies, copy index per
    head, None where the array was bound).

    A head's array becomes the entry's buffer (it joins `bound`) unless the entry already has one: a variable (the
    head is an input or a parameter returned as it is) or an entry that is also an earlier head (`Group([y, y])`).
    Such a head is copied into its array after the `segment` steps, so every output array gets the value and no
    binding replaces the buffer that a step reads or another output holds."""
    copies, copy_of = [], []
    for eid, array in zip(heads, arrays, strict=True):
        if eid in bound:
            copy_of.append(len(copies))
            copies.append(Copy(eid, array, segment=segment))
        else:
            copy_of.append(None)
            bound[eid] = array
    return copies, copy_of


def written_variables(graph, start=0, stop=None):
    """The nids of the variables that the op nodes [start:stop] of `graph` (a Plan's steps, in order) write: aux
    states (BatchNorm's moving stats, written by its backward), a fixed gamma (OpDef.written_inputs). The engine
    push running those steps declares them as writes."""
    written = []
    for node in [n for n in graph.nodes if n.op is not None][start:stop]:
        if not node.op.aux and node.op.writes_arguments is None:
            continue        # an op that writes none of its inputs (most)
        for pos in node.op.written_inputs(node.params):
            nid = graph.nid[id(node.inputs[pos].node)]
            if graph.nodes[nid].is_variable and nid not in written:
                written.append(nid)
    return written
