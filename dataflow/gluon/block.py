"""Gluon blocks: `Block` (imperative), `HybridBlock` (one body for NDArray and Symbol, compiled by `hybridize()`)
and `SymbolBlock` (a block around a Symbol, e.g. a file MXNet exported).

Names follow MXNet 1.x exactly: a block's prefix is `<class name lower-cased><n>_` counted within its parent's
scope (at the top level, by the current `mx.name.NameManager`), nested under the parent's prefix
(`hybridsequential0_dense0_`); its parameters are `<prefix><name>` and, while a HybridBlock is traced, its ops are
named `<prefix><name>` through an `mx.name.Prefix` (`hybridsequential0_dense0_fwd`).

`hybridize()`: the first call per input signature (shapes, dtypes, training mode) traces `hybrid_forward` with
Symbols, infers shapes, plans memory and builds a Plan once (`_CachedGraph`); later calls only rebind the input
and output buffers and run it as one engine push. Under `autograd.record()` it runs the graph compiled with its
gradients (`_CachedBackward`): one recorded node per call, whose gradient runs the backward steps of that
call's Plan instance.
"""
import re
import threading
from collections import OrderedDict

import numpy as np

from ops import autodiff
from ops.cpu.common import assign
from ops.errors import MXNetError
from ops.registry import OpContext, OpDef, Params

from scheduler.engine import get_engine
from scheduler.gradient import add_backward
from scheduler.graph import Entry, IndexedGraph, Node
from scheduler.infer import infer_dtypes, infer_shapes
from scheduler.memory import plan_memory
from scheduler.plan import Plan

from .. import autograd, initializer as _init, name as _name, ndarray as nd_module, symbol as sym_module
from ..context import current_context
from ..ndarray.ndarray import NDArray, _alloc
from ..symbol.symbol import Symbol
from .parameter import DeferredInitializationError, Parameter, ParameterDict

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
        self._forward_hooks[id(hook)] = hook

    def register_forward_pre_hook(self, hook):
        self._forward_pre_hooks[id(hook)] = hook

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
        """Save the parameters under structural names (`0.weight`, `1.bias`) in MXNet's format."""
        params = self._collect_params_with_prefix()
        nd_module.save(filename, {key: param.data() for key, param in params.items()})

    def load_parameters(self, filename, ctx=None, allow_missing=False, ignore_extra=False, cast_dtype=False,
                        dtype_source="current"):
        """Load parameters saved by `save_parameters` (or by MXNet)."""
        loaded = nd_module.load(filename)
        params = self._collect_params_with_prefix()
        if not loaded and not params:
            return
        if not any("." in key for key in loaded) and any("." in key for key in params):
            # a file with full parameter names (collect_params().save, or an export's arg:/aux: keys)
            self.collect_params().load(filename, ctx, allow_missing, ignore_extra)
            return
        for name, param in params.items():
            if name not in loaded:
                if not allow_missing:
                    raise MXNetError("Parameter '%s' is missing in file '%s', which contains parameters: %s. Set "
                                     "allow_missing=True to ignore missing parameters." % (name, filename,
                                                                                          sorted(loaded)))
                continue
            if param._data is None and param._pending is None:
                param.shape = loaded[name].shape
                param.initialize(ctx=ctx)
            param.set_data(loaded[name])
        if not ignore_extra:
            extra = sorted(set(loaded) - set(params))
            if extra:
                raise MXNetError("Parameter '%s' loaded from file '%s' is not present in this block. Set "
                                 "ignore_extra=True to ignore." % (extra[0], filename))

    def __call__(self, *args):
        for hook in self._forward_pre_hooks.values():
            hook(self, args)
        out = self.forward(*args)
        for hook in self._forward_hooks.values():
            hook(self, args, out)
        return out

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


