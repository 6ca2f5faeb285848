"""MXNet's `mx.contrib.amp.amp`: automatic mixed precision (float16) for dataflow's front ends and graphs.

`init()` rewraps the generated front ends (`mx.nd.X`, `mx.sym.X` and their `_internal`/`contrib` submodules, which
Gluon's `F.X` reaches too) as MXNet does: ops of the target list get their inputs cast to float16, float32 ops to
float32, conditional ops to float32 when a param takes a listed value, widest-type ops to the widest of their input
types (`amp_multicast` for symbols); loss outputs take the loss scale as `grad_scale`. `init_trainer`,
`scale_loss` and `unscale` add dynamic loss scaling (loss_scaler.py) to a Gluon Trainer, whose step is skipped on
overflow. `convert_symbol`/`convert_model`/`convert_hybrid_block` rewrite a float32 graph (reduce_precision.py).
bfloat16 is refused: numpy, and so dataflow's arrays, have no bfloat16 type.
"""
import contextlib
import logging

import numpy as np

from ops import registry

from ... import ndarray, symbol
from ...base import MXNetError
from ...ndarray import NDArray
from ...symbol import Symbol
from . import lists
from .loss_scaler import LossScaler

__all__ = ["init", "init_trainer", "scale_loss", "unscale", "convert_model", "convert_hybrid_block",
           "list_lp16_ops", "list_fp32_ops", "list_lp16_fp32_ops", "list_conditional_fp32_ops",
           "list_widest_type_cast", "list_loss_output_functions", "list_lp16_use_fp32_params", "convert_symbol"]

# MXNet's bfloat16 stand-in for numpy (a 16-bit record), which its AMP functions accept as target_dtype
bfloat16 = np.dtype([("bfloat16", np.uint16)])

_amp_initialized = False
_amp_loss_scale_initialized = False
_loss_scaler = None
_DTYPE_CODES = list(registry.DTYPES)     # MXNet's integer dtype codes, as `__dtype__` holds them
_not_wrapped = []       # names in the lists that dataflow has no op for (MXNet would raise AttributeError)


def _target_dtype(target_dtype, what):
    if target_dtype in ("float16", np.float16) or (isinstance(target_dtype, np.dtype) and target_dtype == np.float16):
        return np.dtype(np.float16)
    if target_dtype in ("bfloat16", bfloat16):
        raise MXNetError("mx.contrib.amp.%s: target_dtype bfloat16 is not supported by dataflow (numpy has no "
                         "bfloat16 type); use float16" % what)
    raise MXNetError("mx.contrib.amp.%s: AMP supports only float16 or bfloat16 as a target_dtype, got %r"
                     % (what, target_dtype))


# ---- casting the inputs of the front-end functions ---------------------------------------------------------------
_CPU_CASTABLE = (np.dtype(np.float32),)        # MXNet casts only float32 (and bfloat16) arrays on the CPU
_GPU_CASTABLE = (np.dtype(np.float16), np.dtype(np.float32))


def _cast(value, dtype):
    """`value` cast to `dtype` where MXNet's AMP casts it: any Symbol; an NDArray of float32 (on a GPU also
    float16) of another dtype. Anything else is returned as it is."""
    if isinstance(value, Symbol):
        return symbol.amp_cast(value, dtype=dtype)
    if isinstance(value, NDArray):
        castable = _CPU_CASTABLE if value.context.device_type == "cpu" else _GPU_CASTABLE
        if np.dtype(value.dtype) != dtype and np.dtype(value.dtype) in castable:
            return ndarray.amp_cast(value, dtype=dtype)
    return value


def _same_identity(wrapper, f):
    wrapper.__name__, wrapper.__qualname__ = f.__name__, getattr(f, "__qualname__", f.__name__)
    wrapper.__module__, wrapper.__doc__ = f.__module__, f.__doc__
    if hasattr(f, "__signature__"):
        wrapper.__signature__ = f.__signature__
    return wrapper


