"""Record MXNet 1.9.1's control flow ops (`_foreach`, `_while_loop`, `_cond`) for tests/test_control_flow.py.

Run with the oracle: `MXNET_MKLDNN_ENABLED=0 /work/mxvenv/bin/python reference/control_flow_fixtures.py`.
Per case it writes `<case>-symbol.json` (the graph, subgraphs included, as MXNet's tojson), and `<case>.npz` with
the inputs (`arg:<name>`), the forward outputs (`out:<i>`), the head gradients (`head:<i>`) and the gradients of the
arguments (`grad:<name>`) from one forward/backward of an executor bound with grad_req='write'. Then the cases with a
BatchNorm in the body (for tests/test_control_flow_aux.py; see the fixtures' README): inference forwards, and a
Gluon block's imperative training step and export. (`while_count.npz` rows 3-4 are MXNet's undefined padding: a
rerun changes them; the tests compare rows 0-2.)
"""
import json
import os

import numpy as np

os.environ.setdefault("MXNET_MKLDNN_ENABLED", "0")
import mxnet as mx  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "mxnet-1.9.1", "control_flow")


def foreach_rnn():
    """A tanh RNN step over a sequence, with an outer weight used inside the body (cut into the subgraph)."""
    data = mx.sym.var("data")
    h0 = mx.sym.var("h0")
    w = mx.sym.var("w")
    b = mx.sym.var("b")

    def step(x, states):
        h = mx.sym.tanh(mx.sym.dot(x, w) + mx.sym.broadcast_add(states[0], b))
        return h * 2, [h]
    outs, states = mx.sym.contrib.foreach(step, data, [h0])
    return mx.sym.Group([outs, states[0]]), dict(data=(4, 2, 3), h0=(2, 3), w=(3, 3), b=(1, 3))


def foreach_two_data():
    """Two data arrays, two states, two outputs; an outer op's result (`scale`) used inside the body."""
    x = mx.sym.var("x")
    y = mx.sym.var("y")
    s1 = mx.sym.var("s1")
    s2 = mx.sym.var("s2")
    scale = mx.sym.sigmoid(mx.sym.var("p"))

    def step(data, states):
        a, c = data
        n1 = states[0] * a + c
        n2 = states[1] + mx.sym.broadcast_mul(a, scale)
        return [n1 + n2, n1 * n2], [n1, n2]
    outs, states = mx.sym.contrib.foreach(step, [x, y], [s1, s2])
    return mx.sym.Group(outs + states), dict(x=(3, 2, 2), y=(3, 2, 2), s1=(2, 2), s2=(2, 2), p=(1, 2))


def while_count():
    """Sum while a counter is below a limit: outputs padded to max_iterations."""
    i = mx.sym.var("i")
    s = mx.sym.var("s")
    w = mx.sym.var("w")

    def cond(i, s):
        return mx.sym.sum(i) < 3

    def func(i, s):
        new_s = mx.sym.broadcast_add(s * w, i)
        return [new_s * 2], [i + 1, new_s]
    outs, states = mx.sym.contrib.while_loop(cond, func, [i, s], max_iterations=5)
    return mx.sym.Group(outs + states), dict(i=(1,), s=(2, 3), w=(2, 3))


def cond_branch():
    """if sum(a) > 0: a * b else: a - b."""
    a = mx.sym.var("a")
    b = mx.sym.var("b")
    out = mx.sym.contrib.cond(mx.sym.sum(a) > 0, lambda: a * b + 1, lambda: mx.sym.tanh(a - b))
    return mx.sym.Group(out if isinstance(out, list) else [out]), dict(a=(2, 3), b=(2, 3))


