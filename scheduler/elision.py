"""Concat elision, the memory planner's nesting rules (scheduler/memory.py calls `Nesting` during its walk).

A `Concat` whose inputs qualify has each input's storage nested in its output's storage (a child sid at a byte offset
in its parent sid), so the branches write their slices directly and the Concat step copies nothing; `SliceChannel`
and `_backward_Concat` alike give their outputs the slices of their input. A child sid is packed with its root: the
root lives from the first birth to the last death of its tree.

Rows. Along `axis`, each slice is `rows = prod(shape[:axis])` runs of bytes, one per row of the whole. With one row
(NCHW along axis 1 at batch 1, any batch along axis 0) a slice is one contiguous range. Along axis 1 at batch N > 1
each slice is N runs, one per sample, a row stride apart: the child's entries become batch-strided arrays (each
sample C-contiguous, axis 0 strided; scheduler/plan.py makes the views). Such nesting is allowed only where every
step touching those entries handles it: an elided step, a shape-only read, an op that computes each sample alone
(`OpDef.per_sample`, for that entry's position), or an op whose CPU kernel takes batch-strided arrays (a
`batch_strided` attribute on the kernel: Convolution, BatchNorm); the Plan runs the other kernels sample by sample
over contiguous one-sample slices (scheduler/plan.py `_SampleBySample`). Layouts compose down a tree: below a
strided sid every nesting must have the same rows (a child then has its parent's row stride); below a contiguous
sid any rows do. An entry that becomes strided must have its batch, `rows`, as axis 0.

Into a bound output. A Concat whose output is external but bound to an array of its own that the caller passes per
call (`into`: a graph output, a gradient written into the user's array) nests its inputs below a holder sid standing
for that array: the holder is not packed in the arena, and its tree's offsets are relative to the array's start
(`outside`: per sid, the eid of the bound entry whose array it lives in). scheduler/plan.py then makes the inputs
views of the bound array, again whenever it is rebound. Values kept there are read from the caller's array until
their last reader (e.g. a branch's Activation gradient): writing into a graph output before the backward changes
that gradient (MXNet: assigning to arrays already in a computational graph "will cause undefined behavior when
evaluating gradients"; an Executor's outputs written between forward and backward differ from MXNet there).

Kept as a real copy: an input or output that is external (argument, parameter, a graph output not in `into`), one
taken by another Concat already (it feeds two), an entry used twice by the step, zero-size entries, mixed dtypes, a
strided nesting that some step touching it cannot take. Kept valid: a child's storage is never taken in place again
(that would write into its parent), and a parent is not taken in place while a value living in it is still read
(`value_until`); reads after the step are fine.
"""
import math
import sys

# Ops whose inputs from this position on are read for their shapes only (the forward inputs of `_backward_Concat`):
# such reads do not keep an entry's value alive, nor care about its layout.
SHAPE_ONLY_FROM = {"_backward_Concat": 1}

_SPLITS = ("SliceChannel", "_backward_Concat")
# the joins (numpy mode's concatenate is Concat that also takes empty inputs: those are never elided) and every
# op's axis parameter
JOINS = ("Concat", "_npi_concatenate")
_AXIS = {"Concat": "dim", "_npi_concatenate": "axis", "SliceChannel": "axis", "_backward_Concat": "dim"}


