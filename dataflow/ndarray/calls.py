"""Parsed imperative calls: what `mx.nd.X(...)` knows before it allocates and pushes (used by ndarray.py's
`_invoke`, the optimizers' update ops and autograd's imperative gradient nodes).

Note [the imperative fast path]
A call `mx.nd.X(*arrays, **params)` is parsed once per call form: the op, its params, the context param and
the number of positional inputs (`_CallForm`, cached in `_FORMS` by the raw keyword values), and inferred once per
input signature (`_OpCall.signature`: output shapes and dtypes, and whether the op is small enough to run inline).
A steady-state call therefore only checks its inputs' types, looks two dicts up, allocates its outputs and
pushes the kernel, which runs at once in the calling thread when its vars are free (`push(inline=True)`).
Calls naming inputs by keyword, passing `out=` or unhashable params (lists) take the full path every time.
The key holds the values as given, so `scalar=1` and `scalar=1.0` share a form (they parse alike).

The common call (CPU, fresh outputs, no GPU array made yet in the process) is written out flat in
`ndarray._run`: one pass over the inputs collects their data, vars and the signature key; the kernel is
bound with `functools.partial`; the engine's `_run_if_ready` runs it holding its lock, without an `_Op` or marked
vars (scheduler/engine.py, Note [inline ops]). Everything else (`out=`, GPU, a Custom op's per-call state) goes
through `_push`. A caller that repeats one call (Dense's FullyConnected, the Activation layer) holds a
`BoundCall`: the parsed form, called with the inputs only, so it skips the front end and the `_FORMS` lookup;
Dense's FullyConnected and its activation are a `BoundChain` of two, pushed as one op (Note [chained calls]).
Outputs are fresh `np.empty` arrays, not pooled: at ~0.2 us an allocation is cheaper than knowing when
a pooled buffer is free again (a finalizer per NDArray costs more), and a fresh buffer can never alias a live one.
Costs that were per call and are now gone: a thread-local flag read that raised and caught AttributeError
(~1 us, `autograd.state._Flags`), `Params` attribute reads through `__getattr__` (~0.4 us each; now an
instance-dict hit), an `_Op` and a deque per var. A non-hybridized Gluon block keeps its parameters' arrays per
context between calls (`HybridBlock._forward_arrays`, guarded by `Parameter.generation`).
"""
import functools
import sys

import numpy as np

from ops import registry
from ops.errors import MXNetError, ShapeError, in_operator

from scheduler.graph import Node
from scheduler.infer import apply_rule

from .. import frontend, util

# Ops writing at most this many bytes run in the calling thread when their inputs are ready (see engine.py).
_INLINE_BYTES = 1 << 16


class _Signature:
    """What one op call knows from its input shapes and dtypes alone: its outputs and whether it runs inline."""
    __slots__ = ("shapes", "dtypes", "outputs", "small")

    def __init__(self, shapes, dtypes):
        self.shapes, self.dtypes = shapes, dtypes
        self.outputs = tuple(zip(shapes, dtypes))
        self.small = sum(int(np.prod(s)) * np.dtype(t).itemsize for s, t in zip(shapes, dtypes)) <= _INLINE_BYTES


