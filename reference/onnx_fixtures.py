"""Record MXNet 1.9.1's ONNX files and outputs for tests/test_onnx_mxnet.py (see
tests/fixtures/mxnet-1.9.1/onnx/README.md).

Run with the oracle's Python and onnx 1.13.1 (the newest onnx that still has the `onnx.mapping` module MXNet
1.9.1's exporter imports), installed beside it without touching its numpy:

    /work/mxvenv/bin/pip install --target /tmp/mxonnx onnx==1.13.1 "protobuf<4" && rm -rf /tmp/mxonnx/numpy*
    PYTHONPATH=/tmp/mxonnx MXNET_MKLDNN_ENABLED=0 /work/mxvenv/bin/python reference/onnx_fixtures.py
"""
import json
import os

import mxnet as mx
import numpy as np
import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "mxnet-1.9.1", "onnx")


def small_cnn():
    data = mx.sym.var("data")
    net = mx.sym.Convolution(data, kernel=(3, 3), num_filter=8, pad=(1, 1), name="conv1")
    net = mx.sym.BatchNorm(net, fix_gamma=False, name="bn1")
    net = mx.sym.Activation(net, act_type="relu", name="relu1")
    net = mx.sym.Pooling(net, kernel=(3, 3), stride=(2, 2), pool_type="max", pooling_convention="full", name="pool1")
    net = mx.sym.Convolution(net, kernel=(3, 3), num_filter=6, num_group=2, name="conv2")
    net = mx.sym.LeakyReLU(net, act_type="leaky", slope=0.1, name="leaky")
    net = mx.sym.Pooling(net, kernel=(1, 1), global_pool=True, pool_type="avg", name="pool2")
    net = mx.sym.Flatten(net, name="flat")
    net = mx.sym.FullyConnected(net, num_hidden=5, name="fc")
    return mx.sym.softmax(net, axis=1, name="softmax"), (2, 3, 9, 9)   # (SoftmaxOutput: 1.9.1 fails to export it)


def mlp():
    data = mx.sym.var("data")
    net = mx.sym.FullyConnected(data, num_hidden=16, name="fc1")
    net = net * mx.sym.sigmoid(net)     # (LayerNorm: 1.9.1 writes ReduceMean's opset-13 axes into an opset-18 file)
    net = mx.sym.LeakyReLU(net, act_type="elu", slope=0.5, name="elu")
    net = mx.sym.clip(net * 2 + 1, -1.5, 2.5, name="clip")
    net = mx.sym.reshape(mx.sym.Dropout(net, p=0.3), shape=(0, 2, -1), name="split_rows")
    net = mx.sym.FullyConnected(net, num_hidden=4, flatten=False, name="fc2")
    net = mx.sym.reshape(net, shape=(0, -1), name="reshape")
    # 2-D data: 1.9.1 writes FullyConnected(flatten=True) on 3-D data as if flatten were False (a wrong file)
    return mx.sym.log_softmax(net, axis=-1, name="out"), (3, 14)


def record(name, build, rs):
    sym, shape = build()
    arg_shapes, _, aux_shapes = sym.infer_shape(data=shape)
    arg_params, aux_params = {}, {}
    for key, s in zip(sym.list_arguments(), arg_shapes):
        if key == "data" or key.endswith("_label"):
            continue
        scale = 1.0 / np.sqrt(max(1, int(np.prod(s[1:]))))
        value = rs.uniform(0.5, 1.5, s) if key.endswith("gamma") else rs.normal(0, scale, s)
        arg_params[key] = mx.nd.array(value.astype(np.float32))
    for key, s in zip(sym.list_auxiliary_states(), aux_shapes):
        value = rs.uniform(0.5, 1.5, s) if key.endswith("var") else rs.normal(0, 0.2, s)
        aux_params[key] = mx.nd.array(value.astype(np.float32))
    x = rs.uniform(-1, 1, shape).astype(np.float32)
    prefix = os.path.join(OUT, name)
    mx.model.save_checkpoint(prefix, 0, sym, arg_params, aux_params)
    mod = mx.mod.Module(sym, data_names=["data"], label_names=[n for n in sym.list_arguments()
                                                               if n.endswith("_label")] or None)
    mod.bind(data_shapes=[("data", shape)], for_training=False)
    mod.set_params(arg_params, aux_params)
    mod.forward(mx.io.DataBatch([mx.nd.array(x)]), is_train=False)
    np.savez(prefix + "-io.npz", data=x, output=mod.get_outputs()[0].asnumpy())
    params = dict(arg_params)
    params.update(aux_params)
    path = mx.onnx.export_model(sym, params, [shape], np.float32, prefix + ".onnx")
    model = onnx.load(path)
    return {"onnx_opset": [o.version for o in model.opset_import], "ops": sorted({n.op_type for n in model.graph.node}),
            "inputs": [i.name for i in model.graph.input], "outputs": [o.name for o in model.graph.output]}


def main():
    os.makedirs(OUT, exist_ok=True)
    rs = np.random.RandomState(0)
    info = {name: record(name, build, rs) for name, build in [("small_cnn", small_cnn), ("mlp", mlp)]}
    info["versions"] = {"mxnet": mx.__version__, "onnx": onnx.__version__, "numpy": np.__version__}
    with open(os.path.join(OUT, "info.json"), "w") as f:
        json.dump(info, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
