"""The RNN backward kernel (ops/cpu/rnn.py) computes a written gradient straight in its output and writes every
element of it (no zeroing): check that nothing is left unwritten, that `add` adds to what the output held, that a
strided output gets the same values, and that the temporaries the kernels keep between calls carry nothing over.
(The values against MXNet and numeric gradients: test_rnn_op.py.)"""
import numpy as np
import pytest

from ops import registry
from ops import rnn_layout
from ops.cpu import rnn as cpu_rnn
from ops.registry import ADD, NULL, WRITE, OpContext
from tests import op_specs  # noqa: F401 - loads the op table in the right order

RNN = registry.get("RNN")
BACKWARD = registry.get("_backward_RNN")

CASES = [dict(mode="lstm"), dict(mode="lstm", projection_size=2), dict(mode="gru"), dict(mode="rnn_tanh"),
         dict(mode="rnn_relu", use_sequence_length=True)]


def _setup(attrs, dtype, seed=0, steps=4, batch=3, features=2):
    p = RNN.parse_params(dict(dict(state_size=3, num_layers=2, bidirectional=True, state_outputs=True), **attrs))
    rs = np.random.RandomState(seed)
    d, r = 2 if p.bidirectional else 1, p.projection_size or p.state_size
    inputs = [rs.uniform(-1, 1, (steps, batch, features)), rs.uniform(-0.8, 0.8, rnn_layout.param_size(p, features)),
              rs.uniform(-1, 1, (p.num_layers * d, batch, r))]
    if p.mode == "lstm":
        inputs.append(rs.uniform(-1, 1, (p.num_layers * d, batch, p.state_size)))
    if p.use_sequence_length:
        inputs.append(np.array([4, 2, 3], dtype))
    inputs = [x.astype(dtype) for x in inputs]
    _, out_shapes = RNN.infer_shape(p, [x.shape for x in inputs], [None] * RNN.num_outputs(p))
    outs = [np.empty(s, dtype) for s in out_shapes]
    RNN.cpu(OpContext(is_train=True), p, inputs, outs, [WRITE] * len(outs))
    n_heads = 3 if p.mode == "lstm" else 2
    heads = [rs.uniform(-1, 1, o.shape).astype(dtype) for o in outs[:n_heads]]
    n_grads = 4 if p.mode == "lstm" else 3       # data, parameters, state(, state_cell)
    return p, heads + inputs + [outs[-1]], [x.shape for x in inputs[:n_grads]]


def _backward(p, args, grads, req):
    BACKWARD.cpu(OpContext(is_train=True), p, args, grads, [req] * len(grads))
    return grads


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("attrs", CASES, ids=lambda a: "-".join(str(v) for v in a.values()))
def test_write_fills_every_element_and_add_adds(attrs, dtype):
    p, args, shapes = _setup(attrs, dtype)
    written = _backward(p, args, [np.full(s, np.nan, dtype) for s in shapes], WRITE)
    for g in written:
        assert np.isfinite(g).all()
    before = [np.random.RandomState(7).uniform(-1, 1, s).astype(dtype) for s in shapes]
    added = _backward(p, args, [b.copy() for b in before], ADD)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for a, b, w in zip(added, before, written, strict=True):
        np.testing.assert_allclose(a, b + w, rtol=tol, atol=tol)


def test_strided_outputs_get_the_same_gradients():
    p, args, shapes = _setup(dict(mode="lstm"), np.float64)
    written = _backward(p, args, [np.empty(s) for s in shapes], WRITE)
    strided = _backward(p, args, [np.full(s + (2,), np.nan)[..., 1] for s in shapes], WRITE)
    for s, w in zip(strided, written, strict=True):
        assert not s.flags.c_contiguous
        np.testing.assert_array_equal(s, w)


def test_no_data_gradient_leaves_that_output_alone():
    p, args, shapes = _setup(dict(mode="gru"), np.float64)
    grads = [np.full(s, 7.0) for s in shapes]
    BACKWARD.cpu(OpContext(is_train=True), p, args, grads, [NULL, WRITE, WRITE])
    assert (grads[0] == 7.0).all()
    assert np.isfinite(grads[1]).all()


@pytest.mark.parametrize("attrs", [dict(mode="lstm"), dict(mode="gru", bidirectional=False)],
                         ids=["lstm-bi", "gru"])
def test_kept_scratch_buffers_carry_nothing_between_calls(attrs):
    """The kernels keep their large temporaries per thread (Note [RNN scratch]): a call after calls with other
    inputs and sizes gives what it gives with no buffers kept."""
    def forward_and_backward(seed, steps):
        p, args, shapes = _setup(attrs, np.float32, seed=seed, steps=steps, batch=4)
        return [args[-1].copy()] + _backward(p, args, [np.empty(s, np.float32) for s in shapes], WRITE)

    cpu_rnn._scratch_local.__dict__.clear()
    alone = forward_and_backward(1, 5)
    for seed, steps in ((0, 5), (2, 7), (3, 5)):
        forward_and_backward(seed, steps)
    after = forward_and_backward(1, 5)
    for a, b in zip(after, alone, strict=True):
        np.testing.assert_array_equal(a, b)