def _applies(kwargs, condition):
    """Whether a conditional op's param takes one of the values that make it float32."""
    return condition is None or (condition[0] in kwargs and kwargs[condition[0]] in condition[1])


def _ndarray_wrapper(f, dtype, condition=None):
    def wrapped(*args, **kwargs):
        if not _applies(kwargs, condition):
            return f(*args, **kwargs)
        return f(*[_cast(a, dtype) for a in args], **{k: _cast(v, dtype) for k, v in kwargs.items()})
    return _same_identity(wrapped, f)


def _symbol_wrapper(f, dtype, condition=None):
    """Builds the op as usual, then casts every input but the aux states (including the variables the op created
    itself, `fc_weight`), as MXNet rebuilds the op on cast children."""
    def wrapped(*args, **kwargs):
        if not _applies(kwargs, condition):
            return f(*args, **kwargs)
        out = f(*args, **kwargs)
        node = out._outputs[0].node
        aux = set(node.aux_positions())
        node.inputs = [e if i in aux else _cast(Symbol([e]), dtype)._outputs[0] for i, e in enumerate(node.inputs)]
        return out
    return _same_identity(wrapped, f)


def _widest_wrapper(f, target):
    def wrapped(*args, **kwargs):
        args = list(args)
        slots = [(args, i) for i, a in enumerate(args) if isinstance(a, (Symbol, NDArray))]
        slots += [(kwargs, k) for k, v in kwargs.items() if isinstance(v, (Symbol, NDArray))]
        values = [holder[key] for holder, key in slots]
        if any(isinstance(v, Symbol) for v in values):
            casted = symbol.amp_multicast(*values, num_outputs=len(values))
            for (holder, key), c in zip(slots, casted):
                holder[key] = c
        else:
            widest = np.dtype(np.float32) if any(np.dtype(v.dtype) == np.float32 for v in values) else target
            for holder, key in slots:
                value = holder[key]
                if np.dtype(value.dtype) != widest and np.dtype(value.dtype) == target:
                    holder[key] = ndarray.amp_cast(value, dtype=widest)
        return f(*args, **kwargs)
    return _same_identity(wrapped, f)


def _home(module, name):
    """(module holding the function for op `name`, its name there), as the generated front ends route it."""
    from ...frontend import route
    sub, short = route(name)
    return (module if sub is None else getattr(module, sub, None)), short


def _rewrap(module, name, make):
    holder, short = _home(module, name)
    f = getattr(holder, short, None) if holder is not None else None
    if f is None:
        _not_wrapped.append(name)
        return
    setattr(holder, short, make(f))


def _wrap_front_end(module, target, target_ops, conditional_fp32_ops, fp32_ops):
    wrapper = _symbol_wrapper if module is symbol else _ndarray_wrapper
    for name in target_ops:
        _rewrap(module, name, lambda f: wrapper(f, target))
    for name in fp32_ops:
        _rewrap(module, name, lambda f: wrapper(f, np.dtype(np.float32)))
    for name, param, values in conditional_fp32_ops:
        _rewrap(module, name, lambda f, c=(param, values): wrapper(f, np.dtype(np.float32), c))
    for name in list_widest_type_cast(target):
        _rewrap(module, name, lambda f: _widest_wrapper(f, target))


def _wrap_loss_outputs(module, scaler, target):
    def scaling(f):
        def wrapped(*args, **kwargs):
            kwargs["grad_scale"] = kwargs.get("grad_scale", 1.0) * scaler.loss_scale
            return f(*args, **kwargs)
        return _same_identity(wrapped, f)

    def warning(f):
        def wrapped(*args, **kwargs):
            logging.warning("%s does not support dynamic loss scaling in symbolic and hybridized execution.",
                            f.__name__)
            return f(*args, **kwargs)
        return _same_identity(wrapped, f)

    for name in list_loss_output_functions(target):
        if hasattr(module, name):
            setattr(module, name, (scaling if module is ndarray else warning)(getattr(module, name)))


