"""AMP's dynamic loss scaler (MXNet's `mx.contrib.amp.loss_scaler.LossScaler`).

The rule, as MXNet 1.9.1's: the scale starts at 2**16. Each check of the gradients makes the scale chosen by the
previous check current; on overflow (some gradient not finite) the next scale is half the current one and the step
is skipped; after 2000 clean checks in a row the next scale is twice the current one, at most 2**24.
"""
import logging

import numpy as np

from ... import autograd


class LossScaler:
    """Dynamic loss scaler for AMP; `loss_scale` is the current scale."""

    def __init__(self):
        self._loss_scale = 2.0 ** 16
        self._next_loss_scale = self._loss_scale
        self._max_loss_scale = 2.0 ** 24
        self._scale_seq_len = 2000
        self._unskipped = 0

    @property
    def loss_scale(self):
        return self._loss_scale

    def has_overflow(self, params):
        """Whether any gradient of `params` (Gluon Parameters) holds inf or nan; updates the scale as above."""
        with autograd.pause():
            grads = [p._grad[0] for p in params if p._grad is not None]
            overflow = not all(np.isfinite(g.asnumpy()).all() for g in grads)
        self._loss_scale = self._next_loss_scale
        if overflow:
            self._next_loss_scale = self._loss_scale / 2.0
            self._unskipped = 0
            logging.info("AMP: decreasing loss scale to %f", self._next_loss_scale)
        else:
            self._unskipped += 1
        if self._unskipped == self._scale_seq_len:
            self._unskipped = 0
            self._next_loss_scale = min(self._max_loss_scale, self._loss_scale * 2.0)
            logging.info("AMP: increasing loss scale to %f", self._next_loss_scale)
        return overflow
