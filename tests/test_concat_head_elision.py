"""Concat elision into a bound output (issue 17, item 3; scheduler/elision.py "Into a bound output"): a Concat whose
output is a graph output (or a gradient written into the user's array) has its inputs written straight into their
slices of the caller's array, views made again whenever that array is rebound; the Concat step copies nothing. The
truth is the same graph with `DATAFLOW_CONCAT_ELISION=0` (every Concat a real copy), compared bit for bit, and numpy
for the values of the block."""
import numpy as np
import pytest

import dataflow as mx
from dataflow import autograd, gluon
from ops.errors import MXNetError
from scheduler.memory import format_plan


@pytest.fixture(autouse=True, scope="module")
def _numba_array_support_loaded():
    """Compiled plans compile before their run once numba's array support is loaded (else in the background)."""
    import numba.np.arraymath  # noqa: F401


@pytest.fixture(params=["interpreted", "compiled"])
def jit(request, monkeypatch):
    from scheduler import compile as jit_module
    monkeypatch.setenv("DATAFLOW_JIT", "0" if request.param == "interpreted" else "1")
    monkeypatch.setattr(jit_module, "COMPILE_AFTER_RUNS", 0)
    return request.param


def relu(x):
    return mx.sym.Activation(x, act_type="relu")


def inception_head(num=(3, 4)):
    """Branches written by ops that take batch-strided arrays (Convolution, Pooling, Activation), joined along the
    channels by a Concat that is the graph's output."""
    data = mx.sym.Variable("data")
    branches = [relu(mx.sym.Convolution(data, weight=mx.sym.Variable("w%d" % k), num_filter=n, kernel=(1, 1),
                                        no_bias=True)) for k, n in enumerate(num)]
    branches.append(relu(mx.sym.Pooling(data, kernel=(3, 3), pad=(1, 1), pool_type="avg")))
    return mx.sym.Concat(*branches, dim=1, name="head_concat")


def inception_values(batch, num=(3, 4), channels=2, seed=1):
    rs = np.random.RandomState(seed)
    values = {"data": rs.randn(batch, channels, 5, 5).astype(np.float32)}
    for k, n in enumerate(num):
        values["w%d" % k] = rs.randn(n, channels, 1, 1).astype(np.float32)
    return values


def inception_numpy(values, num=(3, 4)):
    x = values["data"]
    convs = [np.maximum(np.einsum("oc,nchw->nohw", values["w%d" % k][:, :, 0, 0], x), 0) for k in range(len(num))]
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    pool = sum(padded[:, :, i:i + 5, j:j + 5] for i in range(3) for j in range(3)) / 9
    return np.concatenate(convs + [np.maximum(pool, 0)], axis=1)


def bind(net, values, train, elide, monkeypatch):
    monkeypatch.setenv("DATAFLOW_CONCAT_ELISION", "1" if elide else "0")
    args = {n: mx.nd.array(v) for n, v in values.items()}
    grads = {n: mx.nd.zeros(v.shape) for n, v in values.items()} if train else None
    return net.bind(mx.cpu(), args, args_grad=grads, grad_req="write" if train else "null"), grads


def settled():
    """Wait for the engine and the background compiles: the next run of a compiled plan runs compiled. (Compiled
    and interpreted runs may differ in the last bit, or in a zero's sign: the calls compared run the same way.)"""
    from scheduler.compile import wait_all
    mx.nd.waitall()
    wait_all()


def run_executor(net, values, train, elide, monkeypatch, calls=3, head_grads=None):
    """Per call after the first (new data copied into the bound argument first): the outputs and argument
    gradients."""
    ex, grads = bind(net, values, train, elide, monkeypatch)
    results = []
    for k in range(calls):
        ex.arg_dict["data"][:] = values["data"] * (1.0 + 0.5 * k)
        outs = [o.asnumpy() for o in ex.forward(is_train=train)]
        if train:
            ex.backward([mx.nd.array(g) for g in head_grads])
        settled()
        if hasattr(ex._plan, "wait"):
            ex._plan.wait()
        if k:
            results.append(outs + ([grads[n].asnumpy() for n in sorted(grads)] if train else []))
    return results, ex


