"""Executor: a Symbol bound to arrays; `forward` runs its compiled Plan as one engine push.

Binding walks the data path once, through scheduler/build.py: IndexedGraph -> shapes and dtypes inferred from the
bound arrays -> memory plan (variables and outputs live outside it) -> Plan (compiled by the JIT). Every `forward`
then pushes one engine op that reads the argument and aux vars and writes the output vars (and the variables its
ops write: the aux states, a fixed gamma; the backward push writes the moving stats BatchNorm's backward updates),
so NDArray users see ordinary asynchronous semantics. Outputs are the same NDArrays from one forward to the next,
as in MXNet. Each pass's push (its function, vars and OpContext) is made once per mode and reused (`_push_of`), and
the head gradients are refilled with ones only after out_grads overwrote them: a training step costs the two pushes.

With gradients requested, binding first extends the graph with the gradient nodes (scheduler/gradient.py), so one
memory plan covers forward and backward; the forward steps are a prefix of the Plan: `forward` runs steps
[0, n_forward) and `backward` the rest. Gradients are written straight into the gradient arrays (req WRITE or, for
grad_req='add', ADD); only gradients that are also some other array's value, or for 'add' that some step reads,
need a copy (`bind_gradients`).
"""
import functools

import numpy as np

from ops.errors import GraphError, MXNetError, ShapeError
from ops.registry import ADD, WRITE, OpContext

from scheduler import build, segments
from scheduler.engine import get_engine
from scheduler.graph import Entry, IndexedGraph, Node
from scheduler.infer import infer_dtypes, infer_shapes
from scheduler.plan import Copy, bind_outputs, written_variables

from . import monitoring
from .context import Context, check_supported
from .ndarray.ndarray import NDArray, _DEFAULT_DTYPE
from .ndarray import ndarray as nd
from .ndarray import sparse as nd_sparse
from .ndarray.creation import ones_of

_GRAD_REQS = ("write", "add", "null", "inplace")


