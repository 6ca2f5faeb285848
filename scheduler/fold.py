"""Inference folding: a graph rewrite for graphs that run without gradients and not in training.

A `BatchNorm` in inference (moving statistics) whose data is a `Convolution`'s output, read by nothing else, is a
per-channel affine map of that output, so the convolution can compute it directly: with
s = gamma / sqrt(moving_var + eps) (gamma = 1 with fix_gamma), w' = w * s per output channel and
b' = (b - moving_mean) * s + beta. The rewrite replaces the pair by

    _fold_bn_weights(w, [b], gamma, beta, moving_mean, moving_var) -> (w', b')
    Convolution(data, w', b')          named as the original convolution, with a bias

so the folded weights are computed from the current parameter arrays at every run (ops/fold.py); nothing is cached,
and the pass is a pure rewrite: new Nodes where something changed, the user's Nodes untouched and shared otherwise
(variables keep their identity, so callers still bind them by name).

Not folded: a convolution whose output is also read elsewhere or is a head; a BatchNorm whose mean/var outputs are
read or visible (`output_mean_var`), whose channel axis is not 1, or after a channel-last convolution.
`DATAFLOW_FOLD=0` switches the pass off.
"""
import os

from ops import registry
from ops.registry import Params

from .graph import Entry, IndexedGraph, Node


def enabled():
    return os.environ.get("DATAFLOW_FOLD", "1") != "0"


def fold_inference(heads, graph=None):
    """The heads of the folded graph (a new list of Entries), or `heads` itself when nothing folds. `graph`: the
    IndexedGraph of `heads`, when the caller has it."""
    g = graph if graph is not None else IndexedGraph(heads)
    foldable = _foldable_batchnorms(g)
    if not foldable:
        return heads
    replaced = {}       # id(old node) -> new node, for every node that changed (or whose inputs did)
    for node in g.nodes:
        if id(node) in foldable:
            replaced[id(node)] = _folded_convolution(node, replaced)
        elif node.op is not None and any(id(e.node) in replaced for e in node.inputs):
            replaced[id(node)] = Node(node.op, node.name, node.attrs, node.params,
                                      [_moved(e, replaced) for e in node.inputs])
    return [_moved(h, replaced) for h in heads]


def _moved(entry, replaced):
    node = replaced.get(id(entry.node))
    return entry if node is None else Entry(node, entry.index, entry.version)


def _foldable_batchnorms(g):
    """ids of the BatchNorm nodes to fold: inference BatchNorms over axis 1 of a Convolution read by them alone."""
    readers = [0] * g.num_entries
    for eids in g.inputs:
        for eid in eids:
            readers[eid] += 1
    for eid in g.heads:
        readers[eid] += 1
    found = set()
    for nid, node in enumerate(g.nodes):
        if node.op is None or node.op.name != "BatchNorm":
            continue
        p = node.params
        if p.output_mean_var or p.axis != 1 or any(readers[g.node_row_ptr[nid] + k] for k in (1, 2)):
            continue
        data = node.inputs[0]
        conv = data.node
        if conv.op is None or conv.op.name != "Convolution" or data.index != 0:
            continue
        if conv.params.layout not in (None, "NCW", "NCHW", "NCDHW") or readers[g.eid(data)] != 1:
            continue
        found.add(id(node))
    return found


def _folded_convolution(bn, replaced):
    """The Convolution (with a bias) and the `_fold_bn_weights` node that stand for Convolution -> BatchNorm."""
    conv = bn.inputs[0].node
    cp, bp = conv.params, bn.params
    data, weight = (_moved(e, replaced) for e in conv.inputs[:2])
    bias = [] if cp.no_bias else [_moved(conv.inputs[2], replaced)]
    fold_op = registry.get("_fold_bn_weights")
    fold_attrs = {"eps": repr(bp.eps), "fix_gamma": str(bp.fix_gamma), "no_bias": str(cp.no_bias)}
    fold = Node(fold_op, bn.name + "_fold", fold_attrs, fold_op.parse_params(fold_attrs),
                [weight] + bias + [_moved(e, replaced) for e in bn.inputs[1:5]])
    attrs = dict(conv.attrs, no_bias="False")
    return Node(conv.op, conv.name, attrs, Params(dict(cp.as_dict(), no_bias=False)),
                [data, Entry(fold, 0), Entry(fold, 1)])
