"""Gluon blocks: `Block` (imperative), `HybridBlock` (one body for NDArray and Symbol, compiled by `hybridize()`)
and `SymbolBlock` (a block around a Symbol, e.g. a file MXNet exported; in symbol_block.py).

Names follow MXNet 1.x exactly: a block's prefix is `<class name lower-cased><n>_` counted within its parent's
scope (at the top level, by the current `mx.name.NameManager`), nested under the parent's prefix
(`hybridsequential0_dense0_`); its parameters are `<prefix><name>` and, while a HybridBlock is traced, its ops are
named `<prefix><name>` through an `mx.name.Prefix` (`hybridsequential0_dense0_fwd`).

`hybridize()`: the first call per input signature (shapes, dtypes, training mode) traces `hybrid_forward` with
Symbols, infers shapes, plans memory and builds a Plan once (`_CachedGraph`); later calls only rebind the input
and output buffers and run it as one engine push. Under `autograd.record()` it runs the graph compiled with its
gradients (`_CachedBackward`): one recorded node per call, whose gradient runs the backward steps of that
call's Plan instance (dataflow/gluon/cached_graph.py). Parameters live on one or more contexts; a call uses the
arrays of the context its input is on. Arguments and outputs may be nested lists, as in MXNet (`model(x, [h, c])`):
the graph runs on the flat arrays, named `data0`, `data1`, ... (dataflow/gluon/_nesting.py), and the outputs are
regrouped; a graph is traced per nesting (`_graph_key`).
"""
import re
import threading
import warnings
from collections import OrderedDict

import numpy as np

from .. import autograd, initializer as _init, name as _name, ndarray as nd_module, symbol as sym_module
from ..ndarray.ndarray import NDArray
from ..ndarray import serialization
from ..util import as_np_if_active, write_files
from ..symbol.symbol import Symbol
from . import _nesting
from .cached_graph import PlanCache, _CachedGraph
from .cached_sparse import cached_backward
from .numpy_mode import block_outputs, check_same_symbol_type
from .parameter import DeferredInitializationError, Parameter, ParameterDict
from .utils import HookHandle

_scope_state = threading.local()


class _BlockScope:
    """The naming scope of a block: counts its children's hints and prefixes the ops traced inside it."""

    def __init__(self, block):
        self._block = block
        self._counter = {}
        self._old_scope = None
        self._name_scope = None

    @staticmethod
    def create(prefix, params, hint):
        """(prefix, ParameterDict) of a new block, from the enclosing scope (MXNet's rule)."""
        current = getattr(_scope_state, "value", None)
        if current is None:
            if prefix is None:
                prefix = _name.current().get(None, hint) + "_"
            params = ParameterDict(prefix) if params is None else ParameterDict(params.prefix, params)
            return prefix, params
        if prefix is None:
            count = current._counter.get(hint, 0)
            prefix = "%s%d_" % (hint, count)
            current._counter[hint] = count + 1
        if params is None:
            parent = current._block.params
            params = ParameterDict(parent.prefix + prefix, parent._shared)
        else:
            params = ParameterDict(params.prefix, params)
        return current._block.prefix + prefix, params

    def __enter__(self):
        if self._block._empty_prefix:
            return self
        self._old_scope = getattr(_scope_state, "value", None)
        _scope_state.value = self
        self._name_scope = _name.Prefix(self._block.prefix)
        self._name_scope.__enter__()
        return self

    def __exit__(self, *exc):
        if self._block._empty_prefix:
            return
        self._name_scope.__exit__(*exc)
        self._name_scope = None
        _scope_state.value = self._old_scope


def _brief(names, limit=3):
    names = list(names)
    shown = ", ".join("'%s'" % n for n in names[:limit])
    return shown + (", ..., '%s'" % names[-1] if len(names) > limit else "")


def _indent(text, spaces):
    lines = text.split("\n")
    return "\n".join([lines[0]] + [" " * spaces + line for line in lines[1:]])


