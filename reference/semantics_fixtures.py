"""Record MXNet 1.9.1's Gluon/Symbol semantics for tests/test_mxnet_semantics.py and tests/test_multi_context.py
(run with the oracle's python).

    MXNET_MKLDNN_ENABLED=0 /work/mxvenv/bin/python reference/semantics_fixtures.py

Writes tests/fixtures/mxnet-1.9.1/semantics/{multi_context.npz, batchnorm_stats.npz, partial_shapes.json,
behaviour.json, pooling_channel_last.npz, ctc.npz,
module_multi_context.npz, repeated_heads.json}; see the README there. Name functions to run only those:
`... semantics_fixtures.py repeated_heads`.
"""
import json
import os
import sys

import numpy as np

import mxnet as mx
from mxnet import autograd, gluon

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "mxnet-1.9.1", "semantics")
rng = np.random.RandomState(20261206)


def multi_context():
    """Dense(3, in_units=4) on cpu(0) and cpu(1), a batch of 6 split over them, loss sum(y**2) per context, two
    SGD-with-momentum steps, for each kvstore / update_on_kvstore setting."""
    w = rng.randn(3, 4).astype(np.float32)
    b = rng.randn(3).astype(np.float32)
    x = rng.randn(6, 4).astype(np.float32)
    out = {"w": w, "b": b, "x": x}
    ctxs = [mx.cpu(0), mx.cpu(1)]
    for tag, kvstore, on_kv in [("device", "device", None), ("device_nokv_update", "device", False),
                                ("none", None, None)]:
        net = gluon.nn.Dense(3, in_units=4)
        net.initialize(ctx=ctxs)
        net.weight.set_data(mx.nd.array(w))
        net.bias.set_data(mx.nd.array(b))
        trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1, "momentum": 0.9},
                                kvstore=kvstore, update_on_kvstore=on_kv)
        for step in range(2):
            parts = gluon.utils.split_and_load(mx.nd.array(x), ctxs)
            with autograd.record():
                losses = [(net(p) ** 2).sum() for p in parts]
            for loss in losses:
                loss.backward()
            trainer.step(6)
            mx.nd.waitall()
            for k, ctx in enumerate(ctxs):
                out["%s_step%d_w%d" % (tag, step, k)] = net.weight.data(ctx).asnumpy()
                out["%s_step%d_b%d" % (tag, step, k)] = net.bias.data(ctx).asnumpy()
                out["%s_step%d_wgrad%d" % (tag, step, k)] = net.weight.grad(ctx).asnumpy()
    # split_and_load of an uneven batch
    parts = gluon.utils.split_and_load(mx.nd.array(x[:5]), ctxs, even_split=False)
    out["uneven_sizes"] = np.array([p.shape[0] for p in parts])
    np.savez(os.path.join(OUT, "multi_context.npz"), **out)


def module_multi_context():
    """Module on [cpu(0), cpu(1)]: an MLP with SoftmaxOutput, two SGD-with-momentum steps on a batch of 6, with
    kvstore 'local' (gradients summed) and None (each context on its own); parameters after each step, merged
    outputs and the metric."""
    data = mx.sym.var("data")
    net = mx.sym.FullyConnected(data, num_hidden=5, name="fc1")
    net = mx.sym.Activation(net, act_type="tanh", name="act")
    net = mx.sym.FullyConnected(net, num_hidden=3, name="fc2")
    net = mx.sym.SoftmaxOutput(net, name="softmax")
    x = rng.randn(6, 4).astype(np.float32)
    y = rng.randint(0, 3, size=6).astype(np.float32)
    init = {"fc1_weight": rng.randn(5, 4) * 0.5, "fc1_bias": rng.randn(5) * 0.1, "fc2_weight": rng.randn(3, 5) * 0.5,
            "fc2_bias": rng.randn(3) * 0.1}
    out = {"x": x, "y": y}
    out.update({"init_" + k: v.astype(np.float32) for k, v in init.items()})
    for tag, kvstore in (("local", "local"), ("none", None)):
        mod = mx.mod.Module(net, context=[mx.cpu(0), mx.cpu(1)])
        mod.bind(data_shapes=[("data", (6, 4))], label_shapes=[("softmax_label", (6,))])
        mod.init_params(arg_params={k: mx.nd.array(v) for k, v in init.items()})
        mod.init_optimizer(kvstore=kvstore, optimizer="sgd",
                           optimizer_params={"learning_rate": 0.5, "momentum": 0.9})
        batch = mx.io.DataBatch([mx.nd.array(x)], [mx.nd.array(y)])
        for step in range(2):
            mod.forward(batch, is_train=True)
            out["%s_step%d_output" % (tag, step)] = mod.get_outputs()[0].asnumpy()
            mod.backward()
            mod.update()
            args, _ = mod.get_params()
            for k, v in args.items():
                out["%s_step%d_%s" % (tag, step, k)] = v.asnumpy()
            # each context's copy of fc2_weight (equal with a kvstore, drifting without)
            for i, e in enumerate(mod._exec_group.execs):
                out["%s_step%d_fc2_weight_dev%d" % (tag, step, i)] = e.arg_dict["fc2_weight"].asnumpy()
        metric = mx.metric.Accuracy()
        mod.forward(batch, is_train=False)
        mod.update_metric(metric, batch.label)
        out["%s_accuracy" % tag] = np.array(metric.get()[1])
    np.savez(os.path.join(OUT, "module_multi_context.npz"), **out)