class _OpCall:
    """One op with one set of params, ready to run imperatively: parsed once, then cached by `_invoke`.

    `signature` remembers the output shapes and dtypes per input signature (rules are pure functions of the params
    and the input shapes and dtypes), so a steady-state call only allocates and pushes."""
    __slots__ = ("opdef", "op_name", "params", "input_names", "n_args", "n_out", "n_visible", "kernel",
                 "written", "state_per_call", "_inferred")

    def __init__(self, opdef, op_name, params):
        self.opdef, self.op_name, self.params = opdef, op_name, params
        self.input_names = opdef.input_names(params)
        self.n_args = len(opdef.argument_names(params))
        self.n_out = opdef.num_outputs(params)
        self.n_visible = opdef.visible_outputs(params)
        self.kernel = opdef.cpu
        if self.kernel is None:
            raise MXNetError(in_operator(opdef.name, op_name, "has no CPU kernel"))
        # the inputs the kernel writes (aux states, BatchNorm's fixed gamma): pushed as writes too
        aux = self.n_args < len(self.input_names)
        self.written = tuple(opdef.written_inputs(params)) if aux or opdef.writes_arguments else ()
        self.state_per_call = opdef.state_per_call
        self._inferred = {}

    def infer(self, inputs):
        """(output shapes, output dtypes) for `inputs`."""
        signature = self.signature(inputs)
        return signature.shapes, signature.dtypes

    def signature(self, inputs, key=None):
        """The `_Signature` of a call on `inputs` (NDArrays), inferred by the op's rules on first use. `key`: the
        inputs' shapes and dtypes, in turn, when the caller has them."""
        if not inputs:
            self._check_param_shape()       # before the cache: np_shape may have changed since
            key = (util.is_np_shape(),)     # ... and it decides what shape=() means (see _known_outputs)
        if self.opdef.value_shapes is not None:
            return self._value_signature(inputs)
        if key is None:
            key = tuple([part for x in inputs for part in (x._data.shape, x._data.dtype)])
        hit = self._inferred.get(key)
        if hit is None:
            hit = self._infer([x.shape for x in inputs], [x._data.dtype for x in inputs])
            if len(self._inferred) >= _MAX_CACHED:
                self._inferred.clear()
            self._inferred[key] = hit
        return hit

    def _infer(self, in_shapes, in_dtypes):
        """The `_Signature` the op's rules give for inputs of these shapes and dtypes (not cached)."""
        node = Node(self.opdef, self.op_name, params=self.params)
        _, shapes = apply_rule(node, list(in_shapes), self._known_outputs(in_shapes), "shape")
        _, dtypes = apply_rule(node, list(in_dtypes), [None] * self.n_out, "dtype")
        unknown = [i for i, (s, t) in enumerate(zip(shapes, dtypes)) if s is None or t is None]
        if unknown:
            raise ShapeError(in_operator(self.opdef.name, self.op_name, "cannot infer the shape and dtype of "
                                         "outputs %s from inputs of shapes %s" % (unknown, list(in_shapes))))
        return _Signature(shapes, dtypes)

    def _known_outputs(self, in_shapes):
        """The output shapes known before the rules run. Under np_shape a no-input op's `shape=()` is a scalar
        output (`mx.nd.random.uniform(shape=())`); the rules read an empty `shape` as MXNet 1.x's unknown."""
        if (not in_shapes and self.n_out == 1 and getattr(self.params, "shape", None) == ()
                and util.is_np_shape()):
            return [()]
        return [None] * self.n_out

    def _value_signature(self, inputs):
        """The signature of an op whose output shapes depend on its inputs' values (boolean_mask): `value_shapes`
        reads the values (waiting for them) instead of the shape rule. Never cached."""
        node = Node(self.opdef, self.op_name, params=self.params)
        _, dtypes = apply_rule(node, [x._data.dtype for x in inputs], [None] * self.n_out, "dtype")
        values = []
        for x in inputs:
            x.wait_to_read()
            values.append(x._data if x._ctx.device_type == "cpu" else x.asnumpy())
        return _Signature([tuple(s) for s in self.opdef.value_shapes(self.params, values)], dtypes)

    def _check_param_shape(self):
        # An op whose output shape is its `shape` param (_zeros, _random_uniform ...) cannot run with unknown
        # dims: 0 is MXNet 1.x's unknown size (a real 0 only under np_shape), and no size is negative.
        shape = getattr(self.params, "shape", None)
        if shape and (any(d < 0 for d in shape) or (0 in shape and not util.is_np_shape())):
            raise ShapeError(in_operator(self.opdef.name, self.op_name, "inferring shapes failed: shape=%s has "
                                         "unknown (0) or negative sizes; MXNet 1.x reads a 0 in a shape as unknown "
                                         "(mx.util.set_np_shape(True) makes it a real 0)" % (tuple(shape),)))


class _CallForm:
    """A parsed front-end call: the `_OpCall`, the context the call asked for (or None) and the params as the
    recorded node's attrs."""
    __slots__ = ("call", "ctx", "attrs")

    def __init__(self, call, ctx, attrs):
        self.call, self.ctx, self.attrs = call, ctx, attrs


_MAX_CACHED = 4096      # call forms, parsed calls, signatures per call: cleared when full (scalars vary freely)
_CALLS = {}             # (opdef, op name, sorted params) -> _OpCall
_FORMS = {}             # (opdef, op name, number of inputs, params as given) -> _CallForm


class BoundCall:
    """`mx.nd.<name>(*inputs, **params)` parsed once, for a caller that repeats one call (a Gluon layer's
    imperative forward: Dense's FullyConnected): calling it with the inputs goes straight to `ndarray._run`, with
    no front-end parsing and no call-form lookup. While `mx.nd.<name>` is not the generated front end (AMP's casting
    wrapper replaces it after `amp.init()`), it calls whatever is there, as the written-out call would."""
    __slots__ = ("name", "n_inputs", "params", "form", "_front", "_package", "_run")

    def __init__(self, name, n_inputs, **params):
        from . import ndarray       # here: ndarray.py imports this module
        self.name, self.n_inputs, self.params = name, n_inputs, params
        self.form, _ = ndarray._parse(registry.get(name), name, (None,) * n_inputs, dict(params))
        self._package = sys.modules[__package__]            # mx.nd, whose attributes AMP replaces
        front = getattr(self._package, name)
        self._front = front if frontend.is_generated(front) else None
        self._run = ndarray._run

    def __call__(self, *inputs):
        front = getattr(self._package, self.name)
        if front is not self._front or len(inputs) != self.n_inputs:
            return front(*inputs, **self.params)
        return self._run(self.form, inputs, None)

    def __reduce__(self):       # pickled and deep-copied with its layer: made anew
        return _bound_call, (self.name, self.n_inputs, self.params)


def _bound_call(name, n_inputs, params):
    return BoundCall(name, n_inputs, **params)


