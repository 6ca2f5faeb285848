"""PyTorch (CPU) peer: eager, `torch.jit.script` + `torch.jit.freeze` (inference only), and `torch.compile`
(inductor; needs a C++ compiler). Same shapes and ops as bench/graphs.py; inference runs without autograd."""
import os
import re
import sys
import time

sys.path.append(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np  # noqa: E402

from bench import protocol, spec  # noqa: E402
from bench.protocol import Case, NotApplicable  # noqa: E402

IMPL = "torch"


def _torch():
    import torch
    return torch


def _mlp_module(torch):
    nn = torch.nn
    h1, h2, h3 = spec.MLP_HIDDEN
    return nn.Sequential(nn.Linear(spec.MLP_IN, h1), nn.ReLU(), nn.Linear(h1, h2), nn.ReLU(), nn.Linear(h2, h3))


def _inference_variants(torch, make_model, example, calls, jit=True):
    """eager / jit.script+freeze / torch.compile of a module made by make_model(), in eval mode, no autograd."""
    torch.set_grad_enabled(False)

    def eager():
        m = make_model().eval()
        return Case(lambda: m(example), calls)

    def scripted():
        m = torch.jit.freeze(torch.jit.script(make_model().eval()))
        return Case(lambda: m(example), calls)

    def compiled():
        m = torch.compile(make_model().eval())
        return Case(lambda: m(example), calls)
    out = {"eager": eager}
    if jit:
        out["jit.script+freeze"] = scripted
    out["torch.compile"] = compiled
    return out


def _mlp(p):
    torch = _torch()
    torch.manual_seed(0)
    x = torch.from_numpy(np.random.RandomState(0).uniform(0, 1, (p["batch"], spec.MLP_IN)).astype(np.float32))
    return _inference_variants(torch, lambda: _mlp_module(torch), x, p["calls"])


def _fcnet_train(p):
    torch = _torch()
    nn, F = torch.nn, torch.nn.functional
    h1, h2 = spec.FCNET_HIDDEN
    rs = np.random.RandomState(0)
    x = torch.from_numpy(rs.uniform(-1, 1, (p["batch"], p["features"])).astype(np.float32)).requires_grad_()
    label = torch.from_numpy(rs.randint(0, h2, p["batch"]).astype(np.int64))

    def make(compiled):
        def factory():
            torch.manual_seed(0)
            model = nn.Sequential(nn.Linear(p["features"], h1), nn.ReLU(), nn.Linear(h1, h2))
            params = list(model.parameters()) + [x]

            def loss_fn(inp, lab):        # SoftmaxOutput's gradient: softmax - onehot, summed over the batch
                return F.cross_entropy(model(inp), lab, reduction="sum")
            fn = torch.compile(loss_fn) if compiled else loss_fn

            def step():
                for t in params:
                    t.grad = None
                loss = fn(x, label)
                loss.backward()
                return loss
            return Case(step, p["calls"])
        return factory
    return {"eager": make(False), "torch.compile": make(True)}


def _chain(torch):
    def chain(x):
        y = x * 0.5
        y = y + 0.25
        y = torch.tanh(y)
        y = torch.square(y)
        y = torch.exp(y)
        y = y - 1.0
        y = torch.sqrt(y)
        y = torch.sigmoid(y)
        y = torch.log(y)
        return y * x
    return chain


def _elemwise(p):
    torch = _torch()
    torch.set_grad_enabled(False)
    assert [op for op, _ in spec.ELEMWISE_CHAIN] == ["mul_scalar", "add_scalar", "tanh", "square", "exp",
                                                     "sub_scalar", "sqrt", "sigmoid", "log", "mul_input"]
    x = torch.from_numpy(np.random.RandomState(0).uniform(-1, 1, tuple(p["shape"])).astype(np.float32))
    chain = _chain(torch)
    return {"eager": lambda: Case(lambda: chain(x), p["calls"]),
            "jit.script": lambda: Case(lambda f=torch.jit.script(chain): f(x), p["calls"]),
            "torch.compile": lambda: Case(lambda f=torch.compile(chain): f(x), p["calls"])}


def _inception_module(torch):
    nn = torch.nn
    c = spec.INCEPTION_A

    def conv_factory(cin, cout, k, pad=0):
        return nn.Sequential(nn.Conv2d(cin, cout, k, padding=pad), nn.BatchNorm2d(cout, eps=1e-3, momentum=0.1),
                             nn.ReLU())

    class InceptionA(nn.Module):
        def __init__(self, cin=3):
            super().__init__()
            self.b1 = conv_factory(cin, c["num_1x1"], 1)
            self.b3 = nn.Sequential(conv_factory(cin, c["num_3x3red"], 1),
                                    conv_factory(c["num_3x3red"], c["num_3x3"], 3, 1))
            self.bd = nn.Sequential(conv_factory(cin, c["num_d3x3red"], 1),
                                    conv_factory(c["num_d3x3red"], c["num_d3x3"], 3, 1),
                                    conv_factory(c["num_d3x3"], c["num_d3x3"], 3, 1))
            self.pool = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=True)
            self.proj = conv_factory(cin, c["proj"], 1)

        def forward(self, x):
            return torch.cat([self.b1(x), self.b3(x), self.bd(x), self.proj(self.pool(x))], 1)
    assert c["pool"] == "avg"
    return InceptionA()


