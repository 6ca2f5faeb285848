"""`mx.optimizer.contrib`: GroupAdaGrad, AdaGrad with one history value per row of the weight."""
from .. import ndarray as nd
from .optimizer import Optimizer, register

__all__ = ["GroupAdaGrad"]


@register
class GroupAdaGrad(Optimizer):
    """AdaGrad with row-wise learning rates, for 2-D weights (MXNet's contrib GroupAdaGrad). With
    g = clip(rescale_grad * grad) (clipped whenever clip_gradient is not None)::

        history += mean(g ** 2, axis=1, keepdims=True)      (history has shape (rows, 1))
        weight -= lr * g / sqrt(history + eps)

    Weight decay is not supported.
    """

    def __init__(self, eps=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.float_stable_eps = eps

    def create_state(self, index, weight):
        if len(weight.shape) != 2:
            raise ValueError("GroupAdaGrad: the weight must be 2-D, got shape %s" % (weight.shape,))
        return nd.zeros((weight.shape[0], 1), weight.context)      # history

    def update(self, index, weight, grad, state):
        self._update_count(index)
        lr, wd = self._get_lr(index), self._get_wd(index)
        if wd != 0:
            raise ValueError("Weight decay is not supported for GroupAdaGrad (got wd=%s)" % wd)
        grad = grad * self.rescale_grad
        if self.clip_gradient is not None:
            grad = nd.clip(grad, -self.clip_gradient, self.clip_gradient)
        state[:] += nd.mean(nd.square(grad), axis=1, keepdims=True)
        weight[:] -= nd.broadcast_div(lr * grad, nd.sqrt(state + self.float_stable_eps))
