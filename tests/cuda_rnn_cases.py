"""The fused RNN op's CUDA kernels (ops/cuda/rnn.py) against its CPU kernels (ops/cpu/rnn.py), every feature.

Each case runs the CUDA forward and compares its outputs, states and hidden reserve (the same layout) with the CPU
forward's, then runs the CUDA backward on the CPU forward's reserve and compares the gradients with the CPU
backward's, with req write and add. Besides the plain modes (multi-layer, bidirectional, float32/64) the cases
cover what the kernels once left to the host: the LSTM projection (LSTMP), `sequence_length` (rows of different
lengths, float lengths as in the spec rows, with the reverse direction), the LSTM state clip (bounds that clip,
NaN with and without `lstm_state_clip_nan`) and dropout between layers, in training (the mask is drawn from the
same seeded generator, so it must equal the CPU's bit for bit) and in inference (a mask of ones). The CPU kernels
are made to raise while the CUDA ones run, so none of this goes through the host. Two Gluon layers train one step
on the device and give the CPU's numbers.

Not collected by a plain `pytest` run: numba.cuda must be imported in simulator mode first. tests/test_cuda_sim.py
runs this file in a subprocess with NUMBA_ENABLE_CUDASIM=1. Tiny shapes: the simulator runs each CUDA thread as a
Python thread.
"""
import numpy as np
import pytest

import dataflow as mx
from ops import cuda as ops_cuda
from ops import registry
from ops import rnn_layout
from ops.cpu import rnn as cpu_rnn
from ops.registry import ADD, WRITE, OpContext
from tests.cuda_cases import run_gpu

pytestmark = pytest.mark.cuda

KINDS = ops_cuda.register()
FWD, BWD = registry.get("RNN"), registry.get("_backward_RNN")

# bounds float32 rounds toward zero: a clipped cell holds the rounded bound, and both backwards must still see it
_CLIP = dict(lstm_state_clip_min=-0.08, lstm_state_clip_max=0.11)
# (id, mode, layers, bidirectional, dtype, extra attrs)
CASES = [
    ("lstm", "lstm", 1, False, "float32", {}),
    ("lstm-L2-bi", "lstm", 2, True, "float64", {}),
    ("gru-bi", "gru", 1, True, "float32", {}),
    ("gru-L2", "gru", 2, False, "float64", {}),
    ("tanh-L2-bi", "rnn_tanh", 2, True, "float32", {}),
    ("relu", "rnn_relu", 1, False, "float64", {}),
    ("lstmp-L2-bi", "lstm", 2, True, "float64", dict(projection_size=1)),
    ("lstmp-f32", "lstm", 1, False, "float32", dict(projection_size=2, state_size=3)),
    ("lengths-lstm-bi", "lstm", 1, True, "float64", dict(use_sequence_length=True)),
    ("lengths-gru-L2-bi", "gru", 2, True, "float32", dict(use_sequence_length=True)),
    ("lengths-tanh", "rnn_tanh", 1, False, "float64", dict(use_sequence_length=True)),
    ("lengths-relu-bi", "rnn_relu", 1, True, "float32", dict(use_sequence_length=True)),
    ("lengths-lstmp-L2-bi", "lstm", 2, True, "float64", dict(use_sequence_length=True, projection_size=1)),
    ("clip", "lstm", 1, True, "float64", _CLIP),
    ("clip-f32-lstmp-lengths", "lstm", 2, False, "float32", dict(_CLIP, projection_size=1, use_sequence_length=True)),
    ("dropout-gru-L2", "gru", 2, False, "float32", dict(p=0.5)),
    ("dropout-lstm-L3-bi", "lstm", 3, True, "float64", dict(p=0.4)),
    ("dropout-lstmp-lengths", "lstm", 2, True, "float64", dict(p=0.5, projection_size=1, use_sequence_length=True)),
    ("dropout-tanh", "rnn_tanh", 2, False, "float32", dict(p=0.3)),
]
TOL = {"float32": (1e-4, 1e-5), "float64": (1e-10, 1e-12)}
STEPS, BATCH, INPUTS = 3, 3, 2
LENGTHS = (2, 3, 1)         # one row each: shorter, full, a single step


def _inputs(p, dtype, rng):
    """The op's inputs by argument name (lengths in the data's dtype, as the spec rows draw them), and the output
    shapes."""
    from scheduler.graph import Node
    from scheduler.infer import apply_rule
    names = FWD.arguments(p)
    ins = [(STEPS, BATCH, INPUTS)] + [None] * (len(names) - 1)
    in_shapes, out_shapes = apply_rule(Node(FWD, "rnn", params=p), ins, [None] * FWD.num_outputs(p), "shape")
    scale = {"data": 1.0, "parameters": 0.6, "state": 0.5, "state_cell": 0.5}
    inputs = [np.array(LENGTHS, dtype) if name == "sequence_length" else
              (rng.uniform(-1, 1, shape) * scale[name]).astype(dtype) for name, shape in zip(names, in_shapes)]
    return inputs, out_shapes


