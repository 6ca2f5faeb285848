"""The loaders under hostile input (issue 14, items 4, 5, 7, 10, 11).

- counts and declared sizes are checked at load, before anything is built: `Concat` with `num_args`
  "99999999999999999999", `num_hidden` past MXNet's 32-bit int, a `__shape__` of 1e12 elements; a huge count is
  refused without allocating for it;
- malformed attributes raise a GraphError naming the node, the attribute and the value, at load: a `__dtype__` that is
  no dtype code ("12", "99", "-2", "float32"), a `__shape__` that is no shape ("abc", "(1e309,)"), files that are not
  UTF-8, nesting 100k deep. MXNet refuses each of these too (at load or at inference), as recorded in
  tests/fixtures/mxnet-1.9.1/loaders/behaviour.json;
- params of another dtype: Gluon refuses them unless `cast_dtype=True` with MXNet's message, `Module` casts them,
  `SymbolBlock.imports` adopts the saved dtype and the call then fails, all as MXNet 1.9.1 does (same fixture);
- `nd.load` reads each array straight into its buffer: its peak memory is about the file's size;
- optimizer states are unpickled by a restricted unpickler: a crafted file cannot run code.
"""
import json
import os
import pickle
import tracemalloc

import numpy as np
import pytest

import dataflow as mx
from dataflow.gluon.parameter import ParameterLoadError
from dataflow.optimizer.states import OptimizerStatesError
from ops.errors import GraphError, MXNetError

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "mxnet-1.9.1", "loaders")
with open(os.path.join(FIXTURES, "behaviour.json")) as _fh:
    BEHAVIOUR = json.load(_fh)


def _fc_doc():
    with open(os.path.join(FIXTURES, "fc-symbol.json")) as fh:
        return json.load(fh)


def _concat_doc():
    data = mx.sym.var("data")
    return json.loads(mx.sym.Concat(data, data, name="c").tojson())


# ---------------------------------------------------------------------------------------------------------------
# Malformed graphs: refused at load, naming the node, the attribute and the value (MXNet refuses them too)
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("label", sorted(BEHAVIOUR["refuses"]))
def test_malformed_graph_refused_at_load_naming_node_attr_and_value(label):
    case = BEHAVIOUR["refuses"][label]
    assert case["error"] is not None, "MXNet accepts %s" % label        # the fixture's truth: MXNet refuses it
    doc = _concat_doc() if case["attr"] == "num_args" else _fc_doc()
    node = doc["nodes"][case["node"]]
    node.setdefault("attrs", {})[case["attr"]] = case["value"]
    with pytest.raises(GraphError) as err:
        mx.sym.load_json(json.dumps(doc))
    message = str(err.value)
    assert node["name"] in message and case["attr"] in message and case["value"] in message, message


def test_huge_count_fails_fast_without_building_names():
    doc = _concat_doc()
    for value in ("2000000000", "1e9"):
        doc["nodes"][1]["attrs"]["num_args"] = value
        tracemalloc.start()
        try:
            with pytest.raises(GraphError, match=r"c, Concat\): num_args=1?\d+, but the node has 2 inputs"):
                mx.sym.load_json(json.dumps(doc))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 16 << 20, "refusing num_args=%s allocated %d bytes" % (value, peak)
    split = json.loads(mx.sym.SliceChannel(mx.sym.var("data"), num_outputs=2, name="s").tojson())
    split["nodes"][1]["attrs"]["num_outputs"] = "2000000000"
    with pytest.raises(GraphError, match="num_outputs=2000000000 is not a plausible count"):
        mx.sym.load_json(json.dumps(split))


def test_declared_shape_over_the_bound_is_refused():
    doc = _fc_doc()
    doc["nodes"][1]["attrs"]["__shape__"] = "(1000000, 1000000)"        # 1e12 elements: fine for MXNet's int64 dims
    with pytest.raises(GraphError, match=r"'__shape__' of variable node 1 \(fc_weight\).*more than the limit"):
        mx.sym.load_json(json.dumps(doc))
    doc["nodes"][1]["attrs"]["__shape__"] = "(2, 3)"
    assert mx.sym.load_json(json.dumps(doc)).infer_shape(data=(1, 3))[0][1] == (2, 3)


