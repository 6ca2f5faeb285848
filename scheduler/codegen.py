"""Lowering a range of a Plan's steps to the source of one Python module of numba functions (the JIT contract of
issue 15; scheduler/compile.py compiles, caches and runs what this writes).

Needs: the Plan (its steps, arrays and arena), one `ops.jit.Body` or None per step, and where each entry lives
(`scheduler.compile.Where`: an offset in the arena, or an array passed in as an argument).
Gives: a `Lowered` range: its pieces in step order, each a run of interpreted steps or a `Segment` (one generated
function), and the module source.

A segment is straight-line code: the arena views it needs (`arena_view(arena, offset, np.float32, (a, b))`, from
ops/jit/views.py), then one call per step (`body(*inputs, *outputs, *args)`) or
per fused group. A fused group is a run of consecutive elementwise steps (each with a scalar function, one output
of n elements, inputs of n elements or of one) turned into one loop over the n elements: values flow between its
steps in registers, and only outputs someone else reads (a later step, a copy, the caller through a bound array) are
stored. Large loops can run on two threads (Note [two threads]).

Sizes are read at run time: every int that depends on shapes or on the memory plan (view offsets and shapes, loop
lengths, the bodies' int args) is an element of the segment's `sizes`, passed as its second argument `d`. Two
Plans of one graph at different batch sizes usually lower to the same source, so they share one module and one
numba compile (plan_cache.py keys modules by their source); only bool and float constants are in the source.

Note [one function per code]: a graph that repeats a block (an unrolled RNN's time steps, a net's identical layers)
lowers to segments and loops that differ only in the entry ids in their names (`x23` against `x41`) and in their
comments. Each generated function is added once per code: `_canonical` renumbers the entries in order of first use
and drops the comments, and a function whose canonical code was added before is not written again: its callers call
the first one (whose comments name the first use's steps). numba compiles each function separately, ~0.3-1 s each
with the bodies it calls, so this is what a module's compile costs: the ranges of tests/test_bucketing_module.py's
unrolled LSTM went from 27, 17, 51 and 33 functions to 16, 12, 24 and 15. Functions with the same code may still get
arguments of other types (a segment's passed-in arrays carry no dtype in its code): numba compiles one specialisation
per signature.

Note [bodies called by address]: numba links a callee's code into every caller and optimises it again there (a
segment calling FullyConnected's body paid 0.3 s for it, and each level of calls paid again for those below), so a
segment calls its bodies and its module's loop functions through their machine-code address (ops/jit/native.py):
an element of `d` that compile_range.py fills in once the module is loaded (`Segment.natives`), never a constant
of the cached code; the call states the callee's types, checked when numba types the segment. Arena views are
intrinsics (ops/jit/views.py), not numba's generic slicing and reshape. Measured (2026-12-07, empty caches):
tests/test_fusion*, test_concat_elision, test_bench_smoke, test_autograd_higher_order 391 s -> 230 s.

Note [tiled fusion]: one loop through a chain of vmath's float32 polynomials (tanh32, exp32, ...) is one long
dependency chain per element: an out-of-order core overlaps few iterations of a body of 150 instructions, and the
loop runs latency-bound (elemwise10, 1M floats: 4.4 ms, against 3.9 ms for its ten separate loops). A group holding
such a step therefore runs tile by tile: per tile of `TILE` elements, each stage (a run of other steps, or one vmath
step) is its own short loop, from and into tile buffers that stay in L1 (2.7 ms; memory is read and written once,
as in one loop), 16 floats wide where the host has AVX-512 (2.5 ms; Note [512-bit vectors] in ops/cpu/vmath.py).
A vmath stage is compiled with FMA contraction, as vmath's own loops are (the kernels' values to the bit); the other
stages without (the kernels' last bit). The cheap steps right after a vmath step join its stage (one pass over the
tile buffers less each) where contraction cannot touch them: each is one known operation (`Body.scalar_arithmetic`),
no sum in the stage reads a product made in it, and no product is added into memory (`_joins_vmath_stage`); cheap
steps before the first vmath step, or that could contract, keep a stage of their own (elemwise10: 8 stages -> 5,
1.89 -> 1.64 ms per 1M floats on one thread, the same bits; a stage of one cheap step costs ~0.05 ms per 1M). An
input in memory is loaded by the first stage that reads it, which keeps it in a tile buffer where later stages read
it too (loading it again from memory cost elemwise10 4-5%); an input stored over by an earlier stage is one that
died there (in place), so no later stage reads it.

Note [memory through views]: a loop over part of an array (a tile at `base`, a chunk of the two-thread form) reads
and writes it through a view of that part, indexed from 0 (`m3_ = m3[base:base + m]`, then `m3_[j]`), never as
`m3[base + j]`: numba wraps negative indices, LLVM cannot prove `base + j` >= 0, and the vectorised loop then
gathers its loads and scatters its stores (elemwise10's first and last tile stages: 0.30 ms per 1M floats each,
against 0.05 for a stage over tile buffers).

Note [fusion and the memory plan]: the memory plan lets a step write where an entry that died before it lived. One
loop interleaves its steps element by element, so a group may only read and write memory that is either disjoint
or the very same elements (in place: the same offset and element size); a group whose loads and stores overlap
otherwise is cut before the step that would break this. Inputs of one element are loaded before the loop.

Note [two threads]: a big enough fused loop (PARALLEL_WORK) is written three times: `fused_k_run(c0, c1, ...)` runs
its chunks c0..c1 of CHUNK elements serially; `fused_k_par` runs it on `threads` threads of numba's parallel layer,
each taking the next chunk from a shared atomic counter until none is left (a thread that starts late or is
preempted takes fewer chunks: a static split would wait for its slower half); `fused_k(..., n, threads)` picks one
of them. `threads` is an element of the segment's sizes (Segment.threads), which the compiled range's LoopThreads
(scheduler/compile.py) sets before each call: 1 unless the other core is idle and two threads measurably win, the
same policy as a big GEMM's BLAS threads. The serial path never enters the parallel layer. Entering it is not free:
with OpenMP's passive waiting (loop_threads.py) an empty two-thread region took 40-48 us median on this VM (waking
the sleeping thread), 2-5 us with active spinning; so only work of about half a millisecond or more gains (hence
PARALLEL_WORK). Measured and dropped for that reason (2026-12-07, our process given priority over a busy host):
a FullyConnected backward's two 5-MFLOP GEMMs (fcnet-train's data and weight gradients) one per thread: 102 against
97 us on one thread; 50 us only with active spinning, and a bounded spin (GOMP_SPINCOUNT=100000, ~1 ms) gave no
clear gain in the whole training step (median 224 against 204 us) while its helper burned the other core.

Note [GEMM epilogue]: a FullyConnected adds its bias in a pass of its own over its output, and the Activation after
it makes another (mlp1024: ~60 us of ~1.5 ms). Where a step's Body gives `bias_free` (the GEMM alone) and the steps
after it start an elementwise run reading its output, the segment calls the GEMM alone and then one loop, row by row
over the output, that adds bias[j] and runs the run's steps on the value (the same operations in the same order as
the separate passes: equal to the bit). The biased output is stored only where someone else reads it (a backward, a
bound output). A run with a vmath step (a tiled loop) keeps the separate bias pass.
"""
import dataclasses
import math
import re