class Nesting:
    """Per sid: its parent (parent sid, byte offset of its first row in the parent's first row) or None, the rows of
    that nesting, its children, the entries living in it, and the last step reading a value in its bytes.
    `last_read`: per eid, the last step reading its value (shape-only reads left out)."""

    def __init__(self, graph, shapes, dtypes, nbytes, last_read, into=(), add_holder=None):
        self.graph, self.shapes, self.dtypes, self.nbytes, self.last_read = graph, shapes, dtypes, nbytes, last_read
        self.parent, self.rows, self.children, self.entries, self.value_until = [], [], [], [], []
        self.into = into                # external Concat outputs bound to arrays of their own (see the docstring)
        self.add_holder = add_holder    # step -> a new sid for a bound output's array (the planner's bookkeeping)
        self.holders = {}               # holder sid -> the eid whose bound array it stands for
        self.elided = set()             # nids of the elided steps
        self._readers = None            # eid -> [(nid, input position)], made at the first strided nesting
        self._writer = None             # eid -> nid
        self._training = None           # whether the graph has gradient nodes (BatchNorm then uses batch statistics)

    def new_sid(self):
        self.parent.append(None)
        self.rows.append(1)
        self.children.append([])
        self.entries.append([])
        self.value_until.append(-1)

    def holds(self, sid, eid):
        """Entry `eid` lives in storage `sid` (a new one, or one taken in place)."""
        self.entries[sid].append(eid)

    def may_take_in_place(self, sid, step):
        """Whether an output of `step` may overwrite storage `sid` in place: not a slice of a parent, and holding no
        value that a later step reads."""
        return self.parent[sid] is None and self.value_until[sid] < step

    # -- the planner's call per step --------------------------------------------------------------------------------
    def elide(self, step, node, sid_of):
        """Nest the storages of a Concat's inputs in its output (or a split's outputs in its input) when every entry
        qualifies; whether the step was elided (then it copies nothing). `sid_of`: per eid, its sid (< 0 external)."""
        name = node.op.name
        join = name in JOINS
        if not join and name not in _SPLITS:
            return False
        graph, shapes, dtypes, nbytes = self.graph, self.shapes, self.dtypes, self.nbytes
        ins, first, last = graph.inputs[step], graph.node_row_ptr[step], graph.node_row_ptr[step + 1]
        if join:
            whole, parts = first, list(ins)
        else:
            whole, parts = ins[0], list(range(first, last))
        axis = getattr(node.params, _AXIS[name]) % len(shapes[whole])
        rows = math.prod(shapes[whole][:axis])
        if (rows != 1 and axis != 1) or len(set(parts)) != len(parts) or whole in parts:
            return False        # strided only along axis 1: one run per sample
        entries = [whole] + parts
        into = join and sid_of[whole] < 0 and whole in self.into   # elided into a bound output
        if any((sid_of[e] < 0 and not (into and e == whole)) or nbytes[e] == 0 or dtypes[e] != dtypes[whole]
               for e in entries):
            return False
        parent, value_until, last_read = self.parent, self.value_until, self.last_read
        sids = [sid_of[e] for e in parts]
        if len(set(sids)) != len(sids) or sid_of[whole] in sids:
            return False
        if join:
            if any(parent[s] is not None for s in sids):
                return False        # a slice of another Concat already (it feeds two)
        elif ins.count(whole) != 1 or sum(nbytes[e] for e in parts) != nbytes[whole]:
            return False
        if not self._layouts_fit(step, name, sid_of[whole], sids, rows):
            return False
        whole_sid = sid_of[whole]
        if into:
            whole_sid = self.add_holder(step)
            self.holders[whole_sid] = whole
        offset = 0
        for e, sid in zip(parts, sids, strict=True):
            keep = max(last_read[e], value_until[sid]) if join else last_read[e]
            parent[sid] = (whole_sid, offset)
            self.rows[sid] = rows
            self.children[whole_sid].append(sid)
            up = parent[sid]
            while up is not None:           # every ancestor now holds this value too
                value_until[up[0]] = max(value_until[up[0]], keep)
                up = parent[up[0]]
            offset += nbytes[e] // rows
        self.elided.add(step)
        return True

    def _layouts_fit(self, step, name, whole_sid, sids, rows):
        """Whether nesting `sids` in `whole_sid` with `rows` keeps every layout expressible and every step touching
        a newly strided entry able to take it."""
        if name in JOINS:
            # the parts' trees go below a fresh root: with rows > 1 each part and everything below becomes strided
            if rows == 1:
                return True
            trees = [self._tree(s) for s in sids]
            if any(self.rows[t] != rows for tree in trees for t in tree[1:]):
                return False
            below = [t for tree in trees for t in tree]
        else:
            # fresh parts below the split's input, whose own layout is fixed by its ancestors (for now)
            above = self._rows_above(whole_sid)
            if above > 1 and rows != above:
                return False
            if max(above, rows) == 1:
                return True
            rows, below = max(above, rows), sids
        return all(self._takes_strided(e, rows, step) for t in below for e in self.entries[t])

    def _tree(self, sid):
        """`sid` and every sid nested below it."""
        out, todo = [], [sid]
        while todo:
            s = todo.pop()
            out.append(s)
            todo.extend(self.children[s])
        return out

    def _rows_above(self, sid):
        """The rows of the strided nesting on the path from `sid` up to its root (1: the sid is contiguous)."""
        rows = 1
        while self.parent[sid] is not None:
            rows = max(rows, self.rows[sid])
            sid = self.parent[sid][0]
        return rows

    def _takes_strided(self, eid, rows, step):
        """Whether entry `eid` can live batch-strided: its axis 0 is the `rows` samples, and its writer and every
        reader is elided (or `step`, being elided), reads it for its shape only, or computes it sample by sample."""
        if not self.shapes[eid] or self.shapes[eid][0] != rows:
            return False
        if self._readers is None:
            self._index()
        graph, elided = self.graph, self.elided
        nid = self._writer[eid]
        written = nid == step or nid in elided or self._positions(graph.nodes[nid], eid - graph.node_row_ptr[nid], 1)
        if not written:
            return False
        for nid, k in self._readers[eid]:
            node = graph.nodes[nid]
            if nid == step or nid in elided or k >= SHAPE_ONLY_FROM.get(node.op.name, sys.maxsize):
                continue
            if not self._positions(node, k, 0):
                return False
        return True

    def _positions(self, node, position, side):
        """Whether `node` takes its input (side 0) or output (side 1) `position` batch-strided: its CPU kernel
        takes such arrays (`batch_strided` set on it), or it computes sample by sample with that position batched."""
        op = node.op
        if op is not None and getattr(op.cpu, "batch_strided", False):
            return True
        if op is None or op.per_sample is None:
            return False
        split = op.per_sample(node.params, self._training)
        return split is not None and position in split[side]

    def _index(self):
        graph = self.graph
        self._readers = [[] for _ in range(graph.num_entries)]
        self._writer = [0] * graph.num_entries
        self._training = False
        for nid, node in enumerate(graph.nodes):
            for eid in range(graph.node_row_ptr[nid], graph.node_row_ptr[nid + 1]):
                self._writer[eid] = nid
            if node.op is None:
                continue
            self._training = self._training or node.op.name.startswith("_backward_")
            for k, eid in enumerate(graph.inputs[nid]):
                self._readers[eid].append((nid, k))

    # -- stage 3: where each sid's bytes are ------------------------------------------------------------------------
    def layout(self, root_offsets, storage_bytes):
        """(offsets, row strides, outside) per sid: the byte offset of its first row in the arena (in its bound
        array for a sid below a holder), the byte stride of its rows (axis 0) when it is batch-strided, else None,
        and the eid of the bound entry whose array holds it, else None. `root_offsets`: sid -> offset of each root
        packed in the arena."""
        n = len(self.parent)
        offsets, strides, outside = [None] * n, [None] * n, [None] * n
        for sid, offset in root_offsets.items():
            offsets[sid] = offset
        for sid, eid in self.holders.items():
            offsets[sid], outside[sid] = 0, eid

        for sid in range(n):
            path = []                       # sid and its ancestors not placed yet, the highest last
            while offsets[sid] is None:
                path.append(sid)
                sid = self.parent[sid][0]
            for sid in reversed(path):
                up, within = self.parent[sid]
                offsets[sid], outside[sid] = offsets[up] + within, outside[up]
                if strides[up] is not None:
                    strides[sid] = strides[up]
                elif self.rows[sid] > 1 and storage_bytes[sid] != storage_bytes[up]:
                    strides[sid] = storage_bytes[up] // self.rows[sid]
        return offsets, strides, outside
