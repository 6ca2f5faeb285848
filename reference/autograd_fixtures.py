"""Record MXNet 1.9.1's autograd behaviour for tests/test_autograd_grad.py (run with the oracle's python).

    MXNET_MKLDNN_ENABLED=0 /work/mxvenv/bin/python reference/autograd_fixtures.py

Writes tests/fixtures/mxnet-1.9.1/autograd/{higher_order.npz, behaviour.json}; see the README there.
"""
import json
import os

import numpy as np

from mxnet import autograd, nd

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "mxnet-1.9.1", "autograd")
rng = np.random.RandomState(20261206)

# op name -> input sampler inside the op's domain
UNARY = {
    "sin": lambda s: rng.uniform(-3, 3, s), "cos": lambda s: rng.uniform(-3, 3, s),
    "tan": lambda s: rng.uniform(-1.2, 1.2, s), "sinh": lambda s: rng.uniform(-2, 2, s),
    "cosh": lambda s: rng.uniform(-2, 2, s), "tanh": lambda s: rng.uniform(-2, 2, s),
    "log": lambda s: rng.uniform(0.2, 3, s), "log2": lambda s: rng.uniform(0.2, 3, s),
    "log10": lambda s: rng.uniform(0.2, 3, s), "log1p": lambda s: rng.uniform(-0.5, 3, s),
    "exp": lambda s: rng.uniform(-2, 2, s), "expm1": lambda s: rng.uniform(-2, 2, s),
    "sigmoid": lambda s: rng.uniform(-3, 3, s), "relu": lambda s: rng.uniform(-3, 3, s),
    "abs": lambda s: rng.uniform(-3, 3, s), "sqrt": lambda s: rng.uniform(0.5, 4, s),
    "cbrt": lambda s: rng.uniform(0.5, 4, s), "rsqrt": lambda s: rng.uniform(0.5, 4, s),
    "rcbrt": lambda s: rng.uniform(0.5, 4, s), "reciprocal": lambda s: rng.uniform(0.5, 3, s),
    "arcsin": lambda s: rng.uniform(-0.9, 0.9, s), "arccos": lambda s: rng.uniform(-0.9, 0.9, s),
    "arctan": lambda s: rng.uniform(-3, 3, s), "arcsinh": lambda s: rng.uniform(-3, 3, s),
    "arccosh": lambda s: rng.uniform(1.2, 4, s), "arctanh": lambda s: rng.uniform(-0.9, 0.9, s),
    "square": lambda s: rng.uniform(-3, 3, s), "radians": lambda s: rng.uniform(-3, 3, s),
    "degrees": lambda s: rng.uniform(-3, 3, s), "negative": lambda s: rng.uniform(-3, 3, s),
}


def run(fn):
    """fn's result, or the first line of the error it raised."""
    try:
        return fn()
    except Exception as err:  # noqa: BLE001 - we record what MXNet says
        lines = [ln.strip() for ln in str(err).strip().splitlines() if ln.strip()]
        checks = [ln for ln in lines if "Check failed" in ln or "Error" in ln[:40]]
        return "ERROR %s: %s" % (type(err).__name__, (checks or lines)[-1])


def second_order(op, x, hg, hgg):
    x = nd.array(x, dtype="float64")
    x.attach_grad()
    with autograd.record():
        y = getattr(nd, op)(x)
        dx = autograd.grad(y, x, head_grads=nd.array(hg, dtype="float64"), create_graph=True,
                           retain_graph=True)[0]
    dx.backward(nd.array(hgg, dtype="float64"))
    return dx.asnumpy(), x.grad.asnumpy()


