"""mx.viz: plot_network and print_summary against MXNet 1.9.1's output, rendering, and the memory-plan view.

The expected `.gv` sources are the seed's (`examples/seed/plot_*.gv`, written by MXNet for S2, S3 and
S5) or, for what the seed does not cover, pasted from MXNet 1.9.1 run on the same symbols. The expected tables
are MXNet's `print_summary` output, pasted without trailing spaces: MXNet pads every table row to
`line_length`, and `_table` puts that padding back.
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
from tests.paths import FIXTURES, SEED

ARTIFACTS = SEED
SHAPE_S5 = {"Previous Output": (128, 3, 28, 28)}
OVAL = {"shape": "oval", "fixedsize": "false"}       # the seed's node_attrs

_S5_OPS = ("Convolution", "BatchNorm", "Pooling", "Concat")
_missing_s5 = [op for op in _S5_OPS if not hasattr(mx.sym, op)]
_S5_SKIP = "the seed's S5 nets need mx.sym.%s, not registered yet" % ", mx.sym.".join(_missing_s5)
needs_s5_ops = pytest.mark.skipif(bool(_missing_s5), reason=_S5_SKIP)
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
# The seed's symbols
# ---------------------------------------------------------------------------------------------------------------

def seed_g():
    """S2's `g`, named as in a fresh MXNet process (`c = a + b` took `_plus0`)."""
    with mx.name.NameManager():
        a, b = mx.sym.Variable("a"), mx.sym.Variable("b")
        a + b
        d = a * b
        e = mx.sym.dot(a, b)
        f = mx.sym.reshape(d + e, shape=(1, 4))
        return mx.sym.broadcast_to(f, shape=(2, 4))


def seed_mlp():
    net = mx.sym.Variable("data")
    net = mx.sym.FullyConnected(data=net, name="fc1", num_hidden=128)
    net = mx.sym.Activation(data=net, name="relu1", act_type="relu")
    net = mx.sym.FullyConnected(data=net, name="fc2", num_hidden=10)
    return mx.sym.SoftmaxOutput(data=net, name="out")


def conv_factory(data, num_filter, kernel, stride=(1, 1), pad=(0, 0), name=None, suffix=""):
    conv = mx.sym.Convolution(data=data, num_filter=num_filter, kernel=kernel, stride=stride, pad=pad,
                              name="conv_%s%s" % (name, suffix))
    bn = mx.sym.BatchNorm(data=conv, name="bn_%s%s" % (name, suffix))
    return mx.sym.Activation(data=bn, act_type="relu", name="relu_%s%s" % (name, suffix))


def inception_factory_a(data, num_1x1, num_3x3red, num_3x3, num_d3x3red, num_d3x3, pool, proj, name):
    c1x1 = conv_factory(data, num_1x1, (1, 1), name="%s_1x1" % name)
    c3x3r = conv_factory(data, num_3x3red, (1, 1), name="%s_3x3" % name, suffix="_reduce")
    c3x3 = conv_factory(c3x3r, num_3x3, (3, 3), pad=(1, 1), name="%s_3x3" % name)
    cd3x3r = conv_factory(data, num_d3x3red, (1, 1), name="%s_double_3x3" % name, suffix="_reduce")
    cd3x3 = conv_factory(cd3x3r, num_d3x3, (3, 3), pad=(1, 1), name="%s_double_3x3_0" % name)
    cd3x3 = conv_factory(cd3x3, num_d3x3, (3, 3), pad=(1, 1), name="%s_double_3x3_1" % name)
    pooling = mx.sym.Pooling(data=data, kernel=(3, 3), stride=(1, 1), pad=(1, 1), pool_type=pool,
                             name="%s_pool_%s_pool" % (pool, name))
    cproj = conv_factory(pooling, proj, (1, 1), name="%s_proj" % name)
    return mx.sym.Concat(*[c1x1, c3x3, cd3x3, cproj], name="ch_concat_%s_chconcat" % name)


def seed_convfactory():
    return conv_factory(mx.sym.Variable(name="Previous Output"), 64, (7, 7), stride=(2, 2))


