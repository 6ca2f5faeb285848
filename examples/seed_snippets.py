#!/usr/bin/env python
"""The seed tutorial's snippets as one script, written against MXNet's API.

Real Apache MXNet 1.9.1 (CPU) printed `seed_snippets.mxnet-1.9.1.out` beside this file, and wrote the graphviz
sources in `seed_artifacts/`. Run it on dataflow by changing only the imports (`import dataflow as mx`,
`from dataflow import nd, sym`, `from dataflow.gluon import nn`) and compare the lines.

Every section starts with a line "=== [Sn] title ===" and every value line is
"[Sn] label: value", so the output diffs cleanly against another implementation.
Lines starting with "[Sn] TIMING" are wall-clock numbers and are expected to differ.
Artifacts (exported model, graphviz sources/renders, saved json) go to ./seed_artifacts/.
"""
import json
import os
import sys
import time

# Silence the timestamped "Subgraph backend MKLDNN is activated." log lines so output diffs cleanly.
os.environ.setdefault("MXNET_SUBGRAPH_VERBOSE", "0")

import numpy as np
import dataflow as mx
from dataflow import nd, sym
from dataflow.gluon import nn

np.set_printoptions(precision=6, suppress=True, linewidth=120)

HERE = os.path.dirname(os.path.abspath(__file__))
ART = os.path.join(HERE, "seed_artifacts")
os.makedirs(ART, exist_ok=True)
os.chdir(ART)


def sec(tag, title):
    print("\n=== [%s] %s ===" % (tag, title), flush=True)


def out(tag, label, value):
    if isinstance(value, (nd.NDArray,)):
        value = value.asnumpy()
    if isinstance(value, np.ndarray):
        s = "dtype=%s shape=%s\n%s" % (value.dtype, value.shape, np.array2string(value))
        print("[%s] %s: %s" % (tag, label, s), flush=True)
    else:
        print("[%s] %s: %s" % (tag, label, value), flush=True)


def render(dot, basename):
    """Save graphviz source (.gv) and try to render a png with the `dot` binary."""
    src_path = basename + ".gv"
    with open(src_path, "w") as fh:
        fh.write(dot.source)
    try:
        dot.format = "png"
        produced = dot.render(filename=basename + "_render", cleanup=True)
        return src_path, produced
    except Exception as e:  # pragma: no cover - depends on dot binary
        return src_path, "RENDER FAILED: %r" % (e,)


print("mxnet version:", mx.__version__)
print("numpy version:", np.__version__)
print("python:", sys.version.split()[0])
print("OMP_NUM_THREADS=%s OPENBLAS_CORETYPE=%s MXNET_ENGINE_TYPE=%s" % (
    os.environ.get("OMP_NUM_THREADS"), os.environ.get("OPENBLAS_CORETYPE"),
    os.environ.get("MXNET_ENGINE_TYPE")))

# ---------------------------------------------------------------------------
# S1: gluon HybridSequential MLP, hybridize benchmark, export, symbolic call
# ---------------------------------------------------------------------------
sec("S1", "gluon HybridSequential MLP: hybridize / export / symbol call")
mx.random.seed(42)


def get_net():
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Dense(256, activation="relu"),
                nn.Dense(128, activation="relu"),
                nn.Dense(2))
    net.initialize()
    return net


x = nd.random.uniform(shape=(1, 512))
net = get_net()
out("S1", "net prefix", net.prefix)
out("S1", "net repr", repr(net).replace("\n", " | "))
y_imp = net(x)
out("S1", "imperative net(x) (seeded init, mx.random.seed(42))", y_imp)
out("S1", "param names", sorted(net.collect_params().keys()))
out("S1", "param shapes", sorted((k, v.shape) for k, v in net.collect_params().items()))


def bench(net, x):
    start = time.time()
    for i in range(1000):
        y = net(x)
    nd.waitall()
    return time.time() - start


