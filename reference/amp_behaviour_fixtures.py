"""Record what MXNet 1.9.1's AMP does, for tests/test_amp.py and tests/test_batchnorm_fix_gamma.py (oracle's python).

    MXNET_MKLDNN_ENABLED=0 /work/mxvenv/bin/python reference/amp_behaviour_fixtures.py

Writes tests/fixtures/mxnet-1.9.1/amp/{lists.json, behaviour.json, behaviour.npz, fix_gamma.json}; see the README
there. `amp.init()` rewrites MXNet's front ends for the rest of the process, so each part that needs it runs in its
own child process (`python this_file part`).
"""
import json
import os
import subprocess
import sys

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "mxnet-1.9.1", "amp")
rng = np.random.RandomState(20261206)


def nodes(sym):
    graph = json.loads(sym.tojson(remove_amp_cast=False))
    return [[n["op"], n["name"], n.get("attrs", {}), n["inputs"]] for n in graph["nodes"]]


def nodes_stripped(sym):
    return [[n["op"], n["name"], n.get("attrs", {}), n["inputs"]] for n in json.loads(sym.tojson())["nodes"]]


def part_lists():
    from mxnet.contrib.amp import lists
    out = {}
    for module in ("symbol_fp16", "symbol_bf16"):
        m = getattr(lists, module)
        out[module] = {k: getattr(m, k) for k in dir(m) if k.isupper()}
    return out


def part_convert():
    import mxnet as mx
    from mxnet.contrib import amp
    data = mx.sym.var("data")
    fc1 = mx.sym.FullyConnected(data, num_hidden=8, name="fc1")
    ex = mx.sym.exp(fc1, name="e")
    fc2 = mx.sym.FullyConnected(ex, num_hidden=4, name="fc2")
    add = mx.sym.elemwise_add(fc2, mx.sym.slice_axis(fc1, axis=1, begin=0, end=4), name="add")
    rec = {}
    rec["single_fc"] = nodes(amp.convert_symbol(fc1))
    rec["fp32_op_output"] = nodes(amp.convert_symbol(mx.sym.exp(data, name="e2")))
    rec["net_data_names"] = nodes(amp.convert_symbol(add, data_names=["data"]))
    rec["net_optional_params"] = nodes(amp.convert_symbol(add, data_names=["data"], cast_optional_params=True))
    rec["net_excluded"] = nodes(amp.convert_symbol(add, data_names=["data"], excluded_sym_names=["fc2"]))
    rec["stripped"] = nodes_stripped(amp.convert_symbol(add, data_names=["data"]))
    rec["net_custom_lists"] = nodes(amp.convert_symbol(ex, target_dtype_ops=["exp"], fp32_ops=["FullyConnected"],
                                                       conditional_fp32_ops=[]))
    net = mx.gluon.nn.HybridSequential(prefix="net_")
    with net.name_scope():
        net.add(mx.gluon.nn.Dense(4, in_units=5, prefix="d1_"))
        net.add(mx.gluon.nn.Activation("relu", prefix="r_"))
        net.add(mx.gluon.nn.Dense(2, in_units=4, prefix="d2_"))
    net.initialize()
    net.hybridize()
    net(mx.nd.ones((3, 5)))
    for optional in (False, True):
        block = amp.convert_hybrid_block(net, ctx=mx.cpu(), cast_optional_params=optional)
        rec["hybrid_block_%s" % optional] = {
            "params": {k: np.dtype(p.dtype).name for k, p in block.collect_params().items()},
            "data": {k: np.dtype(p.data().dtype).name for k, p in block.collect_params().items()},
            "graph": nodes(block(mx.sym.var("data")))}
    return rec