def seed_in3a():
    return inception_factory_a(mx.sym.Variable(name="Previous Output"), 64, 64, 64, 64, 96, "avg", 32, "in3a")


def fixture_symbol(name):
    return mx.sym.load(os.path.join(FIXTURES, "symbols", "%s-symbol.json" % name))


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


def group_net():
    with mx.name.NameManager():
        d1, d2 = mx.sym.var("data1"), mx.sym.var("data2")
        fc = mx.sym.FullyConnected(d1 + d2, num_hidden=4, name="fc")
        flat = mx.sym.Flatten(mx.sym.Reshape(fc, shape=(-1, 2, 2), name="rs"), name="fl")
        return mx.sym.Group([flat, mx.sym.Activation(fc, act_type="tanh", name="act")])


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
# print_summary
# ---------------------------------------------------------------------------------------------------------------

def _table(text, line_length=120):
    """MXNet's printed table from its text without trailing spaces: rows are padded to `line_length`."""
    rules = ({"_"}, {"="})
    lines = [line if set(line) in rules or line.startswith("Total params") else line.ljust(line_length)
             for line in text.strip("\n").split("\n")]
    return "\n".join(lines) + "\n"


def summary(capsys, *args, **kwargs):
    capsys.readouterr()
    assert mx.viz.print_summary(*args, **kwargs) is None
    return capsys.readouterr().out


SUMMARY_MLP = """
________________________________________________________________________________________________________________________
Layer (type)                                        Output Shape            Param #     Previous Layer
========================================================================================================================
data(null)                                          200                     0
________________________________________________________________________________________________________________________
fc1(FullyConnected)                                 128                     25728       data
________________________________________________________________________________________________________________________
relu1(Activation)                                   128                     0           fc1
________________________________________________________________________________________________________________________
fc2(FullyConnected)                                 10                      1290        relu1
________________________________________________________________________________________________________________________
out(SoftmaxOutput)                                  10                      0           fc2
========================================================================================================================
Total params: 27018
________________________________________________________________________________________________________________________
"""

SUMMARY_MLP_NO_SHAPE = """
________________________________________________________________________________________________________________________
Layer (type)                                        Output Shape            Param #     Previous Layer
========================================================================================================================
data(null)                                                                  0
________________________________________________________________________________________________________________________
fc1(FullyConnected)                                                         128         data
________________________________________________________________________________________________________________________
relu1(Activation)                                                           0           fc1
________________________________________________________________________________________________________________________
fc2(FullyConnected)                                                         10          relu1
________________________________________________________________________________________________________________________
out(SoftmaxOutput)                                                          0           fc2
========================================================================================================================
Total params: 138
________________________________________________________________________________________________________________________
"""

SUMMARY_MLP_80 = """
________________________________________________________________________________
Layer (type)                  Output Shape        Param #   Previous Layer
================================================================================
data(null)                    200                 0
________________________________________________________________________________
fc1(FullyConnected)           128                 25728     data
________________________________________________________________________________
relu1(Activation)             128                 0         fc1
________________________________________________________________________________
fc2(FullyConnected)           10                  1290      relu1
________________________________________________________________________________
out(SoftmaxOutput)            10                  0         fc2
================================================================================
Total params: 27018
________________________________________________________________________________
"""

SUMMARY_MLP_40 = """
________________________________________
Layer (type)     Output SParaPrevious La
========================================
data(null)       200     0
________________________________________
fc1(FullyConnecte128     2572data
________________________________________
relu1(Activation)128     0   fc1
________________________________________
fc2(FullyConnecte10      1290relu1
________________________________________
out(SoftmaxOutput10      0   fc2
========================================
Total params: 27018
________________________________________
"""

# Only node 0 is a layer and a previous layer among the variables: data2 shows nowhere.
SUMMARY_GROUP = """
________________________________________________________________________________________________________________________
Layer (type)                                        Output Shape            Param #     Previous Layer
========================================================================================================================
data1(null)                                         3                       0
________________________________________________________________________________________________________________________
_plus0(elemwise_add)                                3                       0           data1
________________________________________________________________________________________________________________________
fc(FullyConnected)                                  4                       16          _plus0
________________________________________________________________________________________________________________________
rs(Reshape)                                         2x2                     0           fc
________________________________________________________________________________________________________________________
fl(Flatten)                                         4                       0           rs
________________________________________________________________________________________________________________________
act(Activation)                                     4                       0           fc
========================================================================================================================
Total params: 16
________________________________________________________________________________________________________________________
"""

