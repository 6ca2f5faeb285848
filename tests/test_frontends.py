"""The generated front ends, driven by the spec table: `mx.nd.<op>` equals the numpy reference, and a Symbol bound
and run with `forward()` equals `mx.nd.<op>` (same graph path as every model, with its planned memory)."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dataflow as mx
from dataflow.ndarray.ndarray import _invoke
from dataflow.symbol.symbol import create
from ops import registry
from tests.op_specs import SPECS
from tests.test_op_kernels import check_close

# Ops whose front-end test cannot be generic, and why.
SKIP = {
    "_zeros": "no inputs: covered by mx.nd.zeros in tests/test_ndarray.py",
    "_ones": "no inputs: covered by mx.nd.ones in tests/test_ndarray.py",
    "_full": "no inputs: covered by mx.nd.full in tests/test_ndarray.py",
    "_contrib_boolean_mask": "its output shape depends on index's values, so no bound Symbol (as in MXNet's "
                             "executor): mx.nd's front end in tests/test_contrib_indexing_ops.py",
}
ROWS = [s for s in SPECS if s.name not in SKIP and "forward" not in s.skips]


def _case(data, spec):
    dtype = np.dtype(data.draw(st.sampled_from(spec.dtypes), label="dtype"))
    attrs, inputs = spec.sample(data.draw, dtype)
    opdef = registry.get(spec.name)
    want = spec.ref(opdef.parse_params(attrs), *inputs)
    return opdef, attrs, inputs, list(want) if isinstance(want, tuple) else [want]


@pytest.mark.parametrize("spec", ROWS, ids=[s.name for s in ROWS])
@settings(max_examples=10, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_ndarray_and_symbol_front_ends(spec, data):
    opdef, attrs, inputs, want = _case(data, spec)
    arrays = [mx.nd.array(x, dtype=x.dtype) for x in inputs]
    with np.errstate(all="ignore"):
        got = _invoke(opdef, spec.name, arrays, dict(attrs))
        got = got if isinstance(got, list) else [got]
        n_visible = opdef.visible_outputs(opdef.parse_params(attrs))
        for g, w in zip(got, want[:n_visible], strict=True):
            check_close(spec, g.asnumpy(), w)
        names = opdef.input_names(opdef.parse_params(attrs))
        sym = create(opdef, spec.name, [mx.sym.var(n) for n in names], dict(attrs))
        aux = set(opdef.aux_names(opdef.parse_params(attrs)))
        ex = sym.bind(mx.cpu(), {n: a for n, a in zip(names, arrays) if n not in aux}, grad_req="null",
                      aux_states={n: a for n, a in zip(names, arrays) if n in aux})
        # the bound graph may run compiled (scheduler/compile.py), whose libm/vmath math can differ from the
        # imperative kernel's numpy loops in the last bit: equal within the op's tolerance
        for o, g in zip(ex.forward(), got, strict=True):
            check_close(spec, o.asnumpy(), g.asnumpy())
