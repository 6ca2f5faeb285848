"""CPU kernel of CTCLoss: the connectionist temporal classification loss of each sequence and, in the same pass,
its gradient with respect to the activations (MXNet keeps it as the op's hidden second output).

Per sample, with y = softmax(x_t) over the classes, l' the label with blanks around and between its symbols
(length S = 2L + 1), alpha/beta the forward/backward variables in log space (Graves et al. 2006, both including
the emission at t): loss = -log p(l | x) = -logsumexp(alpha_{T-1}(S-1), alpha_{T-1}(S-2)), and
d loss / d x_t^k = y_t^k - sum_{s: l'_s = k} exp(alpha_t(s) + beta_t(s) - log y_t^k - log p). Steps at or after
the sample's length get gradient 0. An impossible alignment (p = 0) gives loss inf and gradient 0.
"""
import numba
import numpy as np

from ..registry import NULL
from .common import assign

_NEG_INF = -np.inf


@numba.njit(cache=True)
def _logaddexp(a, b):
    if a == _NEG_INF:
        return b
    if b == _NEG_INF:
        return a
    m = max(a, b)
    return m + np.log(np.exp(a - m) + np.exp(b - m))


@numba.njit(cache=True)
def _ctc_sample(x, label, n_steps, blank, grad):
    """Loss of one sequence x (T, C) with `label` (its symbols), over its first n_steps; writes grad (T, C)."""
    n_classes = x.shape[1]
    log_y = np.empty((n_steps, n_classes))
    for t in range(n_steps):
        m = x[t, 0]
        for k in range(1, n_classes):
            m = max(m, x[t, k])
        total = 0.0
        for k in range(n_classes):
            total += np.exp(x[t, k] - m)
        for k in range(n_classes):
            log_y[t, k] = x[t, k] - m - np.log(total)
    n_symbols = 2 * label.shape[0] + 1
    ext = np.empty(n_symbols, np.int64)
    for s in range(n_symbols):
        ext[s] = blank if s % 2 == 0 else label[s // 2]
    alpha = np.full((n_steps, n_symbols), _NEG_INF)
    beta = np.full((n_steps, n_symbols), _NEG_INF)
    if n_steps == 0:
        return np.inf
    alpha[0, 0] = log_y[0, ext[0]]
    if n_symbols > 1:
        alpha[0, 1] = log_y[0, ext[1]]
    for t in range(1, n_steps):
        for s in range(n_symbols):
            a = alpha[t - 1, s]
            if s > 0:
                a = _logaddexp(a, alpha[t - 1, s - 1])
            if s > 1 and ext[s] != blank and ext[s] != ext[s - 2]:
                a = _logaddexp(a, alpha[t - 1, s - 2])
            if a != _NEG_INF:
                alpha[t, s] = a + log_y[t, ext[s]]
    last = n_steps - 1
    beta[last, n_symbols - 1] = log_y[last, ext[n_symbols - 1]]
    if n_symbols > 1:
        beta[last, n_symbols - 2] = log_y[last, ext[n_symbols - 2]]
    for t in range(last - 1, -1, -1):
        for s in range(n_symbols):
            b = beta[t + 1, s]
            if s < n_symbols - 1:
                b = _logaddexp(b, beta[t + 1, s + 1])
            if s < n_symbols - 2 and ext[s] != blank and ext[s] != ext[s + 2]:
                b = _logaddexp(b, beta[t + 1, s + 2])
            if b != _NEG_INF:
                beta[t, s] = b + log_y[t, ext[s]]
    log_p = alpha[last, n_symbols - 1]
    if n_symbols > 1:
        log_p = _logaddexp(log_p, alpha[last, n_symbols - 2])
    if log_p == _NEG_INF:
        return np.inf
    for t in range(n_steps):
        occupancy = np.full(n_classes, _NEG_INF)
        for s in range(n_symbols):
            occupancy[ext[s]] = _logaddexp(occupancy[ext[s]], alpha[t, s] + beta[t, s])
        for k in range(n_classes):
            grad[t, k] = np.exp(log_y[t, k]) - np.exp(occupancy[k] - log_y[t, k] - log_p)
    return -log_p


def _label_of(row, length, padding):
    """The symbols of one label row: its first `length` entries, or those before the first padding value."""
    row = row.astype(np.int64)
    if length is None:
        stops = np.nonzero(row == padding)[0]
        length = stops[0] if stops.size else row.size
    return np.ascontiguousarray(row[:int(length)])


def ctc_loss(ctx, p, inputs, outputs, req):
    """inputs: data (T, N, C), label (N, L)[, data_lengths (N,)][, label_lengths (N,)]; outputs: loss (N,) and the
    gradient of the loss with respect to data (T, N, C)."""
    data, label = inputs[0], inputs[1]
    rest = list(inputs[2:])
    data_lengths = rest.pop(0) if p.use_data_lengths else None
    label_lengths = rest.pop(0) if p.use_label_lengths else None
    n_steps, batch, n_classes = data.shape
    blank, padding = (0, 0) if p.blank_label == "first" else (n_classes - 1, -1)
    x = data.astype(np.float64)
    losses = np.empty(batch)
    grads = np.zeros((n_steps, batch, n_classes))
    for i in range(batch):
        steps = n_steps if data_lengths is None else int(data_lengths[i])
        symbols = _label_of(label[i], None if label_lengths is None else label_lengths[i], padding)
        sample_grad = np.zeros((n_steps, n_classes))
        losses[i] = _ctc_sample(np.ascontiguousarray(x[:, i, :]), symbols, steps, blank, sample_grad)
        grads[:, i, :] = sample_grad
    assign(outputs[0], req[0], losses)
    if len(outputs) > 1 and req[1] != NULL:
        assign(outputs[1], req[1], grads)


def backward_ctc_loss(ctx, p, inputs, outputs, req):
    """(head gradient (N,), forward gradient (T, N, C)) -> data gradient = forward gradient * head[:, None]."""
    dy, grad = inputs
    assign(outputs[0], req[0], grad * dy.reshape(1, -1, 1))