import numpy as np
from numba.core import types

from ops.cpu import vmath
from ops.jit import native, views
from ops.jit.common import next_index
from ops.registry import ADD, NULL

# A fused loop whose work (elements times its steps, a vmath step counting VMATH_WORK) reaches PARALLEL_WORK gets a
# two-thread form besides its serial one (Note [two threads]). Measured on the 2-core host, other core idle, serial
# vs two threads, median us: relu(x * 1.5 + 0.25) (work 3 per element) 64k elements 14 vs 17, 256k 66 vs 52, 1M
# 560 vs 420; tanh(exp(x)) (work 16) 16k 27 vs 31, 64k 100 vs 71, 256k 400 vs 230. So from a work of about 1M on.
PARALLEL_WORK = 1 << 20
VMATH_WORK = 8

# Elements per tile of a fused group with a vmath step (Note [tiled fusion]): a few float32 tile buffers of 4 KB stay
# in L1. Measured on elemwise10's chain: 128 to 2048 elements all within 5% (2.7 ms per 1M).
TILE = 1024
CHUNK = 16 * TILE           # the elements two threads take from a loop at a time (Note [two threads])

# The generated functions' numba flags: the scalar functions inlined into fused loops get the caller's error model,
# and numpy's is the kernels' (1 / 0 is inf, no exception); no fastmath (it would change the last bits).
_FLAGS = 'cache=True, nogil=True, error_model="numpy"'
_VMATH_FLAGS = _FLAGS + ', fastmath={"contract"}'


