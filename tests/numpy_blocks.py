"""Numpy-mode blocks that run one function imperatively and hybridized, for the tests of `mx.sym.np` / `F.np`:
`fn(F, *inputs)` runs with F = mx.nd on mx.np arrays, and traced with F = mx.sym on `_Symbol`s. Test modules import
`np_mode` (an autouse fixture: numpy mode around each test) with the helpers."""
import pytest

import dataflow as mx
from dataflow import np, npx
from dataflow.gluon import HybridBlock
from dataflow.symbol.numpy import _Symbol


@pytest.fixture(autouse=True)
def np_mode():
    npx.set_np()
    yield
    npx.reset_np()


class Apply(HybridBlock):
    """hybrid_forward = `fn(F, *inputs)`; `seen` records each call's F and input types."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn
        self.seen = []

    def hybrid_forward(self, F, *inputs):
        self.seen.append((F, [type(x) for x in inputs]))
        return self.fn(F, *inputs)


def run_both(fn, *host_inputs):
    """(imperative outputs, hybridized outputs) of `fn` as lists of host arrays, after checking that both are
    mx.np.ndarrays and that the hybridized block was traced with Symbols."""
    results = []
    for hybridize in (False, True):
        block = Apply(fn)
        if hybridize:
            block.hybridize()
        out = block(*[np.array(x, dtype=x.dtype) for x in host_inputs])
        outs = out if isinstance(out, (list, tuple)) else [out]
        assert all(isinstance(o, np.ndarray) for o in outs), [type(o) for o in outs]
        if hybridize:
            assert block.seen[-1][0] is mx.sym and all(t is _Symbol for t in block.seen[-1][1])
        else:
            assert block.seen[-1][0] is mx.nd
        results.append([o.asnumpy() for o in outs])
    return results


def hybridized(fn, *host_inputs):
    """`fn(F, *inputs)` in a hybridized numpy-mode block: the mx.np arrays it gives."""
    block = Apply(fn)
    block.hybridize()
    return block(*[np.array(x, dtype=x.dtype) for x in host_inputs])