def _wrap_arithmetic():
    """`x + y` on two NDArrays (Symbols) calls the now wrapped `mx.nd.broadcast_add` (`_internal._Plus`), as
    MXNet's operators call its module functions, which AMP wraps; with a scalar they stay as they are."""
    from ...ndarray import ndarray as nd_impl
    from ...symbol import symbol as sym_impl

    def wrap(cls, module, original, op_name):
        def operator(self, other):
            if isinstance(other, cls):
                holder, short = _home(module, op_name)
                return getattr(holder, short)(self, other)
            return original(self, other)
        return _same_identity(operator, original)
    for cls, module, table in ((NDArray, ndarray, nd_impl._ARITHMETIC), (Symbol, symbol, sym_impl._ARITHMETIC)):
        for dunder, op_name, _, _ in table:
            name = "__%s__" % dunder
            setattr(cls, name, wrap(cls, module, getattr(cls, name), op_name))
        cls.__div__ = cls.__truediv__


def init(target_dtype="float16", target_precision_ops=None, conditional_fp32_ops=None, fp32_ops=None):
    """Turn AMP on: from now on the op functions of mx.nd and mx.sym cast their inputs by the op lists (the
    defaults of `list_*`, or the lists given). Call it before building the model; a second call does nothing."""
    global _amp_initialized, _loss_scaler
    if _amp_initialized:
        return
    target = _target_dtype(target_dtype, "init")
    _amp_initialized = True
    logging.info("Using AMP")
    target_ops = target_precision_ops if target_precision_ops is not None else list_lp16_ops(target)
    conditional = conditional_fp32_ops if conditional_fp32_ops is not None else list_conditional_fp32_ops(target)
    fp32 = fp32_ops if fp32_ops is not None else list_fp32_ops(target)
    for module in (symbol, ndarray):
        _wrap_front_end(module, target, target_ops, conditional, fp32)
    _wrap_arithmetic()
    _loss_scaler = LossScaler()
    _wrap_loss_outputs(ndarray, _loss_scaler, target)
    _wrap_loss_outputs(symbol, _loss_scaler, target)


# ---- dynamic loss scaling ----------------------------------------------------------------------------------------
def _trainer_class():
    from ...gluon.trainer import Trainer
    return Trainer


def _check_trainer(optimizer_or_trainer):
    from ...optimizer import Optimizer
    if isinstance(optimizer_or_trainer, _trainer_class()):
        return
    if isinstance(optimizer_or_trainer, Optimizer):
        raise TypeError("AMP is currently only compatible with Gluon Trainer")
    raise TypeError("optimizer_or_trainer should be a Gluon Trainer or an optimizer, instead is %s"
                    % type(optimizer_or_trainer))


def init_trainer(optimizer_or_trainer):
    """Attach dynamic loss scaling to a Gluon Trainer (after `init()`): its steps are skipped on overflow."""
    global _amp_loss_scale_initialized
    if not _amp_initialized:
        raise MXNetError("AMP not initialized, did you forget to call amp.init()?")
    _check_trainer(optimizer_or_trainer)
    if not _amp_loss_scale_initialized:      # the first trainer shares the scaler the loss outputs read
        _amp_loss_scale_initialized = True
        scaler = _loss_scaler
    else:
        scaler = LossScaler()
    optimizer_or_trainer._amp_loss_scaler = scaler
    optimizer_or_trainer._amp_original_scale = optimizer_or_trainer._scale


@contextlib.contextmanager
def scale_loss(loss, optimizer_or_trainer):
    """Yields the loss (or list of losses) times the loss scale, and makes the trainer divide the gradients by it."""
    scaler = getattr(optimizer_or_trainer, "_amp_loss_scaler", None)
    if scaler is None:
        raise MXNetError("Loss scaler is not initialized, did you forget to call amp.init_trainer()?")
    optimizer_or_trainer._scale = optimizer_or_trainer._amp_original_scale / scaler.loss_scale
    if isinstance(loss, (list, tuple)):
        yield [value * scaler.loss_scale for value in loss]
    else:
        yield scaler.loss_scale * loss


