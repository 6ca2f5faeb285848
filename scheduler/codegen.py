"""Lowering a range of a Plan's steps to the source of one Python module of numba functions (the JIT contract of
issue 15; scheduler/compile.py compiles, caches and runs what this writes).

Needs: the Plan (its steps, arrays and arena), one `ops.jit.Body` or None per step, and where each entry lives
(`Where`: an offset in the arena, or an array passed in as an argument).   Gives: a `Lowered` range: its pieces in
step order, each a run of interpreted steps or a `Segment` (one generated function), and the module source.

A segment is straight-line code: the arena views it needs, made with constant offsets
(`arena[o:o + n].view(np.float32).reshape((a, b))`), then one call per step (`body(*inputs, *outputs, *args)`) or
per fused group. A fused group is a run of consecutive elementwise steps (each with a scalar function, one output
of n elements, inputs of n elements or of one) turned into one loop over the n elements: values flow between its
steps in registers, and only outputs someone else reads (a later step, a copy, the caller through a bound array) are
stored. Large loops run with prange over the cores.

Note [fusion and the memory plan]: the memory plan lets a step write where an entry that died before it lived. One
loop interleaves its steps element by element, so a group may only read and write memory that is either disjoint
or the very same elements (in place: the same offset and element size); a group whose loads and stores overlap
otherwise is cut before the step that would break this. Inputs of one element are loaded before the loop.
"""
import dataclasses
import math

import numpy as np

from ops.registry import ADD, NULL

# Loops over at least this many elements (times the ops in the loop) run with prange over the cores. Measured on the
# 2-core host under a load average of 6 (a float32 multiply-add-relu loop, serial vs prange): 4k elements 0.5 vs
# 1.9 us, 16k 2.0 vs 2.7 us, 64k 7.5 vs 5.5 us, 256k 33 vs 12 us; so from 64k on, with some margin for a busy core.
PARALLEL_WORK = 1 << 16

# The generated functions' numba flags: the scalar functions inlined into fused loops get the caller's error model,
# and numpy's is the kernels' (1 / 0 is inf, no exception); no fastmath (it would change the last bits).
_FLAGS = 'cache=True, nogil=True, error_model="numpy"'


@dataclasses.dataclass(frozen=True)
class Where:
    """Where entry values live for generated code: `offset` in the arena, or None for an array passed in."""
    offset: object
    shape: tuple
    dtype: np.dtype

    @property
    def size(self):
        return math.prod(self.shape)

    @property
    def nbytes(self):
        return self.size * self.dtype.itemsize


@dataclasses.dataclass
class Segment:
    """Steps [start, stop) as one generated function `name(arena, *arrays[arg_eids])`."""
    start: int
    stop: int
    name: str
    arg_eids: tuple
    fused: list         # number of steps in each fused group


@dataclasses.dataclass
class Lowered:
    pieces: list        # (start, stop, Segment or None for interpreted steps), in step order
    source: str         # the module; "" when nothing compiles
    imports: tuple      # the modules the source imports bodies from (their sources are part of the cache key)


def lower(plan, start, stop, bodies, where, readers, copied, parallel, fuse=True):
    """Lower steps[start:stop]. `bodies[i]`: step i's Body or None. `where[eid]`: a Where. `readers[eid]`: the
    indices of the steps reading the entry (over the whole plan); `copied`: entries a Plan copy reads.
    `parallel`: whether prange may be used; `fuse`: whether elementwise runs become one loop."""
    writer = _ModuleWriter(plan, where, readers, copied, parallel, fuse)
    pieces, i = [], start
    while i < stop:
        j = i
        compiled = bodies[i] is not None
        while j < stop and (bodies[j] is not None) == compiled:
            j += 1
        pieces.append((i, j, writer.segment(i, j, bodies) if compiled else None))
        i = j
    if not writer.functions:
        return Lowered(pieces, "", ())
    return Lowered(pieces, writer.source(), tuple(sorted(writer.modules)))


