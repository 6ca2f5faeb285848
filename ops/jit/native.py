"""Calling a compiled body (or a generated loop) through its machine-code address, for the Plan compiler
(scheduler/codegen.py).

Why: when one njit function calls another, numba links the callee's code into the caller and optimises and
code-generates the whole again, once per caller. A generated segment that calls FullyConnected's body paid
0.3 s for the body's code on top of its own, a segment of four bodies (FullyConnected forward and backward,
SoftmaxOutput forward and backward) 0.7-3 s, against 0.12 s when it calls them by address (measured here,
2026-12-07, every body compiled before). A body is compiled once per process and signature (and cached on disk by
numba), and every generated caller only calls it.

How: `native_types(argtypes, packed_from(fn))` are the types fn's compiled function takes (a `*args` tail packed
as numba packs it); `address(fn, argtypes)` compiles fn for them, or loads it from numba's cache, and gives the
address of that native function; the caller passes the address at run time (in a segment's sizes, never in its
code, so that the generated module stays cacheable across processes, where addresses differ) and calls
`call_native(address, signature, packed_from, *args)`: `signature` is `signature_text(native_types)`, checked
against the call's own argument types when numba types the caller, so that a caller can never call a function
compiled for other types; `packed_from` is where the `*args` tail starts (-1: none).
The callee uses numba's own calling convention, with its status and exceptions passed on as a linked call's are.
Bodies return nothing (the contract in ops/jit/__init__.py); `address` checks it.
"""
import inspect

import numpy as np
from numba.core import cgutils, types
from numba.core.errors import TypingError
from numba.extending import intrinsic
from numba.np.numpy_support import from_dtype


def packed_from(fn):
    """Where fn's `*args` tail starts among its arguments, or -1."""
    params = list(inspect.signature(fn.py_func).parameters.values())
    return len(params) - 1 if params and params[-1].kind is inspect.Parameter.VAR_POSITIONAL else -1


def by_address(fn):
    """Whether `fn` (an njit dispatcher) can be called by address: positional parameters, maybe a `*args` tail,
    no defaults (whose omitted values would change the compiled signature)."""
    params = list(inspect.signature(fn.py_func).parameters.values())
    fixed = params[:packed_from(fn)] if packed_from(fn) >= 0 else params
    return all(p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD and p.default is p.empty for p in fixed)


def array_type(dtype, ndim):
    """The numba type of a C-contiguous array argument."""
    return types.Array(from_dtype(np.dtype(dtype)), ndim, "C")


def constant_type(value):
    """The numba type of an int, float or bool argument as generated code passes it: int64, float64, bool."""
    if isinstance(value, (bool, np.bool_)):
        return types.boolean
    return types.int64 if isinstance(value, (int, np.integer)) else types.float64


def native_types(argtypes, packed_from):
    """The types of the compiled function's arguments, for a call with `argtypes`."""
    argtypes = tuple(argtypes)
    if packed_from < 0:
        return argtypes
    return argtypes[:packed_from] + (types.StarArgTuple.from_types(argtypes[packed_from:]),)


def signature_text(native):
    return ", ".join(str(t) for t in native)


def address(fn, argtypes):
    """The address of fn's native function for `argtypes` (compiled, or loaded from numba's cache, first)."""
    want = native_types(argtypes, packed_from(fn))
    entry = fn.compile(want)
    cres = next(c for c in fn.overloads.values() if c.entry_point is entry)
    if tuple(cres.fndesc.argtypes) != want or cres.signature.return_type != types.none:
        raise TypeError("%s compiled as %s -> %s, not (%s) -> none" % (
            fn.__name__, cres.fndesc.argtypes, cres.signature.return_type, signature_text(want)))
    where = cres.library.get_pointer_to_function(cres.fndesc.llvm_func_name)
    if not where:
        raise RuntimeError("no native function %s for %s" % (cres.fndesc.llvm_func_name, fn.__name__))
    _called[where] = fn
    return where


# every function given an address, kept alive with its code: a generated module dropped from plan_cache's modules
# may still have segments calling its loops by address
_called = {}


def _as_passed(t):
    """The type a body receives for a call site's argument of type t: C-contiguous writable arrays (the Plan
    compiler passes nothing else; the layout and the read-only flag do not change how an array is passed), plain
    scalars for literals."""
    if isinstance(t, types.Array):
        return types.Array(t.dtype, t.ndim, "C")
    return types.unliteral(t)


@intrinsic(prefer_literal=True)
def call_native(typingctx, where, signature, packed, *args):
    """Call the native function at address `where` (an int64) with `args`; see the module docstring."""
    if not (isinstance(signature, types.StringLiteral) and isinstance(packed, types.IntegerLiteral)):
        return None
    passed = tuple(_as_passed(t) for t in args)
    native = native_types(passed, packed.literal_value)
    if signature_text(native) != signature.literal_value:
        raise TypingError("call_native: the arguments are (%s), the address is of a function of (%s)" % (
            signature_text(native), signature.literal_value))

    def codegen(context, builder, sig, llargs):
        values = [v if isinstance(t, types.Array) else context.cast(builder, v, t, p)
                  for v, t, p in zip(cgutils.unpack_tuple(builder, llargs[3]), args, passed)]
        if packed.literal_value >= 0:
            k = packed.literal_value
            values = values[:k] + [context.make_tuple(builder, native[k], values[k:])]
        fnty = context.call_conv.get_function_type(types.none, native)
        fn = builder.inttoptr(llargs[0], fnty.as_pointer())
        status, _ = context.call_conv.call_function(builder, fn, types.none, native, values)
        with cgutils.if_unlikely(builder, status.is_error):
            context.call_conv.return_status_propagate(builder, status)
        return context.get_dummy_value()

    return types.none(where, signature, packed, types.StarArgTuple.from_types(args)), codegen
