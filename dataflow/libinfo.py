"""`mx.libinfo`: the version, and MXNet's library/include path lookups, which fail here: dataflow has no native
library (its kernels are compiled by numba), so code that loads libmxnet itself cannot run."""
from .base import __version__  # noqa: F401

__all__ = ["find_lib_path", "find_include_path"]


def find_lib_path(prefix="libmxnet"):
    """MXNet's lookup of its shared library: a RuntimeError here, as MXNet raises when it finds none."""
    raise RuntimeError("Cannot find the MXNet library (%s): dataflow runs MXNet's Python API on numba kernels and has "
                       "no native library to load" % prefix)


def find_include_path():
    """MXNet's lookup of its C++ headers: a RuntimeError here, as MXNet raises when it finds none."""
    raise RuntimeError("Cannot find the MXNet include path: dataflow has no native library or C++ headers")
