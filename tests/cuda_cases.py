"""The CUDA kernels against the CPU kernels, and the whole GPU path (contexts, copies, executor, autograd, Gluon).

Not collected by a plain `pytest` run (the name does not match test_*.py): numba.cuda must be imported in the
mode the run wants, before anything else imports it. tests/test_cuda_sim.py runs this file in a subprocess with
`NUMBA_ENABLE_CUDASIM=1` (CI, no GPU); bench/gpu_check.py runs it on a real GPU without the simulator.

Tiny shapes throughout: the simulator runs every CUDA thread as a Python thread (~1.5 ms each).
"""
import os

import numpy as np
import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st

import dataflow as mx
from ops import registry
from ops import cuda as ops_cuda
from ops.cuda import storage
from ops.registry import ADD, WRITE, OpContext
from tests.op_specs import SPECS

pytestmark = pytest.mark.cuda

KINDS = ops_cuda.register()
CUDA_OPS = sorted(n for n, k in KINDS.items() if k == "cuda")
SPEC = {s.name: s for s in SPECS}
# dtypes compared per op (those of its row that are in this list); one drawn case each
DTYPES = ("float32", "int32", "float16", "float64")
# rtol, atol per output dtype: the CPU's float32 math (vmath, BLAS) and the GPU's differ in the last bits
TOL = {"float16": (4e-3, 4e-3), "float32": (2e-5, 2e-5), "float64": (1e-10, 1e-10)}
# the exact-by-construction ops aside, these accumulate or approximate more in float32
LOOSE = {"float32": (2e-4, 2e-4)}
LOOSE_OPS = {"gamma", "gammaln", "_backward_gammaln", "erfinv", "power", "_power", "broadcast_power",
             "_power_scalar", "_rpower_scalar", "BatchNorm", "_backward_BatchNorm", "norm", "log_softmax",
             "softmax", "SoftmaxActivation", "SoftmaxOutput", "_backward_softmax", "_backward_log_softmax",
             "Convolution", "_backward_Convolution", "FullyConnected", "_backward_FullyConnected", "dot",
             "sigmoid", "Activation", "_backward_Activation", "LogisticRegressionOutput", "mean", "sum"}
# exercised by the autograd cases below rather than by a spec row
THROUGH_GRADIENTS = {"_backward_Cast", "_sum_to_like", "_backward_dot", "_backward_reduce",
                     "_backward_gammaln"} | ops_cuda.tested_through_gradients()


def to_device(x):
    d = storage.empty(x.shape, x.dtype, 0)
    storage.from_host(x, d, 0)
    return d


def run_gpu(opdef, p, inputs, outs, req, is_train):
    with storage.on_device(0):
        d_in = [to_device(x) for x in inputs]
        d_out = [to_device(o) for o in outs]
        opdef.gpu(OpContext(is_train=is_train), p, d_in, d_out, req)
        return [storage.to_host(d, 0) for d in d_out], [storage.to_host(d, 0) for d in d_in]


def close(name, got, want, what):
    assert got.shape == want.shape and got.dtype == want.dtype, (what, got.shape, want.shape, got.dtype, want.dtype)
    tol = (LOOSE if name in LOOSE_OPS else {}).get(want.dtype.name, TOL.get(want.dtype.name))
    if tol is None:
        np.testing.assert_array_equal(got, want, err_msg=what)
    else:
        np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=tol[0], atol=tol[1],
                                   equal_nan=True, err_msg=what)


def _cases():
    for name in CUDA_OPS:
        spec = SPEC.get(name)
        if spec is None:
            continue
        for dt in DTYPES:
            if dt in spec.dtypes:
                yield pytest.param(name, dt, id="%s-%s" % (name, dt))