class Executor:
    """Runs a bound symbol. Create with `Symbol.bind` or `Symbol.simple_bind`."""

    def __new__(cls, symbol, ctx, args, args_grad=None, grad_req="write", aux_states=None, _prepared=None):
        arrays = _values(args) + _values(args_grad)
        if cls is Executor and any(getattr(a, "stype", "default") != "default" for a in arrays):
            from .executor_sparse import SparseExecutor      # sparse arrays bound (Note [sparse executors])
            cls = SparseExecutor
        return object.__new__(cls)

    def __init__(self, symbol, ctx, args, args_grad=None, grad_req="write", aux_states=None, _prepared=None):
        if not isinstance(ctx, Context):
            raise TypeError("bind: ctx must be a Context, got %s" % type(ctx).__name__)
        check_supported(ctx)
        self._symbol = symbol
        self._ctx = ctx
        # `_prepared`: (the IndexedGraph of the symbol, its shapes or None) when simple_bind has them already
        forward, forward_shapes = _prepared or (IndexedGraph(symbol._outputs), None)
        self._forward = forward
        self._arg_names = [forward.nodes[i].name for i in forward.argument_nodes]
        self._aux_names = [forward.nodes[i].name for i in forward.aux_nodes]
        self._output_names = symbol.list_outputs()
        self.arg_arrays = _array_list(args, self._arg_names, "args", allow_missing=False)
        self.grad_arrays = _array_list(args_grad, self._arg_names, "args_grad", allow_missing=True)
        self.aux_arrays = _array_list(aux_states, self._aux_names, "aux_states", allow_missing=False)
        self._grad_req = _grad_req_dict(grad_req, self._arg_names)
        _check_devices(ctx, [("args", self._arg_names, self.arg_arrays), ("args_grad", self._arg_names,
                                                                          self.grad_arrays),
                             ("aux_states", self._aux_names, self.aux_arrays)])
        self._monitor = None            # (callback, monitor_all) once set_monitor_callback is called
        self._training_plan = None      # (plan, n_forward, forward writes) of forward(is_train=True), when folded
        with build.paused_gc():
            self._plan, self.outputs = self._compile(forward_shapes=forward_shapes)

    # -- compiling -------------------------------------------------------------------------------------------------
    def _compile(self, outputs=None, forward_shapes=None, fold=True):
        """The symbol (+ its gradients) lowered and planned through scheduler/build.py; returns (plan, outputs)
        (the given output arrays, or new ones). `forward_shapes`: the forward's shapes when already inferred.
        Without gradients (and with `fold`), the plan runs the inference graph, BatchNorms folded into convolutions
        (scheduler/fold.py); `self._folded` says whether something folded (see `_forward_plan`)."""
        forward, heads = self._forward, self._symbol._outputs
        bound_vars = dict(zip(self._arg_names, self.arg_arrays))
        bound_vars.update(zip(self._aux_names, self.aux_arrays))
        wanted = [n for n, a in zip(self._arg_names, self.grad_arrays) if a is not None and
                  self._grad_req[n] != "null"]
        # one head-gradient variable per head, bound by name: a repeated head sums its gradients (the default
        # ones), except that of out_grads given for it only the last counts, as in MXNet (`_overridden_heads`)
        head_nodes = [Node(None, "%s_head_grad%d" % (name, k)) for k, name in enumerate(self._output_names)]
        variables = {forward.nodes[i].name: forward.nodes[i] for i in forward.argument_nodes}
        lowered = build.lower(heads, {k: v.shape for k, v in bound_vars.items()},
                              {k: v._data.dtype for k, v in bound_vars.items()},
                              [Entry(variables[n]) for n in wanted], [Entry(n) for n in head_nodes], forward,
                              forward_shapes=forward_shapes, fold=fold and self._monitor is None)
        self._folded = lowered.forward is not forward
        forward = lowered.forward
        lowered.check_complete("bind")
        g, shapes, dtypes = lowered.graph, lowered.shapes, lowered.dtypes
        self._head_grads = [(node, ones_of(shapes[eid], self._ctx, dtypes[eid])) for node, eid in
                            zip(head_nodes, forward.heads)] if wanted else []
        self._head_grads_are_ones = True    # until out_grads are copied into them (`backward`)
        self._pushes = {}                   # (pass, is_train) -> the engine push of that pass (`_push_of`)
        # MXNet: of the out_grads given for a head that appears several times, only the last one counts
        self._overridden_heads = {k for k, eid in enumerate(forward.heads) if eid in forward.heads[k + 1:]}
        row = g.node_row_ptr
        bound = {row[nid]: bound_vars[g.nodes[nid].name]._data for nid in forward.arg_nodes}
        for (_, array), eid in zip(self._head_grads, lowered.head_grads):
            if eid is not None:
                bound[eid] = array._data
        head_eids = g.heads[:len(heads)]
        outputs = list(outputs) if outputs is not None else [nd.empty(shapes[e], self._ctx, dtypes[e])
                                                             for e in head_eids]
        copies, _ = bind_outputs(head_eids, [a._data for a in outputs], bound)
        by_name = dict(zip(wanted, lowered.gradients, strict=True))
        grad_copies, req = bind_gradients([by_name.get(n) for n in self._arg_names],
                                          [None if a is None else a._data for a in self.grad_arrays],
                                          [self._grad_req[n] for n in self._arg_names], bound,
                                          lowered.read_entries())
        copies += grad_copies
        self._grad_eids, self._direct_grads = [by_name.get(n) for n in self._arg_names], req   # for segments
        if self._monitor is not None:       # every entry keeps its value for the callbacks (dataflow/monitoring.py)
            monitoring.own_buffers(g, shapes, dtypes, bound, lambda s, t: nd.empty(s, self._ctx, t)._data)
        self._n_forward = lowered.n_forward
        ops = [nid for nid, node in enumerate(g.nodes) if not node.is_variable]
        self._monitor_nodes = (ops[:self._n_forward], ops[self._n_forward:])
        plan = lowered.plan(bound, copies, req, ctx=self._ctx)
        # the bound arrays each pass writes: a fixed gamma in the forward, the moving stats in the backward
        written = [[bound_vars[g.nodes[nid].name] for nid in nids]
                   for nids in (written_variables(g, 0, self._n_forward), written_variables(g, self._n_forward))]
        self._forward_writes, self._backward_writes = written
        return plan, outputs

    # -- running ---------------------------------------------------------------------------------------------------
    def forward(self, is_train=False, **kwargs):
        """Run the forward pass; keyword arrays are copied into the bound arguments first. Returns `outputs`."""
        for key, value in kwargs.items():
            if key not in self.arg_dict:
                raise GraphError("forward: %r is not an argument; the arguments are %s" % (key, self._arg_names))
            target = self.arg_dict[key]
            source = value if isinstance(value, NDArray) else nd.array(value, dtype=target.dtype)
            if source.shape != target.shape:
                raise ShapeError("forward: argument %r is bound with shape %s, got %s"
                                 % (key, target.shape, source.shape))
            source.copyto(target)
        get_engine().push(*self._push_of("forward", bool(is_train)))
        self._report(0)
        return self.outputs

    def _push_of(self, kind, is_train):
        """The engine push (fn, reads, writes, name) that runs the forward or the backward pass, made at its first
        call per mode and kept: the arrays and vars are bound for good (a recompile, `_compile`, starts afresh)."""
        key = (kind, is_train) if kind == "forward" else (kind, is_train, segments.setting())
        push = self._pushes.get(key)
        if push is not None:
            return push
        arrays = self.arg_arrays + self.aux_arrays
        if kind == "forward":
            plan, stop, forward_writes = self._forward_plan(is_train)
            op_ctx = OpContext(is_train=is_train, computes_gradients=any(
                a is not None and self._grad_req[n] != "null" for n, a in zip(self._arg_names, self.grad_arrays)))
            run = plan.run
            push = (lambda: run(op_ctx, 0, stop, "forward"), tuple(a._var for a in arrays),
                    tuple(a._var for a in self.outputs + forward_writes), "forward")
        else:
            plan, start, op_ctx = self._plan, self._n_forward, OpContext(is_train=is_train)
            run = plan.run
            reads = tuple(a._var for a in arrays + self.outputs + [a for _, a in self._head_grads])
            writes = tuple(a._var for a in [g for g in self.grad_arrays if g is not None] + self._backward_writes)
            push = (lambda: run(op_ctx, start, None, "backward"), reads, writes, "backward")
            bounds = self._backward_bounds(key[2])
            if len(bounds) > 2:         # a function making one push per range (Note [segmented backward])
                publish = segments.published(plan, plan.graph, bounds, self._grad_eids, self._direct_grads)
                grads = self.grad_arrays
                published = [[grads[k]._var for k in ks if grads[k] is not None] for ks in publish]
                others = [a._var for a in self._backward_writes]
                push = functools.partial(segments.push_ranges, lambda a, b, copies: run(op_ctx, a, b, copies), bounds,
                                         reads, others, published, "backward")
        self._pushes[key] = push       # (after `_forward_plan`, which may recompile)
        return push

    def _backward_bounds(self, how):
        """The step ranges' bounds of the backward under the segment setting `how` (scheduler/segments.py)."""
        plan, start = self._plan, self._n_forward
        steps = segments.finishing_steps(plan, plan.graph, self._grad_eids)
        finishes = [(step, a._data.nbytes) for step, a, eid in zip(steps, self.grad_arrays, self._grad_eids)
                    if step is not None and a is not None and eid in self._direct_grads]
        ranges = segments.ranges(start, len(plan.steps), finishes, how)
        return [a for a, _ in ranges] + [ranges[-1][1]]

    def _forward_plan(self, is_train):
        """(plan, n_forward, forward writes) for a forward: the bound plan, unless it folded BatchNorms (bound
        without gradients) and the call is in training mode, which normalises by the batch: then an unfolded plan
        built at the first such call."""
        if not (is_train and self._folded):
            return self._plan, self._n_forward, self._forward_writes
        if self._training_plan is None:
            kept = self._n_forward, self._monitor_nodes, self._forward_writes, self._backward_writes
            plan, _ = self._compile(self.outputs, fold=False)
            self._training_plan = plan, self._n_forward, self._forward_writes
            self._n_forward, self._monitor_nodes, self._forward_writes, self._backward_writes = kept
            self._folded = True
        return self._training_plan

    def backward(self, out_grads=None, is_train=True):
        """Run the backward pass from the last forward: gradients go to `grad_arrays` as `grad_req` says.

        `out_grads` are the gradients of the outputs (default: ones); loss outputs (SoftmaxOutput ...) ignore
        them, as in MXNet."""
        if isinstance(out_grads, (list, tuple)) and not out_grads:
            out_grads = None        # MXNet: an empty list means none given
        if out_grads is not None:
            out_grads = [out_grads] if isinstance(out_grads, NDArray) else list(out_grads)
            if len(out_grads) < len(self._head_grads):      # as MXNet: extra ones are ignored
                raise ValueError("backward: %d out_grads given for %d outputs" % (len(out_grads),
                                                                                   len(self._head_grads)))
            for grad in out_grads:
                if not isinstance(grad, NDArray):
                    raise TypeError("inputs must be NDArray")
            out_grads = out_grads[:len(self._head_grads)]
            for (node, target), grad in zip(self._head_grads, out_grads):
                if grad.shape != target.shape:
                    raise ShapeError("backward: out_grad for %r has shape %s, the output has %s"
                                     % (node.name, grad.shape, target.shape))
            self._head_grads_are_ones = False
            for k, ((_, target), grad) in enumerate(zip(self._head_grads, out_grads)):
                if k in self._overridden_heads:
                    target[:] = 0
                else:
                    grad.copyto(target)
        elif not self._head_grads_are_ones:     # only the executor writes them: ones since the last fill
            for _, target in self._head_grads:
                target[:] = 1
            self._head_grads_are_ones = True
        push = self._push_of("backward", bool(is_train))
        if callable(push):      # a segmented backward pushes each range itself
            push()
        else:
            get_engine().push(*push)
        self._report(1)

    # -- monitoring ------------------------------------------------------------------------------------------------
    def set_monitor_callback(self, callback, monitor_all=False):
        """Call `callback(name, array)` for every op output (with `monitor_all`, every op input too) after each
        forward and backward, in execution order (dataflow/monitoring.py). The plan is rebuilt without buffer
        sharing, so every value stays readable."""
        self._monitor = (callback, bool(monitor_all))
        self._plan, self.outputs = self._compile(self.outputs)      # the output arrays users hold stay
        self._training_plan = None

    def _report(self, segment):
        if self._monitor is None:
            return
        callback, monitor_all = self._monitor
        nd.waitall()
        points = monitoring.monitored_entries(self._plan.graph, self._monitor_nodes[segment], monitor_all,
                                              report_variables=True)
        monitoring.report(points, self._plan.arrays, self._ctx, callback, with_op_name=False)

    # -- dictionaries ----------------------------------------------------------------------------------------------
    @property
    def arg_dict(self):
        return dict(zip(self._arg_names, self.arg_arrays))

    @property
    def grad_dict(self):
        return dict(zip(self._arg_names, self.grad_arrays))

    @property
    def aux_dict(self):
        return dict(zip(self._aux_names, self.aux_arrays))

    @property
    def output_dict(self):
        return dict(zip(self._output_names, self.outputs))

    def copy_params_from(self, arg_params, aux_params=None, allow_extra_params=False):
        """Copy values into the bound arguments and aux states by name."""
        for params, target, kind in ((arg_params, self.arg_dict, "argument"),
                                     (aux_params or {}, self.aux_dict, "aux state")):
            for name, value in params.items():
                if name in target:
                    (value if isinstance(value, NDArray) else nd.array(value)).copyto(target[name])
                elif not allow_extra_params:
                    raise GraphError("Found name %r that is not in the %ss" % (name, kind))

    def reshape(self, partial_shaping=False, allow_up_sizing=False, **kwargs):
        """A new Executor for new input shapes; arrays whose shape is unchanged (the parameters) are shared.

        An argument whose shape changes without being given needs `partial_shaping`; one that grows needs
        `allow_up_sizing` (MXNet's rules)."""
        partial, _, _ = self._symbol.infer_shape_partial(**kwargs)
        known = dict(kwargs)            # what the new shapes do not decide keeps its current shape
        known.update({n: a.shape for n, a, s in zip(self._arg_names, self.arg_arrays, partial)
                      if n not in kwargs and (not s or 0 in s)})
        arg_shapes, _, aux_shapes = self._symbol.infer_shape(**known)
        if arg_shapes is None:
            raise ShapeError("reshape: cannot infer every shape from %s" % kwargs)

        def resized(name, array, shape, given):
            if array is None or array.shape == tuple(shape):
                return array
            if not given and not partial_shaping:
                raise ValueError("reshape: the shape of %r changes from %s to %s; pass partial_shaping=True to "
                                 "allow it" % (name, array.shape, tuple(shape)))
            if int(np.prod(shape)) > int(np.prod(array.shape)) and not allow_up_sizing:
                raise ValueError("reshape: %r grows from %s to %s; pass allow_up_sizing=True to allow it"
                                 % (name, array.shape, tuple(shape)))
            if array.stype != "default":        # a sparse argument stays sparse (executor_sparse.py)
                return nd_sparse.zeros(array.stype, shape, ctx=self._ctx, dtype=array.dtype)
            return nd.zeros(shape, self._ctx, array.dtype)
        args = [resized(n, a, s, n in kwargs) for n, a, s in zip(self._arg_names, self.arg_arrays, arg_shapes)]
        grads = [resized(n, g, s, n in kwargs) for n, g, s in zip(self._arg_names, self.grad_arrays, arg_shapes)]
        aux = [resized(n, a, s, False) for n, a, s in zip(self._aux_names, self.aux_arrays, aux_shapes)]
        return Executor(self._symbol, self._ctx, args, grads, self._grad_req, aux)

    def memory_stats(self):
        """Bytes of the bound plan: {'naive', 'planned', 'lower_bound'} (outside it: arguments, outputs and
        gradients, which the user's arrays hold)."""
        m = self._plan.memory
        return {"naive": m.naive_bytes, "planned": m.planned_bytes, "lower_bound": m.lower_bound_bytes}

    def debug_str(self):
        """The Plan, one line per step, with storage ids, shapes and dtypes."""
        return str(self._plan)