def unscale(optimizer_or_trainer):
    """Divide the trainer's gradients by the loss scale now (e.g. before clipping them); the step then uses them
    as they are."""
    _check_trainer(optimizer_or_trainer)
    for param in optimizer_or_trainer._params:
        for grad in param._grad or ():
            grad[:] *= optimizer_or_trainer._scale
    optimizer_or_trainer._scale = 1.0


# ---- converting graphs -------------------------------------------------------------------------------------------
def _check_list(value, what):
    if value is not None and not isinstance(value, list):
        raise MXNetError("mx.contrib.amp: %s should be a list" % what)


def convert_symbol(sym, target_dtype="float16", target_dtype_ops=None, fp32_ops=None, conditional_fp32_ops=None,
                   excluded_sym_names=None, data_names=None, cast_optional_params=False):
    """A copy of float32 `sym` with amp_cast/amp_multicast nodes added by the op lists (see reduce_precision.py);
    its outputs are float32. Model params (inputs not in `data_names`) get a `__dtype__` attribute: float16 for
    those that `cast_optional_params` leaves uncast, to be converted offline (`convert_model` does it)."""
    from .reduce_precision import reduce_precision
    if not isinstance(sym, Symbol):
        raise MXNetError("First argument to convert_symbol should be Symbol")
    if target_dtype not in ("float16", "bfloat16"):
        raise MXNetError("Only target_dtype float16 and bfloat16 are supported currently")
    target = _target_dtype(target_dtype, "convert_symbol")
    for value, what in ((target_dtype_ops, "target_dtype_ops"), (fp32_ops, "fp32_ops"),
                        (conditional_fp32_ops, "conditional_fp32_ops"), (excluded_sym_names, "excluded_sym_names")):
        _check_list(value, what)
    target_ops = target_dtype_ops if target_dtype_ops is not None else list_lp16_ops(target)
    fp32 = fp32_ops if fp32_ops is not None else list_fp32_ops(target)
    conditional_list = conditional_fp32_ops if conditional_fp32_ops is not None \
        else list_conditional_fp32_ops(target)
    conditional = {}
    for entry in conditional_list:
        if not (len(entry) == 3 and isinstance(entry[0], str) and isinstance(entry[1], str)
                and isinstance(entry[2], list)):
            raise MXNetError("conditional_fp32_ops should be a list of (str, str, list of str)")
        conditional.setdefault(entry[0], {})[entry[1]] = list(entry[2])
    conditional_names = [entry[0] for entry in conditional_list]
    for a, b, la, lb in ((target_ops, fp32, "target_dtype_ops", "fp32_ops"),
                         (target_ops, conditional_names, "target_dtype_ops", "conditional_fp32_ops"),
                         (conditional_names, fp32, "fp32_ops", "conditional_fp32_ops")):
        common = set(a) & set(b)
        if common:
            raise MXNetError("Ops cannot be in two or more lists. Common ops in %s and %s %s" % (la, lb, common))
    known = set(list_lp16_ops(target) + list_fp32_ops(target) + list_lp16_fp32_ops(target)
                + [entry[0] for entry in list_conditional_fp32_ops(target)])
    illegal = set(target_ops + fp32 + conditional_names) - known
    if illegal:
        raise MXNetError("Can only choose ops from one of the lists amp.list_lp16_ops, list_fp32_ops, "
                         "list_lp16_fp32_ops and list_conditional_fp32_ops: op %s not in any of them" % illegal)
    attrs = sym.attr_dict()
    inputs = sym.list_inputs()
    if data_names is None:
        data_names = [name for name in inputs if "__dtype__" not in attrs.get(name, {})]
    heads = reduce_precision(sym._outputs, target, set(target_ops), set(fp32), set(list_widest_type_cast(target)),
                             conditional, set(excluded_sym_names or ()), set(data_names), cast_optional_params)
    converted = Symbol(heads)
    _set_param_dtypes(converted, data_names, [name for name in inputs if name not in set(data_names)])
    return converted