t_before = bench(net, x)
print("[S1] TIMING Before hybridizing: %.4f sec" % t_before)
net.hybridize()
t_after = bench(net, x)
print("[S1] TIMING After hybridizing: %.4f sec" % t_after)
y_hyb = net(x)
out("S1", "hybridized net(x)", y_hyb)
out("S1", "max |imperative - hybridized|", float(np.abs(y_imp.asnumpy() - y_hyb.asnumpy()).max()))

net.export("my_mlp")
files = sorted(f for f in os.listdir(".") if f.startswith("my_mlp"))
out("S1", "export files", files)
with open("my_mlp-symbol.json") as fh:
    js = json.load(fh)
out("S1", "export json top-level keys", sorted(js.keys()))
out("S1", "export json node (op, name) list", [(n["op"], n["name"]) for n in js["nodes"]])
out("S1", "export json node attrs (non-null ops)",
    [(n["name"], n.get("attrs", n.get("attr", n.get("param")))) for n in js["nodes"] if n["op"] != "null"])
out("S1", "export json arg_nodes", js["arg_nodes"])
out("S1", "export json heads", js["heads"])
out("S1", "export json attrs", js.get("attrs"))
params = nd.load("my_mlp-0000.params")
out("S1", "export params keys", sorted(params.keys()))
out("S1", "export params shapes", sorted((k, v.shape) for k, v in params.items()))

xs = sym.var("data")
ysym = net(xs)
print("[S1] print(net(sym.var('data'))): %s" % (ysym,))
out("S1", "net(x) symbol list_arguments", ysym.list_arguments())
out("S1", "net(x) symbol list_outputs", ysym.list_outputs())
out("S1", "net(x) symbol tojson nodes", [(n["op"], n["name"]) for n in json.loads(ysym.tojson())["nodes"]])

# Deterministic variant (not in the tutorial): weights from numpy RandomState(0)
# so that numeric outputs can be compared against another implementation.
net_d = get_net()
net_d(nd.zeros((1, 512)))  # finish deferred shape inference before set_data
rs = np.random.RandomState(0)
for k in sorted(net_d.collect_params().keys()):
    p = net_d.collect_params()[k]
    p.set_data(nd.array(rs.uniform(-0.1, 0.1, size=p.shape).astype(np.float32)))
xd = nd.array(rs.uniform(0, 1, size=(1, 512)).astype(np.float32))
yd1 = net_d(xd)
net_d.hybridize()
yd2 = net_d(xd)
out("S1", "DETERMINISTIC (params uniform(-0.1,0.1) from RandomState(0) in sorted-name order, then x=uniform(0,1,(1,512))) imperative", yd1)
out("S1", "DETERMINISTIC hybridized", yd2)

# ---------------------------------------------------------------------------
# S2: basic symbol ops + plot_network
# ---------------------------------------------------------------------------
sec("S2", "a+b, a*b, dot, reshape, broadcast_to; plot_network")
a = mx.sym.Variable("a")
b = mx.sym.Variable("b")
c = a + b
print("[S2] (a, b, c): %s" % ((a, b, c),))
d = a * b
e = mx.sym.dot(a, b)
f = mx.sym.reshape(d + e, shape=(1, 4))
g = mx.sym.broadcast_to(f, shape=(2, 4))
out("S2", "c name", c.name)
out("S2", "d,e,f,g names", [d.name, e.name, f.name, g.name])
out("S2", "g.list_arguments()", g.list_arguments())
out("S2", "g.list_outputs()", g.list_outputs())
out("S2", "g.get_internals().list_outputs()", g.get_internals().list_outputs())
dot = mx.viz.plot_network(symbol=g, node_attrs={"shape": "oval", "fixedsize": "false"})
out("S2", "plot_network returned type", type(dot).__module__ + "." + type(dot).__name__)
src_path, rendered = render(dot, "plot_g")
out("S2", "plot source file", os.path.join(ART, src_path))
out("S2", "rendered", rendered)
print("[S2] plot source:\n" + dot.source)
# numeric check of g with concrete 2x2 inputs
ga = nd.array([[1, 2], [3, 4]])
gb = nd.array([[5, 6], [7, 8]])
out("S2", "g.eval(a=[[1,2],[3,4]], b=[[5,6],[7,8]])", g.eval(ctx=mx.cpu(), a=ga, b=gb)[0])