class HybridBlock(Block):
    """A block whose `hybrid_forward(F, x, *args, **params)` runs on NDArrays (F = mx.nd) or Symbols
    (F = mx.sym); `hybridize()` compiles it to a Plan per input signature."""

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix, params)
        self._cached_graph = ()
        self._cached_plans = {}
        self._active = False
        self._flags = {}

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

    def _clear_cached_op(self):
        self._cached_graph = ()
        self._cached_plans = {}
        self._param_cache = None

    def cast(self, dtype):
        self._clear_cached_op()
        super().cast(dtype)

    # -- tracing -----------------------------------------------------------------------------------------------------
    def _get_graph(self, *args):
        """(input Symbols, output Symbol) of `hybrid_forward` traced on variables `data` (or `data0`, ...)."""
        if not self._cached_graph:
            names = ["data"] if len(args) == 1 else ["data%d" % i for i in range(len(args))]
            inputs = [sym_module.var(n) for n in names]
            with self.name_scope():
                params = {key: p.var() for key, p in self._reg_params.items()}
                out = self.hybrid_forward(sym_module, *inputs, **params)
            if isinstance(out, (list, tuple)):
                out = sym_module.Group(list(out))
            self._cached_graph = inputs, out
        return self._cached_graph

    def infer_shape(self, *args):
        """Set the shapes of pending parameters from the shapes of `args` (NDArrays)."""
        inputs, out = self._get_graph(*args)
        known = {i.name: a.shape for i, a in zip(inputs, args)}
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
    def forward(self, x, *args):
        if isinstance(x, Symbol):
            with self.name_scope():
                params = {key: p.var() for key, p in self._reg_params.items()}
                return self.hybrid_forward(sym_module, x, *args, **params)
        if not isinstance(x, NDArray):
            raise TypeError("%s: expected an NDArray or a Symbol input, got %s" % (self.name, type(x).__name__))
        try:
            params = {key: p.data() for key, p in self._reg_params.items()}
        except DeferredInitializationError:
            self._finish_deferred(x, *args)
            params = {key: p.data() for key, p in self._reg_params.items()}
        if self._active:
            return self._call_cached(x, *args)
        return self.hybrid_forward(nd_module, x, *args, **params)

    def _call_cached(self, *args):
        """Run the Plan compiled for this input signature (under autograd: with its backward)."""
        params = self._all_params()
        if any(p.pending for p in params.values()):
            self._finish_deferred(*args)
        training, recording = autograd.is_training(), autograd.is_recording()
        key = (tuple((a.shape, a.dtype) for a in args), training)
        if recording:
            key += tuple(a._entry is not None for a in args)
        cached = self._cached_plans.get(key)
        if cached is None or not cached.valid():
            inputs, out = self._get_graph(*args)
            names = [i.name for i in inputs]
            cached = _CachedBackward(out, names, args, params, training, self.name) if recording else \
                _CachedGraph(out, names, args, params, training, self.name)
            self._cached_plans[key] = cached
        return cached(args)

    def _all_params(self):
        if not getattr(self, "_param_cache", None):
            self._param_cache = self.collect_params()
        return self._param_cache

    def hybrid_forward(self, F, x, *args, **kwargs):
        raise NotImplementedError("%s must implement hybrid_forward" % type(self).__name__)

    def export(self, path, epoch=0, remove_amp_cast=True):
        """Write `path-symbol.json` and `path-%04d.params` (keys `arg:`/`aux:`), as MXNet's export does."""
        if not self._cached_graph:
            raise RuntimeError("Please first call block.hybridize() and then run forward with this block at least "
                               "once before calling export.")
        out = self._cached_graph[1]
        out.save("%s-symbol.json" % path)
        arg_names, aux_names = set(out.list_arguments()), set(out.list_auxiliary_states())
        arrays = {}
        for name, param in self.collect_params().items():
            if name in arg_names:
                arrays["arg:%s" % name] = param.data()
            elif name in aux_names:
                arrays["aux:%s" % name] = param.data()
        nd_module.save("%s-%04d.params" % (path, epoch), arrays)


