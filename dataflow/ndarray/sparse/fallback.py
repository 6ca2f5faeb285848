"""An ordinary op (`mx.nd.exp(csr)`) called with sparse arrays: its sparse implementation if one is registered,
else MXNet's storage fallback: the sparse inputs become temporary dense arrays, the dense kernel runs, and a
`StorageFallbackWarning` with MXNet's message is issued once per distinct message (MXNet logs each once).

`ndarray._run_general` hands every call with a sparse input or output here (Note [sparse storage] in
`__init__.py`). The sparse ops (sparse_ops.py) register the ops they compute with `implements`:

    @implements("elemwise_add", "_plus")
    def _elemwise_add(inputs, params, out): ...     # NotImplemented for storage types it does not handle

`params` is the call's parsed `ops.registry.Params`; `out` the user's `out=` (None when not given).
"""
import importlib
import os
import sys
import warnings

_IMPLEMENTATIONS = {}       # op name (as registered or as called) -> function(inputs, params, out)
# registers the row_sparse kernels of the optimizer update ops (`*_update`) when imported, which `import dataflow`
# does not do (mx.optimizer, a Trainer or a KVStore do)
_UPDATE_KERNELS = "dataflow.optimizer.sparse"
_WARNED = set()


class StorageFallbackWarning(UserWarning):
    """An op ran on dense copies of sparse arrays because it has no kernel for their storage types."""


def implements(*op_names):
    """Register the decorated function as the sparse implementation of the ops `op_names`."""
    def register(function):
        for name in op_names:
            _IMPLEMENTATIONS[name] = function
        return function
    return register


def run_sparse(form, inputs, out, run_dense):
    """Run the parsed call `form` with sparse inputs or a sparse `out`; `run_dense(form, inputs, out)` runs it
    on dense arrays."""
    call = form.call
    if call.opdef.name.endswith("_update") and _UPDATE_KERNELS not in sys.modules:
        importlib.import_module(_UPDATE_KERNELS)
    function = _IMPLEMENTATIONS.get(call.op_name) or _IMPLEMENTATIONS.get(call.opdef.name)
    if function is not None:
        result = function(list(inputs), call.params, out)
        if result is not NotImplemented:
            return result
    outs = None if out is None else (list(out) if isinstance(out, (list, tuple)) else [out])
    sparse_out = outs is not None and any(o.stype != "default" for o in outs)
    _warn(call, form.attrs, inputs, outs)
    dense = [x.tostype("default") if x.stype != "default" else x for x in inputs]
    if not sparse_out:
        return run_dense(form, dense, out)
    results = run_dense(form, dense, None)
    results = list(results) if isinstance(results, (list, tuple)) else [results]
    for result, target in zip(results, outs):
        (result.tostype(target.stype) if target.stype != "default" else result).copyto(target)
    return out


def _warn(call, attrs, inputs, outs):
    if os.environ.get("MXNET_STORAGE_FALLBACK_LOG_VERBOSE", "1") == "0":
        return
    params = call.opdef.format_attrs({k: v for k, v in attrs.items() if k != "ctx"})
    device = (inputs[0].context if inputs else outs[0].context).device_type
    out_stypes = [o.stype for o in outs] if outs else ["default"] * call.n_visible
    message = fallback_message(call.op_name, [x.stype for x in inputs], out_stypes, params, device)
    warn_once(message)


def warn_once(message):
    """Issue MXNet's fallback `message` as a StorageFallbackWarning, once per distinct message (also for bound
    executors, dataflow/executor_sparse.py)."""
    if message not in _WARNED and os.environ.get("MXNET_STORAGE_FALLBACK_LOG_VERBOSE", "1") != "0":
        _WARNED.add(message)
        warnings.warn(message, StorageFallbackWarning, stacklevel=_caller_level())


def _caller_level():
    """The stacklevel of the first frame outside dataflow (the user's call), for the warning's location."""
    package = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    frame, level = sys._getframe(2), 2     # frame 2 (run_sparse) is stacklevel 2 of the warn in _warn
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package + os.sep):
        frame, level = frame.f_back, level + 1
    return level


def fallback_message(op_name, in_stypes, out_stypes, params, device):
    """MXNet's storage-fallback log message (common/utils.h), without its timestamp prefix."""
    return ("\nStorage type fallback detected:\noperator = %s\ninput storage types = [%s]\noutput storage types = "
            "[%s]\nparams = {%s}\ncontext.dev_mask = %s\nThe operator with default storage type will be dispatched "
            "for execution. You're seeing this warning message because the operator above is unable to process the "
            "given ndarrays with specified storage types, context and parameter. Temporary dense ndarrays are "
            "generated in order to execute the operator. This does not affect the correctness of the programme. You "
            "can set environment variable MXNET_STORAGE_FALLBACK_LOG_VERBOSE to 0 to suppress this warning."
            % (op_name, "".join("%s, " % s for s in in_stypes), "".join("%s, " % s for s in out_stypes),
               "".join('"%s" : %s, ' % kv for kv in params.items()), device))
