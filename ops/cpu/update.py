"""CPU kernels of the optimizer update ops (ops/update.py): one fused loop per MXNet update rule.

Each loop walks flat arrays once, with no temporaries, and reproduces MXNet 1.9.1's kernel term for term in the
weight's dtype, so float32 results agree with MXNet's to the bit. Scalars come in the dtype the loop computes in;
MXNet's params are C++ floats, so a Python value is rounded to float32 first, then cast (`_scalars`). A clip bound
below 0 turns clipping off (MXNet's default -1). float16 weights are computed in float32 and rounded once (MXNet's
`half_t` rounds after every operation, so float16 may differ in the last bit); the mixed-precision ops (`mp_*`)
compute in float32 from the float32 master copy `weight32` and round only the float16 output.

The loops write the new weight into `buf` (the output itself for WRITE and INPLACE, else a scratch array that
`_finish` stores as req says) and the optimizer states in place: the states are mutated inputs (MXNet's
FMutateInputs, our OpDef `aux`), updated whatever the output's req.
"""
import math

import numba
import numpy as np

from ..errors import ShapeError
from ..registry import INPLACE, WRITE
from .common import F32, assign, compute_dtype

_jit = numba.njit(nogil=True, cache=True)


# ---- scalar helpers -----------------------------------------------------------------------------------------------
@_jit
def _clip(x, bound):
    if bound < 0:
        return x
    if x > bound:
        return bound
    if x < -bound:
        return -bound
    return x


@_jit
def _lr_grad(lr, rescale_grad, g, clip_gradient):
    # lr * clip(rescale_grad * g), grouped as MXNet's SGD kernels group it
    if clip_gradient < 0:
        return lr * rescale_grad * g
    return lr * _clip(rescale_grad * g, clip_gradient)


@_jit
def _sign(x, zero, one):
    if x > zero:
        return one
    if x < zero:
        return -one
    return zero


# ---- SGD family ---------------------------------------------------------------------------------------------------
@_jit
def _sgd(out, weight, grad, one, lr, wd, rescale_grad, clip_gradient):
    # w = (1 - lr * wd) * w - lr * clip(rescale_grad * g)
    decay = one - lr * wd
    for i in range(weight.size):
        out[i] = decay * weight[i] - _lr_grad(lr, rescale_grad, grad[i], clip_gradient)


@_jit
def _multi_sgd(out, weight, grad, one, lr, wd, rescale_grad, clip_gradient):
    # w = w - (lr * wd * w + lr * clip(rescale_grad * g))          (multi_sgd_update: other rounding)
    for i in range(weight.size):
        out[i] = weight[i] - (lr * wd * weight[i] + _lr_grad(lr, rescale_grad, grad[i], clip_gradient))


@_jit
def _sgd_mom(out, weight, grad, mom, one, lr, wd, rescale_grad, clip_gradient, momentum):
    # mom = momentum * mom - lr * wd * w - lr * clip(rescale_grad * g);  w = w + mom
    for i in range(weight.size):
        m = momentum * mom[i] - lr * wd * weight[i] - _lr_grad(lr, rescale_grad, grad[i], clip_gradient)
        mom[i] = m
        out[i] = weight[i] + m


@_jit
def _mp_sgd(out, weight, grad, weight32, one, lr, wd, rescale_grad, clip_gradient):
    # sgd on the float32 master copy
    decay = one - lr * wd
    for i in range(weight.size):
        w = decay * weight32[i] - _lr_grad(lr, rescale_grad, grad[i], clip_gradient)
        weight32[i] = w
        out[i] = w


@_jit
def _mp_sgd_mom(out, weight, grad, mom, weight32, one, lr, wd, rescale_grad, clip_gradient, momentum):
    for i in range(weight.size):
        w = weight32[i]
        m = momentum * mom[i] - lr * wd * w - _lr_grad(lr, rescale_grad, grad[i], clip_gradient)
        mom[i] = m
        w = w + m
        weight32[i] = w
        out[i] = w


@_jit
def _nag_step(w, mom, g, one, lr, wd, rescale_grad, clip_gradient, momentum):
    """(g, m, w') of one NAG element: g = clip(rescale_grad * g), m = momentum * mom,
    w' = w - m + (momentum + 1) * (m - lr * (g + wd * w)); the caller sets mom = m - lr * (g + wd * v)."""
    c = _clip(rescale_grad * g, clip_gradient)
    m = momentum * mom
    return c, m, w - m + (momentum + one) * (m - lr * (c + wd * w))


