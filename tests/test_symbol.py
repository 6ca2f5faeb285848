"""Symbol: naming, composition, listing, inference and MXNet's JSON, checked against real MXNet 1.9.1 files."""
import json
import os

import numpy as np
import pytest

import dataflow as mx
from dataflow.base import GraphError, MXNetError, ShapeError

from tests.paths import FIXTURES
SYMBOLS = os.path.join(FIXTURES, "symbols")
with open(os.path.join(SYMBOLS, "expected.json")) as _fh:
    EXPECTED = json.load(_fh)

LOADABLE = sorted(EXPECTED)


def _fixture_text(name):
    with open(os.path.join(SYMBOLS, EXPECTED[name]["file"]), encoding="utf-8") as fh:
        return fh.read()


@pytest.fixture(autouse=True)
def fresh_names():
    with mx.name.NameManager():
        yield


# -- MXNet's files --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", LOADABLE)
def test_mxnet_file_loads_and_lists_like_mxnet(name):
    exp = EXPECTED[name]
    s = mx.sym.load(os.path.join(SYMBOLS, exp["file"]))
    assert s.name == exp["name"]
    assert s.list_arguments() == exp["list_arguments"]
    assert s.list_outputs() == exp["list_outputs"]
    assert s.list_auxiliary_states() == exp["list_auxiliary_states"]
    assert s.get_internals().list_outputs() == exp["internals_list_outputs"]


@pytest.mark.parametrize("name", LOADABLE)
def test_mxnet_file_infers_mxnet_shapes_and_types(name):
    exp = EXPECTED[name]
    s = mx.sym.load(os.path.join(SYMBOLS, exp["file"]))
    args, outs, aux = s.infer_shape(**{k: tuple(v) for k, v in exp["infer_shape_inputs"].items()})
    assert [list(a) for a in args] == exp["arg_shapes"]
    assert [list(o) for o in outs] == exp["out_shapes"]
    assert [list(a) for a in aux] == exp["aux_shapes"]
    types = s.infer_type(**{k: "float32" for k in exp["infer_shape_inputs"]})
    assert [[np.dtype(t).name for t in part] for part in types] == [exp["arg_types"], exp["out_types"],
                                                                     exp["aux_types"]]


@pytest.mark.parametrize("name", LOADABLE)
def test_json_round_trip_is_byte_identical(name):
    text = _fixture_text(name)
    assert mx.sym.load_json(text).tojson() == text


def test_seed_graph_built_here_writes_mxnet_json():
    # seed [S2], built in the same order as the fixture (`a + b` first, so the graph holds `_plus1`)
    a, b = mx.sym.Variable("a"), mx.sym.Variable("b")
    _ = a + b
    g = mx.sym.broadcast_to(mx.sym.reshape(a * b + mx.sym.dot(a, b), shape=(1, 4)), shape=(2, 4))
    assert g.tojson() == _fixture_text("g")


def test_seed_mlp_built_here_writes_mxnet_json():
    net = mx.sym.Variable("data")
    net = mx.sym.FullyConnected(data=net, name="fc1", num_hidden=128)
    net = mx.sym.Activation(data=net, name="relu1", act_type="relu")
    net = mx.sym.FullyConnected(data=net, name="fc2", num_hidden=10)
    net = mx.sym.SoftmaxOutput(data=net, name="out")
    assert net.tojson() == _fixture_text("mlp")


def test_g_evaluates_to_mxnet_value():
    exp = EXPECTED["g"]
    s = mx.sym.load(os.path.join(SYMBOLS, exp["file"]))
    inputs = {k: mx.nd.array(v) for k, v in exp["eval_inputs"].items()}
    np.testing.assert_allclose(s.eval(**inputs)[0].asnumpy(), np.array(exp["eval_output"]))


def test_gluon_export_json_loads_and_round_trips():
    path = os.path.join(FIXTURES, "mlp", "mlp-symbol.json")
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    s = mx.sym.load_json(text)
    assert s.tojson() == text
    assert s.list_arguments()[0] == "data"
    # the exported weights carry __shape__ "(256, 0)": a partial shape completed from data
    args, outs, _ = s.infer_shape(data=(1, 512))
    assert args[1] == (256, 512) and outs == [(1, 2)]


# -- malformed JSON ---------------------------------------------------------------------------------------------------

def _mlp_doc():
    return json.loads(_fixture_text("mlp"))


