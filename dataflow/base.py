"""`mx.base`: the names of MXNet's `base` module that user code and libraries import.

The error classes, the type tuples used in isinstance checks, `_Null`, string and list helpers, `data_dir()`
(where downloads are cached), `classproperty`, and the ctypes aliases some code builds arrays with. There is no
native library, so `_LIB` and `check_call` do not exist here; the handle types are names only (see below).
"""
import ctypes
import inspect
import os
import platform

import numpy as np

from ops.errors import DTypeError, GraphError, MXNetError, ParamError, ShapeError  # noqa: F401

from .frontend import _Null, _NullType  # noqa: F401  (one placeholder object for "argument not given")

__version__ = "1.9.1"   # the MXNet version whose API this package reproduces

# MXNet's tuples for isinstance checks (Python 3: no `long`, no `basestring`)
integer_types = (int, np.int32, np.int64)
numeric_types = (float, int, np.generic)
string_types = (str,)

mx_uint = ctypes.c_uint
mx_int = ctypes.c_int
mx_int64 = ctypes.c_int64
mx_float = ctypes.c_float
mx_float_p = ctypes.POINTER(mx_float)
mx_real_t = np.float32

# MXNet's opaque C handle types, all `void *`. dataflow has no native library, so nothing here ever holds or
# accepts one: they exist only because libraries import them at module level (GluonNLP's calibration collector
# imports NDArrayHandle).
NDArrayHandle = ctypes.c_void_p
FunctionHandle = ctypes.c_void_p
OpHandle = ctypes.c_void_p
CachedOpHandle = ctypes.c_void_p
SymbolHandle = ctypes.c_void_p
ExecutorHandle = ctypes.c_void_p
DataIterCreatorHandle = ctypes.c_void_p
DataIterHandle = ctypes.c_void_p
KVStoreHandle = ctypes.c_void_p
RecordIOHandle = ctypes.c_void_p
RtcHandle = ctypes.c_void_p
CudaModuleHandle = ctypes.c_void_p
CudaKernelHandle = ctypes.c_void_p
ProfileHandle = ctypes.c_void_p
DLPackHandle = ctypes.c_void_p


def py_str(x):
    """A C string (bytes) as a Python str (a str, as monitor callbacks get names here, stays as it is)."""
    return x if isinstance(x, str) else x.decode("utf-8")


def c_str(string):
    """A Python str as a ctypes `char *`."""
    return ctypes.c_char_p(string.encode("utf-8"))


def c_str_array(strings):
    """Python strs as a ctypes `const char **`."""
    array = (ctypes.c_char_p * len(strings))()
    array[:] = [s.encode("utf-8") for s in strings]
    return array


def c_array(ctype, values):
    """A ctypes array of `ctype` holding `values`."""
    array = (ctype * len(values))()
    array[:] = values
    return array


def c_array_buf(ctype, buf):
    """A ctypes array of `ctype` over the memory of `buf` (no copy)."""
    return (ctype * len(buf)).from_buffer(buf)


def _as_list(obj):
    """`obj` itself when it is a list or tuple, else `[obj]`."""
    return obj if isinstance(obj, (list, tuple)) else [obj]


def data_dir_default():
    """Where MXNet keeps downloaded data and models unless MXNET_HOME says otherwise: ~/.mxnet (%APPDATA%/mxnet
    on Windows)."""
    if platform.system() == "Windows":
        return os.path.join(os.environ.get("APPDATA"), "mxnet")
    return os.path.join(os.path.expanduser("~"), ".mxnet")


def data_dir():
    """The data directory: $MXNET_HOME, else `data_dir_default()`."""
    return os.getenv("MXNET_HOME", data_dir_default())


error_types = {}     # error name -> class (MXNet maps its C++ error names through this table)


def register_error(func_name=None, cls=None):
    """Register an error class under a name: `@register_error` (its own name), `@register_error("Name")`, or
    `register_error("Name", cls)`. Returns the class (or the decorator)."""
    if callable(func_name):
        func_name, cls = func_name.__name__, func_name

    def register(klass):
        error_types[func_name if isinstance(func_name, str) else klass.__name__] = klass
        return klass
    return register if cls is None else register(cls)


class _NotAvailable(MXNetError):
    """A function called on a kind of array it does not support; subclasses say which (`_what`)."""
    _what = ""

    def __init__(self, function, alias, *args):
        super().__init__()
        self.function = function.__name__
        self.alias = alias
        self.args = [str(type(a)) for a in args]

    def __str__(self):
        message = "Function %s" % self.function
        if self.alias:
            message += ' (namely operator "%s")' % self.alias
        if self.args:
            message += " with arguments (%s)" % ", ".join(self.args)
        return message + " " + self._what


class NotImplementedForSymbol(_NotAvailable):
    """A function that exists for NDArray but not for Symbol."""
    _what = "is not implemented for Symbol and only available in NDArray."


class NotSupportedForSparseNDArray(_NotAvailable):
    """A function that exists for dense NDArrays but not for sparse ones."""
    _what = "is not supported for SparseNDArray and only available in NDArray."


# -- class properties (`Context.default_ctx`) ----------------------------------------------------------------------

class _ClassPropertyDescriptor:
    """A property of the class itself; assignment goes through the setter via `_MXClassPropertyMetaClass`."""

    def __init__(self, fget, fset=None):
        self.fget = fget
        self.fset = fset

    def __get__(self, obj, owner=None):
        return self.fget.__get__(obj, owner if owner is not None else type(obj))()

    def __set__(self, obj, value):
        if self.fset is None:
            raise MXNetError("cannot use the setter: %s to set attribute" % getattr(obj, "__name__", obj))
        owner = obj if inspect.isclass(obj) else type(obj)
        return self.fset.__get__(None if inspect.isclass(obj) else obj, owner)(value)

    def setter(self, func):
        self.fset = func if isinstance(func, (classmethod, staticmethod)) else classmethod(func)
        return self


_MXClassPropertyDescriptor = _ClassPropertyDescriptor


class _MXClassPropertyMetaClass(type):
    """Routes `Cls.prop = value` to the class property's setter."""

    def __setattr__(cls, key, value):
        descriptor = cls.__dict__.get(key)
        if isinstance(descriptor, _ClassPropertyDescriptor):
            return descriptor.__set__(cls, value)
        return super().__setattr__(key, value)


def classproperty(func):
    """Decorator: a read (and, with `.setter`, write) property of the class."""
    return _ClassPropertyDescriptor(func if isinstance(func, (classmethod, staticmethod)) else classmethod(func))


def with_metaclass(meta, *bases):
    """A base class whose subclasses are made by `meta` (`class C(with_metaclass(Meta, Base))`)."""
    return meta("_WithMetaclassBase", bases or (object,), {})
