"""Shape and dtype inference: complete every entry's shape (and dtype) from what is known, to a fixed point.

Needs: an IndexedGraph, known shapes (or dtypes) by variable name.   Gives: `Inferred`, one value per entry.
Stages: 1. seed the entries from the known values, or else the variables' `__shape__`/`__dtype__` attributes (a
value given explicitly wins over the attribute, as in MXNet); a graph extending an inferred one (a forward graph
with its gradient nodes) starts from the values inferred before, and only its new nodes start dirty.
2. sweep the nodes forward, then backward, asking each op's rule to complete its inputs and outputs (rules work
both ways: FullyConnected infers its weight from data); merge each proposal into what is known. 3. repeat until a
sweep changes nothing; a sweep visits only the nodes next to an entry that changed since their rule last ran, so a
graph of N nodes costs O(N) rule applications, not O(N) per sweep (`_Pass._sweep`). A proposal that contradicts a
known value raises, naming the op, the node, the input and both shapes. Leaves out: nothing is allocated or run.

An unknown shape is None; inside a known rank an unknown dimension is 0 (MXNet 1.x's convention, which users see
as `__shape__` "(256, 0)" in exported files). An unknown dtype is None.
"""
import bisect
import dataclasses
import heapq
import os

import numpy as np

from ops.errors import DTypeError, ShapeError, in_operator

from .graph import IndexedGraph


# Note [ops that wait for their data]: MXNet's shape functions of these ops infer nothing, not even the weight
# shapes their params alone would fix, until the rank of their data (first input) is known; partial inference
# (`infer_shape_partial`) therefore reports their weights as unknown `()`, and so do we. Checked against MXNet
# 1.9.1 (tests/fixtures/mxnet-1.9.1/semantics/partial_shapes.json).
_WAIT_FOR_DATA = frozenset({"FullyConnected", "Convolution", "BatchNorm", "Embedding", "GroupNorm"})


@dataclasses.dataclass(frozen=True)
class Inferred:
    values: tuple          # per eid: a shape tuple / numpy dtype, or None when unknown

    def complete(self, shape_like=True):
        return all(_is_complete(v) if shape_like else v is not None for v in self.values)


def _is_complete(shape):
    return shape is not None and (not shape or min(shape) > 0)


def _is_known(dtype):
    return dtype is not None


def _merge_shape(known, proposed):
    """The union of two partial shapes, or raise ValueError when they contradict."""
    if proposed is None or (type(proposed) is tuple and proposed == known):
        return known
    proposed = tuple(int(d) for d in proposed)
    if known is None:
        return proposed
    if len(known) != len(proposed):
        raise ValueError
    merged = []
    for a, b in zip(known, proposed, strict=True):
        if a and b and a != b:
            raise ValueError
        merged.append(a or b)
    return tuple(merged)


def _merge_dtype(known, proposed):
    if proposed is None or proposed is known:
        return known
    proposed = np.dtype(proposed)
    if known is not None and known != proposed:
        raise ValueError
    return proposed


def _show(value):
    return str(tuple(value)) if isinstance(value, tuple) else np.dtype(value).name


