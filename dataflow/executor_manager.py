"""`mx.executor_manager`: of MXNet's legacy data-parallel executor manager, only the batch splitting helper that
code imports from here (`_split_input_slice`); the group itself is `mx.module.executor_group`."""
from .module.executor_group import _split_input_slice  # noqa: F401