SUMMARY_CONVFACTORY = """
________________________________________________________________________________________________________________________
Layer (type)                                        Output Shape            Param #     Previous Layer
========================================================================================================================
Previous Output(null)                               3x28x28                 0
________________________________________________________________________________________________________________________
conv_None(Convolution)                              64x11x11                9472        Previous Output
________________________________________________________________________________________________________________________
bn_None(BatchNorm)                                  64x11x11                128         conv_None
________________________________________________________________________________________________________________________
relu_None(Activation)                               64x11x11                0           bn_None
========================================================================================================================
Total params: 9600
________________________________________________________________________________________________________________________
"""

SUMMARY_CONVFACTORY_NO_SHAPE = """
________________________________________________________________________________________________________________________
Layer (type)                                        Output Shape            Param #     Previous Layer
========================================================================================================================
Previous Output(null)                                                       0
________________________________________________________________________________________________________________________
conv_None(Convolution)                                                      64          Previous Output
________________________________________________________________________________________________________________________
bn_None(BatchNorm)                                                          0           conv_None
________________________________________________________________________________________________________________________
relu_None(Activation)                                                       0           bn_None
========================================================================================================================
Total params: 64
________________________________________________________________________________________________________________________
"""

SUMMARY_IN3A = """
________________________________________________________________________________________________________________________
Layer (type)                                        Output Shape            Param #     Previous Layer
========================================================================================================================
Previous Output(null)                               3x28x28                 0
________________________________________________________________________________________________________________________
conv_in3a_1x1(Convolution)                          64x28x28                256         Previous Output
________________________________________________________________________________________________________________________
bn_in3a_1x1(BatchNorm)                              64x28x28                128         conv_in3a_1x1
________________________________________________________________________________________________________________________
relu_in3a_1x1(Activation)                           64x28x28                0           bn_in3a_1x1
________________________________________________________________________________________________________________________
conv_in3a_3x3_reduce(Convolution)                   64x28x28                256         Previous Output
________________________________________________________________________________________________________________________
bn_in3a_3x3_reduce(BatchNorm)                       64x28x28                128         conv_in3a_3x3_reduce
________________________________________________________________________________________________________________________
relu_in3a_3x3_reduce(Activation)                    64x28x28                0           bn_in3a_3x3_reduce
________________________________________________________________________________________________________________________
conv_in3a_3x3(Convolution)                          64x28x28                36928       relu_in3a_3x3_reduce
________________________________________________________________________________________________________________________
bn_in3a_3x3(BatchNorm)                              64x28x28                128         conv_in3a_3x3
________________________________________________________________________________________________________________________
relu_in3a_3x3(Activation)                           64x28x28                0           bn_in3a_3x3
________________________________________________________________________________________________________________________
conv_in3a_double_3x3_reduce(Convolution)            64x28x28                256         Previous Output
________________________________________________________________________________________________________________________
bn_in3a_double_3x3_reduce(BatchNorm)                64x28x28                128         conv_in3a_double_3x3_reduce
________________________________________________________________________________________________________________________
relu_in3a_double_3x3_reduce(Activation)             64x28x28                0           bn_in3a_double_3x3_reduce
________________________________________________________________________________________________________________________
conv_in3a_double_3x3_0(Convolution)                 96x28x28                55392       relu_in3a_double_3x3_reduce
________________________________________________________________________________________________________________________
bn_in3a_double_3x3_0(BatchNorm)                     96x28x28                192         conv_in3a_double_3x3_0
________________________________________________________________________________________________________________________
relu_in3a_double_3x3_0(Activation)                  96x28x28                0           bn_in3a_double_3x3_0
________________________________________________________________________________________________________________________
conv_in3a_double_3x3_1(Convolution)                 96x28x28                83040       relu_in3a_double_3x3_0
________________________________________________________________________________________________________________________
bn_in3a_double_3x3_1(BatchNorm)                     96x28x28                192         conv_in3a_double_3x3_1
________________________________________________________________________________________________________________________
relu_in3a_double_3x3_1(Activation)                  96x28x28                0           bn_in3a_double_3x3_1
________________________________________________________________________________________________________________________
avg_pool_in3a_pool(Pooling)                         3x28x28                 0           Previous Output
________________________________________________________________________________________________________________________
conv_in3a_proj(Convolution)                         32x28x28                128         avg_pool_in3a_pool
________________________________________________________________________________________________________________________
bn_in3a_proj(BatchNorm)                             32x28x28                64          conv_in3a_proj
________________________________________________________________________________________________________________________
relu_in3a_proj(Activation)                          32x28x28                0           bn_in3a_proj
________________________________________________________________________________________________________________________
ch_concat_in3a_chconcat(Concat)                     256x28x28               0           relu_in3a_1x1
                                                                                        relu_in3a_3x3
                                                                                        relu_in3a_double_3x3_1
                                                                                        relu_in3a_proj
========================================================================================================================
Total params: 177216
________________________________________________________________________________________________________________________
"""