def bind_gradients(eids, arrays, modes, bound, read):
    """Bind gradient entries `eids` (None where no gradient flows) to the gradient arrays (numpy) as grad_req
    `modes` say; returns (copies, req). `read`: the eids that some step reads.

    A gradient computed by a node nothing else holds is written (req WRITE) straight into its array, which joins
    `bound`; a gradient that is also some bound array's value (an input, an output, another gradient) is copied
    after the backward steps; where no gradient flows (a label), 'write' gives zeros, as in MXNet.
    For 'add' the array holds the old gradient plus the new one, so it can be the entry's storage only where
    nothing else ever sees the entry: no step reads it, it is no head and no other gradient is the same entry.
    Otherwise (an identity gradient such as elemwise_add's, which later steps read too) the gradient is added to
    the array after the backward steps, from the entry's own storage."""
    copies, req = [], {}
    shared = {eid for k, eid in enumerate(eids) if eid is not None and eid in eids[k + 1:]}
    for eid, grad, mode in zip(eids, arrays, modes, strict=True):
        if grad is None or mode == "null":
            continue
        if eid is None:
            if mode != "add":
                copies.append(Copy(None, grad, segment="backward"))
            continue
        if eid in bound or (mode == "add" and (eid in read or eid in shared)):
            copies.append(Copy(eid, grad, mode == "add", "backward"))
        else:
            bound[eid] = grad
            req[eid] = ADD if mode == "add" else WRITE
    return copies, req