def foreach_nested():
    """A foreach inside a foreach's body: the inner node and its subgraph live in the outer subgraph."""
    x = mx.sym.var("x")
    h = mx.sym.var("h")
    w = mx.sym.var("w")

    def outer(xt, states):
        def inner(xtt, st):
            n = mx.sym.tanh(xtt * w + st[0])
            return n, [n]
        o, s = mx.sym.contrib.foreach(inner, xt, [states[0]])
        return o, [s[0] * 0.5]
    outs, states = mx.sym.contrib.foreach(outer, x, [h])
    return mx.sym.Group([outs, states[0]]), dict(x=(3, 4, 2), h=(2,), w=(2,))


class _GluonRNN(mx.gluon.HybridBlock):
    """A tanh RNN over `foreach` with a Dense inside the body, then a `cond` on the last state."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.dense = mx.gluon.nn.Dense(3, in_units=5, flatten=False)     # MXNet cannot defer it here

    def hybrid_forward(self, F, x, h):
        def step(xt, states):
            hn = F.tanh(self.dense(xt) + states[0])
            return hn, [hn]
        outs, states = F.contrib.foreach(step, x, [h])
        last = F.contrib.cond(F.sum(states[0]) > 0, lambda: states[0] * 2, lambda: states[0] - 1)
        return outs, last


def record_gluon(rng):
    """MXNet's export of a hybridized block holding foreach and cond, with its inputs and outputs."""
    net = _GluonRNN(prefix="rnn_")
    net.initialize(mx.init.Uniform(0.5))
    x = rng.uniform(-1, 1, size=(4, 2, 5)).astype(np.float32)
    h = rng.uniform(-1, 1, size=(2, 3)).astype(np.float32)
    net.hybridize()
    outs = net(mx.nd.array(x), mx.nd.array(h))
    net.export(os.path.join(OUT, "gluon_rnn"))
    np.savez(os.path.join(OUT, "gluon_rnn.npz"), x=x, h=h, out0=outs[0].asnumpy(), out1=outs[1].asnumpy())


# ---------------------------------------------------------------------------------------------------------------
# BatchNorm (aux states) inside loop bodies. MXNet 1.9.1 lists the moving stats as *arguments* of the control flow
# node (not auxiliary states), and cannot bind or differentiate such a graph with gradients ("Check failed:
# outputs.size() == num_forward_outputs + out_attrs->size()"): the symbolic cases record inference forwards only.
# ---------------------------------------------------------------------------------------------------------------

def foreach_bn():
    """BatchNorm on each step's slice, added to the state."""
    data = mx.sym.var("data")
    h0 = mx.sym.var("h0")

    def step(x, states):
        y = mx.sym.BatchNorm(x, name="bn", fix_gamma=False, momentum=0.5) + states[0]
        return y, [y]
    outs, states = mx.sym.contrib.foreach(step, data, [h0])
    return mx.sym.Group([outs, states[0]]), dict(data=(3, 3, 4), h0=(3, 4))


def while_bn():
    """A while loop whose func applies BatchNorm to a loop variable."""
    i = mx.sym.var("i")
    s = mx.sym.var("s")

    def func(i, s):
        new_s = mx.sym.BatchNorm(s, name="bn", fix_gamma=False) * 0.5
        return [new_s], [i + 1, new_s]
    outs, states = mx.sym.contrib.while_loop(lambda i, s: mx.sym.sum(i) < 2, func, [i, s], max_iterations=3)
    return mx.sym.Group(outs + states), dict(i=(1,), s=(3, 4))


def cond_bn():
    """cond(sum(a) > 0, BatchNorm(a) * b, a - b)."""
    a = mx.sym.var("a")
    b = mx.sym.var("b")
    out = mx.sym.contrib.cond(mx.sym.sum(a) > 0, lambda: mx.sym.BatchNorm(a, name="bn") * b, lambda: a - b)
    return mx.sym.Group(out if isinstance(out, list) else [out]), dict(a=(3, 4), b=(3, 4))


