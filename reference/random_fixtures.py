"""Record what MXNet 1.9.1 does with its per-element (`_sample_*`), `*_like` and unique-zipfian random ops, and how
`mx.nd.random` / `mx.sym.random` dispatch between `_random_*` and `_sample_*`.

Run with the oracle: MXNET_MKLDNN_ENABLED=0 /work/mxvenv/bin/python reference/random_fixtures.py
Writes tests/fixtures/mxnet-1.9.1/random/cases.json (described in that folder's README.md). Values drawn by MXNet's
generator are not recorded (ours differs): only shapes, dtypes, JSON nodes, error kinds and messages, and gradients
(which do not depend on the draws).
"""
import json
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "fixtures", "mxnet-1.9.1",
                   "random")

SAMPLE_INPUTS = {"uniform": ("low", "high"), "normal": ("mu", "sigma"), "gamma": ("alpha", "beta"),
                 "exponential": ("lam",), "poisson": ("lam",), "negative_binomial": ("k", "p"),
                 "generalized_negative_binomial": ("mu", "alpha")}
LIKE = ("uniform", "normal", "gamma", "exponential", "poisson", "negative_binomial", "generalized_negative_binomial")
# (param values of each input, valid for its distribution)
VALUES = {"uniform": (1.0, 2.0), "normal": (0.0, 1.0), "gamma": (2.0, 0.5), "exponential": (2.0,), "poisson": (3.0,),
          "negative_binomial": (3.0, 0.5), "generalized_negative_binomial": (3.0, 0.5)}
# MXNet's number-param checks of the _like ops: (kwargs, message fragment)
LIKE_ERRORS = [("uniform", {"low": 2, "high": 1}), ("normal", {"scale": -1}), ("exponential", {"lam": -1}),
               ("poisson", {"lam": -1}), ("negative_binomial", {"k": -1}),
               ("generalized_negative_binomial", {"mu": -1})]


def _outcome(fn, *args, **kwargs):
    """Shapes and dtypes of fn(*args, **kwargs), or the error it raises."""
    import mxnet as mx
    try:
        out = fn(*args, **kwargs)
        outs = out if isinstance(out, (list, tuple)) else [out]
        for o in outs:
            o.wait_to_read()
        return {"shapes": [list(o.shape) for o in outs], "dtypes": [np.dtype(o.dtype).name for o in outs]}
    except (mx.base.MXNetError, AssertionError, TypeError, ValueError) as err:
        message = str(err).strip().splitlines()
        return {"error": type(err).__name__, "message": message[-1] if message else ""}


