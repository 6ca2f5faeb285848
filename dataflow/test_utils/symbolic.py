"""Checking symbols: forward and backward against expected values, gradients against finite differences, and the
same symbol across contexts and dtypes (`check_consistency`).

`check_numeric_gradient(sym, location)` binds `sym`, draws a random projection `w` for its output(s) (uniform on
[0.1, 1.1), so no element is too small to see), and compares the gradient of sum(w * output) from `backward()`
with central differences (f(x + eps/2) - f(x - eps/2)) / eps of the same sum, re-running forward with one input
element nudged at a time in the argument's dtype. Keep shapes small: the numeric side runs two forwards per
element.
"""
import time
import traceback

import numpy as np

from .. import ndarray as nd
from ..symbol import Symbol
from .compare import assert_almost_equal
from .tolerance import default_context, default_dtype, default_numeric_eps, get_tolerance, get_tols

_FLOAT_DTYPES = (np.float16, np.float32, np.float64)


def _check_dtype(dtype, allow_asnumpy=True):
    ok = (allow_asnumpy and isinstance(dtype, str) and dtype == "asnumpy") or \
        (not isinstance(dtype, str) and np.dtype(dtype) in map(np.dtype, _FLOAT_DTYPES))
    assert ok, "dtype must be %snp.float16, np.float32 or np.float64, got %r" % (
        '"asnumpy", ' if allow_asnumpy else "", dtype)


def _to_array(value, ctx, dtype):
    """A numpy value as an NDArray of `dtype` (its own dtype for "asnumpy"); NDArrays pass through."""
    if isinstance(value, np.ndarray):
        return nd.array(value, ctx=ctx, dtype=value.dtype if isinstance(dtype, str) else dtype)
    return value


def _parse_location(sym, location, ctx, dtype=default_dtype()):
    """The argument values as {name: NDArray}, sorted by name, from a list in `list_arguments()` order or a dict
    naming every argument."""
    assert isinstance(location, (dict, list, tuple))
    _check_dtype(dtype)
    if isinstance(location, dict):
        if set(location) != set(sym.list_arguments()):
            raise ValueError("Symbol arguments and keys of the given location do not match. symbol args:%s, "
                             "location.keys():%s" % (set(sym.list_arguments()), set(location)))
    else:
        location = dict(zip(sym.list_arguments(), location))
    return {k: _to_array(location[k], ctx, dtype) for k in sorted(location)}


def _parse_aux_states(sym, aux_states, ctx, dtype=default_dtype()):
    """The auxiliary states as {name: NDArray} from a list in `list_auxiliary_states()` order or a complete dict;
    None stays None."""
    _check_dtype(dtype)
    if aux_states is None:
        return None
    names = sym.list_auxiliary_states()
    if isinstance(aux_states, dict):
        if set(aux_states) != set(names):
            raise ValueError("Symbol aux_states names and given aux_states do not match. symbol aux_names:%s, "
                             "aux_states.keys:%s" % (set(names), set(aux_states)))
    else:
        aux_states = dict(zip(names, aux_states))
    return {k: nd.array(v, ctx=ctx, dtype=np.asarray(v).dtype if isinstance(dtype, str) else dtype)
            for k, v in aux_states.items()}


def simple_forward(sym, ctx=None, is_train=False, **inputs):
    """Run `sym` forward on numpy inputs given by name; the output as numpy (a list for several outputs)."""
    ctx = ctx or default_context()
    executor = sym.bind(ctx, args={k: nd.array(v) for k, v in inputs.items()})
    executor.forward(is_train=is_train)
    outputs = [x.asnumpy() for x in executor.outputs]
    return outputs[0] if len(outputs) == 1 else outputs


# -- finite differences ----------------------------------------------------------------------------------------------