def record_inference(name, builder, rng, inputs=None):
    """An executor without gradients, one `forward(is_train=False)`: the outputs, and the moving stats after."""
    sym, shapes = builder()
    arrays = {k: rng.uniform(-1, 1, size=v).astype(np.float32) for k, v in shapes.items()}
    arrays.update(inputs or {})
    channels = shapes.get("data", shapes.get("s", shapes.get("a")))[-1]
    for k in sym.list_arguments():
        if k not in arrays:         # gamma, beta, moving stats: one per channel (moving_var and gamma positive)
            low = 0.5 if k.endswith("_var") or k.endswith("_gamma") else -1
            arrays[k] = rng.uniform(low, low + 1, size=(channels,)).astype(np.float32)
    args = {k: mx.nd.array(v) for k, v in arrays.items()}
    ex = sym.bind(mx.cpu(), args, grad_req="null")
    outs = ex.forward(is_train=False)
    blobs = {"arg:" + k: v for k, v in arrays.items()}
    blobs.update({"out:%d" % i: o.asnumpy() for i, o in enumerate(outs)})
    blobs.update({"after:" + k: a.asnumpy() for k, a in args.items()})
    np.savez(os.path.join(OUT, name + ".npz"), **blobs)
    with open(os.path.join(OUT, name + "-symbol.json"), "w") as fh:
        fh.write(sym.tojson())
    try:        # what MXNet 1.9.1 does when asked for gradients: the message goes to the README
        grads = {k: mx.nd.zeros(v.shape) for k, v in arrays.items()}
        sym.bind(mx.cpu(), args, args_grad=grads).forward(is_train=True)
        error = None
    except mx.base.MXNetError as err:
        error = str(err).split("\n")[0]
    return dict(arguments=sym.list_arguments(), auxiliary_states=sym.list_auxiliary_states(),
                outputs=sym.list_outputs(), shapes=[list(o.shape) for o in outs], bind_with_gradients_error=error)