class _Pass:
    """One inference problem: shapes or dtypes. `kind` picks the rule, the merge and the error type."""

    def __init__(self, graph, kind, memo=True):
        self.graph = graph
        self.kind = kind
        self.merge = _merge_shape if kind == "shape" else _merge_dtype
        self.complete = _is_complete if kind == "shape" else _is_known
        self.error = ShapeError if kind == "shape" else DTypeError
        self._shapes = kind == "shape"
        self._touches = None        # see _tables
        self._memo = {} if memo else None       # Note [the rule memo]; tests compare against running every rule

    def run(self, known, seed=()):
        """Values of every entry from `known` (variable name -> value) and `seed`: the values of the first
        len(seed) entries, inferred before on a graph this one extends (a forward graph and its gradients). Only
        the nodes after the seeded ones start dirty; the seeded nodes run again only when a new node changes one
        of their entries."""
        g = self.graph
        values = list(seed) + [None] * (g.num_entries - len(seed))
        row = g.node_row_ptr
        for nid in g.arg_nodes:
            eid = row[nid]
            if eid < len(seed):
                continue
            node = g.nodes[nid]
            given = known.get(node.name)
            value = given if given is not None else _variable_attr(node, self.kind)
            if value is not None:
                values[eid] = self._merge_input(values[eid], value, node)
        first = bisect.bisect_left(row, len(seed))
        dirty = [nid for nid in range(first, len(g.nodes)) if g.nodes[nid].op is not None]
        self._sweep(values, dirty, int(os.environ.get("DATAFLOW_INFER_MAX_SWEEPS", 16)))
        return Inferred(tuple(values))

    def _merge_input(self, current, given, node):
        try:
            return self.merge(current, given)
        except ValueError:      # one variable node appearing twice among the arguments
            raise self.error("%s of variable %r: given %s and %s" % (self.kind.capitalize(), node.name,
                                                                   _show(given), _show(current))) from None

    def _sweep(self, values, dirty, max_sweeps):
        """Sweeps forward then backward over the op nodes until nothing changes (at most `max_sweeps` pairs).

        Only dirty nodes are visited: the `dirty` nodes (in order) at first, later only a node one of whose
        entries changed since its rule last ran (its entries' producers and readers; the node itself unless its
        entries are all complete now, when its rule could only repeat itself). A clean node's rule would propose
        nothing new, so this changes the same entries in the same order, and raises the same errors, as applying
        every rule in every sweep, in time proportional to the rule applications that can change something.
        Note [sweep order]: a node dirtied ahead of the current position (in the sweep's direction) runs later in
        this sweep, one behind it in the next sweep (which runs the other way). The first sweep visits every
        dirty node in order, so it needs no queue: a node dirtied ahead of it is dirty already."""
        next_sweep = set()
        row = self.graph.node_row_ptr
        for nid in dirty:
            changed, complete = self._apply_rule(nid, values)
            if changed and (changed[0] < row[nid] or not complete):     # not just outputs
                next_sweep.update(other for other in self._dirtied(nid, changed, complete, False) if other <= nid)
        forward = True
        for _ in range(2 * max_sweeps - 1):
            if not next_sweep:
                return
            forward = not forward
            this_sweep = sorted(nid if forward else -nid for nid in next_sweep)      # a heap of positions
            queued, next_sweep = set(next_sweep), set()
            while this_sweep:
                nid = heapq.heappop(this_sweep)
                nid = nid if forward else -nid
                queued.discard(nid)
                changed, complete = self._apply_rule(nid, values)
                if not changed:
                    continue
                for other in self._dirtied(nid, changed, complete, True):
                    if (other > nid if forward else other < nid):
                        if other not in queued:
                            queued.add(other)
                            heapq.heappush(this_sweep, other if forward else -other)
                    else:
                        next_sweep.add(other)

    def _dirtied(self, nid, changed, complete, with_readers):
        """The op nodes to revisit after node `nid` changed the entries `changed`: the nodes reading or writing
        them, and `nid` itself unless all its entries are `complete` now (its rule could only repeat itself). Without
        `with_readers` (the first sweep, which visits every node after `nid` anyway) an output's readers are left
        out, so a pass that only ever completes outputs never builds the table of readers."""
        first = self.graph.node_row_ptr[nid]
        others = set()
        for eid in changed:
            if eid < first or with_readers:     # an input, or any entry in a later sweep
                others.update(self._tables()[eid])
        if complete:
            others.discard(nid)
        else:
            others.add(nid)
        return others

    def _complete(self, nid, values):
        """Whether every entry node `nid` reads or writes is complete."""
        g = self.graph
        complete = self.complete
        for eid in g.inputs[nid]:
            if not complete(values[eid]):
                return False
        for value in values[g.node_row_ptr[nid]:g.node_row_ptr[nid + 1]]:
            if not complete(value):
                return False
        return True

    def _tables(self):
        """Per eid, the op nodes that read or write it (built on first use: a pass whose rules only ever complete
        the outputs of the node they run for never needs it)."""
        if self._touches is None:
            g = self.graph
            row = g.node_row_ptr
            touches = [[] for _ in range(g.num_entries)]
            for nid, node in enumerate(g.nodes):
                if node.op is None:
                    continue
                for eid in g.inputs[nid]:
                    readers = touches[eid]
                    if not readers or readers[-1] != nid:
                        readers.append(nid)
                for eid in range(row[nid], row[nid + 1]):
                    touches[eid].append(nid)
            self._touches = touches
        return self._touches

    def _apply_rule(self, nid, values):
        """Apply node `nid`'s rule and merge its proposals into `values`: (the eids that changed, and when some
        did, whether every entry the node reads or writes is complete now).

        Note [the rule memo]: a rule is a function of the params and the values it is given, and a large graph
        repeats a few (op, params, input values, output values) combinations many times over (a chain of 20k
        Activations has three), so each pass remembers what merging a combination's proposals changed, as
        (position, value) pairs, and replays that for the next node with the same combination. A rule that
        raises is not remembered (it runs again, raising again); ops that keep state per node (`Custom`, whose
        rules are the user's Python) are never memoized. Whether the node is complete afterwards follows from the
        combination too, and is remembered with it."""
        g = self.graph
        node = g.nodes[nid]
        op = node.op
        in_eids = g.inputs[nid]
        first, last = g.node_row_ptr[nid], g.node_row_ptr[nid + 1]
        ins = [values[e] for e in in_eids]
        if self._shapes and op.name in _WAIT_FOR_DATA and ins[0] is None:
            return (), None
        outs = values[first:last]
        key = None
        if self._memo is not None and not op.state_per_call:
            key = (op, node.params, tuple(ins), tuple(outs))
            try:
                remembered = self._memo.get(key)
            except (TypeError, ValueError):     # a param value that cannot be hashed or compared: no memo
                key = remembered = None
            if remembered is not None:
                changes, complete = remembered
                n_in = len(in_eids)
                changed = []
                for pos, value in changes:
                    eid = in_eids[pos] if pos < n_in else first + pos - n_in
                    values[eid] = value
                    changed.append(eid)
                return changed, complete
        changes = self._run_rule(node, in_eids, first, last, ins, outs)
        n_in = len(in_eids)
        changed = []
        for pos, value in changes:
            eid = in_eids[pos] if pos < n_in else first + pos - n_in
            values[eid] = value
            changed.append(eid)
        complete = self._complete(nid, values) if changed else None
        if key is not None:
            self._memo[key] = (changes, complete)
        return changed, complete

    def _run_rule(self, node, in_eids, first, last, ins, outs):
        """Run `node`'s rule on its inputs' and outputs' values (`ins`, `outs`: lists the rule may change) and merge
        its proposals: the changes, as (position among inputs then outputs, new value) pairs in order."""
        op = node.op
        g = self.graph
        current = ins + outs        # taken first: a rule may fill in the lists it is given and return them
        try:
            new_ins, new_outs = (op.infer_shape if self._shapes else op.infer_type)(node.params, ins, outs)
        except (ShapeError, DTypeError) as err:
            raise self.error(in_operator(op.name, node.name, str(err))) from None
        n_in = len(in_eids)
        if len(new_ins) != n_in or len(new_outs) != last - first:
            raise ValueError("%s rule of %s returned %d inputs and %d outputs for %d and %d"
                             % (self.kind, op.name, len(new_ins), len(new_outs), n_in, last - first))
        merge = self.merge
        try:
            merged = [merge(old, v) for old, v in zip(current, [*new_ins, *new_outs])]
        except ValueError:      # the error names the input and the entry feeding it: let apply_rule build it
            apply_rule(node, current[:n_in], current[n_in:], self.kind, lambda i: g.entry_name(in_eids[i]))
            raise
        eids = [*in_eids, *range(first, last)]
        repeated = n_in > 1 and len(set(in_eids)) != n_in   # it reads one entry twice (a*a): merge with it now
        changes, latest = [], {}
        for pos, (eid, value) in enumerate(zip(eids, merged)):
            old = latest.get(eid, current[pos]) if repeated else current[pos]
            if value is old:
                continue
            if repeated:
                value = _merge_or_raise(self, node, old, value, lambda eid=eid: g.entry_name(eid))
            if (value is None) != (old is None) or value != old:   # np.dtype(None) == float64!
                changes.append((pos, value))
                latest[eid] = value
        return tuple(changes)