def record():
    import mxnet as mx
    nd = mx.nd
    cases = {"sample": [], "like": [], "like_errors": [], "zipfian": [], "front": [], "symbols": [], "grads": []}
    rs = np.random.RandomState(0)
    for dist, names in SAMPLE_INPUTS.items():
        base = [np.full((2, 3), v, np.float32) for v in VALUES[dist]]
        for in_dtype in ("float32", "float64", "int32"):
            for shape in (None, 2, [2, 2]):
                for dtype in (None, "float64", "float16"):
                    kwargs = {k: v for k, v in (("shape", shape), ("dtype", dtype)) if v is not None}
                    ins = [nd.array(b, dtype=in_dtype) for b in base]
                    cases["sample"].append(dict(op="_sample_" + dist, in_dtype=in_dtype, in_shape=[2, 3],
                                                kwargs=kwargs, **_outcome(getattr(
                                                    nd._internal, "_sample_" + dist), *ins, **kwargs)))
        if len(names) == 2:      # params of different shapes / dtypes
            a, b = nd.array(base[0]), nd.array(base[1].T.copy())
            cases["sample"].append(dict(op="_sample_" + dist, case="shape mismatch", in_shapes=[[2, 3], [3, 2]],
                                        **_outcome(getattr(nd._internal, "_sample_" + dist), a, b)))
        ins = [nd.array(b) for b in base]
        cases["sample"].append(dict(op="_sample_" + dist, case="dtype int32", kwargs={"dtype": "int32"},
                                    **_outcome(getattr(nd._internal, "_sample_" + dist), *ins,
                                               dtype="int32")))
    for dist in LIKE:
        for dtype in ("float32", "float64", "float16", "int32", "uint8"):
            data = nd.array(rs.rand(3, 4), dtype=dtype)
            cases["like"].append(dict(op="_random_%s_like" % dist, dtype=dtype, shape=[3, 4],
                                      **_outcome(getattr(nd.random, dist + "_like"), data)))
    for dist, kwargs in LIKE_ERRORS:
        cases["like_errors"].append(dict(op="_random_%s_like" % dist, kwargs=kwargs, **_outcome(
            getattr(nd.random, dist + "_like"), nd.ones((2, 2)), **kwargs)))
    for kwargs in ({"range_max": 100, "shape": [4, 8]}, {"range_max": 50, "shape": [1, 50]},
                   {"range_max": 100, "shape": [8]}, {"range_max": 100}):
        cases["zipfian"].append(dict(kwargs=kwargs, **_outcome(nd._internal._sample_unique_zipfian,
                                                     **{k: tuple(v) if k == "shape" else v
                                                        for k, v in kwargs.items()})))
    a, b = nd.array(np.ones((2, 3))), nd.array(np.full((2, 3), 2.0))
    fronts = [
        ("uniform(nd, nd, shape=2)", lambda: nd.random.uniform(a, b, shape=2)),
        ("uniform(nd, nd)", lambda: nd.random.uniform(a, b)),
        ("uniform(nd, 2)", lambda: nd.random.uniform(a, 2)),
        ("uniform(1, nd)", lambda: nd.random.uniform(1, b)),
        ("normal(nd, nd, shape=3, dtype=float64)", lambda: nd.random.normal(a, b, shape=3, dtype="float64")),
        ("exponential(nd, shape=3)", lambda: nd.random.exponential(a, shape=3)),
        ("gamma(nd, nd, shape=(1, 2))", lambda: nd.random.gamma(a, b, shape=(1, 2))),
        ("poisson(nd)", lambda: nd.random.poisson(a)),
        ("negative_binomial(nd, nd)", lambda: nd.random.negative_binomial(a, b * 0.25)),
        ("generalized_negative_binomial(nd, nd, shape=4)",
         lambda: nd.random.generalized_negative_binomial(a, b, shape=4)),
        ("randint(nd, nd, shape=3)", lambda: nd.random.randint(a, b, shape=3)),
        ("normal('a', nd)", lambda: nd.random.normal("a", b)),
        ("uniform(nd, nd, shape=2, out=zeros((2, 3, 2)))",
         lambda: nd.random.uniform(a, b, shape=2, out=nd.zeros((2, 3, 2)))),
        ("mx.random.normal(nd, nd)", lambda: mx.random.normal(a, b)),
        ("nd.sample_uniform(nd, nd, shape=2)", lambda: nd.sample_uniform(a, b, shape=2)),
        ("nd.sample_normal(mu=nd, sigma=nd)", lambda: nd.sample_normal(mu=a, sigma=b)),
        ("nd.random.uniform_like(nd, low=-1, high=1)", lambda: nd.random.uniform_like(a, low=-1, high=1)),
    ]
    for label, fn in fronts:
        cases["front"].append(dict(call=label, **_outcome(fn)))
    lo, hi, d = mx.sym.var("lo"), mx.sym.var("hi"), mx.sym.var("d")
    symbols = [
        ("sym.random.uniform(lo, hi, shape=(2,))", lambda: mx.sym.random.uniform(lo, hi, shape=(2,)),
         dict(lo=(3,), hi=(3,))),
        ("sym.random.exponential(lo)", lambda: mx.sym.random.exponential(lo), dict(lo=(3,))),
        ("sym.random.normal(lo, hi, dtype=float64)", lambda: mx.sym.random.normal(lo, hi, dtype="float64"),
         dict(lo=(2, 2), hi=(2, 2))),
        ("sym.random.uniform_like(d, low=-1)", lambda: mx.sym.random.uniform_like(d, low=-1), dict(d=(2, 5))),
        ("sym.random.gamma_like(data=d)", lambda: mx.sym.random.gamma_like(data=d), dict(d=(4,))),
        ("sym.sample_gamma(alpha=lo, beta=hi, shape=(3,))",
         lambda: mx.sym.sample_gamma(alpha=lo, beta=hi, shape=(3,)), dict(lo=(2,), hi=(2,))),
        ("sym.random.normal(lo, 1)", lambda: mx.sym.random.normal(lo, 1), {}),
    ]
    for label, fn, shapes in symbols:
        with mx.name.NameManager():
            try:
                s = fn()
            except (AssertionError, TypeError, ValueError) as err:
                cases["symbols"].append(dict(call=label, error=type(err).__name__, message=str(err)))
                continue
            nodes = [dict(op=n["op"], name=n["name"], attrs=n.get("attrs", {}))
                     for n in json.loads(s.tojson())["nodes"]]
            _, out_shapes, _ = s.infer_shape(**shapes)
            _, out_types, _ = s.infer_type(**{k: "float32" for k in shapes})
            cases["symbols"].append(dict(call=label, nodes=nodes, arguments=s.list_arguments(), in_shapes=shapes,
                                         out_shapes=[list(o) for o in out_shapes],
                                         out_dtypes=[np.dtype(t).name for t in out_types]))
    grads = [("_sample_normal(mu, sigma, shape=2)", lambda m, s: nd._internal._sample_normal(m, s, shape=2)),
             ("_sample_uniform(mu, sigma)", lambda m, s: nd._internal._sample_uniform(m, s)),
             ("_sample_gamma(mu, sigma)", lambda m, s: nd._internal._sample_gamma(m, s)),
             ("uniform_like(mu) * sigma", lambda m, s: nd.random.uniform_like(m) * s)]
    for label, fn in grads:
        m, s = nd.array([1.0, 2.0]), nd.array([2.0, 3.0])
        m.attach_grad()
        s.attach_grad()
        with mx.autograd.record():
            y = fn(m, s)
        y.backward()
        # the sigma gradient of `uniform_like(mu) * sigma` is the draw: record only whether it is zero
        cases["grads"].append(dict(call=label, mu_grad=m.grad.asnumpy().tolist(),
                                   sigma_grad_is_zero=bool((s.grad.asnumpy() == 0).all())))
    return cases


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "cases.json"), "w") as fh:
        json.dump(record(), fh, indent=1, sort_keys=True)