def _parameter_total(symbol, shape):
    """The number of parameters by shape inference: the arguments that are neither in `shape` nor labels."""
    arg_shapes, _, _ = symbol.infer_shape(**shape)
    return sum(int(np.prod(s)) for n, s in zip(symbol.list_arguments(), arg_shapes)
               if n not in shape and not n.endswith("_label"))


def test_print_summary_s3_mlp_equals_mxnet(capsys):
    net = seed_mlp()
    assert summary(capsys, net, shape={"data": (100, 200)}) == _table(SUMMARY_MLP)
    assert "Total params: %d\n" % _parameter_total(net, {"data": (100, 200)}) in _table(SUMMARY_MLP)


@pytest.mark.parametrize("kwargs, expected, width", [
    ({}, SUMMARY_MLP_NO_SHAPE, 120),
    ({"shape": {"data": (100, 200)}, "line_length": 80, "positions": [30, 50, 60, 80]}, SUMMARY_MLP_80, 80),
    ({"shape": {"data": (100, 200)}, "line_length": 40}, SUMMARY_MLP_40, 40),
], ids=["no-shape", "columns", "truncated"])
def test_print_summary_options_as_mxnet(capsys, kwargs, expected, width):
    assert summary(capsys, seed_mlp(), **kwargs) == _table(expected, width)


def test_print_summary_group_as_mxnet(capsys):
    assert summary(capsys, group_net(), shape={"data1": (8, 3), "data2": (8, 3)}) == _table(SUMMARY_GROUP)


def test_print_summary_counts_a_shared_weight_once(capsys):
    data, w = mx.sym.var("data"), mx.sym.var("shared_weight")
    fc1 = mx.sym.FullyConnected(data, weight=w, num_hidden=5, no_bias=True, name="fc1")
    net = mx.sym.FullyConnected(fc1, weight=w, num_hidden=5, no_bias=True, name="fc2")
    text = summary(capsys, net, shape={"data": (2, 5)})
    assert "Total params: 25\n" in text and _parameter_total(net, {"data": (2, 5)}) == 25


@needs_s5_ops
def test_print_summary_s5_convfactory_equals_mxnet(capsys):
    net = seed_convfactory()
    assert summary(capsys, net, shape=SHAPE_S5) == _table(SUMMARY_CONVFACTORY)
    assert summary(capsys, net) == _table(SUMMARY_CONVFACTORY_NO_SHAPE)
    assert _parameter_total(net, SHAPE_S5) == 9600


@needs_s5_ops
@pytest.mark.parametrize("build", [seed_in3a, lambda: fixture_symbol("in3a")], ids=["built", "json"])
def test_print_summary_s5_inception_equals_mxnet(capsys, build):
    net = build()
    assert summary(capsys, net, shape=SHAPE_S5) == _table(SUMMARY_IN3A)
    assert _parameter_total(net, SHAPE_S5) == 177216


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