def _merge_or_raise(problem, node, current, proposed, what):
    """`problem.merge(current, proposed)`, or an error naming `what` (a string, or a function giving it)."""
    try:
        return problem.merge(current, proposed)
    except ValueError:
        what = what() if callable(what) else what
        raise problem.error(in_operator(
            node.op.name, node.name, "%s inconsistent for %s: provided %s, inferred %s"
            % (problem.kind.capitalize(), what, _show(current), _show(proposed)))) from None


def apply_rule(node, ins, outs, kind, labels=None):
    """Run one node's shape or dtype rule and merge its proposals into `ins` and `outs` (new lists).

    A contradiction raises, naming the op, the node and the input (`labels[i]` or `labels(i)`: e.g. the
    producing entry)."""
    problem = _PROBLEMS[kind]
    rule = node.op.infer_shape if kind == "shape" else node.op.infer_type
    try:
        new_ins, new_outs = rule(node.params, list(ins), list(outs))
    except (ShapeError, DTypeError) as err:
        raise problem.error(in_operator(node.op.name, node.name, str(err))) from None
    merge = problem.merge
    try:        # the common case, without building the names an error would need
        return ([merge(old, new) for old, new in zip(ins, new_ins, strict=True)],
                [merge(old, new) for old, new in zip(outs, new_outs, strict=True)])
    except ValueError:
        pass
    merged_ins = [_merge_or_raise(problem, node, old, new, lambda i=i: _input_label(node, i, labels))
                  for i, (old, new) in enumerate(zip(ins, new_ins, strict=True))]
    merged_outs = [_merge_or_raise(problem, node, old, new,
                                   lambda i=i: "output %r" % node.op.output_names(node.params)[i])
                   for i, (old, new) in enumerate(zip(outs, new_outs, strict=True))]
    return merged_ins, merged_outs


