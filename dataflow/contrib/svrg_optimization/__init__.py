"""`mx.contrib.svrg_optimization`: stochastic variance-reduced gradient training for the Module API
(`svrg_module.SVRGModule`, with the optimizers of `svrg_optimizer`)."""
from . import svrg_module, svrg_optimizer  # noqa: F401