def _central_differences(executor, location, aux_states, eps, use_forward_train, dtype, objective):
    """d objective(outputs) / d location[k] for each float argument k, by central differences with step eps."""
    def restore_aux():
        for key, value in (aux_states or {}).items():
            executor.aux_dict[key][:] = value

    grads = {}
    for name, value in location.items():
        _assign(executor.arg_dict[name], np.asarray(value, dtype=dtype))
    for name, value in location.items():
        value = np.array(value, dtype=dtype, order="C")
        grads[name] = grad = np.zeros(value.shape, dtype=np.float64)
        if value.dtype.kind != "f":
            continue
        flat, original = value.reshape(-1), value.copy().reshape(-1)
        for i in range(flat.size):
            sides = []
            for step in (eps / 2.0, -eps / 2.0):
                flat[i] = original[i] + step
                _assign(executor.arg_dict[name], value)
                restore_aux()
                sides.append(objective(executor.forward(is_train=use_forward_train)))
            grad.reshape(-1)[i] = (sides[0] - sides[1]) / eps
            flat[i] = original[i]
        _assign(executor.arg_dict[name], original.reshape(value.shape))
    return grads


def _assign(target, value):
    """target[:] = value (numpy); a sparse target takes the value in its own storage type."""
    if target.stype == "default":
        target[:] = value
    else:
        nd.array(value, ctx=target.context, dtype=target.dtype).copyto(target)


def _sparse_zeros_where(stypes, arrays):
    """`arrays` ({name: NDArray}) with zero sparse arrays where `stypes` names a sparse storage type (MXNet's
    gradient arrays for `grad_stype_dict` / `grad_stypes`)."""
    for name, stype in (stypes or {}).items():
        if name in arrays and stype not in (None, "default"):
            array = arrays[name]
            arrays[name] = nd.sparse.zeros(stype, array.shape, ctx=array.context, dtype=array.dtype)
    return arrays


def numeric_grad(executor, location, aux_states=None, eps=1e-4, use_forward_train=True, dtype=default_dtype()):
    """Central-difference gradient of sum(executor.outputs[0]) with respect to each array of `location`
    ({name: numpy array}); `aux_states` ({name: numpy array}) are restored before every forward. Returns
    {name: gradient in `dtype`}."""
    _check_dtype(dtype, allow_asnumpy=False)

    def objective(outputs):
        return float(np.sum(outputs[0].asnumpy(), dtype=np.float64))
    grads = _central_differences(executor, location, aux_states, eps, use_forward_train, dtype, objective)
    return {k: g.astype(dtype) for k, g in grads.items()}


def _grad_requests(sym, grad_nodes):
    if grad_nodes is None:
        return {k: "write" for k in sym.list_arguments()}
    if isinstance(grad_nodes, (list, tuple)):
        return {k: "write" for k in grad_nodes}
    if isinstance(grad_nodes, dict):
        return dict(grad_nodes)
    raise ValueError("grad_nodes must be None, a list of argument names or a dict name -> grad_req, got %r"
                     % (grad_nodes,))


def _compare_gradient(name, req, expected, computed, initial, rtol, atol, labels, equal_nan=False):
    """Compare one argument's gradient by its grad_req: 'write' as is, 'add' less the initial value, 'null'
    untouched."""
    computed = computed.asnumpy() if hasattr(computed, "asnumpy") else computed
    if req == "write":
        assert_almost_equal(expected, computed, rtol, atol, labels, equal_nan=equal_nan)
    elif req == "add":
        assert_almost_equal(expected, computed - initial, rtol, atol, labels, equal_nan=equal_nan)
    elif req == "null":
        assert_almost_equal(initial, computed, rtol, atol, labels, equal_nan=equal_nan)
    else:
        raise ValueError("Invalid grad_req %s for argument %s" % (req, name))


