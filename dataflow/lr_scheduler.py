"""`mx.lr_scheduler`: learning rate as a function of the number of updates (MXNet 1.x semantics).

An optimizer calls its scheduler with `num_update`, the largest number of updates any one weight has had so
far (`Optimizer.num_update`), and uses the returned rate for that step. Every scheduler can warm up first: for
`num_update < warmup_steps` the rate rises linearly from `warmup_begin_lr` to `base_lr` ('linear') or stays at
`warmup_begin_lr` ('constant').

Like MXNet's, the schedulers keep state: Factor and MultiFactor lower `base_lr` in place as `num_update`
passes their steps (so they expect `num_update` not to go backwards), and Poly and Cosine write the current
rate into `base_lr` while they decay and start from the rate they were constructed with (`base_lr_orig`).
Factor and MultiFactor count their steps from update 0, warm-up included (MXNet's behaviour).

Examples
--------
>>> import dataflow as mx
>>> sched = mx.lr_scheduler.FactorScheduler(step=2, factor=0.5, base_lr=1.0)
>>> [sched(n) for n in range(1, 8)]
[1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.125]
>>> cos = mx.lr_scheduler.CosineScheduler(max_update=10, base_lr=1.0, warmup_steps=2, warmup_begin_lr=0.5)
>>> [round(cos(n), 4) for n in (0, 1, 2, 6, 10, 12)]
[0.5, 0.75, 1.0, 0.5, 0.0, 0.0]
"""
import logging
from math import cos, pi

__all__ = ["CosineScheduler", "FactorScheduler", "LRScheduler", "MultiFactorScheduler", "PolyScheduler"]

_log = logging.getLogger(__name__)


class LRScheduler:
    """Base class: `__call__(num_update)` returns the learning rate.

    Parameters
    ----------
    base_lr : float, the rate after warm-up
    warmup_steps : int, number of updates spent warming up
    warmup_begin_lr : float, the rate warm-up starts from
    warmup_mode : {'linear', 'constant'}
    """

    def __init__(self, base_lr=0.01, warmup_steps=0, warmup_begin_lr=0, warmup_mode="linear"):
        if not isinstance(warmup_steps, int):
            raise TypeError("warmup_steps must be an int, got %r" % (warmup_steps,))
        if warmup_begin_lr > base_lr:
            raise ValueError("Base lr has to be higher than warmup_begin_lr")
        if warmup_steps < 0:
            raise ValueError("Warmup steps has to be positive or 0")
        if warmup_mode not in ("linear", "constant"):
            raise ValueError("Supports only linear and constant modes of warmup")
        self.base_lr = base_lr
        self.warmup_steps = warmup_steps
        self.warmup_final_lr = base_lr
        self.warmup_begin_lr = warmup_begin_lr
        self.warmup_mode = warmup_mode

    def get_warmup_lr(self, num_update):
        """The rate during warm-up (`num_update < warmup_steps`)."""
        if num_update >= self.warmup_steps:
            raise ValueError("update %d is past the %d warm-up steps" % (num_update, self.warmup_steps))
        if self.warmup_mode == "constant":
            return self.warmup_begin_lr
        fraction = float(num_update) / float(self.warmup_steps)
        return self.warmup_begin_lr + (self.warmup_final_lr - self.warmup_begin_lr) * fraction

    def __call__(self, num_update):
        raise NotImplementedError("must override this")


class FactorScheduler(LRScheduler):
    """Multiply the rate by `factor` every `step` updates, never going below `stop_factor_lr`.

    The rate is `base_lr * factor ** floor((num_update - 1) / step)`: it changes once `num_update` exceeds a
    multiple of `step` (MXNet's "while num_update > count + step").
    """

    def __init__(self, step, factor=1, stop_factor_lr=1e-8, base_lr=0.01, warmup_steps=0, warmup_begin_lr=0,
                 warmup_mode="linear"):
        super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
        if step < 1:
            raise ValueError("Schedule step must be greater or equal than 1 round")
        if factor > 1.0:
            raise ValueError("Factor must be no more than 1 to make lr reduce")
        self.step = step
        self.factor = factor
        self.stop_factor_lr = stop_factor_lr
        self.count = 0

    def __call__(self, num_update):
        if num_update < self.warmup_steps:
            return self.get_warmup_lr(num_update)
        while num_update > self.count + self.step:      # a loop: training may resume at a late num_update
            self.count += self.step
            self.base_lr = max(self.base_lr * self.factor, self.stop_factor_lr)
            _log.info("Update[%d]: Change learning rate to %0.5e", num_update, self.base_lr)
        return self.base_lr