def simple_bind(symbol, ctx, grad_req, type_dict, shapes, stype_dict=None):
    """Bind `symbol` with arrays allocated from input shapes (zeros), gradients where grad_req is not 'null';
    sparse ones where storage-type inference says so (`stype_dict`, the variables' stypes; executor_sparse.py).

    The graph is walked and its shapes inferred once, here; the Executor reuses both."""
    with build.paused_gc():
        forward = IndexedGraph(symbol._outputs)
        known = symbol._known(forward, (), shapes, "shape")
        inferred = infer_shapes(forward, {k: tuple(v) for k, v in known.items() if v is not None}).values
    arg_shapes, out_shapes, aux_shapes = symbol._split(forward, inferred)
    if any(s is None or 0 in s for s in arg_shapes + out_shapes + aux_shapes):
        unknown = [n for n, s in zip(symbol.list_arguments(), arg_shapes) if not s or 0 in s]
        raise ShapeError("simple_bind: cannot infer the shapes of %s from %s" % (unknown, shapes))
    arg_names = [forward.nodes[i].name for i in forward.argument_nodes]
    aux_names = [forward.nodes[i].name for i in forward.aux_nodes]
    arg_types = aux_types = None
    if type_dict:
        known_types = symbol._known(forward, (), dict(type_dict), "dtype")
        types = infer_dtypes(forward, {k: v for k, v in known_types.items() if v is not None}).values
        if all(t is not None for t in types):
            arg_types, _, aux_types = symbol._split(forward, types)
    arg_types = arg_types or [_DEFAULT_DTYPE] * len(arg_names)
    aux_types = aux_types or [_DEFAULT_DTYPE] * len(aux_names)
    args = [nd.zeros(s, ctx, t) for s, t in zip(arg_shapes, arg_types, strict=True)]
    req = _grad_req_dict(grad_req, arg_names)
    grads = [nd.zeros(s, ctx, t) if req[n] != "null" else None
             for n, s, t in zip(arg_names, arg_shapes, arg_types, strict=True)]
    aux = [nd.zeros(s, ctx, t) for s, t in zip(aux_shapes, aux_types, strict=True)]
    from .executor_sparse import allocate
    sparse = allocate(symbol, forward, ctx, stype_dict, arg_names, arg_shapes, arg_types, req)
    if sparse is not None:
        args, grads = sparse
    return Executor(symbol, ctx, args, grads, req, aux, _prepared=(forward, inferred))


