"""`mx.ndarray_doc`: example sections appended to the docs of some NDArray functions (MXNet's `<op>Doc`
classes; `_build_doc` attaches the one named after the function)."""
from ._op_doc import build_doc


class NDArrayDoc:
    """Base class of the NDArray example docs."""


class ReshapeDoc(NDArrayDoc):
    """
    Examples
    --------
    >>> import dataflow as mx
    >>> mx.nd.reshape(mx.nd.arange(6), shape=(2, 3)).shape
    (2, 3)
    >>> mx.nd.reshape(mx.nd.ones((2, 3, 4)), shape=(4, 0, -1)).shape
    (4, 3, 2)
    """


class elemwise_addDoc(NDArrayDoc):  # noqa: N801 (MXNet's name, after the op)
    """
    Examples
    --------
    >>> import dataflow as mx
    >>> mx.nd.elemwise_add(mx.nd.ones(2), mx.nd.ones(2)).asnumpy()
    array([2., 2.], dtype=float32)
    """


class BroadcastToDoc(NDArrayDoc):
    """
    Examples
    --------
    >>> import dataflow as mx
    >>> mx.nd.broadcast_to(mx.nd.array([[1, 2]]), shape=(3, 2)).shape
    (3, 2)
    """


class StackDoc(NDArrayDoc):
    """
    Examples
    --------
    >>> import dataflow as mx
    >>> mx.nd.stack(mx.nd.ones(3), mx.nd.zeros(3), axis=1).shape
    (3, 2)
    """


class CustomDoc(NDArrayDoc):
    """
    Examples
    --------
    A custom operator registered as 'my_op' (see `mx.operator.register`) runs with
    `mx.nd.Custom(data, op_type='my_op')`.
    """


def _build_doc(func_name, desc, arg_names, arg_types, arg_desc, key_var_num_args=None, ret_type=None):
    """The docstring of the NDArray function `func_name`."""
    return build_doc(NDArrayDoc, func_name, desc, arg_names, arg_types, arg_desc,
                     "out : NDArray, optional\n    The output NDArray to hold the result.",
                     "out : NDArray or list of NDArrays\n    The output of this function.", "NDArray")
