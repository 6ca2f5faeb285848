"""MXNet's module layout and the small public helpers libraries import: `base`, `util`, `registry`, `context`,
`runtime`, `gluon.utils`, `gluon.data.dataloader`, `module.executor_group`.

Truth: MXNet 1.9.1's own answers recorded by reference/layout_fixtures.py (tests/fixtures/mxnet-1.9.1/layout/,
README there), numpy, hashlib, and the documented behaviour.
"""
import doctest
import hashlib
import importlib
import inspect
import json
import os
import pickle
import threading
import warnings
from collections import OrderedDict
from multiprocessing.pool import ThreadPool

import numpy as np
import pytest

import dataflow as mx
from dataflow import base, registry, runtime, util
from dataflow.gluon import utils as gutils
from dataflow.gluon.data import ArrayDataset, BatchSampler, DataLoader, SequentialSampler
from dataflow.gluon.data import dataloader as dl
from dataflow.module.executor_group import DataParallelExecutorGroup, _split_input_slice
from tests.paths import FIXTURES

HERE = os.path.join(FIXTURES, "layout")
with open(os.path.join(HERE, "layout.json")) as _f:
    LAYOUT = json.load(_f)
with open(os.path.join(HERE, "behaviour.json")) as _f:
    MX = json.load(_f)

# MXNet modules with no dataflow counterpart yet (importing them under `mxnet.` raises ModuleNotFoundError naming
# both names). The test fails if one that exists disappears; new counterparts only shrink what is missing.
KNOWN_MISSING = set("""
_api_internal _ctypes _ctypes.ndarray _ctypes.space _ctypes.symbol _cy3 _ffi _ffi._ctypes _ffi._ctypes.function
_ffi._ctypes.object _ffi._ctypes.types _ffi._cy3 _ffi.base _ffi.function _ffi.node_generic _ffi.object
_ffi.runtime_ctypes _global_var _numpy_op_doc api contrib.onnx contrib.onnx.onnx2mx
contrib.onnx.onnx2mx._import_helper contrib.onnx.onnx2mx._op_translations contrib.onnx.onnx2mx._translation_utils
contrib.onnx.onnx2mx.import_model contrib.onnx.onnx2mx.import_onnx contrib.onnx.onnx2mx.import_to_gluon
contrib.quantization contrib.text._constants cython image.detection kvstore kvstore.base kvstore.kvstore
kvstore.kvstore_server ndarray.gen_sparse ndarray.image ndarray.numpy
ndarray.numpy._api_internal ndarray.numpy._internal ndarray.numpy._op ndarray.numpy._register ndarray.numpy.linalg
ndarray.numpy.random ndarray.numpy_extension ndarray.numpy_extension._op ndarray.numpy_extension._register
ndarray.numpy_extension.image ndarray.numpy_extension.random ndarray.sparse numpy numpy._op numpy._register
numpy.arrayprint numpy.fallback numpy.fallback_linalg numpy.function_base numpy.io numpy.linalg numpy.multiarray
numpy.random numpy.stride_tricks numpy.utils numpy_dispatch_protocol numpy_extension numpy_extension._op
numpy_extension._register numpy_extension.image numpy_extension.random numpy_extension.utils numpy_op_fallback
numpy_op_signature onnx onnx.mx2onnx onnx.mx2onnx._export_helper onnx.mx2onnx._export_model
onnx.mx2onnx._export_onnx onnx.mx2onnx._op_translations onnx.mx2onnx._op_translations._op_translations_opset12
onnx.mx2onnx._op_translations._op_translations_opset13 onnx.setup recordio
symbol.gen_sparse symbol.image symbol.numpy symbol.numpy._internal symbol.numpy._op symbol.numpy._register
symbol.numpy._symbol symbol.numpy.linalg symbol.numpy.random symbol.numpy_extension symbol.numpy_extension._op
symbol.numpy_extension._register symbol.numpy_extension.image symbol.numpy_extension.random symbol.sparse torch
tvmop
""".split())

# modules libraries import that must exist
REQUIRED = ["base", "util", "registry", "context", "runtime", "name", "attribute", "initializer", "executor",
            "ndarray", "ndarray.ndarray", "ndarray.random", "ndarray.contrib", "ndarray.linalg", "symbol",
            "symbol.symbol", "symbol.random", "symbol.contrib", "gluon", "gluon.block", "gluon.parameter",
            "gluon.nn", "gluon.utils", "gluon.loss", "gluon.trainer", "gluon.data", "gluon.data.dataloader",
            "gluon.data.dataset", "gluon.data.sampler", "module", "module.module", "module.base_module",
            "module.executor_group", "io", "metric", "optimizer", "lr_scheduler", "callback", "model", "autograd",
            "random", "test_utils", "operator", "contrib"]

