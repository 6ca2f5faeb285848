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
            _, shapes = apply_rule(node, [x.shape for x in inputs], [None] * n_out, "shape")
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
            except OverflowError:
                # the simulator stores with numpy, which refuses what C casts wrap (an int32 product past 2**31)
                if not (storage.simulator() and np.dtype(dtype).kind in "iu"):
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
