"""Record six GluonCV 0.10.5 models on MXNet 1.9.1 for tests/test_gluoncv.py (run with the oracle's python).

    MXNET_MKLDNN_ENABLED=0 MXNET_SUBGRAPH_BACKEND=NONE OMP_NUM_THREADS=2 /work/mxvenv/bin/python \
        reference/gluoncv_fixtures.py

Needs gluoncv 0.10.5 (installed --no-deps) with tqdm, portalocker, yacs, autocfg, Pillow and scipy in the oracle's
venv. Writes tests/fixtures/mxnet-1.9.1/gluoncv/{outputs.npz, symbols.json.gz, ops.npz, tiny.rec/.idx,
    split.rec/.idx}; see the README there.
"""
import io
import json
import os
import sys
import tempfile

import numpy as np

import mxnet as mx
from gluoncv.model_zoo import get_model

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from param_recipe import recipe_input, set_recipe_params, sha256, write_json_gz, write_npz  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "mxnet-1.9.1", "gluoncv")

# model name -> input (N, C, H, W): the smallest convenient size each model accepts
MODELS = {"resnet18_v1b": (1, 3, 64, 64), "resnet50_v1d": (1, 3, 64, 64), "mobilenetv3_small": (1, 3, 64, 64),
          "cifar_resnet20_v1": (1, 3, 32, 32), "simple_pose_resnet18_v1b": (1, 3, 64, 64),
          "se_resnext50_32x4d": (1, 3, 64, 64)}


def record(name, shape, tmp):
    with mx.name.NameManager():
        net = get_model(name, pretrained=False)
    net.initialize()
    net(mx.nd.zeros(shape))                              # finish deferred initialisation
    set_recipe_params(net)
    params = net.collect_params()
    x = recipe_input(shape)
    imperative = net(mx.nd.array(x)).asnumpy()
    net.save_parameters(os.path.join(tmp, "saved.params"))
    net.hybridize()
    hybrid = net(mx.nd.array(x)).asnumpy()
    assert np.allclose(hybrid, imperative, rtol=1e-5, atol=1e-6 * np.abs(imperative).max()), name
    net.export(os.path.join(tmp, "exported"))
    imported = mx.gluon.SymbolBlock.imports(os.path.join(tmp, "exported-symbol.json"), ["data"],
                                            os.path.join(tmp, "exported-0000.params"))
    assert np.allclose(imported(mx.nd.array(x)).asnumpy(), imperative, rtol=1e-5,
                       atol=1e-6 * np.abs(imperative).max()), name
    with open(os.path.join(tmp, "exported-symbol.json")) as fh:
        symbol = json.load(fh)
    info = {"input": list(shape), "prefix": net.prefix, "num_params": len(params.keys()),
            "save_parameters_sha256": sha256(os.path.join(tmp, "saved.params")),
            "export_params_sha256": sha256(os.path.join(tmp, "exported-0000.params"))}
    return imperative, symbol, info


def record_sync_batch_norm(arrays):
    """_contrib_SyncBatchNorm in training on one device: outputs, gradients, moving stats after the backward."""
    rng = np.random.RandomState(2)
    x = rng.uniform(-2, 2, (2, 3, 4, 5)).astype(np.float32)
    gamma, beta = rng.uniform(0.5, 1.5, 3).astype(np.float32), rng.uniform(-0.5, 0.5, 3).astype(np.float32)
    moving_mean, moving_var = rng.uniform(-0.5, 0.5, 3).astype(np.float32), rng.uniform(0.5, 1.5, 3).astype(np.float32)
    dy = rng.uniform(-1, 1, x.shape).astype(np.float32)
    arrays.update({"sync_bn/x": x, "sync_bn/gamma": gamma, "sync_bn/beta": beta, "sync_bn/moving_mean": moving_mean,
                   "sync_bn/moving_var": moving_var, "sync_bn/dy": dy})
    args = [mx.nd.array(a) for a in (x, gamma, beta)]
    aux = [mx.nd.array(a) for a in (moving_mean, moving_var)]
    for a in args:
        a.attach_grad()
    with mx.autograd.record():
        out, mean, var = mx.nd.contrib.SyncBatchNorm(*args, *aux, key="bn0", fix_gamma=False, eps=1e-3,
                                                     momentum=0.8, output_mean_var=True)
    out.backward(mx.nd.array(dy))
    for key, value in (("out", out), ("mean", mean), ("var", var), ("dx", args[0].grad),
                       ("dgamma", args[1].grad), ("dbeta", args[2].grad), ("moving_mean_after", aux[0]),
                       ("moving_var_after", aux[1])):
        arrays["sync_bn/" + key] = value.asnumpy()