def check_numeric_gradient(sym, location, aux_states=None, numeric_eps=None, rtol=None, atol=None, grad_nodes=None,
                           use_forward_train=True, ctx=None, grad_stype_dict=None, dtype=default_dtype()):
    """Assert that `sym`'s gradients at `location` match central differences (see the module docstring).

    `location`/`aux_states`: numpy arrays, a list in argument order or a dict naming every one. `numeric_eps`:
    the step (default per dtype: 2^-6, 2^-9, 2^-14 for float16/32/64; at least 1e-5 below float64).
    `grad_nodes`: the arguments to check (a list, or a dict name -> 'write'/'add'/'null'). `dtype`: of every
    array. Raises AssertionError naming NUMERICAL_<arg> and BACKWARD_<arg> on a mismatch."""
    _check_dtype(dtype, allow_asnumpy=False)
    ctx = ctx or default_context()
    location = _parse_location(sym, location, ctx, dtype)
    location_npy = {k: v.asnumpy() for k, v in location.items()}
    aux_states = _parse_aux_states(sym, aux_states, ctx, dtype)
    aux_npy = None if aux_states is None else {k: v.asnumpy() for k, v in aux_states.items()}
    grad_req = _grad_requests(sym, grad_nodes)

    _, out_shapes, _ = sym.infer_shape(**{k: v.shape for k, v in location.items()})
    projections = [np.random.rand(*shape) + 0.1 for shape in out_shapes]
    initial_grads = {k: np.random.normal(0, 0.01, size=location[k].shape) for k in grad_req}
    args_grad = _sparse_zeros_where(grad_stype_dict, {k: nd.array(v, ctx=ctx, dtype=dtype)
                                                      for k, v in initial_grads.items()})
    for name, grad in args_grad.items():
        if grad.stype != "default":     # starts at zero (MXNet's "uninitialized sparse ndarray")
            initial_grads[name] = np.zeros(grad.shape)
    executor = sym.bind(ctx, args=location, args_grad=args_grad, grad_req=grad_req, aux_states=aux_states)

    outputs = executor.forward(is_train=True)
    eps = get_tolerance(outputs[0], numeric_eps, default_numeric_eps())
    if np.dtype(dtype) != np.float64:
        assert eps >= 1e-5, "numeric_eps %g is too small for %s finite differences" % (eps, np.dtype(dtype))
    executor.backward([nd.array(w, ctx=ctx, dtype=o.dtype) for w, o in zip(projections, outputs)])
    symbolic = {k: executor.grad_dict[k].asnumpy() for k in grad_req}

    def objective(outs):
        return sum(float(np.sum(o.asnumpy().astype(np.float64) * w)) for o, w in zip(outs, projections))
    numeric = _central_differences(executor, location_npy, aux_npy, eps, use_forward_train, dtype, objective)
    for name, req in grad_req.items():
        _compare_gradient(name, req, numeric[name].astype(dtype), symbolic[name], initial_grads[name], rtol, atol,
                          ("NUMERICAL_%s" % name, "BACKWARD_%s" % name))


# -- forward and backward against expected values --------------------------------------------------------------------

def check_symbolic_forward(sym, location, expected, rtol=None, atol=None, aux_states=None, ctx=None, equal_nan=False,
                           dtype=default_dtype()):
    """Assert that `sym`'s forward outputs (is_train=False) at `location` match `expected` (a list in output
    order, or a dict by output name); the message names EXPECTED_<out> and FORWARD_<out>. Returns the outputs."""
    ctx = ctx or default_context()
    location = _parse_location(sym, location, ctx, dtype)
    aux_states = _parse_aux_states(sym, aux_states, ctx, dtype)
    if isinstance(expected, dict):
        expected = [expected[k] for k in sym.list_outputs()]
    args_grad = {k: nd.zeros(v.shape, ctx=ctx, dtype=v.dtype) for k, v in location.items()}
    executor = sym.bind(ctx, args=location, args_grad=args_grad, aux_states=aux_states)
    outputs = executor.forward(is_train=False)
    for name, expect, output in zip(sym.list_outputs(), expected, outputs):
        assert_almost_equal(expect, output, rtol, atol, ("EXPECTED_%s" % name, "FORWARD_%s" % name),
                            equal_nan=equal_nan)
    return outputs