def _inception(p):
    torch = _torch()
    shape = (p["batch"], 3, p["hw"], p["hw"])
    x = torch.from_numpy(np.random.RandomState(0).uniform(-1, 1, shape).astype(np.float32))

    def make_model():
        torch.manual_seed(0)
        return _inception_module(torch)
    out = {}
    inf = _inference_variants(torch, make_model, x, p["calls"])
    torch.set_grad_enabled(True)

    for name, factory in inf.items():
        out["inference " + name] = _no_grad(torch, factory)

    def make_train(compiled):
        def factory():
            model = make_model().train()
            xt = x.clone().requires_grad_()
            params = list(model.parameters()) + [xt]
            fn = torch.compile(model) if compiled else model
            ograd = None

            def step():
                nonlocal ograd
                for t in params:
                    t.grad = None
                y = fn(xt)
                if ograd is None:
                    ograd = torch.ones_like(y)
                y.backward(ograd)
                return y
            return Case(step, p["calls"])
        return factory
    out["training eager"] = make_train(False)
    out["training torch.compile"] = make_train(True)
    return out


def _no_grad(torch, factory):
    """A factory whose Case runs every call under torch.no_grad() (the inference rows of a training-enabled run)."""
    def run():
        with torch.no_grad():
            case = factory()
        fn = case.fn

        def call():
            with torch.no_grad():
                return fn()
        case.fn = call
        return case
    return run


def _lstm(p):
    """nn.LSTM with the lstm workload's sizes (TNC, input size = hidden): inference forward under no_grad, and
    forward + backward of the output with head gradient ones (parameter gradients only, as the Gluon rows)."""
    torch = _torch()
    torch.set_grad_enabled(True)
    shape = (p["seq"], p["batch"], p["hidden"])
    x = torch.from_numpy(np.random.RandomState(0).uniform(-1, 1, shape).astype(np.float32))

    def make_model():
        torch.manual_seed(0)
        return torch.nn.LSTM(p["hidden"], p["hidden"], num_layers=spec.LSTM_LAYERS)

    def forward():
        model = make_model().eval()
        return Case(lambda: model(x)[0], p["calls"])

    def train():
        model = make_model().train()
        params = list(model.parameters())
        ograd = torch.ones(shape)

        def step():
            for t in params:
                t.grad = None
            y = model(x)[0]
            y.backward(ograd)
            return y
        return Case(step, p["calls"])
    return {"forward eager": _no_grad(torch, forward), "fwd+bwd eager": train}