# names of MXNet's modules (reference/layout_fixtures.py SIGNATURES) dataflow leaves out, with the reason
LEFT_OUT = {("gluon.data.dataloader", n) for n in ("DataLoaderV1", "_MultiWorkerIterV1", "worker_loop_v1",
                                                   "fetcher_loop_v1")}      # the process-based loader of MXNet 1.4
SIGNATURE_DIFFERS = {("runtime", "Features"),           # MXNet's inherits OrderedDict's (*args, **kwargs)
                     ("gluon.utils", "_indent")}        # argument names only


@pytest.mark.parametrize("module", [registry, runtime, gutils, dl], ids=lambda m: m.__name__)
def test_doctests(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


# -- the module tree -----------------------------------------------------------------------------------------------

def test_required_modules_exist():
    for name in REQUIRED:
        importlib.import_module("dataflow." + name)


def test_missing_modules_are_the_known_ones():
    missing = set()
    for name in LAYOUT["modules"]:
        try:
            importlib.import_module("dataflow." + name)
        except ModuleNotFoundError as error:
            assert error.name is not None and ("dataflow." + name).startswith(error.name), error
            missing.add(name)
    assert missing <= KNOWN_MISSING, sorted(missing - KNOWN_MISSING)


@pytest.mark.parametrize("module", sorted(LAYOUT["signatures"]))
def test_public_names_and_signatures_match_mxnet(module):
    ours = importlib.import_module("dataflow." + module)
    for name, mx_signature in LAYOUT["signatures"][module].items():
        if (module, name) in LEFT_OUT:
            continue
        assert hasattr(ours, name), "dataflow.%s lacks %s" % (module, name)
        if mx_signature is None or (module, name) in SIGNATURE_DIFFERS:
            continue
        obj = getattr(ours, name)
        params = [p for p in inspect.signature(obj.__init__ if inspect.isclass(obj) else obj).parameters.values()
                  if p.name != "self"]
        got = [[p.name, str(p.kind), None if p.default is inspect.Parameter.empty else
                ("<function %s>" % p.default.__name__ if inspect.isfunction(p.default) else repr(p.default))]
               for p in params]
        assert got == mx_signature, (module, name)


def test_small_modules_at_mxnet_paths():
    from dataflow import error, executor_manager, libinfo, visualization
    from dataflow.ndarray import utils as nd_utils
    assert visualization.plot_network is mx.viz.plot_network and nd_utils.load is mx.nd.load
    assert executor_manager._split_input_slice is _split_input_slice
    assert libinfo.__version__ == "1.9.1"
    with pytest.raises(RuntimeError, match="Cannot find the MXNet library"):
        libinfo.find_lib_path()
    assert issubclass(error.InternalError, base.MXNetError) and base.error_types["InternalError"] is \
        error.InternalError and base.error_types["ValueError"] is ValueError
    assert "MXNet hint:" in str(error.InternalError("broken"))

    @error.register
    class CustomError(base.MXNetError):
        pass
    assert base.error_types.pop("CustomError") is CustomError


def test_gluon_nn_reexports_the_block_classes():
    assert mx.gluon.nn.Block is mx.gluon.Block and mx.gluon.nn.HybridBlock is mx.gluon.HybridBlock
    assert mx.gluon.nn.SymbolBlock is mx.gluon.SymbolBlock
    assert {"Block", "HybridBlock", "SymbolBlock"} <= set(LAYOUT["names"]["gluon.nn"])


# -- base ----------------------------------------------------------------------------------------------------------

def test_base_helpers(monkeypatch):
    assert issubclass(base.MXNetError, RuntimeError)
    assert base._as_list(3) == [3] and base._as_list((1, 2)) == (1, 2)
    lst = [1]
    assert base._as_list(lst) is lst
    assert base.py_str(b"caf\xc3\xa9") == "café" and base.c_str("café").value == "café".encode()
    assert list(base.c_str_array(["a", "bc"])) == [b"a", b"bc"]
    assert list(base.c_array(base.mx_float, [1, 2, 3])) == [1.0, 2.0, 3.0]
    assert isinstance(np.float16(1), base.numeric_types) and isinstance(np.int64(1), base.integer_types)
    assert not isinstance("1", base.numeric_types) and isinstance("s", base.string_types)
    assert repr(base._Null) == "_Null"
    monkeypatch.delenv("MXNET_HOME", raising=False)
    assert os.path.relpath(base.data_dir(), os.path.expanduser("~")) == MX["data_dir_default_tail"]
    monkeypatch.setenv("MXNET_HOME", "/some/where")
    assert base.data_dir() == "/some/where"
    assert base.__version__ == mx.__version__ == MX["version"]


def test_not_implemented_errors_say_what():
    def flip():
        pass
    error = base.NotImplementedForSymbol(flip, "_flip", 1, "x")
    assert isinstance(error, base.MXNetError)
    assert str(error) == ("Function flip (namely operator \"_flip\") with arguments (<class 'int'>, <class 'str'>) "
                          "is not implemented for Symbol and only available in NDArray.")


def test_classproperty_reads_and_assigns():
    assert mx.Context.default_ctx == mx.cpu(0)
    with mx.cpu(2):
        assert mx.Context.default_ctx == mx.cpu(2)
    mx.Context.default_ctx = mx.cpu(3)
    try:
        assert mx.current_context() == mx.cpu(3)
    finally:
        mx.Context.default_ctx = mx.cpu(0)

    class Holder(metaclass=base._MXClassPropertyMetaClass):
        @base.classproperty
        def fixed(cls):
            return 5
    assert Holder.fixed == 5
    with pytest.raises(base.MXNetError, match="cannot use the setter"):
        Holder.fixed = 6


# -- util ----------------------------------------------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore:NumPy (shape|array) semantics turned on")
def test_np_switches_follow_mxnet():
    """The sequence of MXNet's answers recorded by the fixture script, replayed."""
    seq = [util.is_np_shape(), util.set_np_shape(True), util.is_np_shape(), util.set_np_shape(False),
           util.is_np_shape()]
    with util.np_shape(True):
        seq.append(util.is_np_shape())
    seq.append(util.is_np_shape())
    util.set_np()
    seq += [util.is_np_shape(), util.is_np_array()]
    try:
        with pytest.raises(ValueError) as caught:
            util.set_np_shape(False)
        seq.append(["ValueError", str(caught.value)])
    finally:
        util.reset_np()
    seq += [util.is_np_shape(), util.is_np_array()]
    with pytest.raises(ValueError) as caught:
        util.set_np(shape=False, array=True)
    seq.append(["ValueError", str(caught.value)])
    with pytest.raises(TypeError) as caught:
        util.use_np(3)
    seq.append(["TypeError", str(caught.value)])
    assert seq == MX["np_switches"]


@pytest.mark.filterwarnings("ignore:NumPy (shape|array) semantics turned on")
def test_use_np_scopes_functions_and_classes_per_thread():
    @util.use_np
    def flags():
        return util.is_np_shape(), util.is_np_array()

    @util.use_np_shape
    class Model:
        def method(self):
            return util.is_np_shape()

        @property
        def prop(self):
            return util.is_np_shape()

    assert flags() == (True, True) and (util.is_np_shape(), util.is_np_array()) == (False, False)
    assert Model().method() is True and Model().prop is True and util.is_np_shape() is False
    seen = []
    with util.np_array(True):
        thread = threading.Thread(target=lambda: seen.append(util.is_np_array()))
        thread.start()
        thread.join()
        assert util.is_np_array() is True
    assert seen == [False] and util.is_np_array() is False


def test_getenv_setenv_makedirs(tmp_path, monkeypatch):
    monkeypatch.delenv("DATAFLOW_SURELY_UNSET_VARIABLE", raising=False)
    assert util.getenv("DATAFLOW_SURELY_UNSET_VARIABLE") is MX["getenv_unset"] is None
    util.setenv("DATAFLOW_SURELY_UNSET_VARIABLE", "12")
    assert os.environ["DATAFLOW_SURELY_UNSET_VARIABLE"] == util.getenv("DATAFLOW_SURELY_UNSET_VARIABLE") == "12"
    util.setenv("DATAFLOW_SURELY_UNSET_VARIABLE", None)
    assert "DATAFLOW_SURELY_UNSET_VARIABLE" not in os.environ
    target = tmp_path / "a" / "b"
    util.makedirs(str(target))
    util.makedirs(str(target))      # existing: no error
    assert target.is_dir()


# -- registry ------------------------------------------------------------------------------------------------------

def test_registry_register_create_alias():
    class Shape:
        pass
    register = registry.get_register_func(Shape, "shape")
    alias = registry.get_alias_func(Shape, "shape")
    create = registry.get_create_func(Shape, "shape")

    @alias("box", "cube")
    @register
    class Square(Shape):
        def __init__(self, side=1, color="red"):
            self.side, self.color = side, color

    assert set(registry.get_registry(Shape)) == {"square", "box", "cube"}
    assert create("SQUARE", 3).side == 3 and create("cube", side=4).side == 4
    assert create(shape="box").side == 1
    assert create({"shape": "square", "side": 5}).side == 5
    assert create('["Square", {"side": 6}]').side == 6
    assert create('{"shape": "square", "color": "blue"}').color == "blue"
    instance = Square(9)
    assert create(instance) is instance
    with pytest.raises(AssertionError, match="already an instance"):
        create(instance, 2)
    with pytest.raises(AssertionError, match="circle is not registered. Please register with shape.register first"):
        create("circle")
    with pytest.raises(AssertionError, match="Can only register subclass of Shape"):
        register(int)
    with pytest.warns(UserWarning, match="is overriding existing shape"):
        register(type("Other", (Shape,), {}), "square")
    assert registry.get_registry(Shape)["square"].__name__ == "Other"


# -- context and runtime -------------------------------------------------------------------------------------------

def test_gpu_memory_info_needs_a_gpu():
    if mx.num_gpus() == 0:
        with pytest.raises(base.MXNetError, match="no GPU is available"):
            mx.context.gpu_memory_info(0)
    else:
        free, total = mx.context.gpu_memory_info(0)
        assert 0 <= free <= total
    assert mx.util.get_gpu_count() == mx.num_gpus()


def test_features_follow_mxnet_names_and_behaviour():
    features = runtime.Features()
    assert runtime.Features() is features
    assert list(features) == [name for name, _ in MX["features"]]
    assert repr(features).startswith("[✖ CUDA, ✖ CUDNN" if not features.is_enabled("CUDA") else "[✔ CUDA, ✖ CUDNN")
    assert features.is_enabled("lapack") is True and features.is_enabled("CUDNN") is False
    with pytest.raises(RuntimeError) as caught:
        features.is_enabled("nope")
    assert [type(caught.value).__name__, str(caught.value)] == MX["feature_unknown_error"]
    from ops.cuda import storage
    assert features.is_enabled("CUDA") == (mx.num_gpus() > 0 and not storage.simulator())
    blas = [f.name for f in runtime.feature_list() if f.name.startswith("BLAS_") and f.enabled]
    assert len(blas) <= 1
    if blas == ["BLAS_OPEN"]:
        assert "openblas" in str(np.show_config(mode="dicts")["Build Dependencies"]["blas"]).lower()


# -- gluon.utils ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", MX["split_data"], ids=lambda c: "%s/%d@%d" % (c["shape"], c["num_slice"],
                                                                                c["batch_axis"]))
