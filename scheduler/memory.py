"""Memory planning: give each entry a storage id (sid), reusing buffers whose last reader has run.

Needs: graph, shapes, dtypes, in-place options.   Gives: MemoryPlan (sid per entry, bytes per sid, stats).
Stages: 1. count the readers of each entry.  2. walk in topological order: reuse an input in place if the op
allows it and that input dies here, else allocate a new storage (one sid per in-place chain, with the steps it
lives between); nest the storages of a Concat's inputs in its output (Concat elision, scheduler/elision.py: one
contiguous range each, or at batch > 1 along axis 1 one range per sample, batch-strided). 3. pack the sids into one
arena: largest first, each at the lowest offset free over its lifetime, then, more than 1% above the most bytes
alive at one step, a few rounds of reordering (`_pack_near_bound`); sids whose lifetimes are disjoint share bytes;
a nested sid sits inside its parent, and a Concat's inputs elided into a bound output (`into`) sit in that output's
array, outside the arena.
4. totals: naive, planned (the arena) and the liveness lower bound.   Leaves out: variables and heads (external
storage), except heads the caller keeps (`keep`: read by a copy after the last step, so never freed).

Kept from MXNet's PlanMemory (nnvm `plan_memory.cc`): a node's outputs are allocated before its inputs are
released, so an output shares an input's buffer only in place; the free list is a size-keyed multimap searched
within `NNVM_EXEC_MATCH_RANGE` (0: never reuse), and a smaller free block is grown to the request.
Changed: bytes use the real dtype size (MXNet assumes 4); in place needs equal bytes and dtype, and is allowed
when every remaining read of the input is by this node (`a * a`), where MXNet wants one remaining read.
Left out: devices and node colours.

With `DATAFLOW_MEMORY_PACKING=0`, stage 2 instead reuses freed sids through MXNet's free list (below) and the
sids are laid end to end.

Env: `DATAFLOW_NO_MEMORY_PLANNER=1` gives each planned entry its own sid; `DATAFLOW_CONCAT_ELISION=0` keeps every
Concat/split a real copy; `DATAFLOW_DEBUG>=1` prints one line.
"""
import bisect
import dataclasses
import heapq
import os
import sys

import numpy as np

from .elision import JOINS, SHAPE_ONLY_FROM, Nesting

EXTERNAL = -1


@dataclasses.dataclass(frozen=True)
class MemoryPlan:
    storage_id: tuple      # per eid: sid >= 0, or EXTERNAL for entries whose storage lives outside the plan
    inplace: tuple         # per eid: True when the entry took an input's storage in place (req=INPLACE)
    storage_bytes: tuple   # per sid
    naive_bytes: int       # sum of the bytes of every planned entry, each in its own buffer
    planned_bytes: int     # packed: the arena, max(offset + bytes); free-list mode: the sum of storage_bytes
    lower_bound_bytes: int  # peak of live bytes over the walk (the liveness lower bound), not counting the
                            # entries elided into bound outputs' arrays (`outside`)
    offsets: tuple = None  # per sid: byte offset in the arena (sids whose lifetimes are disjoint may overlap)
    elided: frozenset = frozenset()     # nids of the Concat/split steps whose slices alias: they copy nothing
    elided_copy_bytes: int = 0          # bytes those steps would have copied
    elided_saved_bytes: int = 0         # arena bytes saved against the same plan without elision
    within: tuple = ()      # per sid: (parent sid, byte offset of its first row in the parent's first row) for a
                            # slice of an elided step, else None
    row_strides: tuple = ()  # per sid: the byte stride of axis 0 where the sid is batch-strided, else None
    outside: tuple = ()     # per sid: the eid of the bound entry whose array holds it (its offset counts from that
                            # array's start: a Concat elided into a graph output, `into`), else None (in the arena)


def entry_bytes(shape, dtype):
    """Bytes of one entry, with the dtype's real item size."""
    return int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize


def _bytes(shape, dtype):
    """`entry_bytes` of a shape tuple and a numpy dtype, without numpy's per-call overhead."""
    n = dtype.itemsize
    for d in shape:
        n *= d
    return n


