"""`mx.optimizer`: weight-update rules (SGD, NAG, Adam, RMSProp, AdaGrad) with MXNet 1.x's exact arithmetic.

An `Optimizer` turns (weight, gradient, state) into a new weight and state. `update(index, weight, grad,
state)` counts the update, looks up the index's learning rate and weight decay (global value times the
multipliers, see `_get_lr`/`_get_wd`), and pushes one engine op that reads `grad` and writes `weight` and the
state arrays. The op runs a fused numba kernel (one pass over flat arrays, no temporaries) that reproduces
MXNet's update operator (`sgd_update`, `sgd_mom_update`, `nag_mom_update`, `adam_update`, `rmsprop_update`,
`rmspropalex_update`) term for term, in the weight's dtype: hyper-parameters are cast to it first, as MXNet's
float parameters are. On float32 the results agree with MXNet 1.9.1's to the bit.

Where the gradient terms enter (checked against MXNet 1.9.1; its docstrings disagree in places):

    optimizer  g = ...                              weight decay
    SGD, NAG   clip(rescale_grad * grad)            after clipping: lr * (g + wd * w)
    AdaGrad    clip(rescale_grad * grad)            outside the history: lr * (g / sqrt(h + eps) + wd * w)
    Adam       clip(rescale_grad * grad + wd * w)   inside the clip, so it enters the moments
    RMSProp    clip(rescale_grad * grad + wd * w)   inside the clip, so it enters the moments

`clip(x)` bounds x to [-clip_gradient, clip_gradient] when `clip_gradient` is set (MXNet skips it for None
and 0, except AdaGrad, which clips to 0 when given 0). `multi_precision=True` keeps a float32 master copy of
float16 weights in the state and updates that.

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
>>> mx.optimizer.create('nadam')
Traceback (most recent call last):
...
ValueError: Cannot find optimizer nadam
"""
import math
import pickle
import warnings

import numba
import numpy as np

from ops.errors import ShapeError

from scheduler.engine import get_engine

from .ndarray import ndarray as nd

__all__ = ["AdaGrad", "Adam", "NAG", "Optimizer", "RMSProp", "SGD", "Updater", "create", "get_updater",
           "register"]

# ------------------------------------------------------------------------------------------------------------
# Kernels: flat arrays; scalars in the weight's dtype, `one` included (a literal 1 would turn float32 math
# into float64). A bound < 0 turns clipping off (MXNet's -1).
# ------------------------------------------------------------------------------------------------------------

_jit = numba.njit(nogil=True, cache=True)


@_jit
def _clip(x, bound):
    if bound < 0:
        return x
    if x > bound:
        return bound
    if x < -bound:
        return -bound
    return x


@_jit
def _lr_grad(lr, rescale_grad, g, clip_gradient):
    # lr * clip(rescale_grad * g), grouped as MXNet's SGD kernels group it
    if clip_gradient < 0:
        return lr * rescale_grad * g
    return lr * _clip(rescale_grad * g, clip_gradient)


@_jit
def _sgd_update(weight, grad, one, lr, wd, rescale_grad, clip_gradient):
    # w = (1 - lr * wd) * w - lr * clip(rescale_grad * g)          (MXNet's sgd_update)
    decay = one - lr * wd
    for i in range(weight.size):
        weight[i] = decay * weight[i] - _lr_grad(lr, rescale_grad, grad[i], clip_gradient)


@_jit
def _multi_sgd_update(weight, grad, one, lr, wd, rescale_grad, clip_gradient):
    # w = w - (lr * wd * w + lr * clip(rescale_grad * g))          (multi_sgd_update: other rounding)
    for i in range(weight.size):
        weight[i] = weight[i] - (lr * wd * weight[i] + _lr_grad(lr, rescale_grad, grad[i], clip_gradient))


@_jit
def _sgd_mom_update(weight, grad, mom, one, lr, wd, rescale_grad, clip_gradient, momentum):
    # mom = momentum * mom - lr * wd * w - lr * clip(rescale_grad * g);  w = w + mom
    for i in range(weight.size):
        m = momentum * mom[i] - lr * wd * weight[i] - _lr_grad(lr, rescale_grad, grad[i], clip_gradient)
        mom[i] = m
        weight[i] = weight[i] + m


