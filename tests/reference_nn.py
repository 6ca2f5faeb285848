"""numpy references for the neural-network ops and their `_backward_*` ops (tests/specs_nn.py uses them).

Written from MXNet 1.9.1's documented and observed semantics (see the docstrings of ops/nn.py, ops/softmax.py and
ops/activation.py for the facts checked on it); they never call our kernels. Floating results are computed in
float64 and rounded to the output dtype once. Gradient references are written per element or per row where the
kernels are vectorised, so the two differ in how they compute, not only in what they call.
"""
import math

import numpy as np

SELU_ALPHA, SELU_LAMBDA = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _f64(x):
    return np.asarray(x, dtype=np.float64)


def _param_dtype(dtype):
    """BatchNorm's parameter dtype for data of `dtype` (float16 data keeps float32 parameters)."""
    return np.dtype(np.float32) if np.dtype(dtype) == np.float16 else np.dtype(dtype)


# ---- ops the gradient pass uses --------------------------------------------------------------------------------
def add_n(p, *xs):
    total = xs[0].copy()
    for x in xs[1:]:
        total = (total + x).astype(xs[0].dtype)         # integers wrap; floats round at each step, as MXNet's
    return total


def zeros_like(p, x):
    return np.zeros_like(x)


def ones_like(p, x):
    return np.ones_like(x)


def block_grad(p, x):
    return x.copy()


def concat(p, *xs):
    return np.concatenate(xs, axis=p.dim)


def backward_concat(p, dy, *xs):
    bounds = np.cumsum([x.shape[p.dim] for x in xs])[:-1]
    return tuple(part.copy() for part in np.split(dy, bounds, axis=p.dim))


# ---- FullyConnected --------------------------------------------------------------------------------------------
def backward_fully_connected(p, dy, x, w):
    x2 = _f64(x).reshape(x.shape[0], -1) if p.flatten else _f64(x).reshape(-1, x.shape[-1])
    g = _f64(dy).reshape(x2.shape[0], p.num_hidden)
    grads = [(g @ _f64(w)).reshape(x.shape).astype(x.dtype), (g.T @ x2).astype(w.dtype)]
    if not p.no_bias:
        grads.append(g.sum(axis=0).astype(w.dtype))
    return tuple(grads)


# ---- activations -----------------------------------------------------------------------------------------------
# derivative of each activation, as a function of (input x, output y)
_ACT_GRAD = {
    "relu": lambda x, y: (y > 0).astype(np.float64),
    "sigmoid": lambda x, y: y * (1 - y),
    "tanh": lambda x, y: 1 - y * y,
    "softrelu": lambda x, y: 1 - np.exp(-y),
    "softsign": lambda x, y: 1 / (1 + np.abs(x)) ** 2,
}


def backward_activation(p, dy, v):
    """v is the activation's output, or its input for softsign."""
    v = _f64(v)
    return (_f64(dy) * _ACT_GRAD[p.act_type](v, v)).astype(dy.dtype)


def _gelu(x):
    return np.array([0.5 * t * (1 + math.erf(t / math.sqrt(2))) for t in x.ravel()]).reshape(x.shape)


def _leaky(p, x):
    neg = np.minimum(x, 0)
    return {"leaky": lambda: np.where(x > 0, x, p.slope * x),
            "elu": lambda: np.where(x > 0, x, p.slope * np.expm1(neg)),
            "selu": lambda: SELU_LAMBDA * np.where(x > 0, x, SELU_ALPHA * np.expm1(neg)),
            "gelu": lambda: _gelu(x)}[p.act_type]()


def leaky_relu(p, x, gamma=None):
    d = _f64(x)
    if p.act_type == "prelu":
        g = _f64(gamma).reshape((1, -1) + (1,) * (x.ndim - 2))
        return np.where(d > 0, d, g * d).astype(x.dtype)
    if p.act_type == "rrelu":                      # inference: the mean slope; the mask output holds it
        slope = (p.lower_bound + p.upper_bound) / 2
        return np.where(d > 0, d, slope * d).astype(x.dtype), np.full(x.shape, slope, x.dtype)
    return _leaky(p, d).astype(x.dtype)


