"""NumPy's integer functions under MXNet's names: `_npi_bitwise_not` (invert), `_npi_bitwise_and`,
`_npi_bitwise_or`, `_npi_bitwise_xor` and `_npi_lcm`, for integer and bool arrays of one dtype (bool: the logical
operations; lcm takes integers only), broadcast together. Other dtypes are refused at bind time, as MXNet 1.9.1
refuses them ("This operation only support integer types"). None has a gradient."""
import numpy as np

from .cpu.common import assign
from .elemwise import _broadcast_shape, same_shape_rule
from .errors import DTypeError
from .numpy_ops import one_dtype
from .registry import OpDef, register


def _integer_type(name, kinds="iub"):
    def rule(p, in_types, out_types):
        dtype = one_dtype(name, in_types, out_types)
        if dtype is not None and dtype.kind not in kinds:       # MXNet 1.9.1's words
            raise DTypeError("%s: This operation only support integer types, not %s" % (name, dtype.name))
        return [dtype] * len(in_types), [dtype]
    return rule


def _kernel(function):
    def kernel(ctx, p, inputs, outputs, req):
        out = outputs[0]
        assign(out, req[0], np.asarray(function(*inputs)).reshape(out.shape))
    return kernel


def _no_gradient(p, ins, outs, dys):
    return [None] * len(ins)


register(OpDef("_npi_bitwise_not", infer_shape=same_shape_rule, infer_type=_integer_type("_npi_bitwise_not"),
               inplace=((0, 0),), cpu=_kernel(np.invert), gradient=_no_gradient,
               doc="NumPy's bitwise_not (invert) of an integer or bool array (bool: logical not)."))

BINARY = {"_npi_bitwise_and": (np.bitwise_and, "iub"), "_npi_bitwise_or": (np.bitwise_or, "iub"),
          "_npi_bitwise_xor": (np.bitwise_xor, "iub"), "_npi_lcm": (np.lcm, "iu")}


def _binary_op(name, function, kinds):
    def shape_rule(p, in_shapes, out_shapes):
        return _broadcast_shape(p, in_shapes, out_shapes, name)
    register(OpDef(name, arguments=("lhs", "rhs"), infer_shape=shape_rule, infer_type=_integer_type(name, kinds),
                   cpu=_kernel(function), gradient=_no_gradient,
                   doc="NumPy's %s of integer arrays of one dtype, broadcast together." % name[len("_npi_"):]))


for _name, (_function, _kinds) in BINARY.items():
    _binary_op(_name, _function, _kinds)

FORWARD = ("_npi_bitwise_not",) + tuple(BINARY)