@_jit
def _nag_mom_update(weight, grad, mom, one, lr, wd, rescale_grad, clip_gradient, momentum):
    # g = clip(rescale_grad * g) + wd * w;  m = momentum * mom
    # w' = w - m + (momentum + 1) * (m - lr * g)              (= w + momentum * (m - lr * g) - lr * g)
    # mom = m - lr * (clip(rescale_grad * g) + wd * w')     see Note [NAG reads the updated weight]
    for i in range(weight.size):
        c = _clip(rescale_grad * grad[i], clip_gradient)
        m = momentum * mom[i]
        w = weight[i] - m + (momentum + one) * (m - lr * (c + wd * weight[i]))
        weight[i] = w
        mom[i] = m - lr * (c + wd * w)


@_jit
def _adam_update(weight, grad, mean, var, one, lr, wd, rescale_grad, clip_gradient, beta1, beta2, epsilon):
    # g = clip(rescale_grad * g + wd * w);  mean = b1 * mean + (1 - b1) * g;  var = b2 * var + (1 - b2) * g^2
    # w = w - lr * mean / (sqrt(var) + eps)      (lr carries the bias correction, see Adam.update)
    one_b1, one_b2 = one - beta1, one - beta2
    for i in range(weight.size):
        g = _clip(grad[i] * rescale_grad + weight[i] * wd, clip_gradient)
        mean[i] = beta1 * mean[i] + one_b1 * g
        var[i] = beta2 * var[i] + one_b2 * g * g
        weight[i] = weight[i] - lr * mean[i] / (math.sqrt(var[i]) + epsilon)


@_jit
def _rmsprop_update(weight, grad, n, one, lr, wd, rescale_grad, clip_gradient, gamma1, epsilon, clip_weights):
    # g = clip(rescale_grad * g + wd * w);  n = (1 - gamma1) * g^2 + gamma1 * n
    # w = clip_w(w - lr * g / sqrt(n + eps))
    one_g1 = one - gamma1
    for i in range(weight.size):
        g = _clip(rescale_grad * grad[i] + wd * weight[i], clip_gradient)
        n[i] = one_g1 * (g * g) + gamma1 * n[i]
        weight[i] = _clip(weight[i] - lr * (g / math.sqrt(n[i] + epsilon)), clip_weights)


@_jit
def _rmspropalex_update(weight, grad, n, gbar, delta, one, lr, wd, rescale_grad, clip_gradient, gamma1,
                        gamma2, epsilon, clip_weights):
    # Graves' centered RMSProp: n and gbar are running means of g^2 and g;
    # delta = gamma2 * delta - lr * g / sqrt(n - gbar^2 + eps);  w = clip_w(w + delta)
    one_g1 = one - gamma1
    for i in range(weight.size):
        g = _clip(rescale_grad * grad[i] + wd * weight[i], clip_gradient)
        n[i] = one_g1 * g * g + gamma1 * n[i]
        gbar[i] = one_g1 * g + gamma1 * gbar[i]
        delta[i] = gamma2 * delta[i] - lr * g / math.sqrt(n[i] - gbar[i] * gbar[i] + epsilon)
        weight[i] = _clip(weight[i] + delta[i], clip_weights)


@_jit
def _adagrad_update(weight, grad, history, one, lr, wd, rescale_grad, clip_gradient, epsilon):
    # g = clip(rescale_grad * g);  h = h + g^2;  w = w - lr * (g / sqrt(h + eps) + wd * w)
    for i in range(weight.size):
        g = _clip(grad[i] * rescale_grad, clip_gradient)
        history[i] = history[i] + g * g
        weight[i] = weight[i] + (g / math.sqrt(history[i] + epsilon) + weight[i] * wd) * -lr


# Note [NAG reads the updated weight]
# MXNet's nag_mom_update kernel writes the new weight to `out` and then computes the momentum's weight-decay
# term from `weight`; the optimizer passes out=weight, so that term sees the *updated* weight. We reproduce it
# (it only matters when wd != 0): w=1, g=1, lr=0.1, momentum=0.9, wd=0.5 gives w'=0.715 and
# mom=-0.1*(1+0.5*0.715), exactly what MXNet 1.9.1 returns.