@pytest.mark.parametrize("name,dtype", list(_cases()))
@settings(max_examples=3, derandomize=True, database=None)     # the first example is the all-zero one
@given(data=st.data())
def test_kernel_matches_cpu(name, dtype, data):
    """The op's CUDA kernel gives the CPU kernel's outputs (and mutated aux inputs), with req write (and add, for
    float32), in training and inference mode for the ops that care."""
    spec, opdef = SPEC[name], registry.get(name)
    attrs, inputs = spec.sample(data.draw, np.dtype(dtype))
    p = opdef.parse_params(attrs)
    rng = np.random.default_rng(0)
    for is_train in ((False, True) if opdef.takes_training else (False,)):
        for req in ((WRITE, ADD) if dtype == "float32" else (WRITE,)):
            from scheduler.graph import Node
            from scheduler.infer import apply_rule
            node = Node(opdef, name, params=p)
            n_out = opdef.num_outputs(p)
            shapes = (opdef.value_shapes(p, inputs) if opdef.value_shapes is not None       # boolean_mask
                      else apply_rule(node, [x.shape for x in inputs], [None] * n_out, "shape")[1])
            _, dtypes = apply_rule(node, [x.dtype for x in inputs], [None] * n_out, "dtype")
            init = [(rng.uniform(-2, 2, s) if np.dtype(t).kind == "f" else rng.integers(0, 2, s)).astype(t)
                    if req == ADD else np.zeros(s, t) for s, t in zip(shapes, dtypes)]
            cpu_in, cpu_out = [x.copy() for x in inputs], [o.copy() for o in init]
            mx.random.seed(7)
            with np.errstate(all="ignore"):
                opdef.cpu(OpContext(is_train=is_train), p, cpu_in, cpu_out, [req] * n_out)
            mx.random.seed(7)
            try:
                with np.errstate(all="ignore"):
                    gpu_out, gpu_in = run_gpu(opdef, p, inputs, init, [req] * n_out, is_train)
            except (OverflowError, ValueError) as e:
                # the simulator stores with numpy, which refuses what C casts wrap (an int32 product past 2**31),
                # and runs Python's math, which raises where CUDA returns NaN ((-1) ** 0.5): for integers, a NaN
                # cast back has no defined value on either side
                if not (storage.simulator() and np.dtype(dtype).kind in "iu"
                        and (isinstance(e, OverflowError) or "math domain error" in str(e))):
                    raise
                reject()
            for k, (g, c) in enumerate(zip(gpu_out, cpu_out)):
                close(name, g, c, "output %d, req %s, train %s" % (k, req, is_train))
            for k, (g, c) in enumerate(zip(gpu_in, cpu_in)):       # aux inputs (moving stats) are updated
                close(name, g, c, "input %d after the op, train %s" % (k, is_train))


def test_every_cuda_kernel_is_exercised():
    """Each op with a CUDA kernel is compared above (a spec row) or below (through gradients)."""
    missing = [n for n in CUDA_OPS if n not in SPEC and n not in THROUGH_GRADIENTS]
    assert not missing, "CUDA kernels no test runs: %s" % missing


# ---- the whole path ---------------------------------------------------------------------------------------------
def test_seed_bind_example():
    """The seed tutorial's GPU snippet."""
    a, b = mx.sym.var("a"), mx.sym.var("b")
    c = a * b
    gpu_device = mx.gpu()
    ex_gpu = c.bind(ctx=gpu_device, args={"a": mx.nd.ones([3, 4], gpu_device) * 2,
                                          "b": mx.nd.ones([3, 4], gpu_device) * 3})
    ex_gpu.forward()
    out = ex_gpu.outputs[0]
    assert out.context == mx.gpu(0)
    np.testing.assert_array_equal(out.asnumpy(), np.full((3, 4), 6, np.float32))


