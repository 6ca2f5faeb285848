"""Op spec rows for ops/update.py (the optimizer update ops); see tests/op_specs.py. References:
tests/reference_update.py. Import tests.op_specs, never this module first.

The ops with state inputs (momentum, moments...) update those in place, which the generic forward and req tests
forbid ("the kernel changed an input"); their rows skip those two tests, and tests/test_optimizers_more.py runs
every op's kernel against the reference, states included, under each req, plus MXNet 1.9.1's outputs recorded in
tests/fixtures/mxnet-1.9.1/optimizer/update_ops.npz. Golden shapes are ours (MXNet's rule: every input has the
weight's shape; lamb_update_phase2's norms are (1,)).
"""
import numpy as np
from hypothesis import strategies as st

from ops.errors import DTypeError, ParamError
from tests import reference_update as R
from tests.op_specs import SHAPES, Err, OpSpec, Shp, array

FLOATS = ("float32", "float64", "float16")
MIXED = ("float16", "float32")          # the weight's dtype of the mp_* ops; their states are float32
_TOL = {"float32": (1e-5, 1e-5), "float16": (4e-3, 4e-3), "float64": (1e-10, 1e-10)}
# The multi AdamW kernels group var as MXNet's fused kernel does, b2 * (var - g^2) + g^2, which cancels in float32
# when var << g^2: var's relative error grows to about eps32 / (1 - b2) = 6e-5, the step's to half that.
_MULTI_ADAMW_TOL = dict(_TOL, float32=(1e-4, 1e-5))
STATEFUL = {"forward": "updates its state inputs in place; kernel vs reference with states and every req in "
                       "tests/test_optimizers_more.py", "req": "see forward"}

# One draw of each hyper-parameter family
_SGD = {"lr": st.sampled_from([0.1, 0.5, 0.01]), "wd": st.sampled_from([0.0, 0.01, 0.1]),
        "rescale_grad": st.sampled_from([1.0, 0.5]), "clip_gradient": st.sampled_from([-1.0, 0.3, 2.0])}
_MOM = {"momentum": st.sampled_from([0.0, 0.5, 0.9])}
_PARAMS = {
    "sgd_update": _SGD, "sgd_mom_update": {**_SGD, **_MOM}, "mp_sgd_update": _SGD,
    "mp_sgd_mom_update": {**_SGD, **_MOM}, "nag_mom_update": {**_SGD, **_MOM},
    "mp_nag_mom_update": {**_SGD, **_MOM}, "signsgd_update": _SGD,
    "signum_update": {**_SGD, **_MOM, "wd_lh": st.sampled_from([0.0, 0.05])},
    "adam_update": {**_SGD, "beta1": st.sampled_from([0.9, 0.5]), "beta2": st.sampled_from([0.999, 0.9]),
                    "epsilon": st.sampled_from([1e-8, 1e-3])},
    "rmsprop_update": {**_SGD, "gamma1": st.sampled_from([0.95, 0.5]), "epsilon": st.sampled_from([1e-8, 1e-3]),
                       "clip_weights": st.sampled_from([-1.0, 1.0])},
    "rmspropalex_update": {**_SGD, "gamma1": st.sampled_from([0.95, 0.5]), "gamma2": st.sampled_from([0.9, 0.5]),
                           "clip_weights": st.sampled_from([-1.0, 1.0])},
    "ftml_update": {"lr": st.sampled_from([0.1, 0.01]), "wd": st.sampled_from([0.0, 0.01]),
                    "rescale_grad": st.sampled_from([1.0, 0.5]), "clip_grad": st.sampled_from([-1.0, 0.3]),
                    "beta1": st.sampled_from([0.6, 0.9]), "t": st.integers(1, 5)},
    "ftrl_update": {**_SGD, "lamda1": st.sampled_from([0.01, 0.5]), "beta": st.sampled_from([1.0, 0.5])},
    "_sparse_adagrad_update": {k: v for k, v in _SGD.items() if k != "wd"},        # wd != 0: refused, as MXNet
    "lamb_update_phase1": {"wd": st.sampled_from([0.0, 0.01]), "rescale_grad": st.sampled_from([1.0, 0.5]),
                           "clip_gradient": st.sampled_from([-1.0, 0.3]), "t": st.integers(1, 5),
                           "bias_correction": st.booleans(), "beta1": st.sampled_from([0.9, 0.5])},
    "lamb_update_phase2": {"lr": st.sampled_from([0.1, 0.01]), "lower_bound": st.sampled_from([-1.0, 0.5, 5.0]),
                           "upper_bound": st.sampled_from([-1.0, 1.0, 10.0])},
}
_PARAMS["_adamw_update"] = {**{k: v for k, v in _SGD.items() if k != "rescale_grad"},     # an input here
                            "eta": st.sampled_from([1.0, 0.5]), "beta1": st.sampled_from([0.9, 0.5]),
                            "beta2": st.sampled_from([0.999, 0.9]), "epsilon": st.sampled_from([1e-8, 1e-3])}