@dataclasses.dataclass
class Segment:
    """Steps [start, stop) as one generated function `name(arena, sizes, *arrays[arg_eids])`."""
    start: int
    stop: int
    name: str
    arg_eids: tuple
    fused: list         # number of steps in each fused group
    sizes: np.ndarray   # the ints read at run time (int64), see the module docstring
    threads: tuple = ()     # the positions in sizes of the thread counts of two-thread loops (Note [two threads])
    # (position in sizes, body or the name of a function of the module, argument types) of each call by address:
    # compile_range.py puts the function's address there once the module is loaded (Note [bodies called by
    # address])
    natives: tuple = ()


@dataclasses.dataclass
class Lowered:
    pieces: list        # (start, stop, Segment or None for interpreted steps), in step order
    source: str         # the module; "" when nothing compiles
    imports: tuple      # the modules the source imports bodies from (their sources are part of the cache key)


def lower(plan, start, stop, bodies, where, readers, copied, parallel, fuse=True):
    """Lower steps[start:stop]. `bodies[i]`: step i's Body or None. `where[eid]`: a Where. `readers[eid]`: the
    indices of the steps reading the entry (over the whole plan); `copied`: entries a Plan copy reads.
    `parallel()`: whether big loops get a two-thread form (Note [two threads]; asked only where a loop is big
    enough: it may start numba's threads); `fuse`: whether elementwise runs become one loop."""
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
        self.named = {}             # a function's text with canonical names and no comments -> its name
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
        args, lines, viewed, sizes = [], [], set(), []
        typed = {}          # an argument expression -> its numba type, for the calls by address
        natives = []

        def size(value):
            """The expression reading an int that depends on shapes or offsets: an element of `d`, at run time."""
            sizes.append(int(value))
            expr = "d[%d]" % (len(sizes) - 1)
            typed[expr] = types.int64
            return expr

        threads = []

        def thread_count():
            """The expression reading a two-thread loop's thread count, set per call (Note [two threads])."""
            threads.append(len(sizes))
            return size(1)

        def ref(eid, flat=False):
            """The expression for entry eid's array in the segment (flattened to one dimension when asked)."""
            w = self.where[eid]
            if w.offset is None:
                if eid not in args:
                    args.append(eid)
                var = "a%d" % eid
            else:
                var = "v%d" % eid
                if eid not in viewed:       # made without numba's generic slicing and reshape (ops/jit/views.py)
                    viewed.add(eid)
                    lines.insert(len(viewed) - 1, "    %s = %s(arena, %s, np.%s, %s)" % (
                        var, self.alias(views.arena_view, "arena_view"), size(w.offset), w.dtype.name,
                        _tuple([size(d) for d in w.shape])))
            expr = "%s(%s, %s)" % (self.alias(views.flat, "flat"), var, size(w.size)) if flat else var
            typed[expr] = native.array_type(w.dtype, 1 if flat else len(w.shape))
            return expr

        def arg(value):
            is_int = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
            return size(value) if is_int else literal(value)

        def by_address(fn, values, argtypes, comment):
            """The line calling `fn` (a body, or a function of this module by name) by address (Note [bodies
            called by address])."""
            natives.append((len(sizes), fn, argtypes))
            packed = -1 if isinstance(fn, str) else native.packed_from(fn)
            signature = native.signature_text(native.native_types(argtypes, packed))
            return "    %s(%s, %r, %d, %s)%s" % (self.alias(native.call_native, "call_native"), size(0), signature,
                                               packed, ", ".join(values), comment)

        def call(i, body, skip=None):
            """The line calling `body` for step i, without its input number `skip`."""
            step = steps[i]
            inputs = [e for k, e in enumerate(graph.inputs[step.nid]) if k != skip]
            outs = range(graph.node_row_ptr[step.nid], graph.node_row_ptr[step.nid + 1])
            refs = [ref(e, body.flat) for e in list(inputs) + list(outs)]
            values = refs + [arg(a) for a in body.args]
            comment = "  # %s %s: %s" % (step.op_name, step.name, body.name)
            if not native.by_address(body.fn):
                return "    %s(%s)%s" % (self.alias(body.fn, body.name), ", ".join(values), comment)
            self.modules.add(body.fn.__module__)    # its source stays part of the cache key (plan_cache.py)
            argtypes = tuple(typed[v] for v in refs) + tuple(native.constant_type(a) for a in body.args)
            return by_address(body.fn, values, argtypes, comment)

        def call_fused(group, head=None):
            name, values, comment = self._fused_call(group, bodies, ref, size, thread_count, head)
            return by_address(name, values, tuple(typed[v] for v in values), "%s: %s" % (comment, name))

        fused = []
        i = start
        while i < stop:
            run = self._epilogue_run(i, stop, bodies)
            if run:                 # Note [GEMM epilogue]: the GEMM alone, then its bias add in the run's loop
                lines.append(call(i, bodies[i].bias_free, skip=bodies[i].bias_input))
                lines.append(call_fused(run, head=i))
                fused.append(1 + len(run))
                i += 1 + len(run)
                continue
            group = self._fusable_run(i, stop, bodies)
            if len(group) >= 2:
                lines.append(call_fused(group))
                fused.append(len(group))
                i += len(group)
                continue
            lines.append(call(i, bodies[i]))
            i += 1
        name = self._function(name, ["arena", "d"] + ["a%d" % e for e in args], lines)
        return Segment(start, stop, name, tuple(args), fused, np.array(sizes, dtype=np.int64), tuple(threads),
                       tuple(natives))

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

    def _epilogue_run(self, i, stop, bodies):
        """The elementwise steps after GEMM step i whose loop takes in its bias add (Note [GEMM epilogue]), or []."""
        body = bodies[i]
        if not self.fuse or body is None or body.bias_free is None or i + 1 >= stop:
            return []
        out = self._outs(i)[0]
        if self._elementwise(i + 1, bodies) != self.where[out].size \
                or out not in self.plan.graph.inputs[self.plan.steps[i + 1].nid]:
            return []
        run = self._fusable_run(i + 1, stop, bodies)
        if any(bodies[j].scalar_vmath for j in run):
            return []           # a tiled loop (Note [tiled fusion]) takes no GEMM head
        while run and not self._memory_safe(run, head=i):
            run.pop()
        return run

    def _plan_group(self, group, head=None):
        """(memory inputs, stored outputs) of a group: entries read from memory, and outputs written to it. With a
        GEMM `head` (Note [GEMM epilogue]) its output counts as made in the loop: stored there when someone else
        reads it, and not a memory input."""
        graph, steps = self.plan.graph, self.plan.steps
        produced, loads, stores = set(), [], []
        members = set(group)
        if head is not None:
            out = self._outs(head)[0]
            produced.add(out)
            if self.where[out].offset is None or out in self.copied \
                    or any(r not in members for r in self.readers.get(out, ())):
                stores.append((out, steps[head].req[0]))
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

    def _memory_safe(self, group, head=None):
        loads, stores = self._plan_group(group, head)
        n = self.where[self._outs(group[0])[0]].size
        reads = [e for e in loads if self.where[e].size == n] + [e for e, req in stores if req == ADD]
        if head is not None:
            reads.append(self._outs(head)[0])          # the GEMM's result, read back by the loop
        writes = [e for e, _ in stores]
        return all(self._same_or_apart(r, w) for w in writes for r in reads + writes if r != w)

    def _same_or_apart(self, a, b):
        wa, wb = self.where[a], self.where[b]
        if wa.offset is None or wb.offset is None:
            return True             # a passed-in array is memory of its own (distinct entries, distinct arrays)
        if wa.offset + wa.nbytes <= wb.offset or wb.offset + wb.nbytes <= wa.offset:
            return True
        return wa.offset == wb.offset and wa.dtype.itemsize == wb.dtype.itemsize and wa.size == wb.size

    def _fused_call(self, group, bodies, ref, size, thread_count, head=None):
        """Write the loop function of a group (after the GEMM step `head`, whose bias add it makes: Note [GEMM
        epilogue]); return its name, the argument expressions of the segment's call and the call's comment."""
        loads, stores = self._plan_group(group, head)
        n = self.where[self._outs(group[0])[0]].size
        name = "fused_%d" % self.fused_count
        self.fused_count += 1
        tiled = head is None and any(bodies[i].scalar_vmath for i in group)
        work = n * sum(VMATH_WORK if bodies[i].scalar_vmath else 1 for i in group)
        parallel = head is None and work >= PARALLEL_WORK and self.parallel()
        names = {} if tiled else self._in_place_names(loads, stores, n)
        params = ["m%d" % e for e in loads if e not in names] + ["o%d" % e for e, _ in stores]
        args = [ref(e, flat=True) for e in loads if e not in names] + [ref(e, flat=True) for e, _ in stores]
        before = ["    x%d = m%d[0]" % (e, e) for e in loads if self.where[e].size != n]
        steps = [self.plan.steps[i].op_name for i in ([] if head is None else [head]) + group]
        comment = "  # fused: %s" % ", ".join(steps)
        if head is not None:
            body = self._epilogue_loop(head, group, bodies, loads, stores, n, params, args, ref, size, names)
        elif parallel:          # Note [two threads]: chunks c0..c1, and the two ways to run them
            first, last = "c0 * %d" % CHUNK, "min(n, c1 * %d)" % CHUNK
            if tiled:
                body = self._tiled(name, group, bodies, loads, stores, n, first, last)
            else:
                arrays = ["m%d" % e for e in loads if e not in names and self.where[e].size == n]
                body = (["    lo = " + first, "    hi = " + last]
                        + self._views(arrays + ["o%d" % e for e, _ in stores], "lo", "hi")
                        + ["    for i in range(hi - lo):"]
                        + self._stage_lines(group, bodies, loads, stores, n, "i", "i", names=names, suffix="_"))
            run = self._function(name + "_run", ["c0", "c1"] + params + ["n"], before + body)
            par = self._function(name + "_par", params + ["n", "threads"], [
                "    chunks = (n + %d) // %d" % (CHUNK - 1, CHUNK),
                "    taken = np.zeros(1, np.int64)",
                "    for w in numba.prange(threads):",
                "        c = %s(taken, 0)" % self.alias(next_index, "next_index"),
                "        while c < chunks:",
                "            %s(c, c + 1, %s)" % (run, ", ".join(params + ["n"])),
                "            c = %s(taken, 0)" % self.alias(next_index, "next_index")], parallel=True)
            name = self._function(name, params + ["n", "threads"], [
                "    if threads > 1:",
                "        %s(%s)" % (par, ", ".join(params + ["n", "threads"])),
                "    else:",
                "        %s(0, (n + %d) // %d, %s)" % (run, CHUNK - 1, CHUNK, ", ".join(params + ["n"]))])
            return name, args + [size(n), thread_count()], comment
        elif tiled:
            body = self._tiled(name, group, bodies, loads, stores, n, "0", "n")
        else:
            body = ["    for i in range(n):"] + self._stage_lines(group, bodies, loads, stores, n, "i", "i",
                                                                  names=names)
        name = self._function(name, params + ["n"], before + body)
        return name, args + [size(n)], comment

    def _function(self, name, params, lines, flags=_FLAGS, parallel=False):
        """Add the function `name(params)` with body `lines` to the module and return its name, or return the name
        of the function already added with the same code (Note [one function per code])."""
        decorator = "@numba.njit(%s)" % (flags + (", parallel=True" if parallel else ""))
        key = _canonical("\n".join([decorator, ", ".join(params)] + lines))
        if key not in self.named:
            self.named[key] = name
            self.functions.append("%s\ndef %s(%s):\n%s\n" % (decorator, name, ", ".join(params), "\n".join(lines)))
        return self.named[key]

    def _in_place_names(self, loads, stores, n):
        """Loads of a one-pass loop whose memory an output of the loop overwrites in place, each read through that
        output's parameter: two names for one memory keep LLVM from vectorising the loop (its runtime overlap check
        fails and the scalar loop runs: measured 110-210 us against 20 us over 1024x256 floats)."""
        names = {}
        for e in loads:
            w = self.where[e]
            if w.size != n or w.offset is None:
                continue
            for s, _ in stores:
                if s != e and self.where[s].offset == w.offset and self._same_or_apart(s, e):
                    names[e] = "o%d" % s
                    break
        return names

    def _epilogue_loop(self, head, group, bodies, loads, stores, n, params, args, ref, size, names):
        """Note [GEMM epilogue]: the loop over the GEMM's output, row by row, adding bias[j] to each value before
        the group's steps; the biased value is stored back where someone else reads it. Adds its own parameters
        (the output where it is not stored, the bias `mb`, the row length `h`) to `params` and `args`."""
        out = self._outs(head)[0]
        step = self.plan.steps[head]
        bias = self.plan.graph.inputs[step.nid][bodies[head].bias_input]
        stored = any(e == out for e, _ in stores)
        # read through the very parameter a step writes in place over the output: two names for one memory would
        # keep LLVM from vectorising the loop (measured 140 us against 22 us for 1024x256 floats)
        over = [e for e, _ in stores if e != out and self.where[out].offset is not None
                and self._same_or_apart(e, out) and self.where[e].offset == self.where[out].offset]
        source = "o%d" % (out if stored or not over else over[0])
        if not stored and not over:
            source = "m%d" % out
            params.append(source)
            args.append(ref(out, flat=True))
        params += ["mb", "h"]
        args += [ref(bias, flat=True), size(self.where[bias].size)]
        inner = ["        x%d = np.%s(%s[i] + mb[j])  # %s %s: + bias" % (out, self.where[out].dtype.name, source,
                                                                       step.op_name, step.name)]
        inner += self._stage_lines(group, bodies, loads, stores, n, "i", "i", names=names)
        if stored:
            inner.append("        %s[i] = x%d" % (source, out))
        return (["    for r in range(n // h):", "        for j in range(h):", "            i = r * h + j"]
                + ["    " + line for line in inner])

    def _stage_lines(self, stage, bodies, loads, stores, n, index, memory_index, tiles=(), later=(), names=None,
                     suffix=""):
        """The body of a loop over `index` computing the steps of `stage`: inputs in `loads` read from memory at
        `memory_index`, values of earlier stages from their tile buffers `t<eid>` (`tiles`); values that later stages
        read (`later`) stored to their tile buffers, and the outputs in `stores` to memory. `suffix` names the
        views of the memory arrays that the loop reads and writes (Note [memory through views])."""
        graph, steps = self.plan.graph, self.plan.steps
        produced = {self._outs(i)[0] for i in stage}
        needed = [e for i in stage for e in graph.inputs[steps[i].nid]]
        lines = []
        for e in dict.fromkeys(needed):
            if e in produced:
                continue
            if e in tiles:
                lines.append("        x%d = t%d[%s]" % (e, e, index))
            elif e in loads and self.where[e].size == n:
                lines.append("        x%d = %s%s[%s]" % (e, (names or {}).get(e, "m%d" % e), suffix, memory_index))
        for i in stage:
            b, out = bodies[i], self._outs(i)[0]
            values = ["x%d" % e for e in graph.inputs[steps[i].nid]] + [literal(a) for a in b.scalar_args]
            lines.append("        x%d = np.%s(%s(%s))  # %s %s" % (
                out, self.where[out].dtype.name, self.alias(b.scalar, b.scalar_name), ", ".join(values),
                steps[i].op_name, steps[i].name))
        for e in sorted(set(later) & (produced | set(loads))):      # values (and loaded inputs) later stages read
            lines.append("        t%d[%s] = x%d" % (e, index, e))
        for e, req in stores:
            if e in produced:
                lines.append("        o%d%s[%s] %s= x%d" % (e, suffix, memory_index, "+" if req == ADD else "", e))
        return lines

    @staticmethod
    def _views(arrays, first, last):
        """Lines making each memory array's view of elements [first, last): `m3` -> `m3_` (Note [memory through
        views])."""
        return ["    %s_ = %s[%s:%s]" % (a, a, first, last) for a in arrays]

    def _tiled(self, name, group, bodies, loads, stores, n, first, last):
        """The loop of a group with a vmath step over elements [first, last) (expressions), tile by tile, one
        function per stage (Note [tiled fusion])."""
        graph, steps = self.plan.graph, self.plan.steps
        stages = []
        for i in group:
            if bodies[i].scalar_vmath or not stages:
                stages.append([i])
            elif bodies[stages[-1][0]].scalar_vmath:
                if self._joins_vmath_stage(stages[-1], i, bodies, stores):
                    stages[-1].append(i)
                else:
                    stages.append([i])
            else:
                stages[-1].append(i)
        # values cross stages through tile buffers, and so does an input in memory that several stages read (its
        # first reader loads it: Note [tiled fusion])
        producer = {self._outs(i)[0]: k for k, stage in enumerate(stages) for i in stage}
        stage_reads = [{e for i in stage for e in graph.inputs[steps[i].nid]} for stage in stages]
        for e in loads:
            readers = [k for k, reads in enumerate(stage_reads) if e in reads]
            if self.where[e].size == n and len(readers) > 1:
                producer[e] = readers[0]
        crossing = sorted({e for k, reads in enumerate(stage_reads) for e in reads if producer.get(e, k) < k})
        scalars = [e for e in loads if self.where[e].size != n]
        lines = ["    t%d = np.empty(%d, np.%s)" % (e, TILE, self.where[e].dtype.name) for e in crossing]
        lines.append("    for base in range(%s, %s, %d):" % (first, last, TILE))
        lines.append("        m = min(%d, n - base)" % TILE)
        wide = self.alias(vmath.prefer_wide_vectors, "prefer_wide_vectors")
        for k, stage in enumerate(stages):
            reads, made = stage_reads[k], {self._outs(i)[0] for i in stage}
            tiles_in = [e for e in crossing if e in reads and producer[e] < k]
            tiles_out = [e for e in crossing if producer[e] == k]
            memory = [e for e in loads if e in reads and self.where[e].size == n and producer.get(e, k) == k]
            values = [e for e in scalars if e in reads]
            outs = [(e, req) for e, req in stores if e in made]
            stage_name = "%s_%d" % (name, k)
            stage_args = (["base", "m"] + ["t%d" % e for e in tiles_in + tiles_out] + ["m%d" % e for e in memory]
                          + ["x%d" % e for e in values] + ["o%d" % e for e, _ in outs])     # named alike in both
            # 16 floats wide on AVX-512 (Note [512-bit vectors] in ops/cpu/vmath.py)
            views = self._views(["m%d" % e for e in memory] + ["o%d" % e for e, _ in outs], "base", "base + m")
            stage_lines = ["    %s()" % wide] + views + ["    for j in range(m):"] + self._stage_lines(
                stage, bodies, memory, outs, n, "j", "j", tiles=tiles_in, later=tiles_out, suffix="_")
            stage_name = self._function(stage_name, stage_args, stage_lines,
                                        flags=_VMATH_FLAGS if bodies[stage[0]].scalar_vmath else _FLAGS)
            lines.append("        %s(%s)  # %s" % (stage_name, ", ".join(stage_args),
                                                   ", ".join(steps[i].op_name for i in stage)))
        return lines

    def _joins_vmath_stage(self, stage, i, bodies, stores):
        """Whether step i may run in `stage` (a vmath step and the steps that joined it), which is compiled with FMA
        contraction, and still give its own bits (Note [tiled fusion]): its scalar is one known operation, not a sum
        reading a product made in the stage, and not a product added into memory (req add): either pair would
        become one FMA. The vmath step's own value is never a bare product (each ends in a select or a quotient),
        nor is any value read from a tile buffer or memory."""
        kind, out = bodies[i].scalar_arithmetic, self._outs(i)[0]
        if kind == "mul":
            return (out, ADD) not in stores
        if kind == "add":
            products = {self._outs(j)[0] for j in stage[1:] if bodies[j].scalar_arithmetic == "mul"}
            return not products & set(self.plan.graph.inputs[self.plan.steps[i].nid])
        return kind == "plain"


# The names a generated function gives the entries it handles: an argument a7, an arena view v7, a loop's memory
# input m7 (its view of a part m7_), output o7, value x7, tile buffer t7; 7 being the entry's id in the Plan.
_ENTRY_NAME = re.compile(r"\b([avmotx])(\d+)(?=_?\b)")


def _canonical(text):
    """A generated function's code with its entries renumbered in order of first use and its comments dropped: two
    functions with the same canonical code compute the same thing on their arguments (Note [one function per
    code])."""
    numbers = {}
    text = re.sub(r"\s*#[^\n]*", "", text)
    return _ENTRY_NAME.sub(lambda m: m.group(1) + str(numbers.setdefault(m.group(2), len(numbers))), text)


def _tuple(items):
    """A tuple's source from its items' sources."""
    return "(%s)" % "".join("%s, " % d for d in items) if items else "()"
