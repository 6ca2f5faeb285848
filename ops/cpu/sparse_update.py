"""Lazy optimizer updates with a row_sparse gradient: only the rows the gradient holds are touched.

Each kernel takes the weight and its states as 2-D arrays (rows, row_length) in the compute dtype, written in place,
and the gradient as its row indices `idx` (int64, sorted, unique) and values `gdata` (len(idx), row_length). Row
idx[k] of the weight and of every state gets MXNet 1.9.1's dense formula with gdata[k]; the other rows, their weight
decay and their momentum included, keep their values exactly (MXNet's `lazy_update`). The element formulas and their
rounding are those of the dense loops in ops/cpu/update.py (scalars rounded to float32 first, `_scalars`), which
match MXNet's sparse kernels term for term, so float32 results equal MXNet's to the bit
(tests/test_sparse_training.py, fixtures in tests/fixtures/mxnet-1.9.1/sparse_training/).

`adagrad_rows` is MXNet's `_sparse_adagrad_update`: it has no weight decay (MXNet refuses wd != 0).
"""
import math

import numba
import numpy as np

from ..errors import MXNetError
from .common import compute_dtype
from .update import _clip, _lr_grad, _scalars, _sign

_jit = numba.njit(nogil=True, cache=True)


@_jit
def sgd_rows(weight, idx, gdata, one, lr, wd, rescale_grad, clip_gradient):
    # w[r] = (1 - lr * wd) * w[r] - lr * clip(rescale_grad * g)
    decay = one - lr * wd
    for k in range(idx.size):
        r = idx[k]
        for j in range(weight.shape[1]):
            weight[r, j] = decay * weight[r, j] - _lr_grad(lr, rescale_grad, gdata[k, j], clip_gradient)


@_jit
def sgd_mom_rows(weight, mom, idx, gdata, one, lr, wd, rescale_grad, clip_gradient, momentum):
    # mom[r] = momentum * mom[r] - lr * wd * w[r] - lr * clip(rescale_grad * g);  w[r] += mom[r]
    for k in range(idx.size):
        r = idx[k]
        for j in range(weight.shape[1]):
            m = momentum * mom[r, j] - lr * wd * weight[r, j] - _lr_grad(lr, rescale_grad, gdata[k, j], clip_gradient)
            mom[r, j] = m
            weight[r, j] = weight[r, j] + m


@_jit
def adam_rows(weight, mean, var, idx, gdata, one, lr, wd, rescale_grad, clip_gradient, beta1, beta2, epsilon,
              square_first):
    # g = clip(rescale_grad * g + wd * w[r]);  mean, var as Adam's;  w[r] -= lr * mean / (sqrt(var) + eps)
    # MXNet's rounding of (1 - beta2) * g * g: its lazy kernel squares first only when clipping, its standard
    # (lazy_update=False) kernel always (`square_first`)
    one_b1, one_b2 = one - beta1, one - beta2
    square_first = square_first or clip_gradient >= 0
    for k in range(idx.size):
        r = idx[k]
        for j in range(weight.shape[1]):
            g = _clip(gdata[k, j] * rescale_grad + weight[r, j] * wd, clip_gradient)
            m = beta1 * mean[r, j] + one_b1 * g
            if square_first:
                v = beta2 * var[r, j] + one_b2 * (g * g)
            else:
                v = beta2 * var[r, j] + one_b2 * g * g
            mean[r, j] = m
            var[r, j] = v
            weight[r, j] = weight[r, j] - lr * m / (math.sqrt(v) + epsilon)


@_jit
def adagrad_rows(weight, history, idx, gdata, one, lr, rescale_grad, clip_gradient, epsilon):
    # g = clip(rescale_grad * g);  history[r] += g^2;  w[r] -= lr * g / sqrt(history[r] + eps)
    for k in range(idx.size):
        r = idx[k]
        for j in range(weight.shape[1]):
            g = _clip(gdata[k, j] * rescale_grad, clip_gradient)
            h = history[r, j] + g * g
            history[r, j] = h
            weight[r, j] = weight[r, j] - g / math.sqrt(h + epsilon) * lr


@_jit
def ftrl_rows(weight, z, n, idx, gdata, one, lr, wd, rescale_grad, clip_gradient, lamda1, beta):
    # g = clip(rescale_grad * g);  z[r] += g - (sqrt(n[r] + g^2) - sqrt(n[r])) * w[r] / lr;  n[r] += g^2
    # w[r] = (sign(z) * lamda1 - z) / ((beta + sqrt(n)) / lr + wd), or 0 where |z| <= lamda1
    zero = one - one
    for k in range(idx.size):
        r = idx[k]
        for j in range(weight.shape[1]):
            g = _clip(rescale_grad * gdata[k, j], clip_gradient)
            ni = n[r, j]
            zi = z[r, j] + (g - (math.sqrt(ni + g * g) - math.sqrt(ni)) * weight[r, j] / lr)
            ni = ni + g * g
            z[r, j] = zi
            n[r, j] = ni
            if abs(zi) > lamda1:
                weight[r, j] = (_sign(zi, zero, one) * lamda1 - zi) / ((beta + math.sqrt(ni)) / lr + wd)
            else:
                weight[r, j] = zero


