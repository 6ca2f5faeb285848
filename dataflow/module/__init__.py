"""`mx.mod` / `mx.module`: symbolic training and inference (`Module`), on the loops of `BaseModule`."""
from .base_module import BaseModule
from .module import Module

__all__ = ["BaseModule", "Module"]