def batchnorm_stats():
    """Moving mean/var of a Gluon BatchNorm after a training forward without and with backward (imperative and
    hybridized), and of a bound BatchNorm symbol after forward(is_train=True) and backward."""
    x = rng.rand(4, 2, 3).astype(np.float32)
    out = {"x": x}
    for hybrid in (False, True):
        for with_backward in (False, True):
            bn = gluon.nn.BatchNorm(in_channels=2)
            bn.initialize()
            if hybrid:
                bn.hybridize()
            with autograd.record():
                y = bn(mx.nd.array(x))
            if with_backward:
                y.backward()
            mx.nd.waitall()
            tag = "%s_%s" % ("hybrid" if hybrid else "imperative", "bwd" if with_backward else "fwd")
            out[tag + "_mean"] = bn.running_mean.data().asnumpy()
            out[tag + "_var"] = bn.running_var.data().asnumpy()
    sym = mx.sym.BatchNorm(mx.sym.var("data"), fix_gamma=False, name="bn")
    ex = sym.simple_bind(mx.cpu(), data=x.shape)
    ex.arg_dict["data"][:] = x
    ex.arg_dict["bn_gamma"][:] = 1
    ex.forward(is_train=True)
    mx.nd.waitall()
    out["executor_fwd_mean"] = ex.aux_dict["bn_moving_mean"].asnumpy()
    ex.backward(mx.nd.ones(x.shape))
    mx.nd.waitall()
    out["executor_bwd_mean"] = ex.aux_dict["bn_moving_mean"].asnumpy()
    np.savez(os.path.join(OUT, "batchnorm_stats.npz"), **out)


POOLING = [  # (layout, data shape, kernel, stride, pad, pool_type, extra params)
    ("NWC", (2, 7, 3), (3,), (2,), (1,), "max", {}),
    ("NWC", (2, 7, 3), (2,), (1,), (0,), "avg", {}),
    ("NHWC", (2, 5, 6, 3), (2, 2), (2, 2), (0, 0), "max", {}),
    ("NHWC", (2, 5, 6, 3), (3, 3), (1, 2), (1, 1), "avg", {"count_include_pad": False}),
    ("NHWC", (1, 4, 4, 2), (2, 2), (2, 2), (0, 0), "sum", {}),
    ("NHWC", (2, 5, 5, 3), (3, 3), (2, 2), (0, 0), "max", {"pooling_convention": "full"}),
    ("NHWC", (2, 4, 5, 3), (1, 1), (1, 1), (0, 0), "avg", {"global_pool": True}),
    ("NDHWC", (1, 4, 4, 4, 2), (2, 2, 2), (2, 2, 2), (0, 0, 0), "max", {}),
    ("NDHWC", (1, 3, 4, 5, 2), (2, 2, 2), (1, 1, 1), (1, 0, 1), "avg", {}),
]


