"""The RNN forward kernel's paths (ops/cpu/rnn.py) give the same results: LSTM's time loop in one njit call and
step by step from Python (Note [the LSTM time loop]), a forward that keeps the backward's reserve and one that
does not (Note [no reserve without gradients]), the last layer written straight into the output or copied there.
Each against the float64 numpy reference of tests/specs_rnn.py; the backward after each kept forward against the
other path's."""
import numpy as np
import pytest

from ops import registry
from ops import rnn_layout
from ops.cpu import rnn as cpu_rnn
from ops.registry import ADD, WRITE, OpContext
from tests import op_specs  # noqa: F401 - loads the op table in the right order
from tests.specs_rnn import rnn_reference

RNN = registry.get("RNN")
BACKWARD = registry.get("_backward_RNN")

CASES = [dict(mode="lstm"), dict(mode="lstm", bidirectional=True), dict(mode="lstm", projection_size=3),
         dict(mode="lstm", bidirectional=True, projection_size=3, use_sequence_length=True),
         dict(mode="lstm", lstm_state_clip_min=-0.2, lstm_state_clip_max=0.3, lstm_state_clip_nan=True),
         dict(mode="lstm", bidirectional=True, use_sequence_length=True),
         dict(mode="gru", bidirectional=True), dict(mode="rnn_tanh", use_sequence_length=True)]
IDS = ["-".join("%s=%s" % kv for kv in c.items()) for c in CASES]


def _inputs(p, dtype, steps=5, batch=3, features=4, seed=0):
    rs = np.random.RandomState(seed)
    d, r = 2 if p.bidirectional else 1, p.projection_size or p.state_size
    inputs = [rs.uniform(-1, 1, (steps, batch, features)), rs.uniform(-0.8, 0.8, rnn_layout.param_size(p, features)),
              rs.uniform(-1, 1, (p.num_layers * d, batch, r))]
    if p.mode == "lstm":
        inputs.append(rs.uniform(-1, 1, (p.num_layers * d, batch, p.state_size)))
    if p.use_sequence_length:
        inputs.append(np.minimum([steps, 2, 4], steps)[:batch].astype(np.float64))
    return [x.astype(dtype) for x in inputs]


def _params(attrs):
    return RNN.parse_params(dict(dict(state_size=5, num_layers=2, state_outputs=True), **attrs))


def _forward(p, inputs, keep, outs=None, req=WRITE):
    if outs is None:
        _, shapes = RNN.infer_shape(p, [x.shape for x in inputs], [None] * RNN.num_outputs(p))
        outs = [np.full(s, np.nan, inputs[0].dtype) for s in shapes]
    RNN.cpu(OpContext(is_train=False, computes_gradients=keep), p, inputs, outs, [req] * len(outs))
    return outs


def _backward(p, inputs, outs, seed=1):
    rs = np.random.RandomState(seed)
    n_heads = 3 if p.mode == "lstm" else 2
    heads = [rs.uniform(-1, 1, o.shape).astype(o.dtype) for o in outs[:n_heads]]
    grads = [np.empty(x.shape, x.dtype) for x in inputs[:n_heads + 1]]
    BACKWARD.cpu(OpContext(is_train=True), p, heads + inputs + [outs[-1]], grads, [WRITE] * len(grads))
    return grads


def _tolerance(dtype):
    return dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("attrs", CASES, ids=IDS)
@pytest.mark.parametrize("keep", [True, False], ids=["keep", "no-reserve"])
@pytest.mark.parametrize("steps", [1, 5])
def test_forward_matches_the_reference(attrs, dtype, keep, steps):
    p = _params(attrs)
    inputs = _inputs(p, dtype, steps=steps)
    outs = _forward(p, inputs, keep)
    for got, want in zip(outs[:-1], rnn_reference(p, *inputs), strict=True):
        np.testing.assert_allclose(got, want, **_tolerance(dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("attrs", [c for c in CASES if c["mode"] == "lstm"],
                         ids=[i for c, i in zip(CASES, IDS) if c["mode"] == "lstm"])
def test_lstm_step_by_step_equals_the_time_loop(attrs, dtype, monkeypatch):
    """LSTM's Python loop (as where numpy's BLAS cannot be called from numba) and the njit time loop: the same
    outputs, the same reserve, the same gradients from it."""
    p = _params(attrs)
    inputs = _inputs(p, dtype)
    fused = _forward(p, inputs, keep=True)
    fused_grads = _backward(p, inputs, fused)
    monkeypatch.setattr(cpu_rnn, "_lstm_loop", lambda: False)
    for got, want in zip(_forward(p, inputs, keep=False)[:-1], fused[:-1], strict=True):
        np.testing.assert_allclose(got, want, **_tolerance(dtype))
    stepped = _forward(p, inputs, keep=True)
    for got, want in zip(stepped, fused, strict=True):      # the reserve too
        np.testing.assert_allclose(got, want, **_tolerance(dtype))
    for got, want in zip(_backward(p, inputs, stepped), fused_grads, strict=True):
        np.testing.assert_allclose(got, want, **_tolerance(dtype))


@pytest.mark.parametrize("attrs", [CASES[0], CASES[1], CASES[6]], ids=[IDS[0], IDS[1], IDS[6]])
def test_output_written_in_place_strided_or_added(attrs):
    """Without a reserve the last layer writes a contiguous written output itself; a strided output or req add
    gets the same values through a copy."""
    p = _params(attrs)
    inputs = _inputs(p, np.float64)
    want = rnn_reference(p, *inputs)[0]
    contiguous = _forward(p, inputs, keep=False)[0]
    np.testing.assert_allclose(contiguous, want, rtol=1e-10, atol=1e-12)
    _, shapes = RNN.infer_shape(p, [x.shape for x in inputs], [None] * RNN.num_outputs(p))
    wide = np.full(shapes[0][:2] + (2 * shapes[0][2],), np.nan)
    outs = [wide[:, :, ::2]] + [np.empty(s) for s in shapes[1:]]
    _forward(p, inputs, keep=False, outs=outs)
    np.testing.assert_allclose(wide[:, :, ::2], want, rtol=1e-10, atol=1e-12)
    assert np.isnan(wide[:, :, 1::2]).all()
    before = np.random.RandomState(3).uniform(-1, 1, shapes[0])
    outs = [before.copy()] + [np.zeros(s) for s in shapes[1:]]
    _forward(p, inputs, keep=False, outs=outs, req=ADD)
    np.testing.assert_allclose(outs[0], before + want, rtol=1e-10, atol=1e-12)
