"""The workload graphs, written once against MXNet's API and built on whichever `mx` is passed in.

bench/ours.py passes `dataflow`, bench/peers/mxnet_runner.py passes real `mxnet`: the same code builds the same
graph (names included) on both. Nothing here imports either.
"""
from bench import spec


def mlp_net(mx):
    """The seed's S1 MLP: HybridSequential of Dense(256, relu), Dense(128, relu), Dense(2), initialized."""
    nn = mx.gluon.nn
    net = nn.HybridSequential()
    with net.name_scope():
        h1, h2, out = spec.MLP_HIDDEN
        net.add(nn.Dense(h1, activation="relu"), nn.Dense(h2, activation="relu"), nn.Dense(out))
    net.initialize()
    return net


def fcnet(mx):
    """The seed's S3 fc net: fc1(128) -> relu1 -> fc2(10) -> SoftmaxOutput 'out'."""
    h1, h2 = spec.FCNET_HIDDEN
    net = mx.sym.Variable("data")
    net = mx.sym.FullyConnected(data=net, name="fc1", num_hidden=h1)
    net = mx.sym.Activation(data=net, name="relu1", act_type="relu")
    net = mx.sym.FullyConnected(data=net, name="fc2", num_hidden=h2)
    return mx.sym.SoftmaxOutput(data=net, name="out")


def lstm_net(mx, hidden):
    """The lstm workload's network: gluon.rnn.LSTM of spec.LSTM_LAYERS layers, TNC, input size = hidden,
    initialized and hybridized."""
    mx.random.seed(42)
    net = mx.gluon.rnn.LSTM(hidden, num_layers=spec.LSTM_LAYERS, layout="TNC", input_size=hidden)
    net.initialize(mx.init.Uniform(0.1))
    net.hybridize()
    return net


def lstm_variants(mx, p, sync):
    """{"forward": factory, "fwd+bwd": factory} of Cases running lstm_net (the same code on dataflow and MXNet):
    inference forward, and a recorded forward with backward (head gradient ones)."""
    from bench.protocol import Case
    import numpy as np
    x = mx.nd.array(np.random.RandomState(0).uniform(-1, 1, (p["seq"], p["batch"], p["hidden"])).astype(np.float32))

    def forward():
        net = lstm_net(mx, p["hidden"])
        return Case(lambda: net(x), p["calls"], sync)

    def train():
        net = lstm_net(mx, p["hidden"])

        def step():
            with mx.autograd.record():
                y = net(x)
            y.backward()
            return y
        return Case(step, p["calls"], sync)
    return {"forward": forward, "fwd+bwd": train}


def elemwise_chain(F, x):
    """spec.ELEMWISE_CHAIN applied with F = mx.sym or mx.nd (operators for the arithmetic, F.op for the rest)."""
    y = x
    for op, arg in spec.ELEMWISE_CHAIN:
        if op == "mul_scalar":
            y = y * arg
        elif op == "add_scalar":
            y = y + arg
        elif op == "sub_scalar":
            y = y - arg
        elif op == "mul_input":
            y = y * x
        else:
            y = getattr(F, op)(y)
    return y


def _conv_factory(mx, data, num_filter, kernel, stride=(1, 1), pad=(0, 0), name=None, suffix=""):
    conv = mx.sym.Convolution(data=data, num_filter=num_filter, kernel=kernel, stride=stride, pad=pad,
                              name="conv_%s%s" % (name, suffix))
    bn = mx.sym.BatchNorm(data=conv, name="bn_%s%s" % (name, suffix))
    return mx.sym.Activation(data=bn, act_type="relu", name="relu_%s%s" % (name, suffix))