class MultiFactorScheduler(LRScheduler):
    """Multiply the rate by `factor` each time `num_update` passes one of the increasing `step` values."""

    def __init__(self, step, factor=1, base_lr=0.01, warmup_steps=0, warmup_begin_lr=0, warmup_mode="linear"):
        super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
        if not isinstance(step, list) or not step:
            raise ValueError("step must be a non-empty list of ints, got %r" % (step,))
        for i, s in enumerate(step):
            if i and s <= step[i - 1]:
                raise ValueError("Schedule step must be an increasing integer list")
            if s < 1:
                raise ValueError("Schedule step must be greater or equal than 1 round")
        if factor > 1.0:
            raise ValueError("Factor must be no more than 1 to make lr reduce")
        self.step = step
        self.cur_step_ind = 0
        self.factor = factor
        self.count = 0

    def __call__(self, num_update):
        if num_update < self.warmup_steps:
            return self.get_warmup_lr(num_update)
        while self.cur_step_ind < len(self.step) and num_update > self.step[self.cur_step_ind]:
            self.count = self.step[self.cur_step_ind]
            self.cur_step_ind += 1
            self.base_lr *= self.factor
            _log.info("Update[%d]: Change learning rate to %0.5e", num_update, self.base_lr)
        return self.base_lr


class PolyScheduler(LRScheduler):
    """Polynomial decay after warm-up: `final_lr + (base_lr - final_lr) * (1 - t / T) ** pwr`, where
    `t = num_update - warmup_steps` and `T = max_update - warmup_steps`; the rate stays put after
    `max_update`."""

    def __init__(self, max_update, base_lr=0.01, pwr=2, final_lr=0, warmup_steps=0, warmup_begin_lr=0,
                 warmup_mode="linear"):
        super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
        if not isinstance(max_update, int):
            raise TypeError("max_update must be an int, got %r" % (max_update,))
        if max_update < 1:
            raise ValueError("maximum number of updates must be strictly positive")
        self.power = pwr
        self.base_lr_orig = self.base_lr
        self.max_update = max_update
        self.final_lr = final_lr
        self.max_steps = self.max_update - self.warmup_steps

    def __call__(self, num_update):
        if num_update < self.warmup_steps:
            return self.get_warmup_lr(num_update)
        if num_update <= self.max_update:
            left = 1 - float(num_update - self.warmup_steps) / float(self.max_steps)
            self.base_lr = self.final_lr + (self.base_lr_orig - self.final_lr) * pow(left, self.power)
        return self.base_lr


class CosineScheduler(LRScheduler):
    """Cosine decay after warm-up: `final_lr + (base_lr - final_lr) * (1 + cos(pi * t / T)) / 2`, with `t` and
    `T` as in `PolyScheduler`; the rate stays at `final_lr` after `max_update`."""

    def __init__(self, max_update, base_lr=0.01, final_lr=0, warmup_steps=0, warmup_begin_lr=0,
                 warmup_mode="linear"):
        super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
        if not isinstance(max_update, int):
            raise TypeError("max_update must be an int, got %r" % (max_update,))
        if max_update < 1:
            raise ValueError("maximum number of updates must be strictly positive")
        self.base_lr_orig = base_lr
        self.max_update = max_update
        self.final_lr = final_lr
        self.max_steps = self.max_update - self.warmup_steps

    def __call__(self, num_update):
        if num_update < self.warmup_steps:
            return self.get_warmup_lr(num_update)
        if num_update <= self.max_update:
            angle = pi * (num_update - self.warmup_steps) / self.max_steps
            self.base_lr = self.final_lr + (self.base_lr_orig - self.final_lr) * (1 + cos(angle)) / 2
        return self.base_lr