def test_num_hidden_is_a_32_bit_int_as_in_mxnet():
    doc = _fc_doc()
    for value in ("2147483647", "2147483648", "1000000000000"):
        doc["nodes"][3]["attrs"]["num_hidden"] = value
        if value == "2147483647":
            assert mx.sym.load_json(json.dumps(doc)).attr("num_hidden") == value
            continue
        with pytest.raises(GraphError, match=r"fc \(FullyConnected\).*%s.*num_hidden.*32-bit" % value):
            mx.sym.load_json(json.dumps(doc))


@pytest.mark.parametrize("text, match", [
    (b'{"nodes": [{"op": "null", "name": "\xff"}]}', "not UTF-8 text"),
    ("[" * 100000 + "]" * 100000, "nested too deeply"),
    ('{"nodes": [{"op": "null", "name": "x", "inputs": [], "attrs": {"a": ' + "[" * 900 + "]" * 900 + "}}]}",
     "attribute 'a' of node 0 \\(x\\) must be a string"),
    ('{"nodes": [{"op": ["FullyConnected"], "name": "x"}], "heads": [[0, 0, 0]]}', "the strings 'op' and 'name'"),
    ('{"nodes": [{"op": "null", "name": "x", "inputs": [[0, 0, 0]]}], "heads": [[0, 0, 0]]}', "has inputs"),
    ('{"nodes": [{"op": "null", "name": "x"}], "heads": [[0, true, 0]]}', "bad entry"),
    ('{"nodes": [{"op": "null", "name": "x"}], "heads": [[0, 0, 0]], "x": 1' + "0" * 5000 + "}", "malformed"),
])
def test_malformed_json_is_a_graph_error(text, match):
    with pytest.raises(GraphError, match=match):
        mx.sym.load_json(text)


def test_sym_load_of_a_non_utf8_file(tmp_path):
    path = tmp_path / "bad-symbol.json"
    path.write_bytes(_fc_doc_bytes().replace(b'"fc"', b'"f\xe9"'))
    with pytest.raises(GraphError, match="not UTF-8 text"):
        mx.sym.load(str(path))


def _fc_doc_bytes():
    with open(os.path.join(FIXTURES, "fc-symbol.json"), "rb") as fh:
        return fh.read()


@pytest.mark.parametrize("value", ["1e309", "nan", "-inf", "1.5", "(1,2)"])
def test_int_params_that_are_no_int_are_param_errors(value):
    with pytest.raises(MXNetError, match="num_hidden"):
        mx.sym.FullyConnected(mx.sym.var("data"), num_hidden=value, name="fc")


def test_shape_attrs_parse_as_mxnet_writes_them():
    reshape = mx.sym.Reshape(mx.sym.var("x"), shape="(2L, -1)")         # Python 2's longs, as old files hold
    assert reshape.infer_shape(x=(4, 3))[1] == [(2, 6)]
    for bad in ("((2, 3))", "(2, 3", "(" * 5000, "(2, abc)"):
        with pytest.raises(MXNetError, match="shape"):
            mx.sym.Reshape(mx.sym.var("x"), shape=bad)


# ---------------------------------------------------------------------------------------------------------------
# Params of another dtype, against MXNet 1.9.1's behaviour
# ---------------------------------------------------------------------------------------------------------------

DTYPES = ("int32", "float16", "float64")


@pytest.mark.parametrize("dtype", DTYPES)
def test_gluon_load_parameters_of_another_dtype(tmp_path, dtype):
    expected = BEHAVIOUR[dtype]
    loaded = mx.nd.load(os.path.join(FIXTURES, "fc_%s-0000.params" % dtype))
    path = str(tmp_path / "dense.params")
    mx.nd.save(path, {"weight": loaded["arg:fc_weight"], "bias": loaded["arg:fc_bias"]})
    for label, kwargs in (("default", {}), ("cast", {"cast_dtype": True}),
                          ("saved", {"cast_dtype": True, "dtype_source": "saved"})):
        dense = mx.gluon.nn.Dense(2, in_units=3)
        want = expected["gluon_" + label]
        if want["error"]:
            with pytest.raises(AssertionError) as err:      # MXNet's type; ours is an MXNetError too
                dense.load_parameters(path, **kwargs)
            assert isinstance(err.value, ParameterLoadError)
            assert "dtype incompatible expected float32 vs saved" in str(err.value)
            assert "Set cast_dtype=True to cast the dtype of saved params." in str(err.value)
        else:
            dense.load_parameters(path, **kwargs)
            assert np.dtype(dense.weight.data().dtype).name == want["dtype"]
            assert np.array_equal(dense.weight.data().asnumpy(), loaded["arg:fc_weight"].asnumpy())


