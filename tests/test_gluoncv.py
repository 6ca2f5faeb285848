"""GluonCV 0.10.5 and GluonNLP 0.10.0, the real libraries, running on dataflow through `install_as_mxnet()`.

Skipped when gluoncv is not installed (tests/install_mxnet_libs.sh installs both). Six GluonCV models are
compared with MXNet 1.9.1 (tests/fixtures/mxnet-1.9.1/gluoncv/README.md says how the fixtures were made): from
parameters drawn by a fixed recipe, the outputs imperative, hybridized, after export -> SymbolBlock.imports, and
from MXNet's own exported symbol; the files save_parameters and export write are MXNet's byte for byte. Also
here, against the same fixtures: `_contrib_SyncBatchNorm` in training and `mx.image.imresize`.
"""
import gzip
import importlib
import importlib.util
import os

import numpy as np
import pytest

import dataflow
from tests.model_check import assert_model_is_mxnets
from tests.param_recipe import read_json_gz, recipe_input, set_recipe_params
from tests.paths import FIXTURES, load_reference

mx = dataflow.install_as_mxnet()


@pytest.fixture(autouse=True)
def _mxnet_alias():
    """`import mxnet` inside a test reaches dataflow (another test file may have removed the alias since)."""
    dataflow.install_as_mxnet()


HERE = os.path.join(FIXTURES, "gluoncv")
OPS = np.load(os.path.join(HERE, "ops.npz"))


# ---- without the libraries: the op and the image helpers GluonCV's code paths use ----------------------------
def test_sync_batch_norm_training_is_mxnets():
    """Outputs (the variance as `var`), gradients and moving statistics after forward + backward."""
    args = [mx.nd.array(OPS["sync_bn/" + k]) for k in ("x", "gamma", "beta")]
    aux = [mx.nd.array(OPS["sync_bn/" + k]) for k in ("moving_mean", "moving_var")]
    for a in args:
        a.attach_grad()
    with mx.autograd.record():
        out, mean, var = mx.nd.contrib.SyncBatchNorm(*args, *aux, key="bn0", fix_gamma=False, eps=1e-3,
                                                     momentum=0.8, output_mean_var=True)
    out.backward(mx.nd.array(OPS["sync_bn/dy"]))
    got = {"out": out, "mean": mean, "var": var, "dx": args[0].grad, "dgamma": args[1].grad,
           "dbeta": args[2].grad, "moving_mean_after": aux[0], "moving_var_after": aux[1]}
    for key, value in got.items():
        np.testing.assert_allclose(value.asnumpy(), OPS["sync_bn/" + key], rtol=1e-5, atol=1e-5, err_msg=key)


def test_sync_batch_norm_bound_symbol_trains_as_mxnet():
    """The graph path: the hidden 1/sqrt(var + eps) output feeds BatchNorm's backward."""
    sym = mx.sym.contrib.SyncBatchNorm(mx.sym.var("x"), key="bn0", fix_gamma=False, eps=1e-3, momentum=0.8,
                                       name="sbn")
    names = {"x": "x", "sbn_gamma": "gamma", "sbn_beta": "beta"}
    args = {k: mx.nd.array(OPS["sync_bn/" + v]) for k, v in names.items()}
    grads = {k: mx.nd.zeros(a.shape) for k, a in args.items()}
    aux = {"sbn_moving_mean": mx.nd.array(OPS["sync_bn/moving_mean"]),
           "sbn_moving_var": mx.nd.array(OPS["sync_bn/moving_var"])}
    executor = sym.bind(mx.cpu(), args, args_grad=grads, aux_states=aux)
    out = executor.forward(is_train=True)[0]
    executor.backward(mx.nd.array(OPS["sync_bn/dy"]))
    np.testing.assert_allclose(out.asnumpy(), OPS["sync_bn/out"], rtol=1e-5, atol=1e-5)
    for key, want in (("x", "dx"), ("sbn_gamma", "dgamma"), ("sbn_beta", "dbeta")):
        np.testing.assert_allclose(grads[key].asnumpy(), OPS["sync_bn/" + want], rtol=1e-5, atol=1e-5, err_msg=key)
    np.testing.assert_allclose(aux["sbn_moving_var"].asnumpy(), OPS["sync_bn/moving_var_after"], rtol=1e-5)