def test_split_data_matches_mxnet(case):
    data = mx.nd.array(np.arange(np.prod(case["shape"])).reshape(case["shape"]))
    for even, expected in ((False, case["uneven"]), (True, case["even"])):
        if expected and expected[0] == "ValueError":
            with pytest.raises(ValueError) as caught:
                gutils.split_data(data, case["num_slice"], case["batch_axis"], even_split=even)
            assert str(caught.value) == expected[1]
        else:
            got = gutils.split_data(data, case["num_slice"], case["batch_axis"], even_split=even)
            assert len(got) == case["num_slice"]
            for piece, want in zip(got, expected):
                np.testing.assert_array_equal(piece.asnumpy().reshape(-1), np.array(want).reshape(-1))


def test_split_and_load_matches_mxnet():
    one = gutils.split_and_load(np.arange(6).reshape(3, 2), [mx.cpu(0)])
    assert [a.asnumpy().tolist() for a in one] == MX["split_and_load_one_ctx"]
    two = gutils.split_and_load(np.arange(6).reshape(3, 2), [mx.cpu(0), mx.cpu(1)], even_split=False)
    assert [[a.asnumpy().tolist(), str(a.context)] for a in two] == MX["split_and_load_two_ctx"]


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_clip_global_norm_matches_mxnet_and_numpy():
    case = MX["clip_global_norm"]
    inputs = [np.array(a, np.float32) for a in case["inputs"]]
    arrays = [mx.nd.array(a) for a in inputs]
    norm = gutils.clip_global_norm(arrays, case["max_norm"])
    numpy_norm = np.sqrt(sum((a.astype(np.float64) ** 2).sum() for a in inputs))
    assert isinstance(norm, (float, np.floating))       # MXNet's asscalar(): a numpy float32
    np.testing.assert_allclose(norm, case["returned"], rtol=1e-6)
    np.testing.assert_allclose(norm, numpy_norm, rtol=1e-6)
    for got, want, source in zip(arrays, case["outputs"], inputs):
        np.testing.assert_allclose(got.asnumpy(), want, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(got.asnumpy(), source * case["max_norm"] / numpy_norm, rtol=1e-5, atol=1e-7)
    untouched = [mx.nd.array(a) for a in inputs]
    total = gutils.clip_global_norm(untouched, 100.0, check_isfinite=False)
    assert type(total).__name__ == MX["clip_global_norm_large"]["returned_type"]
    assert list(total.shape) == MX["clip_global_norm_large"]["returned_shape"]
    assert all(np.array_equal(a, u.asnumpy()) for a, u in zip(inputs, untouched))
    with pytest.warns(UserWarning) as caught:
        gutils.clip_global_norm([mx.nd.array([np.inf, 1.0])], 1.0)
    # (only the UserWarnings: numpy's "invalid value" RuntimeWarning from inf * 0 in a kernel is not MXNet's)
    assert [str(w.message) for w in caught if w.category is UserWarning] == MX["clip_global_norm_inf_warning"]


def test_check_sha1_and_replace_file(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 3000000)
    digest = hashlib.sha1(b"x" * 3000000).hexdigest()
    assert gutils.check_sha1(str(path), digest) and not gutils.check_sha1(str(path), "0" * 40)
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.write_text("new")
    dst.write_text("old")
    gutils.replace_file(str(src), str(dst))
    assert dst.read_text() == "new" and not src.exists()
    src.write_text("again")
    with pytest.raises(OSError, match="Moving downloaded temp file"):
        gutils.replace_file(str(src), str(tmp_path / "no_dir" / "dst"))
    assert not src.exists()


def test_download(tmp_path, capsys):
    source = tmp_path / "remote.txt"
    source.write_text("payload")
    url = "file://" + str(source)
    folder = tmp_path / "cache"
    folder.mkdir()
    got = gutils.download(url, path=str(folder))          # a directory: the URL's file name inside it
    assert got == str(folder / "remote.txt") and (folder / "remote.txt").read_text() == "payload"
    digest = hashlib.sha1(b"payload").hexdigest()
    source.write_text("changed")
    assert gutils.download(url, path=got, sha1_hash=digest) == got      # present with the right hash: kept
    assert (folder / "remote.txt").read_text() == "payload"
    gutils.download(url, path=got, overwrite=True)
    assert (folder / "remote.txt").read_text() == "changed"
    with pytest.raises(UserWarning, match="content hash does not match"):
        gutils.download(url, path=str(tmp_path / "h.txt"), sha1_hash=digest, retries=1)
    capsys.readouterr()
    missing_url = "file://" + str(tmp_path / "absent.bin")
    target = tmp_path / "data" / "absent.bin"
    with pytest.raises(RuntimeError) as caught:
        gutils.download(missing_url, path=str(target), sha1_hash="ab" * 20, retries=2)
    message = str(caught.value)
    assert missing_url in message and str(target) in message and "ab" * 20 in message
    assert capsys.readouterr().out.count("Downloading") == 2 and not target.exists()
    assert [p.name for p in (tmp_path / "data").iterdir()] == []          # no temporary file left


def test_repo_urls_match_mxnet(monkeypatch):
    monkeypatch.delenv("MXNET_GLUON_REPO", raising=False)
    assert gutils._get_repo_url() == MX["repo_url_default"]
    assert gutils._get_repo_file_url("gluon/dataset/mnist", "train-images-idx3-ubyte.gz") == \
        MX["repo_file_url_default"]
    monkeypatch.setenv("MXNET_GLUON_REPO", "https://example.org/mirror")
    assert gutils._get_repo_url() == MX["repo_url_env"]


def test_small_gluon_helpers_match_mxnet():
    assert [gutils._brief_print_list(list(range(n))) for n in (3, 7, 10)] == MX["brief_print_list"]
    shapes = {"None": None, "()": (), "(2, 3)": (2, 3), "(0, 3)": (0, 3), "(2, 0)": (2, 0)}
    assert {k: gutils.shape_is_known(s) for k, s in shapes.items()} == MX["shape_is_known"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with util.np_shape(True):       # then 0 is a size and -1 unknown, () a scalar
            assert gutils.shape_is_known(()) and gutils.shape_is_known((0, 3))
            assert not gutils.shape_is_known((-1, 3))
    hooks = OrderedDict()       # Blocks keep their hooks in OrderedDicts (a plain dict cannot be weakly referenced)
    handle = gutils.HookHandle()
    handle.attach(hooks, print)
    assert list(hooks.values()) == [print]
    with handle:
        pass
    assert not hooks


# -- gluon.data.dataloader -----------------------------------------------------------------------------------------

def _dataset():
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    return x, np.arange(10) % 3, ArrayDataset(x, np.arange(10) % 3)


def test_multi_worker_iter_as_libraries_drive_it():
    x, y, dataset = _dataset()
    sampler = BatchSampler(SequentialSampler(10), 4, "keep")
    with ThreadPool(2) as pool:
        batches = list(dl._MultiWorkerIter(pool, dl.default_batchify_fn, sampler, worker_fn=dl._thread_worker_fn,
                                           prefetch=2, dataset=dataset))
        assert len(batches) == 3
        np.testing.assert_array_equal(np.concatenate([b[0].asnumpy() for b in batches]), x)
        np.testing.assert_array_equal(np.concatenate([b[1].asnumpy() for b in batches]), y)
        # process-worker protocol: the initializer's dataset, batches pickled with ForkingPickler
        dl._worker_initializer(dataset, False, False)
        pinned = list(dl._MultiWorkerIter(pool, dl.default_mp_batchify_fn, sampler, pin_memory=True, prefetch=1))
    np.testing.assert_array_equal(np.concatenate([b[0].asnumpy() for b in pinned]), x)
    assert all(b[0].context == mx.cpu_pinned(0) for b in pinned)
    assert isinstance(pickle.loads(dl._worker_fn([0, 1], dl.default_batchify_fn)), list)


def test_batchify_and_as_in_context():
    batch = dl.default_mp_batchify_fn([mx.nd.ones((2,)) * i for i in range(3)])
    assert batch.context == mx.Context("cpu_shared", 0)
    np.testing.assert_array_equal(batch.asnumpy(), np.arange(3)[:, None] * np.ones((3, 2)))
    moved = dl._as_in_context([mx.nd.ones(1), (mx.nd.zeros(1), 7)], mx.cpu(1))
    assert moved[0].context == mx.cpu(1) and moved[1][0].context == mx.cpu(1) and moved[1][1] == 7


@pytest.mark.parametrize("num_workers", [0, 2])
def test_dataloader_pin_memory_and_reload(num_workers):
    x, y, dataset = _dataset()
    loader = DataLoader(dataset, batch_size=4, num_workers=num_workers, pin_memory=True, auto_reload=True)
    for _ in range(2):      # each pass is complete (auto_reload starts the next one)
        batches = list(loader)
        np.testing.assert_array_equal(np.concatenate([b[0].asnumpy() for b in batches]), x)
        assert all(b[0].context == mx.cpu_pinned(0) for b in batches)
    loader.clean()
    assert len(list(loader)) == 3


# -- module.executor_group -----------------------------------------------------------------------------------------

def test_split_input_slice_matches_mxnet():
    for batch, work, expected in MX["split_input_slice"]:
        if expected[0] == "ValueError":
            with pytest.raises(ValueError, match=expected[1]):
                _split_input_slice(batch, work)
        else:
            assert [[s.start, s.stop] for s in _split_input_slice(batch, work)] == expected


def _fc_softmax():
    data = mx.sym.var("data")
    return mx.sym.SoftmaxOutput(mx.sym.FullyConnected(data, num_hidden=3, name="fc"), name="softmax")


def test_executor_group_on_two_contexts_matches_mxnet():
    info = MX["executor_group"]
    arrays = np.load(os.path.join(HERE, "executor_group.npz"))
    group = DataParallelExecutorGroup(_fc_softmax(), [mx.cpu(0), mx.cpu(1)], [1, 2],
                                      [mx.io.DataDesc("data", (6, 4))], [mx.io.DataDesc("softmax_label", (6,))],
                                      ["fc_weight", "fc_bias"], for_training=True, inputs_need_grad=True)
    assert [[s.start, s.stop] for s in group.slices] == info["slices"] and group.batch_size == info["batch_size"]
    assert group.grad_req == info["grad_req"] and group.arg_names == info["arg_names"]
    assert [[[s.start, s.stop], list(a.shape)] for s, a in group.data_arrays[0]] == info["data_arrays_slices"]
    assert [[[s.start, s.stop], list(a.shape)] for s, a in group.label_arrays[0]] == info["label_arrays_slices"]
    assert [[list(a.shape) for a in block] for block in group.param_arrays] == info["param_array_shapes"]
    assert [e.arg_dict["data"].context for e in group.execs] == [mx.cpu(0), mx.cpu(1)]
    group.set_params({"fc_weight": mx.nd.array(arrays["w"]), "fc_bias": mx.nd.array(arrays["b"])}, {})
    group.forward(mx.io.DataBatch([mx.nd.array(arrays["x"])], [mx.nd.array(arrays["y"])]))
    group.backward()
    assert [[k, list(v)] for k, v in group.get_output_shapes()] == info["output_shapes"]
    assert [[list(o.shape) for o in outs] for outs in group.get_outputs(merge_multi_context=False)] == \
        info["outputs_unmerged_shapes"]
    np.testing.assert_allclose(group.get_outputs()[0].asnumpy(), arrays["output"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(group.get_input_grads()[0].asnumpy(), arrays["input_grad"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(group.grad_arrays[0][0].asnumpy(), arrays["grad_w_dev0"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(group.grad_arrays[0][1].asnumpy(), arrays["grad_w_dev1"], rtol=1e-5, atol=1e-6)
    metric = mx.metric.Accuracy()
    group.update_metric(metric, [mx.nd.array(arrays["y"])], pre_sliced=False)
    assert list(metric.get()) == info["accuracy"]
    targets = {"fc_weight": mx.nd.zeros((3, 4)), "fc_bias": mx.nd.zeros(3)}
    group.get_params(targets, {})
    np.testing.assert_allclose(targets["fc_weight"].asnumpy(), arrays["w"], rtol=1e-6)


def test_executor_group_reshape_and_shared_group():
    group = DataParallelExecutorGroup(_fc_softmax(), [mx.cpu(0), mx.cpu(1)], None, [("data", (4, 4))],
                                      [("softmax_label", (4,))], ["fc_weight", "fc_bias"], True, False)
    assert group.grad_req["data"] == "null" and group.input_grad_arrays is None
    group.reshape([mx.io.DataDesc("data", (8, 4))], [mx.io.DataDesc("softmax_label", (8,))])
    assert [e.arg_dict["data"].shape for e in group.execs] == [(4, 4), (4, 4)]
    shared = DataParallelExecutorGroup(_fc_softmax(), [mx.cpu(0), mx.cpu(1)], None, [("data", (2, 4))],
                                       [("softmax_label", (2,))], ["fc_weight", "fc_bias"], True, False,
                                       shared_group=group)
    group.param_arrays[0][0][:] = 3.0
    assert float(shared.param_arrays[0][0].asnumpy()[0, 0]) == 3.0


def test_module_exposes_its_executor_as_a_group():
    mod = mx.mod.Module(_fc_softmax())
    mod.bind(data_shapes=[("data", (4, 3))], label_shapes=[("softmax_label", (4,))])
    mod.init_params(mx.init.Xavier())
    group = mod._exec_group
    assert group.execs == [mod._exec] and group.slices == [slice(0, 4)]
    assert group.param_names == ["fc_weight", "fc_bias"]
    assert group.param_arrays[0][0] is mod._exec.arg_dict["fc_weight"]
    assert group.grad_req == {"data": "null", "fc_weight": "write", "fc_bias": "write", "softmax_label": "null"}
    mod.forward(mx.io.DataBatch([mx.nd.ones((4, 3))], [mx.nd.zeros(4)]))
    np.testing.assert_array_equal(group.get_outputs()[0].asnumpy(), mod.get_outputs()[0].asnumpy())