def check_symbolic_backward(sym, location, out_grads, expected, rtol=None, atol=None, aux_states=None,
                            grad_req="write", ctx=None, grad_stypes=None, equal_nan=False, dtype=default_dtype()):
    """Assert that `sym`'s gradients after forward(is_train=True) and backward(`out_grads`) match `expected`
    (a list in argument order, or a dict by name; only the named arguments are checked).

    The gradient arrays start with random values, so 'add' is checked as (result - start) and 'null' as
    untouched. Returns the gradient arrays {name: NDArray}."""
    ctx = ctx or default_context()
    location = _parse_location(sym, location, ctx, dtype)
    aux_states = _parse_aux_states(sym, aux_states, ctx, dtype)
    if isinstance(expected, (list, tuple)):
        expected = dict(zip(sym.list_arguments(), expected))
    initial = {k: np.random.normal(size=np.shape(expected[k])) for k in sorted(expected)}
    args_grad = {k: nd.array(v, ctx=ctx, dtype=np.asarray(expected[k]).dtype if isinstance(dtype, str) else dtype)
                 for k, v in initial.items()}
    args_grad = _sparse_zeros_where(grad_stypes, args_grad)
    for name, grad in args_grad.items():
        if grad.stype != "default":     # a sparse gradient array starts empty (MXNet's create_sparse_array)
            initial[name] = np.zeros(grad.shape)
    if isinstance(grad_req, str):
        grad_req = {k: grad_req for k in sym.list_arguments()}
    elif isinstance(grad_req, (list, tuple)):
        grad_req = dict(zip(sym.list_arguments(), grad_req))
    executor = sym.bind(ctx, args=location, args_grad=args_grad, aux_states=aux_states, grad_req=grad_req)
    executor.forward(is_train=True)
    executor.backward(_out_grad_arrays(out_grads, ctx, dtype, sym.list_outputs()))
    for name in expected:
        _compare_gradient(name, grad_req[name], expected[name], args_grad[name], initial[name], rtol, atol,
                          ("EXPECTED_%s" % name, "BACKWARD_%s" % name), equal_nan)
    return args_grad


def _out_grad_arrays(out_grads, ctx, dtype, output_names):
    if out_grads is None:
        return None
    if isinstance(out_grads, dict):
        out_grads = [out_grads[k] for k in output_names]
    return [_to_array(g, ctx, dtype) for g in out_grads]


def check_speed(sym, location=None, ctx=None, N=20, grad_req=None, typ="whole", **kwargs):  # noqa: N803
    """Seconds per forward+backward (`typ="whole"`) or per forward (`typ="forward"`), averaged over `N` runs
    after a warm-up. Inputs: `location` {name: numpy}, or random normal values for shapes given as keywords."""
    ctx = ctx or default_context()
    grad_req = grad_req or "write"
    if location is None:
        executor = sym.simple_bind(ctx, grad_req=grad_req, **kwargs)
        location = {k: np.random.normal(size=a.shape, scale=1.0) for k, a in executor.arg_dict.items()}
    else:
        assert isinstance(location, dict), 'Expect dict, get "location"=%s' % str(location)
        executor = sym.simple_bind(ctx, grad_req=grad_req, **{k: v.shape for k, v in location.items()})
    for name, value in location.items():
        executor.arg_dict[name][:] = value.astype(executor.arg_dict[name].dtype)
    if typ not in ("whole", "forward"):
        raise ValueError('typ can only be "whole" or "forward".')

    def step():
        executor.forward(is_train=typ == "whole")
        if typ == "whole":
            executor.backward(out_grads=executor.outputs)
    step()
    nd.waitall()
    tic = time.time()
    for _ in range(N):
        step()
    nd.waitall()
    return (time.time() - tic) / N


# -- one symbol across contexts and dtypes ---------------------------------------------------------------------------

def _least_precise(dt1, dt2):
    return dt1 if dt2 is None or np.dtype(dt1).itemsize < np.dtype(dt2).itemsize else dt2