# ---------------------------------------------------------------------------
# S3: fc1/relu/fc2/SoftmaxOutput MLP + plot with shape
# ---------------------------------------------------------------------------
sec("S3", "FullyConnected/Activation/FullyConnected/SoftmaxOutput; plot_network with shape")
net = mx.sym.Variable("data")
net = mx.sym.FullyConnected(data=net, name="fc1", num_hidden=128)
net = mx.sym.Activation(data=net, name="relu1", act_type="relu")
net = mx.sym.FullyConnected(data=net, name="fc2", num_hidden=10)
net = mx.sym.SoftmaxOutput(data=net, name="out")
mlp = net
out("S3", "list_arguments", net.list_arguments())
out("S3", "list_outputs", net.list_outputs())
out("S3", "list_auxiliary_states", net.list_auxiliary_states())
dot = mx.viz.plot_network(net, shape={"data": (100, 200)}, node_attrs={"shape": "oval", "fixedsize": "false"})
src_path, rendered = render(dot, "plot_mlp")
out("S3", "plot source file", os.path.join(ART, src_path))
out("S3", "rendered", rendered)
print("[S3] plot source:\n" + dot.source)
arg_shapes, out_shapes, aux_shapes = net.infer_shape(data=(100, 200))
out("S3", "infer_shape(data=(100,200)) args", list(zip(net.list_arguments(), arg_shapes)))
out("S3", "infer_shape outputs", out_shapes)

# ---------------------------------------------------------------------------
# S4: naming: custom weight, data1+data2, composition, Prefix
# ---------------------------------------------------------------------------
sec("S4", "naming / composition")
net = mx.symbol.Variable("data")
w = mx.symbol.Variable("myweight")
net = mx.symbol.FullyConnected(data=net, weight=w, name="fc1", num_hidden=128)
out("S4", "custom weight list_arguments", net.list_arguments())

lhs = mx.symbol.Variable("data1")
rhs = mx.symbol.Variable("data2")
net = mx.symbol.FullyConnected(data=lhs + rhs, name="fc1", num_hidden=128)
out("S4", "data1+data2 fc list_arguments", net.list_arguments())

data = mx.symbol.Variable("data")
net1 = mx.symbol.FullyConnected(data=data, name="fc1", num_hidden=10)
out("S4", "net1 list_arguments", net1.list_arguments())
net2 = mx.symbol.Variable("data2")
net2 = mx.symbol.FullyConnected(data=net2, name="fc2", num_hidden=10)
out("S4", "net2 list_arguments", net2.list_arguments())
composed = net2(data2=net1, name="composed")
out("S4", "composed list_arguments", composed.list_arguments())
out("S4", "composed list_outputs", composed.list_outputs())
out("S4", "composed name", composed.name)

data = mx.sym.Variable("data")
net = data
n_layer = 2
for i in range(n_layer):
    with mx.name.Prefix("layer%d_" % (i + 1)):
        net = mx.sym.FullyConnected(data=net, name="fc", num_hidden=100)
out("S4", "Prefix loop list_arguments", net.list_arguments())
out("S4", "Prefix loop list_outputs", net.list_outputs())

# ---------------------------------------------------------------------------
# S5: ConvFactory / InceptionFactoryA
# ---------------------------------------------------------------------------
sec("S5", "ConvFactory / InceptionFactoryA infer_shape")


def ConvFactory(data, num_filter, kernel, stride=(1, 1), pad=(0, 0), name=None, suffix=""):
    conv = mx.sym.Convolution(data=data, num_filter=num_filter, kernel=kernel,
                              stride=stride, pad=pad, name="conv_%s%s" % (name, suffix))
    bn = mx.sym.BatchNorm(data=conv, name="bn_%s%s" % (name, suffix))
    act = mx.sym.Activation(data=bn, act_type="relu", name="relu_%s%s" % (name, suffix))
    return act