def record_higher_order(arrays, behaviour):
    shape = (3, 4)
    for op, sample in UNARY.items():
        x, hg, hgg = sample(shape), rng.normal(size=shape), rng.normal(size=shape)
        result = run(lambda op=op, x=x, hg=hg, hgg=hgg: second_order(op, x, hg, hgg))
        if isinstance(result, str):
            behaviour["second_order_" + op] = result
            continue
        arrays[op + "/x"], arrays[op + "/hg"], arrays[op + "/hgg"] = x, hg, hgg
        arrays[op + "/dx"], arrays[op + "/ddx"] = result
    # third order of sin and sigmoid through nested grad calls
    for op in ("sin", "sigmoid", "log"):
        x = nd.array(rng.uniform(0.3, 2, shape), dtype="float64")
        x.attach_grad()
        heads = [rng.normal(size=shape) for _ in range(3)]
        with autograd.record():
            y = getattr(nd, op)(x)
            for h in heads:
                y = autograd.grad(y, x, head_grads=nd.array(h, dtype="float64"), create_graph=True,
                                  retain_graph=True)[0]
        arrays["third/%s/x" % op] = x.asnumpy()
        for k, h in enumerate(heads):
            arrays["third/%s/h%d" % (op, k)] = h
        arrays["third/%s/d3x" % op] = y.asnumpy()
    # binary: elemwise_mul, power (x > 0), broadcast_mul
    for op, xs, ys in (("elemwise_mul", (3, 4), (3, 4)), ("power", (3, 4), (3, 4)),
                       ("broadcast_mul", (3, 4), (1, 4)), ("elemwise_div", (3, 4), (3, 4))):
        a = nd.array(rng.uniform(0.5, 2, xs), dtype="float64")
        b = nd.array(rng.uniform(0.5, 2, ys), dtype="float64")
        a.attach_grad()
        b.attach_grad()
        hg = rng.normal(size=xs)
        hgg = rng.normal(size=xs)

        def go(op=op, a=a, b=b, hg=hg, hgg=hgg):
            with autograd.record():
                z = getattr(nd, op)(a, b)
                da, db = autograd.grad(z, [a, b], head_grads=nd.array(hg, dtype="float64"), create_graph=True,
                                       retain_graph=True)
                total = (da * nd.array(hgg, dtype="float64")).sum() + db.sum()
            total.backward()
            return da.asnumpy(), db.asnumpy(), a.grad.asnumpy(), b.grad.asnumpy()
        result = run(go)
        if isinstance(result, str):
            behaviour["binary_" + op] = result
            continue
        arrays["bin/%s/a" % op], arrays["bin/%s/b" % op] = a.asnumpy(), b.asnumpy()
        arrays["bin/%s/hg" % op], arrays["bin/%s/hgg" % op] = hg, hgg
        (arrays["bin/%s/da" % op], arrays["bin/%s/db" % op],
         arrays["bin/%s/dda" % op], arrays["bin/%s/ddb" % op]) = result
    # Activation (Gluon's activations): second order like the unary ops
    for act in ("relu", "sigmoid", "tanh", "softrelu", "softsign"):
        x, hg, hgg = rng.uniform(-2, 2, shape), rng.normal(size=shape), rng.normal(size=shape)

        def activation(x=x, hg=hg, hgg=hgg, act=act):
            x = nd.array(x, dtype="float64")
            x.attach_grad()
            with autograd.record():
                y = nd.Activation(x, act_type=act)
                dx = autograd.grad(y, x, head_grads=nd.array(hg, dtype="float64"), create_graph=True,
                                   retain_graph=True)[0]
            dx.backward(nd.array(hgg, dtype="float64"))
            return dx.asnumpy(), x.grad.asnumpy()
        result = run(activation)
        if isinstance(result, str):
            behaviour["activation_" + act] = result
            continue
        key = "act/" + act
        arrays[key + "/x"], arrays[key + "/hg"], arrays[key + "/hgg"] = x, hg, hgg
        arrays[key + "/dx"], arrays[key + "/ddx"] = result
    # FullyConnected: second order through the data gradient
    x = nd.array(rng.normal(size=(2, 3)))
    w = nd.array(rng.normal(size=(4, 3)))
    b = nd.array(rng.normal(size=(4,)))
    for v in (x, w, b):
        v.attach_grad()
    oy, ox = rng.normal(size=(2, 4)), rng.normal(size=(2, 3))

    def fc():
        with autograd.record():
            y = nd.FullyConnected(x, w, b, num_hidden=4)
            gx = autograd.grad(y, x, head_grads=nd.array(oy), create_graph=True, retain_graph=True)[0]
            gw = autograd.grad(gx, w, head_grads=nd.array(ox), create_graph=False)[0]
        return gx.asnumpy(), gw.asnumpy()
    result = run(fc)
    if isinstance(result, str):
        behaviour["fully_connected"] = result
    else:
        arrays["fc/x"], arrays["fc/w"], arrays["fc/b"] = x.asnumpy(), w.asnumpy(), b.asnumpy()
        arrays["fc/oy"], arrays["fc/ox"] = oy, ox
        arrays["fc/gx"], arrays["fc/gw"] = result