@_jit
def _nag_mom(out, weight, grad, mom, one, lr, wd, rescale_grad, clip_gradient, momentum, alias):
    # mom's v is w' when out is weight's memory, else w: see Note [NAG reads the output]
    for i in range(weight.size):
        w = weight[i]
        c, m, new = _nag_step(w, mom[i], grad[i], one, lr, wd, rescale_grad, clip_gradient, momentum)
        out[i] = new
        mom[i] = m - lr * (c + wd * (new if alias else w))


@_jit
def _mp_nag_mom(out, weight, grad, mom, weight32, one, lr, wd, rescale_grad, clip_gradient, momentum):
    # nag on the master copy, whose new value the momentum's decay term reads (MXNet's mixed-precision
    # kernel writes weight32 first, whatever `out` is)
    for i in range(weight.size):
        c, m, new = _nag_step(weight32[i], mom[i], grad[i], one, lr, wd, rescale_grad, clip_gradient, momentum)
        weight32[i] = new
        mom[i] = m - lr * (c + wd * new)
        out[i] = new


# Note [NAG reads the output]
# MXNet's nag_mom_update kernel writes the new weight to `out` and then computes the momentum's weight-decay
# term from `weight`; the optimizer passes out=weight, so that term sees the *updated* weight (it only matters
# when wd != 0): w=1, g=1, lr=0.1, momentum=0.9, wd=0.5 gives w'=0.715 and mom=-0.1*(1+0.5*0.715), exactly what
# MXNet 1.9.1 returns. The loop reproduces that, and the plain reading when out is another array.


@_jit
def _signsgd(out, weight, grad, one, lr, wd, rescale_grad, clip_gradient):
    # w = (1 - lr * wd) * w - lr * sign(clip(rescale_grad * g))
    zero = one - one
    decay = one - lr * wd
    for i in range(weight.size):
        out[i] = decay * weight[i] - lr * _sign(_clip(rescale_grad * grad[i], clip_gradient), zero, one)


@_jit
def _signum(out, weight, grad, mom, one, lr, wd, rescale_grad, clip_gradient, momentum, wd_lh):
    # mom = momentum * mom - (1 - momentum) * (wd * w + clip(rescale_grad * g))
    # w = (1 - lr * wd_lh) * w + lr * sign(mom)
    zero = one - one
    one_m = one - momentum
    decay = one - lr * wd_lh
    for i in range(weight.size):
        c = _clip(rescale_grad * grad[i], clip_gradient)
        m = momentum * mom[i] - one_m * wd * weight[i] - one_m * c
        mom[i] = m
        out[i] = decay * weight[i] + lr * _sign(m, zero, one)


# ---- adaptive ------------------------------------------------------------------------------------------------------
@_jit
def _adam(out, weight, grad, mean, var, one, lr, wd, rescale_grad, clip_gradient, beta1, beta2, epsilon):
    # g = clip(rescale_grad * g + wd * w);  mean = b1 * mean + (1 - b1) * g;  var = b2 * var + (1 - b2) * g^2
    # w = w - lr * mean / (sqrt(var) + eps)      (the optimizer folds the bias correction into lr)
    one_b1, one_b2 = one - beta1, one - beta2
    for i in range(weight.size):
        g = _clip(grad[i] * rescale_grad + weight[i] * wd, clip_gradient)
        m = beta1 * mean[i] + one_b1 * g
        v = beta2 * var[i] + one_b2 * g * g
        mean[i] = m
        var[i] = v
        out[i] = weight[i] - lr * m / (math.sqrt(v) + epsilon)


@_jit
def _rmsprop(out, weight, grad, n, one, lr, wd, rescale_grad, clip_gradient, gamma1, epsilon, clip_weights):
    # g = clip(rescale_grad * g + wd * w);  n = (1 - gamma1) * g^2 + gamma1 * n
    # w = clip_w(w - lr * g / sqrt(n + eps))
    one_g1 = one - gamma1
    for i in range(weight.size):
        g = _clip(rescale_grad * grad[i] + wd * weight[i], clip_gradient)
        v = one_g1 * (g * g) + gamma1 * n[i]
        n[i] = v
        out[i] = _clip(weight[i] - lr * (g / math.sqrt(v + epsilon)), clip_weights)


