"""`mx.visualization`: MXNet's module name for `mx.viz` (the same functions)."""
from .viz import plot_network, print_summary  # noqa: F401

__all__ = ["plot_network", "print_summary"]