prev = mx.sym.Variable(name="Previous Output")
conv_comp = ConvFactory(data=prev, num_filter=64, kernel=(7, 7), stride=(2, 2))
shape = {"Previous Output": (128, 3, 28, 28)}
a_s, o_s, x_s = conv_comp.infer_shape(**shape)
out("S5", "ConvFactory list_arguments", conv_comp.list_arguments())
out("S5", "ConvFactory list_auxiliary_states", conv_comp.list_auxiliary_states())
out("S5", "ConvFactory output shape", o_s)
out("S5", "ConvFactory arg shapes", list(zip(conv_comp.list_arguments(), a_s)))
out("S5", "ConvFactory aux shapes", list(zip(conv_comp.list_auxiliary_states(), x_s)))
dot = mx.viz.plot_network(symbol=conv_comp, shape=shape, node_attrs={"shape": "oval", "fixedsize": "false"})
src_path, rendered = render(dot, "plot_convfactory")
out("S5", "ConvFactory plot source file", os.path.join(ART, src_path))
out("S5", "rendered", rendered)
print("[S5] ConvFactory plot source:\n" + dot.source)


def InceptionFactoryA(data, num_1x1, num_3x3red, num_3x3, num_d3x3red, num_d3x3, pool, proj, name):
    # 1x1
    c1x1 = ConvFactory(data=data, num_filter=num_1x1, kernel=(1, 1), name=("%s_1x1" % name))
    # 3x3 reduce + 3x3
    c3x3r = ConvFactory(data=data, num_filter=num_3x3red, kernel=(1, 1), name=("%s_3x3" % name), suffix="_reduce")
    c3x3 = ConvFactory(data=c3x3r, num_filter=num_3x3, kernel=(3, 3), pad=(1, 1), name=("%s_3x3" % name))
    # double 3x3 reduce + double 3x3
    cd3x3r = ConvFactory(data=data, num_filter=num_d3x3red, kernel=(1, 1), name=("%s_double_3x3" % name), suffix="_reduce")
    cd3x3 = ConvFactory(data=cd3x3r, num_filter=num_d3x3, kernel=(3, 3), pad=(1, 1), name=("%s_double_3x3_0" % name))
    cd3x3 = ConvFactory(data=cd3x3, num_filter=num_d3x3, kernel=(3, 3), pad=(1, 1), name=("%s_double_3x3_1" % name))
    # pool + proj
    pooling = mx.sym.Pooling(data=data, kernel=(3, 3), stride=(1, 1), pad=(1, 1), pool_type=pool,
                             name=("%s_pool_%s_pool" % (pool, name)))
    cproj = ConvFactory(data=pooling, num_filter=proj, kernel=(1, 1), name=("%s_proj" % name))
    # concat
    concat = mx.sym.Concat(*[c1x1, c3x3, cd3x3, cproj], name="ch_concat_%s_chconcat" % name)
    return concat


prev = mx.sym.Variable(name="Previous Output")
in3a = InceptionFactoryA(prev, 64, 64, 64, 64, 96, "avg", 32, name="in3a")
a_s, o_s, x_s = in3a.infer_shape(**shape)
out("S5", "in3a output shape", o_s)
out("S5", "in3a list_outputs", in3a.list_outputs())
out("S5", "in3a num arguments", len(in3a.list_arguments()))
print("[S5] in3a arg shapes:")
for n_, s_ in zip(in3a.list_arguments(), a_s):
    print("[S5]   arg %s %s" % (n_, s_))
out("S5", "in3a list_auxiliary_states", in3a.list_auxiliary_states())
print("[S5] in3a aux shapes:")
for n_, s_ in zip(in3a.list_auxiliary_states(), x_s):
    print("[S5]   aux %s %s" % (n_, s_))
