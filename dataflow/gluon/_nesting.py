"""Nested arguments of a HybridBlock: `model(x, [h, c])` runs a graph over the flat arrays (`data0`, `data1`,
`data2`) and returns its flat outputs regrouped into the nesting `hybrid_forward` returned.

MXNet's encoding of a nesting (its gluon/block.py `_flatten`/`_regroup`): 0 for one array, n > 1 for one Symbol
with n outputs, -1 for None, and a list of those for a list or tuple (regrouped as a list).
"""
from ..ndarray.ndarray import NDArray
from ..symbol.symbol import Symbol


def flatten(args, what):
    """(flat list of NDArrays/Symbols/None, format) of `args`; `what` ('input' or 'output') names it in errors."""
    if isinstance(args, NDArray):
        return [args], 0
    if isinstance(args, Symbol):
        n = len(args.list_outputs())
        return [args], n if n > 1 else 0
    if args is None:
        return [None], -1
    if not isinstance(args, (list, tuple)):
        raise ValueError("When hybridized, the %s of HybridBlock must be (nested) list of Symbol or NDArray, but got "
                         "%s of type %s" % (what, args, type(args)))
    flat, fmt = [], []
    for item in args:
        items, item_fmt = flatten(item, what)
        flat.extend(items)
        fmt.append(item_fmt)
    return flat, fmt


def regroup(flat, fmt):
    """The nesting `fmt` filled from the flat list `flat` (lists where `fmt` has lists)."""
    def fill(flat, fmt):
        if isinstance(fmt, int):
            if fmt == 0:
                return flat[0], flat[1:]
            if fmt == -1:
                return None, flat[1:]
            return list(flat[:fmt]), flat[fmt:]
        out = []
        for item_fmt in fmt:
            item, flat = fill(flat, item_fmt)
            out.append(item)
        return out, flat
    return fill(list(flat), fmt)[0]


def arrays_in(args):
    """The NDArrays and Symbols in (nested lists of) `args`, other values skipped."""
    if isinstance(args, (NDArray, Symbol)):
        yield args
    elif isinstance(args, (list, tuple)):
        for item in args:
            yield from arrays_in(item)
