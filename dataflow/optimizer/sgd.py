"""The SGD family: SGD (ccSGD), NAG, Signum, LARS, LBSGD, DCASGD and SGLD, with MXNet 1.9.1's rules and defaults.

Where the gradient terms enter (checked against MXNet 1.9.1; its docstrings disagree in places), with
g = clip(rescale_grad * grad):

    SGD, NAG, LARS, LBSGD   after clipping: lr * (g + wd * w)    (LARS and LBSGD scale lr per layer first)
    Signum                  in the momentum: mom = momentum * mom - (1 - momentum) * (g + wd * w)
    DCASGD, SGLD            NDArray arithmetic, clipping whenever clip_gradient is not None

`lazy_update` only concerns row_sparse gradients (dataflow/optimizer/sparse.py).

Examples
--------
>>> import dataflow as mx
>>> opt = mx.optimizer.create('sgd', learning_rate=0.1, momentum=0.9)
>>> w, g = mx.nd.array([1.0, 2.0]), mx.nd.array([0.5, -1.0])
>>> state = opt.create_state(0, w)
>>> opt.update(0, w, g, state)
>>> w.asnumpy()
array([0.95, 2.1 ], dtype=float32)
>>> opt.update(0, w, g, state)    # momentum: the step grows to 0.9 * 0.05 + 0.05
>>> w.asnumpy()
array([0.855, 2.29 ], dtype=float32)
"""
import logging
import math
import warnings

import numpy as np

from .. import ndarray as nd
from .optimizer import Optimizer, clip_kwargs, register, update_op, zeros_like
from .sparse import is_row_sparse

__all__ = ["DCASGD", "LARS", "LBSGD", "NAG", "SGD", "SGLD", "Signum", "ccSGD"]


def _warn_float16(name):
    warnings.warn("Accumulating with float16 in optimizer can lead to poor accuracy or slow convergence. "
                  "Consider using multi_precision=True option of the %s optimizer" % name, stacklevel=3)


def _sgd_kwargs(opt, momentum=None):
    kwargs = {"rescale_grad": opt.rescale_grad, **clip_kwargs(opt)}
    if opt.momentum > 0:
        kwargs["momentum"] = opt.momentum if momentum is None else momentum
    return kwargs


def _sgd_step(weight, grad, state, lr, wd, mixed, kwargs, multi=True):
    """MXNet's SGD step; dense SGD runs MXNet's multi-weight kernels, whose rounding differs without momentum
    (`multi=True`); with momentum sgd_mom_update's rounding is the multi kernel's. A mixed-precision state is
    (momentum or None, float32 weight32)."""
    if mixed:
        mom, master = state
        if mom is not None:
            update_op("mp_sgd_mom_update", (weight, grad, mom, master), out=weight, lr=lr, wd=wd, **kwargs)
        else:
            update_op("mp_sgd_update", (weight, grad, master), out=weight, lr=lr, wd=wd, **kwargs)
    elif state is not None:
        update_op("sgd_mom_update", (weight, grad, state), out=weight, lr=lr, wd=wd, **kwargs)
    elif multi:
        update_op("multi_sgd_update", (weight, grad), out=weight, lrs=(lr,), wds=(wd,), num_weights=1, **kwargs)
    else:
        update_op("sgd_update", (weight, grad), out=weight, lr=lr, wd=wd, **kwargs)


class _MasterCopy(Optimizer):
    """Optimizers with their own mixed-precision ops: the state is (momentum or None, float32 weight32)."""

    def create_state_multi_precision(self, index, weight):
        if self.multi_precision and weight.dtype == np.float16:
            master = weight.astype(np.float32)
            return (self.create_state(index, master), master)
        if weight.dtype == np.float16:
            _warn_float16(type(self).__name__)
        return self.create_state(index, weight)

    def create_state(self, index, weight):
        return zeros_like(weight) if self.momentum != 0.0 else None

    def update_multi_precision(self, index, weight, grad, state):
        mixed = self.multi_precision and weight.dtype == np.float16 and isinstance(state, (tuple, list))
        self._update_impl(index, weight, grad, state, mixed)

    def update(self, index, weight, grad, state):
        self._update_impl(index, weight, grad, state, False)