dot = mx.viz.plot_network(symbol=in3a, shape=shape, node_attrs={"shape": "oval", "fixedsize": "false"})
src_path, rendered = render(dot, "plot_in3a")
out("S5", "in3a plot source file", os.path.join(ART, src_path))
out("S5", "rendered", rendered)
print("[S5] in3a plot source:\n" + dot.source)
# infer_shape_partial with unknown input
a_p, o_p, x_p = in3a.infer_shape_partial()
out("S5", "in3a infer_shape_partial() (no shapes) output", o_p)

# ---------------------------------------------------------------------------
# S6: Group
# ---------------------------------------------------------------------------
sec("S6", "Group of SoftmaxOutput + LinearRegressionOutput")
net = mx.sym.Variable("data")
fc1 = mx.sym.FullyConnected(data=net, name="fc1", num_hidden=128)
net = mx.sym.Activation(data=fc1, name="relu1", act_type="relu")
out1 = mx.sym.SoftmaxOutput(data=net, name="softmax")
out2 = mx.sym.LinearRegressionOutput(data=net, name="regression")
group = mx.sym.Group([out1, out2])
out("S6", "group.list_outputs()", group.list_outputs())
out("S6", "group.list_arguments()", group.list_arguments())
out("S6", "len(group)", len(group))

# ---------------------------------------------------------------------------
# S7: infer_shape / infer_type / bind / eval
# ---------------------------------------------------------------------------
sec("S7", "c=a+b infer_shape/infer_type/bind/eval")
a = mx.sym.Variable("a")
b = mx.sym.Variable("b")
c = a + b
arg_name = c.list_arguments()
out_name = c.list_outputs()
arg_shape, out_shape, aux_shape = c.infer_shape(a=(2, 3), b=(2, 3))
arg_type, out_type, aux_type = c.infer_type(a="float32", b="float32")
out("S7", "shapes", {"input": dict(zip(arg_name, arg_shape)), "output": dict(zip(out_name, out_shape))})
out("S7", "aux shapes", aux_shape)
out("S7", "types", {"input": dict(zip(arg_name, [np.dtype(t).name for t in arg_type])),
                    "output": dict(zip(out_name, [np.dtype(t).name for t in out_type]))})
out("S7", "raw arg_type", arg_type)
ex = c.bind(ctx=mx.cpu(), args={"a": mx.nd.ones([2, 3]), "b": mx.nd.ones([2, 3])})
ex.forward()
print("[S7] bind: number of outputs = %d\n[S7] bind: the first output = \n%s" % (len(ex.outputs), ex.outputs[0].asnumpy()))
out("S7", "ex.arg_dict keys", sorted(ex.arg_dict.keys()))
out("S7", "ex.output_dict keys", sorted(ex.output_dict.keys()))
exl = c.eval(ctx=mx.cpu(), a=mx.nd.ones([2, 3]), b=mx.nd.ones([2, 3]))
print("[S7] eval: number of outputs = %d\n[S7] eval: the first output = \n%s" % (len(exl), exl[0].asnumpy()))
out("S7", "eval return type", type(exl).__name__)

# ---------------------------------------------------------------------------
# S8: simple_bind + forward/backward on the fc MLP
# ---------------------------------------------------------------------------
sec("S8", "simple_bind fc1/relu1/fc2/SoftmaxOutput data (100,200): forward(is_train=True) + backward")
ex = mlp.simple_bind(ctx=mx.cpu(), data=(100, 200))
out("S8", "arg_dict shapes", [(k, v.shape) for k, v in ex.arg_dict.items()])
out("S8", "grad_dict keys", list(ex.grad_dict.keys()))
out("S8", "grad_dict None entries", [k for k, v in ex.grad_dict.items() if v is None])
out("S8", "initial arg norms after simple_bind (allocated, not initialized)",
    [(k, float(v.norm().asscalar())) for k, v in ex.arg_dict.items()])
