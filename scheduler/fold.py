"""Inference folding: a graph rewrite for graphs that run without gradients and not in training.

A `BatchNorm` in inference (moving statistics) whose data is a `Convolution`'s output, read by nothing else, is a
per-channel affine map of that output: BatchNorm(conv + b) = conv * s + ((b - moving_mean) * s + beta) with
s = gamma / sqrt(moving_var + eps) (gamma = 1 with fix_gamma). The rewrite replaces the pair by

    _fold_bn_scale([b], gamma, beta, moving_mean, moving_var) -> (scale, shift)
    _conv_fused(data, w, scale, shift)        named as the original convolution (scale_shift, no bias)

whose kernel applies scale and shift in the pass that crops the GEMM's output (ops/cpu/conv_unfold.py), so the
weights are used as they are: no pass over them per run, nothing cached (the scale comes from the current parameter
arrays at every run; ops/fold.py). Then the activation: a Convolution or `_conv_fused` whose output only an
activation reads becomes a `_conv_fused` with that act_type, the activation's readers reading it, so the activation
costs no pass over memory of its own either. Activations folded (`_epilogue_activation`): `Activation(relu)` and
`relu` (act_type relu), `clip` (clip with its a_min, a_max: mobilenetv2's relu6), `LeakyReLU(act_type='leaky')`
(leaky with its slope). The pass is a pure rewrite: new Nodes where something changed,
the user's Nodes untouched and shared otherwise (variables keep their identity, so callers still bind them by name).

Not folded: a convolution whose output is also read elsewhere or is a head; a BatchNorm whose mean/var outputs are
read or visible (`output_mean_var`), whose channel axis is not 1, or after a channel-last convolution.
`DATAFLOW_FOLD=0` switches the pass off. The pass runs on the plan's graph only: the user's Symbol, and so its
JSON export, never sees the internal ops.
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
    folded = _rewrite(g, heads, {nid: _folded_convolution for nid in _foldable_batchnorms(g)})
    if folded is not heads:
        g = IndexedGraph(folded)
    return _rewrite(g, folded, {nid: _convolution_activation for nid in _activation_epilogues(g)})


def _rewrite(g, heads, builders):
    """heads with each node whose id is in `builders` replaced by builders[id](node, replaced), and every node
    downstream of a replaced one copied onto the new inputs; `heads` itself when there is nothing to replace."""
    if not builders:
        return heads
    replaced = {}       # id(old node) -> new node, for every node that changed (or whose inputs did)
    for node in g.nodes:
        build = builders.get(id(node))
        if build is not None:
            replaced[id(node)] = build(node, replaced)
        elif node.op is not None and any(id(e.node) in replaced for e in node.inputs):
            replaced[id(node)] = Node(node.op, node.name, node.attrs, node.params,
                                      [_moved(e, replaced) for e in node.inputs])
    return [_moved(h, replaced) for h in heads]


def _moved(entry, replaced):
    node = replaced.get(id(entry.node))
    return entry if node is None else Entry(node, entry.index, entry.version)


def _readers(g):
    """Per entry id: how many node inputs and heads read it."""
    readers = [0] * g.num_entries
    for eids in g.inputs:
        for eid in eids:
            readers[eid] += 1
    for eid in g.heads:
        readers[eid] += 1
    return readers


def _sole_convolution_input(g, node, readers, ops=("Convolution",)):
    """The channel-first convolution node (op in `ops`) whose output `node` reads as its first input and alone, or
    None."""
    data = node.inputs[0]
    conv = data.node
    if conv.op is None or conv.op.name not in ops or data.index != 0:
        return None
    if conv.params.layout not in (None, "NCW", "NCHW", "NCDHW") or readers[g.eid(data)] != 1:
        return None
    return conv


def _epilogue_activation(node):
    """The `_conv_fused` params (act_type and its scalars) that stand for activation node `node`, or None when it
    is not one an epilogue applies."""
    name = None if node.op is None else node.op.name
    p = node.params
    if name == "relu" or (name == "Activation" and p.act_type == "relu"):
        return dict(act_type="relu")
    if name == "clip":
        return dict(act_type="clip", a_min=p.a_min, a_max=p.a_max)
    if name == "LeakyReLU" and p.act_type == "leaky":
        return dict(act_type="leaky", slope=p.slope)
    return None


def _activation_epilogues(g):
    """ids of the activation nodes (`_epilogue_activation`) that read a Convolution's (or a `_conv_fused` without
    an activation's) output alone."""
    readers = _readers(g)
    found = set()
    for node in g.nodes:
        if _epilogue_activation(node) is None:
            continue
        conv = _sole_convolution_input(g, node, readers, ("Convolution", "_conv_fused"))
        if conv is not None and not (conv.op.name == "_conv_fused" and conv.params.act_type != "none"):
            found.add(id(node))
    return found


def _fused(conv, inputs, **changes):
    """A `_conv_fused` node named as `conv` (a Convolution or `_conv_fused`), its params changed as given."""
    op = registry.get("_conv_fused")
    params = dict(conv.params.as_dict(), **changes)
    for name in ("act_type", "a_min", "a_max", "slope", "scale_shift"):     # the epilogue's own, a Convolution lacks
        params.setdefault(name, op.params[name].default)
    attrs = dict(conv.attrs, **{k: str(v) for k, v in changes.items()})
    return Node(op, conv.name, attrs, Params(params), inputs)


def _convolution_activation(act, replaced):
    """The `_conv_fused` node with act's activation that stands for Convolution (or `_conv_fused`) -> act."""
    conv = act.inputs[0].node
    return _fused(conv, [_moved(e, replaced) for e in conv.inputs], **_epilogue_activation(act))


def _foldable_batchnorms(g):
    """ids of the BatchNorm nodes to fold: inference BatchNorms over axis 1 of a Convolution read by them alone."""
    readers = _readers(g)
    found = set()
    for nid, node in enumerate(g.nodes):
        if node.op is None or node.op.name != "BatchNorm":
            continue
        p = node.params
        if p.output_mean_var or p.axis != 1 or any(readers[g.node_row_ptr[nid] + k] for k in (1, 2)):
            continue
        if _sole_convolution_input(g, node, readers) is not None:
            found.add(id(node))
    return found


def _folded_convolution(bn, replaced):
    """The `_conv_fused` (scale and shift) and `_fold_bn_scale` nodes that stand for Convolution -> BatchNorm."""
    conv = bn.inputs[0].node
    cp, bp = conv.params, bn.params
    data, weight = (_moved(e, replaced) for e in conv.inputs[:2])
    bias = [] if cp.no_bias else [_moved(conv.inputs[2], replaced)]
    fold_op = registry.get("_fold_bn_scale")
    fold_attrs = {"eps": repr(bp.eps), "fix_gamma": str(bp.fix_gamma), "no_bias": str(cp.no_bias)}
    fold = Node(fold_op, bn.name + "_fold", fold_attrs, fold_op.parse_params(fold_attrs),
                bias + [_moved(e, replaced) for e in bn.inputs[1:5]])
    return _fused(conv, [data, weight, Entry(fold, 0), Entry(fold, 1)], no_bias=True, scale_shift=True)