_PARAMS["_mp_adamw_update"] = _PARAMS["_adamw_update"]
_PARAMS["mp_lamb_update_phase1"] = _PARAMS["lamb_update_phase1"]
_PARAMS["mp_lamb_update_phase2"] = _PARAMS["lamb_update_phase2"]

# state inputs: (name, domain): "any" in [-1, 1], "pos" in [0, 1]
_STATES = {
    "sgd_update": (), "sgd_mom_update": ("any",), "mp_sgd_update": ("master",), "mp_sgd_mom_update": ("any", "master"),
    "nag_mom_update": ("any",), "mp_nag_mom_update": ("any", "master"), "signsgd_update": (),
    "signum_update": ("any",), "adam_update": ("any", "pos"), "rmsprop_update": ("pos",),
    "rmspropalex_update": ("pos", "any", "any"), "ftml_update": ("pos", "pos", "any"), "ftrl_update": ("any", "pos"),
    "_sparse_adagrad_update": ("pos",),
    "lamb_update_phase1": ("any", "pos"), "mp_lamb_update_phase1": ("any", "pos", "master"),
    "lamb_update_phase2": ("norm", "norm"), "mp_lamb_update_phase2": ("norm", "norm", "master"),
    "_adamw_update": ("any", "pos", "scale"), "_mp_adamw_update": ("any", "pos", "master", "scale"),
}
# adamw's rescale_grad (a float32 (1,) array): NaN, Inf and 0 skip the update
_SCALES = st.sampled_from([1.0, 0.5, 2.0, 1.0, 0.0, float("inf"), float("nan")])


def sample_update(name):
    def sample(draw, dtype):
        attrs = draw(st.fixed_dictionaries(_PARAMS[name]))
        shape = draw(SHAPES)
        mixed = name.lstrip("_").startswith("mp_")
        weight = array(draw, dtype, shape, "unit")
        grad = array(draw, dtype, shape, "unit")
        states = []
        for kind in _STATES[name]:
            state_dtype = np.float32 if mixed else dtype
            if kind == "master":
                states.append(weight.astype(np.float32))
            elif kind == "scale":
                states.append(np.array([draw(_SCALES)], np.float32))
            elif kind == "norm":
                states.append(np.array([draw(st.sampled_from([0.0, 0.5, 2.0]))], state_dtype))
            else:
                lo = 0.0 if kind == "pos" else -1.0
                states.append(np.array(draw(st.lists(st.floats(lo, 1.0, width=16), min_size=weight.size,
                                                     max_size=weight.size)), state_dtype).reshape(shape))
        if name == "rmspropalex_update":        # n >= gbar^2 (+ a margin), or its square root is NaN
            states[0] = (states[0] + states[1].astype(np.float64) ** 2 + 0.5).astype(states[0].dtype)
        if name.endswith("lamb_update_phase2"):     # g, then the norms, then (mp) the master copy
            return attrs, [weight, grad.astype(np.float32) if mixed else grad] + states
        return attrs, [weight, grad] + states
    return sample


def _ref(name, out_dtype=None):
    fn = getattr(R, name)

    def ref(p, *ins):
        out, _ = fn(R.mxnet_params(name, p), *ins)
        with np.errstate(over="ignore"):       # float16 overflows where the float64 result is large
            return out.astype(out_dtype or ins[0].dtype)
    return ref