def test_sync_batch_norm_symbol_is_batch_norm_over_axis_1():
    sym = mx.sym.contrib.SyncBatchNorm(mx.sym.var("x"), key="k", name="sbn")
    assert sym.list_arguments() == ["x", "sbn_gamma", "sbn_beta"]
    assert sym.list_auxiliary_states() == ["sbn_moving_mean", "sbn_moving_var"]
    assert sym.list_outputs() == ["sbn_output"]
    with pytest.raises(mx.base.MXNetError, match="key"):
        mx.sym.contrib.SyncBatchNorm(mx.sym.var("x"))


@pytest.mark.parametrize("kind", ["uint8", "float32"])
@pytest.mark.parametrize("interp", [0, 1, 2, 3])
def test_imresize_is_opencvs(kind, interp):
    src = mx.nd.array(OPS["imresize/" + kind], dtype=kind)
    # OpenCV's uint8 paths are fixed point: within 1 of the exact value
    atol = 1 if kind == "uint8" else 1e-5
    for w, h in ((4, 3), (11, 9)):
        key = "imresize/%s/%d/%dx%d" % (kind, interp, h, w)
        if key not in OPS:         # area (3) is recorded here shrinking only; enlarging: tests/test_image_aug.py
            continue
        got = mx.image.imresize(src, w, h, interp=interp)
        assert got.dtype == np.dtype(kind) and got.shape == (h, w, 3)
        np.testing.assert_allclose(got.asnumpy().astype(np.float64), OPS[key].astype(np.float64), atol=atol,
                                   rtol=0, err_msg=key)


def test_vision_transforms_compose_to_tensor_normalize():
    from mxnet.gluon.data.vision import transforms
    img = mx.nd.array(OPS["imresize/uint8"], dtype="uint8")
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    pipeline = transforms.Compose([transforms.Resize((4, 3)), transforms.ToTensor(),
                                   transforms.Normalize(mean, std)])
    got = pipeline(img)
    resized = OPS["imresize/uint8/1/3x4"].astype(np.float32) / 255
    want = (resized.transpose(2, 0, 1) - np.reshape(mean, (3, 1, 1))) / np.reshape(std, (3, 1, 1))
    assert got.dtype == np.float32 and got.shape == (3, 3, 4)
    np.testing.assert_allclose(got.asnumpy(), want, atol=1.5 / 255 / 0.224)
    cropped = transforms.CenterCrop(4)(img)
    np.testing.assert_array_equal(cropped.asnumpy(), OPS["imresize/uint8"][1:5, 2:6])


def test_vision_random_transforms_keep_their_contract():
    from mxnet.gluon.data.vision import transforms
    img = mx.nd.array(OPS["imresize/uint8"], dtype="uint8")         # (6, 8, 3)
    src = OPS["imresize/uint8"]
    flips = {transforms.RandomFlipLeftRight(): src[:, ::-1], transforms.RandomFlipTopBottom(): src[::-1]}
    for flip, flipped in flips.items():
        seen = {flip(img).asnumpy().tobytes() for _ in range(40)}
        assert seen == {src.tobytes(), np.ascontiguousarray(flipped).tobytes()}
    # the whole image at its own aspect ratio is the only region: a plain resize (area 3, 8 x 6 -> 4 x 3)
    whole = transforms.RandomResizedCrop((4, 3), scale=(1.0, 1.0), ratio=(8 / 6, 8 / 6), interpolation=3)
    np.testing.assert_allclose(whole(img).asnumpy(), OPS["imresize/uint8/3/3x4"], atol=1)
    assert transforms.RandomResizedCrop(5)(img).shape == (5, 5, 3)
    assert transforms.Cast("float16")(img).dtype == np.float16
    batch = mx.nd.stack(img, img)
    assert transforms.ToTensor()(batch).shape == (2, 3, 6, 8)
    with pytest.raises(ValueError, match="either 1 or 3 elements"):
        transforms.Normalize(mean=(0.5, 0.5))(transforms.ToTensor()(img))


def test_missing_dataset_file_names_it_and_the_folder(tmp_path):
    from mxnet.gluon.data.vision import CIFAR10, MNIST
    with pytest.raises(mx.base.MXNetError, match="train-images-idx3-ubyte.gz.*%s" % tmp_path):
        MNIST(root=str(tmp_path))
    with pytest.raises(mx.base.MXNetError, match="data_batch_1.bin"):
        CIFAR10(root=str(tmp_path), train=True)