@pytest.fixture
def cpu_kernels_refuse(monkeypatch):
    """While the CUDA kernels run, the CPU kernels' bodies raise: nothing may run through the host."""
    def refuse(*args):
        raise AssertionError("the RNN op ran its CPU kernel during a GPU run")

    def on_gpu(opdef, *args):
        with monkeypatch.context() as m:
            m.setattr(cpu_rnn, "_forward", refuse)
            m.setattr(cpu_rnn, "_backward", refuse)
            return run_gpu(opdef, *args)
    return on_gpu


def _compare(got, want, dtype, what):
    for k, (g, c) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, c, *TOL[dtype], err_msg="%s %d" % (what, k))


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_rnn_kernels_match_cpu(case, cpu_kernels_refuse):
    """The CUDA forward gives the CPU's outputs, states and reserve; the CUDA backward reading that reserve gives the
    CPU's gradients; req write and add; training and inference where dropout makes them differ."""
    _, mode, layers, bidirectional, dtype, extra = case
    attrs = dict(dict(mode=mode, state_size=2, num_layers=layers, bidirectional=bidirectional, state_outputs=True),
                 **extra)
    p = FWD.parse_params(attrs)
    rng = np.random.default_rng(11)
    inputs, out_shapes = _inputs(p, dtype, rng)
    for is_train in ((False, True) if p.p > 0 else (False,)):
        for req in (WRITE, ADD):
            init = [rng.uniform(-1, 1, s).astype(dtype) if req == ADD else np.zeros(s, dtype) for s in out_shapes]
            init[-1] = np.zeros(out_shapes[-1], dtype)
            cpu_out = [o.copy() for o in init]
            mx.random.seed(3)
            FWD.cpu(OpContext(is_train=is_train), p, [x.copy() for x in inputs], cpu_out, [req] * len(init))
            mx.random.seed(3)
            gpu_out, _ = cpu_kernels_refuse(FWD, p, inputs, init, [req] * len(init), is_train)
            _compare(gpu_out, cpu_out, dtype, "forward output (train %s, req %s)" % (is_train, req))
            _check_features_ran(p, inputs, cpu_out[-1], is_train)

            grad_inputs = inputs[:len(inputs) - p.use_sequence_length]
            heads = [rng.uniform(-1, 1, s).astype(dtype) for s in out_shapes[:1] + [x.shape for x in inputs[2:4]]]
            b_ins = heads[:3 if mode == "lstm" else 2] + inputs + [cpu_out[-1]]     # the CPU forward's reserve
            g_init = [rng.uniform(-1, 1, x.shape).astype(dtype) if req == ADD else np.zeros(x.shape, dtype)
                      for x in grad_inputs]
            cpu_grads = [o.copy() for o in g_init]
            BWD.cpu(OpContext(is_train=True), p, [x.copy() for x in b_ins], cpu_grads, [req] * len(g_init))
            gpu_grads, _ = cpu_kernels_refuse(BWD, p, b_ins, g_init, [req] * len(g_init), True)
            _compare(gpu_grads, cpu_grads, dtype, "gradient (train %s, req %s)" % (is_train, req))


def _check_features_ran(p, inputs, reserve, is_train):
    """The case exercises what it names (a clip that never clips or a mask of ones would prove nothing)."""
    dims = rnn_layout.Dims(p, STEPS, BATCH, INPUTS)
    saved = rnn_layout.Reserve(reserve, p, dims)
    if p.lstm_state_clip_min is not None:
        c = saved.dirs[0][0]["c"]
        assert (c == c.dtype.type(p.lstm_state_clip_max)).any() or (c == c.dtype.type(p.lstm_state_clip_min)).any()
    if p.p > 0:
        values = set(np.unique(saved.mask[0]).tolist())
        assert values == ({0.0, float(saved.mask[0].dtype.type(1 / (1 - p.p)))} if is_train else {1.0}), values
    if p.use_sequence_length:
        assert (saved.Y[0][STEPS - 1, 2] == 0).all() and (saved.Y[0][STEPS - 1, 1] != 0).any()