def multi_sgd_sample(draw, dtype):
    n = draw(st.integers(1, 3))
    ins = []
    for _ in range(n):
        shape = draw(SHAPES)
        ins += [array(draw, dtype, shape, "unit"), array(draw, dtype, shape, "unit")]
    attrs = {"num_weights": n, "lrs": tuple(draw(st.sampled_from([0.1, 0.5])) for _ in range(n)),
             "wds": tuple(draw(st.sampled_from([0.0, 0.1])) for _ in range(n)),
             "rescale_grad": draw(st.sampled_from([1.0, 0.5])), "clip_gradient": draw(st.sampled_from([-1.0, 0.3]))}
    return attrs, ins


def _multi_ref(p, *ins):
    outs, _ = R.multi_sgd_update(R.mxnet_params("multi_sgd_update", p), *ins)
    return tuple(o.astype(ins[0].dtype) for o in outs)


def multi_adamw_sample(mixed):
    """1 to 3 weights of drawn shapes: (weight, grad, mean, var[, weight32]) each, then rescale_grad."""
    def sample(draw, dtype):
        n = draw(st.integers(1, 3))
        state_dtype = np.float32 if mixed else dtype
        ins = []
        for _ in range(n):
            shape = draw(SHAPES)
            weight = array(draw, dtype, shape, "unit")
            ins += [weight, array(draw, dtype, shape, "unit"), array(draw, state_dtype, shape, "unit"),
                    np.abs(array(draw, state_dtype, shape, "unit"))]
            if mixed:
                ins.append(weight.astype(np.float32))
        ins.append(np.array([draw(_SCALES)], np.float32))
        attrs = {"num_weights": n, "lrs": tuple(draw(st.sampled_from([0.01, 0.1])) for _ in range(n)),
                 "wds": tuple(draw(st.sampled_from([0.0, 0.1])) for _ in range(n)),
                 "etas": tuple(draw(st.sampled_from([1.0, 0.5])) for _ in range(n)),
                 "beta1": draw(st.sampled_from([0.9, 0.5])), "clip_gradient": draw(st.sampled_from([-1.0, 0.3]))}
        return attrs, ins
    return sample


def _multi_adamw_ref(name):
    def ref(p, *ins):
        outs, _ = getattr(R, name)(R.mxnet_params(name, p), *ins)
        with np.errstate(over="ignore"):
            return tuple(o.astype(ins[0].dtype) for o in outs)
    return ref


# the multi AdamW ops write interleaved arguments (their states): kernel vs reference with states and every req in
# tests/test_adamw.py (tests/test_optimizers_more.py's state test expects the states as aux inputs)
MULTI_STATEFUL = {"forward": "updates its state arguments in place; kernel vs reference with states and every req "
                             "in tests/test_adamw.py", "req": "see forward"}


def _row(name, dtypes=FLOATS, out_dtype=None, stateful=True, **kwargs):
    return OpSpec(name, _ref(name, out_dtype), sample_update(name), dtypes=dtypes, tol=_TOL,
                  skips=STATEFUL if stateful else {}, **kwargs)


_INT_WEIGHTS = Err({"lr": 0.1}, dtypes=("int32", "int32"), exc=DTypeError, match="floating point")