def check_consistency(sym, ctx_list, scale=1.0, grad_req="write", arg_params=None, aux_params=None, rtol=None,
                      atol=None, raise_on_err=True, ground_truth=None, equal_nan=False, use_uniform=False,
                      rand_type=np.float64):
    """Assert that `sym` (or one symbol per entry) gives the same outputs and gradients on every entry of
    `ctx_list`: dicts of simple_bind arguments, e.g. {'ctx': mx.cpu(0), 'data': (2, 3),
    'type_dict': {'data': np.float32}}.

    Inputs are random (normal with std `scale`, or uniform on +-0.92 scale) unless given in `arg_params`; aux
    states are 0 unless in `aux_params`. The reference is the entry whose first output has the widest dtype
    (or `ground_truth`); tolerances default by dtype. Returns the reference {name: array}."""
    assert len(ctx_list) > 1
    syms = [sym] * len(ctx_list) if isinstance(sym, Symbol) else list(sym)
    assert len(syms) == len(ctx_list)
    output_names, arg_names = syms[0].list_outputs(), syms[0].list_arguments()
    executors = []
    for s, spec in zip(syms, ctx_list):
        assert s.list_arguments() == arg_names and s.list_outputs() == output_names
        spec = dict(spec)
        executors.append(s.simple_bind(spec.pop("ctx", default_context()), grad_req=grad_req, **spec))

    arg_params = {} if arg_params is None else arg_params
    aux_params = {} if aux_params is None else aux_params
    for name, array in sorted(executors[0].arg_dict.items()):     # sorted: reproducible draws
        if name not in arg_params:
            arg_params[name] = (np.random.uniform(-0.92 * scale, 0.92 * scale, size=array.shape) if use_uniform
                                else np.random.normal(size=array.shape, scale=scale)).astype(rand_type)
    for name in executors[0].aux_dict:
        aux_params.setdefault(name, 0)
    for executor in executors:
        for name, array in executor.arg_dict.items():
            array[:] = arg_params[name]
        for name, array in executor.aux_dict.items():
            array[:] = aux_params[name]
        if grad_req == "add":
            for array in executor.grad_arrays:
                if array is not None:
                    array[:] = 0

    dtypes = [np.dtype(e.outputs[0].dtype) for e in executors]
    gt_index = int(np.argmax([d.itemsize for d in dtypes]))
    gt = ground_truth
    if gt is None:
        gt = dict(executors[gt_index].output_dict)
        if grad_req != "null":
            gt.update(executors[gt_index].grad_dict)

    def compare(array, reference, rt, at, what):
        try:
            assert_almost_equal(array, reference, rtol=rt, atol=at, equal_nan=equal_nan)
        except AssertionError as err:
            print(what)
            traceback.print_exc()
            if raise_on_err:
                raise err
            print(str(err))

    for executor in executors:
        executor.forward(is_train=False)
    for i, executor in enumerate(executors):
        if i != gt_index:
            for name, array in zip(output_names, executor.outputs):
                compare(array, gt[name], rtol, atol, "Predict Err: ctx %d vs ctx %d at %s" % (i, gt_index, name))

    if grad_req == "null":
        return gt
    for executor in executors:
        executor.forward(is_train=True)
    # every executor gets the first one's outputs, cast to the least precise dtype, as head gradients
    least = [o.dtype for o in executors[0].outputs]
    for executor in executors:
        least = [_least_precise(o.dtype, d) for o, d in zip(executor.outputs, least)]
    golden = [o.astype(d).asnumpy() for o, d in zip(executors[0].outputs, least)]
    for executor in executors:
        executor.backward([nd.array(g, ctx=o.context, dtype=o.dtype) for g, o in zip(golden, executor.outputs)])
    for i, executor in enumerate(executors):
        if i == gt_index:
            continue
        for name, array in zip(output_names + arg_names, executor.outputs + executor.grad_arrays):
            reference = gt[name]
            if reference is None:
                assert array is None
                continue
            rt, at = rtol, atol
            # a float32 gradient (BatchNorm's gamma) of a float16 model gets float16 tolerances
            arr_dtype, ref_dtype = _least_precise(array.dtype, dtypes[i]), _least_precise(reference.dtype,
                                                                                           dtypes[gt_index])
            if arr_dtype != array.dtype or ref_dtype != reference.dtype:
                rt, at = get_tols(array.astype(arr_dtype), reference.astype(ref_dtype), rtol, atol)
            compare(array, reference, rt, at, "Train Err: %s %s ctx %d vs %s %s ctx %d at %s" % (
                np.dtype(array.dtype).name, array.context, i, np.dtype(reference.dtype).name,
                getattr(reference, "context", None), gt_index, name))
    return gt