def head_concat_step(ex):
    g = ex._plan.graph
    (nid,) = [n for n, node in enumerate(g.nodes) if node.op is not None and node.op.name == "Concat"
              and g.node_row_ptr[n] in g.heads]
    return nid


# ---------------------------------------------------------------------------------------------------------------
# Executors: inference and training, batch 1 (contiguous slices) and 3 (batch-strided), interpreted and compiled
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("train", [False, True])
def test_symbol_head_concat_writes_into_the_output(jit, monkeypatch, batch, train):
    net, values = inception_head(), inception_values(batch)
    head_grads = [np.random.RandomState(2).randn(batch, 9, 5, 5).astype(np.float32)]
    want, plain = run_executor(net, values, train, False, monkeypatch, head_grads=head_grads)
    got, ex = run_executor(net, values, train, True, monkeypatch, head_grads=head_grads)
    for w, g in zip(want, got, strict=True):
        for a, b in zip(w, g, strict=True):
            np.testing.assert_array_equal(b, a)
    np.testing.assert_allclose(got[0][0], inception_numpy(dict(values, data=values["data"] * 1.5)), rtol=1e-5,
                               atol=1e-5)
    memory, nid = ex._plan.memory, head_concat_step(ex)
    assert nid in memory.elided and nid not in plain._plan.memory.elided
    assert memory.elided_saved_bytes > 0 and memory.elided_copy_bytes >= ex.outputs[0]._data.nbytes
    assert memory.planned_bytes < plain._plan.memory.planned_bytes
    out = ex.outputs[0]._data
    for eid in ex._plan.graph.inputs[nid]:         # every branch is a view of the output array
        assert np.shares_memory(ex._plan.arrays[eid], out)
        assert memory.outside[memory.storage_id[eid]] == ex._plan.graph.node_row_ptr[nid]
    if batch > 1:
        assert all(memory.row_strides[memory.storage_id[e]] is not None for e in ex._plan.graph.inputs[nid])


def test_the_plan_reports_the_elided_head(monkeypatch, capsys):
    monkeypatch.setenv("DATAFLOW_JIT", "0")
    monkeypatch.setenv("DATAFLOW_DEBUG", "1")
    ex, _ = bind(inception_head(), inception_values(1), False, True, monkeypatch)
    assert "1 concat/split steps elided" in capsys.readouterr().err
    plan = ex._plan
    head = plan.graph.node_row_ptr[head_concat_step(ex)]
    text = format_plan(plan.graph, [a.shape for a in plan.arrays], [a.dtype for a in plan.arrays], plan.memory)
    # the three branches, and the Pooling output whose storage the last branch's relu took in place
    assert text.count("(in the array of %%%d at +" % head) == 4
    # the branches take no arena: what is left is smaller than the output it no longer copies from
    assert plan.arena.nbytes < ex.outputs[0]._data.nbytes