SPECS = [
    _row("sgd_update", stateful=False, errors=(_INT_WEIGHTS,),
         attrs=(({"lr": "0.1", "wd": "0.01", "lazy_update": "False", "clip_gradient": "-1"},
                 {"lr": 0.1, "wd": 0.01, "lazy_update": False, "clip_gradient": -1.0}),),
         shapes=(Shp({"lr": 0.1}, ((2, 3), None), ((2, 3),), want_ins=((2, 3), (2, 3))),)),
    _row("sgd_mom_update", shapes=(Shp({"lr": 0.1}, (None, None, (4,)), ((4,),), want_ins=((4,), (4,), (4,))),),
         errors=(Err({"lr": 0.1}, dtypes=("int32", "int32", "int32"), exc=DTypeError, match="floating point"),)),
    _row("mp_sgd_update", dtypes=MIXED),
    _row("mp_sgd_mom_update", dtypes=MIXED),
    _row("nag_mom_update"),
    _row("mp_nag_mom_update", dtypes=MIXED),
    # signs of nearly cancelling sums flip with rounding: compared in float64 only
    _row("signsgd_update", dtypes=("float64",), stateful=False),
    _row("signum_update", dtypes=("float64",)),
    _row("adam_update", attrs=(({"lr": "0.01", "beta1": "0.8", "epsilon": "1e-06"},
                                {"lr": 0.01, "beta1": 0.8, "epsilon": 1e-6}),)),
    _row("rmsprop_update"),
    _row("rmspropalex_update"),
    _row("ftml_update", attrs=(({"lr": "0.1", "t": "3", "clip_grad": "0.5"}, {"lr": 0.1, "t": 3, "clip_grad": 0.5}),)),
    _row("ftrl_update"),
    _row("_sparse_adagrad_update", errors=(Err({"lr": 0.1, "wd": 0.1}, exc=ParamError, match="wd = 0.1"),),
         attrs=(({"lr": "0.1", "epsilon": "0.001"}, {"lr": 0.1, "epsilon": 0.001}),)),
    _row("lamb_update_phase1", attrs=(({"wd": "0.01", "t": "2", "bias_correction": "0"},
                                       {"wd": 0.01, "t": 2, "bias_correction": False}),)),
    _row("mp_lamb_update_phase1", dtypes=MIXED, out_dtype=np.float32),
    _row("lamb_update_phase2", stateful=False,
         shapes=(Shp({"lr": 0.1}, ((2, 3), None, None, None), ((2, 3),), want_ins=((2, 3), (2, 3), (1,), (1,))),)),
    _row("mp_lamb_update_phase2", dtypes=MIXED),
    # rescale_grad: any shape, (1,) when unknown (MXNet leaves it unknown; its wrapper makes a (1,) array)
    _row("_adamw_update", attrs=(({"lr": "0.01", "eta": "0.5", "wd": "0.01", "clip_gradient": "1"},
                                  {"lr": 0.01, "eta": 0.5, "wd": 0.01, "clip_gradient": 1.0}),),
         shapes=(Shp({"lr": 0.1, "eta": 1.0}, ((2, 3), None, None, None, None), ((2, 3),),
                     want_ins=((2, 3),) * 4 + ((1,),)),
                 Shp({"lr": 0.1, "eta": 1.0}, (None, (4,), None, None, (2,)), ((4,),),
                     want_ins=((4,),) * 4 + ((2,),)))),
    _row("_mp_adamw_update", dtypes=MIXED),
    OpSpec("_multi_adamw_update", _multi_adamw_ref("_multi_adamw_update"), multi_adamw_sample(False), dtypes=FLOATS,
           tol=_MULTI_ADAMW_TOL, skips=MULTI_STATEFUL,
           attrs=(({"lrs": "(0.1, 0.2)", "wds": "[0.0, 0.01]", "etas": "(1, 0.5)", "num_weights": "2"},
                   {"lrs": (0.1, 0.2), "wds": (0.0, 0.01), "etas": (1.0, 0.5), "num_weights": 2}),),
           errors=(Err({"lrs": (0.1, 0.2), "wds": (0.0,), "etas": (1.0,)}, shapes=((3,),) * 5, exc=ParamError,
                       match="lrs has 2 values, expected num_weights = 1"),),
           shapes=(Shp({"lrs": (0.1, 0.1), "wds": (0.0, 0.0), "etas": (1.0, 1.0), "num_weights": 2},
                       ((3,), None, None, None, None, None, (2, 2), None, None), ((3,), (2, 2)),
                       want_ins=((3,),) * 4 + ((2, 2),) * 4 + ((1,),)),)),
    OpSpec("_multi_mp_adamw_update", _multi_adamw_ref("_multi_mp_adamw_update"), multi_adamw_sample(True),
           dtypes=MIXED, tol=_MULTI_ADAMW_TOL, skips=MULTI_STATEFUL),
    OpSpec("multi_sgd_update", _multi_ref, multi_sgd_sample, dtypes=FLOATS, tol=_TOL,
           attrs=(({"lrs": "(0.1, 0.2)", "wds": "[0.0, 0.01]", "num_weights": "2"},
                   {"lrs": (0.1, 0.2), "wds": (0.0, 0.01), "num_weights": 2}),),
           errors=(Err({"lrs": "(0.1", "wds": "(0.1,)"}, exc=ParamError, match="lrs"),),
           shapes=(Shp({"lrs": (0.1, 0.1), "wds": (0.0, 0.0), "num_weights": 2}, ((3,), None, None, (2, 2)),
                       ((3,), (2, 2)), want_ins=((3,), (3,), (2, 2), (2, 2))),)),
]