@pytest.mark.parametrize("dtype", DTYPES)
def test_module_casts_params_of_another_dtype(tmp_path, dtype):
    expected = BEHAVIOUR[dtype]["module"]
    x = np.load(os.path.join(FIXTURES, "input.npy"))
    prefix = str(tmp_path / ("fc_" + dtype))
    with open(prefix + "-symbol.json", "wb") as fh:
        fh.write(_fc_doc_bytes())
    with open(prefix + "-0000.params", "wb") as fh, open(os.path.join(FIXTURES, "fc_%s-0000.params" % dtype),
                                                         "rb") as src:
        fh.write(src.read())
    mod = mx.mod.Module.load(prefix, 0, data_names=["data"], label_names=None)
    mod.bind(data_shapes=[("data", x.shape)], for_training=False)
    mod.forward(mx.io.DataBatch([mx.nd.array(x)]), is_train=False)
    out = mod.get_outputs()[0]
    assert np.dtype(out.dtype).name == expected["output_dtype"]
    np.testing.assert_allclose(out.asnumpy(), np.array(expected["output"], dtype=np.float32), rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_symbol_block_imports_adopts_the_saved_dtype_then_refuses_float32_data(dtype):
    expected = BEHAVIOUR[dtype]
    block = mx.gluon.SymbolBlock.imports(os.path.join(FIXTURES, "fc-symbol.json"), ["data"],
                                         os.path.join(FIXTURES, "fc_%s-0000.params" % dtype))
    assert np.dtype(block.collect_params()["fc_weight"].dtype).name == expected["imports_param_dtype"]
    assert expected["imports_call"]["error"] == "MXNetError"
    with pytest.raises(MXNetError, match="fc.*weight.*%s" % dtype):
        block(mx.nd.array(np.load(os.path.join(FIXTURES, "input.npy")))).asnumpy()


# ---------------------------------------------------------------------------------------------------------------
# nd.load: memory and results
# ---------------------------------------------------------------------------------------------------------------

def test_nd_load_peak_memory_is_about_the_file_size(tmp_path):
    rng = np.random.RandomState(3)
    arrays = {"w%d" % i: rng.rand(500, 1000).astype(np.float32) for i in range(8)}      # 16 MB
    arrays["flags"] = rng.rand(1000) > 0.5
    path = str(tmp_path / "big.params")
    mx.nd.save(path, {k: mx.nd.array(v, dtype=v.dtype) for k, v in arrays.items()})
    size = os.path.getsize(path)
    tracemalloc.start()
    try:
        loaded = mx.nd.load(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1.2 * size, (peak, size)
    for key, value in arrays.items():
        assert np.array_equal(loaded[key].asnumpy(), value), key
    with open(path, "rb") as fh:
        again = mx.nd.load_frombuffer(fh.read())
    assert all(np.array_equal(again[k].asnumpy(), v) for k, v in arrays.items())


def test_nd_load_normalises_bool_bytes_and_arrays_are_writable(tmp_path):
    path = str(tmp_path / "b.params")
    mx.nd.save(path, [mx.nd.array([1, 0, 1], dtype="bool"), mx.nd.array([1.5, 2.5])])
    data = bytearray(open(path, "rb").read())
    first_data = data.index(bytes([1, 0, 1]))
    data[first_data] = 7                                            # a byte MXNet's reader would keep as "true"
    bools, floats = mx.nd.load_frombuffer(bytes(data))
    assert bools.asnumpy().view(np.uint8).tolist() == [1, 0, 1]
    floats[:] = 3
    assert floats.asnumpy().tolist() == [3.0, 3.0]


# ---------------------------------------------------------------------------------------------------------------
# Optimizer states: a restricted unpickler
# ---------------------------------------------------------------------------------------------------------------

class _RunsCode:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))         # a file appears if unpickling runs it