def test_contexts_and_copies():
    assert mx.context.num_gpus() >= 1
    x = mx.nd.array([[1, 2], [3, 4]], ctx=mx.gpu())
    assert x.context == mx.gpu(0) and storage.is_device_array(x._data)
    y = x.copyto(mx.cpu())
    assert y.context == mx.cpu() and isinstance(y._data, np.ndarray)
    z = y.as_in_context(mx.gpu(0))
    assert z.as_in_context(mx.gpu(0)) is z
    w = mx.nd.zeros((2, 2), mx.gpu(), dtype="int32")
    z.copyto(w)                                         # device to device, converting the dtype
    np.testing.assert_array_equal(w.asnumpy(), [[1, 2], [3, 4]])
    # views and indexing
    np.testing.assert_array_equal(x[1].asnumpy(), [3, 4])
    np.testing.assert_array_equal(x[:, 1].asnumpy(), [2, 4])     # strided: a copy through the host
    x[0] = mx.nd.array([7, 8])                          # a CPU value into a GPU array
    x[1, 1] = 0
    np.testing.assert_array_equal(x.asnumpy(), [[7, 8], [3, 0]])
    v = x.reshape((4,))
    v[:] = 1                                            # the reshape is a view: x changes too
    np.testing.assert_array_equal(x.asnumpy(), np.ones((2, 2)))
    c = mx.nd.zeros((2, 2))
    c[:] = x                                            # a GPU value into a CPU array
    np.testing.assert_array_equal(c.asnumpy(), np.ones((2, 2)))
    with pytest.raises(mx.MXNetError, match="one device"):
        (x + c).wait_to_read()
    with pytest.raises(mx.MXNetError, match="num_gpus|GPU"):
        mx.nd.ones((1,), mx.gpu(5))


def test_imperative_ops_and_waits():
    r = np.random.default_rng(0)
    a, b = r.standard_normal((3, 4)).astype(np.float32), r.standard_normal((4,)).astype(np.float32)
    x, y = mx.nd.array(a, ctx=mx.gpu()), mx.nd.array(b, ctx=mx.gpu())
    out = mx.nd.softmax(mx.nd.relu(x * y + 1) / 2, axis=0).sum(axis=1)
    mx.nd.waitall()
    want = mx.nd.softmax(mx.nd.relu(mx.nd.array(a) * mx.nd.array(b) + 1) / 2, axis=0).sum(axis=1)
    np.testing.assert_allclose(out.asnumpy(), want.asnumpy(), rtol=1e-5)
    x += 1                                              # in place
    np.testing.assert_allclose(x.asnumpy(), a + 1, rtol=1e-6)
    t = mx.nd.SwapAxis(x, dim1=0, dim2=1)                # no CUDA kernel yet: through the host kernel
    np.testing.assert_allclose(t.asnumpy(), (a + 1).T, rtol=1e-6)


def test_autograd_on_gpu_matches_cpu():
    """Gradients through broadcast ops (_sum_to_like), dot (_backward_dot), reductions (_backward_reduce), Cast
    (_backward_Cast) and gammaln (_backward_gammaln) on the GPU equal the CPU's."""
    r = np.random.default_rng(1)
    a, b = r.uniform(0.5, 2, (3, 4)).astype(np.float32), r.uniform(0.5, 2, (1, 4)).astype(np.float32)
    w = r.standard_normal((4, 2)).astype(np.float32)

    def grads(ctx):
        x, y, m = (mx.nd.array(v, ctx=ctx) for v in (a, b, w))
        for v in (x, y, m):
            v.attach_grad()
        with mx.autograd.record():
            z = mx.nd.broadcast_mul(x, y) + mx.nd.gammaln(x)
            z = mx.nd.dot(z, m).astype("float64").astype("float32")
            loss = z.max(axis=1).sum() + mx.nd.norm(z) + z.mean()
        loss.backward()
        return [v.grad.asnumpy() for v in (x, y, m)]
    for g, c in zip(grads(mx.gpu()), grads(mx.cpu())):
        np.testing.assert_allclose(g, c, rtol=1e-4, atol=1e-5)