@pytest.mark.parametrize("corrupt, match", [
    (lambda d: d["nodes"][3]["inputs"].__setitem__(0, [42, 0, 0]), "refers to node 42"),
    (lambda d: d["nodes"][3]["inputs"].__setitem__(0, [7, 0, 0]), "refers to node 7"),     # a forward reference
    (lambda d: d["nodes"][3]["inputs"].__setitem__(0, [0, 3, 0]), "output 3 of node 0"),
    (lambda d: d["nodes"][3].__setitem__("op", "NoSuchOp"), "unknown operator 'NoSuchOp'"),
    (lambda d: d["nodes"][3]["attrs"].__setitem__("num_hidden", "many"), "num_hidden"),
    (lambda d: d["nodes"][3]["inputs"].pop(), "has 2 inputs, the operator takes 3"),
    (lambda d: d.__setitem__("heads", [[99, 0, 0]]), "heads refers to node 99"),
    (lambda d: d.pop("nodes"), "no 'nodes'"),
    (lambda d: d["nodes"][1].pop("name"), "node 1 must be an object"),
    (lambda d: d["nodes"][3].__setitem__("inputs", [["x", 0, 0]]), "bad entry"),
])
def test_malformed_json_raises_a_clear_error(corrupt, match):
    doc = _mlp_doc()
    corrupt(doc)
    with pytest.raises(GraphError, match=match):
        mx.sym.load_json(json.dumps(doc))


@pytest.mark.parametrize("cut", [1, 10, 100, 500, -2])
def test_truncated_json_raises_graph_error(cut):
    text = _fixture_text("mlp")
    with pytest.raises(GraphError, match="malformed or truncated"):
        mx.sym.load_json(text[:cut])


def test_legacy_json_forms_load():
    # two-element inputs and the old "param"/"attr" keys, as older MXNet versions wrote them
    doc = _mlp_doc()
    for node in doc["nodes"]:
        node["inputs"] = [e[:2] for e in node["inputs"]]
        if "attrs" in node:
            node["param"] = node.pop("attrs")
    doc["heads"] = [h[:2] for h in doc["heads"]]
    s = mx.sym.load_json(json.dumps(doc))
    assert s.list_arguments() == EXPECTED["mlp"]["list_arguments"]
    assert s.infer_shape(data=(100, 200))[1] == [(100, 10)]


# -- naming ---------------------------------------------------------------------------------------------------------

def test_auto_names_follow_the_call_name():
    a, b = mx.sym.var("a"), mx.sym.var("b")
    assert [s.name for s in (a + b, a + b, a * b, a - b, a / b, a + 1, 1 - a, -a, mx.sym.dot(a, b),
                             mx.sym.FullyConnected(a, num_hidden=2))] == [
        "_plus0", "_plus1", "_mul0", "_minus0", "_div0", "_plusscalar0", "_rminusscalar0", "_mulscalar0",
        "dot0", "fullyconnected0"]


def test_prefix_renames_ops_but_not_variables():
    data = mx.sym.Variable("data")
    with mx.name.Prefix("layer1_"):
        net = mx.sym.FullyConnected(data=data, name="fc", num_hidden=4)
        act = mx.sym.Activation(net, act_type="relu")
        v = mx.sym.var("v")
    assert net.list_arguments() == ["data", "layer1_fc_weight", "layer1_fc_bias"]
    assert act.name == "layer1_activation0"
    assert v.name == "v"


def test_attr_scope_and_attributes():
    with mx.AttrScope(ctx_group="dev1", __lr_mult__="2"):
        x = mx.sym.var("x", attr={"__lr_mult__": "3"})
        y = mx.sym.FullyConnected(x, num_hidden=3, name="fc")
    assert x.attr("__lr_mult__") == "3" and x.attr("ctx_group") == "dev1"
    assert y.attr("ctx_group") == "dev1" and y.attr("num_hidden") == "3"
    assert y.list_attr()["num_hidden"] == "3"
    assert y.attr_dict()["fc_weight"]["__ctx_group__"] == "dev1"     # implicit variables copy the op's attributes
    assert "fc$num_hidden" in y.list_attr(recursive=True)
    with pytest.raises(ValueError, match="strings"):
        mx.AttrScope(x=1)