def pooling_channel_last():
    """Pooling with channel-last layouts on the CPU: outputs and input gradients for a random head gradient."""
    out = {}
    for k, (layout, shape, kernel, stride, pad, pool_type, extra) in enumerate(POOLING):
        x = mx.nd.array(rng.randn(*shape))
        x.attach_grad()
        with autograd.record():
            y = mx.nd.Pooling(x, kernel=kernel, stride=stride, pad=pad, pool_type=pool_type, layout=layout, **extra)
        dy = mx.nd.array(rng.randn(*y.shape))
        y.backward(dy)
        out["x%d" % k], out["y%d" % k], out["dy%d" % k], out["dx%d" % k] = (x.asnumpy(), y.asnumpy(), dy.asnumpy(),
                                                                            x.grad.asnumpy())
    np.savez(os.path.join(OUT, "pooling_channel_last.npz"), **out)


def ctc():
    """CTCLoss (the op, both blank conventions, with and without lengths) and gluon.loss.CTCLoss: losses and the
    gradient of the activations for a random head gradient."""
    out = {}
    t, n, c = 6, 3, 5
    cases = [  # (tag, labels, blank_label, data lengths or None, label lengths or None)
        ("first", [[1, 2, 0, 0], [3, 3, 0, 0], [4, 1, 2, 0]], "first", None, None),
        ("last", [[0, 1, -1, -1], [3, 3, -1, -1], [2, 0, 1, 3]], "last", None, None),
        ("lengths", [[1, 2, 1, 0], [3, 1, 0, 0], [4, 4, 2, 1]], "first", [6, 4, 5], [2, 2, 3]),
    ]
    for tag, labels, blank, data_lengths, label_lengths in cases:
        x = mx.nd.array(rng.randn(t, n, c))
        x.attach_grad()
        args = [x, mx.nd.array(labels)]
        kwargs = {"blank_label": blank}
        if data_lengths is not None:
            args.append(mx.nd.array(data_lengths))
            kwargs["use_data_lengths"] = True
        if label_lengths is not None:
            args.append(mx.nd.array(label_lengths))
            kwargs["use_label_lengths"] = True
        with autograd.record():
            loss = mx.nd.CTCLoss(*args, **kwargs)
        dy = mx.nd.array(rng.rand(n) + 0.5)
        loss.backward(dy)
        out.update({"%s_x" % tag: x.asnumpy(), "%s_label" % tag: np.array(labels, np.float32),
                    "%s_loss" % tag: loss.asnumpy(), "%s_dy" % tag: dy.asnumpy(), "%s_dx" % tag: x.grad.asnumpy()})
        if data_lengths is not None:
            out["%s_data_lengths" % tag] = np.array(data_lengths, np.float32)
            out["%s_label_lengths" % tag] = np.array(label_lengths, np.float32)
    # gluon: layout NTC, blank last (padding -1), with and without lengths
    pred = mx.nd.array(rng.randn(n, t, c))
    label = mx.nd.array([[0, 1, -1], [3, 3, 2], [1, -1, -1]])
    out["gluon_pred"], out["gluon_label"] = pred.asnumpy(), label.asnumpy()
    out["gluon_loss"] = gluon.loss.CTCLoss()(pred, label).asnumpy()
    out["gluon_loss_lengths"] = gluon.loss.CTCLoss()(pred, label, mx.nd.array([5, 6, 4]),
                                                    mx.nd.array([2, 3, 1])).asnumpy()
    np.savez(os.path.join(OUT, "ctc.npz"), **out)