class _CachedGraph:
    """A traced graph compiled for one input signature: a Plan whose input and output buffers are rebound on
    each call (MXNet's CachedOp)."""

    def __init__(self, out, input_names, args, params, training, block_name):
        g = IndexedGraph(out._outputs)
        self._params = {name: p.data() for name, p in params.items()}
        known_shapes = {n: a.shape for n, a in zip(input_names, args)}
        known_dtypes = {n: a._data.dtype for n, a in zip(input_names, args)}
        for name, array in self._params.items():
            known_shapes[name], known_dtypes[name] = array.shape, array._data.dtype
        shapes = infer_shapes(g, known_shapes).values
        dtypes = infer_dtypes(g, known_dtypes).values
        names = {g.nodes[nid].name: g.node_row_ptr[nid] for nid in g.arg_nodes}
        missing = [n for n in names if n not in self._params and n not in input_names]
        if missing:
            raise MXNetError("%s: the graph needs inputs %s that are neither inputs nor parameters"
                             % (block_name, missing))
        self._input_eids = [names.get(n) for n in input_names]
        self._heads = list(g.heads)
        bound = {names[n]: a._data for n, a in self._params.items() if n in names}
        for eid, a in zip(self._input_eids, args):
            if eid is not None:
                bound[eid] = a._data
        self._out_specs = [(tuple(shapes[e]), dtypes[e]) for e in self._heads]
        device = args[0].context if args else None
        for eid, (shape, dtype) in zip(self._heads, self._out_specs):
            if eid not in bound:
                bound[eid] = _alloc(shape, dtype, device or current_context())
        memory = plan_memory(g, shapes, dtypes, external=set(bound))
        self._plan = Plan(g, shapes, dtypes, memory, bound, ctx=device)
        self._ctx = OpContext(is_train=training)
        self._param_vars = [a._var for a in self._params.values()]
        self._aux_vars = [self._params[g.nodes[i].name]._var for i in g.aux_nodes if g.nodes[i].name in self._params]
        self._var = get_engine().new_var("cached graph of %s" % block_name)    # one run of the arena at a time
        # a small graph runs in the calling thread when its inputs are ready (a thread hop costs more than it)
        self._small = self._plan.arena.nbytes + sum(int(np.prod(s)) * np.dtype(t).itemsize
                                                    for s, t in self._out_specs) <= nd_module.ndarray._INLINE_BYTES
        self._ids = {n: id(a) for n, a in self._params.items()}
        self._params_dict = params

    def valid(self):
        """False when a parameter's array was replaced (re-initialised), so the Plan must be rebuilt."""
        return all(id(p._data) == self._ids.get(n) for n, p in self._params_dict.items() if n in self._ids)

    def __call__(self, args):
        outputs = [NDArray(_alloc(shape, dtype, args[0].context), ctx=args[0].context)
                   for shape, dtype in self._out_specs]
        plan, ctx = self._plan, self._ctx
        input_pairs = [(eid, a._data) for eid, a in zip(self._input_eids, args) if eid is not None]
        output_pairs = [(eid, o._data) for eid, o in zip(self._heads, outputs)]

        def run():
            for eid, array in input_pairs:
                plan.rebind(eid, array)
            for eid, array in output_pairs:
                plan.rebind(eid, array)
            plan.run(ctx)
        reads = [a._var for a in args] + self._param_vars
        writes = [o._var for o in outputs] + [self._var] + (self._aux_vars if ctx.is_train else [])
        get_engine().push(run, reads, writes, "cached graph", inline=self._small)
        return outputs[0] if len(outputs) == 1 else outputs