class _FreeList:
    """Free blocks keyed by size, as MXNet's GraphStorageAllocator: best fit within [S/range, S*range]."""

    def __init__(self, match_range):
        self.match_range = match_range
        self.blocks = []            # sorted (bytes, sid)

    def release(self, sid, nbytes):
        if self.match_range:        # with no matching (packing, or no planner) a freed block is never reused
            bisect.insort(self.blocks, (nbytes, sid))

    def request(self, size):
        """A free sid for `size` bytes and its (possibly grown) size, or None."""
        if self.match_range == 0:
            return None
        mid = bisect.bisect_left(self.blocks, (size, -1))
        end = bisect.bisect_right(self.blocks, (size * self.match_range, sys.maxsize))
        begin = bisect.bisect_left(self.blocks, (size // self.match_range, -1))
        if mid < end:               # the smallest block at least as large as the request
            nbytes, sid = self.blocks.pop(mid)
            return sid, nbytes
        if begin < mid:             # else the largest smaller block, grown to the request
            _, sid = self.blocks.pop(mid - 1)
            return sid, size
        return None


def plan_memory(graph, shapes, dtypes, external=(), match_range=None, keep=(), into=()):
    """Assign a storage id to every entry of `graph` that is not external; see the module docstring. `keep`: planned
    entries read after the last step (by a Plan's copies): their storage lives to the end of the plan. `into`:
    external entries written by a step into a C-contiguous array of their own that the Plan is given (and rebound
    to) with req WRITE, e.g. graph outputs: a Concat writing one may have its inputs elided into that array."""
    if match_range is None:
        match_range = int(os.environ.get("NNVM_EXEC_MATCH_RANGE", 16))
    reuse = os.environ.get("DATAFLOW_NO_MEMORY_PLANNER", "0") in ("", "0")
    if len(shapes) != graph.num_entries or len(dtypes) != graph.num_entries:
        raise ValueError("plan_memory: %d shapes and %d dtypes for %d entries"
                         % (len(shapes), len(dtypes), graph.num_entries))
    as_dtype = {t: np.dtype(t) for t in set(dtypes)}
    dtypes = [as_dtype[t] for t in dtypes]
    sizes = {}      # (shape, dtype) -> bytes: a large graph has a few of each
    try:
        nbytes = [sizes.get(key) or sizes.setdefault(key, _bytes(*key)) for key in zip(shapes, dtypes)]
    except TypeError:       # a shape given as a list
        nbytes = [_bytes(s, t) for s, t in zip(shapes, dtypes)]
    row = graph.node_row_ptr
    external = set(external) | (set(graph.heads) - set(keep)) | {row[nid] for nid in graph.arg_nodes}
    packing = reuse and os.environ.get("DATAFLOW_MEMORY_PACKING", "1") not in ("", "0")
    into = set(into) & external
    walk = _Walk(graph, shapes, dtypes, nbytes, external, match_range if reuse else 0, reuse, packing, keep, into)
    plan = walk.plan(elide=packing and os.environ.get("DATAFLOW_CONCAT_ELISION", "1") not in ("", "0"))
    if plan.elided:     # elision must never cost memory: keep the plan without it when that one is smaller
        plain = walk.plan(elide=False)
        if plain.planned_bytes < plan.planned_bytes:
            plan = plain
        else:
            plan = dataclasses.replace(plan, elided_saved_bytes=plain.planned_bytes - plan.planned_bytes)
    if int(os.environ.get("DATAFLOW_DEBUG", 0)) >= 1:
        elision = ("; %d concat/split steps elided, %.1f MB not copied, %.1f MB saved"
                   % (len(plan.elided), plan.elided_copy_bytes / 1e6, plan.elided_saved_bytes / 1e6)
                   if plan.elided else "")
        print("memory: naive %.1f MB -> planned %.1f MB (lower bound %.1f MB)%s"
              % (plan.naive_bytes / 1e6, plan.planned_bytes / 1e6, plan.lower_bound_bytes / 1e6, elision),
              file=sys.stderr)
    return plan


class _Walk:
    """Stage 2 and on: the walk over the nodes, the placement, the totals (`plan`). With `elide`, Concat elision
    (scheduler/elision.py `Nesting`) nests storages during the walk."""

    def __init__(self, graph, shapes, dtypes, nbytes, external, match_range, reuse, packing, keep=(), into=()):
        self.graph, self.shapes, self.dtypes, self.nbytes, self.keep = graph, shapes, dtypes, nbytes, keep
        self.into = into
        self.external, self.match_range, self.reuse, self.packing = external, match_range, reuse, packing

    def _last_value_reads(self):
        """Per eid: the last step reading its value (-1: none); reads of a shape alone do not count."""
        last = [-1] * self.graph.num_entries
        for step, node in enumerate(self.graph.nodes):
            if node.op is None:
                continue
            shape_only = SHAPE_ONLY_FROM.get(node.op.name, sys.maxsize)
            for k, eid in enumerate(self.graph.inputs[step]):
                if k < shape_only:
                    last[eid] = step
        for eid in self.keep:
            last[eid] = len(self.graph.nodes)
        return last

    def plan(self, elide):
        graph, dtypes, nbytes, external = self.graph, self.dtypes, self.nbytes, self.external
        row = graph.node_row_ptr

        # 1. readers of each entry; external entries are never freed, nor kept ones (a read no step makes)
        readers = [0] * graph.num_entries
        for eids in graph.inputs:
            for eid in eids:
                readers[eid] += 1
        for eid in self.keep:
            readers[eid] += 1

        # 2. the walk
        sid_of = [EXTERNAL] * graph.num_entries
        inplace = [False] * graph.num_entries
        storage_bytes, refs = [], []        # per sid: block size, remaining reads of the entry living in it
        free = _FreeList(0 if self.packing else self.match_range)    # packing: one sid per in-place chain
        live = peak = 0
        changes = []                        # (sid, bytes) as `live` changes, None where the peak is taken: the
                                            # bound again without the sids elided into bound outputs (step 4)
        born, died = [], []                 # per sid: the step it was allocated, the step it was last freed
        def add_holder(step):
            """A sid standing for a bound output's array (`into`): never packed, never freed, read by nobody."""
            storage_bytes.append(nbytes[graph.node_row_ptr[step]])
            refs.append(0)
            born.append(step)
            died.append(n_nodes)
            nest.new_sid()
            return len(storage_bytes) - 1

        nest = Nesting(graph, self.shapes, dtypes, nbytes, self._last_value_reads() if elide else None, self.into,
                       add_holder)
        parent = nest.parent                # per sid: (parent sid, byte offset in it) for elided sids, else None
        copy_bytes = 0

        def in_place_source(pairs, ins, out, eid, taken, step):
            """The sid of an input that output `out` may overwrite: an allowed pair, a planned input that no
            later node reads, not taken by another output of this node, of the same bytes and dtype, not a
            slice of an elided parent, and holding no value read later."""
            for i, o in pairs:
                src = ins[i]
                sid = sid_of[src]
                if (o == out and sid != EXTERNAL and sid not in taken and refs[sid] == ins.count(src)
                        and nbytes[src] == nbytes[eid] and dtypes[src] == dtypes[eid]
                        and nest.may_take_in_place(sid, step)):
                    return sid
            return None

        n_nodes = len(graph.nodes)
        for step, node in enumerate(graph.nodes):
            if node.op is None:
                continue
            ins, first, last = graph.inputs[step], row[step], row[step + 1]
            taken = set()                   # sids taken in place by this node's outputs
            pairs = node.op.inplace if self.reuse else ()
            for eid in range(first, last):
                if eid in external:
                    continue
                sid = in_place_source(pairs, ins, eid - first, eid, taken, step) if pairs else None
                if sid is not None:
                    sid_of[eid], inplace[eid] = sid, True
                    nest.holds(sid, eid)
                    taken.add(sid)
                    refs[sid] += readers[eid]
                    continue
                found = free.request(nbytes[eid]) if free.blocks else None
                if found is None:
                    found = (len(storage_bytes), nbytes[eid])
                    storage_bytes.append(0)
                    refs.append(0)
                    born.append(step)
                    died.append(n_nodes)
                    nest.new_sid()
                sid, size = found
                sid_of[eid], storage_bytes[sid], refs[sid] = sid, size, readers[eid]
                nest.holds(sid, eid)
                live += nbytes[eid]
                changes.append((sid, nbytes[eid]))
            if elide and not taken and nest.elide(step, node, sid_of):
                copy_bytes += nbytes[first] if node.op.name in JOINS else sum(nbytes[first:last])
            peak = max(peak, live)
            changes.append(None)
            for src in ins:
                sid = sid_of[src]
                if sid != EXTERNAL:
                    refs[sid] -= 1
                    if refs[sid] == 0:
                        live -= nbytes[src]
                        changes.append((sid, -nbytes[src]))
                        died[sid] = step
                        free.release(sid, storage_bytes[sid])
            for eid in range(first, last):
                if readers[eid] == 0 and sid_of[eid] != EXTERNAL and not inplace[eid]:
                    live -= nbytes[eid]     # nobody reads it (a hidden output); in place, freed above
                    changes.append((sid_of[eid], -nbytes[eid]))
                    died[sid_of[eid]] = step
                    free.release(sid_of[eid], storage_bytes[sid_of[eid]])

        # 3. offsets in one arena: free-list sids each get their own range; packed chains share ranges over time,
        # an elided sid at its offset inside its root's range
        roots = [s for s in range(len(storage_bytes)) if parent[s] is None and s not in nest.holders]
        if len(roots) < len(storage_bytes):
            for sid in range(len(storage_bytes)):      # a root lives over the lifetimes of its whole tree
                up = parent[sid]
                while up is not None:
                    born[up[0]], died[up[0]] = min(born[up[0]], born[sid]), max(died[up[0]], died[sid])
                    up = parent[up[0]]
        if self.packing:
            root_offsets, arena = _pack_near_bound([storage_bytes[s] for s in roots], [born[s] for s in roots],
                                                   [died[s] for s in roots])
        else:
            root_offsets, arena = _stack(storage_bytes)
        offsets, strides, outside = nest.layout(dict(zip(roots, root_offsets, strict=True)), storage_bytes)

        # 4. totals; the bytes living in bound outputs' arrays need no arena
        naive = sum(b for b, sid in zip(nbytes, sid_of, strict=True) if sid != EXTERNAL)
        if nest.holders:
            peak = _peak_without(changes, {sid for sid, held in enumerate(outside) if held is not None})
        return MemoryPlan(tuple(sid_of), tuple(inplace), tuple(storage_bytes), naive, arena, peak, tuple(offsets),
                          frozenset(nest.elided), copy_bytes, within=tuple(parent), row_strides=tuple(strides),
                          outside=tuple(outside))


_ALIGN = 64


def _aligned(nbytes):
    return -(-nbytes // _ALIGN) * _ALIGN


def _stack(sizes):
    """Offsets of blocks laid end to end (each its own range); the total is their bytes, as MXNet counts."""
    offsets, end = [], 0
    for size in sizes:
        offsets.append(end)
        end += _aligned(size)
    return offsets, sum(sizes)


def _pack(sizes, born, died):
    """Offline placement: largest block first, each at the lowest offset free over its whole lifetime [born,
    died] (greedy by size, as TFLite's arena planner). Lifetimes are known in advance, so this lands near the
    liveness lower bound where a free list (which only sees the past) fragments.

    The blocks of the largest size go first, onto an empty arena, in the order of their births: each takes the
    lowest slot of that size whose last block has died (`_pack_slots`), which is where the general search would
    put it. Only the smaller blocks search the busy ranges over time (`_BusyOverTime`)."""
    order = sorted(range(len(sizes)), key=lambda s: (-sizes[s], born[s]))
    offsets, arena = [0] * len(sizes), 0
    if not order:
        return offsets, arena
    largest = sizes[order[0]]
    n_first = next((k for k, sid in enumerate(order) if sizes[sid] != largest), len(order))
    arena = _pack_slots(order[:n_first], _aligned(largest), born, died, offsets)
    if n_first == len(order):
        return offsets, arena
    busy = _BusyOverTime(max(died, default=0) + 1)
    for sid in order[:n_first]:
        busy.mark(born[sid], died[sid], offsets[sid], _aligned(largest))
    for sid in order[n_first:]:
        size = _aligned(sizes[sid])
        offsets[sid] = offset = busy.place(born[sid], died[sid], size)
        arena = max(arena, offset + size)
    return offsets, arena


# The squeaky wheel (`_pack_near_bound`): rounds of re-packing tried when the greedy arena exceeds the bound by more
# than the slack; each round moves the first block placed above the bound halfway to the front of the order. At
# most _SEARCH_ROUNDS rounds and _SEARCH_PLACEMENTS block placements in all (a 20k-block plan gets one round).
_SEARCH_SLACK = 0.01
_SEARCH_ROUNDS = 12
_SEARCH_PLACEMENTS = 20000


def _pack_near_bound(sizes, born, died):
    """`_pack`, then, when its arena exceeds the most bytes alive at one step (the bound no packing beats) by more
    than `_SEARCH_SLACK`, a few rounds of squeaky-wheel search (Joslin and Clements): the first block (in placement
    order) that ends above the bound moves halfway to the front of the order, and the blocks are placed again in
    that order, each at the lowest offset free over its lifetime; the smallest arena wins. Deterministic.

    Why: greedy by size places all blocks of the largest size before any smaller one, and in a tight chain of
    layers that is one choice too early. A folded pre-activation bottleneck (BN-relu in front of each convolution,
    the next BN folded into it) is x -> bn1 (big) -> c1 -> c2 (small) -> c3 (big) + x: bn1 and c3 live apart, so
    greedy stacks both right above x, and then c1 (alive with bn1) and c2 (alive with c3) both need the bytes above
    them at once; the bound needs c3 shifted up by one small block so that c2 fits under it."""
    offsets, arena = _pack(sizes, born, died)
    bound = _bound(sizes, born, died)
    if arena <= bound * (1 + _SEARCH_SLACK):
        return offsets, arena
    order = sorted(range(len(sizes)), key=lambda s: (-sizes[s], born[s]))
    steps = max(died, default=0) + 1
    tried = offsets
    for _ in range(min(_SEARCH_ROUNDS, _SEARCH_PLACEMENTS // len(sizes))):
        squeaky = next(k for k, sid in enumerate(order) if tried[sid] + _aligned(sizes[sid]) > bound)
        order.insert(squeaky // 2, order.pop(squeaky))
        busy, tried, end = _BusyOverTime(steps), [0] * len(sizes), 0
        for sid in order:
            size = _aligned(sizes[sid])
            tried[sid] = offset = busy.place(born[sid], died[sid], size)
            end = max(end, offset + size)
        if end < arena:
            offsets, arena = tried, end
        if end <= bound:
            break
    return offsets, arena


def _peak_without(changes, left_out):
    """The most bytes alive where the walk took its peak (`changes`: (sid, bytes) and None markers), the sids in
    `left_out` not counted."""
    peak = alive = 0
    for change in changes:
        if change is None:
            peak = max(peak, alive)
        elif change[0] not in left_out:
            alive += change[1]
    return peak


def _bound(sizes, born, died):
    """The most (aligned) bytes alive at one step: no placement of these blocks fits in fewer."""
    change = [0] * (max(died, default=0) + 2)
    for size, b, d in zip(sizes, born, died, strict=True):
        change[b] += _aligned(size)
        change[d + 1] -= _aligned(size)
    peak = alive = 0
    for c in change:
        alive += c
        peak = max(peak, alive)
    return peak


def _pack_slots(sids, size, born, died, offsets):
    """Place blocks of one `size`, given in the order of their births, onto an empty arena: each at the lowest slot
    (a multiple of `size`) free over its lifetime; returns the arena's end. Every block placed before a block
    was born no later, so it overlaps the new block exactly when it dies at or after the new block's birth: a slot
    is free when its last block died before. Two heaps: the busy slots by death, the free slots by position."""
    busy, free, n_slots = [], [], 0
    for sid in sids:
        b = born[sid]
        while busy and busy[0][0] < b:
            heapq.heappush(free, heapq.heappop(busy)[1])
        if free:
            slot = heapq.heappop(free)
        else:
            slot, n_slots = n_slots, n_slots + 1
        offsets[sid] = slot * size
        heapq.heappush(busy, (died[sid], slot))
    return n_slots * size


class _Intervals:
    """A set of byte offsets as sorted, disjoint, non-touching half-open ranges [los[i], his[i])."""

    def __init__(self):
        self.los, self.his = [], []

    def add(self, lo, hi):
        los, his = self.los, self.his
        if not his or lo > his[-1]:                     # above every range (the common cases first): append
            los.append(lo)
            his.append(hi)
            return
        if lo >= los[-1]:                               # overlaps or touches the top range only: extend it
            if hi > his[-1]:
                his[-1] = hi
            return
        first = bisect.bisect_left(his, lo)             # the ranges that overlap or touch [lo, hi) merge with it
        last = bisect.bisect_right(los, hi)
        if first < last:
            lo, hi = min(lo, los[first]), max(hi, his[last - 1])
        los[first:last] = [lo]
        his[first:last] = [hi]


class _BusyOverTime:
    """Which bytes are busy at which steps: a segment tree over the steps whose nodes hold `_Intervals`.

    A block living over steps [born, died] is stored at the O(log T) nodes that cover exactly that range (`own`)
    and merged into the `seen` set of those nodes and all their ancestors (every block that touches the node's
    steps). The blocks alive at some step of [born, died] are then `seen` of the covering nodes plus `own` of
    their ancestors, so a query reads O(log T) sets instead of every placed block (a chain of N steps packs in
    O(N log N) where scanning the placed blocks was O(N^2))."""

    def __init__(self, steps):
        self.leaves = 1 << max(0, steps - 1).bit_length()
        self.own, self.seen = [None] * (2 * self.leaves), [None] * (2 * self.leaves)     # by node: 1 the root

    def _cover(self, born, died):
        """The nodes covering exactly steps [born, died], and their ancestors."""
        cover, lo, hi = [], born + self.leaves, died + self.leaves + 1
        while lo < hi:
            if lo & 1:
                cover.append(lo)
                lo += 1
            if hi & 1:
                hi -= 1
                cover.append(hi)
            lo, hi = lo >> 1, hi >> 1
        ancestors = set()
        for node in cover:
            node >>= 1
            while node and node not in ancestors:
                ancestors.add(node)
                node >>= 1
        return cover, ancestors

    def place(self, born, died, size):
        """Mark `size` bytes busy over steps [born, died] at the lowest offset where they are free then (the first
        fit among the blocks alive over those steps); the offset."""
        cover, ancestors = self._cover(born, died)
        own, seen = self.own, self.seen
        offset = self._lowest_free([seen[n] for n in cover if seen[n] is not None] +
                                   [own[n] for n in ancestors if own[n] is not None], size)
        self._add(cover, ancestors, offset, size)
        return offset

    def mark(self, born, died, offset, size):
        """Mark `size` bytes at `offset` busy over steps [born, died] (a block placed elsewhere)."""
        self._add(*self._cover(born, died), offset, size)

    def _add(self, cover, ancestors, offset, size):
        for sets, nodes in ((self.own, cover), (self.seen, cover), (self.seen, ancestors)):
            for node in nodes:
                intervals = sets[node]
                if intervals is None:
                    intervals = sets[node] = _Intervals()
                intervals.add(offset, offset + size)

    @staticmethod
    def _lowest_free(sets, size):
        """The lowest offset whose `size` bytes overlap no range of `sets`: each conflict moves the offset past the
        conflicting range (no offset below its end can fit: the range overlaps it), until a whole round of the
        sets since the last move found none."""
        offset, i, clean, n = 0, 0, 0, len(sets)
        bisect_right = bisect.bisect_right
        while clean < n:
            intervals = sets[i]         # the first range ending above `offset`: does it overlap?
            his = intervals.his
            k = bisect_right(his, offset)
            if k < len(his) and intervals.los[k] < offset + size:
                offset, clean = his[k], 0           # the same set may conflict again further up: look at it again
            else:
                clean += 1
                i = i + 1 if i + 1 < n else 0
        return offset


def format_plan(graph, shapes, dtypes, plan):
    """The plan, one line per step: `%3 = FullyConnected(%0, %1, %2)  sid=1 (2, 128) float32`."""
    def where(eid):
        sid = plan.storage_id[eid]
        kind = "external" if sid == EXTERNAL else "sid=%d%s" % (sid, " inplace" if plan.inplace[eid] else "")
        if sid != EXTERNAL and plan.within and plan.within[sid] is not None:
            up, offset = plan.within[sid]
            held = plan.outside[up] if plan.outside and plan.within[up] is None else None     # `up` is a holder
            kind += (" (in sid=%d at +%d" % (up, offset) if held is None
                     else " (in the array of %%%d at +%d" % (held, offset))
            stride = plan.row_strides[sid] if plan.row_strides else None
            kind += ", batch stride %d)" % stride if stride is not None else ")"
        return "%s %s %s" % (kind, tuple(shapes[eid]), np.dtype(dtypes[eid]).name)

    lines = []
    for nid, node in enumerate(graph.nodes):
        first = graph.node_row_ptr[nid]
        outs = range(first, graph.node_row_ptr[nid + 1])
        if node.is_variable:
            lines.append("%%%d = var %s  %s" % (first, node.name, where(first)))
            continue
        args = ", ".join("%%%d" % e for e in graph.inputs[nid])
        lines.append("%s = %s(%s)  %s" % (", ".join("%%%d" % e for e in outs), node.op.name, args,
                                          "; ".join(where(e) for e in outs)))
    return "\n".join(lines)