def _trainer(optimizer="adam", **kwargs):
    net = mx.gluon.nn.Dense(2, in_units=3)
    net.initialize(mx.init.Constant(0.5))
    trainer = mx.gluon.Trainer(net.collect_params(), optimizer, kwargs)
    with mx.autograd.record():
        loss = net(mx.nd.ones((2, 3))).sum()
    loss.backward()
    trainer.step(2)
    return net, trainer


def test_trainer_states_round_trip_with_a_scheduler(tmp_path):
    _, trainer = _trainer("sgd", momentum=0.9, lr_scheduler=mx.lr_scheduler.FactorScheduler(step=2, factor=0.5))
    path = str(tmp_path / "t.states")
    trainer.save_states(path)
    _, other = _trainer("sgd", momentum=0.5)
    other.load_states(path)
    assert other._optimizer.momentum == 0.9
    assert isinstance(other._optimizer.lr_scheduler, mx.lr_scheduler.FactorScheduler)
    saved = trainer._updaters[0].states
    for index, state in other._updaters[0].states.items():
        assert np.array_equal(state.asnumpy(), saved[index].asnumpy())


def test_trainer_refuses_a_crafted_states_file(tmp_path):
    marker = tmp_path / "pwned"
    path = str(tmp_path / "evil.states")
    with open(path, "wb") as fh:
        pickle.dump(({0: _RunsCode(str(marker))}, None), fh)
    _, trainer = _trainer()
    with pytest.raises(OptimizerStatesError, match=r"name (io|builtins)\.open.*refusing"):
        trainer.load_states(path)
    assert not marker.exists()
    with open(path, "wb") as fh:
        pickle.dump({0: np.array(["a"], dtype=object)}, fh)
    with pytest.raises(OptimizerStatesError):
        trainer.load_states(path)
    with open(path, "wb") as fh:
        fh.write(b"not a pickle at all")
    with pytest.raises(OptimizerStatesError, match="not a valid optimizer-state file"):
        trainer.load_states(path)
    with open(path, "wb") as fh:
        pickle.dump({7: np.zeros(3, np.float32)}, fh)
    with pytest.raises(OptimizerStatesError, match="for parameter 7"):
        trainer.load_states(path)


def test_module_refuses_a_crafted_optimizer_states_file(tmp_path):
    data = mx.sym.var("data")
    mod = mx.mod.Module(mx.sym.FullyConnected(data, num_hidden=2, name="fc"), data_names=["data"],
                        label_names=None)
    mod.bind(data_shapes=[("data", (1, 3))])
    mod.init_params()
    mod.init_optimizer(optimizer="sgd", optimizer_params={"momentum": 0.9})
    good = str(tmp_path / "good.states")
    mod.save_optimizer_states(good)
    mod.load_optimizer_states(good)
    marker = tmp_path / "pwned"
    evil = str(tmp_path / "evil.states")
    with open(evil, "wb") as fh:
        pickle.dump({0: _RunsCode(str(marker))}, fh)
    with pytest.raises(OptimizerStatesError):
        mod.load_optimizer_states(evil)
    assert not marker.exists()


def test_symbol_block_imports_reads_the_inputs_dtype_codes(tmp_path):
    # exported files hold MXNet's integer dtype code in an input's __dtype__ (it used to reach infer_type as an int)
    data = mx.sym.var("data", attr={"__dtype__": "0"})
    path = str(tmp_path / "net-symbol.json")
    with open(path, "w") as fh:
        fh.write(mx.sym.FullyConnected(data, num_hidden=2, name="fc").tojson())
    block = mx.gluon.SymbolBlock.imports(path, ["data"])
    block.initialize(mx.init.Constant(0.5))
    out = block(mx.nd.ones((1, 3))).asnumpy()
    np.testing.assert_allclose(out, np.full((1, 2), 0.5 * 3 + 0.5))