rs = np.random.RandomState(0)
vals = {
    "data": rs.uniform(-1, 1, size=(100, 200)).astype(np.float32),
    "fc1_weight": rs.normal(0, 0.1, size=(128, 200)).astype(np.float32),
    "fc1_bias": rs.normal(0, 0.1, size=(128,)).astype(np.float32),
    "fc2_weight": rs.normal(0, 0.1, size=(10, 128)).astype(np.float32),
    "fc2_bias": rs.normal(0, 0.1, size=(10,)).astype(np.float32),
    "out_label": rs.randint(0, 10, size=(100,)).astype(np.float32),
}
print("[S8] values: RandomState(0) in order data~U(-1,1), fc1_weight~N(0,.1), fc1_bias~N(0,.1), "
      "fc2_weight~N(0,.1), fc2_bias~N(0,.1), out_label~randint(0,10)")
for k, v in vals.items():
    ex.arg_dict[k][:] = v
ex.forward(is_train=True)
o = ex.outputs[0].asnumpy()
out("S8", "output shape", o.shape)
out("S8", "output sum", float(o.sum()))
out("S8", "output row sums (first 5)", o.sum(axis=1)[:5])
out("S8", "output[0]", o[0])
out("S8", "argmax first 10", o.argmax(axis=1)[:10])
ex.backward()
for k in mlp.list_arguments():
    gk = ex.grad_dict[k]
    print("[S8] grad norm %-12s = %.6f  (sum=%.6f)" % (k, float(gk.norm().asscalar()), float(gk.sum().asscalar())))
out("S8", "grad fc2_bias", ex.grad_dict["fc2_bias"])
# check: SoftmaxOutput grad wrt its input = softmax - onehot (normalization='null', grad_scale=1)
onehot = np.eye(10, dtype=np.float32)[vals["out_label"].astype(int)]
h = np.maximum(vals["data"] @ vals["fc1_weight"].T + vals["fc1_bias"], 0)
logits = h @ vals["fc2_weight"].T + vals["fc2_bias"]
p = np.exp(logits - logits.max(1, keepdims=True)); p /= p.sum(1, keepdims=True)
out("S8", "numpy check max|softmax - mx output|", float(np.abs(p - o).max()))
out("S8", "numpy check max|(p-onehot).sum(0) - grad fc2_bias|",
    float(np.abs((p - onehot).sum(0) - ex.grad_dict["fc2_bias"].asnumpy()).max()))

# ---------------------------------------------------------------------------
# S9: tojson / save / load
# ---------------------------------------------------------------------------
sec("S9", "tojson / save / load")
a = mx.sym.Variable("a")
b = mx.sym.Variable("b")
c = a + b
print("[S9] c.tojson():\n" + c.tojson())
c.save("symbol-c.json")
c2 = mx.sym.load("symbol-c.json")
out("S9", "c.tojson() == c2.tojson()", c.tojson() == c2.tojson())
with open("symbol-c.json") as fh:
    out("S9", "saved file == tojson()", fh.read() == c.tojson())
c3 = mx.sym.load_json(c.tojson())
out("S9", "load_json round-trip equal", c3.tojson() == c.tojson())
out("S9", "c2.list_arguments()", c2.list_arguments())
out("S9", "c2 name", c2.name)

# ---------------------------------------------------------------------------
# S10: Cast infer_type
# ---------------------------------------------------------------------------
sec("S10", "Cast infer_type")
a = mx.sym.Variable("data")
b = mx.sym.Cast(data=a, dtype="float16")
arg, outt, _ = b.infer_type(data="float32")
print("[S10] float16 cast:", {"input": arg, "output": outt})
c = mx.sym.Cast(data=a, dtype="uint8")
arg, outt, _ = c.infer_type(data="int32")
print("[S10] uint8 cast:", {"input": arg, "output": outt})

# ---------------------------------------------------------------------------
# S11: variable sharing
# ---------------------------------------------------------------------------
sec("S11", "variable sharing b = a + a*a")
a = mx.sym.Variable("a")
b = a + a * a
data = mx.nd.ones((2, 3)) * 2
ex = b.bind(ctx=mx.cpu(), args={"a": data, "b": data})
ex.forward()
out("S11", "b.list_arguments()", b.list_arguments())
out("S11", "ex.outputs[0]", ex.outputs[0])

print("\nALL SECTIONS DONE")