class Block:
    """Base class of all layers and models: holds child blocks and parameters; `forward` computes.

    Examples
    --------
    >>> import dataflow as mx
    >>> class Model(mx.gluon.Block):
    ...     def __init__(self, **kwargs):
    ...         super().__init__(**kwargs)
    ...         with self.name_scope():
    ...             self.dense = mx.gluon.nn.Dense(3)
    ...     def forward(self, x):
    ...         return self.dense(x) * 2
    >>> with mx.name.NameManager():
    ...     model = Model()
    >>> model.dense.weight.name
    'model0_dense0_weight'
    """

    def __init__(self, prefix=None, params=None):
        self._empty_prefix = prefix == ""
        self._prefix, self._params = _BlockScope.create(prefix, params, self._alias())
        self._name = self._prefix[:-1] if self._prefix.endswith("_") else self._prefix
        self._scope = _BlockScope(self)
        self._children = OrderedDict()
        self._reg_params = OrderedDict()
        self._forward_hooks = OrderedDict()
        self._forward_pre_hooks = OrderedDict()

    def _alias(self):
        return type(self).__name__.lower()

    def __repr__(self):
        modstr = "\n".join("  (%s): %s" % (key, _indent(repr(block), 2)) for key, block in self._children.items())
        return "%s(\n%s\n)" % (type(self).__name__, modstr)

    def __setattr__(self, name, value):
        """Registers child blocks and parameters assigned as attributes."""
        existing = getattr(self, name, None) if hasattr(self, "_children") else None
        if isinstance(existing, (Parameter, Block)) and not isinstance(value, type(existing)):
            raise TypeError("Changing attribute type for %s from %s to %s is not allowed."
                            % (name, type(existing), type(value)))
        if isinstance(value, Block):
            self.register_child(value, name)
        elif isinstance(value, Parameter):
            if name in getattr(self, "_reg_params", {}) and self._reg_params[name] is not value:
                raise ValueError("Overriding Parameter attribute %s is not allowed" % name)
            self._reg_params[name] = value
        super().__setattr__(name, value)

    @property
    def prefix(self):
        return self._prefix

    @property
    def name(self):
        return self._name

    @property
    def params(self):
        """This block's own ParameterDict (not its children's)."""
        return self._params

    def name_scope(self):
        """The scope in which children and ops get this block's prefix."""
        return self._scope

    def collect_params(self, select=None):
        """A ParameterDict of this block's and all its descendants' parameters, optionally filtered by a regex."""
        ret = ParameterDict(self._params.prefix)
        if not select:
            ret.update(self.params)
        else:
            pattern = re.compile(select)
            ret.update({n: v for n, v in self.params.items() if pattern.match(n)})
        for child in self._children.values():
            ret.update(child.collect_params(select=select))
        return ret

    def _collect_params_with_prefix(self, prefix=""):
        if prefix:
            prefix += "."
        ret = OrderedDict((prefix + key, value) for key, value in self._reg_params.items())
        for name, child in self._children.items():
            ret.update(child._collect_params_with_prefix(prefix + name))
        return ret

    def register_child(self, block, name=None):
        if name is None:
            name = str(len(self._children))
        self._children[name] = block

    def register_forward_hook(self, hook):
        """hook(block, inputs, outputs) after each forward; the returned HookHandle's `detach()` removes it."""
        handle = HookHandle()
        handle.attach(self._forward_hooks, hook)
        return handle

    def register_forward_pre_hook(self, hook):
        """hook(block, inputs) before each forward; the returned HookHandle's `detach()` removes it."""
        handle = HookHandle()
        handle.attach(self._forward_pre_hooks, hook)
        return handle

    def apply(self, fn):
        for child in self._children.values():
            child.apply(fn)
        fn(self)
        return self

    def initialize(self, init=_init.Uniform(), ctx=None, verbose=False, force_reinit=False):
        """Initialize every parameter of this block and its children (deferred where shapes are unknown)."""
        self.collect_params().initialize(init, ctx, verbose, force_reinit)

    def hybridize(self, active=True, **kwargs):
        """Hybridize the HybridBlocks below this block."""
        for child in self._children.values():
            child.hybridize(active, **kwargs)

    def cast(self, dtype):
        for child in self._children.values():
            child.cast(dtype)
        for param in self.params.values():
            param.cast(dtype)

    def zero_grad(self):
        self.collect_params().zero_grad()

    def save_parameters(self, filename, deduplicate=False):
        """Save the parameters under structural names (`0.weight`, `1.bias`) in MXNet's format, each averaged
        over its contexts. With `deduplicate`, a parameter shared by several blocks is saved once, under the
        last of its names."""
        params = self._collect_params_with_prefix()
        if deduplicate:
            last_name = {param: name for name, param in params.items()}
            params = OrderedDict((name, param) for param, name in last_name.items())
        nd_module.save(filename, {key: param._reduce() for key, param in params.items()})

    def load_parameters(self, filename, ctx=None, allow_missing=False, ignore_extra=False, cast_dtype=False,
                        dtype_source="current"):
        """Load parameters saved by `save_parameters` (or, without '.' in the names, by
        `collect_params().save` with this block's prefix stripped). `cast_dtype` with `dtype_source='current'`
        casts the saved arrays to the parameters' dtypes, with `'saved'` the parameters take the file's."""
        loaded = nd_module.load(filename)
        params = self._collect_params_with_prefix()
        if not loaded and not params:
            return
        if not any("." in key for key in loaded):
            del loaded      # the legacy format: full names minus this block's prefix
            self.collect_params().load(filename, ctx, allow_missing, ignore_extra, self.prefix,
                                       cast_dtype=cast_dtype, dtype_source=dtype_source)
            return
        if not allow_missing:
            names_of = {}
            for name, param in params.items():
                names_of.setdefault(param, []).append(name)
            for name, param in params.items():       # a shared parameter may be saved under one of its names
                if not any(n in loaded for n in names_of[param]):
                    raise AssertionError("Parameter '%s' is missing in file '%s', which contains parameters: %s. "
                                         "Set allow_missing=True to ignore missing parameters."
                                         % (name, filename, _brief(loaded.keys())))
        for name, value in loaded.items():
            if name in params:
                params[name]._load_init(value, ctx, cast_dtype=cast_dtype, dtype_source=dtype_source)
            elif not ignore_extra:
                raise ValueError("Parameter '%s' loaded from file '%s' is not present in ParameterDict, which "
                                 "contains parameters %s. Set ignore_extra=True to ignore. "
                                 % (name, filename, _brief(params.keys())))

    def save_params(self, filename):
        """Deprecated name (MXNet 1.x): saves `collect_params()` with this block's prefix stripped."""
        warnings.warn("save_params is deprecated. Please use save_parameters. Note that if you want load from "
                      "SymbolBlock later, please use export instead. For details, see https://mxnet.incubator."
                      "apache.org/tutorials/gluon/save_load_params.html", stacklevel=2)
        try:
            self.collect_params().save(filename, strip_prefix=self.prefix)
        except ValueError as e:
            raise ValueError("%s\nsave_params is deprecated. Using save_parameters may resolve this error." % e) \
                from None

    def load_params(self, filename, ctx=None, allow_missing=False, ignore_extra=False):
        """Deprecated name of `load_parameters`."""
        warnings.warn("load_params is deprecated. Please use load_parameters.", stacklevel=2)
        self.load_parameters(filename, ctx, allow_missing, ignore_extra)

    def __call__(self, *args):
        if not (self._forward_pre_hooks or self._forward_hooks):
            return block_outputs(self.forward(*args))     # NumPy array semantics: mx.np.ndarrays out
        for hook in self._forward_pre_hooks.values():
            hook(self, args)
        out = self.forward(*args)
        for hook in self._forward_hooks.values():
            hook(self, args, out)
        return block_outputs(out)

    def forward(self, *args):
        raise NotImplementedError("%s must implement forward" % type(self).__name__)

    def summary(self, *inputs):
        """Print each child's output shape and parameter count for a forward of `inputs`."""
        rows = []
        hooks = []

        def record_hook(block, args, out):
            outs = out if isinstance(out, (list, tuple)) else [out]
            n = sum(int(np.prod(p.shape)) for p in block.params.values() if p.shape)
            rows.append((block.name, type(block).__name__, [o.shape for o in outs], n))
        self.apply(lambda b: hooks.append(b) or b.register_forward_hook(record_hook))
        self(*inputs)
        for block in hooks:
            block._forward_hooks.clear()
        print("%-40s %-30s %12s" % ("Layer (type)", "Output Shape", "Param #"))
        for name, kind, shapes, n in rows:
            print("%-40s %-30s %12d" % ("%s (%s)" % (name, kind), shapes, n))
        print("Total params: %d" % sum(r[3] for r in rows))


