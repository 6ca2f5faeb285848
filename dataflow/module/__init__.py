"""`mx.mod` / `mx.module`: symbolic training and inference (`Module`), on the loops of `BaseModule`."""
from . import executor_group  # noqa: F401  (MXNet's module path; Module._exec_group shows one)
from .base_module import BaseModule
from .module import Module

__all__ = ["BaseModule", "Module"]
