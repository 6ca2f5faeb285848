"""mx.viz: plot_network against MXNet 1.9.1's output, rendering, and the memory-plan view (print_summary:
test_viz_summary.py; the symbols drawn: tests/viz_symbols.py).

The expected `.gv` sources are the seed's (`examples/seed/plot_*.gv`, written by MXNet for S2, S3 and
S5) or, for what the seed does not cover, pasted from MXNet 1.9.1 run on the same symbols.
"""
import collections
import doctest
import os
import re
import shutil

import graphviz
import numpy as np
import pytest

import dataflow as mx
from dataflow import viz
from ops import registry
from tests.paths import SEED
from tests.viz_symbols import (SHAPE_S5, fixture_symbol, group_net, needs_s5_ops, seed_convfactory, seed_g, seed_in3a,
                               seed_mlp)

ARTIFACTS = SEED
OVAL = {"shape": "oval", "fixedsize": "false"}       # the seed's node_attrs

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's `dot` program is not installed (apt-get install graphviz)")


# ---------------------------------------------------------------------------------------------------------------
# Reading dot sources
# ---------------------------------------------------------------------------------------------------------------

_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|(->|[\[\]{}=;])|([^\s\[\]{}=;"]+)', re.DOTALL)
Dot = collections.namedtuple("Dot", "name graph_attrs nodes edges")


def parse_dot(source):
    """A `digraph` source as Dot(name, graph attrs, [(node, attrs)], [(tail, head, attrs)]), in order."""
    tokens = []                 # (text, kind): kind is "id" for names and values, else the punctuation itself
    for quoted, punct, word in (m.groups() for m in _TOKEN.finditer(source)):
        if punct is not None:
            tokens.append((punct, punct))
        else:
            tokens.append((quoted.replace('\\"', '"') if quoted is not None else word, "id"))
    pos = 0

    def take(kind=None):
        nonlocal pos
        text, k = tokens[pos]
        assert kind is None or k == kind, "expected %r at token %d, got %r" % (kind, pos, text)
        pos += 1
        return text

    def attr_list():
        attrs = {}
        if pos < len(tokens) and tokens[pos][1] == "[":
            take("[")
            while tokens[pos][1] != "]":
                key = take("id")
                take("=")
                attrs[key] = take("id")
            take("]")
        return attrs

    assert take("id") == "digraph"
    name = take("id")
    take("{")
    graph_attrs, nodes, edges = {}, [], []
    while tokens[pos][1] != "}":
        first = take("id")
        if tokens[pos][1] == "->":
            take("->")
            head = take("id")
            edges.append((first, head, attr_list()))
        elif first == "graph":
            graph_attrs.update(attr_list())
        else:
            nodes.append((first, attr_list()))
    take("}")
    return Dot(name, graph_attrs, nodes, edges)


def _read_dot(source_or_path):
    if os.path.exists(source_or_path):
        with open(source_or_path, encoding="utf-8") as fh:
            source_or_path = fh.read()
    return parse_dot(source_or_path)


def assert_same_plot(ours, expected):
    """Node and edge sets (names, labels, attributes) equal, then the order too."""
    ours, expected = parse_dot(ours), _read_dot(expected)
    assert ours.name == expected.name
    assert dict(ours.nodes) == dict(expected.nodes)
    def edge_set(dot):
        return collections.Counter((tail, head, tuple(sorted(a.items()))) for tail, head, a in dot.edges)
    assert edge_set(ours) == edge_set(expected)
    assert ours == expected


def test_parse_dot_reads_quoted_multiline_labels():
    dot = parse_dot('digraph t {\n\t"a b" [label="Pooling\navg, 3x3/1x1" w=1.3]\n\tc -> "a b" [label=""]\n}')
    assert dot == Dot("t", {}, [("a b", {"label": "Pooling\navg, 3x3/1x1", "w": "1.3"})],
                      [("c", "a b", {"label": ""})])


# ---------------------------------------------------------------------------------------------------------------
# plot_network
# ---------------------------------------------------------------------------------------------------------------

def test_plot_network_s2_broadcast_graph_equals_mxnet():
    dot = mx.viz.plot_network(symbol=seed_g(), node_attrs=OVAL)
    assert isinstance(dot, graphviz.Digraph)
    assert_same_plot(dot.source, os.path.join(ARTIFACTS, "plot_g.gv"))


def test_plot_network_s3_mlp_with_shapes_equals_mxnet():
    dot = mx.viz.plot_network(seed_mlp(), shape={"data": (100, 200)}, node_attrs=OVAL)
    assert_same_plot(dot.source, os.path.join(ARTIFACTS, "plot_mlp.gv"))
    # the seed's .gv files are dot.source as MXNet's graphviz wrote it, without the final newline
    with open(os.path.join(ARTIFACTS, "plot_mlp.gv"), encoding="utf-8") as fh:
        assert dot.source.rstrip("\n") == fh.read()


@needs_s5_ops
def test_plot_network_s5_convfactory_equals_mxnet():
    dot = mx.viz.plot_network(symbol=seed_convfactory(), shape=SHAPE_S5, node_attrs=OVAL)
    assert_same_plot(dot.source, os.path.join(ARTIFACTS, "plot_convfactory.gv"))


@needs_s5_ops
@pytest.mark.parametrize("build", [seed_in3a, lambda: fixture_symbol("in3a")], ids=["built", "json"])
def test_plot_network_s5_inception_equals_mxnet(build):
    dot = mx.viz.plot_network(symbol=build(), shape=SHAPE_S5, node_attrs=OVAL)
    assert_same_plot(dot.source, os.path.join(ARTIFACTS, "plot_in3a.gv"))


@needs_s5_ops
def test_plot_network_convfactory_json_equals_mxnet():
    dot = mx.viz.plot_network(symbol=fixture_symbol("convfactory"), shape=SHAPE_S5, node_attrs=OVAL)
    assert_same_plot(dot.source, os.path.join(ARTIFACTS, "plot_convfactory.gv"))


# MXNet 1.9.1: plot_network(seed_mlp(), title="t", save_format="png", shape={"data": (100, 200)},
# dtype={"data": np.float32}, hide_weights=False). The weights are not declared, but their edges are drawn.
MLP_WEIGHTS_AND_DTYPES = '''digraph t {
\tdata [label=data fillcolor="#8dd3c7" fixedsize=true height=0.8034 shape=oval style=filled width=1.3]
\tfc1 [label="FullyConnected
128" fillcolor="#fb8072" fixedsize=true height=0.8034 shape=box style=filled width=1.3]
\trelu1 [label="Activation
relu" fillcolor="#ffffb3" fixedsize=true height=0.8034 shape=box style=filled width=1.3]
\tfc2 [label="FullyConnected
10" fillcolor="#fb8072" fixedsize=true height=0.8034 shape=box style=filled width=1.3]
\tout_label [label=out_label fillcolor="#8dd3c7" fixedsize=true height=0.8034 shape=oval style=filled width=1.3]
\tout [label=out fillcolor="#fccde5" fixedsize=true height=0.8034 shape=box style=filled width=1.3]
\tfc1 -> data [label="200(float32)" arrowtail=open dir=back]
\tfc1 -> fc1_weight [label="200(float32)" arrowtail=open dir=back]
\tfc1 -> fc1_bias [label="(float32)" arrowtail=open dir=back]
\trelu1 -> fc1 [label="128(float32)" arrowtail=open dir=back]
\tfc2 -> relu1 [label="128(float32)" arrowtail=open dir=back]
\tfc2 -> fc2_weight [label="128(float32)" arrowtail=open dir=back]
\tfc2 -> fc2_bias [label="(float32)" arrowtail=open dir=back]
\tout -> fc2 [label="10(float32)" arrowtail=open dir=back]
\tout -> out_label [label="(float32)" arrowtail=open dir=back]
}'''


def test_plot_network_shows_weights_and_dtypes_as_mxnet():
    dot = mx.viz.plot_network(seed_mlp(), title="t", save_format="png", shape={"data": (100, 200)},
                              dtype={"data": np.float32}, hide_weights=False)
    assert dot.format == "png" and dot.name == "t"
    assert_same_plot(dot.source, MLP_WEIGHTS_AND_DTYPES)


# MXNet 1.9.1: node_attrs set on every node, but the op's fill colour wins, and inputs stay ovals.
GROUP_PLOT = '''digraph plot {
\tdata1 [label=data1 color=red fillcolor="#8dd3c7" fixedsize=true height=0.8034 shape=oval style=filled width=1.3]
\tdata2 [label=data2 color=red fillcolor="#8dd3c7" fixedsize=true height=0.8034 shape=oval style=filled width=1.3]
\t_plus0 [label=_plus0 color=red fillcolor="#fccde5" fixedsize=true height=0.8034 shape=box style=filled width=1.3]
\tfc [label="FullyConnected
4" color=red fillcolor="#fb8072" fixedsize=true height=0.8034 shape=box style=filled width=1.3]
\trs [label=rs color=red fillcolor="#fdb462" fixedsize=true height=0.8034 shape=box style=filled width=1.3]
\tfl [label=fl color=red fillcolor="#fdb462" fixedsize=true height=0.8034 shape=box style=filled width=1.3]
\tact [label="Activation
tanh" color=red fillcolor="#ffffb3" fixedsize=true height=0.8034 shape=box style=filled width=1.3]
\t_plus0 -> data1 [label=3 arrowtail=open dir=back]
\t_plus0 -> data2 [label=3 arrowtail=open dir=back]
\tfc -> _plus0 [label=3 arrowtail=open dir=back]
\trs -> fc [label=4 arrowtail=open dir=back]
\tfl -> rs [label="2x2" arrowtail=open dir=back]
\tact -> fc [label=4 arrowtail=open dir=back]
}'''


def test_plot_network_node_attrs_and_groups_as_mxnet():
    dot = mx.viz.plot_network(group_net(), shape={"data1": (8, 3), "data2": (8, 3)},
                              node_attrs={"color": "red", "fillcolor": "blue", "shape": "box"})
    assert_same_plot(dot.source, GROUP_PLOT)


def test_plot_network_errors():
    with pytest.raises(TypeError, match="must be a Symbol"):
        mx.viz.plot_network("data")
    with pytest.raises(ValueError, match="Input shape is incomplete"):
        mx.viz.plot_network(seed_mlp(), shape={})
    with pytest.raises(ValueError, match="not an input"):
        mx.viz.plot_network(seed_mlp(), shape={"nodata": (1, 2)})
    with pytest.warns(RuntimeWarning, match="Repeated names: x"):
        mx.viz.plot_network(mx.sym.var("x") + mx.sym.var("x"))


# ---------------------------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------------------------

@needs_dot
def test_render_png(tmp_path):
    dot = mx.viz.plot_network(seed_mlp(), shape={"data": (100, 200)}, save_format="png")
    produced = dot.render(filename=str(tmp_path / "mlp"), cleanup=True)
    assert produced == str(tmp_path / "mlp.png")
    with open(produced, "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"


def test_render_without_dot_says_how_to_install(tmp_path, monkeypatch):
    dot = mx.viz.plot_network(seed_mlp(), save_format="png")
    monkeypatch.setenv("PATH", str(tmp_path))       # no `dot` here
    install = r"apt-get install graphviz.*brew install graphviz"
    with pytest.raises(viz.GraphvizNotFound, match=install) as info:
        dot.render(filename=str(tmp_path / "mlp"))
    assert isinstance(info.value, graphviz.ExecutableNotFound)     # graphviz's own handlers still catch it
    assert isinstance(info.value, mx.MXNetError)
    with pytest.raises(viz.GraphvizNotFound, match="apt-get install graphviz"):
        dot.pipe(format="svg")
    assert "FullyConnected" in dot.source           # the text needs no binary


# ---------------------------------------------------------------------------------------------------------------
# plot_memory
# ---------------------------------------------------------------------------------------------------------------

def _check_memory_view(dot, symbol, shape, training):
    """Every drawn op is coloured by its output's sid (one colour per sid) and says its sid; the title states
    the bytes of the executor bound the same way."""
    executor = symbol.simple_bind(mx.cpu(), grad_req="write" if training else "null", **shape)
    stats, plan = executor.memory_stats(), executor._plan
    assert dot.memory_stats == stats
    title = dot.graph_attr["label"]
    assert title == ("memory (%s): planned %d bytes in %d buffer%s, naive %d bytes, lower bound %d bytes" % (
        "training" if training else "inference", stats["planned"], len(plan.memory.storage_bytes),
        "" if len(plan.memory.storage_bytes) == 1 else "s", stats["naive"], stats["lower_bound"]))
    drawn = dict(parse_dot(dot.source).nodes)
    colour_of_sid, users = {}, collections.Counter()
    for nid, node in enumerate(plan.graph.nodes):
        if node.is_variable:
            continue
        eid = plan.graph.node_row_ptr[nid]
        sid = plan.memory.storage_id[eid]
        attrs = drawn[node.name]
        if sid < 0:
            assert attrs["fillcolor"] == "#ffffff" and attrs["label"].endswith("external")
            continue
        users[sid] += 1
        assert re.search(r"\nsid %d( in place)?(, |$)" % sid, attrs["label"]), attrs["label"]
        assert colour_of_sid.setdefault(sid, attrs["fillcolor"]) == attrs["fillcolor"]
    assert len(set(colour_of_sid.values())) == len(colour_of_sid)       # distinct buffers, distinct colours
    return users


def test_plot_memory_inference_colours_by_sid():
    net, shape = seed_mlp(), {"data": (100, 200)}
    dot = mx.viz.plot_memory(net, shape)
    _check_memory_view(dot, net, shape, training=False)
    assert dot.memory_stats["planned"] < dot.memory_stats["naive"]
    assert "fc1_weight" not in dict(parse_dot(dot.source).nodes)


def test_plot_memory_training_plans_forward_and_backward():
    x, w = mx.sym.var("x"), mx.sym.var("w_weight")
    h = mx.sym.dot(x, w, name="d1")
    net = mx.sym.sum(mx.sym.log(h * h, name="lg"), name="s")
    shape = {"x": (32, 64), "w_weight": (64, 16)}
    dot = mx.viz.plot_memory(net, shape, training=True)
    users = _check_memory_view(dot, net, shape, training=True)
    assert max(users.values()) > 1                  # some buffer is reused, and shows as one colour
    assert any(name.startswith("_backward_") for name, _ in parse_dot(dot.source).nodes)


@pytest.mark.skipif(any(registry.get(op).gradient is None for op in ("FullyConnected", "Activation",
                                                                     "SoftmaxOutput")),
                    reason="FullyConnected, Activation and SoftmaxOutput have no gradient rule yet")
def test_plot_memory_training_s3_mlp():
    net, shape = seed_mlp(), {"data": (100, 200)}
    _check_memory_view(mx.viz.plot_memory(net, shape, training=True), net, shape, training=True)


def test_docstring_examples_run():
    result = doctest.testmod(viz, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