class _LastCall:
    """A hybridized block's last call with flat NDArray arguments outside `autograd.record()`: its signature and
    the compiled graph it ran.

    Note [the hybridized fast path]: a call repeating it (same argument count, shapes, dtypes and context, same
    training mode, not recording, no parameter array replaced since: `Parameter.generation`) runs that graph at
    once, skipping the flattening, tracing, key building and parameter checks of `_call_cached`, which would find
    the same graph. Anything else takes the full path, which remembers the new call."""
    __slots__ = ("signature", "training", "ctx", "generation", "cached", "call", "out_format")

    def __init__(self, args, training, cached, out_format):
        self.signature = [(a._data.shape, a._data.dtype) for a in args]
        self.training, self.ctx, self.cached, self.out_format = training, args[0]._ctx, cached, out_format
        self.call = cached.runner()
        self.generation = Parameter.generation

    def run(self, args):
        """The outputs of the remembered graph on `args`, or None when the call does not repeat the last one."""
        if self.generation != Parameter.generation or len(args) != len(self.signature) or \
                autograd.is_training() != self.training:
            return None
        for a, (shape, dtype) in zip(args, self.signature):
            if type(a) is not NDArray or a._data.shape != shape or a._data.dtype != dtype:
                return None
        ctx = args[0]._ctx
        if ctx is not self.ctx and ctx != self.ctx:
            return None
        outputs = self.call(args)
        if self.out_format == 0:
            return outputs
        return _nesting.regroup(outputs if isinstance(outputs, list) else [outputs], self.out_format)