def literal(value):
    """Python source for a compile-time constant of a Body (int, float, bool)."""
    if isinstance(value, (bool, np.bool_)):
        return repr(bool(value))
    if isinstance(value, (int, np.integer)):
        return repr(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value):
            return "np.nan"
        if math.isinf(value):
            return "np.inf" if value > 0 else "-np.inf"
        return repr(value)
    raise TypeError("a Body constant must be an int, float or bool, got %r" % (value,))


class _ModuleWriter:
    """Collects the imports and functions of one generated module."""

    def __init__(self, plan, where, readers, copied, parallel, fuse):
        self.plan, self.where, self.readers, self.copied, self.parallel = plan, where, readers, copied, parallel
        self.fuse = fuse
        self.imports = {}           # (module, name) -> alias
        self.modules = set()
        self.functions = []         # source of each function
        self.fused_count = 0

    def alias(self, fn, name):
        key = (fn.__module__, name)
        if key not in self.imports:
            self.imports[key] = "_b%d" % len(self.imports)
            self.modules.add(fn.__module__)
        return self.imports[key]

    def source(self):
        head = ["# Generated by scheduler/codegen.py from a dataflow Plan; never edited, named by its hash.",
                "import numpy as np", "import numba", ""]
        head += ["from %s import %s as %s" % (module, name, alias)
                 for (module, name), alias in sorted(self.imports.items(), key=lambda kv: kv[1])]
        return "\n".join(head) + "\n\n" + "\n\n".join(self.functions)

    # -- one segment --------------------------------------------------------------------------------------------
    def segment(self, start, stop, bodies):
        graph, steps = self.plan.graph, self.plan.steps
        name = "segment_%d_%d" % (start, stop)
        args, lines, views = [], [], set()

        def ref(eid, flat=False):
            """The expression for entry eid's array in the segment (flattened to one dimension when asked)."""
            w = self.where[eid]
            if w.offset is None:
                if eid not in args:
                    args.append(eid)
                var = "a%d" % eid
            else:
                var = "v%d" % eid
                if eid not in views:
                    views.add(eid)
                    lines.insert(len(views) - 1, "    %s = arena[%d:%d].view(np.%s).reshape(%s)" % (
                        var, w.offset, w.offset + w.nbytes, w.dtype.name, _tuple(w.shape)))
            return "%s.reshape((%d,))" % (var, w.size) if flat else var

        fused = []
        i = start
        while i < stop:
            group = self._fusable_run(i, stop, bodies)
            if len(group) >= 2:
                lines.append("    " + self._fused_call(group, bodies, ref))
                fused.append(len(group))
                i += len(group)
                continue
            step, body = steps[i], bodies[i]
            outs = range(graph.node_row_ptr[step.nid], graph.node_row_ptr[step.nid + 1])
            call = [ref(e) for e in graph.inputs[step.nid]] + [ref(e) for e in outs]
            call += [literal(a) for a in body.args]
            lines.append("    %s(%s)  # %s %s" % (self.alias(body.fn, body.name), ", ".join(call), step.op_name,
                                                  step.name))
            i += 1
        params = ", ".join(["arena"] + ["a%d" % e for e in args])
        self.functions.append("@numba.njit(%s)\ndef %s(%s):\n%s\n" % (_FLAGS, name, params,
                                                                                          "\n".join(lines)))
        return Segment(start, stop, name, tuple(args), fused)

    # -- fusion -------------------------------------------------------------------------------------------------
    def _elementwise(self, i, bodies):
        """The loop length n if step i can join a fused loop, else None."""
        body, step = bodies[i], self.plan.steps[i]
        node = self.plan.graph.nodes[step.nid]
        if not self.fuse or body is None or body.scalar is None or len(step.outputs) != 1 \
                or node.op.written_inputs(step.params):
            return None
        n = self.where[self._outs(i)[0]].size
        if any(self.where[e].size not in (n, 1) for e in self.plan.graph.inputs[step.nid]):
            return None
        return n

    def _outs(self, i):
        graph, nid = self.plan.graph, self.plan.steps[i].nid
        return list(range(graph.node_row_ptr[nid], graph.node_row_ptr[nid + 1]))

    def _fusable_run(self, i, stop, bodies):
        """The longest run of steps i, i+1, ... that one loop can compute (Note [fusion and the memory plan])."""
        n = self._elementwise(i, bodies)
        if n is None:
            return [i]
        group = [i]
        while i + len(group) < stop and self._elementwise(i + len(group), bodies) == n:
            if not self._memory_safe(group + [i + len(group)]):
                break
            group.append(i + len(group))
        return group if self._memory_safe(group) else [i]

    def _plan_group(self, group):
        """(memory inputs, stored outputs) of a group: entries read from memory, and outputs written to it."""
        graph, steps = self.plan.graph, self.plan.steps
        produced, loads, stores = set(), [], []
        members = set(group)
        for i in group:
            for e in graph.inputs[steps[i].nid]:
                if e not in produced and e not in loads:
                    loads.append(e)
            out = self._outs(i)[0]
            produced.add(out)
            req = steps[i].req[0]
            if req != NULL and (self.where[out].offset is None or out in self.copied
                                or any(r not in members for r in self.readers.get(out, ()))):
                stores.append((out, req))
        return loads, stores

    def _memory_safe(self, group):
        loads, stores = self._plan_group(group)
        n = self.where[self._outs(group[0])[0]].size
        reads = [e for e in loads if self.where[e].size == n] + [e for e, req in stores if req == ADD]
        writes = [e for e, _ in stores]
        return all(self._same_or_apart(r, w) for w in writes for r in reads + writes if r != w)

    def _same_or_apart(self, a, b):
        wa, wb = self.where[a], self.where[b]
        if wa.offset is None or wb.offset is None:
            return True             # a passed-in array is memory of its own (distinct entries, distinct arrays)
        if wa.offset + wa.nbytes <= wb.offset or wb.offset + wb.nbytes <= wa.offset:
            return True
        return wa.offset == wb.offset and wa.dtype.itemsize == wb.dtype.itemsize and wa.size == wb.size

    def _fused_call(self, group, bodies, ref):
        """Write the loop function of a group; return the segment's line calling it."""
        graph, steps = self.plan.graph, self.plan.steps
        loads, stores = self._plan_group(group)
        n = self.where[self._outs(group[0])[0]].size
        name = "fused_%d" % self.fused_count
        self.fused_count += 1
        parallel = self.parallel and n * len(group) >= PARALLEL_WORK
        params = ["m%d" % e for e in loads] + ["o%d" % e for e, _ in stores]
        before = ["    x%d = m%d[0]" % (e, e) for e in loads if self.where[e].size != n]
        body = ["        x%d = m%d[i]" % (e, e) for e in loads if self.where[e].size == n]
        for i in group:
            b, out = bodies[i], self._outs(i)[0]
            values = ["x%d" % e for e in graph.inputs[steps[i].nid]] + [literal(a) for a in b.scalar_args]
            body.append("        x%d = np.%s(%s(%s))  # %s %s" % (
                out, self.where[out].dtype.name, self.alias(b.scalar, b.scalar_name), ", ".join(values),
                steps[i].op_name, steps[i].name))
        for e, req in stores:
            body.append("        o%d[i] %s= x%d" % (e, "+" if req == ADD else "", e))
        self.functions.append("@numba.njit(%s%s)\ndef %s(%s):\n%s    for i in %s(%d):\n%s\n" % (_FLAGS,
            ", parallel=True" if parallel else "", name, ", ".join(params),
            "".join(line + "\n" for line in before), "numba.prange" if parallel else "range", n, "\n".join(body)))
        args = [ref(e, flat=True) for e in loads] + [ref(e, flat=True) for e, _ in stores]
        return "%s(%s)  # fused: %s" % (name, ", ".join(args), ", ".join(steps[i].op_name for i in group))


def _tuple(shape):
    return "(%s)" % "".join("%d, " % d for d in shape) if shape else "()"