def backward_leaky_relu(p, dy, x, y, extra=None):
    d, g = _f64(x), _f64(dy)
    if p.act_type == "prelu":
        gamma = _f64(extra).reshape((1, -1) + (1,) * (x.ndim - 2))
        dx = np.where(d > 0, g, gamma * g)
        contrib = np.where(d > 0, 0, d * g)
        dgamma = contrib.sum() if extra.size == 1 else contrib.swapaxes(0, 1).reshape(x.shape[1], -1).sum(axis=1)
        return dx.astype(x.dtype), np.reshape(dgamma, extra.shape).astype(extra.dtype)
    if p.act_type == "rrelu":
        return np.where(d > 0, g, _f64(extra) * g).astype(x.dtype)
    if p.act_type == "gelu":
        pdf = np.exp(-d * d / 2) / math.sqrt(2 * math.pi)
        cdf = np.array([0.5 * (1 + math.erf(t / math.sqrt(2))) for t in d.ravel()]).reshape(d.shape)
        return (g * (cdf + d * pdf)).astype(x.dtype)
    # leaky, elu, selu: MXNet's formulas read the output y (y > 0 exactly where x > 0 for a positive slope):
    # elu' = y + slope and selu' = y + alpha * lambda where x <= 0.
    o = _f64(y)
    neg = {"leaky": p.slope, "elu": o + p.slope, "selu": o + SELU_LAMBDA * SELU_ALPHA}[p.act_type]
    pos = SELU_LAMBDA if p.act_type == "selu" else 1.0
    return (g * np.where(o > 0, pos, neg)).astype(x.dtype)


# ---- softmax family --------------------------------------------------------------------------------------------
def _softmax_rows(rows, log=False):
    """(log-)softmax of each row of a 2-D float64 array, one row at a time."""
    out = np.empty_like(rows)
    for i, r in enumerate(rows):
        m = r.max()
        s = np.sum(np.exp(r - m))
        out[i] = (r - m - math.log(s)) if log else np.exp(r - m) / s
    return out


def _along(x, axis, fn):
    """Apply fn to the rows of x taken along `axis`."""
    moved = np.moveaxis(x, axis, -1)
    rows = fn(moved.reshape(-1, x.shape[axis]))
    return np.moveaxis(rows.reshape(moved.shape), -1, axis)


def softmax(p, x, length=None):
    d = _f64(x) / (p.temperature if p.temperature is not None else 1.0)
    axis = p.axis % x.ndim
    out_dtype = p.dtype if p.dtype is not None else x.dtype
    if length is None:
        return _along(d, axis, _softmax_rows).astype(out_dtype)
    moved = np.moveaxis(d, axis, -1)
    y = np.zeros_like(moved)
    for idx in np.ndindex(*moved.shape[:-1]):
        n = int(length[idx])
        if n > 0:
            y[idx][:n] = _softmax_rows(moved[idx][None, :n])[0]
    return np.moveaxis(y, -1, axis).astype(out_dtype)


def log_softmax(p, x):
    d = _f64(x) / (p.temperature if p.temperature is not None else 1.0)
    out_dtype = p.dtype if p.dtype is not None else x.dtype
    return _along(d, p.axis % x.ndim, lambda r: _softmax_rows(r, log=True)).astype(out_dtype)


def softmax_activation(p, x):
    axis = 1 if p.mode == "channel" else x.ndim - 1
    return _along(_f64(x), axis, _softmax_rows).astype(x.dtype)