def part_imperative():
    """After amp.init(): the nd and sym front ends' casts, and the loss outputs' grad_scale."""
    import mxnet as mx
    from mxnet.contrib import amp
    amp.init()
    x = rng.uniform(-1, 1, (3, 5)).astype(np.float32)
    w = rng.uniform(-1, 1, (4, 5)).astype(np.float32)
    b = rng.uniform(-1, 1, (4,)).astype(np.float32)
    arrays = {"x": x, "w": w, "b": b}
    rec = {}
    # (MXNet's CPU has no float16 FullyConnected kernel, so nothing here runs one)
    h = mx.nd.array(x).astype("float16")
    e = mx.nd.exp(h)                       # fp32 op, float16 input on CPU
    rec["exp_f16_dtype"] = np.dtype(e.dtype).name
    s = mx.nd.elemwise_add(h, mx.nd.array(x))     # widest of float16 and float32
    rec["add_mixed_dtype"] = np.dtype(s.dtype).name
    arrays["add_mixed"] = s.asnumpy()
    plus = h + mx.nd.array(x)                     # NDArray operators go through the wrapped functions
    rec["operator_add_dtype"] = np.dtype(plus.dtype).name
    arrays["operator_add"] = plus.asnumpy()
    rec["sym_operator_add"] = nodes(mx.sym.var("x") + mx.sym.var("y"))
    sr = mx.nd.Activation(mx.nd.array(x), act_type="softrelu")
    rec["softrelu_f32_dtype"] = np.dtype(sr.dtype).name
    # SoftmaxOutput's gradient carries the loss scale (grad_scale = loss_scale)
    d = mx.nd.array(x)
    d.attach_grad()
    label = mx.nd.array([0, 2, 1])
    with mx.autograd.record():
        out = mx.nd.SoftmaxOutput(d, label)
    out.backward()
    arrays["softmax_grad"] = d.grad.asnumpy()
    # the symbol front end
    sym = mx.sym.FullyConnected(mx.sym.var("data"), num_hidden=4, name="fc")
    rec["sym_fc"] = nodes(sym)
    sym2 = mx.sym.elemwise_add(mx.sym.exp(mx.sym.var("a"), name="ea"), mx.sym.var("b"), name="s")
    rec["sym_widest"] = nodes(sym2)
    sym3 = mx.sym.BatchNorm(mx.sym.var("data"), name="bn")
    rec["sym_bn"] = nodes(sym3)
    # a hybridized Gluon net, then its exported graph
    net = mx.gluon.nn.HybridSequential(prefix="net_")
    with net.name_scope():
        net.add(mx.gluon.nn.Dense(4, in_units=5, prefix="d1_"))
        net.add(mx.gluon.nn.Activation("relu", prefix="r_"))
        net.add(mx.gluon.nn.Dense(2, in_units=4, prefix="d2_"))
    net.initialize(mx.init.Uniform(0.5))
    for name, p in net.collect_params().items():
        arrays["gluon_" + name] = p.data().asnumpy()
    rec["gluon_graph"] = nodes(net(mx.sym.var("data")))
    return rec, arrays


class _P:
    def __init__(self, grad):
        self._grad = [grad]


def part_scaler():
    """LossScaler's sequence on a pattern of overflows, and a Trainer step skipped on overflow."""
    import mxnet as mx
    from mxnet.contrib import amp
    from mxnet.contrib.amp.loss_scaler import LossScaler
    ls = LossScaler()
    finite, inf = _P(mx.nd.ones((2,))), _P(mx.nd.array([1.0, np.inf]))
    pattern = [True, True] + [False] * 2001 + [True] + [False] * 1999 + [False] * 5
    seq = []
    for overflow in pattern:
        r = ls.has_overflow([inf if overflow else finite])
        seq.append([bool(r), ls.loss_scale, ls._next_loss_scale])
    rec = {"pattern": pattern, "sequence": seq}
    # init() would make Dense float16, which MXNet's CPU cannot run: turn on only its loss-scaling state
    amp.amp._amp_initialized = True
    amp.amp._loss_scaler = LossScaler()
    net = mx.gluon.nn.Dense(2, in_units=3)
    net.initialize(mx.init.Constant(0.5))
    trainer = mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    amp.init_trainer(trainer)
    steps = []
    for bad in (False, True, False):
        x = mx.nd.array(rng.uniform(-1, 1, (4, 3)))
        if bad:
            x[0, 0] = np.inf
        with mx.autograd.record():
            loss = net(x).sum()
            with amp.scale_loss(loss, trainer) as scaled:
                mx.autograd.backward(scaled)
        grad = net.weight.grad().asnumpy().tolist()
        trainer.step(4)
        steps.append({"x": x.asnumpy().tolist(), "grad": grad, "weight": net.weight.data().asnumpy().tolist(),
                      "loss_scale": trainer._amp_loss_scaler.loss_scale, "scale": trainer._scale})
    rec["trainer"] = steps
    # unscale
    x = mx.nd.array(rng.uniform(-1, 1, (4, 3)))
    with mx.autograd.record():
        loss = net(x).sum()
        with amp.scale_loss(loss, trainer) as scaled:
            mx.autograd.backward(scaled)
    before = net.weight.grad().asnumpy().tolist()
    amp.unscale(trainer)
    rec["unscale"] = {"x": x.asnumpy().tolist(), "before": before, "after": net.weight.grad().asnumpy().tolist(),
                      "scale": trainer._scale}
    return rec