class _GluonBN(mx.gluon.HybridBlock):
    """foreach over BatchNorm -> Dense -> tanh, then a cond and a while loop applying a second BatchNorm."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.bn = mx.gluon.nn.BatchNorm(in_channels=4, momentum=0.5)
            self.dense = mx.gluon.nn.Dense(4, in_units=4, flatten=False)
            self.bn2 = mx.gluon.nn.BatchNorm(in_channels=4, momentum=0.8, center=False)

    def hybrid_forward(self, F, x, h):
        def step(xt, states):
            y = F.tanh(self.dense(self.bn(xt))) + states[0]
            return y, [y]
        outs, states = F.contrib.foreach(step, x, [h])
        last = F.contrib.cond(F.sum(states[0]) > 0, lambda: self.bn2(states[0]), lambda: states[0] * 2)
        _, (_, s) = F.contrib.while_loop(lambda i, s: F.sum(i) < 2, lambda i, s: ([s], [i + 1, self.bn2(s) * 0.5]),
                                         [F.zeros((1,)), last], max_iterations=3)
        return outs, s


def record_gluon_bn(rng):
    """The block run imperatively (MXNet cannot differentiate it hybridized): one recorded forward and backward
    with given head gradients, then an inference call; then hybridized, called and exported."""
    from mxnet import autograd
    net = _GluonBN(prefix="bnnet_")
    net.initialize(mx.init.Uniform(0.5))
    params = net.collect_params()
    for name, p in params.items():
        low = 0.5 if name.endswith("_var") or name.endswith("_gamma") else -1
        p.set_data(mx.nd.array(rng.uniform(low, low + 1, size=p.shape).astype(np.float32)))
    blobs = {"param:" + k: p.data().asnumpy() for k, p in params.items()}
    x = rng.uniform(-1, 1, size=(3, 3, 4)).astype(np.float32)
    h = rng.uniform(-1, 1, size=(3, 4)).astype(np.float32)
    X = mx.nd.array(x)
    X.attach_grad()
    with autograd.record():
        outs = net(X, mx.nd.array(h))
    heads = [rng.uniform(-1, 1, size=o.shape).astype(np.float32) for o in outs]
    autograd.backward(list(outs), [mx.nd.array(v) for v in heads])
    blobs.update(x=x, h=h, **{"out:%d" % i: o.asnumpy() for i, o in enumerate(outs)})
    blobs.update({"head:%d" % i: v for i, v in enumerate(heads)})
    blobs["grad:x"] = X.grad.asnumpy()
    blobs.update({"grad:" + k: p.grad().asnumpy() for k, p in params.items() if p.grad_req != "null"})
    blobs.update({"after:" + k: p.data().asnumpy() for k, p in params.items()})
    inference = net(X, mx.nd.array(h))
    blobs.update({"inference:%d" % i: o.asnumpy() for i, o in enumerate(inference)})
    net.hybridize()
    hybrid = net(X, mx.nd.array(h))
    assert all(np.array_equal(a.asnumpy(), b.asnumpy()) for a, b in zip(hybrid, inference))
    net.export(os.path.join(OUT, "gluon_bn"))
    np.savez(os.path.join(OUT, "gluon_bn.npz"), **blobs)


def record(name, builder, rng, inputs=None):
    sym, shapes = builder()
    arrays = {k: rng.uniform(-1, 1, size=v).astype(np.float32) for k, v in shapes.items()}
    arrays.update(inputs or {})
    args = {k: mx.nd.array(v) for k, v in arrays.items()}
    grads = {k: mx.nd.zeros(v.shape) for k, v in arrays.items()}
    ex = sym.bind(mx.cpu(), args, args_grad=grads, grad_req="write")
    outs = ex.forward(is_train=True)
    heads = [rng.uniform(-1, 1, size=o.shape).astype(np.float32) for o in outs]
    ex.backward([mx.nd.array(h) for h in heads])
    blobs = {"arg:" + k: v for k, v in arrays.items()}
    blobs.update({"out:%d" % i: o.asnumpy() for i, o in enumerate(outs)})
    blobs.update({"head:%d" % i: h for i, h in enumerate(heads)})
    blobs.update({"grad:" + k: g.asnumpy() for k, g in grads.items()})
    np.savez(os.path.join(OUT, name + ".npz"), **blobs)
    with open(os.path.join(OUT, name + "-symbol.json"), "w") as fh:
        fh.write(sym.tojson())
    info = dict(arguments=sym.list_arguments(), outputs=sym.list_outputs(),
                shapes=[list(o.shape) for o in outs])
    return info


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.RandomState(16)
    infos = {}
    infos["foreach_rnn"] = record("foreach_rnn", foreach_rnn, rng)
    infos["foreach_two_data"] = record("foreach_two_data", foreach_two_data, rng)
    infos["while_count"] = record("while_count", while_count, rng, {"i": np.array([0], np.float32)})
    infos["cond_then"] = record("cond_then", cond_branch, rng, {"a": np.full((2, 3), 0.5, np.float32)})
    infos["cond_else"] = record("cond_else", cond_branch, rng, {"a": np.full((2, 3), -0.5, np.float32)})
    infos["foreach_nested"] = record("foreach_nested", foreach_nested, rng)
    record_gluon(rng)
    with open(os.path.join(OUT, "cases.json"), "w") as fh:
        json.dump(infos, fh, indent=1, sort_keys=True)
    aux_rng = np.random.RandomState(161)       # a stream of their own: the cases above stay as recorded
    aux_cases = {}
    aux_cases["foreach_bn"] = record_inference("foreach_bn", foreach_bn, aux_rng)
    aux_cases["while_bn"] = record_inference("while_bn", while_bn, aux_rng, {"i": np.array([0], np.float32)})
    aux_cases["cond_bn"] = record_inference("cond_bn", cond_bn, aux_rng, {"a": np.full((3, 4), 0.5, np.float32)
                                                                          + aux_rng.uniform(-0.4, 0.4, (3, 4))})
    record_gluon_bn(aux_rng)
    with open(os.path.join(OUT, "aux_cases.json"), "w") as fh:
        json.dump(aux_cases, fh, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
