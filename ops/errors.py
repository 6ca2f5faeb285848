"""The project's one exception family.

Every error a user can cause derives from `MXNetError` (MXNet's name, so `except mx.base.MXNetError` keeps working).
Messages name the op, the node, the input and the shapes involved, in the spirit of MXNet's
"Error in operator fc1: Shape inconsistent, Provided=(1,100), inferred shape=(1000,100)".
"""


class MXNetError(RuntimeError):
    """Base class of every error raised by dataflow (a RuntimeError, as MXNet's)."""


class ParamError(MXNetError, ValueError):
    """An op parameter is missing, unknown or has a bad value."""


class ShapeError(MXNetError, ValueError):
    """Shapes cannot be inferred or are inconsistent."""


class DTypeError(MXNetError, TypeError):
    """Dtypes cannot be inferred or are inconsistent."""


class GraphError(MXNetError, ValueError):
    """A graph is malformed: a bad JSON file, a missing argument, an unknown op."""


def in_operator(op_name, node_name, message):
    """Format MXNet's 'Error in operator' prefix: the op and the node a message is about."""
    if node_name and node_name != op_name:
        return "Error in operator %s (%s): %s" % (node_name, op_name, message)
    return "Error in operator %s: %s" % (op_name, message)