class _CachedBackward:
    """A traced graph compiled with its gradients, for calls under `autograd.record()` (MXNet's CachedOp).

    The graph, shapes and memory plan are built once per signature. Each call runs the forward steps on a fresh
    Plan instance (its arena keeps what backward needs, so two calls before one backward do not collide) and
    records one node on the autograd graph; that node's gradient is a `_backward_CachedOp` node whose kernel runs
    the same instance's backward steps."""

    def __init__(self, out, input_names, args, params, training, block_name):
        heads = list(out._outputs)
        forward = IndexedGraph(heads)
        variables = {forward.nodes[i].name: forward.nodes[i] for i in forward.arg_nodes}
        self._params = {name: p.data() for name, p in params.items() if name in variables}
        self._param_objs = params
        self._names = list(input_names) + list(self._params)
        arrays = list(args) + list(self._params.values())
        missing = [n for n in variables if n not in self._names]
        if missing:
            raise MXNetError("%s: the graph needs inputs %s that are neither inputs nor parameters"
                             % (block_name, missing))
        needs = [a._entry is not None for a in args] + [params[n].grad_req != "null" for n in self._params]
        self._wanted = [n for n, need in zip(self._names, needs) if need and n in variables]
        known_shapes = {n: a.shape for n, a in zip(self._names, arrays)}
        known_dtypes = {n: a._data.dtype for n, a in zip(self._names, arrays)}
        fwd_shapes = infer_shapes(forward, known_shapes).values
        fwd_dtypes = infer_dtypes(forward, known_dtypes).values
        self._head_nodes = []
        for k, eid in enumerate(forward.heads):
            node = Node(None, "_head_grad%d" % k)
            known_shapes[node.name], known_dtypes[node.name] = fwd_shapes[eid], fwd_dtypes[eid]
            self._head_nodes.append(node)
        grads = add_backward(heads, [Entry(variables[n]) for n in self._wanted],
                             [Entry(n) for n in self._head_nodes])
        g = IndexedGraph(heads + [e for e in grads if e is not None])
        self._graph = g
        self._shapes = infer_shapes(g, known_shapes).values
        self._dtypes = infer_dtypes(g, known_dtypes).values
        by_name = {g.nodes[i].name: g.node_row_ptr[i] for i in g.arg_nodes}
        self._input_eids = [by_name.get(n) for n in self._names]
        self._head_grad_eids = [by_name.get(n.name) for n in self._head_nodes]
        self._heads = list(g.heads[:len(heads)])
        self._grad_eids = dict(zip(self._wanted, [None if e is None else g.eid(e) for e in grads]))
        external = {e for e in self._input_eids + self._head_grad_eids + self._heads if e is not None}
        self._own = [e for e in set(self._grad_eids.values()) if e is not None and e not in external]
        self._memory = plan_memory(g, self._shapes, self._dtypes, external=external | set(self._own))
        self._n_forward = sum(1 for node in forward.nodes if not node.is_variable)
        self._training = training
        self._device = args[0].context if args else current_context()
        self._aux_vars = [self._params[g.nodes[i].name]._var for i in g.aux_nodes
                          if g.nodes[i].name in self._params]
        self._ids = {n: id(a) for n, a in self._params.items()}

    def valid(self):
        return all(id(self._param_objs[n]._data) == i for n, i in self._ids.items())

    def _buffer(self, eid):
        return _alloc(self._shapes[eid], self._dtypes[eid], self._device)

    def __call__(self, args):
        arrays = list(args) + [self._params[n] for n in self._names[len(args):]]
        outputs = [NDArray(self._buffer(e), ctx=args[0].context) for e in self._heads]
        bound = {e: a._data for e, a in zip(self._input_eids, arrays) if e is not None}
        bound.update({e: o._data for e, o in zip(self._heads, outputs)})
        bound.update({e: self._buffer(e) for e in self._head_grad_eids + self._own if e is not None})
        plan = Plan(self._graph, self._shapes, self._dtypes, self._memory, bound, ctx=self._device)
        ctx, stop = OpContext(is_train=self._training), self._n_forward
        reads = [a._var for a in arrays]
        writes = [o._var for o in outputs] + (self._aux_vars if self._training else [])
        get_engine().push(lambda: plan.run(ctx, 0, stop), reads, writes, "cached graph forward")
        node = Node(self._forward_op(plan), "_CachedOp", params=Params({}))
        autograd.record_op(node, arrays, outputs)
        return outputs[0] if len(outputs) == 1 else outputs

    def _forward_op(self, plan):
        """The OpDef of one recorded call: its gradient runs `plan`'s backward steps."""
        n_heads, names, wanted = len(self._heads), self._names, set(self._wanted)
        backward = OpDef("_backward_CachedOp", arguments=tuple("head_grad%d" % k for k in range(n_heads)) +
                         tuple(names), outputs=tuple("%s_grad" % n for n in names),
                         infer_shape=lambda p, ins, outs: (list(ins), list(ins[n_heads:])),
                         infer_type=lambda p, ins, outs: (list(ins), list(ins[n_heads:])),
                         cpu=self._backward_kernel(plan), gpu=self._backward_kernel(plan))

        def gradient(p, ins, outs, dys):
            dys = [dy if dy is not None else autodiff.zeros_like(o) for dy, o in zip(dys, outs)]
            grads = autodiff.apply(backward, *dys, *ins)
            grads = grads if isinstance(grads, list) else [grads]
            return [g if n in wanted else None for n, g in zip(names, grads)]
        shapes = [tuple(self._shapes[e]) for e in self._heads]
        return OpDef("_CachedOp", arguments=tuple(names), outputs=tuple("output%d" % k for k in range(n_heads)),
                     infer_shape=lambda p, ins, outs: (list(ins), shapes), gradient=gradient)

    def _backward_kernel(self, plan):
        n_heads, start = len(self._heads), self._n_forward
        head_grad_eids, grad_eids = self._head_grad_eids, [self._grad_eids.get(n) for n in self._names]

        def kernel(ctx, p, inputs, outputs, req):
            if plan.device is not None:         # on a GPU: device copies
                from ops.cuda import common
                for eid, dy in zip(head_grad_eids, inputs[:n_heads]):
                    if eid is not None:
                        common.copy_into(dy, plan.arrays[eid])
                plan.run(ctx, start, None)
                for out, r, eid in zip(outputs, req, grad_eids):
                    common.copy_into(plan.arrays[eid], out, r) if eid is not None else common.fill(out, 0, r)
                return
            for eid, dy in zip(head_grad_eids, inputs[:n_heads]):
                if eid is not None:
                    np.copyto(plan.arrays[eid], dy)
            plan.run(ctx, start, None)
            for out, r, eid in zip(outputs, req, grad_eids):
                assign(out, r, plan.arrays[eid] if eid is not None else 0)
        return kernel


