"""Op spec rows for ops/ctc.py; see tests/op_specs.py. The reference sums the probability of every alignment
(all C^T paths, collapsed: repeats merged, blanks dropped) of a small problem, independently of the kernel's
alpha/beta recursion. MXNet's exact losses and gradients are compared with its fixture in
tests/test_mxnet_semantics.py. Import tests.op_specs, never this module first.
"""
import itertools

import numpy as np
from hypothesis import strategies as st

from ops.errors import ParamError
from tests.op_specs import Err, OpSpec, Shp, array


def _brute_force_loss(x, label, steps, blank):
    """-log of the summed probability of the paths over the first `steps` steps that collapse to `label`."""
    y = np.exp(x[:steps] - x[:steps].max(axis=1, keepdims=True))
    y /= y.sum(axis=1, keepdims=True)
    total = 0.0
    for path in itertools.product(range(x.shape[1]), repeat=steps):
        collapsed = [k for i, k in enumerate(path) if k != blank and (i == 0 or path[i - 1] != k)]
        if collapsed == list(label):
            total += np.prod([y[t, k] for t, k in enumerate(path)])
    return -np.log(total) if total > 0 else np.inf


def ctc_reference(p, data, label, *lengths):
    lengths = list(lengths)
    data_lengths = lengths.pop(0) if p.use_data_lengths else None
    label_lengths = lengths.pop(0) if p.use_label_lengths else None
    n_classes = data.shape[2]
    blank, padding = (0, 0) if p.blank_label == "first" else (n_classes - 1, -1)
    losses = []
    for i in range(data.shape[1]):
        row = label[i].astype(np.int64)
        if label_lengths is not None:
            symbols = row[:int(label_lengths[i])]
        else:
            stops = np.nonzero(row == padding)[0]
            symbols = row[:stops[0]] if stops.size else row
        steps = data.shape[0] if data_lengths is None else int(data_lengths[i])
        losses.append(_brute_force_loss(data[:, i, :].astype(np.float64), symbols, steps, blank))
    return np.array(losses, data.dtype)


def ctc_reference_with_grad(p, data, label, *lengths):
    """(loss, d loss / d data by central differences of the brute-force loss): the op's two outputs."""
    x = data.astype(np.float64)
    grad = np.zeros(x.shape)
    eps = 1e-6
    for index in np.ndindex(*x.shape):
        up, down = x.copy(), x.copy()
        up[index] += eps
        down[index] -= eps
        diff = (ctc_reference(p, up, label, *lengths) - ctc_reference(p, down, label, *lengths))[index[1]]
        grad[index] = diff / (2 * eps) if np.isfinite(diff) else 0.0
    return ctc_reference(p, data, label, *lengths), grad.astype(data.dtype)


def ctc_sample(draw, dtype):
    steps, batch, classes = draw(st.integers(1, 4)), draw(st.integers(1, 2)), draw(st.integers(2, 3))
    blank = draw(st.sampled_from(["first", "last"]))
    symbols = list(range(1, classes)) if blank == "first" else list(range(classes - 1))
    padding = 0 if blank == "first" else -1
    max_len = draw(st.integers(1, steps))
    labels, label_lengths, data_lengths = [], [], []
    for _ in range(batch):
        while True:     # an alignment must exist: a step per symbol and a blank between repeats
            n = draw(st.integers(0, max_len))
            row = [draw(st.sampled_from(symbols)) for _ in range(n)]
            needed = n + sum(a == b for a, b in zip(row, row[1:]))
            if needed <= steps:
                break
        labels.append(row + [padding] * (max_len - n))
        label_lengths.append(n)
        data_lengths.append(draw(st.integers(max(needed, 1), steps)))
    attrs = {"blank_label": blank}
    inputs = [array(draw, dtype, (steps, batch, classes), "unit"), np.array(labels, dtype)]
    if draw(st.booleans()):
        attrs["use_data_lengths"] = True
        inputs.append(np.array(data_lengths, dtype))
    if draw(st.booleans()):
        attrs["use_label_lengths"] = True
        inputs.append(np.array(label_lengths, dtype))
    return attrs, inputs


SPECS = [
    OpSpec("CTCLoss", ctc_reference_with_grad, ctc_sample, dtypes=("float32", "float64"),
           aliases=("ctc_loss", "_contrib_CTCLoss", "_contrib_ctc_loss"),
           tol={"float32": (1e-5, 1e-5), "float64": (1e-7, 1e-8)},     # the reference gradient is a difference
           grad=True, grad_inputs=("data",),
           attrs=(({"blank_label": "last", "use_data_lengths": "True"},
                   {"blank_label": "last", "use_data_lengths": True}),),
           errors=(Err({}, ((5, 2, 4), (2, 6)), match=r"cannot exceed the maximum sequence length"),
                   Err({}, ((5, 4), (2, 3)), match=r"3-D"),
                   Err({"blank_label": "middle"}, exc=ParamError, match="blank_label")),
           shapes=(Shp({}, ((5, 2, 4), (2, 3)), ((2,), (5, 2, 4))),
                   Shp({"use_data_lengths": True}, ((5, 2, 4), (2, 3), (2,)), ((2,), (5, 2, 4))))),
]

EXEMPT = {"_backward_CTCLoss": "internal to CTCLoss's gradient (its stored gradient times the head gradient); "
                               "checked through it in tests/test_gradients.py and tests/test_mxnet_semantics.py"}