@_jit
def _rmspropalex(out, weight, grad, n, gbar, delta, one, lr, wd, rescale_grad, clip_gradient, gamma1, gamma2,
                 epsilon, clip_weights):
    # Graves' centered RMSProp: n and gbar are running means of g^2 and g;
    # delta = gamma2 * delta - lr * g / sqrt(n - gbar^2 + eps);  w = clip_w(w + delta)
    one_g1 = one - gamma1
    for i in range(weight.size):
        g = _clip(rescale_grad * grad[i] + wd * weight[i], clip_gradient)
        v = one_g1 * g * g + gamma1 * n[i]
        b = one_g1 * g + gamma1 * gbar[i]
        d = gamma2 * delta[i] - lr * g / math.sqrt(v - b * b + epsilon)
        n[i] = v
        gbar[i] = b
        delta[i] = d
        out[i] = _clip(weight[i] + d, clip_weights)


@_jit
def _ftml(out, weight, grad, d, v, z, one, lr, wd, rescale_grad, clip_grad, beta1, beta2, epsilon, t):
    # g = clip(rescale_grad * g + wd * w);  v = b2 * v + (1 - b2) * g^2
    # d_t = (1 - b1^t) / lr * (sqrt(v / (1 - b2^t)) + eps);  z = b1 * z + (1 - b1) * g - (d_t - b1 * d) * w
    # w = -z / d_t
    one_b1, one_b2 = one - beta1, one - beta2
    corr1, corr2 = one - beta1 ** t, one - beta2 ** t
    for i in range(weight.size):
        w = weight[i]
        g = _clip(rescale_grad * grad[i] + wd * w, clip_grad)
        vi = beta2 * v[i] + one_b2 * (g * g)
        dt = corr1 / lr * (math.sqrt(vi / corr2) + epsilon)
        zi = beta1 * z[i] + one_b1 * g - (dt - beta1 * d[i]) * w
        v[i] = vi
        d[i] = dt
        z[i] = zi
        out[i] = -zi / dt


@_jit
def _ftrl(out, weight, grad, z, n, one, lr, wd, rescale_grad, clip_gradient, lamda1, beta):
    # g = clip(rescale_grad * g);  z += (g - (sqrt(n + g^2) - sqrt(n)) * w / lr);  n += g^2
    # w = (sign(z) * lamda1 - z) / ((beta + sqrt(n)) / lr + wd), or 0 where |z| <= lamda1
    zero = one - one
    for i in range(weight.size):
        g = _clip(rescale_grad * grad[i], clip_gradient)
        ni = n[i]
        zi = z[i] + (g - (math.sqrt(ni + g * g) - math.sqrt(ni)) * weight[i] / lr)
        ni = ni + g * g
        z[i] = zi
        n[i] = ni
        if abs(zi) > lamda1:
            out[i] = (_sign(zi, zero, one) * lamda1 - zi) / ((beta + math.sqrt(ni)) / lr + wd)
        else:
            out[i] = zero



@_jit
def _adagrad(out, weight, grad, history, one, lr, rescale_grad, clip_gradient, epsilon):
    # g = clip(rescale_grad * g);  history += g^2;  w -= lr * g / sqrt(history + eps)      (no weight decay)
    for i in range(weight.size):
        g = _clip(grad[i] * rescale_grad, clip_gradient)
        h = history[i] + g * g
        history[i] = h
        out[i] = weight[i] - g / math.sqrt(h + epsilon) * lr

@_jit
def _lamb_phase1(out, weight, grad, mean, var, one, wd, rescale_grad, clip_gradient, beta1, beta2, epsilon, t,
                 bias_correction):
    # g = clip(rescale_grad * g);  mean, var as Adam's;  out = mean^ / (sqrt(var^) + eps) + wd * w
    # (mean^, var^: bias corrected when asked)
    one_b1, one_b2 = one - beta1, one - beta2
    corr1, corr2 = one - beta1 ** t, one - beta2 ** t
    for i in range(weight.size):
        g = _clip(grad[i] * rescale_grad, clip_gradient)
        m = beta1 * mean[i] + one_b1 * g
        v = beta2 * var[i] + one_b2 * g * g
        mean[i] = m
        var[i] = v
        if bias_correction:
            out[i] = (m / corr1) / (math.sqrt(v / corr2) + epsilon) + wd * weight[i]
        else:
            out[i] = m / (math.sqrt(v) + epsilon) + wd * weight[i]


