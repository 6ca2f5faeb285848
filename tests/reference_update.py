"""numpy references (float64) of the optimizer update ops (ops/update.py), from MXNet 1.9.1's documented rules.

Each takes the op's parsed params and its inputs (weight, grad, states...) and returns (output, [new states]); the
inputs are not changed. tests/specs_update.py uses the output; tests/test_optimizers_more.py checks the states too.
"""
import types

import numpy as np


def mxnet_params(name, p):
    """The op's params as its kernel sees them: MXNet declares them C++ floats, so each Python value is rounded
    to float32 (tuples too); ftml's epsilon is a double."""
    def f32(key, value):
        if isinstance(value, float) and not (name == "ftml_update" and key == "epsilon"):
            return float(np.float32(value))
        if isinstance(value, tuple):
            return tuple(float(np.float32(v)) for v in value)
        return value
    return types.SimpleNamespace(**{k: f32(k, v) for k, v in p.as_dict().items()})


def _f(x):
    return np.asarray(x, np.float64)


def _clip(x, bound):
    return x if bound < 0 else np.clip(x, -bound, bound)


def sgd_update(p, w, g):
    w, g = _f(w), _f(g)
    return (1 - p.lr * p.wd) * w - p.lr * _clip(p.rescale_grad * g, p.clip_gradient), []


def sgd_mom_update(p, w, g, mom):
    w, g, mom = _f(w), _f(g), _f(mom)
    mom = p.momentum * mom - p.lr * p.wd * w - p.lr * _clip(p.rescale_grad * g, p.clip_gradient)
    return w + mom, [mom]


def mp_sgd_update(p, w, g, w32):
    new, _ = sgd_update(p, w32, g)
    return new, [new]


def mp_sgd_mom_update(p, w, g, mom, w32):
    new, (mom,) = sgd_mom_update(p, w32, g, mom)
    return new, [mom, new]


def _nag(p, w, g, mom, decay_reads_new):
    w, g, mom = _f(w), _f(g), _f(mom)
    c = _clip(p.rescale_grad * g, p.clip_gradient)
    m = p.momentum * mom
    new = w - m + (p.momentum + 1) * (m - p.lr * (c + p.wd * w))
    return new, [m - p.lr * (c + p.wd * (new if decay_reads_new else w))]


def nag_mom_update(p, w, g, mom):
    return _nag(p, w, g, mom, False)        # out is a fresh array: the decay term reads the old weight


def mp_nag_mom_update(p, w, g, mom, w32):
    new, (mom,) = _nag(p, w32, g, mom, True)
    return new, [mom, new]


def multi_sgd_update(p, *ins):
    outs = []
    for k in range(p.num_weights):
        w, g = _f(ins[2 * k]), _f(ins[2 * k + 1])
        lr, wd = p.lrs[k], p.wds[k]
        outs.append(w - lr * wd * w - lr * _clip(p.rescale_grad * g, p.clip_gradient))
    return outs, []


def signsgd_update(p, w, g):
    w, g = _f(w), _f(g)
    return (1 - p.lr * p.wd) * w - p.lr * np.sign(_clip(p.rescale_grad * g, p.clip_gradient)), []


def signum_update(p, w, g, mom):
    w, g, mom = _f(w), _f(g), _f(mom)
    mom = p.momentum * mom - (1 - p.momentum) * (p.wd * w + _clip(p.rescale_grad * g, p.clip_gradient))
    return (1 - p.lr * p.wd_lh) * w + p.lr * np.sign(mom), [mom]


def adam_update(p, w, g, mean, var):
    w, g = _f(w), _f(g)
    g = _clip(p.rescale_grad * g + p.wd * w, p.clip_gradient)
    mean = p.beta1 * _f(mean) + (1 - p.beta1) * g
    var = p.beta2 * _f(var) + (1 - p.beta2) * g * g
    return w - p.lr * mean / (np.sqrt(var) + p.epsilon), [mean, var]


def rmsprop_update(p, w, g, n):
    w, g = _f(w), _f(g)
    g = _clip(p.rescale_grad * g + p.wd * w, p.clip_gradient)
    n = (1 - p.gamma1) * g * g + p.gamma1 * _f(n)
    return _clip(w - p.lr * g / np.sqrt(n + p.epsilon), p.clip_weights), [n]


def rmspropalex_update(p, w, g, n, gbar, delta):
    w, g = _f(w), _f(g)
    g = _clip(p.rescale_grad * g + p.wd * w, p.clip_gradient)
    n = (1 - p.gamma1) * g * g + p.gamma1 * _f(n)
    gbar = (1 - p.gamma1) * g + p.gamma1 * _f(gbar)
    delta = p.gamma2 * _f(delta) - p.lr * g / np.sqrt(n - gbar * gbar + p.epsilon)
    return _clip(w + delta, p.clip_weights), [n, gbar, delta]


def ftml_update(p, w, g, d, v, z):
    w, g = _f(w), _f(g)
    g = _clip(p.rescale_grad * g + p.wd * w, p.clip_grad)
    v = p.beta2 * _f(v) + (1 - p.beta2) * g * g
    d_t = (1 - p.beta1 ** p.t) / p.lr * (np.sqrt(v / (1 - p.beta2 ** p.t)) + p.epsilon)
    z = p.beta1 * _f(z) + (1 - p.beta1) * g - (d_t - p.beta1 * _f(d)) * w
    return -z / d_t, [d_t, v, z]


