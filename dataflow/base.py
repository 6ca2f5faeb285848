"""MXNet's `base` names that user code catches or checks."""
import numbers

import numpy as np

from ops.errors import DTypeError, GraphError, MXNetError, ParamError, ShapeError  # noqa: F401

numeric_types = (float, int, np.generic, numbers.Number)
integer_types = (int, np.integer)
string_types = (str,)
mx_real_t = np.float32
_Null = None
