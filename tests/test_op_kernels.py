"""Generic op tests, each parametrized over the table in tests/op_specs.py, at the registry level.

(1) the CPU kernel matches the numpy reference; (2) the shape and dtype rules give what the reference produced,
and whatever they fill in from partial knowledge agrees with a real case; (3) req=add accumulates, req=null leaves
the output alone, and an allowed in-place run agrees; (4) error cases raise our errors naming the op and the
offending param or shapes; (5) every registered op has a row (or a reasoned exemption), with MXNet's aliases;
plus parsing MXNet's string attrs and golden shape cases checked on MXNet 1.9.1.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.op_specs import EXEMPT, SPECS
from ops import registry
from ops.errors import DTypeError, ParamError, ShapeError
from ops.registry import ADD, INPLACE, NULL, WRITE, OpContext


def _ids(specs):
    return [s.name for s in specs]


def _spec_params(test_name):
    """The table's rows as pytest params, rows that skip this test marked with their reason."""
    return [pytest.param(s, id=s.name, marks=[pytest.mark.skip(reason=s.skips[test_name])]
                         if test_name in s.skips else []) for s in SPECS]


def draw_case(data, spec):
    """(opdef, params, inputs, expected outputs) for one drawn dtype, attrs and inputs."""
    dtype = np.dtype(data.draw(st.sampled_from(spec.dtypes), label="dtype"))
    attrs, inputs = spec.sample(data.draw, dtype)
    opdef = registry.get(spec.name)
    p = opdef.parse_params(attrs)
    want = spec.ref(p, *inputs)
    return opdef, p, inputs, list(want) if isinstance(want, tuple) else [want]


def sentinel(dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return np.nan
    return True if dtype.kind == "b" else np.iinfo(dtype).max


def run(opdef, p, inputs, outputs, req):
    with np.errstate(all="ignore"):       # NaN from pow of a negative base is part of some cases
        opdef.cpu(OpContext(), p, inputs, outputs, req)


def check_close(spec, got, want):
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    tol = spec.tolerance(want.dtype)
    if tol is None:
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=tol[0], atol=tol[1],
                                   equal_nan=True)


# ---- (1) forward ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("spec", _spec_params("forward"))
@given(data=st.data())
def test_forward_matches_reference(spec, data):
    opdef, p, inputs, want = draw_case(data, spec)
    outs = [np.full(w.shape, sentinel(w.dtype), w.dtype) for w in want]
    before = [x.copy() for x in inputs]
    run(opdef, p, inputs, outs, [WRITE] * len(outs))
    for got, w in zip(outs, want, strict=True):
        check_close(spec, got, w)
    written = opdef.written_inputs(p)       # declared writes (aux states, BatchNorm's fixed gamma) may change
    for i, (x, b) in enumerate(zip(inputs, before, strict=True)):
        if i not in written:
            np.testing.assert_array_equal(x, b, err_msg="the kernel changed input %d, which it does not declare "
                                                        "written" % i)


# ---- (2) shape and dtype rules ------------------------------------------------------------------------------------
@pytest.mark.parametrize("spec", _spec_params("rules"))
@given(data=st.data())
def test_rules_match_reference(spec, data):
    opdef, p, inputs, want = draw_case(data, spec)
    n_out = opdef.num_outputs(p)
    assert len(opdef.input_names(p)) == len(inputs)
    shapes = [x.shape for x in inputs]
    ins, outs = opdef.infer_shape(p, list(shapes), [None] * n_out)
    assert [tuple(s) for s in outs] == [w.shape for w in want]
    assert [tuple(s) for s in ins] == shapes, "the rule changed known input shapes"
    in_types, out_types = opdef.infer_type(p, [x.dtype for x in inputs], [None] * n_out)
    assert [np.dtype(t) for t in out_types] == [w.dtype for w in want]
    # Partial knowledge: hide one input (or all of them, given the outputs); what the rule fills in must agree.
    real = shapes + [w.shape for w in want]
    alt = set(spec.alt_shapes)
    for hide in range(len(inputs)):
        part = [None if i == hide else s for i, s in enumerate(shapes)]
        ins, outs = opdef.infer_shape(p, part, [None] * n_out)
        for k, got in enumerate(list(ins) + list(outs)):
            assert got is None or _agrees(got, real[k], k in alt), (hide, k, got, real[k])
    ins, outs = opdef.infer_shape(p, [None] * len(inputs), [w.shape for w in want])
    for k, got in enumerate(ins):
        assert got is None or _agrees(got, real[k], k in alt), (k, got, real[k])


def _agrees(got, real, alt=False):
    """A partly inferred shape (0 = unknown dim) is consistent with the real one (alt: any of its size)."""
    if alt and all(got) and len(got) != len(real):
        return np.prod(got) == np.prod(real)
    return len(got) == len(real) and all(g in (0, r) for g, r in zip(got, real))