class BoundChain:
    """`second(first(*inputs))` for two `BoundCall`s, the second an elementwise op that may run in place on the
    first's only output (Dense's FullyConnected, then its Activation): where nothing needs the two calls apart,
    ONE engine push runs both kernels, the second over the first's output in place (Note [chained calls]).

    Note [chained calls]
    A layer's FullyConnected + Activation pushed as two ops costs a second parse-free `_run` (~3 us: outputs,
    var, push, inline run) and, in Dense, a child block call; at batch 1 that is a sixth of the whole MLP. The
    chain runs as the first op (its params, signature and errors; the engine sees one op named after it) with a
    kernel that calls both kernels; the result is the second's output, bit for bit, since the second computes
    elementwise and declares its output may be its input. It takes the two separate calls (each recorded, each
    through whatever AMP put in `mx.nd`) while autograd records, while either front end is replaced, once a GPU
    array exists (`_run_general` pushes one op's kernels), and for input signatures whose second op would change
    the shape or dtype."""
    __slots__ = ("first", "second", "form", "_ndarray", "_autograd")

    def __init__(self, first, second):
        from . import ndarray
        from ..autograd.state import _state
        self.first, self.second = first, second
        self._ndarray, self._autograd = ndarray, _state
        call, then = first.form.call, second.form.call
        chainable = (second.n_inputs == 1 and (0, 0) in then.opdef.inplace and call.n_visible == call.n_out == 1
                     and call.opdef.value_shapes is None
                     and not (call.state_per_call or then.state_per_call or call.written or then.written))
        self.form = _CallForm(_ChainedCall(call, then), first.form.ctx, first.form.attrs) if chainable else None

    def __call__(self, *inputs):
        first, second = self.first, self.second
        form = self.form
        if (form is None or self._autograd.recording or self._ndarray._GPU_USED or len(inputs) != first.n_inputs
                or getattr(first._package, first.name) is not first._front
                or getattr(second._package, second.name) is not second._front):
            return second(first(*inputs))
        try:
            return self._ndarray._run(form, inputs, None)
        except _Unchainable:
            return second(first(*inputs))

    def __reduce__(self):
        return BoundChain, (self.first, self.second)


class _Unchainable(Exception):
    """A chained call's second op would not keep the first's output shape and dtype for these inputs."""


class _ChainedCall(_OpCall):
    """The first op of a `BoundChain` whose kernel also runs the second's in place on its output."""
    __slots__ = ("then",)

    def __init__(self, first, then):        # `first`'s parsed state, copied
        for name in _OpCall.__slots__:
            setattr(self, name, getattr(first, name))
        self.then = then
        self.kernel = functools.partial(_run_chained, first.kernel, then.kernel, then.params)
        self._inferred = {}

    def _infer(self, in_shapes, in_dtypes):
        hit = _OpCall._infer(self, in_shapes, in_dtypes)
        then = self.then._infer(hit.shapes, hit.dtypes)
        if [tuple(s) for s in then.shapes] != [tuple(s) for s in hit.shapes] or list(then.dtypes) != list(hit.dtypes):
            raise _Unchainable()            # not cached: such inputs take the two calls every time
        return hit


def _run_chained(first, then, then_params, ctx, params, inputs, outputs, req):
    first(ctx, params, inputs, outputs, req)
    then(ctx, then_params, outputs, outputs, req)


def _op_call(opdef, op_name, kwargs):
    try:
        key = (opdef, op_name, tuple(sorted(kwargs.items())))
        hash(key)
    except TypeError:           # unhashable param values (lists): parse every time
        return _OpCall(opdef, op_name, opdef.parse_params(kwargs))
    call = _CALLS.get(key)
    if call is None:
        if len(_CALLS) >= _MAX_CACHED:
            _CALLS.clear()
        call = _CALLS[key] = _OpCall(opdef, op_name, opdef.parse_params(kwargs))
    return call


def _order_inputs(opdef, op_name, input_names, positional, by_name):
    if not by_name:
        if len(positional) != len(input_names):
            raise MXNetError(in_operator(opdef.name, op_name, "%d inputs given, it takes %d (%s)"
                                         % (len(positional), len(input_names), ", ".join(input_names))))
        return positional
    slots = dict(zip(input_names, positional))
    for key, value in by_name.items():
        if key not in input_names:
            raise MXNetError(in_operator(opdef.name, op_name, "%r is not an input; the inputs are %s"
                                         % (key, input_names)))
        slots[key] = value
    missing = [n for n in input_names if n not in slots]
    if missing:
        raise MXNetError(in_operator(opdef.name, op_name, "missing inputs %s" % missing))
    return [slots[n] for n in input_names]


def _partial_writes(targets):
    """The vars of the `targets` (arrays an op writes) that are views of only part of their var's storage, such
    as `out=y[0:1]`: such a write must also read the var, so that it keeps an error stored on it instead of
    clearing it and exposing the rest of a failed value (engine.py, Note [errors])."""
    return [t._var for t in targets if not _covers_storage(t._data)]


def _covers_storage(data):
    """True when `data` spans the whole storage its engine var guards (it is no slice of a larger array)."""
    base = getattr(data, "base", None)      # numpy collapses views of views: base is the storage's owner
    return not isinstance(base, np.ndarray) or base.nbytes == data.nbytes