def test_executor_backward_and_grad_add():
    data, label = mx.sym.var("data"), mx.sym.var("label")
    fc = mx.sym.FullyConnected(data, num_hidden=3, name="fc")
    net = mx.sym.SoftmaxOutput(mx.sym.Activation(fc, act_type="tanh"), label, name="sm")
    r = np.random.default_rng(2)
    values = {"data": r.standard_normal((4, 5)), "fc_weight": r.standard_normal((3, 5)) * 0.3,
              "fc_bias": r.standard_normal(3), "label": np.array([0, 2, 1, 2])}

    def run(ctx, req):
        ex = net.simple_bind(ctx, grad_req=req, data=(4, 5), label=(4,))
        for k, v in values.items():
            ex.arg_dict[k][:] = v
        for _ in range(2):
            ex.forward(is_train=True)
            ex.backward()
        return [ex.outputs[0].asnumpy()] + [ex.grad_dict[k].asnumpy() for k in ("data", "fc_weight", "fc_bias")]
    for req in ("write", "add"):
        for g, c in zip(run(mx.gpu(), req), run(mx.cpu(), req)):
            np.testing.assert_allclose(g, c, rtol=1e-5, atol=1e-6)


def test_plan_arena_is_one_pooled_allocation():
    x = mx.sym.var("x")
    y = mx.sym.exp(mx.sym.sin(x) * 2) + mx.sym.cos(x)
    ex = y.simple_bind(mx.gpu(), x=(4, 4))
    plan = ex._plan
    assert plan.device == 0 and storage.is_device_array(plan.arena)
    start = storage._address(plan.arena)
    inner = [a for e, a in enumerate(plan.arrays) if a is not None and plan.memory.storage_id[e] >= 0]
    assert inner and all(start <= storage._address(a) < start + plan.arena.nbytes for a in inner)
    ex.arg_dict["x"][:] = 0.5
    np.testing.assert_allclose(ex.forward()[0].asnumpy(), np.exp(np.sin(0.5) * 2) + np.cos(0.5), rtol=1e-6)


def test_pool_reuses_freed_blocks():
    pool = storage.pool(0)
    mx.nd.waitall()
    a = mx.nd.zeros((123, 7), mx.gpu())
    a.wait_to_read()
    del a
    before = pool.stats()
    b = mx.nd.zeros((123, 7), mx.gpu())
    after = pool.stats()
    assert after["reuses"] == before["reuses"] + 1 and after["allocations"] == before["allocations"]
    assert storage.size_class(1) == 512 and storage.size_class(513) == 1024
    assert storage.size_class((1 << 20) + 1) == 2 << 20
    del b


def _train(ctx, hybridize, steps=2):
    from dataflow import gluon
    mx.random.seed(0)
    with mx.name.NameManager():
        net = gluon.nn.HybridSequential()
        with net.name_scope():
            net.add(gluon.nn.Dense(6, activation="relu"), gluon.nn.BatchNorm(), gluon.nn.Dropout(0.5),
                    gluon.nn.Dense(3))
    net.initialize(mx.init.Xavier(), ctx=ctx)
    if hybridize:
        net.hybridize()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1, "momentum": 0.9})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    r = np.random.default_rng(1)
    x = mx.nd.array(r.standard_normal((8, 5)), ctx=ctx)
    y = mx.nd.array(r.integers(0, 3, 8), ctx=ctx)
    for _ in range(steps):
        with mx.autograd.record():
            loss = loss_fn(net(x), y)
        loss.backward()
        trainer.step(8)
    return {k: v.data().asnumpy() for k, v in net.collect_params().items()}


@pytest.mark.parametrize("hybridize", [False, True])
def test_training_on_gpu_matches_cpu(hybridize):
    """The same small network (Dense, BatchNorm, Dropout: one seed gives one mask on both devices) trained on
    mx.gpu() and mx.cpu() ends with matching parameters."""
    gpu, cpu = _train(mx.gpu(), hybridize), _train(mx.cpu(), hybridize)
    assert gpu.keys() == cpu.keys()
    for k in cpu:
        np.testing.assert_allclose(gpu[k], cpu[k], rtol=1e-4, atol=1e-5, err_msg=k)