def test_mnist_reads_the_idx_files(tmp_path):
    from mxnet.gluon.data.vision import MNIST
    rng = np.random.RandomState(4)
    images, labels = rng.randint(0, 256, (3, 28, 28)).astype(np.uint8), np.array([7, 0, 9], np.uint8)
    with gzip.open(tmp_path / "t10k-images-idx3-ubyte.gz", "wb") as fh:
        fh.write(np.array([2051, 3, 28, 28], ">u4").tobytes() + images.tobytes())
    with gzip.open(tmp_path / "t10k-labels-idx1-ubyte.gz", "wb") as fh:
        fh.write(np.array([2049, 3], ">u4").tobytes() + labels.tobytes())
    data = MNIST(root=str(tmp_path), train=False)
    assert len(data) == 3
    img, label = data[2]
    assert img.shape == (28, 28, 1) and img.dtype == np.uint8 and label == 9
    np.testing.assert_array_equal(img.asnumpy()[:, :, 0], images[2])


@pytest.mark.skipif(importlib.util.find_spec("PIL") is None, reason="decoding images needs Pillow")
def test_image_record_dataset_reads_mxnets_recordio():
    from mxnet.gluon.data.vision import ImageRecordDataset
    dataset = ImageRecordDataset(os.path.join(HERE, "tiny.rec"))
    assert len(dataset) == 3
    for i in range(3):
        img, label = dataset[i]
        assert img.dtype == np.uint8
        np.testing.assert_array_equal(img.asnumpy(), OPS["records/image%d" % i])
        np.testing.assert_array_equal(np.asarray(label, np.float32), OPS["records/label%d" % i])
    flipped = ImageRecordDataset(os.path.join(HERE, "tiny.rec"), transform=lambda img, label: (img[::-1], label))
    np.testing.assert_array_equal(flipped[0][0].asnumpy(), OPS["records/image0"][::-1])


def test_records_split_on_the_magic_are_joined():
    from dataflow.recordio import MXIndexedRecordIO
    reader = MXIndexedRecordIO(os.path.join(HERE, "split.idx"), os.path.join(HERE, "split.rec"), "r")
    for i, key in enumerate(reader.keys):
        assert reader.read_idx(key) == OPS["records/payload%d" % i].tobytes()


def test_image_record_dataset_without_its_index_says_so(tmp_path):
    from mxnet.gluon.data.vision import ImageRecordDataset
    (tmp_path / "a.rec").write_bytes(b"")
    with pytest.raises(mx.base.MXNetError, match=r"a\.idx not found"):
        ImageRecordDataset(str(tmp_path / "a.rec"))


# ---- GluonCV ---------------------------------------------------------------------------------------------------
needs_gluoncv = pytest.mark.skipif(importlib.util.find_spec("gluoncv") is None,
                                   reason="gluoncv is not installed (tests/install_mxnet_libs.sh)")
needs_gluonnlp = pytest.mark.skipif(importlib.util.find_spec("gluonnlp") is None,
                                    reason="gluonnlp is not installed (tests/install_mxnet_libs.sh)")

SYMBOLS = read_json_gz(os.path.join(HERE, "symbols.json.gz"))
OUTPUTS = np.load(os.path.join(HERE, "outputs.npz"))
MODELS = sorted(SYMBOLS["models"])


@needs_gluoncv
def test_gluoncv_imports_every_mxnet_part():
    """gluoncv swallows ImportErrors of its MXNet half; importing the parts themselves shows them."""
    gluoncv = importlib.import_module("gluoncv")
    for part in ("data", "model_zoo", "nn", "utils", "loss"):
        importlib.import_module("gluoncv." + part)
    assert gluoncv._found_mxnet


def _build(name):
    from gluoncv.model_zoo import get_model
    with mx.name.NameManager():       # top-level prefixes count from 0, as in the fixture
        return get_model(name, pretrained=False)


def _with_recipe_params(name):
    shape = tuple(SYMBOLS["models"][name]["input"])
    net = _build(name)
    net.initialize()
    net(mx.nd.zeros(shape))                       # deferred initialisation, as in MXNet's run
    set_recipe_params(net)
    return net, mx.nd.array(recipe_input(shape))


@needs_gluoncv
@pytest.mark.parametrize("name", MODELS)
def test_gluoncv_model_is_mxnets(name, tmp_path):
    net, x = _with_recipe_params(name)
    info = SYMBOLS["models"][name]
    assert net.prefix == info["prefix"]
    assert_model_is_mxnets(net, x, lambda: _build(name), OUTPUTS[name], info, SYMBOLS["symbols"][name], tmp_path)