class SymbolBlock(HybridBlock):
    """A HybridBlock running a given Symbol; its parameters are the Symbol's arguments that are not inputs.

    Examples
    --------
    >>> import dataflow as mx
    >>> data = mx.sym.var('data')
    >>> net = mx.gluon.SymbolBlock(mx.sym.FullyConnected(data, num_hidden=2, name='fc'), data)
    >>> sorted(net.collect_params().keys())
    ['fc_bias', 'fc_weight']
    """

    def __init__(self, outputs, inputs, params=None):
        super().__init__(prefix="", params=None)
        self._params = ParameterDict("", params)
        if isinstance(inputs, Symbol) and len(inputs) == 1:
            inputs = [inputs]
        if isinstance(outputs, (list, tuple)):
            outputs = sym_module.Group(list(outputs))
        input_names = [i.name for i in inputs]
        for name in outputs.list_arguments():
            if name not in input_names:
                self.params.get(name, allow_deferred_init=True)
        for name in outputs.list_auxiliary_states():
            if name not in input_names:
                self.params.get(name, grad_req="null", allow_deferred_init=True)
        self._cached_graph = (list(inputs), outputs)
        self._reg_params = OrderedDict((n, p) for n, p in self.params.items())

    @staticmethod
    def imports(symbol_file, input_names, param_file=None, ctx=None):
        """A SymbolBlock from an exported `-symbol.json` (and `.params`) file."""
        out = sym_module.load(symbol_file)
        input_names = [input_names] if isinstance(input_names, str) else list(input_names)
        block = SymbolBlock(out, [sym_module.var(n) for n in input_names])
        if param_file is not None:
            block.collect_params().load(param_file, ctx=ctx)
        return block

    def _get_graph(self, *args):
        return self._cached_graph

    def forward(self, x, *args):
        if isinstance(x, Symbol):
            inputs, out = self._cached_graph
            return out(**{i.name: a for i, a in zip(inputs, (x,) + args)})
        return self._call_cached(x, *args)

    def hybrid_forward(self, F, x, *args, **kwargs):
        raise NotImplementedError("SymbolBlock runs its Symbol; hybrid_forward is not used")