def test_simulator_or_gpu():
    """Say which mode ran (the simulator in CI, a real GPU under bench/gpu_check.py)."""
    print(storage.environment_note(), "NUMBA_ENABLE_CUDASIM=%s" % os.environ.get("NUMBA_ENABLE_CUDASIM", ""))


@pytest.mark.parametrize("name,attrs,inputs", [
    ("_random_uniform", {"low": "-1", "high": "3", "shape": "(2, 3)"}, []),
    ("_random_uniform", {"shape": "(5,)", "dtype": "float16"}, []),
    ("_random_normal", {"loc": "1", "scale": "2", "shape": "(2, 3)", "dtype": "float64"}, []),
    ("_random_exponential", {"lam": "2", "shape": "(4,)"}, []),
    ("_random_gamma", {"alpha": "2", "beta": "0.5", "shape": "(3, 2)"}, []),
    ("_random_poisson", {"lam": "3", "shape": "(6,)"}, []),
    ("_random_randint", {"low": "-5", "high": "7", "shape": "(2, 3)"}, []),
    ("_shuffle", {}, [np.arange(15, dtype=np.float32).reshape(5, 3)]),
    ("_shuffle", {}, [np.arange(6, dtype=np.int32)]),
    ("_sample_multinomial", {"shape": "(3,)", "get_prob": "True"},
     [np.array([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]], np.float32)]),
    ("_sample_multinomial", {}, [np.array([0.1, 0.2, 0.7], np.float64)]),
    ("_sample_normal", {"shape": "(2,)"}, [np.array([0.0, 3.0], np.float32), np.array([1.0, 2.0], np.float32)]),
    ("_sample_poisson", {"dtype": "float64"}, [np.array([[1.0, 4.0]], np.float32)]),
    ("_random_uniform_like", {"low": "-1"}, [np.zeros((2, 3), np.float16)]),
    ("_sample_unique_zipfian", {"range_max": "30", "shape": "(2, 4)"}, []),
])
def test_random_kernels_match_cpu(name, attrs, inputs):
    """The random ops' CUDA kernels draw the CPU kernel's numbers from the same seed (req write and add)."""
    from scheduler.graph import Node
    from scheduler.infer import apply_rule
    opdef = registry.get(name)
    p = opdef.parse_params(attrs)
    node = Node(opdef, name, params=p)
    n_out = opdef.num_outputs(p)
    _, shapes = apply_rule(node, [x.shape for x in inputs], [None] * n_out, "shape")
    _, dtypes = apply_rule(node, [x.dtype for x in inputs], [None] * n_out, "dtype")
    for req in (WRITE, ADD):
        init = [np.ones(s, t) for s, t in zip(shapes, dtypes)]
        cpu_out = [o.copy() for o in init]
        mx.random.seed(7)
        opdef.cpu(OpContext(), p, [x.copy() for x in inputs], cpu_out, [req] * n_out)
        mx.random.seed(7)
        gpu_out, _ = run_gpu(opdef, p, inputs, init, [req] * n_out, False)
        for k, (g, c) in enumerate(zip(gpu_out, cpu_out)):
            assert g.dtype == c.dtype and g.shape == c.shape
            np.testing.assert_array_equal(g, c, err_msg="output %d, req %s" % (k, req))