def _values(arrays):
    return list(arrays.values()) if isinstance(arrays, dict) else list(arrays or ())


def _array_list(arrays, names, what, allow_missing):
    if arrays is None:
        if names and not allow_missing:
            raise GraphError("bind: `%s` is required, for %s" % (what, names))
        return [None] * len(names)
    if isinstance(arrays, dict):
        result = []
        for name in names:
            if name in arrays:
                result.append(arrays[name])
            elif allow_missing:
                result.append(None)
            else:
                raise GraphError("bind: key %r is missing in `%s` (the symbol needs %s)" % (name, what, names))
    else:
        result = list(arrays)
        if len(result) != len(names):
            raise GraphError("bind: `%s` has %d arrays, the symbol needs %d: %s"
                             % (what, len(result), len(names), names))
    for name, array in zip(names, result):
        if array is not None and not isinstance(array, NDArray):
            raise TypeError("bind: %s[%r] must be an NDArray, got %s" % (what, name, type(array).__name__))
    return result


def _check_devices(ctx, groups):
    """Every bound array must live on the executor's device when a GPU is involved (kernels of one device cannot
    read another's memory)."""
    for what, names, arrays in groups:
        for name, array in zip(names, arrays):
            if array is not None and array.context != ctx and "gpu" in (ctx.device_type,
                                                                         array.context.device_type):
                raise MXNetError("bind: %s[%r] is on %s but the executor runs on %s; create it there or copy it "
                                 "with as_in_context(%s)" % (what, name, array.context, ctx, ctx))


def _grad_req_dict(grad_req, names):
    if isinstance(grad_req, str):
        reqs = {n: grad_req for n in names}
    elif isinstance(grad_req, (list, tuple)):
        reqs = dict(zip(names, grad_req, strict=True))
    else:
        reqs = {n: grad_req.get(n, "null") for n in names}
    for name, req in reqs.items():
        if req not in _GRAD_REQS:
            raise ValueError("grad_req %r for %r is not one of %s" % (req, name, _GRAD_REQS))
    return reqs
