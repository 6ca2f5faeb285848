"""The fused RNN op's kernels under the BLAS thread policy (Note [RNN threads] in ops/cpu/rnn.py): each forward and
backward call is one blas_threads site, active once its biggest GEMM is big enough, and the results on two BLAS
threads equal those on one and the numpy reference of tests/specs_rnn.py."""
import numpy as np
import pytest

from ops import registry
from ops.cpu import blas_threads
from ops import rnn_layout
from ops.registry import WRITE, OpContext
from tests import op_specs  # noqa: F401 - loads the op table in the right order
from tests.specs_rnn import rnn_reference

RNN = registry.get("RNN")
BACKWARD = registry.get("_backward_RNN")


@pytest.fixture
def policy():
    """set_blas_threads for the test, the previous policy restored after it."""
    before = blas_threads.set_blas_threads("auto")
    yield blas_threads.set_blas_threads
    blas_threads.set_blas_threads(before)


def _run(mode, steps, batch, features, hidden, seed=0):
    """Forward (training) and backward of a 2-layer bidirectional RNN: the inputs, the forward's outputs, the
    gradients."""
    p = RNN.parse_params(dict(mode=mode, state_size=hidden, num_layers=2, bidirectional=True, state_outputs=True))
    rs = np.random.RandomState(seed)
    inputs = [rs.uniform(-1, 1, (steps, batch, features)),
              rs.uniform(-0.3, 0.3, rnn_layout.param_size(p, features)), rs.uniform(-1, 1, (4, batch, hidden))]
    if mode == "lstm":
        inputs.append(rs.uniform(-1, 1, (4, batch, hidden)))
    inputs = [x.astype(np.float32) for x in inputs]
    _, out_shapes = RNN.infer_shape(p, [x.shape for x in inputs], [None] * RNN.num_outputs(p))
    outs = [np.empty(s, np.float32) for s in out_shapes]
    RNN.cpu(OpContext(is_train=True), p, inputs, outs, [WRITE] * len(outs))
    heads = [rs.uniform(-1, 1, o.shape).astype(np.float32) for o in outs[:-1]]
    grads = [np.empty(x.shape, np.float32) for x in inputs]
    BACKWARD.cpu(OpContext(is_train=True), p, heads + inputs + [outs[-1]], grads, [WRITE] * len(grads))
    return p, inputs, outs, grads


def _sites(name):
    return [site for key, site in blas_threads._sites.items() if key[0] == name]


@pytest.mark.parametrize("mode", ["lstm", "gru"])
def test_two_blas_threads_give_one_threads_results(policy, mode):
    policy(1)
    p, inputs, one_outs, one_grads = _run(mode, 12, 8, 64, 64)
    policy(2)
    _, _, two_outs, two_grads = _run(mode, 12, 8, 64, 64)
    for one, two in zip(one_outs[:-1] + one_grads, two_outs[:-1] + two_grads, strict=True):
        np.testing.assert_allclose(two, one, rtol=1e-4, atol=1e-5)
    for got, want in zip(two_outs, rnn_reference(p, *inputs)):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_each_call_is_a_site_active_for_big_gemms_only(policy):
    policy("auto")
    blas_threads._sites.clear()
    # the biggest GEMM, layer 1's input projection: 2*T*N*G*H*(D*H) FLOPs, made twice the policy's threshold
    batch, hidden = 8, 64
    steps = int(np.ceil(2 * blas_threads.PARALLEL_FLOPS / (2 * batch * 4 * hidden * 2 * hidden)))
    _run("lstm", steps, batch, hidden, hidden)
    big = _sites("RNN") + _sites("_backward_RNN")
    assert len(big) == 2 and all(site.active for site in big) == (len(blas_threads._usable_cores()) > 1)
    blas_threads._sites.clear()
    _run("lstm", 3, 2, 4, 5)            # tiny: stays on one thread
    small = _sites("RNN") + _sites("_backward_RNN")
    assert len(small) == 2 and not any(site.active for site in small)