# ---- GluonNLP --------------------------------------------------------------------------------------------------
# GluonNLP's package import reaches, at module level: gluon.rnn, gluon.contrib.rnn.LSTMPCell, mxnet.contrib.amp,
# base.NDArrayHandle and nd.contrib's adamw_update, mp_adamw_update, multi_adamw_update and multi_mp_adamw_update
# (its BERTAdam against MXNet: tests/test_adamw.py).
@needs_gluonnlp
def test_gluonnlp_imports_and_builds_a_model():
    nlp = importlib.import_module("gluonnlp")
    assert nlp.__version__ == "0.10.0"
    # a model without recurrent cells: ELMo's character CNN encoder, (seq_len, batch, embed) -> (batch, output)
    encoder = nlp.model.ConvolutionalEncoder(embed_size=4, num_filters=(3, 4), ngram_filter_sizes=(1, 2),
                                             num_highway=1, output_size=5)
    encoder.initialize()
    x = mx.nd.array(np.random.RandomState(5).uniform(-1, 1, (6, 2, 4)))
    out = encoder(x)
    assert out.shape == (2, 5) and np.isfinite(out.asnumpy()).all()
    encoder.hybridize()
    np.testing.assert_allclose(encoder(x).asnumpy(), out.asnumpy(), rtol=1e-5, atol=1e-6)


# GluonNLP's LSTM language models against MXNet (reference/gluonnlp_lm_fixtures.py): parameters filled from one
# seeded RandomState on both sides (too large to store); MXNet's saved names and shapes, its outputs and states in
# inference, and sampled parameters after one SGD step.
NLP_LM = os.path.join(FIXTURES, "gluonnlp_lm")


@needs_gluonnlp
@pytest.mark.parametrize("name", ["standard_lstm_lm_200", "awd_lstm_lm_600"])
def test_gluonnlp_lstm_language_model_is_mxnets(name, tmp_path):
    import json
    nlp = importlib.import_module("gluonnlp")
    ref = load_reference("gluonnlp_lm_fixtures")
    with open(os.path.join(NLP_LM, "models.json")) as fh:
        info = json.load(fh)[name]
    expected = np.load(os.path.join(NLP_LM, "outputs.npz"))
    model, vocab_size = ref.build(mx, nlp, name)
    assert (model.prefix, vocab_size) == (info["prefix"], info["vocab_size"])
    ref.fill(mx, model)
    path = str(tmp_path / "lm.params")
    model.save_parameters(path)
    saved = mx.nd.load(path)
    assert [[k, list(v.shape)] for k, v in saved.items()] == info["saved"]
    fresh, _ = ref.build(mx, nlp, name)         # a file with MXNet's names loads into a new model
    fresh.load_parameters(path)

    x, y = ref.inputs(vocab_size)
    for net in (model, fresh):
        out, states = ref.forward(mx, net, x)
        np.testing.assert_allclose(out, expected[name + "/out"], rtol=1e-4, atol=1e-5)
        for i, state in enumerate(states):
            np.testing.assert_allclose(state, expected["%s/state%d" % (name, i)], rtol=1e-4, atol=1e-5)

    ref.train_step(mx, model, x, y)
    for key, param in model._collect_params_with_prefix().items():
        values, total = ref.sample(param.data().asnumpy())
        np.testing.assert_allclose(values, expected["%s/trained/%s" % (name, key)], rtol=1e-4, atol=1e-6,
                                   err_msg=key)
        np.testing.assert_allclose(total, expected["%s/trained_abs_sum/%s" % (name, key)], rtol=1e-4, err_msg=key)


def test_parameter_whose_data_is_computed_per_call_gets_gradients():
    """GluonNLP's WeightDropParameter overrides `data()` (a Dropout of the weight): a block must call it on every
    forward, so a recorded call after an unrecorded one still reaches the weight's gradient."""
    class Doubled(mx.gluon.Parameter):
        def data(self, ctx=None):
            return super().data(ctx) * 2

    class Scale(mx.gluon.HybridBlock):
        def __init__(self):
            super().__init__()
            self.w = Doubled("w", shape=(3,))

        def hybrid_forward(self, F, x, w):
            return x * w

    net = Scale()
    net.w.initialize(mx.init.One())
    x = mx.nd.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(net(x).asnumpy(), [2, 4, 6])
    with mx.autograd.record():
        y = net(x)
    y.backward()
    np.testing.assert_array_equal(net.w.grad().asnumpy(), [2, 4, 6])