def record_imresize(arrays):
    """mx.image.imresize (OpenCV) of a small uint8 and float32 image, shrinking and enlarging, interp 0-3."""
    rng = np.random.RandomState(3)
    arrays["imresize/uint8"] = rng.randint(0, 256, (6, 8, 3)).astype(np.uint8)
    arrays["imresize/float32"] = rng.uniform(0, 1, (6, 8, 3)).astype(np.float32)
    for kind in ("uint8", "float32"):
        src = mx.nd.array(arrays["imresize/" + kind], dtype=kind)
        for interp in range(4):
            arrays["imresize/%s/%d/3x4" % (kind, interp)] = mx.image.imresize(src, 4, 3, interp=interp).asnumpy()
            if interp != 3:
                arrays["imresize/%s/%d/9x11" % (kind, interp)] = mx.image.imresize(src, 11, 9,
                                                                                  interp=interp).asnumpy()


def record_image_records(arrays):
    """tiny.rec/.idx written by MXNet's recordio: three PNG images (labels: a float, five floats, a float), read
    back by MXNet's ImageRecordDataset; split.rec/.idx: raw payloads holding the RecordIO magic (split records)."""
    from PIL import Image
    rng = np.random.RandomState(4)
    writer = mx.recordio.MXIndexedRecordIO(os.path.join(OUT, "tiny.idx"), os.path.join(OUT, "tiny.rec"), "w")
    labels = [3.0, rng.uniform(0, 1, 5).astype(np.float32), 7.0]
    for i, label in enumerate(labels):
        pixels = rng.randint(0, 256, (4 + i, 5, 3)).astype(np.uint8)
        png = io.BytesIO()
        Image.fromarray(pixels).save(png, format="PNG")
        flag = 0 if np.isscalar(label) else len(label)
        header = mx.recordio.IRHeader(flag, label, 100 + i, 0)
        writer.write_idx(10 + i, mx.recordio.pack(header, png.getvalue()))
    writer.close()
    dataset = mx.gluon.data.vision.ImageRecordDataset(os.path.join(OUT, "tiny.rec"))
    for i in range(len(dataset)):
        img, label = dataset[i]
        arrays["records/image%d" % i] = img.asnumpy()
        arrays["records/label%d" % i] = np.asarray(label, np.float32)
    magic = np.array([0xCED7230A], "<u4").tobytes()
    payloads = [b"abc" + magic + b"defgh", magic + b"x" + magic, b"plain"]
    writer = mx.recordio.MXIndexedRecordIO(os.path.join(OUT, "split.idx"), os.path.join(OUT, "split.rec"), "w")
    for i, payload in enumerate(payloads):
        writer.write_idx(i, payload)
        arrays["records/payload%d" % i] = np.frombuffer(payload, np.uint8)
    writer.close()


def main():
    os.makedirs(OUT, exist_ok=True)
    arrays, symbols, models = {}, {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, shape in MODELS.items():
            out, symbols[name], models[name] = record(name, shape, tmp)
            arrays[name] = out
            print(name, out.shape, float(np.abs(out).max()))
    write_npz(os.path.join(OUT, "outputs.npz"), arrays)
    ops = {}
    record_sync_batch_norm(ops)
    record_imresize(ops)
    record_image_records(ops)
    write_npz(os.path.join(OUT, "ops.npz"), ops)
    write_json_gz(os.path.join(OUT, "symbols.json.gz"), {"symbols": symbols, "models": models})


if __name__ == "__main__":
    main()