def inception_a(mx, name="in3a"):
    """The seed's S5 InceptionFactoryA(data, 64, 64, 64, 64, 96, "avg", 32), its input variable named 'data'."""
    c = spec.INCEPTION_A
    data = mx.sym.Variable("data")
    c1x1 = _conv_factory(mx, data, c["num_1x1"], (1, 1), name="%s_1x1" % name)
    c3x3r = _conv_factory(mx, data, c["num_3x3red"], (1, 1), name="%s_3x3" % name, suffix="_reduce")
    c3x3 = _conv_factory(mx, c3x3r, c["num_3x3"], (3, 3), pad=(1, 1), name="%s_3x3" % name)
    cd3x3r = _conv_factory(mx, data, c["num_d3x3red"], (1, 1), name="%s_double_3x3" % name, suffix="_reduce")
    cd3x3 = _conv_factory(mx, cd3x3r, c["num_d3x3"], (3, 3), pad=(1, 1), name="%s_double_3x3_0" % name)
    cd3x3 = _conv_factory(mx, cd3x3, c["num_d3x3"], (3, 3), pad=(1, 1), name="%s_double_3x3_1" % name)
    pooling = mx.sym.Pooling(data=data, kernel=(3, 3), stride=(1, 1), pad=(1, 1), pool_type=c["pool"],
                             name="%s_pool_%s_pool" % (c["pool"], name))
    cproj = _conv_factory(mx, pooling, c["proj"], (1, 1), name="%s_proj" % name)
    return mx.sym.Concat(*[c1x1, c3x3, cd3x3, cproj], name="ch_concat_%s_chconcat" % name)


def _residual_unit(mx, data, num_filter, stride, dim_match, name):
    """MXNet's example pre-activation bottleneck unit: BN-relu-conv1x1, BN-relu-conv3x3, BN-relu-conv1x1, + shortcut."""
    bn1 = mx.sym.BatchNorm(data=data, fix_gamma=False, eps=2e-5, momentum=0.9, name=name + "_bn1")
    act1 = mx.sym.Activation(data=bn1, act_type="relu", name=name + "_relu1")
    conv1 = mx.sym.Convolution(data=act1, num_filter=num_filter // 4, kernel=(1, 1), stride=(1, 1), pad=(0, 0),
                               no_bias=True, name=name + "_conv1")
    bn2 = mx.sym.BatchNorm(data=conv1, fix_gamma=False, eps=2e-5, momentum=0.9, name=name + "_bn2")
    act2 = mx.sym.Activation(data=bn2, act_type="relu", name=name + "_relu2")
    conv2 = mx.sym.Convolution(data=act2, num_filter=num_filter // 4, kernel=(3, 3), stride=stride, pad=(1, 1),
                               no_bias=True, name=name + "_conv2")
    bn3 = mx.sym.BatchNorm(data=conv2, fix_gamma=False, eps=2e-5, momentum=0.9, name=name + "_bn3")
    act3 = mx.sym.Activation(data=bn3, act_type="relu", name=name + "_relu3")
    conv3 = mx.sym.Convolution(data=act3, num_filter=num_filter, kernel=(1, 1), stride=(1, 1), pad=(0, 0),
                               no_bias=True, name=name + "_conv3")
    if dim_match:
        shortcut = data
    else:
        shortcut = mx.sym.Convolution(data=act1, num_filter=num_filter, kernel=(1, 1), stride=stride,
                                      no_bias=True, name=name + "_sc")
    return mx.sym.elemwise_add(conv3, shortcut, name=name + "_plus")


def resnet50(mx, num_classes=1000):
    """A ResNet-50-like graph (MXNet's example symbol, v2 bottleneck units 3-4-6-3) for memory planning only."""
    filters, units = spec.RESNET50_FILTERS, spec.RESNET50_UNITS
    data = mx.sym.Variable("data")
    body = mx.sym.BatchNorm(data=data, fix_gamma=True, eps=2e-5, momentum=0.9, name="bn_data")
    body = mx.sym.Convolution(data=body, num_filter=filters[0], kernel=(7, 7), stride=(2, 2), pad=(3, 3),
                              no_bias=True, name="conv0")
    body = mx.sym.BatchNorm(data=body, fix_gamma=False, eps=2e-5, momentum=0.9, name="bn0")
    body = mx.sym.Activation(data=body, act_type="relu", name="relu0")
    body = mx.sym.Pooling(data=body, kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="max", name="pool0")
    for i, n in enumerate(units):
        stride = (1, 1) if i == 0 else (2, 2)
        body = _residual_unit(mx, body, filters[i + 1], stride, False, "stage%d_unit1" % (i + 1))
        for j in range(n - 1):
            body = _residual_unit(mx, body, filters[i + 1], (1, 1), True, "stage%d_unit%d" % (i + 1, j + 2))
    bn1 = mx.sym.BatchNorm(data=body, fix_gamma=False, eps=2e-5, momentum=0.9, name="bn1")
    relu1 = mx.sym.Activation(data=bn1, act_type="relu", name="relu1")
    pool1 = mx.sym.Pooling(data=relu1, global_pool=True, kernel=(7, 7), pool_type="avg", name="pool1")
    flat = mx.sym.Flatten(data=pool1)
    fc1 = mx.sym.FullyConnected(data=flat, num_hidden=num_classes, name="fc1")
    return mx.sym.SoftmaxOutput(data=fc1, name="softmax")