_FLOAT_KINDS = (np.dtype(np.float32), np.dtype(np.float64))


def _push_update(name, kernel, weight, grad, states, *scalars):
    """Push one engine op running `kernel(w, g, *states, 1, *scalars)` on flat views; it reads grad and writes
    weight and the states. Scalars are cast to the weight's dtype; other float dtypes (float16) run in float32
    and round back."""
    for x in (weight, grad) + tuple(states):
        if not isinstance(x, nd.NDArray):
            raise TypeError("%s: weight, gradient and states must be NDArrays, got %s"
                            % (name, type(x).__name__))
        if x.shape != weight.shape:     # the kernels index every array by the weight's size
            raise ShapeError("%s: the weight has shape %s but an input has shape %s"
                             % (name, weight.shape, x.shape))
    dtype = weight._data.dtype
    work = dtype if dtype in _FLOAT_KINDS else np.dtype(np.float32)
    targets = [weight._data] + [s._data for s in states]
    source = grad._data
    args = tuple(work.type(x) for x in (1,) + scalars)

    def update(targets, source):
        g = source.reshape(-1) if source.dtype == work else source.astype(work).reshape(-1)
        if work == dtype:
            kernel(targets[0].reshape(-1), g, *[t.reshape(-1) for t in targets[1:]], *args)
            return
        flat = [t.astype(work).reshape(-1) for t in targets]
        kernel(flat[0], g, *flat[1:], *args)
        for t, f in zip(targets, flat, strict=True):
            np.copyto(t, f.reshape(t.shape), casting="unsafe")

    if weight.context.device_type == "gpu":     # the update kernels are CPU loops: run them on host copies
        from ops.cuda import storage
        device = weight.context.device_id

        def run():
            host = [storage.to_host(t, device) for t in targets]
            update(host, storage.to_host(source, device))
            for t, h in zip(targets, host):
                storage.from_host(h, t, device)
    else:
        def run():
            update(targets, source)
    get_engine().push(run, [grad._var], [weight._var] + [s._var for s in states], name)


def _zeros_like(weight):
    return nd.zeros(weight.shape, weight.context, weight.dtype)


def _clip_bound(clip_gradient):
    """MXNet's optimizers pass clip_gradient to the kernel only when it is truthy; else the kernel gets -1."""
    return clip_gradient if clip_gradient else -1.0


# ------------------------------------------------------------------------------------------------------------
# Optimizer base class and registry
# ------------------------------------------------------------------------------------------------------------

