"""The workloads: names, sizes per level, and the goals they are measured against. Standard library only.

Every runner (dataflow in bench/ours.py, the peers in bench/peers/) reads its sizes from here, so a workload is
defined once: the runner is handed the workload name and its `params` dict (as JSON), nothing else.

Levels: "default" (`python -m bench`, a few minutes), "quick" (`--quick`, fewer calls and repeats), "smoke"
(`--smoke`, tiny sizes, one repeat: it checks that everything runs, and its timings mean nothing).
"""

LEVELS = ("smoke", "quick", "default")
REPEATS = {"smoke": 1, "quick": 3, "default": 7}

# The seed MLP (S1): Dense(256, relu) -> Dense(128, relu) -> Dense(2) on 512 features.
MLP_IN = 512
MLP_HIDDEN = (256, 128, 2)

# The seed fc net (S3/S8): fc1(128) -> relu -> fc2(10) -> SoftmaxOutput, data (100, 200).
FCNET_HIDDEN = (128, 10)

# InceptionFactoryA as the seed builds it (S5): in3a = (64, 64, 64, 64, 96, "avg", 32).
INCEPTION_A = dict(num_1x1=64, num_3x3red=64, num_3x3=64, num_d3x3red=64, num_d3x3=96, pool="avg", proj=32)

# ResNet-50-like graph (memory planning only, never run): MXNet's example resnet (v2, pre-activation bottleneck
# units), units per stage and the output filters of each stage.
RESNET50_UNITS = (3, 4, 6, 3)
RESNET50_FILTERS = (64, 256, 512, 1024, 2048)

# The elementwise chain: 10 ops on one float32 array x ~ U(-1, 1); every value stays finite.
#   y = log(sigmoid(sqrt(exp(tanh(x*0.5 + 0.25)**2) - 1))) * x
ELEMWISE_CHAIN = (
    ("mul_scalar", 0.5), ("add_scalar", 0.25), ("tanh", None), ("square", None), ("exp", None),
    ("sub_scalar", 1.0), ("sqrt", None), ("sigmoid", None), ("log", None), ("mul_input", None),
)

# The LSTM workload: a 2-layer LSTM (gluon.rnn.LSTM, MXNet's fused RNN op), hidden 256, on (seq, batch, input)
# TNC input with input size = hidden, as a language model's embedding feeds it.
LSTM_LAYERS = 2

# The zoo workload: models of gluon.model_zoo.vision (random weights, hybridized), 3-channel square input of
# ZOO_INPUT_HW pixels (inceptionv3 needs 299: its final 8x8 average pool), forward at each batch, and one training
# step (forward + SoftmaxCrossEntropyLoss + backward + SGD) of one model. `torch_compile`: whether the PyTorch
# peer also runs torch.compile (its compiles take tens of seconds a variant on 2 cores: only at the default level).
ZOO_MODELS = ("resnet18_v1", "resnet50_v1", "mobilenet1.0", "mobilenetv2_1.0", "densenet121", "inceptionv3")
ZOO_INPUT_HW = {"inceptionv3": 299}
ZOO_DEFAULT_HW = 224
ZOO_CLASSES = 1000


def zoo_hw(p, model):
    """Input height = width of `model` in the zoo params `p` (`hw` overrides every model's, for --smoke)."""
    return p.get("hw") or ZOO_INPUT_HW.get(model, ZOO_DEFAULT_HW)


def zoo_variants(p):
    """[(variant name, model, batch, train)] of the zoo workload: "resnet18_v1 b1" (inference forward), ...,
    "resnet18_v1 train b32" (one training step). Peers add their own suffix (" eager", " torch.compile")."""
    out = [("%s b%d" % (m, b), m, b, False) for m in p["models"] for b in p["batches"]]
    if p.get("train"):
        m, b = p["train"]
        out.append(("%s train b%d" % (m, b), m, b, True))
    return out


def zoo_base_variant(variant):
    """The zoo variant a peer's row `variant` ("resnet18_v1 b1 eager") is compared with ("resnet18_v1 b1")."""
    words = variant.split()
    return " ".join(words[:3] if len(words) > 1 and words[1] == "train" else words[:2])


# MXNet 1.9.1's own plan for InceptionFactoryA, batch 32, 3x28x28 (`Executor.debug_str()`: "Total N MB allocated",
# MB = 2**20 bytes, every element counted as 4 bytes). Printed when the MXNet peer is not there to measure it.
MXNET_KNOWN_PLAN_MB = {("inception", "training"): 165, ("inception", "inference"): 55}