@pytest.mark.parametrize("name,attrs,a_shape,b_shape,dtype", [
    ("batch_dot", {}, (2, 3, 2), (2, 2, 3), "float32"),
    ("batch_dot", {"transpose_a": "1", "transpose_b": "1"}, (2, 2, 3), (2, 3, 2), "float16"),
    ("_linalg_gemm2", {"alpha": "0.5", "transpose_a": "1"}, (2, 3), (2, 3), "float64"),
    ("_linalg_gemm2", {"axis": "1", "transpose_b": "1"}, (2, 3, 2, 2), (2, 3, 2, 2), "float32"),
    ("_linalg_gemm", {"alpha": "-2", "beta": "0.5", "axis": "0"}, (3, 2, 2), (2, 2, 3), "float32"),
    ("_linalg_gemm", {"beta": "2", "transpose_a": "1", "transpose_b": "1"}, (2, 3), (2, 2), "float64"),
])
def test_linalg_backward_kernels_match_cpu(name, attrs, a_shape, b_shape, dtype):
    """_backward_batch_dot, _backward_linalg_gemm and _backward_linalg_gemm2 (no spec rows: internal to the
    gradients) against their CPU kernels, req write and add, transposed operands and row axes included."""
    from scheduler.graph import Node
    from scheduler.infer import apply_rule
    fwd = registry.get(name)
    p = fwd.parse_params(attrs)
    rng = np.random.default_rng(3)
    ins = [rng.uniform(-1, 1, s).astype(dtype) for s in (a_shape, b_shape)]
    if name == "_linalg_gemm":
        node = Node(fwd, name, params=p)
        in_shapes, _ = apply_rule(node, [a_shape, b_shape, None], [None], "shape")
        ins.append(rng.uniform(-1, 1, in_shapes[2]).astype(dtype))
    node = Node(fwd, name, params=p)
    _, out_shapes = apply_rule(node, [x.shape for x in ins], [None], "shape")
    dy = rng.uniform(-1, 1, out_shapes[0]).astype(dtype)
    bwd = registry.get("_backward" + (name if name.startswith("_") else "_" + name))
    shapes = [x.shape for x in ins]
    for req in (WRITE, ADD):
        init = [(rng.uniform(-1, 1, s) if req == ADD else np.zeros(s)).astype(dtype) for s in shapes]
        cpu_out = [o.copy() for o in init]
        bwd.cpu(OpContext(), p, [dy, ins[0], ins[1]], cpu_out, [req] * len(shapes))
        gpu_out, _ = run_gpu(bwd, p, [dy, ins[0], ins[1]], init, [req] * len(shapes), False)
        for k, (g, c) in enumerate(zip(gpu_out, cpu_out)):
            close("dot", g, c, "%s output %d, req %s" % (bwd.name, k, req))


def test_norm_family_gradients_on_gpu_match_cpu():
    """The norm family's backward kernels (_backward_LayerNorm, _backward_InstanceNorm, _backward_L2Normalization,
    _backward_LRN, _backward_softmax_cross_entropy, _backward_smooth_l1), reached through autograd on the GPU, give
    the CPU's gradients (data and, where there are some, gamma and beta)."""
    r = np.random.default_rng(3)
    x4 = r.uniform(-1, 1, (2, 3, 2, 2)).astype(np.float32)
    g3, b3 = r.uniform(0.5, 1.5, 3).astype(np.float32), r.uniform(-1, 1, 3).astype(np.float32)
    w4 = r.uniform(-1, 1, x4.shape).astype(np.float32)
    labels = np.array([0, 2, 1, 2], np.float32)
    x2 = r.uniform(-2, 2, (4, 3)).astype(np.float32)
    cases = [
        (lambda x, g, b: mx.nd.LayerNorm(x, g, b, axis=1, eps=1e-3), (x4, g3, b3)),
        (lambda x, g, b: mx.nd.LayerNorm(x.reshape((8, 3)), g, b), (x4.transpose(0, 2, 3, 1).copy(), g3, b3)),
        (lambda x, g, b: mx.nd.InstanceNorm(x, g, b, eps=1e-3), (x4, g3, b3)),
        (lambda x: mx.nd.L2Normalization(x, mode="channel"), (x4,)),
        (lambda x: mx.nd.L2Normalization(x, mode="instance"), (x4,)),
        (lambda x: mx.nd.LRN(x, nsize=3, alpha=0.5, beta=0.75, knorm=1.0), (x4,)),
        (lambda x: mx.nd.smooth_l1(x, scalar=1.5), (x4,)),
        (lambda x: mx.nd.softmax_cross_entropy(x, mx.nd.array(labels, ctx=x.context)) * 1.5, (x2,)),
    ]

    def grads(f, values, ctx):
        args = [mx.nd.array(v, ctx=ctx) for v in values]
        for a in args:
            a.attach_grad()
        with mx.autograd.record():
            out = f(*args)
            loss = (out * mx.nd.array(w4.reshape(-1)[:out.size].reshape(out.shape), ctx=ctx)).sum()
        loss.backward()
        return [a.grad.asnumpy() for a in args]
    for k, (f, values) in enumerate(cases):
        for g, c in zip(grads(f, values, mx.gpu()), grads(f, values, mx.cpu())):
            np.testing.assert_allclose(g, c, rtol=1e-4, atol=1e-5, err_msg="case %d" % k)


