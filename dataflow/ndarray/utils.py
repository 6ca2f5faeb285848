"""`mx.nd.utils`: MXNet's module path of the array creation and file functions (the same functions as `mx.nd`)."""
from .creation import array, empty, zeros  # noqa: F401
from .serialization import load, load_frombuffer, save  # noqa: F401

__all__ = ["zeros", "empty", "array", "load", "load_frombuffer", "save"]