def backward_softmax(p, dy, y, length=None):
    g, s = _f64(dy), _f64(y)
    t = p.temperature if p.temperature is not None else 1.0
    axis = p.axis % y.ndim
    moved_s, moved_g = np.moveaxis(s, axis, -1), np.moveaxis(g, axis, -1)
    dx = np.empty_like(moved_s)
    for idx in np.ndindex(*moved_s.shape[:-1]):
        r, d = moved_s[idx], moved_g[idx]
        dx[idx] = (np.diag(r) - np.outer(r, r)) @ d / t           # the softmax Jacobian, symmetric
    return np.moveaxis(dx, -1, axis).astype(dy.dtype)


def backward_log_softmax(p, dy, y):
    g, s = _f64(dy), _f64(y)
    t = p.temperature if p.temperature is not None else 1.0
    axis = p.axis % y.ndim
    moved_s, moved_g = np.moveaxis(s, axis, -1), np.moveaxis(g, axis, -1)
    dx = np.empty_like(moved_s)
    for idx in np.ndindex(*moved_s.shape[:-1]):
        prob, d = np.exp(moved_s[idx]), moved_g[idx]
        dx[idx] = (np.eye(len(d)) - prob[None, :]).T @ d / t      # d log p_i / d x_j = delta_ij - p_j
    return np.moveaxis(dx, -1, axis).astype(dy.dtype)


def backward_softmax_output(p, out, label):
    """MXNet 1.9.1's SoftmaxOutput gradient, one row (one (sample, position) with multi_output) at a time."""
    o = _f64(out)
    ignore = int(p.ignore_label)
    if label.shape == out.shape:
        g = (o - _f64(label)) * p.grad_scale
        return (g * o if p.out_grad else g).astype(out.dtype)
    if p.multi_output:
        n, k = out.shape[0], out.shape[1]
        o3 = o.reshape(n, k, -1)
        labels = np.trunc(_f64(label)).astype(np.int64).reshape(n, -1)
        g = np.empty_like(o3)
        for i in range(n):
            for j in range(o3.shape[2]):
                lab = labels[i, j]
                row = o3[i, :, j] - (np.arange(k) == lab)
                g[i, :, j] = 0 if p.use_ignore and lab == ignore else row
        count = {"null": 1, "batch": n, "valid": max(int(np.sum(labels != ignore)), 1)}[p.normalization]
        g = g * p.grad_scale / (1 if p.normalization == "valid" else o3.shape[2]) / count
        return (g * o3 if p.out_grad else g).reshape(out.shape).astype(out.dtype)
    rows = o.reshape(-1, out.shape[-1]) if p.preserve_shape else o.reshape(out.shape[0], -1)
    k = rows.shape[1]
    labels = np.trunc(_f64(label)).astype(np.int64).reshape(-1)
    g = np.empty_like(rows)
    for i in range(rows.shape[0]):
        lab = labels[i]
        if p.smooth_alpha:
            off = p.smooth_alpha / (k - 1) if k > 1 else 0.0      # no other class: only the target
            target = np.where(np.arange(k) == lab, 1 - p.smooth_alpha, off)
        else:
            target = (np.arange(k) == lab).astype(np.float64)
        g[i] = 0 if p.use_ignore and lab == ignore else rows[i] - target
    count = {"null": 1, "batch": labels.size, "valid": max(int(np.sum(labels != ignore)), 1)}[p.normalization]
    g = g * p.grad_scale / count
    return (g * rows if p.out_grad else g).reshape(out.shape).astype(out.dtype)


# ---- regression losses -----------------------------------------------------------------------------------------
def logistic_regression_output(p, x, label):
    return (1 / (1 + np.exp(-_f64(x)))).astype(x.dtype)


def mae_regression_output(p, x, label):
    return x.copy()


def _per_sample(label):
    return label.size // label.shape[0]


def backward_linear_reg_out(p, out, label):
    d = _f64(out) - _f64(label).reshape(out.shape)
    return (d * p.grad_scale / _per_sample(label)).astype(out.dtype)