def _set_param_dtypes(converted, data_names, model_params):
    """MXNet's dtype attributes after the rewrite: data inputs are float32; each model param gets its inferred
    dtype (float32 where nothing says otherwise); without model params only existing `__dtype__`s are updated."""
    from scheduler.graph import IndexedGraph
    from scheduler.infer import infer_dtypes
    graph = IndexedGraph(converted._outputs)
    had_dtype = set()
    for nid in graph.arg_nodes:     # the nodes are the rewrite's copies; MXNet infers without their attributes
        if graph.nodes[nid].attrs.pop("__dtype__", None) is not None:
            had_dtype.add(nid)
    inferred = infer_dtypes(graph, {name: np.float32 for name in data_names})
    model_params = set(model_params)
    for nid in graph.arg_nodes:
        node = graph.nodes[nid]
        dtype = inferred.values[graph.node_row_ptr[nid]]
        dtype = np.float32 if dtype is None else dtype
        if node.name in model_params or nid in had_dtype:
            node.attrs["__dtype__"] = str(_DTYPE_CODES.index(registry.dtype_name(dtype)))


def convert_model(sym, arg_params, aux_params, target_dtype="float16", target_dtype_ops=None, fp32_ops=None,
                  conditional_fp32_ops=None, excluded_sym_names=None, cast_optional_params=False):
    """`convert_symbol` of a model, with its params cast to the `__dtype__` the converted symbol gives them.
    Returns (symbol, arg_params, aux_params)."""
    if excluded_sym_names is not None and not isinstance(excluded_sym_names, list):
        raise ValueError("excluded_sym_names must be a list of strings representing the names of the symbols that "
                         "should not be casted, while received type %s" % type(excluded_sym_names))
    if not isinstance(arg_params, dict) or not isinstance(aux_params, dict):
        raise MXNetError("convert_model: arg_params and aux_params should be dicts of name to NDArray")
    param_names = set(arg_params) | set(aux_params)
    data_names = [name for name in sym.list_inputs() if name not in param_names]
    converted = convert_symbol(sym, target_dtype, target_dtype_ops, fp32_ops, conditional_fp32_ops,
                               excluded_sym_names or [], data_names, cast_optional_params)
    _cast_params(converted, arg_params, converted.list_arguments())
    _cast_params(converted, aux_params, converted.list_auxiliary_states())
    return converted, arg_params, aux_params


def _param_dtype(attrs, name):
    code = attrs.get(name, {}).get("__dtype__")
    return None if code in (None, "-1") else np.dtype(registry.DTYPES[_DTYPE_CODES[int(code)]])


def _cast_params(converted, params, names):
    attrs = converted.attr_dict()
    for name in names:
        dtype = _param_dtype(attrs, name)
        if name in params and dtype is not None:
            params[name] = params[name].astype(dtype)