def _mlp(batch, calls, warmup):
    return dict(batch=batch, calls=calls, warmup=warmup)


# name -> (title, {level: params}); params always has `calls` (per timed block) and `warmup` (untimed calls).
# `peer_envs` (optional): {peer: ((env label, {variable: value}), ...)}: that peer runs a second time with those
# environment variables changed, its rows labelled with the env label.
WORKLOADS = {
    "mlp1": dict(
        title="seed MLP 512-256-128-2, batch 1: imperative and hybridized",
        blas_bound=False,
        params={"default": _mlp(1, 1000, 100), "quick": _mlp(1, 300, 30), "smoke": _mlp(1, 2, 1)}),
    "mlp64": dict(
        title="seed MLP, batch 64, hybridized; floor = its 3 GEMMs with the same BLAS",
        blas_bound=True,
        params={"default": _mlp(64, 200, 20), "quick": _mlp(64, 60, 10), "smoke": _mlp(2, 2, 1)}),
    "mlp1024": dict(
        title="seed MLP, batch 1024, hybridized; floor = its 3 GEMMs with the same BLAS",
        blas_bound=True,
        params={"default": _mlp(1024, 30, 5), "quick": _mlp(1024, 10, 2), "smoke": _mlp(4, 2, 1)}),
    "fcnet-train": dict(
        title="fc1(128)/relu/fc2(10)/SoftmaxOutput, data (100, 200): forward + backward",
        blas_bound=True,
        params={"default": dict(batch=100, features=200, calls=200, warmup=20),
                "quick": dict(batch=100, features=200, calls=60, warmup=5),
                "smoke": dict(batch=4, features=16, calls=2, warmup=1)}),
    "elemwise10": dict(
        title="10 elementwise ops on 1024x1024 float32, one bound Symbol; floor = one copy",
        blas_bound=False,
        params={"default": dict(shape=(1024, 1024), calls=10, warmup=2),
                "quick": dict(shape=(1024, 1024), calls=4, warmup=1),
                "smoke": dict(shape=(16, 16), calls=2, warmup=1)}),
    "inception": dict(
        title="InceptionFactoryA, batch 32, 3x28x28: inference forward; training forward + backward",
        blas_bound=True,
        params={"default": dict(batch=32, hw=28, calls=2, warmup=1),
                "quick": dict(batch=32, hw=28, calls=1, warmup=1),
                "smoke": dict(batch=1, hw=6, calls=1, warmup=0)}),
    "lstm": dict(
        title="2-layer LSTM, hidden 256, seq 35, batch 32 (TNC): inference forward; training forward + backward",
        blas_bound=True,
        params={"default": dict(seq=35, batch=32, hidden=256, calls=10, warmup=2),
                "quick": dict(seq=35, batch=32, hidden=256, calls=4, warmup=1),
                "smoke": dict(seq=3, batch=2, hidden=8, calls=2, warmup=1)}),
    "zoo": dict(
        title="gluon.model_zoo.vision models, random weights, hybridized: forward per batch; one SGD training step",
        blas_bound=False,
        peer_envs={"mxnet": (("MKLDNN off", {"MXNET_MKLDNN_ENABLED": "0"}),)},   # MXNet native, as well as oneDNN
        params={"default": dict(models=ZOO_MODELS, batches=(1, 32), train=("resnet18_v1", 32), calls=1, warmup=1),
                "quick": dict(models=("resnet18_v1", "mobilenet1.0"), batches=(1, 8), train=("resnet18_v1", 8),
                              torch_compile=False, calls=3, warmup=1),     # 3: one call swings +-30% here
                "smoke": dict(models=("resnet18_v1",), batches=(1,), train=("resnet18_v1", 2), hw=32,
                              torch_compile=False, calls=1, warmup=0)}),
    "memory": dict(
        title="memory plan bytes (naive, planned, lower bound) vs MXNet's plan",
        blas_bound=False,
        params={"default": dict(fcnet=(100, 200), inception=(32, 3, 28, 28), resnet=(32, 3, 224, 224),
                                calls=0, warmup=0),
                "quick": dict(fcnet=(100, 200), inception=(32, 3, 28, 28), resnet=(32, 3, 224, 224),
                              calls=0, warmup=0),
                "smoke": dict(fcnet=(4, 16), inception=(1, 3, 6, 6), resnet=(1, 3, 32, 32), calls=0, warmup=0)}),
    "bind": dict(
        title="simple_bind time of a chain, and of branching units, of 1k / 5k / 20k ops; inference and training",
        blas_bound=False,
        params={"default": dict(sizes=(1000, 5000, 20000), data=(8, 16), calls=1, warmup=0),
                "quick": dict(sizes=(1000, 5000, 20000), data=(8, 16), calls=1, warmup=0),
                "smoke": dict(sizes=(30,), data=(2, 3), calls=1, warmup=0)}),
    "dist": dict(
        title="data-parallel training (dist_sync over MPI, python -m dataflow.launch): the seed MLP and resnet18_v1 "
              "on 32x32 images, 1 and 2 processes; time per step on rank 0",
        blas_bound=False,
        params={"default": dict(models=(("mlp", 64), ("resnet18_v1", 16)), procs=(1, 2), hw=32, classes=10,
                                per_key="resnet18_v1", calls=10, warmup=3),
                "quick": dict(models=(("mlp", 64), ("resnet18_v1", 16)), procs=(1, 2), hw=32, classes=10,
                              per_key="resnet18_v1", calls=4, warmup=2),
                "smoke": dict(models=(("mlp", 4),), procs=(1,), hw=8, classes=10, calls=2, warmup=1)}),
    "sparse": dict(
        title="csr x dense dot at 1% density; one training step of Embedding(sparse_grad=True) touching 1% of its "
              "rows (bench/sparse.py)",
        blas_bound=False,
        params={"default": dict(rows=512, cols=20000, width=64, vocab=100000, dim=64, batch=128, tokens=8,
                                density=0.01, calls=50, warmup=5),
                "quick": dict(rows=512, cols=20000, width=64, vocab=100000, dim=64, batch=128, tokens=8,
                              density=0.01, calls=20, warmup=3),
                "smoke": dict(rows=8, cols=50, width=4, vocab=200, dim=4, batch=4, tokens=2, density=0.05,
                              calls=2, warmup=1)}),
    "coldstart": dict(
        title="fresh interpreter: import + first hybridized MLP call (empty / warm numba cache)",
        blas_bound=False,
        params={"default": dict(batch=1, calls=0, warmup=0, runs=3), "quick": dict(batch=1, calls=0, warmup=0, runs=1),
                "smoke": dict(batch=1, calls=0, warmup=0, runs=1)}),
}