@pytest.mark.parametrize("spec", [s for s in SPECS if s.shapes], ids=_ids([s for s in SPECS if s.shapes]))
def test_golden_shapes(spec):
    opdef = registry.get(spec.name)
    for case in spec.shapes:
        p = opdef.parse_params(case.attrs)
        n_out = opdef.num_outputs(p)
        outs = list(case.outs) + [None] * (n_out - len(case.outs)) if case.outs is not None else [None] * n_out
        ins, outs = opdef.infer_shape(p, list(case.ins), outs)
        # golden cases give the visible outputs (MXNet's list_outputs); hidden ones are the op's own business
        assert [None if s is None else tuple(s) for s in outs[:len(case.want_outs)]] == list(case.want_outs), case
        want_ins = case.want_ins if case.want_ins is not None else case.ins
        assert [None if s is None else tuple(s) for s in ins] == list(want_ins), case


# ---- (3) req -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("spec", _spec_params("req"))
@given(data=st.data())
def test_req_add_null_inplace(spec, data):
    opdef, p, inputs, want = draw_case(data, spec)
    rng = np.random.default_rng(0)
    # add: out = old + value (integers wrap in their dtype)
    old = [(rng.uniform(-5, 5, w.shape) if w.dtype.kind == "f" else rng.integers(0, 2, w.shape)).astype(w.dtype)
           for w in want]
    outs = [o.copy() for o in old]
    run(opdef, p, inputs, outs, [ADD] * len(outs))
    for got, o, w in zip(outs, old, want, strict=True):
        check_close(spec, got, (o + w).astype(w.dtype))
    # null: untouched
    outs = [np.full(w.shape, sentinel(w.dtype), w.dtype) for w in want]
    run(opdef, p, inputs, outs, [NULL] * len(outs))
    for got, w in zip(outs, want, strict=True):
        np.testing.assert_array_equal(got, np.full(w.shape, sentinel(w.dtype), w.dtype))
    # in place: the output takes an input's buffer where the op allows it and size and dtype match
    for i, o in opdef.inplace:
        x = inputs[i]
        if x.size != want[o].size or x.dtype != want[o].dtype:
            continue
        ins = [a.copy() for a in inputs]
        outs = [np.empty(w.shape, w.dtype) for w in want]
        outs[o] = ins[i].reshape(want[o].shape)
        reqs = [WRITE] * len(outs)
        reqs[o] = INPLACE
        run(opdef, p, ins, outs, reqs)
        check_close(spec, outs[o], want[o])


# ---- (4) errors --------------------------------------------------------------------------------------------------
_ERRORS = [pytest.param(s, e, id="%s-%d" % (s.name, k)) for s in SPECS for k, e in enumerate(s.errors)]


@pytest.mark.parametrize("spec,err", _ERRORS)
def test_error_cases(spec, err):
    opdef = registry.get(spec.name)
    with pytest.raises(err.exc, match=err.match) as info:
        p = opdef.parse_params(err.attrs)
        n_out = opdef.num_outputs(p)
        if err.dtypes is not None:
            opdef.infer_type(p, [None if t is None else np.dtype(t) for t in err.dtypes], [None] * n_out)
        else:
            opdef.infer_shape(p, list(err.shapes), [None] * n_out)
    assert spec.name in str(info.value)


@pytest.mark.parametrize("opdef", registry.all_ops(), ids=lambda o: o.name)
def test_unknown_and_missing_params(opdef):
    if not opdef.params:    # MXNet 1.9.1 keeps any attribute of an op without params (tests/test_mxnet_errors.py)
        assert opdef.parse_params({"no_such_param": "1"}).as_dict() == {}
        return
    with pytest.raises(ParamError, match=r"%s.*'no_such_param'" % opdef.name):
        opdef.parse_params({"no_such_param": "1"})
    for name, field in opdef.params.items():
        if field.required:
            with pytest.raises(ParamError, match=r"%s.*'%s'.*missing" % (opdef.name, name)):
                opdef.parse_params({})


# ---- (5) coverage, names, string attrs ---------------------------------------------------------------------------
def test_every_op_has_a_spec():
    names = [s.name for s in SPECS]
    assert len(names) == len(set(names)), "duplicate rows"
    registered = {o.name for o in registry.all_ops()}
    missing = registered - set(names) - set(EXEMPT)
    assert not missing, "ops without a spec row or an exemption: %s" % sorted(missing)
    assert not set(names) - registered, "rows for unregistered ops"
    assert all(reason.strip() for reason in EXEMPT.values())
    for s in SPECS:
        assert all(reason.strip() for reason in s.skips.values()), s.name


@pytest.mark.parametrize("spec", SPECS, ids=_ids(SPECS))
def test_aliases(spec):
    opdef = registry.get(spec.name)
    assert opdef.name == spec.name
    assert sorted(opdef.aliases) == sorted(spec.aliases)
    for alias in spec.aliases:
        assert registry.get(alias) is opdef


_ATTRS = [pytest.param(s, a, id="%s-%d" % (s.name, k)) for s in SPECS for k, a in enumerate(s.attrs)]


@pytest.mark.parametrize("spec,case", _ATTRS)
def test_parse_mxnet_string_attrs(spec, case):
    strings, expected = case
    p = registry.get(spec.name).parse_params(strings)
    for key, value in expected.items():
        assert getattr(p, key) == value and type(getattr(p, key)) is type(value), (key, getattr(p, key), value)


def test_errors_are_the_project_family():
    assert issubclass(ShapeError, ValueError) and issubclass(ParamError, ValueError)
    assert issubclass(DTypeError, TypeError)
