"""CPU kernels of ops/loss.py: MakeLoss, make_loss, SVMOutput (identity forwards) and their backward kernels."""
import numpy as np

from .common import assign, compute_dtype, copy_view


def identity(ctx, p, inputs, outputs, req):
    copy_view(inputs[0], outputs[0], req[0])


def backward_make_loss(ctx, p, inputs, outputs, req):
    """A constant gradient: grad_scale / (1, prod(shape[:-1]) or the count of outputs above valid_thresh)."""
    out = inputs[0]
    if p.normalization == "batch":
        count = out.size // out.shape[-1] if out.ndim and out.shape[-1] else 1
    elif p.normalization == "valid":
        count = int(np.count_nonzero(out > p.valid_thresh))
    else:
        count = 1
    assign(outputs[0], req[0], p.grad_scale / max(count, 1))


def backward_svm_output(ctx, p, inputs, outputs, req):
    """inputs (output, label) -> d_data; see ops/loss.py's docstring for the L1 and L2 hinge gradients."""
    out, label = inputs
    k = out.shape[-1] if out.ndim else 1
    x = out.astype(compute_dtype(out.dtype)).reshape(-1, k)
    is_label = np.arange(k) == np.trunc(label.astype(np.float64)).reshape(-1, 1)
    margin, c = x.dtype.type(p.margin), x.dtype.type(p.regularization_coefficient)
    if p.use_linear:
        g = np.where(is_label, -(margin > x).astype(x.dtype), margin > -x).astype(x.dtype) * c
    else:
        g = np.where(is_label, np.where(margin > x, -2 * (margin - x), 0),
                     np.where(margin > -x, 2 * (margin + x), 0)).astype(x.dtype) * c
    assign(outputs[0], req[0], g.reshape(out.shape))