WORKLOAD_NAMES = tuple(WORKLOADS)


def bind_variants(p):
    """[(variant name, graph kind, op count, grad_req)] of the bind workload: "chain 1k" (inference, grad_req
    'null'), "chain 1k train" (grad_req 'write': the gradient graph is built, inferred and planned too), ..."""
    return [("%s %s%s" % (kind, "%dk" % (n // 1000) if n >= 1000 else n, " train" if req == "write" else ""),
             kind, n, req) for req in ("null", "write") for kind in ("chain", "branching") for n in p["sizes"]]


def params(workload, level="default"):
    """The params dict of `workload` at `level` (a fresh copy)."""
    if workload not in WORKLOADS:
        raise KeyError("unknown workload %r; the workloads are %s" % (workload, ", ".join(WORKLOADS)))
    if level not in LEVELS:
        raise KeyError("unknown level %r; the levels are %s" % (level, ", ".join(LEVELS)))
    return dict(WORKLOADS[workload]["params"][level])


# The goals of the bench issue, median per call. Each compares one of our rows (workload, impl "dataflow",
# variant) with a bound: `ratio` x the median of the `vs` row(s) measured in the same run. `vs` is a list of
# (impl, variant) rows, or "best-peer" (the fastest peer row). `ref` is the figure the issue measured for that
# comparator (seconds), used, and marked so, when the comparator did not run here.
GOALS = (
    dict(id="mlp1-hybridized", workload="mlp1", ours="hybridized", ratio=0.8, vs=[("jax", "jit")], ref=7.9e-6,
         text="mlp1 hybridized <= 0.8x JAX jit (issue: JAX 7.9 us, MXNet 53 us)"),
    dict(id="mlp1-imperative", workload="mlp1", ours="imperative", ratio=1.0, vs=[("torch", "eager")], ref=23e-6,
         text="mlp1 imperative <= 1.0x PyTorch eager (issue: 23 us, MXNet 132 us)"),
    dict(id="mlp1024-peer", workload="mlp1024", ours="hybridized", ratio=1.0, vs="best-peer", ref=837e-6,
         text="mlp1024 <= 1.0x the best peer (issue: PyTorch 837 us, MXNet 859, JAX 862)"),
    dict(id="mlp1024-floor", workload="mlp1024", ours="hybridized", ratio=1.1, vs=[("numpy", "GEMM floor")],
         ref=None, text="mlp1024 <= 1.1x the BLAS floor (its 3 GEMMs, same BLAS)"),
    dict(id="fcnet-train", workload="fcnet-train", ours="fwd+bwd", ratio=0.5, vs=[("jax", "jit")], ref=94e-6,
         text="fcnet-train <= 0.5x JAX jit (issue: 94 us, MXNet 100 us)"),
    dict(id="elemwise10", workload="elemwise10", ours="symbol", ratio=0.5, vs=[("torch", "torch.compile")],
         ref=1767e-6, text="elemwise10 <= 0.5x torch.compile (issue: 1,767 us; numpy 2,194, MXNet 29,159)"),
    dict(id="inception-inference", workload="inception", ours="inference", ratio=1.0,
         vs=[("mxnet", "inference")], ref=18.9e-3, text="inception inference <= 1.0x MXNet (issue: 18.9 ms)"),
    dict(id="inception-training", workload="inception", ours="training", ratio=1.0,
         vs=[("torch", "training torch.compile")], ref=74.8e-3,
         text="inception training <= 1.0x torch.compile (issue: 74.8 ms)"),
    dict(id="lstm-forward", workload="lstm", ours="forward", ratio=1.0, vs=[("mxnet", "forward")], ref=None,
         text="lstm forward <= 1.0x MXNet (issue 16)"),
    dict(id="lstm-fwd+bwd", workload="lstm", ours="fwd+bwd", ratio=1.0, vs=[("mxnet", "fwd+bwd")], ref=None,
         text="lstm forward + backward <= 1.0x MXNet (issue 16)"),
    dict(id="sparse-dot", workload="sparse", ours="csr dot", ratio=1.0, vs=[("mxnet", "csr dot")], ref=None,
         text="csr x dense dot at 1% density <= 1.0x MXNet (issue 22)"),
    dict(id="sparse-embedding", workload="sparse", ours="embedding step", ratio=1.0, vs=[("mxnet", "embedding step")],
         ref=None, text="sparse-embedding training step at 1% density <= 1.0x MXNet (issue 22)"),
    dict(id="bind-chain-20k", workload="bind", ours="chain 20k", ratio=1.0, vs=[("mxnet", "chain 20k")], ref=None,
         text="bind (inference) of a 20k-op chain <= 1.0x MXNet"),
    dict(id="bind-branching-20k", workload="bind", ours="branching 20k", ratio=1.0,
         vs=[("mxnet", "branching 20k")], ref=None,
         text="bind (inference) of 20k ops in branching units <= 1.0x MXNet"),
    dict(id="bind-chain-20k-train", workload="bind", ours="chain 20k train", ratio=1.0,
         vs=[("mxnet", "chain 20k train")], ref=2.9,
         text="bind (training) of a 20k-op chain <= 1.0x MXNet (issue 14: MXNet 2.9 s, dataflow over 300 s)"),
    dict(id="bind-branching-20k-train", workload="bind", ours="branching 20k train", ratio=1.0,
         vs=[("mxnet", "branching 20k train")], ref=None,
         text="bind (training) of 20k ops in branching units <= 1.0x MXNet"),
)


def _zoo_goals():
    """Every zoo forward <= 1.0x MXNet's (hybridized), the training step <= 1.0x MXNet's (issue 17), for the
    variants of the default and quick levels (a goal whose row did not run is left out of the report)."""
    seen, out = set(), []
    for level in ("default", "quick"):
        for name, model, batch, train in zoo_variants(WORKLOADS["zoo"]["params"][level]):
            if name in seen:
                continue
            seen.add(name)
            what = "training step (fwd+bwd+SGD)" if train else "forward"
            out.append(dict(id="zoo-" + name.replace(" ", "-"), workload="zoo", ours=name, ratio=1.0,
                            vs=[("mxnet", name)], ref=None,
                            text="zoo %s batch %d %s <= 1.0x MXNet (issue 17)" % (model, batch, what)))
    return tuple(out)


GOALS += _zoo_goals()
# memory: planned <= MXNet's plan and <= 1.05x the lower bound; coldstart: <= 1.5 s empty cache, <= 0.3 s warm.
MEMORY_BOUND_RATIO = 1.05
COLDSTART_GOALS = {"empty cache": 1.5, "warm cache": 0.3}