def part_fix_gamma():
    """Where BatchNorm(fix_gamma=True) writes ones into gamma."""
    import mxnet as mx
    x = rng.uniform(-1, 1, (4, 3)).astype(np.float32)
    rec = {"x": x.tolist()}

    def gamma0():
        return mx.nd.array([2.0, 3.0, 4.0])
    sym = mx.sym.BatchNorm(mx.sym.var("data"), fix_gamma=True, name="bn")
    for req in ("null", "write"):
        for train in (False, True):
            ex = sym.simple_bind(mx.cpu(), grad_req=req, data=(4, 3))
            ex.arg_dict["data"][:] = x
            ex.arg_dict["bn_gamma"][:] = gamma0()
            ex.forward(is_train=train)
            ex.outputs[0].wait_to_read()
            key = "executor_%s_%s" % (req, "train" if train else "infer")
            rec[key] = ex.arg_dict["bn_gamma"].asnumpy().tolist()
            if train and req == "write":
                ex.backward(mx.nd.ones((4, 3)))
                rec[key + "_backward"] = ex.arg_dict["bn_gamma"].asnumpy().tolist()
    # a gradient of any argument is enough
    for wanted in ("data", "bn_gamma", "bn_beta"):
        req = {name: "write" if name == wanted else "null" for name in ("data", "bn_gamma", "bn_beta")}
        ex = sym.simple_bind(mx.cpu(), grad_req=req, data=(4, 3))
        ex.arg_dict["data"][:] = x
        ex.arg_dict["bn_gamma"][:] = gamma0()
        ex.forward(is_train=True)
        rec["executor_only_%s" % wanted] = ex.arg_dict["bn_gamma"].asnumpy().tolist()
    # imperative nd.BatchNorm
    for mode in ("plain", "record_train", "record_predict"):
        g = gamma0()
        args = [mx.nd.array(x), g, mx.nd.zeros(3), mx.nd.zeros(3), mx.nd.ones(3)]
        if mode == "plain":
            mx.nd.BatchNorm(*args, fix_gamma=True).wait_to_read()
        else:
            with mx.autograd.record(train_mode=(mode == "record_train")):
                mx.nd.BatchNorm(*args, fix_gamma=True).wait_to_read()
        rec["nd_" + mode] = g.asnumpy().tolist()
    # Gluon BatchNorm(scale=False) has fix_gamma=True
    for hybrid in (False, True):
        for mode in ("plain", "record_train", "record_backward"):
            net = mx.gluon.nn.BatchNorm(scale=False, in_channels=3)
            net.initialize()
            net.gamma.set_data(gamma0())
            if hybrid:
                net.hybridize()
            d = mx.nd.array(x)
            if mode == "plain":
                net(d).wait_to_read()
            else:
                with mx.autograd.record():
                    y = net(d)
                if mode == "record_backward":
                    y.backward()
                y.wait_to_read()
            rec["gluon_%s_%s" % ("hybrid" if hybrid else "imperative", mode)] = net.gamma.data().asnumpy().tolist()
    return rec


def part_monitor():
    """The names monitor callbacks get, in order, for a forward and backward pass."""
    import mxnet as mx
    from mxnet.base import py_str
    data = mx.sym.var("data")
    fc1 = mx.sym.FullyConnected(data, num_hidden=4, name="fc1")
    act = mx.sym.Activation(fc1, act_type="relu", name="relu1")
    fc2 = mx.sym.FullyConnected(act, num_hidden=3, name="fc2")
    net = mx.sym.SoftmaxOutput(fc2, name="sm")
    rec = {}
    for monitor_all in (False, True):
        names = []
        ex = net.simple_bind(mx.cpu(), data=(2, 5))
        ex.set_monitor_callback(lambda name, arr, names=names: names.append(py_str(name)), monitor_all)
        ex.forward(is_train=True)
        names.append("|forward done|")
        ex.backward()
        mx.nd.waitall()
        rec["executor_all" if monitor_all else "executor"] = names
    for monitor_all in (False, True):
        block = mx.gluon.nn.HybridSequential(prefix="net_")
        with block.name_scope():
            block.add(mx.gluon.nn.Dense(4, in_units=5, prefix="d1_"))
            block.add(mx.gluon.nn.Dense(3, in_units=4, prefix="d2_"))
        block.initialize()
        block.hybridize()
        names = []
        block.register_op_hook(lambda name, op, arr, names=names: names.append([py_str(name), py_str(op)]),
                               monitor_all)
        x = mx.nd.ones((2, 5))
        with mx.autograd.record():
            y = block(x)
        names.append("|forward done|")
        y.backward()
        mx.nd.waitall()
        rec["hook_all" if monitor_all else "hook"] = names
    return rec


