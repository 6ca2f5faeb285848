"""`mx.symbol_doc`: example sections appended to the docs of some Symbol functions (MXNet's `<op>Doc` classes;
`_build_doc` attaches the one named after the function), and `SymbolDoc.get_output_shape`."""
from ._op_doc import build_doc


class SymbolDoc:
    """Base class of the Symbol example docs."""

    @staticmethod
    def get_output_shape(sym, **input_shapes):
        """{output name: shape} of `sym` for the given input shapes."""
        _, out_shapes, _ = sym.infer_shape(**input_shapes)
        return dict(zip(sym.list_outputs(), out_shapes))


class ActivationDoc(SymbolDoc):
    """
    Examples
    --------
    >>> import dataflow as mx
    >>> net = mx.sym.Activation(mx.sym.var('data'), act_type='relu', name='relu1')
    >>> SymbolDoc.get_output_shape(net, data=(2, 3))
    {'relu1_output': (2, 3)}
    """


class DropoutDoc(SymbolDoc):
    """
    Examples
    --------
    >>> import dataflow as mx
    >>> net = mx.sym.Dropout(mx.sym.var('data'), p=0.5, name='drop')
    >>> SymbolDoc.get_output_shape(net, data=(4, 5))
    {'drop_output': (4, 5)}
    """


class EmbeddingDoc(SymbolDoc):
    """
    Examples
    --------
    >>> import dataflow as mx
    >>> net = mx.sym.Embedding(mx.sym.var('data'), input_dim=10, output_dim=4, name='emb')
    >>> SymbolDoc.get_output_shape(net, data=(2, 3))
    {'emb_output': (2, 3, 4)}
    """


class FlattenDoc(SymbolDoc):
    """
    Examples
    --------
    >>> import dataflow as mx
    >>> net = mx.sym.Flatten(mx.sym.var('data'), name='flat')
    >>> SymbolDoc.get_output_shape(net, data=(2, 3, 4))
    {'flat_output': (2, 12)}
    """


class FullyConnectedDoc(SymbolDoc):
    """
    Examples
    --------
    >>> import dataflow as mx
    >>> net = mx.sym.FullyConnected(mx.sym.var('data'), num_hidden=8, name='fc1')
    >>> SymbolDoc.get_output_shape(net, data=(2, 5))
    {'fc1_output': (2, 8)}
    """


class ConcatDoc(SymbolDoc):
    """
    Examples
    --------
    >>> import dataflow as mx
    >>> net = mx.sym.Concat(mx.sym.var('a'), mx.sym.var('b'), dim=1, name='cat')
    >>> SymbolDoc.get_output_shape(net, a=(2, 3), b=(2, 4))
    {'cat_output': (2, 7)}
    """


class BroadcastPlusDoc(SymbolDoc):
    """
    Examples
    --------
    >>> import dataflow as mx
    >>> net = mx.sym.broadcast_plus(mx.sym.var('a'), mx.sym.var('b'), name='plus')
    >>> SymbolDoc.get_output_shape(net, a=(2, 1), b=(1, 3))
    {'plus_output': (2, 3)}
    """


def _build_doc(func_name, desc, arg_names, arg_types, arg_desc, key_var_num_args=None, ret_type=None):
    """The docstring of the Symbol function `func_name`."""
    if key_var_num_args:
        desc += "\nThis function support variable length of positional input."
    return build_doc(SymbolDoc, func_name, desc, arg_names, arg_types, arg_desc,
                     "name : string, optional.\n    Name of the resulting symbol.", "Symbol\n    The result symbol.",
                     "Symbol")
