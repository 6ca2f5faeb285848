"""`mx.test_utils`: checking gradients against finite differences, as MXNet's test utilities do.

`check_numeric_gradient(sym, location)` binds `sym`, draws random head gradients `w` for its outputs, and compares
the gradient of `sum(w * outputs)` from `backward()` with central differences of the same sum, computed in
float64 by re-running forward with one element nudged at a time. Keep shapes small: the numeric side runs two
forwards per input element.
"""
import numpy as np

from . import ndarray as nd
from .context import cpu


def numeric_grad(executor, location, aux_states=None, eps=1e-4, use_forward_train=True, weights=None):
    """Central-difference gradient of sum(weights[i] * outputs[i]) with respect to each array in `location`."""
    def objective():
        outs = executor.forward(is_train=use_forward_train)
        return sum(float(np.sum(o.asnumpy().astype(np.float64) * w)) for o, w in zip(outs, weights))

    grads = {}
    for name, value in location.items():
        base = np.array(value, dtype=np.float64)
        grad = np.zeros_like(base)
        flat, gflat = base.reshape(-1), grad.reshape(-1)
        for i in range(flat.size):
            original = flat[i]
            for sign in (1, -1):
                flat[i] = original + sign * eps
                executor.arg_dict[name][:] = base
                if aux_states:
                    for k, v in aux_states.items():
                        executor.aux_dict[k][:] = v
                gflat[i] += sign * objective()
            flat[i] = original
            gflat[i] /= 2 * eps
        executor.arg_dict[name][:] = base
        grads[name] = grad
    return grads


def check_numeric_gradient(sym, location, aux_states=None, numeric_eps=1e-4, rtol=1e-2, atol=None,
                           grad_nodes=None, use_forward_train=True, ctx=None, dtype=np.float64, seed=0):
    """Assert that `sym`'s gradients at `location` (a dict or a list in `list_arguments()` order) match central
    differences. Raises AssertionError naming the argument that differs."""
    ctx = ctx or cpu()
    if not isinstance(location, dict):
        location = dict(zip(sym.list_arguments(), location))
    location = {k: np.asarray(v, dtype=dtype) for k, v in location.items()}
    aux_states = {k: np.asarray(v, dtype=dtype) for k, v in (aux_states or {}).items()}
    grad_nodes = list(grad_nodes or location)
    args = {k: nd.array(v, ctx, dtype) for k, v in location.items()}
    grads = {k: nd.zeros(v.shape, ctx, dtype) for k, v in location.items() if k in grad_nodes}
    aux = {k: nd.array(v, ctx, dtype) for k, v in aux_states.items()}
    executor = sym.bind(ctx, args, args_grad=grads, grad_req={k: "write" for k in grad_nodes},
                        aux_states=aux or None)
    outputs = executor.forward(is_train=use_forward_train)
    rs = np.random.RandomState(seed)
    weights = [rs.uniform(0.5, 1.5, o.shape) for o in outputs]
    executor.backward([nd.array(w, ctx, dtype) for w in weights])
    analytic = {k: executor.grad_dict[k].asnumpy() for k in grad_nodes}
    numeric = numeric_grad(executor, {k: location[k] for k in grad_nodes}, aux_states, numeric_eps,
                           use_forward_train, weights)
    for name in grad_nodes:
        scale = max(1.0, float(np.max(np.abs(numeric[name]))))
        np.testing.assert_allclose(analytic[name], numeric[name], rtol=rtol,
                                   atol=atol if atol is not None else rtol * scale,
                                   err_msg="gradient of %r differs from finite differences" % name)
    return analytic, numeric
