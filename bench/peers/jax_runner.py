"""JAX peer: every workload as one `jax.jit` function (XLA:CPU), the same shapes and ops as bench/graphs.py.
Calls are dispatched asynchronously and the block waits for the last result (`jax.block_until_ready`)."""
import os
import sys
import time

sys.path.append(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np  # noqa: E402

from bench import protocol, spec  # noqa: E402
from bench.protocol import Case, NotApplicable  # noqa: E402

IMPL = "jax"


def _jax():
    import jax
    return jax


def _sync(jax):
    return lambda last: jax.block_until_ready(last)


def _mlp_params(rs, sizes):
    """Kernels stored (in, out), JAX's (and flax's) layout: XLA:CPU runs x @ w.T on an (out, in) weight several
    times slower (measured here: 119 us against 19 us per call for mlp1)."""
    return [(rs.uniform(-0.07, 0.07, (n_in, n_out)).astype(np.float32), np.zeros(n_out, np.float32))
            for n_in, n_out in zip(sizes[:-1], sizes[1:])]


def _mlp_fn(jax):
    jnp = jax.numpy

    def mlp(params, x):
        for i, (w, b) in enumerate(params):
            x = jnp.dot(x, w) + b
            if i < len(params) - 1:
                x = jax.nn.relu(x)
        return x
    return jax.jit(mlp)


def _mlp(p):
    jax = _jax()
    rs = np.random.RandomState(0)
    params = jax.device_put(_mlp_params(rs, (spec.MLP_IN,) + spec.MLP_HIDDEN))
    x = jax.device_put(rs.uniform(0, 1, (p["batch"], spec.MLP_IN)).astype(np.float32))

    def factory():
        f = _mlp_fn(jax)
        return Case(lambda: f(params, x), p["calls"], _sync(jax))
    return {"jit": factory}


def _fcnet_train(p):
    jax = _jax()
    jnp = jax.numpy
    rs = np.random.RandomState(0)
    h1, h2 = spec.FCNET_HIDDEN
    x = rs.uniform(-1, 1, (p["batch"], p["features"])).astype(np.float32)
    params = [(rs.normal(0, 0.1, (p["features"], h1)).astype(np.float32), rs.normal(0, 0.1, h1).astype(np.float32)),
              (rs.normal(0, 0.1, (h1, h2)).astype(np.float32), rs.normal(0, 0.1, h2).astype(np.float32))]
    label = rs.randint(0, h2, p["batch"])
    params, x, onehot = jax.device_put((params, x, np.eye(h2, dtype=np.float32)[label]))

    def loss(params, x, onehot):       # SoftmaxOutput: forward = softmax, gradient = softmax - onehot
        (w1, b1), (w2, b2) = params
        z = jnp.dot(jax.nn.relu(jnp.dot(x, w1) + b1), w2) + b2      # kernels (in, out), as in _mlp_params
        logp = jax.nn.log_softmax(z)
        return -(logp * onehot).sum(), jnp.exp(logp)

    def factory():
        f = jax.jit(jax.value_and_grad(loss, argnums=(0, 1), has_aux=True))
        return Case(lambda: f(params, x, onehot), p["calls"], _sync(jax))
    return {"jit": factory}


def _elemwise(p):
    jax = _jax()
    jnp = jax.numpy
    assert [op for op, _ in spec.ELEMWISE_CHAIN] == ["mul_scalar", "add_scalar", "tanh", "square", "exp",
                                                     "sub_scalar", "sqrt", "sigmoid", "log", "mul_input"]
    x = jax.device_put(np.random.RandomState(0).uniform(-1, 1, tuple(p["shape"])).astype(np.float32))

    def chain(x):
        y = x * np.float32(0.5)
        y = y + np.float32(0.25)
        y = jnp.tanh(y)
        y = jnp.square(y)
        y = jnp.exp(y)
        y = y - np.float32(1.0)
        y = jnp.sqrt(y)
        y = jax.nn.sigmoid(y)
        y = jnp.log(y)
        return y * x

    def factory():
        f = jax.jit(chain)
        return Case(lambda: f(x), p["calls"], _sync(jax))
    return {"jit": factory}


def _inception_fn(jax, train):
    """InceptionFactoryA in NHWC / HWIO, XLA:CPU's layout (its convolutions run ~25% faster than in NCHW here):
    the input is stored NHWC once, as a JAX user would keep it."""
    jnp, lax = jax.numpy, jax.lax
    eps = 1e-3

    def conv_factory(prm, x, pad):
        w, b, gamma, beta, mean, var = prm
        y = lax.conv_general_dilated(x, w, (1, 1), [(pad, pad), (pad, pad)],
                                     dimension_numbers=("NHWC", "HWIO", "NHWC")) + b
        if train:
            mean = y.mean(axis=(0, 1, 2))
            var = y.var(axis=(0, 1, 2))
        y = (y - mean) * lax.rsqrt(var + eps)
        return jax.nn.relu(y * gamma + beta)

    def inception(params, x):
        b1 = conv_factory(params["1x1"], x, 0)
        b3 = conv_factory(params["3x3"], conv_factory(params["3x3r"], x, 0), 1)
        bd = conv_factory(params["d3x3r"], x, 0)
        bd = conv_factory(params["d3x3_1"], conv_factory(params["d3x3_0"], bd, 1), 1)
        pooled = lax.reduce_window(x, 0.0, lax.add, (1, 3, 3, 1), (1, 1, 1, 1),
                                   [(0, 0), (1, 1), (1, 1), (0, 0)]) / 9.0      # count_include_pad, as MXNet
        bp = conv_factory(params["proj"], pooled, 0)
        return jnp.concatenate([b1, b3, bd, bp], axis=-1)
    return inception


def _inception_params(rs, cin):
    c = spec.INCEPTION_A

    def cf(ci, co, k):
        return (rs.uniform(-0.1, 0.1, (k, k, ci, co)).astype(np.float32), np.zeros(co, np.float32),
                np.ones(co, np.float32), np.zeros(co, np.float32), np.zeros(co, np.float32), np.ones(co, np.float32))
    return {"1x1": cf(cin, c["num_1x1"], 1), "3x3r": cf(cin, c["num_3x3red"], 1),
            "3x3": cf(c["num_3x3red"], c["num_3x3"], 3), "d3x3r": cf(cin, c["num_d3x3red"], 1),
            "d3x3_0": cf(c["num_d3x3red"], c["num_d3x3"], 3), "d3x3_1": cf(c["num_d3x3"], c["num_d3x3"], 3),
            "proj": cf(cin, c["proj"], 1)}


def _inception(p):
    jax = _jax()
    jnp = jax.numpy
    rs = np.random.RandomState(0)
    shape = (p["batch"], 3, p["hw"], p["hw"])
    params = jax.device_put(_inception_params(rs, 3))
    x = jax.device_put(np.ascontiguousarray(rs.uniform(-1, 1, shape).astype(np.float32).transpose(0, 2, 3, 1)))

    def inference():
        f = jax.jit(_inception_fn(jax, False))
        return Case(lambda: f(params, x), p["calls"], _sync(jax), note="NHWC")

    def training():
        fwd = _inception_fn(jax, True)

        def step(params, x):
            y, pullback = jax.vjp(fwd, params, x)
            return y, pullback(jnp.ones_like(y))
        f = jax.jit(step)
        return Case(lambda: f(params, x), p["calls"], _sync(jax), note="NHWC")
    return {"inference jit": inference, "training jit": training}


def build(workload, p):
    if workload in ("mlp1", "mlp64", "mlp1024"):
        return _mlp(p)
    if workload == "fcnet-train":
        return _fcnet_train(p)
    if workload == "elemwise10":
        return _elemwise(p)
    if workload == "inception":
        return _inception(p)
    raise NotApplicable("no JAX version of %s" % workload)


def coldstart(p):
    """Fresh interpreter: import jax, the seed MLP under jax.jit, first call (compiles; waited for)."""
    t0 = time.perf_counter()
    import jax
    t1 = time.perf_counter()
    rs = np.random.RandomState(0)
    params = _mlp_params(rs, (spec.MLP_IN,) + spec.MLP_HIDDEN)
    x = rs.uniform(0, 1, (p["batch"], spec.MLP_IN)).astype(np.float32)
    jax.block_until_ready(_mlp_fn(jax)(params, x))
    t2 = time.perf_counter()
    return {"import_s": t1 - t0, "first_call_s": t2 - t1, "total_s": t2 - t0, "variant": "jit"}


def info():
    jax = _jax()
    import jaxlib
    return {"impl": IMPL, "versions": {"jax": jax.__version__, "jaxlib": jaxlib.__version__, "numpy": np.__version__},
            "devices": [str(d) for d in jax.devices()], "backend": jax.default_backend(),
            "blas": protocol.blas_info()}


if __name__ == "__main__":
    sys.exit(protocol.main(sys.modules[__name__]))