# rule -> (kernel, names of its float params after `one`, in the kernel's order)
RULES = {
    "sgd": (sgd_rows, ("lr", "wd", "rescale_grad", "clip_gradient")),
    "sgd_mom": (sgd_mom_rows, ("lr", "wd", "rescale_grad", "clip_gradient", "momentum")),
    "adam": (adam_rows, ("lr", "wd", "rescale_grad", "clip_gradient", "beta1", "beta2", "epsilon")),
    "adagrad": (adagrad_rows, ("lr", "rescale_grad", "clip_gradient", "epsilon")),
    "ftrl": (ftrl_rows, ("lr", "wd", "rescale_grad", "clip_gradient", "lamda1", "beta")),
}


def lazy_update(rule, weight, states, idx, gdata, params, standard=False):
    """Apply `rule` (a key of RULES) in place to the rows `idx` of `weight` and `states` (numpy arrays of one
    shape, first axis the rows) with gradient rows `gdata`; `params` maps the rule's param names to numbers
    (clip_gradient < 0: no clipping). float16 arrays are computed in float32 and rounded once per element.
    `standard`: MXNet's standard update (lazy_update=False) run over all rows, whose Adam rounds differently."""
    kernel, names = RULES[rule]
    work = compute_dtype(weight.dtype)
    rows = weight.shape[0]
    arrays = [weight] + list(states)
    row_length = weight.size // rows if rows else 0
    flat = [a.reshape(rows, row_length) for a in arrays]
    work_arrays = [a if a.dtype == work else a.astype(work) for a in flat]
    idx = np.ascontiguousarray(idx, dtype=np.int64)
    if idx.size and (idx[0] < 0 or idx[-1] >= rows):        # sorted: the ends bound every row (no bounds checks)
        raise MXNetError("%s update: gradient row %d out of range [0, %d)" % (rule, idx[0] if idx[0] < 0 else idx[-1],
                                                                              rows))
    g = gdata.reshape(len(idx), row_length)
    g = g if g.dtype == work else g.astype(work)
    kernel(*work_arrays, idx, g,
           *_scalars(work, 1.0, *[params[n] for n in names]), *((standard,) if rule == "adam" else ()))
    for a, w in zip(flat, work_arrays):
        if w is not a:
            np.copyto(a, w, casting="unsafe")


@_jit
def _stable_order(ids):
    """The order a stable argsort of `ids` gives, from one plain sort of the keys ids[k] * m + k (m lookups): equal
    ids stay in lookup order without a stable sort's cost. Empty when a key could overflow."""
    m = ids.size
    if m == 0 or ids.max() >= (1 << 62) // m or ids.min() <= -((1 << 62) // m):
        return np.empty(0, np.int64)
    keys = np.empty(m, np.int64)
    for k in range(m):
        keys[k] = ids[k] * m + k
    keys.sort()
    for k in range(m):
        keys[k] = keys[k] % m      # the key's lookup (numba's % floors, as Python's: negative ids too)
    return keys


@_jit
def _sum_rows_in_order(ids, values, order, out_ids, out_values):
    n = 0
    for k in range(order.size):
        i = order[k]
        if n == 0 or out_ids[n - 1] != ids[i]:
            out_ids[n] = ids[i]
            for j in range(values.shape[1]):
                out_values[n, j] = values[i, j]
            n += 1
        else:
            for j in range(values.shape[1]):
                out_values[n - 1, j] += values[i, j]
    return n


def sum_rows(ids, values):
    """(unique ids sorted, the sum of the rows of `values` (len(ids), width) per id, in the order of `ids`): the
    row_sparse gradient of a lookup of rows `ids` whose outputs got gradients `values` (an Embedding's backward)."""
    ids = np.ascontiguousarray(ids, dtype=np.int64)
    values = np.ascontiguousarray(values)
    out_ids = np.empty(ids.size, np.int64)
    out_values = np.empty((ids.size, values.shape[1]), values.dtype)
    order = _stable_order(ids)
    if order.size != ids.size:      # ids too far apart to key: numpy's stable argsort
        order = np.argsort(ids, kind="stable")
    n = _sum_rows_in_order(ids, values, order, out_ids, out_values)
    return out_ids[:n], out_values[:n]