# name -> (python expression building the symbol from `d` and `l`, known shapes); MXNet's answer is recorded
PARTIAL_SHAPES = {
    "fc_no_data": ("mx.sym.FullyConnected(d, num_hidden=3, name='fc')", {}),
    "fc_batch_unknown": ("mx.sym.FullyConnected(d, num_hidden=3, name='fc')", {"data": (0, 5)}),
    "fc_full": ("mx.sym.FullyConnected(d, num_hidden=3, name='fc')", {"data": (4, 5)}),
    "fc_no_flatten": ("mx.sym.FullyConnected(d, num_hidden=3, flatten=False, name='fc')", {"data": (2, 0, 5)}),
    "fc_weight_only": ("mx.sym.FullyConnected(d, num_hidden=3, name='fc')", {"fc_weight": (3, 5)}),
    "conv_no_data": ("mx.sym.Convolution(d, kernel=(3, 3), num_filter=4, name='c')", {}),
    "conv_batch_unknown": ("mx.sym.Convolution(d, kernel=(3, 3), num_filter=4, name='c')", {"data": (0, 2, 8, 8)}),
    "conv_channels_unknown": ("mx.sym.Convolution(d, kernel=(3, 3), num_filter=4, name='c')",
                              {"data": (1, 0, 8, 8)}),
    "deconv_no_data": ("mx.sym.Deconvolution(d, kernel=(3, 3), num_filter=4, name='c')", {}),
    "add_one_side": ("d + l", {"data": (2, 3)}),
    "add_two_halves": ("d + l", {"data": (0, 3), "label": (2, 0)}),
    "bn_no_data": ("mx.sym.BatchNorm(d, name='bn')", {}),
    "bn_gamma_only": ("mx.sym.BatchNorm(d, name='bn')", {"bn_gamma": (3,)}),
    "softmax_output": ("mx.sym.SoftmaxOutput(mx.sym.FullyConnected(d, num_hidden=3, name='fc'), l, name='sm')",
                       {"data": (4, 5)}),
    "softmax_output_label_only": ("mx.sym.SoftmaxOutput(d, l, name='sm')", {"label": (4,)}),
    "mlp_batch_unknown": ("mx.sym.FullyConnected(mx.sym.Activation(mx.sym.FullyConnected(d, num_hidden=8, "
                          "name='f1'), act_type='relu'), num_hidden=2, name='f2')", {"data": (0, 5)}),
    "regression_label_only": ("mx.sym.LinearRegressionOutput(mx.sym.FullyConnected(d, num_hidden=3, name='fc'), "
                              "l)", {"label": (4, 3)}),
    "reshape_no_data": ("mx.sym.reshape(d, shape=(-1, 2))", {}),
    "embedding_no_data": ("mx.sym.Embedding(d, input_dim=10, output_dim=4, name='e')", {}),
    "dot_one_side": ("mx.sym.dot(d, l)", {"data": (2, 3)}),
    "layernorm_no_data": ("mx.sym.LayerNorm(d, name='ln')", {}),
    "prelu_no_data": ("mx.sym.LeakyReLU(d, act_type='prelu', name='p')", {}),
    "pooling_no_data": ("mx.sym.Pooling(d, kernel=(2, 2), name='p')", {}),
    "groupnorm_no_data": ("mx.sym.GroupNorm(d, num_groups=1, name='gn')", {}),
}


def partial_shapes():
    data, label = mx.sym.var("data"), mx.sym.var("label")
    table = {}
    for name, (expr, known) in PARTIAL_SHAPES.items():
        sym = eval(expr, {"mx": mx, "d": data, "l": label})     # noqa: S307 (our own table)
        args, outs, aux = sym.infer_shape_partial(**known)
        table[name] = {"expr": expr, "known": known, "args": [list(s) for s in args],
                       "outs": [list(s) for s in outs], "aux": [list(s) for s in aux]}
    with open(os.path.join(OUT, "partial_shapes.json"), "w") as f:
        json.dump(table, f, indent=1, sort_keys=True)