def memory_graphs(mx, p):
    """[(graph name, symbol, input shapes)] of the memory workload, shapes from params `p`."""
    return [
        ("fcnet", fcnet(mx), {"data": tuple(p["fcnet"])}),
        ("inception", inception_a(mx), {"data": tuple(p["inception"])}),
        ("resnet50", resnet50(mx), {"data": tuple(p["resnet"])}),
    ]


def bind_chain(mx, nodes):
    """A chain of `nodes` operators on one input 'data': tanh, sigmoid, relu, ... each reading the previous one."""
    acts = ("tanh", "sigmoid", "relu")
    h = mx.sym.Variable("data")
    for i in range(nodes):
        h = mx.sym.Activation(data=h, act_type=acts[i % 3], name="act%d" % i)
    return h


def bind_branching(mx, nodes):
    """About `nodes` operators in units of three: two branches from the same value, joined by an add."""
    h = mx.sym.Variable("data")
    for i in range(max(1, nodes // 3)):
        a = mx.sym.Activation(data=h, act_type="tanh", name="u%d_tanh" % i)
        b = mx.sym.Activation(data=h, act_type="sigmoid", name="u%d_sigmoid" % i)
        h = mx.sym.elemwise_add(a, b, name="u%d_add" % i)
    return h


def bind_graph(mx, kind, nodes):
    """The bind workload's graph: `kind` "chain" or "branching"."""
    return bind_chain(mx, nodes) if kind == "chain" else bind_branching(mx, nodes)


def zoo_net(mx, model):
    """gluon.model_zoo.vision model `model`, 1000 classes, random weights (Xavier, seeded), hybridized."""
    mx.random.seed(42)
    net = mx.gluon.model_zoo.vision.get_model(model, classes=spec.ZOO_CLASSES)
    net.initialize(mx.init.Xavier())
    net.hybridize()
    return net


def zoo_cases(mx, p, sync):
    """{variant: factory} of the zoo workload (the same code on dataflow and MXNet): a forward of the hybridized
    model at each batch, and one training step: forward under autograd.record, SoftmaxCrossEntropyLoss,
    backward, `Trainer('sgd').step(batch)`."""
    from bench.protocol import Case
    import numpy as np

    def data(model, batch):
        hw = spec.zoo_hw(p, model)
        rs = np.random.RandomState(0)
        x = mx.nd.array(rs.uniform(-1, 1, (batch, 3, hw, hw)).astype(np.float32))
        label = mx.nd.array(rs.randint(0, spec.ZOO_CLASSES, batch).astype(np.float32))
        return x, label

    def forward(model, batch):
        def factory():
            net = zoo_net(mx, model)
            x, _ = data(model, batch)
            return Case(lambda: net(x), p["calls"], sync)
        return factory

    def train(model, batch):
        def factory():
            net = zoo_net(mx, model)
            x, label = data(model, batch)
            loss_fn = mx.gluon.loss.SoftmaxCrossEntropyLoss()
            trainer = mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.01, "momentum": 0.9})

            def step():
                with mx.autograd.record():
                    loss = loss_fn(net(x), label)
                loss.backward()
                trainer.step(batch)
                return loss
            return Case(step, p["calls"], sync)
        return factory
    return {name: (train if is_train else forward)(model, batch)
            for name, model, batch, is_train in spec.zoo_variants(p)}