def test_multi_output_symbols_show_their_node_attributes():
    # observed on MXNet 1.9.1: a multi-output op's symbol (and each of its outputs) lists its node's attributes and
    # answers attr(); a Group of different nodes lists its first member's but answers attr() with None
    with mx.AttrScope(ctx_group="dev1"):
        parts = mx.sym.split(mx.sym.var("a"), num_outputs=3, name="sp")
    shown = {"num_outputs": "3", "__ctx_group__": "dev1", "ctx_group": "dev1"}
    assert parts.list_attr() == shown and parts[1].list_attr() == shown
    assert parts.attr("num_outputs") == "3" and parts[1].attr("ctx_group") == "dev1"
    target = mx.sym.contrib.MultiBoxTarget(mx.sym.var("anchor"), mx.sym.var("label"), mx.sym.var("cls_pred"),
                                           overlap_threshold=0.4)
    assert target.list_attr() == {"overlap_threshold": "0.4"} and target.attr("overlap_threshold") == "0.4"
    group = mx.sym.Group([parts[0], mx.sym.relu(mx.sym.var("b"), name="q")])
    assert group.list_attr() == shown and group.attr("num_outputs") is None


def test_attr_values_that_are_not_strings_are_stored_as_strings():
    # MXNet str()s them (GluonCV passes attr={'__init__': mx.init.Xavier()}); the graph still writes its JSON
    init = mx.init.Xavier(magnitude=2)
    conv = mx.sym.Convolution(mx.sym.var("data"), kernel=(1, 1), num_filter=2, name="c", attr={"__init__": init})
    assert conv.attr("__init__") == str(init)
    node = [n for n in json.loads(conv.tojson())["nodes"] if n["name"] == "c"][0]
    assert node["attrs"]["__init__"] == str(init)


def test_var_attributes():
    v = mx.sym.var("w", shape=(2, 3), dtype="float16", lr_mult=2.0, wd_mult=0.5, init="zeros")
    assert v.list_attr() == {"__shape__": "(2, 3)", "__dtype__": "2", "__lr_mult__": "2.0", "lr_mult": "2.0",
                             "__wd_mult__": "0.5", "wd_mult": "0.5", "__init__": "zeros"}   # MXNet shows both
    args, _, _ = v.infer_shape()
    assert args == [(2, 3)]
    assert v.infer_type()[0] == [np.float16]
    with pytest.raises(ValueError, match="double underscores"):
        mx.sym.var("w", foo=1)


# -- composition and structure --------------------------------------------------------------------------------------

def test_compose_replaces_variables_in_a_copy():
    data = mx.sym.Variable("data")
    net1 = mx.sym.FullyConnected(data=data, name="fc1", num_hidden=10)
    net2 = mx.sym.FullyConnected(data=mx.sym.Variable("data2"), name="fc2", num_hidden=10)
    composed = net2(data2=net1, name="composed")
    assert composed.list_arguments() == ["data", "fc1_weight", "fc1_bias", "fc2_weight", "fc2_bias"]
    assert composed.list_outputs() == ["composed_output"]
    assert net2.list_arguments() == ["data2", "fc2_weight", "fc2_bias"]     # the original is untouched
    positional = net2(net1)
    assert positional.list_arguments()[:3] == ["data", "fc1_weight", "fc1_bias"]


def test_group_indexing_and_children():
    data = mx.sym.Variable("data")
    fc = mx.sym.FullyConnected(data=data, name="fc1", num_hidden=8)
    out1 = mx.sym.SoftmaxOutput(fc, name="softmax")
    out2 = mx.sym.LinearRegressionOutput(fc, name="regression")
    group = mx.sym.Group([out1, out2])
    assert len(group) == 2 and group.name is None
    assert repr(group) == "<Symbol group [softmax, regression]>"
    assert group[1].name == "regression" and group["softmax_output"].name == "softmax"
    assert [s.name for s in group] == ["softmax", "regression"]
    assert fc.get_children().list_outputs() == ["data", "fc1_weight", "fc1_bias"]
    assert data.get_children() is None
    internals = fc.get_internals()
    assert internals["fc1_output"].name == "fc1"
    with pytest.raises(IndexError):
        group[2]


def test_variable_sharing_and_list_inputs():
    a = mx.sym.Variable("a")
    b = a + a * a
    assert b.list_arguments() == ["a"] and b.list_inputs() == ["a"]
    ex = b.bind(mx.cpu(), {"a": mx.nd.ones((2, 3)) * 2})
    np.testing.assert_array_equal(ex.forward()[0].asnumpy(), np.full((2, 3), 6, np.float32))