class Optimizer:
    """Base class of the optimizers.

    Parameters
    ----------
    rescale_grad : float, multiplies the gradient first (often 1/batch_size)
    param_idx2name : dict int -> str; with it, every name not ending in `_weight` or `_gamma` gets wd_mult 0
    wd : float, weight decay
    clip_gradient : float or None, clip the rescaled gradient to [-clip_gradient, clip_gradient]
    learning_rate : float or None; None means the scheduler's base_lr, or 0.01 without a scheduler
    lr_scheduler : LRScheduler or None
    sym : Symbol or None, whose variables' `lr_mult`/`wd_mult` attributes are used by name
    begin_num_update : int, the update count to start from
    multi_precision : bool, update float16 weights through a float32 master copy
    param_dict : dict int -> gluon.Parameter, whose `lr_mult`/`wd_mult` take precedence (set by Trainer)
    """
    opt_registry = {}

    def __init__(self, rescale_grad=1.0, param_idx2name=None, wd=0.0, clip_gradient=None, learning_rate=None,
                 lr_scheduler=None, sym=None, begin_num_update=0, multi_precision=False, param_dict=None):
        self.rescale_grad = rescale_grad
        self.lr_scheduler = lr_scheduler
        if lr_scheduler is None and learning_rate is None:
            learning_rate = 0.01
        self.lr = learning_rate
        if lr_scheduler is not None and learning_rate is not None and lr_scheduler.base_lr != learning_rate:
            warnings.warn("learning rate from ``lr_scheduler`` has been overwritten by ``learning_rate`` in "
                          "optimizer.", UserWarning, stacklevel=2)
            lr_scheduler.base_lr = learning_rate
        self.wd = wd
        self.clip_gradient = clip_gradient
        self.multi_precision = multi_precision
        self.begin_num_update = begin_num_update
        self.num_update = begin_num_update
        self._index_update_count = {}
        if param_idx2name is None:
            param_idx2name = {}
        if not isinstance(param_idx2name, dict):
            raise TypeError("param_idx2name should be a dict of param indexes to names.")
        self.idx2name = dict(param_idx2name)
        self.sym_info = (sym.attr_dict(), sym.list_arguments()) if sym is not None else ()
        self.param_dict = param_dict if param_dict else {}
        self.set_lr_mult({})
        self.set_wd_mult({})

    @staticmethod
    def register(klass):
        """Register an Optimizer subclass under its lower-cased class name (used by `create`)."""
        if not isinstance(klass, type):
            raise TypeError("register expects a class, got %r" % (klass,))
        name = klass.__name__.lower()
        if name in Optimizer.opt_registry:
            old = Optimizer.opt_registry[name]
            warnings.warn("WARNING: New optimizer %s.%s is overriding existing optimizer %s.%s"
                          % (klass.__module__, klass.__name__, old.__module__, old.__name__), stacklevel=2)
        Optimizer.opt_registry[name] = klass
        return klass

    @staticmethod
    def create_optimizer(name, **kwargs):
        """An instance of the optimizer registered as `name` (case-insensitive), built with `kwargs`."""
        klass = Optimizer.opt_registry.get(name.lower())
        if klass is None:
            raise ValueError("Cannot find optimizer %s" % name)
        return klass(**kwargs)

    # -- learning rate -----------------------------------------------------------------------------------
    @property
    def learning_rate(self):
        """The current learning rate (from the scheduler at `num_update`, if there is one)."""
        return self.lr_scheduler(self.num_update) if self.lr_scheduler is not None else self.lr

    def set_learning_rate(self, lr):
        """Set the learning rate; not allowed when a scheduler decides it (MXNet raises UserWarning)."""
        if self.lr_scheduler is not None:
            raise UserWarning("LRScheduler of the optimizer has already been defined. Note that "
                              "set_learning_rate can mutate the value of the learning rate of the optimizer "
                              "only when the LRScheduler of the optimizer is undefined.")
        self.lr = lr

    # -- per-parameter multipliers -----------------------------------------------------------------------
    def _sym_mults(self, key):
        if not self.sym_info:
            return {}
        attrs, arg_names = self.sym_info
        return {n: float(attrs[n][key]) for n in arg_names if key in attrs.get(n, {})}

    def set_lr_mult(self, args_lr_mult):
        """Learning-rate multipliers by parameter name or index (over the symbol's `__lr_mult__`s)."""
        self.lr_mult = self._sym_mults("__lr_mult__")
        self.lr_mult.update(args_lr_mult)

    def set_wd_mult(self, args_wd_mult):
        """Weight-decay multipliers by name or index. Names from `param_idx2name` that end in neither
        `_weight` nor `_gamma` (biases, betas) default to 0; the symbol's `__wd_mult__` attributes and
        `args_wd_mult` win."""
        self.wd_mult = {n: 0.0 for n in self.idx2name.values() if not n.endswith(("_weight", "_gamma"))}
        self.wd_mult.update(self._sym_mults("__wd_mult__"))
        self.wd_mult.update(args_wd_mult)

    def _mult(self, index, attr, table):
        # precedence (MXNet's): the gluon Parameter, then the index, then the index's name
        if index in self.param_dict:
            return getattr(self.param_dict[index], attr)
        if index in table:
            return table[index]
        if index in self.idx2name:
            return table.get(self.idx2name[index], 1.0)
        return 1.0

    def _get_lr(self, index):
        """The learning rate for weight `index` at the current `num_update`."""
        return self.learning_rate * self._mult(index, "lr_mult", self.lr_mult)

    def _get_wd(self, index):
        """The weight decay for weight `index`."""
        return self.wd * self._mult(index, "wd_mult", self.wd_mult)

    def _update_count(self, index):
        """Count one more update of `index`; `num_update` is the largest count of any index."""
        count = self._index_update_count.get(index, self.begin_num_update) + 1
        self._index_update_count[index] = count
        self.num_update = max(count, self.num_update)

    # -- states and updates ------------------------------------------------------------------------------
    def create_state(self, index, weight):
        """The auxiliary state (None, an NDArray or a tuple of them) for a weight; called once per weight."""
        return None

    def update(self, index, weight, grad, state):
        """Update `weight` in place from `grad` and `state` (asynchronously, through the engine)."""
        raise NotImplementedError()

    def create_state_multi_precision(self, index, weight):
        """`create_state`, plus a float32 master copy first for float16 weights under multi_precision."""
        if self.multi_precision and weight.dtype == np.float16:
            master = weight.astype(np.float32)
            return (master, self.create_state(index, master))
        if weight.dtype == np.float16:
            warnings.warn("Accumulating with float16 in optimizer can lead to poor accuracy or slow "
                          "convergence. Consider using multi_precision=True option of the optimizer",
                          stacklevel=2)
        return self.create_state(index, weight)

    def update_multi_precision(self, index, weight, grad, state):
        """`update`, through the float32 master copy when `create_state_multi_precision` made one."""
        if self.multi_precision and weight.dtype == np.float16:
            master, inner = state
            self.update(index, master, grad.astype(np.float32), inner)
            master.copyto(weight)
        else:
            self.update(index, weight, grad, state)

    def _hyper(self, index):
        """Count the update; return (lr, wd, rescale_grad, kernel clip bound) for `index`."""
        self._update_count(index)
        return self._get_lr(index), self._get_wd(index), self.rescale_grad, _clip_bound(self.clip_gradient)

    def __getstate__(self):
        state = self.__dict__.copy()
        del state["param_dict"]     # not saved: the Trainer sets param_dict again after loading
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.param_dict = {}