def ftrl_update(p, w, g, z, n):
    w, g, n = _f(w), _f(g), _f(n)
    g = _clip(p.rescale_grad * g, p.clip_gradient)
    z = _f(z) + g - (np.sqrt(n + g * g) - np.sqrt(n)) * w / p.lr
    n = n + g * g
    out = (np.sign(z) * p.lamda1 - z) / ((p.beta + np.sqrt(n)) / p.lr + p.wd) * (np.abs(z) > p.lamda1)
    return out, [z, n]


def lamb_update_phase1(p, w, g, mean, var):
    w, g = _f(w), _f(g)
    g = _clip(p.rescale_grad * g, p.clip_gradient)
    mean = p.beta1 * _f(mean) + (1 - p.beta1) * g
    var = p.beta2 * _f(var) + (1 - p.beta2) * g * g
    m, v = mean, var
    if p.bias_correction:
        m, v = mean / (1 - p.beta1 ** p.t), var / (1 - p.beta2 ** p.t)
    return m / (np.sqrt(v) + p.epsilon) + p.wd * w, [mean, var]


def mp_lamb_update_phase1(p, w, g, mean, var, w32):
    out, states = lamb_update_phase1(p, w32, g, mean, var)
    return out, states + [_f(w32)]


def lamb_update_phase2(p, w, g, r1, r2):
    w, g = _f(w), _f(g)
    r1, r2 = float(np.ravel(r1)[0]), float(np.ravel(r2)[0])
    if p.lower_bound >= 0:
        r1 = max(r1, p.lower_bound)
    if p.upper_bound >= 0:
        r1 = min(r1, p.upper_bound)
    lr = p.lr if r1 == 0 or r2 == 0 else p.lr * r1 / r2
    return w - lr * g, []


def mp_lamb_update_phase2(p, w, g, r1, r2, w32):
    new, _ = lamb_update_phase2(p, w32, g, r1, r2)
    return new, [new]


def _adamw_scale(rescale):
    """rescale_grad's first value as MXNet reads it (a float), or None when the update is skipped (NaN, Inf, 0)."""
    scale = float(np.float32(np.ravel(rescale)[0]))
    return scale if np.isfinite(scale) and scale != 0 else None


def _adamw(p, w, g, mean, var, scale):
    g = _clip(scale * _f(g), p.clip_gradient)
    mean = p.beta1 * _f(mean) + (1 - p.beta1) * g
    var = p.beta2 * _f(var) + (1 - p.beta2) * g * g
    w = _f(w)
    return w - p.eta * (p.lr * mean / (np.sqrt(var) + p.epsilon) + p.wd * w), mean, var


def _adamw_update(p, w, g, mean, var, rescale):
    scale = _adamw_scale(rescale)
    if scale is None:           # skipped: the states stay, the result is the weight
        return _f(w), [_f(mean), _f(var), _f(rescale)]
    new, mean, var = _adamw(p, w, g, mean, var, scale)
    return new, [mean, var, _f(rescale)]


def _mp_adamw_update(p, w, g, mean, var, w32, rescale):
    scale = _adamw_scale(rescale)
    if scale is None:
        return _f(w), [_f(mean), _f(var), _f(w32), _f(rescale)]
    new, mean, var = _adamw(p, w32, g, mean, var, scale)
    return new, [mean, var, new, _f(rescale)]


def _multi_adamw(p, ins, mixed):
    """The multi-weight ops: (weight, grad, mean, var[, weight32]) per weight, then rescale_grad. Returns the outputs
    and the written inputs (each weight's mean, var[, weight32]) in input order."""
    stride = 5 if mixed else 4
    scale = _adamw_scale(ins[-1])
    outs, states = [], []
    for k in range(p.num_weights):
        w, g, mean, var = ins[stride * k:stride * k + 4]
        master = [ins[stride * k + 4]] if mixed else []
        if scale is None:
            outs.append(_f(w))
            states += [_f(mean), _f(var)] + [_f(m) for m in master]
            continue
        one = types.SimpleNamespace(lr=p.lrs[k], wd=p.wds[k], eta=p.etas[k], beta1=p.beta1, beta2=p.beta2,
                                    epsilon=p.epsilon, clip_gradient=p.clip_gradient)
        new, mean, var = _adamw(one, master[0] if mixed else w, g, mean, var, scale)
        outs.append(new)
        states += [mean, var] + ([new] if mixed else [])
    return outs, states


def _multi_adamw_update(p, *ins):
    return _multi_adamw(p, ins, mixed=False)


def _multi_mp_adamw_update(p, *ins):
    return _multi_adamw(p, ins, mixed=True)


def _sparse_adagrad_update(p, w, g, history):
    # MXNet's sparse AdaGrad (no weight decay): history += clip(rescale_grad * g)^2; w -= lr * g / sqrt(history + eps)
    g = _clip(p.rescale_grad * _f(g), p.clip_gradient)
    history = _f(history) + g * g
    return _f(w) - p.lr * g / np.sqrt(history + p.epsilon), [history]
