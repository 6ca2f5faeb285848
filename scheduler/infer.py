"""Shape and dtype inference: complete every entry's shape (and dtype) from what is known, to a fixed point.

Needs: an IndexedGraph, known shapes (or dtypes) by variable name.   Gives: `Inferred`, one value per entry.
Stages: 1. seed the entries from the known values, or else the variables' `__shape__`/`__dtype__` attributes (a
value given explicitly wins over the attribute, as in MXNet).
2. sweep the nodes forward, then backward, asking each op's rule to complete its inputs and outputs (rules work
both ways: FullyConnected infers its weight from data); merge each proposal into what is known. 3. repeat until a
sweep changes nothing; a sweep visits only the nodes next to an entry that changed since their rule last ran, so a
graph of N nodes costs O(N) rule applications, not O(N) per sweep (`_Pass._sweep`). A proposal that contradicts a
known value raises, naming the op, the node, the input and both shapes. Leaves out: nothing is allocated or run.

An unknown shape is None; inside a known rank an unknown dimension is 0 (MXNet 1.x's convention, which users see
as `__shape__` "(256, 0)" in exported files). An unknown dtype is None.
"""
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
    return shape is not None and all(d > 0 for d in shape)


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

    def __init__(self, graph, kind):
        self.graph = graph
        self.kind = kind
        self.merge = _merge_shape if kind == "shape" else _merge_dtype
        self.error = ShapeError if kind == "shape" else DTypeError
        self._built = None          # see _tables

    def run(self, known):
        g = self.graph
        values = [None] * g.num_entries
        for nid in g.arg_nodes:
            node = g.nodes[nid]
            eid = g.node_row_ptr[nid]
            given = known.get(node.name)
            value = given if given is not None else _variable_attr(node, self.kind)
            if value is not None:
                values[eid] = self._merge_input(values[eid], value, node)
        self._sweep(values, int(os.environ.get("DATAFLOW_INFER_MAX_SWEEPS", 16)))
        return Inferred(tuple(values))

    def _merge_input(self, current, given, node):
        try:
            return self.merge(current, given)
        except ValueError:      # one variable node appearing twice among the arguments
            raise self.error("%s of variable %r: given %s and %s" % (self.kind.capitalize(), node.name,
                                                                   _show(given), _show(current))) from None

    def _sweep(self, values, max_sweeps):
        """Sweeps forward then backward over the op nodes until nothing changes (at most `max_sweeps` pairs).

        Only dirty nodes are visited: every node at first, later only a node one of whose entries changed since
        its rule last ran (it and its entries' producers and readers). A clean node's rule would propose nothing
        new, so this changes the same entries in the same order, and raises the same errors, as applying every
        rule in every sweep, in time proportional to the rule applications that can change something.
        Note [sweep order]: a node dirtied ahead of the current position (in the sweep's direction) runs later in
        this sweep, one behind it in the next sweep (which runs the other way)."""
        g = self.graph
        touches = self._tables()[1]
        this_sweep = [nid for nid in range(len(g.nodes)) if not g.nodes[nid].is_variable]   # a heap of positions
        next_sweep = set()
        forward = True
        for _ in range(2 * max_sweeps):
            queued = set(this_sweep)
            while this_sweep:
                nid = heapq.heappop(this_sweep)
                nid = nid if forward else -nid
                queued.discard(nid)
                for eid in self._apply_rule(nid, values):
                    for other in touches[eid]:
                        if (other > nid if forward else other < nid):
                            if other not in queued:
                                queued.add(other)
                                heapq.heappush(this_sweep, other if forward else -other)
                        else:
                            next_sweep.add(other)
            if not next_sweep:
                break
            forward = not forward
            this_sweep = sorted(nid if forward else -nid for nid in next_sweep)
            next_sweep = set()

    def _tables(self):
        """(entries, touches, repeats): per node its input eids then output eids; per eid the op nodes that read or
        write it; the nodes reading an entry twice (built once per pass)."""
        if self._built is None:
            g = self.graph
            row = g.node_row_ptr
            entries = [[*g.inputs[nid], *range(row[nid], row[nid + 1])] for nid in range(len(g.nodes))]
            touches = [[] for _ in range(g.num_entries)]
            for nid, node in enumerate(g.nodes):
                if not node.is_variable:
                    for eid in entries[nid]:
                        if not touches[eid] or touches[eid][-1] != nid:
                            touches[eid].append(nid)
            repeats = {nid for nid, eids in enumerate(entries) if len(set(eids)) != len(eids)}
            self._built = entries, touches, repeats
        return self._built

    def _apply_rule(self, nid, values):
        """Apply node `nid`'s rule and merge its proposals into `values`; the eids that changed."""
        g = self.graph
        node = g.nodes[nid]
        in_eids = g.inputs[nid]
        if self.kind == "shape" and node.op.name in _WAIT_FOR_DATA and values[in_eids[0]] is None:
            return ()
        entries, _, repeats = self._built or self._tables()
        eids = entries[nid]
        ins, outs = apply_rule(node, [values[e] for e in in_eids], [values[e] for e in eids[len(in_eids):]],
                               self.kind, lambda i: g.entry_name(in_eids[i]))
        changed = []
        for eid, value in zip(eids, ins + outs, strict=True):
            current = values[eid]
            if value is current:
                continue
            if nid in repeats:      # it feeds this node twice (a*a): merge with its value now, not the rule's copy
                try:
                    value = self.merge(current, value)
                except ValueError:
                    _merge_or_raise(self, node, current, value, g.entry_name(eid))
            if (value is None) != (current is None) or value != current:   # np.dtype(None) == float64!
                values[eid] = value
                changed.append(eid)
        return changed


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


def infer_shapes(graph: IndexedGraph, known) -> Inferred:
    """Shapes of every entry, from `known` (variable name -> shape); unknowns stay None or hold 0s."""
    return _Pass(graph, "shape").run(known)


def infer_dtypes(graph: IndexedGraph, known) -> Inferred:
    """Dtypes of every entry, from `known` (variable name -> dtype); unknowns stay None."""
    return _Pass(graph, "dtype").run({k: (None if v is None else np.dtype(v)) for k, v in known.items()})
