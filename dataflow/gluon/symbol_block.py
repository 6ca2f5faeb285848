"""`SymbolBlock`: a HybridBlock around a Symbol, e.g. the `-symbol.json` of a model MXNet exported.

As in MXNet 1.x, the block takes a name from the counter (`symbolblock0`) but an empty prefix, so its
parameters keep the Symbol's argument names, and it registers them under those names minus their common prefix
(`net_fc1_weight`, `net_fc2_weight` -> `1_weight`, `2_weight`): the structural names `save_parameters` and
`load_parameters` use (GluonCV's feature extractors load their weights by them).
"""
from collections import OrderedDict

import numpy as np

from ops.errors import MXNetError

from .. import symbol as sym_module
from ..ndarray.ndarray import NDArray
from ..symbol import graph_json
from ..symbol.symbol import Symbol
from . import _nesting
from .block import HybridBlock
from .parameter import ParameterDict


def _common_prefix(names):
    """The longest string every name starts with ('' for no names)."""
    if not names:
        return ""
    prefix = names[0]
    for name in names[1:]:
        length = 0
        while length < min(len(prefix), len(name)) and prefix[length] == name[length]:
            length += 1
        prefix = prefix[:length]
    return prefix


def _param_dtypes(inputs, out):
    """(arg dtypes, aux dtypes) inferred from the inputs' `__dtype__` attributes; float32 where unknown."""
    known = {}
    for i in inputs:
        dtype = i.attr("__dtype__")
        if dtype is None:
            break
        known[i.name] = graph_json.variable_dtype(dtype)      # MXNet's integer code; None if unknown
    else:
        try:
            arg_types, _, aux_types = out.infer_type(**known)
            if arg_types is not None:
                return arg_types, aux_types
        except MXNetError:
            pass
    return ([np.float32] * len(out.list_arguments()), [np.float32] * len(out.list_auxiliary_states()))


class SymbolBlock(HybridBlock):
    """A HybridBlock running a given Symbol; its parameters are the Symbol's arguments that are not inputs.

    Examples
    --------
    >>> import dataflow as mx
    >>> data = mx.sym.var('data')
    >>> net = mx.gluon.SymbolBlock(mx.sym.FullyConnected(data, num_hidden=2, name='fc'), data)
    >>> sorted(net.collect_params().keys())
    ['fc_bias', 'fc_weight']
    >>> sorted(net._reg_params)                 # registered without the common prefix 'fc_'
    ['bias', 'weight']
    """

    def __init__(self, outputs, inputs, params=None):
        super().__init__(prefix=None, params=None)     # takes a name (symbolblock0) from the counter
        self._prefix = ""
        self._params = ParameterDict("", params)
        if isinstance(inputs, Symbol) and len(inputs.list_outputs()) == 1:
            inputs = [inputs]
        if isinstance(outputs, (list, tuple)) and len(outputs) == 1:
            outputs = outputs[0]
        # inputs and outputs may be nested lists, as a HybridBlock's arguments: called with the same nesting
        inputs, self._in_format = _nesting.flatten(inputs, "input")
        outputs, self._out_format = _nesting.flatten(outputs, "output")
        outputs = outputs[0] if len(outputs) == 1 else sym_module.Group(outputs)
        for i in inputs:
            if len(i.get_internals().list_outputs()) != 1:
                raise AssertionError("Input symbols must be variable, but %s is an output of operators" % i)
        input_names = {i.name for i in inputs}
        arg_types, aux_types = _param_dtypes(inputs, outputs)
        for name, dtype in zip(outputs.list_arguments(), arg_types):
            if name not in input_names:
                self.params.get(name, allow_deferred_init=True, dtype=dtype)
        for name, dtype in zip(outputs.list_auxiliary_states(), aux_types):
            if name not in input_names:
                self.params.get(name, grad_req="null", allow_deferred_init=True, dtype=dtype)
        self._cached_graph = (inputs, outputs)
        strip = len(_common_prefix(list(self._params.keys())))
        self._reg_params = OrderedDict((key[strip:], p) for key, p in self._params.items())

    def __repr__(self):
        inputs, out = self._cached_graph
        return "%s(\n%s : %d -> %d\n)" % (type(self).__name__, out, len(inputs), len(out.list_outputs()))

    @staticmethod
    def imports(symbol_file, input_names, param_file=None, ctx=None, allow_missing=False, ignore_extra=False):
        """A SymbolBlock from an exported `-symbol.json` (and `.params`: the parameters take the file's dtypes)."""
        from ..util import finish_pending_save      # an export that a crash interrupted after its commit point
        finish_pending_save(symbol_file)
        out = sym_module.load(symbol_file)
        input_names = [input_names] if isinstance(input_names, str) else list(input_names)
        if param_file is None:
            inputs = [sym_module.var(n, dtype=np.float32) for n in input_names]
        else:
            inputs = [sym_module.var(n) for n in input_names]
        block = SymbolBlock(out, inputs)
        if param_file is not None:
            block.collect_params().load(param_file, ctx, allow_missing, ignore_extra, cast_dtype=True,
                                        dtype_source="saved")
        return block

    def _trace(self, flat, in_format):
        """The given Symbol, for arguments nested as the inputs given to the constructor."""
        if in_format != self._in_format:
            raise ValueError("The argument structure of HybridBlock does not match the cached version. Stored "
                             "format = %s, input format = %s" % (self._in_format, in_format))
        return None, self._cached_graph + (self._out_format,)

    def _clear_cached_op(self):
        graph = getattr(self, "_cached_graph", ())
        super()._clear_cached_op()
        self._cached_graph = graph

    def forward(self, x, *args):
        if isinstance(x, Symbol):
            inputs, out = self._cached_graph
            flat, in_format = _nesting.flatten([x, *args], "input")
            if in_format != self._in_format:
                raise ValueError("SymbolBlock: invalid input format %s; the block takes %s" % (in_format,
                                                                                               self._in_format))
            out = out(**{i.name: a for i, a in zip(inputs, flat)})
            return _nesting.regroup([out[k] for k in range(len(out.list_outputs()))], self._out_format)
        if not isinstance(x, NDArray):
            raise TypeError("SymbolBlock requires the first argument to forward be either Symbol or NDArray, but "
                            "got %s" % type(x))
        return self._call_cached(x, *args)

    def hybrid_forward(self, F, x, *args, **kwargs):
        raise NotImplementedError("SymbolBlock runs its Symbol; hybrid_forward is not used")
