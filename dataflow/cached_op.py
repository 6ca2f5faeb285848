"""`mx.nd.CachedOp(sym, flags)`: a Symbol compiled once per input signature and called like a function.

`op(*inputs)` takes one NDArray per `sym.list_inputs()` (arguments and aux states, in graph order) and returns
the output NDArray, or a list for several outputs. It runs on the machinery of hybridized Gluon blocks
(dataflow/gluon/cached_graph.py): a Plan per signature, and under `autograd.record()` one recorded node whose
gradient runs the graph's backward. `flags` (MXNet's static_alloc, static_shape, ...) are accepted; plans here are
always static.
"""
from . import autograd
from .ndarray.ndarray import NDArray
from .symbol.symbol import Symbol


class CachedOp:
    """A callable compiled Symbol (MXNet's `mx.nd.CachedOp`)."""

    def __init__(self, sym, flags=()):
        if not isinstance(sym, Symbol):
            raise TypeError("CachedOp needs a Symbol, got %s" % type(sym).__name__)
        self._symbol = sym
        self._flags = dict(flags)
        self._input_names = sym.list_inputs()
        self._plans = {}

    def __call__(self, *args, out=None, default_ctx=None):
        if len(args) != len(self._input_names):
            raise ValueError("CachedOp: %d inputs given, the symbol takes %d: %s"
                             % (len(args), len(self._input_names), self._input_names))
        for name, a in zip(self._input_names, args):
            if not isinstance(a, NDArray):
                raise TypeError("CachedOp: input %r must be an NDArray, got %s" % (name, type(a).__name__))
        from .gluon.cached_graph import _CachedBackward, _CachedGraph
        recording, training = autograd.is_recording(), autograd.is_training()
        key = (tuple((a.shape, a.dtype) for a in args), training, args[0].context if args else None,
               tuple(a._entry is not None for a in args) if recording else None)
        plan = self._plans.get(key)
        if plan is None:
            kind = _CachedBackward if recording else _CachedGraph
            plan = self._plans[key] = kind(self._symbol, self._input_names, args, {}, training, "CachedOp")
        result = plan(args)
        if out is not None:
            outs = [out] if isinstance(out, NDArray) else list(out)
            for src, dst in zip(result if isinstance(result, list) else [result], outs):
                src.copyto(dst)
            return out
        return result