def behaviour():
    """Names, attributes, keys and error types where MXNet's choice is what tests check."""
    b = {}
    data = mx.sym.var("data")
    with mx.name.NameManager():
        fc1 = mx.sym.FullyConnected(data, num_hidden=3, name="net_fc1")
        fc2 = mx.sym.FullyConnected(fc1, num_hidden=2, name="net_fc2")
        block = gluon.SymbolBlock(fc2, data)
        b["symbolblock_name"] = block.name
        b["symbolblock_prefix"] = block.prefix
        b["symbolblock_reg_params"] = list(block._reg_params)
        b["dense_after_symbolblock"] = gluon.nn.Dense(2).name
        single = gluon.SymbolBlock(mx.sym.FullyConnected(data, num_hidden=3, name="fc"), data)
        b["symbolblock_single_reg_params"] = list(single._reg_params)

        class Outer(gluon.HybridBlock):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                with self.name_scope():
                    self.features = gluon.SymbolBlock(fc2, data)
                    self.head = gluon.nn.Dense(2, in_units=2)

        outer = Outer()
        b["nested_symbolblock_name"] = outer.features.name
        b["nested_structural_names"] = list(outer._collect_params_with_prefix())
    # explicit shapes and dtypes win over __shape__/__dtype__
    x = mx.sym.var("x", shape=(2, 3), dtype="float16")
    y = x * 2
    b["explicit_shape"] = [[list(s) for s in part] for part in y.infer_shape(x=(4, 5))]
    b["explicit_dtype"] = [[np.dtype(t).name for t in part] for part in y.infer_type(x="float32")]
    b["var_attr_shape"] = [[list(s) for s in part] for part in y.infer_shape()]
    # save_parameters(deduplicate=True) with a shared parameter
    with mx.name.NameManager():
        net = gluon.nn.HybridSequential()
        with net.name_scope():
            first = gluon.nn.Dense(2, in_units=2)
            net.add(first)
            net.add(gluon.nn.Dense(2, in_units=2, params=first.params))
        net.initialize()
        path = os.path.join(OUT, "_dedup.params")
        net.save_parameters(path, deduplicate=True)
        b["dedup_keys"] = sorted(mx.nd.load(path))
        net.save_parameters(path)
        b["no_dedup_keys"] = sorted(mx.nd.load(path))
        os.remove(path)
    # load_parameters(cast_dtype=True, dtype_source='saved') adopts the file's dtype
    with mx.name.NameManager():
        net = gluon.nn.Dense(2, in_units=2, dtype="float16")
        net.initialize()
        path = os.path.join(OUT, "_f16.params")
        net.save_parameters(path)
        other = gluon.nn.Dense(2, in_units=2)
        other.load_parameters(path, cast_dtype=True, dtype_source="saved")
        b["dtype_source_saved"] = [other.weight.dtype.__name__ if isinstance(other.weight.dtype, type)
                                   else str(other.weight.dtype), str(other.weight.data().dtype.__name__)]
        third = gluon.nn.Dense(2, in_units=2)
        third.load_parameters(path, cast_dtype=True, dtype_source="current")
        b["dtype_source_current"] = str(third.weight.data().dtype.__name__)
        os.remove(path)
    # auto names and attributes
    with mx.name.NameManager():
        b["rpower_names"] = [(2 ** mx.sym.var("a")).name, (2 ** mx.sym.var("a")).name]
    with mx.AttrScope(ctx_group="g1"):
        v = mx.sym.var("v")
        e = mx.sym.exp(v, name="e")
    b["attrscope_list_attr"] = e.list_attr()
    b["attrscope_attr_dict"] = e.attr_dict()
    b["hidden_attrs_on_op"] = mx.sym.exp(mx.sym.var("q"), name="ee", lr_mult=2, wd_mult=0).list_attr()
    b["infer_type_partial"] = [[np.dtype(t).name if t is not None else None for t in part]
                               for part in (mx.sym.var("a") + mx.sym.var("b")).infer_type_partial(a="float32")]
    # errors: access before initialisation
    try:
        gluon.Parameter("p", shape=(2,)).data()
    except Exception as err:        # noqa: BLE001 (recording which type MXNet raises)
        b["param_before_init_error"] = type(err).__name__
    # pcc metric (multi-class Matthews-like correlation)
    labels = [mx.nd.array([0, 1, 2, 1, 0, 2, 2, 1])]
    preds = [mx.nd.array(rng.rand(8, 3))]
    metric = mx.metric.create("pcc")
    metric.update(labels, preds)
    b["pcc_inputs"] = {"labels": labels[0].asnumpy().tolist(), "preds": preds[0].asnumpy().tolist()}
    b["pcc_value"] = list(metric.get())
    with open(os.path.join(OUT, "behaviour.json"), "w") as f:
        json.dump(b, f, indent=1, sort_keys=True, default=str)


def repeated_heads():
    """Executor.backward with a head listed twice and out_grads given: only the last one per head counts."""
    x = mx.sym.Variable("x")
    y = x * 2
    z = y + 1
    cases = {"yy": ([y, y], [[1, 2, 3], [10, 20, 30]]), "yzy": ([y, z, y], [[1, 1, 1], [100, 100, 100], [7, 8, 9]])}
    out = {}
    for name, (heads, grads) in cases.items():
        ex = mx.sym.Group(heads).simple_bind(mx.cpu(), x=(3,))
        ex.arg_dict["x"][:] = 1
        ex.forward(is_train=True)
        ex.backward([mx.nd.array(g) for g in grads])
        out[name] = {"out_grads": grads, "grad": ex.grad_dict["x"].asnumpy().tolist()}
    with open(os.path.join(OUT, "repeated_heads.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    if len(sys.argv) > 1:
        for _name in sys.argv[1:]:
            globals()[_name]()
        sys.exit(0)
    multi_context()
    batchnorm_stats()
    partial_shapes()
    behaviour()
    pooling_channel_last()
    ctc()
    module_multi_context()
