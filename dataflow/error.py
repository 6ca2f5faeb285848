"""`mx.error`: MXNet's structured error classes and their registry (`register`)."""
from .base import MXNetError, register_error

__all__ = ["MXNetError", "register"]

register = register_error


@register_error
class InternalError(MXNetError):
    """An error inside the runtime rather than in the caller's use of it; the message asks for a bug report."""

    def __init__(self, msg):
        if "MXNet hint:" not in msg:
            msg += "\nMXNet hint: You hit an internal error. Please report it to the dataflow project."
        super().__init__(msg)


for _builtin in (ValueError, TypeError, AttributeError, IndexError, NotImplementedError):
    register_error(_builtin.__name__, _builtin)