register = Optimizer.register
create = Optimizer.create_optimizer


# ------------------------------------------------------------------------------------------------------------
# The optimizers
# ------------------------------------------------------------------------------------------------------------

@register
class SGD(Optimizer):
    """Stochastic gradient descent with momentum and weight decay (MXNet's `sgd_update`/`sgd_mom_update`)::

        state = momentum * state - lr * (clip(rescale_grad * grad) + wd * weight)
        weight = weight + state

    Without momentum there is no state: `weight -= lr * (clip(rescale_grad * grad) + wd * weight)`.
    `lazy_update` only concerns row_sparse gradients, which dataflow lacks; it is accepted and ignored.
    """

    def __init__(self, momentum=0.0, lazy_update=True, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum
        self.lazy_update = lazy_update

    def create_state(self, index, weight):
        return _zeros_like(weight) if self.momentum != 0.0 else None

    def update(self, index, weight, grad, state):
        lr, wd, rescale, clip = self._hyper(index)
        # MXNet's SGD runs the multi-weight kernels (multi_sgd_update, multi_sgd_mom_update) on dense arrays
        if state is not None:
            _push_update("sgd_mom_update", _sgd_mom_update, weight, grad, (state,), lr, wd, rescale, clip,
                         self.momentum)
        else:
            _push_update("sgd_update", _multi_sgd_update, weight, grad, (), lr, wd, rescale, clip)


@register
class NAG(Optimizer):
    """Nesterov accelerated gradient (MXNet's `nag_mom_update`). With
    g = clip(rescale_grad * grad) + wd * weight::

        state = momentum * state - lr * g
        weight = weight + momentum * state - lr * g

    (the state's decay term reads the updated weight, as MXNet's does: see Note [NAG reads the updated
    weight]).
    Without momentum this is plain SGD.
    """

    def __init__(self, momentum=0.0, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum

    def create_state(self, index, weight):
        return _zeros_like(weight) if self.momentum != 0.0 else None

    def update(self, index, weight, grad, state):
        lr, wd, rescale, clip = self._hyper(index)
        if state is not None:
            _push_update("nag_mom_update", _nag_mom_update, weight, grad, (state,), lr, wd, rescale, clip,
                         self.momentum)
        else:
            _push_update("sgd_update", _sgd_update, weight, grad, (), lr, wd, rescale, clip)


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
        return (_zeros_like(weight), _zeros_like(weight))      # mean, variance

    def update(self, index, weight, grad, state):
        lr, wd, rescale, clip = self._hyper(index)
        t = self._index_update_count[index]
        lr *= math.sqrt(1.0 - self.beta2 ** t) / (1.0 - self.beta1 ** t)
        _push_update("adam_update", _adam_update, weight, grad, state, lr, wd, rescale, clip, self.beta1,
                     self.beta2, self.epsilon)


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
            return (_zeros_like(weight), _zeros_like(weight), _zeros_like(weight))     # n, gbar, delta
        return (_zeros_like(weight),)                                                   # n

    def update(self, index, weight, grad, state):
        lr, wd, rescale, clip = self._hyper(index)
        clip_weights = _clip_bound(self.clip_weights)
        if self.centered:
            _push_update("rmspropalex_update", _rmspropalex_update, weight, grad, state, lr, wd, rescale,
                         clip, self.gamma1, self.gamma2, self.epsilon, clip_weights)
        else:
            _push_update("rmsprop_update", _rmsprop_update, weight, grad, state, lr, wd, rescale, clip,
                         self.gamma1, self.epsilon, clip_weights)


@register
class AdaGrad(Optimizer):
    """AdaGrad. With g = clip(rescale_grad * grad)::

        history += g ** 2
        weight -= lr * (g / sqrt(history + eps) + wd * weight)

    Unlike the others, AdaGrad clips whenever clip_gradient is not None (0 included), as MXNet's does.
    """

    def __init__(self, eps=1e-7, **kwargs):
        super().__init__(**kwargs)
        self.float_stable_eps = eps

    def create_state(self, index, weight):
        return _zeros_like(weight)      # history

    def update(self, index, weight, grad, state):
        lr, wd, rescale, _ = self._hyper(index)
        clip = -1.0 if self.clip_gradient is None else self.clip_gradient
        _push_update("adagrad_update", _adagrad_update, weight, grad, (state,), lr, wd, rescale, clip,
                     self.float_stable_eps)


# ------------------------------------------------------------------------------------------------------------
# Updater: the optimizer plus the states of the weights it has seen (what Trainer and KVStore use)
# ------------------------------------------------------------------------------------------------------------

class Updater:
    """Calls `optimizer.update_multi_precision` with a state per index, created at the first update."""

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.states = {}

    def __call__(self, index, grad, weight):
        indices, grads, weights = (index, grad, weight) if isinstance(index, (list, tuple)) else \
            ([index], [grad], [weight])
        for i, g, w in zip(indices, grads, weights, strict=True):
            if i not in self.states:
                self.states[i] = self.optimizer.create_state_multi_precision(i, w)
            self.optimizer.update_multi_precision(i, w, g, self.states[i])

    def get_states(self, dump_optimizer=False):
        """The states (and the optimizer: counters, schedule) as pickled bytes, arrays as numpy."""
        states = {i: _map_arrays(s, lambda a: a.asnumpy()) for i, s in self.states.items()}
        return pickle.dumps((states, self.optimizer) if dump_optimizer else states)

    def set_states(self, states):
        """Restore what `get_states` returned. Unpickling runs code: load only files you trust."""
        states = pickle.loads(states)
        if isinstance(states, tuple) and len(states) == 2:
            states, self.optimizer = states
        self.states = {i: _map_arrays(s, lambda a: nd.array(a, dtype=a.dtype)) for i, s in states.items()}


def _map_arrays(state, fn):
    """Apply fn to every array in a state (None, an array, or nested tuples/lists of them)."""
    if isinstance(state, (tuple, list)):
        return type(state)(_map_arrays(s, fn) for s in state)
    return None if state is None else fn(state)


def get_updater(optimizer):
    """An `Updater` for `optimizer`."""
    return Updater(optimizer)