def test_executor_reshape_plans_again_with_new_outputs(jit, monkeypatch):
    """A reshaped Executor has new output arrays (and another layout: batch 1 -> 2): its plan elides into those."""
    net = inception_head()
    got, want = [], []
    for elide, into in ((True, got), (False, want)):
        ex, _ = bind(net, inception_values(1), False, elide, monkeypatch)
        into.append(ex.forward()[0].asnumpy())
        ex2 = ex.reshape(allow_up_sizing=True, data=(2, 2, 5, 5))
        ex2.arg_dict["data"][:] = inception_values(2)["data"]
        into.append(ex2.forward()[0].asnumpy())
        into.append(ex.forward()[0].asnumpy())      # the first executor still writes its own output
        if elide:
            assert ex2.outputs[0] is not ex.outputs[0]
            assert head_concat_step(ex2) in ex2._plan.memory.elided
    for w, g in zip(want, got, strict=True):
        np.testing.assert_array_equal(g, w)
    np.testing.assert_allclose(got[1], inception_numpy(dict(inception_values(1), data=inception_values(2)["data"])),
                               rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------------------------------------------------------
# When the copy stays, and values read after the Concat
# ---------------------------------------------------------------------------------------------------------------

def test_conditions_that_keep_the_copy(monkeypatch):
    monkeypatch.setenv("DATAFLOW_JIT", "0")
    rs = np.random.RandomState(4)
    x, y = mx.sym.Variable("x"), mx.sym.Variable("y")
    a, b, c = relu(x), mx.sym.tanh(y), mx.sym.sigmoid(y)
    values = {"x": rs.randn(1, 2, 3).astype(np.float32), "y": rs.randn(1, 3, 3).astype(np.float32)}
    cases = {   # name: (net, how many of its Concats may elide)
        "a branch is a graph output": (mx.sym.Group([mx.sym.Concat(a, b, dim=1), a]), 0),
        "a branch is an argument": (mx.sym.Concat(x, b, dim=1), 0),
        "a branch twice": (mx.sym.Concat(a, a, dim=1), 0),
        "a branch feeds two Concats": (mx.sym.Group([mx.sym.Concat(a, b, dim=1), mx.sym.Concat(c, a, dim=1)]), 1),
        "the output is also an earlier output": (mx.sym.Group([mx.sym.Concat(a, b, dim=1)] * 2), 1),
        "axis 2 at batch 1 (rows of 3)": (mx.sym.Concat(a, mx.sym.tanh(x), dim=2), 0),
    }
    for what, (net, most) in cases.items():
        outs = {}
        for elide in (False, True):
            ex, _ = bind(net, values, False, elide, monkeypatch)
            outs[elide] = [o.asnumpy() for o in ex.forward()]
            if elide:
                assert len(ex._plan.memory.elided) <= most, what
        for w, g in zip(outs[False], outs[True], strict=True):
            np.testing.assert_array_equal(g, w, err_msg=what)


def test_batch_strided_branch_an_unflagged_op_writes_keeps_the_copy(monkeypatch):
    """At batch 3 along axis 1 a branch written by an elementwise op (no per-sample split) cannot be strided."""
    monkeypatch.setenv("DATAFLOW_JIT", "0")
    x, y = mx.sym.Variable("x"), mx.sym.Variable("y")
    rs = np.random.RandomState(5)
    values = {"x": rs.randn(3, 2, 4).astype(np.float32), "y": rs.randn(3, 1, 4).astype(np.float32)}
    net = mx.sym.Concat(relu(x), mx.sym.tanh(y), dim=1)
    ex, _ = bind(net, values, False, True, monkeypatch)
    assert not ex._plan.memory.elided
    np.testing.assert_array_equal(ex.forward()[0].asnumpy(),
                                  np.concatenate([np.maximum(values["x"], 0), np.tanh(values["y"])], axis=1))


def test_a_branch_read_after_the_concat_reads_the_output(jit, monkeypatch):
    """A branch also read by a later op (and, in training, by its gradient) still elides: its value stays in the
    output array until that read."""
    x, y = mx.sym.Variable("x"), mx.sym.Variable("y")
    a, b = relu(x * 2.0), mx.sym.tanh(y)
    net = mx.sym.Group([mx.sym.Concat(a, b, dim=0), mx.sym.sum(a * 3.0) + 1.0])
    rs = np.random.RandomState(6)
    values = {"x": rs.randn(2, 3).astype(np.float32), "y": rs.randn(1, 3).astype(np.float32)}
    head_grads = [rs.randn(3, 3).astype(np.float32), np.ones((1,), np.float32)]
    results = {}
    for elide in (False, True):
        monkeypatch.setenv("DATAFLOW_CONCAT_ELISION", "1" if elide else "0")
        grads = {n: mx.nd.zeros(v.shape) for n, v in values.items()}
        ex = net.bind(mx.cpu(), {n: mx.nd.array(v) for n, v in values.items()}, args_grad=grads)
        for _ in range(2):
            outs = [o.asnumpy() for o in ex.forward(is_train=True)]
            ex.backward([mx.nd.array(g) for g in head_grads])
            settled()       # the second call runs compiled in both plans (compiled tanh may differ in the last bit)
        results[elide] = outs + [grads[n].asnumpy() for n in sorted(grads)]
        assert bool(ex._plan.memory.elided) == elide
    for w, g in zip(results[False], results[True], strict=True):
        np.testing.assert_array_equal(g, w)


def test_rebinding_the_output_to_an_unfit_array_is_an_error(monkeypatch):
    monkeypatch.setenv("DATAFLOW_JIT", "0")
    ex, _ = bind(inception_head(), inception_values(1), False, True, monkeypatch)
    plan, head = ex._plan, ex._plan.graph.node_row_ptr[head_concat_step(ex)]
    before = list(plan.arrays)
    with pytest.raises(MXNetError, match="C-contiguous float32 array of shape"):
        plan.rebind(head, np.zeros((1, 9, 5, 10), np.float32)[..., ::2])
    assert all(a is b for a, b in zip(plan.arrays, before, strict=True))     # refused: nothing rebound
    fresh = np.empty((1, 9, 5, 5), np.float32)
    plan.rebind(head, fresh)        # a fitting array: the branches are views of it now
    plan.run(_ctx(), segment="forward")
    np.testing.assert_allclose(fresh, inception_numpy(inception_values(1)), rtol=1e-5, atol=1e-5)


def _ctx():
    from ops.registry import OpContext
    return OpContext(is_train=False)


def test_a_plan_given_no_fitting_array_copies(monkeypatch):
    """A Plan whose output array cannot hold the views (here: non-contiguous) gives the branches buffers of their
    own and runs the Concat as the real copy."""
    from scheduler import build
    from scheduler.plan import Plan
    monkeypatch.setenv("DATAFLOW_JIT", "0")
    net, values = inception_head(), inception_values(3)
    lowered = build.lower(net._outputs, {n: v.shape for n, v in values.items()},
                          {n: v.dtype for n, v in values.items()})
    g = lowered.graph
    bound = {g.node_row_ptr[nid]: values[g.nodes[nid].name] for nid in g.arg_nodes}
    head = g.heads[0]
    memory = lowered.memory_plan(set(bound) | {head}, into={head})
    assert memory.elided
    out = np.zeros((3, 9, 5, 10), np.float32)[..., ::2]
    plan = Plan(g, lowered.shapes, lowered.dtypes, memory, {**bound, head: out})
    (concat,) = [step for step in plan.steps if step.op_name == "Concat"]
    assert concat.kernel is g.nodes[concat.nid].op.cpu       # the real copy
    plan.run(_ctx())
    np.testing.assert_allclose(out, inception_numpy(values), rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------------------------------------------------------
# Hybridized blocks: fresh output arrays per call, rebound (inference: the cached graph; training: _CachedBackward)
# ---------------------------------------------------------------------------------------------------------------

class Inception(gluon.HybridBlock):
    def __init__(self):
        super().__init__()
        with self.name_scope():
            self.a = gluon.nn.Conv2D(3, 1, in_channels=2)
            self.b = gluon.nn.Conv2D(4, 3, padding=1, in_channels=2)

    def hybrid_forward(self, F, x):
        pool = F.Pooling(x, kernel=(3, 3), pad=(1, 1), pool_type="avg")
        return F.concat(F.Activation(self.a(x), act_type="relu"), F.Activation(self.b(x), act_type="relu"),
                        F.Activation(pool, act_type="relu"), dim=1)


def _block_results(elide, monkeypatch, batch, train):
    monkeypatch.setenv("DATAFLOW_CONCAT_ELISION", "1" if elide else "0")
    mx.random.seed(0)
    net = Inception()
    net.initialize(mx.init.Xavier())
    net.hybridize()
    rs = np.random.RandomState(7)
    xs = [mx.nd.array(rs.randn(batch, 2, 5, 5)) for _ in range(3)]
    outs, grads = [], []
    if not train:
        net(xs[0])
        settled()
        outs = [net(x) for x in xs]         # three fresh outputs: each call's branches are views of its own
        return [o.asnumpy() for o in outs], net
    with autograd.record():
        y = net(xs[0])
    y.backward()
    settled()
    for x in xs:
        x.attach_grad()
    with autograd.record():
        ys = [net(x) for x in xs[:2]]       # two calls before one backward: two Plans, two output arrays
        losses = [(y * y).sum() for y in ys]
    autograd.backward(losses)
    outs = [y.asnumpy() for y in ys] + [x.grad.asnumpy() for x in xs[:2]]
    grads = [p.grad().asnumpy() for p in net.collect_params().values()]
    with autograd.record():
        y = net(xs[2])                      # a pooled Plan, rebound to a new output
    y.backward()
    return outs + grads + [y.asnumpy(), xs[2].grad.asnumpy()], net


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("train", [False, True])
def test_hybridized_block_ending_in_concat(jit, monkeypatch, batch, train):
    want, _ = _block_results(False, monkeypatch, batch, train)
    got, net = _block_results(True, monkeypatch, batch, train)
    for cached in net._cached_plans._entries.values():
        memory = cached._memory if train else cached._plan.memory
        # the forward Concat (in training, its backward split reads the head gradient, an input: it copies)
        assert len(memory.elided) == 1 and memory.elided_saved_bytes > 0
    for w, g in zip(want, got, strict=True):
        np.testing.assert_array_equal(g, w)
    if not train:       # each output holds its own call's values
        assert not np.array_equal(got[0], got[1])


# ---------------------------------------------------------------------------------------------------------------
# Autograd: the gradient of a split is a Concat written into x.grad
# ---------------------------------------------------------------------------------------------------------------

def _split_gradients(elide, monkeypatch, batch):
    from dataflow.autograd import backward_plans
    monkeypatch.setenv("DATAFLOW_CONCAT_ELISION", "1" if elide else "0")
    backward_plans.clear()          # plans are kept by the graph's signature, which the setting is not part of
    rs = np.random.RandomState(8)
    results = []
    for k in range(3):              # the kept plan, rebound to each call's x.grad
        x = mx.nd.array(rs.randn(batch, 4, 3))
        x.attach_grad()
        with autograd.record():
            parts = mx.nd.split(x, num_outputs=2, axis=1)
            heads = [mx.nd.Activation(parts[0], act_type="relu"), mx.nd.Activation(parts[1], act_type="sigmoid")]
        # each branch's gradient is `_backward_Activation`'s output (per sample: batch-strided slices at batch 2)
        autograd.backward(heads, [mx.nd.array(rs.randn(batch, 2, 3)) for _ in heads])
        settled()
        if k:
            results.append(x.grad.asnumpy())
    (kept,) = backward_plans._plans.values()
    results.append(bool(kept.plan.memory.elided))
    return results


@pytest.mark.parametrize("batch", [1, 2])
def test_autograd_split_gradient_into_the_gradient_array(jit, monkeypatch, batch):
    if batch > 1:   # batch-strided steps run interpreted (the JIT takes contiguous arrays): so does the truth
        with monkeypatch.context() as m:
            m.setenv("DATAFLOW_JIT", "0")
            want = _split_gradients(False, m, batch)
    else:
        want = _split_gradients(False, monkeypatch, batch)
    got = _split_gradients(True, monkeypatch, batch)
    assert got.pop() and not want.pop()     # the kept plan elided the Concat into the gradient array
    for w, g in zip(want, got, strict=True):
        np.testing.assert_array_equal(g, w)


class Elementwise(gluon.HybridBlock):
    """Steps that all have njit bodies: once compiled, the whole Plan is one function (the cached graph's `Binder`
    then calls it with the new input and output arrays)."""

    def hybrid_forward(self, F, x):
        return F.concat(F.relu(x * 2.0), F.tanh(x) + 1.0, dim=0)


def test_hybridized_compiled_call_writes_each_new_output(monkeypatch):
    from scheduler import compile as jit_module
    monkeypatch.setenv("DATAFLOW_JIT", "1")
    monkeypatch.setattr(jit_module, "COMPILE_AFTER_RUNS", 0)
    net = Elementwise()
    net.hybridize()
    rs = np.random.RandomState(9)
    xs = [rs.randn(2, 3).astype(np.float32) for _ in range(4)]
    outs = []
    for x in xs:
        outs.append(net(mx.nd.array(x)))
        settled()
    (cached,) = net._cached_plans._entries.values()
    assert cached._plan.memory.elided
    for x, out in zip(xs, outs, strict=True):   # every call wrote its own output, and only that one
        np.testing.assert_allclose(out.asnumpy(), np.concatenate([np.maximum(x * 2, 0), np.tanh(x) + 1]), rtol=1e-6)


# ---------------------------------------------------------------------------------------------------------------
# A GPU plan (numba-cuda's simulator, in a fresh process): the branches get buffers of their own, the Concat copies
# ---------------------------------------------------------------------------------------------------------------

_GPU_SCRIPT = """
import numpy as np
import dataflow as mx
from dataflow import autograd, gluon

class Block(gluon.HybridBlock):
    def hybrid_forward(self, F, x):
        return F.concat(F.Activation(x * 2.0, act_type="relu"), F.Activation(x, act_type="sigmoid"), dim=0)

def run(ctx):
    net = Block()
    net.hybridize()
    rs = np.random.RandomState(0)
    res = []
    for _ in range(2):
        x = mx.nd.array(rs.randn(3, 2, 4), ctx=ctx)
        x.attach_grad()
        with autograd.record():
            y = net(x)
            loss = (y * y).sum()
        loss.backward()
        res += [y.asnumpy(), x.grad.asnumpy()]
    (cached,) = net._cached_plans._entries.values()
    assert cached._memory.elided        # planned into the output; on the GPU the Plan copies instead
    return res

for g, w in zip(run(mx.gpu()), run(mx.cpu())):
    np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
print("same")
"""


@pytest.mark.cuda
def test_gpu_plan_keeps_the_copy_under_the_simulator():
    import os
    import subprocess
    import sys
    pytest.importorskip("numba_cuda", reason="needs the cuda extra: pip install -e '.[cuda]'")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", PYTHONWARNINGS="ignore")
    proc = subprocess.run([sys.executable, "-c", _GPU_SCRIPT], cwd=root, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0 and "same" in proc.stdout, (proc.stdout + proc.stderr)[-4000:]


class _TanhConcat(gluon.HybridBlock):
    """Two convolutions through tanh, concatenated as the output: tanh's gradient reads its output, which lives in
    the caller's output array."""

    def __init__(self):
        super().__init__()
        with self.name_scope():
            self.a = gluon.nn.Conv2D(8, 3, padding=1)
            self.b = gluon.nn.Conv2D(8, 3, padding=1)

    def hybrid_forward(self, F, x):
        return F.concat(F.tanh(self.a(x)), F.tanh(self.b(x)), dim=1)


def _gradients_after(overwrite, segments, monkeypatch):
    monkeypatch.setenv("DATAFLOW_BACKWARD_SEGMENTS", str(segments))
    monkeypatch.setenv("DATAFLOW_JIT", "0")     # the same kernels in every call of both runs: bit for bit
    mx.random.seed(0)
    net = _TanhConcat()
    net.initialize(mx.init.Xavier())
    net.hybridize()
    x = mx.nd.array(np.random.RandomState(2).rand(8, 4, 16, 16))
    for _ in range(3):
        with autograd.record():
            y = net(x)
        y.wait_to_read()
        y.backward()
        if overwrite:
            y[:] = 0            # pushed while the backward may not have run yet
    return [p.grad().asnumpy() for p in net.collect_params().values()]


@pytest.mark.parametrize("segments", [1, 2])
def test_writing_the_output_after_backward_leaves_the_gradients(monkeypatch, segments):
    """Note [the backward reads the outputs] in dataflow/gluon/cached_graph.py: the backward declares its read of
    the outputs it reads elided values from, so a write pushed after `backward()` waits for it (MXNet's gradients)."""
    want = _gradients_after(False, segments, monkeypatch)
    for w, g in zip(want, _gradients_after(True, segments, monkeypatch), strict=True):
        np.testing.assert_array_equal(g, w)