def part_custom_state():
    """A CustomOp keeping state from forward to backward: one instance per imperative call and per bind."""
    import mxnet as mx
    created = []

    class Scale(mx.operator.CustomOp):
        def forward(self, is_train, req, in_data, out_data, aux):
            self.factor = float(in_data[0].asnumpy().sum())      # this call's state
            self.assign(out_data[0], req[0], in_data[0] * self.factor)

        def backward(self, req, out_grad, in_data, out_data, in_grad, aux):
            self.assign(in_grad[0], req[0], out_grad[0] * self.factor)

    @mx.operator.register("scale_by_sum")
    class ScaleProp(mx.operator.CustomOpProp):
        def list_arguments(self):
            return ["data"]

        def list_outputs(self):
            return ["output"]

        def infer_shape(self, in_shape):
            return in_shape, in_shape, []

        def create_operator(self, ctx, shapes, dtypes):
            created.append(1)
            return Scale()

    rec = {}
    a, b = mx.nd.array([1.0, 2.0]), mx.nd.array([3.0, 4.0])
    a.attach_grad()
    b.attach_grad()
    with mx.autograd.record():
        z = mx.nd.Custom(a, op_type="scale_by_sum") + mx.nd.Custom(b, op_type="scale_by_sum")
    z.backward()
    rec["two_inputs"] = {"a_grad": a.grad.asnumpy().tolist(), "b_grad": b.grad.asnumpy().tolist(),
                         "created": len(created)}
    x = mx.nd.array([1.0, 1.0])
    x.attach_grad()
    with mx.autograd.record():
        z = mx.nd.Custom(x, op_type="scale_by_sum") + mx.nd.Custom(x * 2, op_type="scale_by_sum")
    z.backward()
    rec["same_input"] = {"x_grad": x.grad.asnumpy().tolist(), "created": len(created)}
    mx.nd.Custom(a, op_type="scale_by_sum").wait_to_read()
    rec["plain_call_created"] = len(created)
    sym = mx.sym.Custom(mx.sym.var("d"), op_type="scale_by_sum")
    executors = [sym.simple_bind(mx.cpu(), d=(2,)) for _ in range(2)]
    for ex, value in zip(executors, ([1.0, 2.0], [3.0, 4.0])):
        ex.arg_dict["d"][:] = mx.nd.array(value)
    for ex in executors:
        ex.forward(is_train=True)
    for ex in executors:
        ex.backward(mx.nd.ones((2,)))
    rec["executors"] = {"grads": [ex.grad_dict["d"].asnumpy().tolist() for ex in executors],
                        "created": len(created)}
    return rec


def _child(part):
    out = subprocess.run([sys.executable, __file__, part], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


if __name__ == "__main__":
    if len(sys.argv) > 1:
        result = {"lists": part_lists, "convert": part_convert, "scaler": part_scaler,
                  "fix_gamma": part_fix_gamma, "monitor": part_monitor,
                  "custom_state": part_custom_state}.get(sys.argv[1])
        if sys.argv[1] == "imperative":
            rec, arrays = part_imperative()
            np.savez(os.path.join(OUT, "behaviour.npz"), **arrays)
            print(json.dumps(rec))
        else:
            print(json.dumps(result()))
        sys.exit(0)
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "lists.json"), "w") as f:
        json.dump(_child("lists"), f)
    behaviour = {"convert": _child("convert"), "imperative": _child("imperative"), "scaler": _child("scaler")}
    with open(os.path.join(OUT, "behaviour.json"), "w") as f:
        json.dump(behaviour, f)
    with open(os.path.join(OUT, "fix_gamma.json"), "w") as f:
        json.dump(_child("fix_gamma"), f, indent=1)
    with open(os.path.join(OUT, "monitor.json"), "w") as f:
        json.dump(_child("monitor"), f, indent=1)
    with open(os.path.join(OUT, "custom_state.json"), "w") as f:
        json.dump(_child("custom_state"), f, indent=1)