@_jit
def _lamb_phase2(out, weight, g, r1, r2, lr, lower_bound, upper_bound, master):
    # r1 = ||w|| bounded to [lower_bound, upper_bound] (each when > 0); lr *= r1 / r2 unless either is 0
    # w = w - lr * g; `master` (mp_ version) is the float32 copy updated alongside
    r = r1[0]
    if lower_bound >= 0:
        r = max(r, lower_bound)
    if upper_bound >= 0:
        r = min(r, upper_bound)
    if r != 0 and r2[0] != 0:
        lr = lr * (r / r2[0])
    for i in range(weight.size):
        w = weight[i] - lr * g[i]
        if master.size:
            master[i] = w
        out[i] = w


@_jit
def _adamw(out, weight, grad, mean, var, master, lr, wd, eta, clip_gradient, beta1, beta2, epsilon, one_b1, one_b2,
           rescale_grad):
    # g = clip(rescale_grad * g);  mean = b1 * mean + (1 - b1) * g;  var = b2 * var + (1 - b2) * g^2
    # w = w - eta * (lr * mean / (sqrt(var) + eps) + wd * w)   (weight decay decoupled from the gradient)
    # `master` (mp_ version): the float32 copy read in place of the weight and updated; empty otherwise
    for i in range(weight.size):
        w = master[i] if master.size else weight[i]
        g = _clip(rescale_grad * grad[i], clip_gradient)
        m = beta1 * mean[i] + one_b1 * g
        v = beta2 * var[i] + one_b2 * (g * g)
        mean[i] = m
        var[i] = v
        w = w - eta * (lr * m / (math.sqrt(v) + epsilon) + wd * w)
        if master.size:
            master[i] = w
        out[i] = w


@_jit
def _multi_adamw(out, weight, grad, mean, var, master, lr, wd, eta, clip_gradient, beta1, beta2, epsilon,
                 rescale_grad):
    # _adamw with the moments grouped as MXNet's fused multi-weight kernel groups them (other rounding):
    # mean = b1 * (mean - g) + g;  var = b2 * (var - g^2) + g^2
    for i in range(weight.size):
        w = master[i] if master.size else weight[i]
        g = _clip(rescale_grad * grad[i], clip_gradient)
        m = beta1 * (mean[i] - g) + g
        gg = g * g
        v = beta2 * (var[i] - gg) + gg
        mean[i] = m
        var[i] = v
        w = w - eta * (lr * m / (math.sqrt(v) + epsilon) + wd * w)
        if master.size:
            master[i] = w
        out[i] = w


# ---- kernel wrappers ------------------------------------------------------------------------------------------------
def _scalars(dtype, *values):
    """MXNet's float params in the loop's dtype: rounded to float32 (a C++ float) first, then cast."""
    return tuple(dtype.type(np.float32(v)) for v in values)


def _run(loop, outputs, req, weight, grad, states, scalars, mixed=False, extra=()):
    """Run `loop(buf, weight, grad, *states, *scalars, *extra)` on flat arrays in the compute dtype and store
    the results: the output as req says, the states in place (through float32 copies for float16 states).
    `mixed`: a mixed-precision op, which computes in float32 whatever the weight's dtype."""
    out, r = outputs[0], req[0]
    work = F32 if mixed else compute_dtype(weight.dtype)
    flat = [_as(weight, work), _as(grad, work)]
    work_states = [s if s.dtype == work else s.astype(work) for s in states]
    buf = out if r in (WRITE, INPLACE) and out.dtype == work else np.empty(out.shape, work)
    loop(buf.reshape(-1), *flat, *[s.reshape(-1) for s in work_states], *scalars, *extra)
    for s, w in zip(states, work_states):
        if w is not s:
            np.copyto(s, w, casting="unsafe")
    if buf is not out:
        assign(out, r, buf)


def _as(x, dtype):
    """x in dtype: itself (flat view, writes go through) when it already is, else a flat copy."""
    return x.reshape(-1) if x.dtype == dtype else x.astype(dtype).reshape(-1)


def _hyper(p, dtype, *names):
    return _scalars(dtype, 1.0, *[getattr(p, n) for n in names])


_SGD = ("lr", "wd", "rescale_grad", "clip_gradient")


def _work(weight, mixed=False):
    return F32 if mixed else compute_dtype(weight.dtype)


