"""Adaptive-rate optimizers: Adam, AdaGrad, RMSProp, AdaDelta, Adamax, Nadam, FTML, Ftrl, LAMB (and MXNet's
`Test`), with MXNet 1.9.1's rules, constructor params and defaults.

Where the gradient terms enter (checked against MXNet 1.9.1; its docstrings disagree in places):

    optimizer          g = ...                              weight decay
    AdaGrad, AdaDelta  clip(rescale_grad * grad)            outside the history: ... + wd * w
    Ftrl               clip(rescale_grad * grad)            in the closed form's denominator
    LAMB               clip(rescale_grad * grad)            added to the normalised step: ... + wd * w
    Adam, RMSProp,     clip(rescale_grad * grad + wd * w)   inside the clip, so it enters the moments
    FTML, Adamax, Nadam

`clip(x)` bounds x to [-clip_gradient, clip_gradient] when `clip_gradient` is set (the op-based rules skip it for
None and 0; AdaGrad, AdaDelta, Adamax and Nadam, written as NDArray arithmetic in MXNet too, clip to 0 when
given 0).
"""
import math

import numpy as np

from .. import ndarray as nd
from .optimizer import Optimizer, clip_kwargs, register, update_op, zeros_like
from .sparse import is_row_sparse

__all__ = ["AdaDelta", "AdaGrad", "Adam", "Adamax", "FTML", "Ftrl", "LAMB", "Nadam", "RMSProp", "Test"]


def _clip(optimizer, grad):
    """grad clipped to [-clip_gradient, clip_gradient] whenever clip_gradient is not None."""
    if optimizer.clip_gradient is not None:
        return nd.clip(grad, -optimizer.clip_gradient, optimizer.clip_gradient)
    return grad


@register
class Adam(Optimizer):
    """Adam (MXNet's `adam_update`). At step t, with g = clip(rescale_grad * grad + wd * weight)::

        mean = beta1 * mean + (1 - beta1) * g
        var = beta2 * var + (1 - beta2) * g ** 2
        weight -= lr * sqrt(1 - beta2 ** t) / (1 - beta1 ** t) * mean / (sqrt(var) + epsilon)

    The bias correction scales the learning rate; epsilon is not corrected. `t` counts this weight's updates.
    """

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8, lazy_update=True, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.lazy_update = lazy_update

    def create_state(self, index, weight):
        return (zeros_like(weight), zeros_like(weight))      # mean, variance

    def update(self, index, weight, grad, state):
        self._update_count(index)
        lr, wd = self._get_lr(index), self._get_wd(index)
        t = self._index_update_count[index]
        lr *= math.sqrt(1.0 - self.beta2 ** t) / (1.0 - self.beta1 ** t)
        mean, var = state
        update_op("adam_update", (weight, grad, mean, var), out=weight, lr=lr, wd=wd, beta1=self.beta1,
                  beta2=self.beta2, epsilon=self.epsilon, rescale_grad=self.rescale_grad, lazy_update=self.lazy_update,
                  **clip_kwargs(self))


@register
class AdaGrad(Optimizer):
    """AdaGrad (http://www.jmlr.org/papers/volume12/duchi11a/duchi11a.pdf). With g = clip(rescale_grad * grad)::

        history += g ** 2
        weight -= lr * (g / sqrt(history + eps) + wd * weight)
    """

    def __init__(self, eps=1e-7, **kwargs):
        super().__init__(**kwargs)
        self.float_stable_eps = eps

    def create_state(self, index, weight):
        return zeros_like(weight)      # history

    def update(self, index, weight, grad, state):
        self._update_count(index)
        lr, wd = self._get_lr(index), self._get_wd(index)
        if is_row_sparse(grad):     # MXNet's sparse adagrad_update: only the gradient's rows
            update_op("_sparse_adagrad_update", (weight, grad, state), out=weight, lr=lr, wd=wd,
                      epsilon=self.float_stable_eps, rescale_grad=self.rescale_grad, **clip_kwargs(self))
            return
        grad = _clip(self, grad * self.rescale_grad)
        state[:] += nd.square(grad)
        div = grad / nd.sqrt(state + self.float_stable_eps)
        weight[:] += (div + weight * wd) * -lr