def _zoo(p):
    """The zoo workload on the models of bench/peers/torch_zoo.py: inference forward in eval mode under no_grad
    (eager, and torch.compile where p["torch_compile"]), and the training step: forward in train mode,
    cross-entropy averaged over the batch (Gluon's summed loss with Trainer.step(batch)), backward, SGD
    (lr 0.01, momentum 0.9)."""
    from bench.peers import torch_zoo
    torch = _torch()
    torch.set_grad_enabled(True)
    compile_too = p.get("torch_compile", True)

    def model_of(name):
        if name not in torch_zoo.MODELS:
            raise NotApplicable(torch_zoo.NOT_WRITTEN)
        torch.manual_seed(0)
        return torch_zoo.MODELS[name](torch, spec.ZOO_CLASSES)

    def data(name, batch):
        hw = spec.zoo_hw(p, name)
        rs = np.random.RandomState(0)
        x = torch.from_numpy(rs.uniform(-1, 1, (batch, 3, hw, hw)).astype(np.float32))
        return x, torch.from_numpy(rs.randint(0, spec.ZOO_CLASSES, batch).astype(np.int64))

    def forward(name, batch, compiled):
        def factory():
            model = model_of(name).eval()
            fn = torch.compile(model) if compiled else model
            x, _ = data(name, batch)
            return Case(lambda: fn(x), p["calls"])
        return _no_grad(torch, factory)

    def train(name, batch, compiled):
        def factory():
            model = model_of(name).train()
            fn = torch.compile(model) if compiled else model
            opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
            x, label = data(name, batch)

            def step():
                opt.zero_grad(set_to_none=True)
                loss = torch.nn.functional.cross_entropy(fn(x), label)
                loss.backward()
                opt.step()
                return loss
            return Case(step, p["calls"])
        return factory
    out = {}
    for variant, name, batch, is_train in spec.zoo_variants(p):
        make = train if is_train else forward
        out[variant + " eager"] = make(name, batch, False)
        if compile_too:
            out[variant + " torch.compile"] = make(name, batch, True)
    return out


def build(workload, p):
    if workload == "zoo":
        return _zoo(p)
    if workload == "lstm":
        return _lstm(p)
    if workload in ("mlp1", "mlp64", "mlp1024"):
        return _mlp(p)
    if workload == "fcnet-train":
        return _fcnet_train(p)
    if workload == "elemwise10":
        return _elemwise(p)
    if workload == "inception":
        return _inception(p)
    raise NotApplicable("no PyTorch version of %s" % workload)


def coldstart(p):
    """Fresh interpreter: import torch, the seed MLP (eager, no autograd), first call."""
    t0 = time.perf_counter()
    import torch
    t1 = time.perf_counter()
    torch.manual_seed(0)
    net = _mlp_module(torch).eval()
    x = torch.from_numpy(np.random.RandomState(0).uniform(0, 1, (p["batch"], spec.MLP_IN)).astype(np.float32))
    with torch.no_grad():
        net(x)
    t2 = time.perf_counter()
    return {"import_s": t1 - t0, "first_call_s": t2 - t1, "total_s": t2 - t0, "variant": "eager"}


def info():
    torch = _torch()
    cfg = torch.__config__.show()
    keep = sorted(set(re.findall(r"\b(?:BLAS_INFO|LAPACK_INFO|USE_MKLDNN|USE_MKL|USE_OPENMP)=\w+", cfg)))
    keep += [ln.strip(" -") for ln in cfg.splitlines() if "CPU capability" in ln]
    out = {"impl": IMPL, "versions": {"torch": torch.__version__, "numpy": np.__version__},
           "num_threads": torch.get_num_threads(), "mkldnn": torch.backends.mkldnn.is_available(),
           "config": keep, "blas": protocol.blas_info()}
    try:
        out["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    except Exception:  # noqa: BLE001
        pass
    return out


if __name__ == "__main__":
    sys.exit(protocol.main(sys.modules[__name__]))