def sgd_update(ctx, p, inputs, outputs, req):
    w, g = inputs
    _run(_sgd, outputs, req, w, g, (), _hyper(p, _work(w), *_SGD))


def sgd_mom_update(ctx, p, inputs, outputs, req):
    w, g, mom = inputs
    _run(_sgd_mom, outputs, req, w, g, (mom,), _hyper(p, _work(w), *_SGD, "momentum"))


def mp_sgd_update(ctx, p, inputs, outputs, req):
    w, g, w32 = inputs
    _run(_mp_sgd, outputs, req, w, g, (w32,), _hyper(p, F32, *_SGD), mixed=True)


def mp_sgd_mom_update(ctx, p, inputs, outputs, req):
    w, g, mom, w32 = inputs
    _run(_mp_sgd_mom, outputs, req, w, g, (mom, w32), _hyper(p, F32, *_SGD, "momentum"), mixed=True)


def nag_mom_update(ctx, p, inputs, outputs, req):
    w, g, mom = inputs
    alias = bool(np.shares_memory(outputs[0], w))
    _run(_nag_mom, outputs, req, w, g, (mom,), _hyper(p, _work(w), *_SGD, "momentum"), extra=(alias,))


def mp_nag_mom_update(ctx, p, inputs, outputs, req):
    w, g, mom, w32 = inputs
    _run(_mp_nag_mom, outputs, req, w, g, (mom, w32), _hyper(p, F32, *_SGD, "momentum"), mixed=True)


def multi_sgd_update(ctx, p, inputs, outputs, req):
    # inputs: weight_0, grad_0, weight_1, grad_1, ...; one output per weight, each with its lr and wd
    for k, out in enumerate(outputs):
        w, g = inputs[2 * k], inputs[2 * k + 1]
        scalars = _scalars(_work(w), 1.0, p.lrs[k], p.wds[k], p.rescale_grad, p.clip_gradient)
        _run(_multi_sgd, [out], [req[k]], w, g, (), scalars)


def signsgd_update(ctx, p, inputs, outputs, req):
    w, g = inputs
    _run(_signsgd, outputs, req, w, g, (), _hyper(p, _work(w), *_SGD))


def signum_update(ctx, p, inputs, outputs, req):
    w, g, mom = inputs
    _run(_signum, outputs, req, w, g, (mom,), _hyper(p, _work(w), *_SGD, "momentum", "wd_lh"))


def adam_update(ctx, p, inputs, outputs, req):
    w, g, mean, var = inputs
    _run(_adam, outputs, req, w, g, (mean, var), _hyper(p, _work(w), *_SGD, "beta1", "beta2", "epsilon"))


def rmsprop_update(ctx, p, inputs, outputs, req):
    w, g, n = inputs
    _run(_rmsprop, outputs, req, w, g, (n,), _hyper(p, _work(w), *_SGD, "gamma1", "epsilon", "clip_weights"))


def rmspropalex_update(ctx, p, inputs, outputs, req):
    w, g, n, gbar, delta = inputs
    _run(_rmspropalex, outputs, req, w, g, (n, gbar, delta),
         _hyper(p, _work(w), *_SGD, "gamma1", "gamma2", "epsilon", "clip_weights"))


def ftml_update(ctx, p, inputs, outputs, req):
    w, g, d, v, z = inputs
    work = _work(w)
    scalars = _hyper(p, work, "lr", "wd", "rescale_grad", "clip_grad", "beta1", "beta2")
    _run(_ftml, outputs, req, w, g, (d, v, z), scalars + (work.type(p.epsilon), work.type(p.t)))  # eps: a double


def ftrl_update(ctx, p, inputs, outputs, req):
    w, g, z, n = inputs
    _run(_ftrl, outputs, req, w, g, (z, n), _hyper(p, _work(w), *_SGD, "lamda1", "beta"))



def sparse_adagrad_update(ctx, p, inputs, outputs, req):
    w, g, history = inputs
    _run(_adagrad, outputs, req, w, g, (history,), _hyper(p, _work(w), "lr", "rescale_grad", "clip_gradient",
                                                          "epsilon"))

_LAMB1 = ("wd", "rescale_grad", "clip_gradient", "beta1", "beta2", "epsilon")