@register
class SGD(_MasterCopy):
    """Stochastic gradient descent with momentum and weight decay (MXNet's `sgd_update`/`sgd_mom_update`)::

        state = momentum * state - lr * (clip(rescale_grad * grad) + wd * weight)
        weight = weight + state

    Without momentum there is no state: `weight -= lr * (clip(rescale_grad * grad) + wd * weight)`.
    """

    def __init__(self, momentum=0.0, lazy_update=True, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum
        self.lazy_update = lazy_update

    def _update_impl(self, index, weight, grad, state, mixed):
        self._update_count(index)
        kwargs = _sgd_kwargs(self)
        if is_row_sparse(grad):
            kwargs["lazy_update"] = self.lazy_update
        _sgd_step(weight, grad, state, self._get_lr(index), self._get_wd(index), mixed, kwargs)


@register
class ccSGD(SGD):  # noqa: N801 - MXNet's name
    """[DEPRECATED] Same as `SGD` (MXNet keeps it for backward compatibility)."""


@register
class NAG(_MasterCopy):
    """Nesterov accelerated gradient (MXNet's `nag_mom_update`). With g = clip(rescale_grad * grad) + wd * weight::

        state = momentum * state - lr * g
        weight = weight + momentum * state - lr * g

    (the state's decay term reads the updated weight, as MXNet's does: Note [NAG reads the output] in
    ops/cpu/update.py). Without momentum this is plain SGD (`sgd_update`).
    """

    def __init__(self, momentum=0.0, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum

    def _update_impl(self, index, weight, grad, state, mixed):
        self._update_count(index)
        lr, wd, kwargs = self._get_lr(index), self._get_wd(index), _sgd_kwargs(self)
        if mixed and state[0] is not None:
            update_op("mp_nag_mom_update", (weight, grad, state[0], state[1]), out=weight, lr=lr, wd=wd, **kwargs)
        elif not mixed and state is not None:
            update_op("nag_mom_update", (weight, grad, state), out=weight, lr=lr, wd=wd, **kwargs)
        else:
            _sgd_step(weight, grad, state, lr, wd, mixed, kwargs, multi=False)


@register
class Signum(Optimizer):
    """Signum: the sign of the momentum (MXNet's `signum_update`; `signsgd_update` without momentum)::

        state = momentum * state - (1 - momentum) * (clip(rescale_grad * grad) + wd * weight)
        weight = (1 - lr * wd_lh) * weight + lr * sign(state)

    wd_lh is decoupled weight decay (https://arxiv.org/abs/1711.05101).
    """

    def __init__(self, learning_rate=0.01, momentum=0.9, wd_lh=0.0, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.momentum = momentum
        self.wd_lh = wd_lh

    def create_state(self, index, weight):
        return zeros_like(weight) if self.momentum != 0.0 else None

    def update(self, index, weight, grad, state):
        self._update_count(index)
        kwargs = {"rescale_grad": self.rescale_grad, **clip_kwargs(self)}
        if self.momentum > 0:
            kwargs["momentum"] = self.momentum
        if self.wd_lh:
            kwargs["wd_lh"] = self.wd_lh
        lr, wd = self._get_lr(index), self._get_wd(index)
        if state is not None:
            update_op("signum_update", (weight, grad, state), out=weight, lr=lr, wd=wd, **kwargs)
        else:
            kwargs.pop("wd_lh", None)
            update_op("signsgd_update", (weight, grad), out=weight, lr=lr, wd=wd, **kwargs)


def _sequential_sum_sq(x):
    """The float32 sum of squares of x, element after element (MXNet's multi_sum_sq on the CPU: each square in
    x's dtype, float16 included, summed in float32)."""
    flat = x.asnumpy().reshape(-1)
    return np.cumsum(flat * flat, dtype=np.float32)[-1] if flat.size else np.float32(0)


def _no_lars(name):
    return name.endswith(("gamma", "beta", "bias"))


@register
class LARS(_MasterCopy):
    """LARS, layer-wise adaptive rate scaling (https://arxiv.org/abs/1708.03888): SGD whose lr is scaled per
    weight by eta * ||w|| / (rescale_grad * ||grad|| + wd * ||w|| + eps) (1 when either norm is 0; never for
    names ending in gamma, beta or bias). With momentum_correction the momentum is scaled by lr / previous lr.
    Only names ending in `_weight` get weight decay by default.
    """

    def __init__(self, momentum=0.0, lazy_update=True, eta=0.001, eps=0, momentum_correction=True, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum
        self.momentum_correction = momentum_correction
        self.lazy_update = lazy_update
        self.eta = eta
        self.eps = eps
        self.skip = 0
        self.last_lr = None
        self.cur_lr = None

    def _get_lrs(self, indices):
        if self.cur_lr is not None:
            self.last_lr = self.cur_lr
        lr = self.learning_rate
        if self.cur_lr is None:
            self.last_lr = lr
        self.cur_lr = lr
        return [lr * self._mult(index, "lr_mult", self.lr_mult) for index in indices]

    def set_wd_mult(self, args_wd_mult):
        self.wd_mult = {n: 0.0 for n in self.idx2name.values() if not n.endswith("_weight")}
        self.wd_mult.update(self._sym_mults("__wd_mult__"))
        self.wd_mult.update(args_wd_mult)

    def _lars(self, index, weight, grad, lr, wd):
        """lr scaled by the layer's trust ratio, in float32 left to right (MXNet's multi_sum_sq and multi_lars)."""
        if _no_lars(self.idx2name.get(index, str(index))):
            return lr
        f32 = np.float32
        w_norm = np.sqrt(_sequential_sum_sq(weight))
        g_norm = np.sqrt(_sequential_sum_sq(grad))
        if w_norm > 0 and g_norm > 0:
            return float(f32(lr) * f32(self.eta) * w_norm
                         / (g_norm * f32(self.rescale_grad) + f32(wd) * w_norm + f32(self.eps)))
        return lr

    def _update_impl(self, index, weight, grad, state, mixed):
        self._update_count(index)
        lr, wd = self._get_lrs([index])[0], self._get_wd(index)
        momentum = None
        if self.momentum > 0 and self.momentum_correction and self.last_lr != 0:
            momentum = self.momentum * (self.cur_lr / self.last_lr)
        lr = self._lars(index, weight, grad, lr, wd)
        _sgd_step(weight, grad, state, lr, wd, mixed, _sgd_kwargs(self, momentum))


@register
class LBSGD(Optimizer):
    """Large-batch SGD: gradients are summed over `batch_scale` calls and applied (divided by batch_scale) every
    batch_scale-th call, with lr scaled by a warmup schedule (`warmup_strategy` 'linear', 'power2', 'sqrt' over
    warmup_epochs * updates_per_epoch updates, up to batch_scale) or by LARS' ratio ('lars', bounded to
    [0.01, 100]); calls in between leave the weight as it is. (MXNet keeps a reference to the first gradient of
    each batch and adds the next ones to it; here it is a copy, so reusing the gradient array changes nothing.)
    """

    def __init__(self, momentum=0.0, multi_precision=False, warmup_strategy="linear", warmup_epochs=5,
                 batch_scale=1, updates_per_epoch=32, begin_epoch=0, num_epochs=60, **kwargs):
        super().__init__(**kwargs)
        logging.info("Running Large-Batch SGD Algorithm")
        logging.info("(Batch_scale=%f, warmup_epochs=%d, warmup_strategy=%s, updates_per_epoch=%d)",
                     batch_scale, warmup_epochs, warmup_strategy, updates_per_epoch)
        self.momentum = momentum
        self.multi_precision = multi_precision
        self.warmup_strategy = warmup_strategy
        self.warmup_epochs = warmup_epochs
        self.batch_scale = batch_scale
        self.updates_per_epoch = updates_per_epoch
        self.init_updates = begin_epoch * updates_per_epoch
        self.num_epochs = num_epochs
        self.lbmult = 1
        self.cumgrads = {}
        self.adaptive = False
        self.admult = 1

    def create_state(self, index, weight):
        if self.multi_precision and weight.dtype == np.float16:
            master = weight.astype(np.float32)
            return (zeros_like(weight, np.float32) if self.momentum != 0.0 else None, master)
        if weight.dtype == np.float16 and not self.multi_precision:
            _warn_float16("SGD")
        return zeros_like(weight) if self.momentum != 0.0 else None

    def _get_lbmult(self, nup):
        """The warmup multiplier of lr after `nup` accumulated updates."""
        nwup = self.warmup_epochs * self.updates_per_epoch
        maxmult = float(self.batch_scale)
        if nup >= nwup:
            return maxmult
        if nwup <= 1:
            return 1.0
        if self.warmup_strategy == "linear":
            return 1.0 + (maxmult - 1) * nup / nwup
        if self.warmup_strategy == "power2":
            return 1.0 + (maxmult - 1) * (nup * nup) / (nwup * nwup)
        if self.warmup_strategy == "sqrt":
            return 1.0 + (maxmult - 1) * math.sqrt(float(nup) / nwup)
        return 1.0

    def _get_lars(self, weight, grad, wd):
        w2 = float((weight * weight).asnumpy().sum())
        g2 = float((grad * grad).asnumpy().sum())
        return min(max(math.sqrt(w2 / (g2 + wd * w2 + 1e-18)), 0.01), 100)

    def _cumulate_gradient(self, grad, index):
        cgrad = self.cumgrads.get(index)
        if cgrad and cgrad["num_cums"] > 0:
            cgrad = {"cum_grad": cgrad["cum_grad"] + grad, "num_cums": cgrad["num_cums"] + 1}
        else:
            cgrad = {"cum_grad": grad.copy(), "num_cums": self.init_updates + 1}
        self.cumgrads[index] = cgrad
        return cgrad

    def update(self, index, weight, grad, state):
        lr, wd = self._get_lr(index), self._get_wd(index)    # before counting, as MXNet's
        self._update_count(index)
        cgrad = self._cumulate_gradient(grad, index)
        if cgrad["num_cums"] % self.batch_scale != 0:
            update_op("sgd_update", (weight, grad), out=weight, lr=0.0, wd=wd)
            return
        grad = cgrad["cum_grad"] / self.batch_scale
        if self.warmup_strategy == "lars":
            lr *= self._get_lars(weight, grad, wd)
        else:
            lr *= self._get_lbmult(cgrad["num_cums"])
        _sgd_step(weight, grad, state, lr, wd, isinstance(state, (list, tuple)), _sgd_kwargs(self), multi=False)
        self.cumgrads[index]["cum_grad"] = 0

    def __getstate__(self):
        state = super().__getstate__()
        state["cumgrads"] = {i: {k: v.asnumpy() if isinstance(v, nd.NDArray) else v for k, v in c.items()}
                             for i, c in self.cumgrads.items()}
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        self.cumgrads = {i: {k: nd.array(v, dtype=v.dtype) if isinstance(v, np.ndarray) else v
                             for k, v in c.items()} for i, c in self.cumgrads.items()}


def _clipped(optimizer, grad):
    """rescale_grad * grad, clipped whenever clip_gradient is not None (the NDArray-written rules' convention)."""
    grad = grad * optimizer.rescale_grad
    if optimizer.clip_gradient is not None:
        grad = nd.clip(grad, -optimizer.clip_gradient, optimizer.clip_gradient)
    return grad


@register
class DCASGD(Optimizer):
    """Delay-compensated asynchronous SGD (https://arxiv.org/abs/1609.08326). With g = clip(rescale_grad * grad)::

        step = -lr * (g + wd * weight + lamda * g * g * (weight - previous_weight))
        state = momentum * state + step        (step alone without momentum)
        previous_weight = weight;  weight += state

    (MXNet 1.9.1 fails with momentum != 0 on any weight of more than one element, testing the momentum array's
    truth value; here momentum works as its docstring says.)
    """

    def __init__(self, momentum=0.0, lamda=0.04, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum
        self.weight_previous = {}
        self.lamda = lamda

    def create_state(self, index, weight):
        return (zeros_like(weight) if self.momentum != 0.0 else None, weight.copy())

    def update(self, index, weight, grad, state):
        self._update_count(index)
        lr, wd = self._get_lr(index), self._get_wd(index)
        grad = _clipped(self, grad)
        mom, previous = state
        step = -lr * (grad + wd * weight + self.lamda * grad * grad * (weight - previous))
        if mom is not None:
            mom[:] *= self.momentum
            mom[:] += step
        else:
            mom = step
        previous[:] = weight
        weight[:] += mom


@register
class SGLD(Optimizer):
    """Stochastic gradient Langevin dynamics: weight += -lr / 2 * (g + wd * weight) + N(0, sqrt(lr)) noise, with
    g = clip(rescale_grad * grad); the noise comes from `mx.random` (seeded by mx.random.seed)."""

    def create_state(self, index, weight):
        return None

    def update(self, index, weight, grad, state):
        self._update_count(index)
        lr, wd = self._get_lr(index), self._get_wd(index)
        grad = _clipped(self, grad)
        weight[:] += -lr / 2 * (grad + wd * weight)
        weight[:] += nd.random.normal(0, math.sqrt(lr), shape=weight.shape, dtype=weight.dtype, ctx=weight.context)