def _input_label(node, i, labels):
    """`input 'weight' (fc1_weight)`: the input's name and, when `labels` (a list or a function of the position)
    is given, the entry that feeds it."""
    name = node.input_names()[i]
    if labels is None:
        return "input %r" % name
    return "input %r (%s)" % (name, labels(i) if callable(labels) else labels[i])


_PROBLEMS = {"shape": _Pass(None, "shape"), "dtype": _Pass(None, "dtype")}


def _variable_attr(node, kind):
    text = node.attrs.get("__%s__" % kind)
    if text is None:
        return None
    if kind == "shape":
        from ops.registry import Shape
        return Shape().parse(text)
    from ops.registry import DTYPES, dtype_name
    codes = list(DTYPES)  # "__dtype__" holds MXNet's integer code in exported files
    return np.dtype(DTYPES[codes[int(text)]] if text.lstrip("-").isdigit() else dtype_name(text)) \
        if text not in ("-1", "None") else None


def infer_shapes(graph: IndexedGraph, known, seed=()) -> Inferred:
    """Shapes of every entry, from `known` (variable name -> shape); unknowns stay None or hold 0s. `seed`: the
    shapes of the first entries, inferred on a graph that `graph` extends (`IndexedGraph.extended`)."""
    return _Pass(graph, "shape").run(known, seed)


def infer_dtypes(graph: IndexedGraph, known, seed=()) -> Inferred:
    """Dtypes of every entry, from `known` (variable name -> dtype); unknowns stay None. `seed` as for shapes."""
    return _Pass(graph, "dtype").run({k: (None if v is None else np.dtype(v)) for k, v in known.items()}, seed)
