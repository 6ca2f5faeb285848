"""Shape and dtype inference: complete every entry's shape (and dtype) from what is known, to a fixed point.

Needs: an IndexedGraph, known shapes (or dtypes) by variable name.   Gives: `Inferred`, one value per entry.
Stages: 1. seed the entries from the known values and the variables' `__shape__`/`__dtype__` attributes.
2. sweep the nodes forward, then backward, asking each op's rule to complete its inputs and outputs (rules work
both ways: FullyConnected infers its weight from data); merge each proposal into what is known. 3. repeat until a
sweep changes nothing. A proposal that contradicts a known value raises, naming the op, the node, the input and
both shapes. Leaves out: nothing is allocated or run here.

An unknown shape is None; inside a known rank an unknown dimension is 0 (MXNet 1.x's convention, which users see
as `__shape__` "(256, 0)" in exported files). An unknown dtype is None.
"""
import dataclasses
import os

import numpy as np

from ops.errors import DTypeError, ShapeError, in_operator

from .graph import IndexedGraph


@dataclasses.dataclass(frozen=True)
class Inferred:
    values: tuple          # per eid: a shape tuple / numpy dtype, or None when unknown

    def complete(self, shape_like=True):
        return all(_is_complete(v) if shape_like else v is not None for v in self.values)


def _is_complete(shape):
    return shape is not None and all(d > 0 for d in shape)


def _merge_shape(known, proposed):
    """The union of two partial shapes, or raise ValueError when they contradict."""
    if proposed is None:
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
    if proposed is None:
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

    def run(self, known):
        g = self.graph
        values = [None] * g.num_entries
        for nid in g.arg_nodes:
            node = g.nodes[nid]
            eid = g.node_row_ptr[nid]
            if node.name in known and known[node.name] is not None:
                values[eid] = self._merge_input(values[eid], known[node.name], node)
            attr = _variable_attr(node, self.kind)
            if attr is not None:
                values[eid] = self._merge_input(values[eid], attr, node)
        op_nodes = [nid for nid in range(len(g.nodes)) if not g.nodes[nid].is_variable]
        for _ in range(int(os.environ.get("DATAFLOW_INFER_MAX_SWEEPS", 16))):
            changed = False
            for nid in op_nodes + op_nodes[::-1]:
                changed |= self._apply_rule(nid, values)
            if not changed:
                break
        return Inferred(tuple(values))

    def _merge_input(self, current, given, node):
        try:
            return self.merge(current, given)
        except ValueError:
            raise self.error("%s of variable %r: given %s, but its __%s__ attribute says %s"
                             % (self.kind.capitalize(), node.name, _show(given), self.kind, _show(current))) \
                from None

    def _apply_rule(self, nid, values):
        g = self.graph
        node = g.nodes[nid]
        in_eids = g.inputs[nid]
        out_eids = range(g.node_row_ptr[nid], g.node_row_ptr[nid + 1])
        labels = [g.entry_name(e) for e in in_eids]
        ins, outs = apply_rule(node, [values[e] for e in in_eids], [values[e] for e in out_eids], self.kind,
                               labels)
        changed = False
        for eid, value in zip(list(in_eids) + list(out_eids), ins + outs, strict=True):
            # an entry may feed a node twice (a*a): merge against its current value, not the rule's copy
            merged = _merge_or_raise(self, node, values[eid], value, g.entry_name(eid))
            if (merged is None) != (values[eid] is None) or merged != values[eid]:   # np.dtype(None) == float64!
                values[eid] = merged
                changed = True
        return changed


def _merge_or_raise(problem, node, current, proposed, what):
    try:
        return problem.merge(current, proposed)
    except ValueError:
        raise problem.error(in_operator(
            node.op.name, node.name, "%s inconsistent for %s: provided %s, inferred %s"
            % (problem.kind.capitalize(), what, _show(current), _show(proposed)))) from None


def apply_rule(node, ins, outs, kind, labels=None):
    """Run one node's shape or dtype rule and merge its proposals into `ins` and `outs` (new lists).

    A contradiction raises, naming the op, the node and the input (`labels[i]`, e.g. the producing entry)."""
    problem = _Pass(None, kind)
    rule = node.op.infer_shape if kind == "shape" else node.op.infer_type
    try:
        new_ins, new_outs = rule(node.params, list(ins), list(outs))
    except (ShapeError, DTypeError) as err:
        raise problem.error(in_operator(node.op.name, node.name, str(err))) from None
    names = node.input_names()
    out_names = node.op.output_names(node.params)
    merged_ins = [_merge_or_raise(problem, node, old, new, "input %r (%s)" % (names[i], labels[i]) if labels
                                  else "input %r" % names[i])
                  for i, (old, new) in enumerate(zip(ins, new_ins, strict=True))]
    merged_outs = [_merge_or_raise(problem, node, old, new, "output %r" % out_names[i])
                   for i, (old, new) in enumerate(zip(outs, new_outs, strict=True))]
    return merged_ins, merged_outs


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