@register
class RMSProp(Optimizer):
    """RMSProp (MXNet's `rmsprop_update`, or `rmspropalex_update` when centered). With
    g = clip(rescale_grad * grad + wd * weight)::

        n = (1 - gamma1) * g ** 2 + gamma1 * n
        weight -= lr * g / sqrt(n + epsilon)                           centered=False (Tieleman & Hinton)

        gbar = (1 - gamma1) * g + gamma1 * gbar
        delta = gamma2 * delta - lr * g / sqrt(n - gbar ** 2 + epsilon)
        weight += delta                                                centered=True (Graves)

    then the weight is clipped to [-clip_weights, clip_weights] when clip_weights is set.
    """

    def __init__(self, learning_rate=0.001, gamma1=0.9, gamma2=0.9, epsilon=1e-8, centered=False,
                 clip_weights=None, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.gamma1 = gamma1
        self.gamma2 = gamma2
        self.centered = centered
        self.epsilon = epsilon
        self.clip_weights = clip_weights

    def create_state(self, index, weight):
        if self.centered:
            return (zeros_like(weight), zeros_like(weight), zeros_like(weight))     # n, gbar, delta
        return (zeros_like(weight),)                                                # n

    def update(self, index, weight, grad, state):
        self._update_count(index)
        kwargs = {"gamma1": self.gamma1, "epsilon": self.epsilon, "rescale_grad": self.rescale_grad,
                  **clip_kwargs(self)}
        if self.clip_weights:
            kwargs["clip_weights"] = self.clip_weights
        lr, wd = self._get_lr(index), self._get_wd(index)
        if self.centered:
            update_op("rmspropalex_update", (weight, grad) + tuple(state), out=weight, lr=lr, wd=wd,
                      gamma2=self.gamma2, **kwargs)
        else:
            update_op("rmsprop_update", (weight, grad) + tuple(state), out=weight, lr=lr, wd=wd, **kwargs)


@register
class AdaDelta(Optimizer):
    """AdaDelta (https://arxiv.org/abs/1212.5701); no learning rate. With g = clip(rescale_grad * grad)::

        acc_g = rho * acc_g + (1 - rho) * g ** 2
        delta = sqrt(acc_delta + epsilon) / sqrt(acc_g + epsilon) * g
        acc_delta = rho * acc_delta + (1 - rho) * delta ** 2
        weight -= delta + wd * weight

    (MXNet also multiplies the caller's gradient array by rescale_grad in place; here it is left alone.)
    """

    def __init__(self, rho=0.90, epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.rho = rho
        self.epsilon = epsilon

    def create_state(self, index, weight):
        return (zeros_like(weight), zeros_like(weight))      # accumulated g, accumulated delta

    def update(self, index, weight, grad, state):
        wd = self._get_wd(index)
        self._update_count(index)
        grad = _clip(self, grad * self.rescale_grad)
        acc_g, acc_delta = state
        acc_g[:] *= self.rho
        acc_g[:] += (1.0 - self.rho) * grad * grad
        delta = nd.sqrt(acc_delta + self.epsilon) / nd.sqrt(acc_g + self.epsilon) * grad
        acc_delta[:] *= self.rho
        acc_delta[:] += (1.0 - self.rho) * delta * delta
        weight[:] -= delta + wd * weight


@register
class Ftrl(Optimizer):
    """FTRL-proximal (MXNet's `ftrl_update`; http://dl.acm.org/citation.cfm?id=2488200). With
    g = clip(rescale_grad * grad)::

        z += g - (sqrt(n + g ** 2) - sqrt(n)) * weight / lr
        n += g ** 2
        weight = (sign(z) * lamda1 - z) / ((beta + sqrt(n)) / lr + wd) * (|z| > lamda1)

    learning_rate defaults to 0.1 (and, as in MXNet, a scheduler's lr is ignored in favour of it).
    """

    def __init__(self, lamda1=0.01, learning_rate=0.1, beta=1, **kwargs):
        super().__init__(**kwargs)
        self.lamda1 = lamda1
        self.beta = beta
        self.lr = learning_rate

    def create_state(self, index, weight):
        return (zeros_like(weight), zeros_like(weight))      # z, n

    def update(self, index, weight, grad, state):
        self._update_count(index)
        wd, lr = self._get_wd(index), self._get_lr(index)
        z, n = state
        update_op("ftrl_update", (weight, grad, z, n), out=weight, lr=lr, wd=wd, lamda1=self.lamda1,
                  beta=self.beta, rescale_grad=self.rescale_grad, **clip_kwargs(self))


@register
class Adamax(Optimizer):
    """AdaMax, Adam with the infinity norm (http://arxiv.org/abs/1412.6980, section 7). With
    g = clip(rescale_grad * grad + wd * weight)::

        m = beta1 * m + (1 - beta1) * g
        u = maximum(beta2 * u, |g|)
        weight -= lr / (1 - beta1 ** t) * m / u
    """

    def __init__(self, learning_rate=0.002, beta1=0.9, beta2=0.999, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta1 = beta1
        self.beta2 = beta2

    def create_state(self, index, weight):
        return (zeros_like(weight), zeros_like(weight))      # m, u

    def update(self, index, weight, grad, state):
        self._update_count(index)
        lr, wd = self._get_lr(index), self._get_wd(index)
        t = self._index_update_count[index]
        lr /= 1.0 - self.beta1 ** t
        grad = _clip(self, grad * self.rescale_grad + wd * weight)
        m, u = state
        m[:] *= self.beta1
        m[:] += (1.0 - self.beta1) * grad
        u[:] = nd.maximum(self.beta2 * u, nd.abs(grad))
        weight[:] -= lr * m / u


@register
class Nadam(Optimizer):
    """Nesterov Adam (http://cs229.stanford.edu/proj2015/054_report.pdf). With
    g = clip(rescale_grad * grad + wd * weight), mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * schedule_decay)) and
    M = mu_1 * ... * mu_t (kept by the optimizer across all weights, as MXNet's `m_schedule`)::

        m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g ** 2
        m_bar = (1 - mu_t) * g / (1 - M) + mu_{t+1} * m / (1 - M * mu_{t+1})
        weight -= lr * m_bar / (sqrt(v / (1 - beta2 ** t)) + epsilon)
    """

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8, schedule_decay=0.004,
                 **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.schedule_decay = schedule_decay
        self.m_schedule = 1.0

    def create_state(self, index, weight):
        return (zeros_like(weight), zeros_like(weight))      # m, v

    def update(self, index, weight, grad, state):
        self._update_count(index)
        lr, wd = self._get_lr(index), self._get_wd(index)
        t = self._index_update_count[index]
        grad = _clip(self, grad * self.rescale_grad + wd * weight)
        momentum_t = self.beta1 * (1.0 - 0.5 * (pow(0.96, t * self.schedule_decay)))
        momentum_t_1 = self.beta1 * (1.0 - 0.5 * (pow(0.96, (t + 1) * self.schedule_decay)))
        self.m_schedule = self.m_schedule * momentum_t
        m_schedule_next = self.m_schedule * momentum_t_1
        m, v = state
        m[:] *= self.beta1
        m[:] += (1.0 - self.beta1) * grad
        v[:] *= self.beta2
        v[:] += (1.0 - self.beta2) * grad * grad
        grad_prime = grad / (1.0 - self.m_schedule)
        m_prime = m / (1.0 - m_schedule_next)
        v_prime = v / (1.0 - pow(self.beta2, t))
        m_bar = (1.0 - momentum_t) * grad_prime + momentum_t_1 * m_prime
        weight[:] -= lr * m_bar / (nd.sqrt(v_prime) + self.epsilon)


@register
class FTML(Optimizer):
    """FTML, follow the moving leader (MXNet's `ftml_update`; http://proceedings.mlr.press/v70/zheng17a).
    With g = clip(rescale_grad * grad + wd * weight) at step t::

        v = beta2 * v + (1 - beta2) * g ** 2
        d_t = (1 - beta1 ** t) / lr * (sqrt(v / (1 - beta2 ** t)) + epsilon)
        z = beta1 * z + (1 - beta1) * g - (d_t - beta1 * d_{t-1}) * weight
        weight = -z / d_t
    """

    def __init__(self, beta1=0.6, beta2=0.999, epsilon=1e-8, **kwargs):
        super().__init__(**kwargs)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon

    def create_state(self, index, weight):
        return (zeros_like(weight), zeros_like(weight), zeros_like(weight))      # d, v, z

    def update(self, index, weight, grad, state):
        self._update_count(index)
        lr, wd = self._get_lr(index), self._get_wd(index)
        t = self._index_update_count[index]
        d, v, z = state
        update_op("ftml_update", (weight, grad, d, v, z), out=weight, lr=lr, wd=wd, beta1=self.beta1,
                  beta2=self.beta2, epsilon=self.epsilon, rescale_grad=self.rescale_grad, t=t,
                  **clip_kwargs(self, "clip_grad"))


@register
class LAMB(Optimizer):
    """LAMB (https://arxiv.org/abs/1904.00962): Adam's moments of g = clip(rescale_grad * grad) give the step
    s = mean^ / (sqrt(var^) + epsilon) + wd * weight (`lamb_update_phase1`; bias corrected when asked); then
    weight -= lr * r1 / r2 * s with r1 = ||weight|| (bounded by lower_bound/upper_bound when set) and r2 = ||s||
    (`lamb_update_phase2`; lr alone when a norm is 0). multi_precision runs the `mp_` ops on the float32 master.
    (MXNet's Updater batches LAMB's weights through `multi_lamb_update`; each weight's step is the same rule.)
    """

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-6, lower_bound=None,
                 upper_bound=None, bias_correction=True, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.lower_bound = lower_bound
        self.upper_bound = upper_bound
        self.bias_correction = bias_correction

    def create_state(self, index, weight):
        return (zeros_like(weight), zeros_like(weight))      # mean, variance

    def _update_impl(self, index, weight, grad, state, mixed):
        self._update_count(index)
        lr, wd = self._get_lr(index), self._get_wd(index)
        t = self._index_update_count[index]
        kwargs = {"beta1": self.beta1, "beta2": self.beta2, "epsilon": self.epsilon, "t": t,
                  "bias_correction": self.bias_correction, "rescale_grad": self.rescale_grad, **clip_kwargs(self)}
        bounds = {k: v for k, v in (("lower_bound", self.lower_bound), ("upper_bound", self.upper_bound)) if v}
        if mixed:
            master, (mean, var) = state
            g = update_op("mp_lamb_update_phase1", (weight, grad, mean, var, master), wd=wd, **kwargs)
            update_op("mp_lamb_update_phase2", (weight, g, master.norm(), g.norm(), master), out=weight, lr=lr,
                      **bounds)
        else:
            mean, var = state
            g = update_op("lamb_update_phase1", (weight, grad, mean, var), wd=wd, **kwargs)
            update_op("lamb_update_phase2", (weight, g, weight.norm(), g.norm()), out=weight, lr=lr, **bounds)

    def update(self, index, weight, grad, state):
        self._update_impl(index, weight, grad, state, False)

    def update_multi_precision(self, index, weight, grad, state):
        self._update_impl(index, weight, grad, state, self.multi_precision and weight.dtype == np.float16)


@register
class Test(Optimizer):
    """MXNet's test optimizer: weight += rescale_grad * grad; the state is a float32 copy of the weight."""

    def create_state(self, index, weight):
        return nd.zeros(weight.shape, weight.context)

    def update(self, index, weight, grad, state):
        weight[:] += grad * self.rescale_grad
        state[:] = weight
