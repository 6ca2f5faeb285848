"""njit bodies of the optimizer updates sgd_update, sgd_mom_update and adam_update, and the loops that run one
such update for every weight of an optimizer step in one call (`*_all`, dataflow/optimizer/fused.py).

They call the CPU kernels' own loops (ops/cpu/update.py: MXNet's formulas term for term), with the params rounded
to float32 and then to the weight's dtype as the kernels' `_scalars` does, so the results are the kernels' to the
bit. The states (momentum, mean, var) are inputs written in place whatever the output's req; the new weight goes
into the output for WRITE/INPLACE (the output may be the weight itself), else into a scratch array that is added
(ADD) or dropped (NULL), as the kernels' `_run`.
"""
import numba
import numpy as np
from numba.core import types
from numba.extending import intrinsic

from ..cpu import update as cpu
from .common import JIT, R_ADD, R_WRITE, as_dtype_of, body_of, builds, req_code

_jit = numba.njit(**JIT)


@_jit
def _target(out, r):
    return out.reshape(-1) if r == R_WRITE else np.empty(out.size, out.dtype)


@_jit
def _finish(out, buf, r):
    if r == R_ADD:
        of = out.reshape(-1)
        for i in range(of.shape[0]):
            of[i] += buf[i]


@_jit
def sgd_update(weight, grad, out, lr, wd, rescale_grad, clip_gradient, r):
    buf = _target(out, r)
    w = weight.reshape(-1)
    cpu._sgd(buf, w, grad.reshape(-1), as_dtype_of(1.0, w), as_dtype_of(lr, w), as_dtype_of(wd, w),
             as_dtype_of(rescale_grad, w), as_dtype_of(clip_gradient, w))
    _finish(out, buf, r)


@_jit
def sgd_mom_update(weight, grad, mom, out, lr, wd, rescale_grad, clip_gradient, momentum, r):
    buf = _target(out, r)
    w = weight.reshape(-1)
    cpu._sgd_mom(buf, w, grad.reshape(-1), mom.reshape(-1), as_dtype_of(1.0, w), as_dtype_of(lr, w),
                 as_dtype_of(wd, w), as_dtype_of(rescale_grad, w), as_dtype_of(clip_gradient, w),
                 as_dtype_of(momentum, w))
    _finish(out, buf, r)


@_jit
def adam_update(weight, grad, mean, var, out, lr, wd, rescale_grad, clip_gradient, beta1, beta2, epsilon, r):
    buf = _target(out, r)
    w = weight.reshape(-1)
    cpu._adam(buf, w, grad.reshape(-1), mean.reshape(-1), var.reshape(-1), as_dtype_of(1.0, w),
              as_dtype_of(lr, w), as_dtype_of(wd, w), as_dtype_of(rescale_grad, w), as_dtype_of(clip_gradient, w),
              as_dtype_of(beta1, w), as_dtype_of(beta2, w), as_dtype_of(epsilon, w))
    _finish(out, buf, r)


# ---- every weight of a step in one call -----------------------------------------------------------------------------
# Note [updates by address]: a step updates tens to hundreds of weights, each with its own arrays. Numba takes a
# list of arrays only as a reflected or typed list, which costs microseconds per array on every call; here the
# caller passes one int64 table of the arrays' data addresses (made once per set of arrays and kept), the element
# counts and a float64 table of params (already rounded to float32, as C++ floats), and each loop views the
# addresses as flat arrays of `like`'s dtype. Every update runs in place (the output is the weight), so the
# loops are the kernels' own with out = weight, as the kernels run them for `out=weight`.

@intrinsic
def _pointer(typingctx, address, like):
    """The int `address` as a pointer to `like`'s elements."""
    ptr = types.CPointer(like.dtype)

    def codegen(context, builder, sig, args):
        return builder.inttoptr(args[0], context.get_value_type(ptr))
    return ptr(address, like), codegen


@_jit
def _flat(address, n, like):
    return numba.carray(_pointer(address, like), n)


@_jit
def sgd_update_all(addresses, sizes, params, like):
    """sgd_update of weight i: addresses[i] = (weight, grad), params[i] = (lr, wd, rescale_grad, clip_gradient)."""
    for i in range(sizes.shape[0]):
        n, a, p = sizes[i], addresses[i], params[i]
        w = _flat(a[0], n, like)
        cpu._sgd(w, w, _flat(a[1], n, like), as_dtype_of(1.0, w), as_dtype_of(p[0], w), as_dtype_of(p[1], w),
                 as_dtype_of(p[2], w), as_dtype_of(p[3], w))


@_jit
def multi_sgd_update_all(addresses, sizes, params, like):
    """multi_sgd_update (one weight each) of weight i: as `sgd_update_all`, with the multi kernel's rounding."""
    for i in range(sizes.shape[0]):
        n, a, p = sizes[i], addresses[i], params[i]
        w = _flat(a[0], n, like)
        cpu._multi_sgd(w, w, _flat(a[1], n, like), as_dtype_of(1.0, w), as_dtype_of(p[0], w),
                       as_dtype_of(p[1], w), as_dtype_of(p[2], w), as_dtype_of(p[3], w))


@_jit
def sgd_mom_update_all(addresses, sizes, params, like):
    """sgd_mom_update of weight i: addresses[i] = (weight, grad, mom), params[i] = (lr, wd, rescale_grad,
    clip_gradient, momentum)."""
    for i in range(sizes.shape[0]):
        n, a, p = sizes[i], addresses[i], params[i]
        w = _flat(a[0], n, like)
        cpu._sgd_mom(w, w, _flat(a[1], n, like), _flat(a[2], n, like), as_dtype_of(1.0, w), as_dtype_of(p[0], w),
                     as_dtype_of(p[1], w), as_dtype_of(p[2], w), as_dtype_of(p[3], w), as_dtype_of(p[4], w))


@_jit
def adam_update_all(addresses, sizes, params, like):
    """adam_update of weight i: addresses[i] = (weight, grad, mean, var), params[i] = (lr, wd, rescale_grad,
    clip_gradient, beta1, beta2, epsilon)."""
    for i in range(sizes.shape[0]):
        n, a, p = sizes[i], addresses[i], params[i]
        w = _flat(a[0], n, like)
        cpu._adam(w, w, _flat(a[1], n, like), _flat(a[2], n, like), _flat(a[3], n, like), as_dtype_of(1.0, w),
                  as_dtype_of(p[0], w), as_dtype_of(p[1], w), as_dtype_of(p[2], w), as_dtype_of(p[3], w),
                  as_dtype_of(p[4], w), as_dtype_of(p[5], w), as_dtype_of(p[6], w))


_SGD = ("lr", "wd", "rescale_grad", "clip_gradient")
_PARAMS = {"sgd_update": (sgd_update, _SGD), "sgd_mom_update": (sgd_mom_update, _SGD + ("momentum",)),
           "adam_update": (adam_update, _SGD + ("beta1", "beta2", "epsilon"))}


@builds(*_PARAMS)
def _update(op, p, in_meta, out_meta, req):
    if len({np.dtype(m[1]) for m in list(in_meta) + list(out_meta)}) != 1:
        return None
    if any(m[0] != out_meta[0][0] for m in in_meta):
        return None
    fn, names = _PARAMS[op.name]
    # a C++ float param: rounded to float32 here, cast to the weight's dtype in the body
    return body_of(fn, tuple(float(np.float32(getattr(p, n))) for n in names) + (req_code(req[0]),))
