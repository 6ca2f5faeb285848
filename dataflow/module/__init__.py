"""`mx.mod` / `mx.module`: symbolic training and inference (`Module`), on the loops of `BaseModule`; a Module per
input bucket sharing one set of parameters (`BucketingModule`); modules written in Python (`PythonModule`,
`PythonLossModule`) and chains of modules (`SequentialModule`)."""
from . import executor_group  # noqa: F401  (MXNet's module path; Module._exec_group shows one)
from .base_module import BaseModule
from .bucketing_module import BucketingModule
from .module import Module
from .python_module import PythonLossModule, PythonModule
from .sequential_module import SequentialModule

__all__ = ["BaseModule", "BucketingModule", "Module", "PythonModule", "PythonLossModule", "SequentialModule"]