backward_logistic_reg_out = backward_linear_reg_out


def backward_mae_reg_out(p, out, label):
    d = _f64(out) - _f64(label).reshape(out.shape)
    return (np.where(d > 0, 1.0, -1.0) * p.grad_scale / _per_sample(label)).astype(out.dtype)


# ---- BatchNorm (inference: the moving statistics) --------------------------------------------------------------
def _channel(v, x, axis):
    shape = [1] * x.ndim
    shape[axis % x.ndim] = -1
    return _f64(v).reshape(shape)


def batch_norm(p, x, gamma, beta, moving_mean, moving_var):
    """Inference (the table runs kernels with is_train=False): output, mean, 1/sqrt(var + eps), moving stats."""
    invstd = 1 / np.sqrt(_f64(moving_var) + p.eps)
    g = np.ones_like(invstd) if p.fix_gamma else _f64(gamma)
    y = (_f64(x) - _channel(moving_mean, x, p.axis)) * _channel(invstd * g, x, p.axis) + _channel(beta, x, p.axis)
    pdt = moving_mean.dtype
    return y.astype(x.dtype), moving_mean.astype(pdt), invstd.astype(pdt)


def backward_batch_norm(p, dy, x, gamma, mean, invstd, moving_mean, moving_var):
    """With is_train=False (and use_global_stats) the statistics are constants: dx = gamma * invstd * dy; the
    moving stats are left alone (only a training backward updates them)."""
    axis = p.axis % x.ndim
    xhat = (_f64(x) - _channel(mean, x, axis)) * _channel(invstd, x, axis)
    red = tuple(i for i in range(x.ndim) if i != axis)
    g = np.ones(x.shape[axis]) if p.fix_gamma else _f64(gamma)
    dx = _f64(dy) * _channel(g * _f64(invstd), x, axis)
    dgamma = np.zeros(x.shape[axis]) if p.fix_gamma else (_f64(dy) * xhat).sum(axis=red)
    return dx.astype(x.dtype), dgamma.astype(gamma.dtype), _f64(dy).sum(axis=red).astype(gamma.dtype)


def dropout(p, x):
    """Inference (mode='training'): the identity, and a mask of ones."""
    return x.copy(), np.ones_like(x)


# ---- softmin, MakeLoss, make_loss, SVMOutput --------------------------------------------------------------------
def softmin(p, x):
    d = -_f64(x) / (p.temperature if p.temperature is not None else 1.0)
    out_dtype = p.dtype if p.dtype is not None else x.dtype
    return _along(d, p.axis % x.ndim, _softmax_rows).astype(out_dtype)


def identity(p, x, *rest):
    return x.copy()


def backward_make_loss(p, out):
    """grad_scale over 1, the rows of out as a 2-D (-1, last) block (batch), or the count above valid_thresh."""
    count = {"null": 1, "batch": out.size // out.shape[-1] if out.shape[-1] else 1,
             "valid": int(np.sum(_f64(out) > p.valid_thresh))}[p.normalization]
    return np.full(out.shape, p.grad_scale / max(count, 1)).astype(out.dtype)


def backward_svm_output(p, out, label):
    """MXNet's L1/L2 hinge gradients, one element at a time (see ops/loss.py)."""
    k = out.shape[-1]
    x = _f64(out).reshape(-1, k)
    labels = _f64(label).reshape(-1)
    g = np.zeros_like(x)
    m, c = p.margin, p.regularization_coefficient
    for i, j in np.ndindex(*x.shape):
        v = x[i, j]
        if j == int(labels[i]):
            g[i, j] = -c * (m > v) if p.use_linear else (-2 * c * (m - v) if m > v else 0.0)
        else:
            g[i, j] = c * (m > -v) if p.use_linear else (2 * c * (m + v) if m > -v else 0.0)
    return g.reshape(out.shape).astype(out.dtype)
