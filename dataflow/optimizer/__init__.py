"""`mx.optimizer`: weight-update rules with MXNet 1.x's exact arithmetic, laid out as MXNet 1.9's own package.

- optimizer.py: the `Optimizer` base class (learning rates, weight decays, multipliers, update counts), the
  registry (`register`, `create`) and the `Updater` that Trainer, Module and KVStore use;
- sgd.py: SGD (ccSGD), NAG, Signum, LARS, LBSGD, DCASGD, SGLD;
- adaptive.py: Adam, AdaGrad, RMSProp, AdaDelta, Adamax, Nadam, FTML, Ftrl, LAMB, Test;
- contrib.py: GroupAdaGrad (`mx.optimizer.contrib`).

The update rules themselves are the update ops of ops/update.py (`sgd_mom_update`, `adam_update`, ...), which
the optimizers run with `out=weight`; the rules MXNet writes as NDArray arithmetic are NDArray arithmetic here.

Examples
--------
>>> import dataflow as mx
>>> opt = mx.optimizer.create('adadelta', rho=0.9)
>>> type(opt).__name__, opt.rho, opt.epsilon
('AdaDelta', 0.9, 1e-05)
>>> mx.optimizer.create('no_such_optimizer')
Traceback (most recent call last):
...
ValueError: Cannot find optimizer no_such_optimizer; the registered optimizers are ...
"""
from . import contrib  # noqa: F401
from .adaptive import FTML, LAMB, AdaDelta, AdaGrad, Adam, Adamax, Ftrl, Nadam, RMSProp, Test
from .optimizer import Optimizer, Updater, create, get_updater, register
from .sgd import DCASGD, LARS, LBSGD, NAG, SGD, SGLD, Signum, ccSGD

__all__ = ["AdaDelta", "AdaGrad", "Adam", "Adamax", "DCASGD", "FTML", "Ftrl", "LAMB", "LARS", "LBSGD", "NAG",
           "Nadam", "Optimizer", "RMSProp", "SGD", "SGLD", "Signum", "Test", "Updater", "ccSGD", "create",
           "get_updater", "register"]
