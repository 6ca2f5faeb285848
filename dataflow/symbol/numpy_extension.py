"""`mx.sym.npx`: MXNet's npx operators on Symbols, for `F.npx.X` in a hybridized numpy-mode block. Generated from
the same table as `mx.npx` (`dataflow/numpy/_op_names.py::NPX_OPS`): each function builds a node of the registry
op with that op's params, returning a numpy-mode `_Symbol`; `reshape`, `constraint_check`, `nonzero` (refused: its
shape depends on values), `random` (bernoulli, uniform_n, normal_n) and `image` (the `_image_*` ops) are written
out."""
import numbers as _numbers
import types as _types

from ops import registry as _registry

from .. import frontend as _frontend
from ..numpy._op_names import NPX_OPS as _NPX_OPS
from ..numpy_extension.reshape import legacy_codes as _legacy_codes
from .numpy import _sym, _Symbol
from .numpy import random as _np_random
from .symbol import Symbol as _PlainSymbol
from .symbol import create as _create


def _invoke(opdef, name, args, kwargs):
    out = _create(opdef, name, args, kwargs)
    return _Symbol(out._outputs)


def _generate():
    for npx_name, op_name in _NPX_OPS.items():
        if _registry.exists(op_name):
            globals()[npx_name] = _frontend.make_function(_registry.get(op_name), npx_name, _invoke, ("name", "attr"))


_generate()


def reshape(a, newshape, reverse=False, order="C"):
    """`npx.reshape` as a `Reshape` node: MXNet's numpy-mode special values become the legacy op's codes, -3 (drop
    a size-one axis) a squeeze before it (see numpy_extension/reshape.py)."""
    if order != "C":
        raise NotImplementedError("npx.reshape: only order='C' is supported")
    try:
        dropped, codes = _legacy_codes(newshape, reverse)
    except ValueError as err:
        raise NotImplementedError("npx.reshape of a Symbol: %s" % err) from None
    if not codes:           # shape (): one element, as a Reshape to (1,) checks, and its axis squeezed
        return _sym("_np_squeeze", _sym("Reshape", a, shape=(1,)), axis=(0,))
    if dropped:
        a = _sym("_np_squeeze", a, axis=dropped)
    return _sym("Reshape", a, shape=tuple(codes), reverse=bool(reverse))


def constraint_check(x, msg="Constraint violated."):
    """True (shape ()) when every element of the bool Symbol `x` is true; else running the graph raises a
    ValueError saying `msg`. Multiply a value by the result so that the check stays in the graph."""
    return _sym("_npx_constraint_check", x, msg=str(msg))


def nonzero(a):
    """Refused: one row per non-zero element, a count a graph must know when it is bound (MXNet 1.9.1's graph runs
    it with dynamic shapes; dataflow's graphs have static ones)."""
    raise NotImplementedError("npx.nonzero of a Symbol: its output's shape depends on the input's values, which a "
                              "dataflow graph cannot hold; call mx.npx.nonzero on arrays (outside hybridize)")


# -- npx.random -------------------------------------------------------------------------------------------------------
def _batch(batch_shape):
    if batch_shape is None:
        return ()
    return (int(batch_shape),) if isinstance(batch_shape, _numbers.Integral) else tuple(batch_shape)


def _bernoulli(prob=None, logit=None, size=None, dtype=None, ctx=None, out=None):
    """1 with probability `prob` (or sigmoid(`logit`)), else 0, of shape `size` (else the parameter's shape),
    float32 unless `dtype`: a uniform draw compared with the parameter."""
    if (prob is None) == (logit is None):
        raise ValueError("Either `prob` or `logit` must be specified, but not both. Received prob=%s, logit=%s"
                         % (prob, logit))
    param = prob if prob is not None else logit
    if isinstance(param, _PlainSymbol):       # compared in float32, the draw's dtype
        param = _sym("Cast", param, dtype="float32")
    if size is None and isinstance(param, _PlainSymbol):
        u = _sym("_random_uniform_like", param, low=0.0, high=1.0)
    else:
        u = _np_random.uniform(size=size)
    # u < sigmoid(logit)  <=>  log(u / (1 - u)) < logit: no overflow of exp for large |logit|
    drawn = u < param if prob is not None else _sym("log", u / (1 - u)) < param
    return drawn.astype(dtype or "float32")


def _uniform_n(low=0.0, high=1.0, batch_shape=None, dtype=None, ctx=None):
    """Uniform samples on [low, high) of shape `batch_shape` + the parameters' broadcast shape."""
    return _np_random._sample("uniform", dict(low=low, high=high), None, dtype, batch=_batch(batch_shape))


def _normal_n(loc=0.0, scale=1.0, batch_shape=None, dtype=None, ctx=None):
    """Normal samples of shape `batch_shape` + the parameters' broadcast shape."""
    return _np_random._sample("normal", dict(loc=loc, scale=scale), None, dtype, batch=_batch(batch_shape))


def _namespace(name, doc, functions):
    """A submodule `mx.sym.npx.<name>` holding `functions` (name -> function)."""
    module = _types.ModuleType("%s.%s" % (__name__, name), doc)
    for function_name, function in functions.items():
        function.__name__ = function.__qualname__ = function_name
        setattr(module, function_name, function)
    return module


random = _namespace("random", "`mx.sym.npx.random`: MXNet's sampling extensions on Symbols.",
                    {"bernoulli": _bernoulli, "uniform_n": _uniform_n, "normal_n": _normal_n})

# -- npx.image: the registry's `_image_*` ops -------------------------------------------------------------------------
_IMAGE = ("adjust_lighting", "crop", "flip_left_right", "flip_top_bottom", "normalize", "random_brightness",
          "random_color_jitter", "random_contrast", "random_flip_left_right", "random_flip_top_bottom", "random_hue",
          "random_lighting", "random_saturation", "resize", "to_tensor")
image = _namespace("image", "`mx.sym.npx.image`: MXNet's image operators on Symbols.",
                   {name: _frontend.make_function(_registry.get("_image_" + name), name, _invoke, ("name", "attr"))
                    for name in _IMAGE})