def test_clip_nan(cpu_kernels_refuse):
    """A NaN cell state becomes the minimum with lstm_state_clip_nan and stays NaN without it, on both devices."""
    for clip_nan in (False, True):
        p = FWD.parse_params(dict(_CLIP, mode="lstm", state_size=2, num_layers=1, state_outputs=True,
                                  lstm_state_clip_nan=clip_nan))
        inputs, out_shapes = _inputs(p, "float64", np.random.default_rng(2))
        inputs[3][0, 1, 0] = np.nan         # row 1's initial cell state, unit 0
        init = [np.zeros(s) for s in out_shapes]
        cpu_out = [o.copy() for o in init]
        FWD.cpu(OpContext(is_train=False), p, [x.copy() for x in inputs], cpu_out, [WRITE] * len(init))
        gpu_out, _ = cpu_kernels_refuse(FWD, p, inputs, init, [WRITE] * len(init), False)
        _compare(gpu_out, cpu_out, "float64", "forward output (clip_nan %s)" % clip_nan)
        first = rnn_layout.Reserve(cpu_out[-1], p, rnn_layout.Dims(p, STEPS, BATCH, INPUTS)).dirs[0][0]["c"][0, 1, 0]
        assert first == p.lstm_state_clip_min if clip_nan else np.isnan(first), (clip_nan, first)


def test_bad_sequence_length_is_a_clear_error(cpu_kernels_refuse):
    p = FWD.parse_params(dict(mode="gru", state_size=2, num_layers=1, use_sequence_length=True))
    inputs, out_shapes = _inputs(p, "float32", np.random.default_rng(0))
    inputs[-1] = np.array([2, 4, 1], np.int32)
    with pytest.raises(mx.MXNetError, match="sequence_length must lie between 1 and the sequence length 3"):
        cpu_kernels_refuse(FWD, p, inputs, [np.zeros(s, np.float32) for s in out_shapes], [WRITE] * 2, False)


def test_runs_cuda_kernels():
    for name in ("RNN", "_backward_RNN"):
        assert KINDS[name] == "cuda"
        assert name not in ops_cuda.without_cuda_kernel()


def _count_calls(monkeypatch):
    calls = []
    for name in ("RNN", "_backward_RNN"):
        opdef = registry.get(name)
        monkeypatch.setattr(opdef, "gpu", (lambda k: lambda *a: (calls.append(k.__name__), k(*a))[1])(opdef.gpu))
    return calls


def _train_step(make_layer, x0, ctx, lengths=None):
    """One recorded forward and backward of a hybridized layer: the loss, the data's and parameters' gradients."""
    mx.random.seed(1)
    layer = make_layer()
    layer.initialize(mx.init.Uniform(0.5), ctx=ctx)
    layer.hybridize()
    x = mx.nd.array(x0, ctx=ctx)
    x.attach_grad()
    with mx.autograd.record():
        out = layer(x) if lengths is None else layer(x, sequence_length=mx.nd.array(lengths, ctx=ctx))
        loss = (out ** 2).sum()
    loss.backward()
    return [loss.asnumpy(), x.grad.asnumpy()] + [p.grad(ctx).asnumpy() for p in layer.collect_params().values()]


def test_gluon_gru_layer_on_gpu_matches_cpu(monkeypatch):
    """A hybridized Gluon GRU layer trains one step on the device through the CUDA RNN kernels (not the host) and
    gives the CPU's outputs and gradients."""
    calls = _count_calls(monkeypatch)
    x0 = np.random.default_rng(5).standard_normal((3, 2, 3)).astype(np.float32)

    def make():
        return mx.gluon.rnn.GRU(2, num_layers=2, bidirectional=True)
    got = _train_step(make, x0, mx.gpu())
    assert calls == ["rnn_forward", "rnn_backward"], calls
    for g, c in zip(got, _train_step(make, x0, mx.cpu())):
        np.testing.assert_allclose(g, c, rtol=1e-4, atol=1e-5)


def test_gluon_lstmp_with_dropout_and_lengths_on_gpu_matches_cpu(monkeypatch):
    """A Gluon LSTM with a projection, dropout between its layers, a state clip and sequence lengths trains one step
    on the device; seeded alike, both devices draw the same dropout mask and give the same numbers."""
    calls = _count_calls(monkeypatch)
    x0 = np.random.default_rng(6).standard_normal((3, 2, 3)).astype(np.float32)

    def make():
        return mx.gluon.rnn.LSTM(3, num_layers=2, bidirectional=True, dropout=0.5, projection_size=2,
                                 state_clip_min=-0.3, state_clip_max=0.3, use_sequence_length=True)
    got = _train_step(make, x0, mx.gpu(), lengths=[3, 2])
    assert calls == ["rnn_forward", "rnn_backward"], calls
    for g, c in zip(got, _train_step(make, x0, mx.cpu(), lengths=[3, 2])):
        np.testing.assert_allclose(g, c, rtol=1e-4, atol=1e-5)