class HybridBlock(Block):
    """A block whose `hybrid_forward(F, x, *args, **params)` runs on NDArrays (F = mx.nd) or Symbols
    (F = mx.sym); `hybridize()` compiles it to a Plan per input signature."""

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix, params)
        self._cached_graph = ()
        self._traced = {}           # graph key -> (input Symbols, output Symbol, output nesting): see `_trace`
        self._cached_plans = PlanCache()
        self._last_call = None      # see `_LastCall`
        self._active = False
        self._flags = {}
        self._op_hook = None

    def register_child(self, block, name=None):
        if not isinstance(block, HybridBlock):
            raise ValueError("Children of HybridBlock must also be HybridBlock, but %s has type %s. If you are "
                             "using Sequential, please try HybridSequential instead." % (block, type(block)))
        super().register_child(block, name)
        self._clear_cached_op()

    def hybridize(self, active=True, static_alloc=False, static_shape=False, **kwargs):
        """Compile this block (and its children) on the next call: a Plan per input signature."""
        self._active = active
        self._flags = dict(static_alloc=static_alloc, static_shape=static_shape, **kwargs)
        self._clear_cached_op()
        super().hybridize(active, static_alloc=static_alloc, static_shape=static_shape, **kwargs)

    def register_op_hook(self, callback, monitor_all=False):
        """Call `callback(name, op_name, array)` for every op output (with `monitor_all`, every op input too) of
        this hybridized block and its children, after each forward call (dataflow/monitoring.py)."""
        self._op_hook = (callback, bool(monitor_all))
        self._clear_cached_op()
        for child in self._children.values():
            child.register_op_hook(callback, monitor_all)

    def _clear_cached_op(self):
        self._last_call = None
        self._cached_graph = ()
        self._traced = {}
        self._cached_plans = PlanCache()
        self._param_cache = None

    def __getstate__(self):
        # compiled graphs are this process's caches (kernels, closures): a pickled block (a transform sent to
        # DataLoader worker processes) traces and compiles again where it is unpickled
        state = self.__dict__.copy()
        state.update(_last_call=None, _cached_graph=(), _traced={}, _cached_plans=PlanCache(), _param_cache=None)
        return state

    def cast(self, dtype):
        self._clear_cached_op()
        super().cast(dtype)

    # -- tracing -----------------------------------------------------------------------------------------------------
    def _get_graph(self, *args):
        """(input Symbols, output Symbol) of `hybrid_forward` traced on variables `data` (or `data0`, ...)."""
        flat, in_format = _nesting.flatten(args, "input")
        return self._trace(flat, in_format)[1][:2]

    def _graph_key(self, flat, in_format):
        """What the traced graph depends on besides the block: the nesting of the arguments (and where None is);
        a subclass whose graph depends on more adds it (an RNN layer: whether it returns its states)."""
        return repr(in_format)

    def _trace(self, flat, in_format):
        """(graph key, (input Symbols, output Symbol, output nesting)): `hybrid_forward` traced once per graph key
        on variables named as MXNet names them, `data` for one array, else `data0`, `data1`, ... over the flattened
        arguments (None arguments get none). The latest graph is `_cached_graph`, the one `export` writes."""
        key = self._graph_key(flat, in_format)
        traced = self._traced.get(key)
        if traced is None:
            arrays = [a for a in flat if a is not None]
            if not arrays:
                raise ValueError("All args are None and we do not support such a case. Received args=%s" % flat)
            names = iter(["data"] if len(arrays) == 1 else ["data%d" % i for i in range(len(arrays))])
            flat_inputs = as_np_if_active([None if a is None else sym_module.var(next(names)) for a in flat])
            inputs = [i for i in flat_inputs if i is not None]
            with self.name_scope():
                params = {k: as_np_if_active(p.var()) for k, p in self._reg_params.items()}
                out = self.hybrid_forward(sym_module, *_nesting.regroup(flat_inputs, in_format), **params)
            outs, out_format = _nesting.flatten(out, "output")
            check_same_symbol_type(outs)
            # a head returned twice or an input returned as it is: the compiled graph copies it (bind_outputs)
            traced = self._traced[key] = inputs, outs[0] if len(outs) == 1 else sym_module.Group(outs), out_format
        self._cached_graph = traced[:2]
        return key, traced

    def infer_shape(self, *args):
        """Set the shapes of pending parameters from the shapes of `args` (NDArrays, nested as the call's)."""
        inputs, out = self._get_graph(*args)
        arrays = [a for a in _nesting.flatten(args, "input")[0] if a is not None]
        known = {i.name: a.shape for i, a in zip(inputs, arrays)}
        arg_shapes, _, aux_shapes = out.infer_shape_partial(**known)
        shapes = dict(zip(out.list_arguments(), arg_shapes))
        shapes.update(zip(out.list_auxiliary_states(), aux_shapes))
        for name, param in self.collect_params().items():
            if name in shapes and shapes[name]:
                param.shape = shapes[name]

    def infer_type(self, *args):
        pass

    def _finish_deferred(self, *args):
        params = self.collect_params()
        if any(p.pending for p in params.values()):
            self.infer_shape(*args)
            for param in params.values():
                param._finish_deferred_init()

    # -- running -----------------------------------------------------------------------------------------------------
    def __call__(self, x, *args):
        # The common imperative call, a layer of a model called on one NDArray with its parameters' arrays already
        # kept (see `_forward_arrays`), goes to `hybrid_forward` from here: Block.__call__, forward and
        # _forward_arrays cost ~1 us a layer at batch 1. Hooks, hybridizing or an overridden forward take them.
        if type(x) is NDArray and not args and not (self._forward_pre_hooks or self._forward_hooks or self._active):
            known = self.__dict__.get("_imperative_params")
            if known is not None and known[2] is x._ctx and known[0] == Parameter.generation \
                    and len(self._reg_params) == known[1] and type(self).forward is HybridBlock.forward:
                return self.hybrid_forward(nd_module, x, **known[3])
        return Block.__call__(self, x, *args)

    def forward(self, x, *args):
        if type(x) is NDArray or isinstance(x, NDArray):      # the common call: flat NDArray arguments
            for a in args:
                if not isinstance(a, NDArray):
                    break
            else:
                if self._active:
                    return self._call_cached(x, *args)      # it finishes a deferred initialisation itself
                return self._forward_arrays(x._ctx, x, *args)
        arrays = list(_nesting.arrays_in([x, *args]))       # arguments may be nested lists: `model(x, [h, c])`
        symbolic = [isinstance(a, Symbol) for a in arrays]
        if any(symbolic):
            if not all(symbolic):
                raise ValueError("In HybridBlock, we do not support mixed NDArrays and Symbols types for the input. "
                                 "Please check the type of the args.")
            with self.name_scope():
                params = {key: as_np_if_active(p.var()) for key, p in self._reg_params.items()}
                return self.hybrid_forward(sym_module, x, *args, **params)
        if not arrays:
            raise TypeError("%s: expected an NDArray or a Symbol input, got %s" % (self.name, type(x).__name__))
        if self._active:
            return self._call_cached(x, *args)
        return self._forward_arrays(arrays[0].context, x, *args)

    def _forward_arrays(self, ctx, x, *args):
        """`hybrid_forward` on NDArrays (not hybridized), with the parameters' arrays on `ctx` (the first array's).

        The arrays are looked up once per context and kept while no parameter array is replaced
        (`Parameter.generation`) and no parameter is registered: a repeated call passes the same dict."""
        known = self.__dict__.get("_imperative_params")
        if known is not None and known[0] == Parameter.generation and len(self._reg_params) == known[1]:
            known_ctx = known[2]
            if known_ctx is ctx or (known_ctx.device_id == ctx.device_id and known_ctx.device_type == ctx.device_type):
                return self.hybrid_forward(nd_module, x, *args, **known[3])
        try:
            params = {key: p.data(ctx) for key, p in self._reg_params.items()}
        except DeferredInitializationError:
            self._finish_deferred(x, *args)
            params = {key: p.data(ctx) for key, p in self._reg_params.items()}
        # a Parameter subclass may compute data() anew per call (GluonNLP's WeightDropParameter: a Dropout of the
        # weight, recorded under autograd): its arrays are not kept
        if all(type(p).data is Parameter.data for p in self._reg_params.values()):
            self.__dict__["_imperative_params"] = (Parameter.generation, len(self._reg_params), ctx, params)
        return self.hybrid_forward(nd_module, x, *args, **params)

    def _call_cached(self, *args):
        """Run the Plan compiled for this input signature (under autograd: with its backward) on the flattened
        arguments, and regroup its outputs into the nesting `hybrid_forward` returned."""
        last = self._last_call
        if last is not None and not autograd.is_recording():
            outputs = last.run(args)
            if outputs is not None:
                return outputs
        params = self._all_params()
        if any(p.pending for p in params.values()):
            self._finish_deferred(*args)
        flat, in_format = _nesting.flatten(args, "input")
        graph_key, (inputs, out, out_format) = self._trace(flat, in_format)
        flat = [a for a in flat if a is not None]
        training, recording = autograd.is_training(), autograd.is_recording()
        key = (tuple((a.shape, a.dtype) for a in flat), training, flat[0].context)
        if recording:
            key += tuple(a._entry is not None for a in flat)
        key += (graph_key,)
        cached = self._cached_plans.get(key)
        if cached is None or not cached.valid():
            kind = cached_backward if recording else _CachedGraph     # (Note [hybridized sparse embeddings])
            cached = kind(out, [i.name for i in inputs], flat, params, training, self.name, self._op_hook)
            self._cached_plans[key] = cached
        if not recording and type(self)._graph_key is HybridBlock._graph_key and \
                all(type(a) is NDArray for a in args):
            self._last_call = _LastCall(args, training, cached, out_format)
        outputs = cached(flat)
        return _nesting.regroup(outputs if isinstance(outputs, list) else [outputs], out_format)

    def _all_params(self):
        if not getattr(self, "_param_cache", None):
            self._param_cache = self.collect_params()
        return self._param_cache

    def hybrid_forward(self, F, x, *args, **kwargs):
        raise NotImplementedError("%s must implement hybrid_forward" % type(self).__name__)

    def export(self, path, epoch=0, remove_amp_cast=True):
        """Write `path-symbol.json` and `path-%04d.params` (keys `arg:`/`aux:`), as MXNet's export does, committed
        together (Note [saving files] in dataflow/util.py): after a crash, `mx.model.load_checkpoint` and
        `SymbolBlock.imports` see both old or both new files."""
        if not self._cached_graph:
            raise RuntimeError("Please first call block.hybridize() and then run forward with this block at least "
                               "once before calling export.")
        out = self._cached_graph[1]
        arg_names, aux_names = set(out.list_arguments()), set(out.list_auxiliary_states())
        arrays = {}
        params = self.collect_params()
        for name in out.list_inputs():          # the graph's input order, as MXNet's file has it
            if name in arg_names and name in params:
                arrays["arg:%s" % name] = params[name].data()
            elif name in aux_names and name in params:
                arrays["aux:%s" % name] = params[name].data()
        write_files([("%s-symbol.json" % path, out.tojson().encode("utf-8")),     # committed together: a crash
                     ("%s-%04d.params" % (path, epoch), serialization.to_bytes(arrays))])   # leaves old or new


from .symbol_block import SymbolBlock  # noqa: E402,F401  (re-exported: mx.gluon.block.SymbolBlock)