def lamb_update_phase1(ctx, p, inputs, outputs, req):
    w, g, mean, var = inputs
    work = _work(w)
    _run(_lamb_phase1, outputs, req, w, g, (mean, var), _hyper(p, work, *_LAMB1) + (work.type(p.t),),
         extra=(p.bias_correction,))


def mp_lamb_update_phase1(ctx, p, inputs, outputs, req):
    w, g, mean, var, w32 = inputs
    # phase 1 reads the master copy in place of the weight and leaves it unchanged
    _run(_lamb_phase1, outputs, req, w32, g, (mean, var), _hyper(p, F32, *_LAMB1) + (F32.type(p.t),),
         mixed=True, extra=(p.bias_correction,))


def lamb_update_phase2(ctx, p, inputs, outputs, req):
    w, g, r1, r2 = inputs
    work = _work(w)
    _phase2(outputs, req, w, g, r1, r2, p, work, np.empty(0, work))


def mp_lamb_update_phase2(ctx, p, inputs, outputs, req):
    w, g, r1, r2, w32 = inputs
    _phase2(outputs, req, w32, g, r1, r2, p, F32, w32.reshape(-1))


def _phase2(outputs, req, w, g, r1, r2, p, work, master):
    out, r = outputs[0], req[0]
    buf = out if r in (WRITE, INPLACE) and out.dtype == work else np.empty(out.shape, work)
    lr, lower, upper = _scalars(work, p.lr, p.lower_bound, p.upper_bound)
    _lamb_phase2(buf.reshape(-1), _as(w, work), _as(g, work), _as(r1, work), _as(r2, work), lr, lower, upper,
                 master)
    if buf is not out:
        assign(out, r, buf)


def adamw_update(ctx, p, inputs, outputs, req):
    w, g, mean, var, rescale = inputs
    _adamw_run(outputs, req, w, g, (mean, var, np.empty(0, _work(w))), rescale, p, mixed=False)


def mp_adamw_update(ctx, p, inputs, outputs, req):
    w, g, mean, var, w32, rescale = inputs
    _adamw_run(outputs, req, w, g, (mean, var, w32), rescale, p, mixed=True)


def _adamw_scale(rescale):
    """rescale_grad's first value as MXNet reads it (a float on the host), or None when it is NaN, infinite or 0:
    MXNet then skips the whole update, and here the states stay and the result is the weight (ops/update.py)."""
    if rescale.size == 0:
        raise ShapeError("rescale_grad is empty; it must hold the gradient's scale (its first value is read)")
    scale = np.float32(rescale.reshape(-1)[0])
    return scale if np.isfinite(scale) and scale != 0 else None


def _skip(out, req, w):
    if not np.shares_memory(out, w):
        assign(out, req, w)


def _adamw_run(outputs, req, w, g, states, rescale, p, mixed):
    scale = _adamw_scale(rescale)
    if scale is None:
        _skip(outputs[0], req[0], w)
        return
    work = _work(w, mixed)
    f32 = np.float32
    # (1 - beta) is computed in float (C++), then cast to the loop's dtype, as MXNet's kernels do
    scalars = _scalars(work, p.lr, p.wd, p.eta, p.clip_gradient, p.beta1, p.beta2, p.epsilon,
                       f32(1) - f32(p.beta1), f32(1) - f32(p.beta2), scale)
    _run(_adamw, outputs, req, w, g, states, scalars, mixed=mixed)


def multi_adamw_update(ctx, p, inputs, outputs, req):
    _multi_adamw_run(p, inputs, outputs, req, mixed=False)


def multi_mp_adamw_update(ctx, p, inputs, outputs, req):
    _multi_adamw_run(p, inputs, outputs, req, mixed=True)


def _multi_adamw_run(p, inputs, outputs, req, mixed):
    # inputs: (weight, grad, mean, var[, weight32]) per weight, then rescale_grad
    stride = 5 if mixed else 4
    scale = _adamw_scale(inputs[-1])
    for k, out in enumerate(outputs):
        w, g, mean, var = inputs[stride * k:stride * k + 4]
        if scale is None:
            _skip(out, req[k], w)
            continue
        master = inputs[stride * k + 4] if mixed else np.empty(0, _work(w))
        scalars = _scalars(_work(w, mixed), p.lrs[k], p.wds[k], p.etas[k], p.clip_gradient, p.beta1, p.beta2,
                           p.epsilon, scale)
        _run(_multi_adamw, [out], [req[k]], w, g, (mean, var, master), scalars, mixed=mixed)