@pytest.mark.parametrize("attrs,shape,dtype", [
    ({"k": "2", "ret_typ": "value"}, (2, 4), "float32"),
    ({"k": "2", "axis": "0", "ret_typ": "both", "dtype": "int32"}, (3, 2, 2), "float32"),
    ({"k": "3", "axis": "None", "ret_typ": "value", "is_ascend": "1"}, (2, 3), "float16"),
    ({"k": "0", "axis": "1", "ret_typ": "value"}, (2, 3, 2), "float64"),
])
def test_backward_topk_matches_cpu(attrs, shape, dtype):
    """_backward_topk (no spec row: internal to topk's and sort's gradients) against its CPU kernel, req write and
    add, with the indices topk gives (float and int32 index dtypes, every axis kind)."""
    topk, bwd = registry.get("topk"), registry.get("_backward_topk")
    p = topk.parse_params(attrs)
    rng = np.random.default_rng(5)
    x = rng.permutation(int(np.prod(shape))).reshape(shape).astype(dtype)
    from scheduler.graph import Node
    from scheduler.infer import apply_rule
    _, shapes = apply_rule(Node(topk, "topk", params=p), [x.shape], [None, None], "shape")
    _, dtypes = apply_rule(Node(topk, "topk", params=p), [x.dtype], [None, None], "dtype")
    outs = [np.zeros(s, t) for s, t in zip(shapes, dtypes)]
    topk.cpu(OpContext(), p, [x], outs, [WRITE, WRITE])
    dy = rng.uniform(-1, 1, outs[0].shape).astype(dtype)
    for req in (WRITE, ADD):
        init = (rng.uniform(-1, 1, shape) if req == ADD else np.zeros(shape)).astype(dtype)
        cpu_out = [init.copy()]
        bwd.cpu(OpContext(), p, [dy, outs[1], x], cpu_out, [req])
        gpu_out, _ = run_gpu(bwd, p, [dy, outs[1], x], [init], [req], False)
        close("_backward_topk", gpu_out[0], cpu_out[0], "req %s" % req)


# ---- gradients of the indexing family (TESTED_THROUGH_GRADIENTS of ops/cuda/indexing.py and rows.py) -------
def _x4(x, nd):
    return nd.reshape(x, shape=(1, 3, 4, 2))     # (NDArray.reshape is not recorded by autograd)