def record_behaviour(behaviour):
    b = behaviour
    b["initial"] = [autograd.is_recording(), autograd.is_training()]
    b["set_recording_true"] = autograd.set_recording(True)
    b["set_recording_true_again"] = autograd.set_recording(True)
    b["set_recording_false"] = autograd.set_recording(False)
    b["set_training_true"] = autograd.set_training(True)
    b["set_training_false"] = autograd.set_training(False)
    with autograd.record():
        inside = [autograd.is_recording(), autograd.is_training()]
        with autograd.pause():
            paused = [autograd.is_recording(), autograd.is_training()]
            with autograd.train_mode():
                paused_train = [autograd.is_recording(), autograd.is_training()]
        with autograd.predict_mode():
            predict = [autograd.is_recording(), autograd.is_training()]
        prev = autograd.set_recording(False)
        after_set = [autograd.is_recording(), prev]
    b["nesting"] = dict(record=inside, pause=paused, pause_train=paused_train, predict=predict,
                        set_inside=after_set, after=[autograd.is_recording(), autograd.is_training()])
    with autograd.record(train_mode=False):
        b["record_predict"] = [autograd.is_recording(), autograd.is_training()]

    x = nd.array([1.0, 2.0])
    x.attach_grad()
    with autograd.record():
        y = (x * x).sum()
    y.backward()
    b["second_backward"] = run(lambda: y.backward())

    with autograd.record():
        y = nd.exp(x)
    g = autograd.grad(y, x)
    b["grad_write_leaves_dot_grad"] = x.grad.asnumpy().tolist()
    b["grad_returns"] = type(g).__name__
    b["grad_single_var_value"] = g[0].asnumpy().tolist()
    b["grad_then_backward"] = run(lambda: y.backward())

    u = nd.array([1.0, 2.0])
    with autograd.record():
        y = u * 2
    b["grad_unmarked"] = run(lambda: autograd.grad(y, [u]))
    v = nd.array([3.0])
    v.attach_grad()
    with autograd.record():
        y = x * 2
    b["grad_unreachable"] = run(lambda: [a.asnumpy().tolist() for a in autograd.grad(y, [x, v])])
    with autograd.record():
        z = x * 2
        w = z * z
    b["grad_wrt_intermediate"] = run(lambda: [a.asnumpy().tolist() for a in autograd.grad(w, [z])])
    b["backward_not_recorded"] = run(lambda: nd.array([1.0]).backward())

    x = nd.array([1.0, 2.0, 3.0])
    x.attach_grad()
    with autograd.record():
        y = nd.sin(x)
        g = autograd.grad(y, [x], head_grads=nd.array([1.0, 2.0, 3.0]), retain_graph=True)[0]
    b["grad_head_grads"] = g.asnumpy().tolist()
    b["grad_retained_then_backward"] = run(lambda: (y.backward(), x.grad.asnumpy().tolist())[1])

    # mark_variables
    x, gx = nd.array([1.0, 2.0]), nd.array([10.0, 10.0])
    autograd.mark_variables(x, gx, grad_reqs="add")
    with autograd.record():
        y = x * 3
    y.backward()
    b["mark_variables_add"] = gx.asnumpy().tolist()
    b["mark_variables_grad_is_same"] = x.grad is not None and bool((x.grad.asnumpy() == gx.asnumpy()).all())

    # Function
    class Sigmoid(autograd.Function):
        def forward(self, x):
            y = 1 / (1 + nd.exp(-x))
            self.save_for_backward(y)
            return y

        def backward(self, dy):
            y, = self.saved_tensors
            return dy * y * (1 - y)

    class WrongCount(autograd.Function):
        def forward(self, a, c):
            return a * c

        def backward(self, dy):
            return dy

    x = nd.array([0.5, -1.0, 2.0])
    x.attach_grad()
    with autograd.record():
        y = Sigmoid()(x)
    y.backward()
    b["function_sigmoid_grad"] = x.grad.asnumpy().tolist()
    f = Sigmoid()
    f(x)
    b["function_called_twice"] = run(lambda: f(x))
    a, c = nd.array([1.0]), nd.array([2.0])
    a.attach_grad()
    c.attach_grad()
    with autograd.record():
        y = WrongCount()(a, c)
    b["function_wrong_count"] = run(lambda: (y.backward(), a.grad.asnumpy())[1].tolist())

    # get_symbol
    x = nd.array([1.0, 2.0])
    x.attach_grad()
    with autograd.record():
        y = nd.exp(x * 2 + 1)
    sym = autograd.get_symbol(y)
    b["get_symbol_arguments"] = sym.list_arguments()
    b["get_symbol_outputs"] = sym.list_outputs()
    b["get_symbol_json"] = json.loads(sym.tojson())
    b["get_symbol_of_variable"] = run(lambda: autograd.get_symbol(x).list_outputs())


def main():
    os.makedirs(OUT, exist_ok=True)
    arrays, behaviour = {}, {}
    record_behaviour(behaviour)
    record_higher_order(arrays, behaviour)
    np.savez_compressed(os.path.join(OUT, "higher_order.npz"), **arrays)
    with open(os.path.join(OUT, "behaviour.json"), "w") as f:
        json.dump(behaviour, f, indent=1, sort_keys=True, default=bool)
        f.write("\n")


if __name__ == "__main__":
    main()
