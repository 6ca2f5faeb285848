"""The CUDA kernels of the detection ops (ops/cuda/detection.py) against the CPU kernels: the forward ops on their
spec rows' samples and the backward ops on a head gradient; ROIAlign and DeformableConvolution also on MXNet's
fixture. (tests/cuda_cases.py compares the forward ops too, as
for every spec row; this file runs alone, in seconds.)

Not collected by a plain `pytest` run: numba.cuda must be imported in simulator mode first.
tests/test_detection.py::test_detection_kernels_under_the_simulator runs this file in a subprocess with
NUMBA_ENABLE_CUDASIM=1; bench/gpu_check.py-style runs on a real GPU need no simulator.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ops import cuda as ops_cuda
from ops import registry
from ops.registry import ADD, WRITE, OpContext
from tests.cuda_cases import close, run_gpu
from tests.op_specs import SPECS

pytestmark = pytest.mark.cuda

ops_cuda.register()
SPEC = {s.name: s for s in SPECS}
FORWARD = ("_contrib_MultiBoxPrior", "_contrib_ROIAlign", "_contrib_PSROIPooling", "_contrib_DeformableConvolution",
           "_contrib_ModulatedDeformableConvolution")
BACKWARD = {"_backward_ROIAlign": "_contrib_ROIAlign", "_backward__contrib_PSROIPooling": "_contrib_PSROIPooling",
            "_backward__contrib_DeformableConvolution": "_contrib_DeformableConvolution",
            "_backward__contrib_ModulatedDeformableConvolution": "_contrib_ModulatedDeformableConvolution"}


def _cpu(opdef, p, inputs, init, req):
    outs = [o.copy() for o in init]
    with np.errstate(all="ignore"):
        opdef.cpu(OpContext(), p, [x.copy() for x in inputs], outs, [req] * len(outs))
    return outs


def _shapes(opdef, p, inputs):
    from scheduler.graph import Node
    from scheduler.infer import apply_rule
    _, shapes = apply_rule(Node(opdef, opdef.name, params=p), [x.shape for x in inputs],
                           [None] * opdef.num_outputs(p), "shape")
    return shapes


def test_the_detection_kernels_are_listed():
    kinds = ops_cuda.register()
    assert all(kinds[name] == "cuda" for name in FORWARD + tuple(BACKWARD))
    assert set(BACKWARD) == ops_cuda.detection.TESTED_THROUGH_GRADIENTS
    assert kinds["_contrib_MultiBoxTarget"] == "host"


def _compare(name, p, inputs, shapes, dtype, rng):
    opdef = registry.get(name)
    for req in (WRITE, ADD):
        init = [rng.uniform(-1, 1, s).astype(dtype) if req == ADD else np.zeros(s, dtype) for s in shapes]
        want = _cpu(opdef, p, inputs, init, req)
        got, _ = run_gpu(opdef, p, inputs, init, [req] * len(init), False)
        for k, (g, c) in enumerate(zip(got, want)):
            close(name, g, c, "output %d, req %s" % (k, req))


@pytest.mark.parametrize("name", FORWARD)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@settings(max_examples=4, derandomize=True, database=None)
@given(data=st.data())
def test_forward_kernel_matches_cpu(name, dtype, data):
    if dtype not in SPEC[name].dtypes:
        pytest.skip("%s takes %s only" % (name, SPEC[name].dtypes))
    opdef = registry.get(name)
    attrs, inputs = SPEC[name].sample(data.draw, np.dtype(dtype))
    p = opdef.parse_params(attrs)
    _compare(name, p, inputs, _shapes(opdef, p, inputs), dtype, np.random.default_rng(0))


@pytest.mark.parametrize("name", sorted(BACKWARD))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@settings(max_examples=4, derandomize=True, database=None)
@given(data=st.data())
def test_backward_kernel_matches_cpu(name, dtype, data):
    forward = registry.get(BACKWARD[name])
    attrs, inputs = SPEC[BACKWARD[name]].sample(data.draw, np.dtype(dtype))
    p = forward.parse_params(attrs)
    rng = np.random.default_rng(1)
    dy = rng.standard_normal(_shapes(forward, p, inputs)[0]).astype(dtype)
    backward = registry.get(name)
    reads = len(backward.argument_names(p)) - 1                 # the forward inputs it reads after dy
    _compare(name, p, [dy] + list(inputs[:reads]), [x.shape for x in inputs][:backward.num_outputs(p)], dtype, rng)


def test_roi_align_kernels_match_the_mxnet_fixture():
    """The forward and backward kernels on MXNet's recorded ROIAlign cases (rois partly and wholly outside)."""
    from tests.test_detection import FIXTURE, META
    data, rois = FIXTURE["roialign/data"], FIXTURE["roialign/rois"]
    for case in ("adaptive", "aligned_ratio2", "position_sensitive"):
        p = registry.get("_contrib_ROIAlign").parse_params(META["roialign/" + case])
        want = FIXTURE["roialign/%s/out" % case]
        got, _ = run_gpu(registry.get("_contrib_ROIAlign"), p, [data, rois], [np.zeros_like(want)], [WRITE], False)
        np.testing.assert_allclose(got[0], want, rtol=1e-5, atol=1e-6)
        dy = FIXTURE["roialign/%s/dy" % case]
        got, _ = run_gpu(registry.get("_backward_ROIAlign"), p, [dy, data, rois], [np.zeros_like(data)], [WRITE],
                         False)
        np.testing.assert_allclose(got[0], FIXTURE["roialign/%s/dx" % case], rtol=1e-5, atol=1e-6)


def test_deformable_convolution_kernels_match_the_mxnet_fixture():
    from tests.test_detection import FIXTURE, META
    for case in ("basic", "strided_groups"):
        meta = META["dcn/" + case]
        p = registry.get("_contrib_DeformableConvolution").parse_params(meta["kwargs"])
        inputs = [FIXTURE["dcn/%s/%s" % (case, name)] for name in meta["arguments"]]
        want = FIXTURE["dcn/%s/out" % case]
        got, _ = run_gpu(registry.get("_contrib_DeformableConvolution"), p, inputs, [np.zeros_like(want)], [WRITE],
                         False)
        np.testing.assert_allclose(got[0], want, rtol=1e-5, atol=1e-5)
        init = [np.zeros_like(x) for x in inputs]
        got, _ = run_gpu(registry.get("_backward__contrib_DeformableConvolution"), p,
                         [FIXTURE["dcn/%s/dy" % case]] + inputs[:3], init, [WRITE] * len(init), False)
        for name, g in zip(meta["arguments"], got):
            np.testing.assert_allclose(g, FIXTURE["dcn/%s/grad_%s" % (case, name)], rtol=1e-5, atol=1e-5,
                                       err_msg=name)
