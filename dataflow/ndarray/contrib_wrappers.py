"""MXNet's Python wrappers in `mx.nd.contrib` over the AdamW update ops (ops/update.py): `adamw_update`,
`mp_adamw_update`, `multi_adamw_update`, `multi_mp_adamw_update`.

The ops take rescale_grad as an NDArray input (so a loss scaler can change it without a new op call signature);
these wrappers also accept a number and make it a (1,) float32 array on the weight's context, as MXNet's do.
The multi_* forms interleave each weight's arrays into one call of the fused op (`_multi_adamw_update`).
"""
from .creation import full
from .ndarray import NDArray

__all__ = ["adamw_update", "mp_adamw_update", "multi_adamw_update", "multi_mp_adamw_update"]


def _rescale_array(rescale_grad, ctx):
    if isinstance(rescale_grad, NDArray):
        return rescale_grad.as_in_context(ctx)
    return full(shape=(1,), val=rescale_grad, ctx=ctx)


def _op(name):
    from . import _internal      # generated from the registry once dataflow.ndarray is populated
    return getattr(_internal, name)


def adamw_update(weight, grad, mean, var, rescale_grad, lr, eta, beta1=0.9, beta2=0.999, epsilon=1e-8, wd=0,
                 clip_gradient=-1, out=None, name=None, **kwargs):
    """The AdamW update (`_adamw_update`): mean and var in place, the new weight in `out`.

    rescale_grad : NDArray or float
        Rescale gradient to rescale_grad * grad. If NaN, Inf, or 0, the update is skipped.
    """
    return _op("_adamw_update")(weight, grad, mean, var, _rescale_array(rescale_grad, weight.context), lr=lr,
                                eta=eta, beta1=beta1, beta2=beta2, epsilon=epsilon, wd=wd,
                                clip_gradient=clip_gradient, out=out, name=name, **kwargs)


def mp_adamw_update(weight, grad, mean, var, weight32, rescale_grad, lr, eta, beta1=0.9, beta2=0.999, epsilon=1e-8,
                    wd=0, clip_gradient=-1, out=None, name=None, **kwargs):
    """The multi-precision AdamW update (`_mp_adamw_update`) of the float32 master copy weight32.

    rescale_grad : NDArray or float
        Rescale gradient to rescale_grad * grad. If NaN, Inf, or 0, the update is skipped.
    """
    return _op("_mp_adamw_update")(weight, grad, mean, var, weight32,
                                   _rescale_array(rescale_grad, weight.context), lr=lr, eta=eta, beta1=beta1,
                                   beta2=beta2, epsilon=epsilon, wd=wd, clip_gradient=clip_gradient, out=out,
                                   name=name, **kwargs)


def _multi(op_name, weights, grads, states, rescale_grad, lrs, wds, etas, out, name, size, kwargs):
    size = size or len(weights)
    inputs = [a for group in zip(weights, grads, *states) for a in group][:size * (2 + len(states))]
    inputs.append(_rescale_array(rescale_grad, weights[0].context))
    return _op(op_name)(*inputs, out=out, num_weights=size, lrs=lrs, wds=wds, etas=etas, name=name, **kwargs)


def multi_adamw_update(weights, grads, mean, var, rescale_grad, lrs, wds, etas, out=None, name=None, size=0,
                       **kwargs):
    """adamw_update of `size` weights (all of them by default) in one op (`_multi_adamw_update`), each with its own
    lr, wd and eta (lists). Other keywords (beta1, beta2, epsilon, clip_gradient) are shared."""
    return _multi("_multi_adamw_update", weights, grads, (mean, var), rescale_grad, lrs, wds, etas, out, name,
                  size, kwargs)


def multi_mp_adamw_update(weights, grads, mean, var, weights32, rescale_grad, lrs, wds, etas, out=None, name=None,
                          size=0, **kwargs):
    """mp_adamw_update of `size` weights with their float32 master copies `weights32` in one op
    (`_multi_mp_adamw_update`); see multi_adamw_update."""
    return _multi("_multi_mp_adamw_update", weights, grads, (mean, var, weights32), rescale_grad, lrs, wds, etas,
                  out, name, size, kwargs)


def attach(contrib):
    """Put the wrappers, and the control flow functions (contrib_control_flow.py), on the generated
    `mx.nd.contrib` module."""
    from . import contrib_control_flow
    for name in __all__:
        setattr(contrib, name, globals()[name])
    for name in contrib_control_flow.__all__:
        setattr(contrib, name, getattr(contrib_control_flow, name))