def test_copy_and_pickle_keep_the_graph():
    import copy
    import pickle
    a = mx.sym.var("a")
    s = mx.sym.FullyConnected(a * 2, num_hidden=3, name="fc")
    for clone in (copy.copy(s), copy.deepcopy(s), pickle.loads(pickle.dumps(s))):
        assert clone.tojson() == s.tojson()


# -- inference -----------------------------------------------------------------------------------------------------

def test_fc_infers_weight_from_data_and_data_from_weight():
    fc = mx.sym.FullyConnected(mx.sym.var("data"), num_hidden=10, name="fc")
    assert fc.infer_shape(data=(4, 3)) == ([(4, 3), (10, 3), (10,)], [(4, 10)], [])
    assert fc.infer_shape(data=(4, 3, 2)) == ([(4, 3, 2), (10, 6), (10,)], [(4, 10)], [])
    assert fc.infer_shape(None, (10, 3))[0] is None      # the batch size stays unknown
    args, outs, _ = fc.infer_shape_partial(fc_weight=(10, 3))
    assert args[1] == (10, 3) and args[2] == ()     # MXNet 1.9.1: FC infers nothing before its data's rank


def test_inconsistent_shape_names_node_input_and_shapes():
    fc = mx.sym.FullyConnected(mx.sym.var("data"), num_hidden=10, name="fc1")
    with pytest.raises(ShapeError) as info:
        fc.infer_shape(data=(4, 3), fc1_weight=(9, 3))
    message = str(info.value)
    for part in ("fc1", "FullyConnected", "weight", "fc1_weight", "(9, 3)", "(10, 3)"):
        assert part in message


def test_elementwise_shape_mismatch_is_reported():
    a, b = mx.sym.var("a"), mx.sym.var("b")
    with pytest.raises(ShapeError, match=r"_plus0.*\(2, 3\).*\(3, 2\)|_plus0.*\(3, 2\).*\(2, 3\)"):
        (a + b).infer_shape(a=(2, 3), b=(3, 2))


def test_infer_shape_partial_reports_unknowns_as_empty():
    a = mx.sym.var("a")
    s = mx.sym.FullyConnected(a, num_hidden=3)
    assert s.infer_shape() == (None, None, None)
    assert s.infer_shape_partial() == ([(), (), ()], [()], [])     # MXNet 1.9.1: nothing before the data's rank


def test_infer_type_cast():
    a = mx.sym.Variable("data")
    assert mx.sym.Cast(data=a, dtype="float16").infer_type(data="float32") == ([np.float32], [np.float16], [])
    assert mx.sym.Cast(data=a, dtype=np.uint8).infer_type(data="int32") == ([np.int32], [np.uint8], [])


def test_unknown_input_name_is_an_error():
    s = mx.sym.var("a") + mx.sym.var("b")
    with pytest.raises(ValueError, match="'c' is not an input"):
        s.infer_shape(c=(1,))


def test_bad_params_name_the_op_and_value():
    with pytest.raises(MXNetError, match=r"fc9.*num_hidden.*'lots'"):
        mx.sym.FullyConnected(mx.sym.var("x"), num_hidden="lots", name="fc9")
    with pytest.raises(MXNetError, match=r"act_type.*'swish'"):
        mx.sym.Activation(mx.sym.var("x"), act_type="swish")
    with pytest.raises(MXNetError, match="num_hidden.*missing"):
        mx.sym.FullyConnected(mx.sym.var("x"))
    with pytest.raises(MXNetError, match="unknown parameter 'num_hiden'"):
        mx.sym.FullyConnected(mx.sym.var("x"), num_hiden=3)


def test_save_is_atomic_and_loads_back(tmp_path):
    s = mx.sym.FullyConnected(mx.sym.var("x"), num_hidden=3, name="fc")
    path = tmp_path / "s.json"
    s.save(str(path))
    assert path.read_text() == s.tojson()
    assert mx.sym.load(str(path)).tojson() == s.tojson()
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]    # no temporary file left behind


def test_front_ends_have_signatures_and_docs():
    import inspect
    sig = inspect.signature(mx.sym.FullyConnected)
    assert list(sig.parameters)[:6] == ["data", "weight", "bias", "num_hidden", "no_bias", "flatten"]
    assert "num_hidden" in mx.sym.FullyConnected.__doc__
    assert mx.nd.FullyConnected.__name__ == "FullyConnected"
    assert hasattr(mx.sym._internal, "_plus") and hasattr(mx.nd._internal, "_plus_scalar")