def convert_hybrid_block(block, target_dtype="float16", target_dtype_ops=None, fp32_ops=None,
                         conditional_fp32_ops=None, excluded_sym_names=None, ctx=None, cast_optional_params=False):
    """A SymbolBlock running `block`'s converted graph, with its params cast as `convert_model` casts them. The
    block must be hybridized and called once. `ctx` defaults to MXNet's gpu(0) where a GPU exists, else cpu()."""
    from ...context import cpu, gpu, num_gpus
    from ...gluon import HybridBlock, SymbolBlock
    if not isinstance(block, HybridBlock):
        raise MXNetError("block input should be a HybridBlock")
    if not block._cached_graph:
        raise RuntimeError("Please first call block.hybridize() and then run forward with this block at least once "
                           "before calling export.")
    if ctx is None:
        ctx = gpu(0) if num_gpus() > 0 else cpu()
    inputs, sym = block._cached_graph
    converted = convert_symbol(sym, target_dtype, target_dtype_ops, fp32_ops, conditional_fp32_ops,
                               excluded_sym_names, data_names=[i.name for i in inputs],
                               cast_optional_params=cast_optional_params)
    attrs = converted.attr_dict()
    arg_names, aux_names = set(converted.list_arguments()), set(converted.list_auxiliary_states())
    values = {}
    for name, param in block.collect_params().items():
        if name not in arg_names and name not in aux_names:
            continue
        value = param._reduce()
        dtype = _param_dtype(attrs, name)
        values[("arg:%s" if name in arg_names else "aux:%s") % name] = value if dtype is None else value.astype(dtype)
    result = SymbolBlock(converted, inputs)
    for name, param in result.collect_params().items():
        for key in ("arg:%s" % name, "aux:%s" % name):
            if key in values and np.dtype(param.dtype) != np.dtype(values[key].dtype):
                param.cast(values[key].dtype)
    result.collect_params().load_dict(values, ctx=ctx)
    return result


def convert_bucketing_module(bucketing_mod, target_dtype="float16", target_dtype_ops=None, fp32_ops=None,
                             conditional_fp32_ops=None, excluded_sym_names=None, cast_optional_params=False):
    """A BucketingModule converted for AMP. Not supported by dataflow: raises MXNetError."""
    raise MXNetError("mx.contrib.amp.convert_bucketing_module is not supported by dataflow; convert each bucket's "
                     "symbol with amp.convert_model")


# ---- the op lists ------------------------------------------------------------------------------------------------
def _list(target_dtype, fp16_name, bf16_name):
    """MXNet's list `fp16_name` (float16) or `bf16_name` (bfloat16) from `lists/`."""
    if target_dtype in ("float16", np.float16) or (isinstance(target_dtype, np.dtype)
                                                   and target_dtype == np.float16):
        return getattr(lists.symbol_fp16, fp16_name) if fp16_name else None
    if target_dtype in ("bfloat16", bfloat16):
        return getattr(lists.symbol_bf16, bf16_name)
    raise MXNetError("mx.contrib.amp: target_dtype must be float16 or bfloat16, got %r" % (target_dtype,))


def list_lp16_ops(target_dtype):
    """The ops AMP runs in float16/bfloat16."""
    return _list(target_dtype, "FP16_FUNCS", "BF16_FUNCS")


def list_fp32_ops(target_dtype):
    """The ops AMP runs in float32."""
    return _list(target_dtype, "FP32_FUNCS", "FP32_FUNCS")


def list_lp16_fp32_ops(target_dtype):
    """The ops that run in either precision."""
    return _list(target_dtype, "FP16_FP32_FUNCS", "BF16_FP32_FUNCS")


def list_conditional_fp32_ops(target_dtype):
    """(op, param, values) triples: the op runs in float32 when its param takes one of the values."""
    return _list(target_dtype, "CONDITIONAL_FP32_FUNCS", "CONDITIONAL_FP32_FUNCS")


def list_widest_type_cast(target_dtype):
    """The ops whose inputs AMP casts to the widest input type."""
    return _list(target_dtype, "WIDEST_TYPE_CASTS", "WIDEST_TYPE_CASTS")


def list_loss_output_functions(target_dtype):
    """The loss output ops AMP wraps to apply its loss scale."""
    return _list(target_dtype, "LOSS_OUTPUT_FUNCTIONS", "LOSS_OUTPUT_FUNCTIONS")


def list_lp16_use_fp32_params(target_dtype):
    """bfloat16 ops whose named params stay float32 (None for float16, as in MXNet)."""
    return _list(target_dtype, None, "BF16_USE_FP32_PARAMS")