_INDEXING_GRADS = {
    "_backward_slice": lambda x, nd: nd.slice(x, begin=(1, None), end=(None, -1), step=(1, -2)),
    "_backward_slice_axis": lambda x, nd: nd.slice_axis(x, axis=1, begin=1, end=3),
    "_backward_slice_like": lambda x, nd: nd.slice_like(x, nd.zeros((2, 3, 1), ctx=x.context)),
    "_backward_clip": lambda x, nd: nd.clip(x, -0.5, 0.5),
    "_backward_tile": lambda x, nd: nd.tile(x, reps=(2, 1, 2)),
    "_backward_repeat": lambda x, nd: nd.repeat(x, repeats=2, axis=1),
    "_backward_take": lambda x, nd: nd.take(x, nd.array([2, 0, 2, -1], ctx=x.context), axis=1, mode="wrap"),
    "_backward_Embedding": lambda x, nd: nd.Embedding(nd.array([[0, 2], [2, 2]], ctx=x.context), x,
                                                      input_dim=3, output_dim=4),
    "_backward_pick": lambda x, nd: nd.pick(x, nd.array([[0, 3], [1, 1], [3, 0]], ctx=x.context), axis=1),
    "_backward_gather_nd": lambda x, nd: nd.gather_nd(x, nd.array([[0, 2, 0], [1, 3, 1]], ctx=x.context)),
    "_backward_diag": lambda x, nd: nd.diag(x, k=1),
    "_backward_SequenceLast": lambda x, nd: nd.SequenceLast(x, nd.array([1, 3, 0, 2], ctx=x.context),
                                                            use_sequence_length=True),
    "_backward_Pad:constant": lambda x, nd: nd.Pad(_x4(x, nd), mode="constant", constant_value=1.5,
                                                   pad_width=(0, 0, 0, 0, 1, 2, 2, 1)),
    "_backward_Pad:edge": lambda x, nd: nd.Pad(_x4(x, nd), mode="edge", pad_width=(0, 0, 0, 0, 2, 3, 1, 3)),
    "_backward_Pad:reflect": lambda x, nd: nd.Pad(_x4(x, nd), mode="reflect", pad_width=(0, 0, 0, 0, 2, 3, 1, 1)),
    "_backward_UpSampling:concat": lambda x, nd: nd.UpSampling(_x4(x, nd), _x4(x, nd) * 0.5, scale=2,
                                                               sample_type="nearest", num_args=2),
    "_backward_UpSampling:sum": lambda x, nd: nd.UpSampling(_x4(x, nd), _x4(x, nd) * 0.5, scale=2,
                                                            sample_type="nearest", num_args=2,
                                                            multi_input_mode="sum"),
}


@pytest.mark.parametrize("name", sorted(_INDEXING_GRADS))
@pytest.mark.parametrize("grad_req", ["write", "add"])
def test_indexing_gradients_on_gpu_match_cpu(name, grad_req, monkeypatch):
    """The backward kernels of ops/cuda/indexing.py and rows.py, reached through autograd, give the CPU's gradients
    (repeated indices accumulate) and are really run on the device."""
    calls = []
    opdef = registry.get(name.split(":")[0])
    kernel = opdef.gpu
    monkeypatch.setattr(opdef, "gpu", lambda *a: (calls.append(1), kernel(*a))[1])
    x0 = np.random.default_rng(3).standard_normal((3, 4, 2)).astype(np.float32)
    if name.startswith("_backward_Embedding"):
        x0 = x0.reshape(3, 8)[:, :4].copy()
    w0 = np.random.default_rng(4).standard_normal(x0.shape).astype(np.float32)

    def grads(ctx):
        x = mx.nd.array(x0, ctx=ctx)
        x.attach_grad(grad_req=grad_req)
        if grad_req == "add":
            x.grad[:] = mx.nd.array(w0, ctx=ctx)
        with mx.autograd.record():
            y = _INDEXING_GRADS[name](x, mx.nd)
            loss = (y * y).sum()
        loss.backward()
        return x.grad.asnumpy()
    g = grads(mx.gpu())
    assert calls, "%s did not run on the device" % name
    np.testing.assert_allclose(g, grads(mx.cpu()), rtol=1e-5, atol=1e-6)


# the fused RNN op's kernels (every feature) and Gluon's RNN layers on the device: tests/cuda_rnn_cases.py
