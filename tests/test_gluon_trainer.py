"""gluon.Trainer: steps, stale gradients, the dense update against SGD's, pending parameters, errors, the learning
rate and optimizer instance, and saving and loading its states.
"""
import numpy as np
import pytest

import dataflow as mx
from dataflow import gluon


def _param(name, value, grad_req="write", **kwargs):
    p = gluon.Parameter(name, shape=np.shape(value), grad_req=grad_req, **kwargs)
    p.initialize()
    p.set_data(mx.nd.array(value))
    return p


def _backward(params, grads):
    """Run a backward pass giving each parameter the gradient `grads[i]` (written or added: grad_req)."""
    with mx.autograd.record():
        loss = sum((p.data() * mx.nd.array(g)).sum() for p, g in zip(params, grads, strict=True))
    loss.backward()


def test_trainer_step():
    w = _param("w", [1.0, 2.0])
    frozen = _param("frozen", [5.0], grad_req="null")
    acc = _param("acc", [1.0], grad_req="add")
    trainer = gluon.Trainer([w, frozen, acc], "sgd", {"learning_rate": 0.5})
    _backward([w, frozen, acc], [[2.0, -4.0], [1.0], [3.0]])
    trainer.step(batch_size=2)                      # rescale_grad = 1/2
    np.testing.assert_allclose(w.data().asnumpy(), [0.5, 3.0])
    np.testing.assert_allclose(frozen.data().asnumpy(), [5.0])
    np.testing.assert_allclose(acc.data().asnumpy(), [0.25])
    assert trainer.optimizer.rescale_grad == 0.5
    _backward([w, acc], [[0.0, 0.0], [1.0]])
    np.testing.assert_allclose(acc.grad().asnumpy(), [4.0])      # the user zeroes 'add' gradients
    trainer.allreduce_grads()
    trainer.update(batch_size=4)                    # update() rescales too
    np.testing.assert_allclose(acc.data().asnumpy(), [-0.25])


def test_trainer_stale_gradients():
    w, unused = _param("w", [1.0]), _param("unused", [1.0])
    trainer = gluon.Trainer([w, unused], "sgd", {"learning_rate": 1.0})
    _backward([w], [[1.0]])
    with pytest.raises(UserWarning, match="Parameter `unused`"):
        trainer.step(1)
    trainer.step(1, ignore_stale_grad=True)         # updates w, skips the stale one
    np.testing.assert_allclose([w.data().asscalar(), unused.data().asscalar()], [0.0, 1.0])


def test_trainer_dense_matches_sgd():
    rng = np.random.RandomState(1)
    W, B = rng.uniform(-1, 1, (3, 4)).astype(np.float32), rng.uniform(-1, 1, 3).astype(np.float32)
    X, Y = rng.uniform(-1, 1, (5, 4)).astype(np.float32), rng.uniform(-1, 1, (5, 3)).astype(np.float32)
    net = gluon.nn.Dense(3, in_units=4)
    net.initialize()
    net.weight.set_data(mx.nd.array(W))
    net.bias.set_data(mx.nd.array(B))
    net.bias.lr_mult, net.bias.wd_mult = 2.0, 0.0
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1, "momentum": 0.9, "wd": 0.01})
    assert [p.name for p in trainer._params] == sorted(net.collect_params().keys())     # bias first
    w, b = W.astype(np.float64), B.astype(np.float64)
    mw, mb = np.zeros_like(w), np.zeros_like(b)
    for _ in range(3):
        with mx.autograd.record():
            loss = ((net(mx.nd.array(X)) - mx.nd.array(Y)) ** 2).sum()
        loss.backward()
        trainer.step(5)
        r = X @ w.T + b - Y                          # loss = sum(r^2): dW = 2 r^T X, db = 2 sum(r)
        mw = 0.9 * mw - 0.1 * (2 * r.T @ X / 5 + 0.01 * w)
        mb = 0.9 * mb - 0.2 * (2 * r.sum(0) / 5)
        w, b = w + mw, b + mb
    np.testing.assert_allclose(net.weight.data().asnumpy(), w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(net.bias.data().asnumpy(), b, rtol=1e-5, atol=1e-6)
    # the same three steps, computed once with MXNet 1.9.1's gluon.Trainer
    np.testing.assert_allclose(net.weight.data().asnumpy().ravel(), [
        -0.0910956859588623, 0.5396845936775208, -0.7957385778427124, -0.6390963196754456,
        -0.4501999020576477, -0.5483478307723999, -0.7757120132446289, -0.0735766664147377,
        -0.41449296474456787, 0.11790987849235535, 0.5713118314743042, -0.46029719710350037],
        rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(net.bias.data().asnumpy(), [-0.12080077826976776, 0.09173920750617981,
                                                           1.1506729125976562], rtol=1e-5, atol=1e-6)


def test_trainer_accepts_pending_parameters():
    net = gluon.nn.Dense(2)                          # in_units unknown until the first forward
    net.initialize(mx.initializer.One())
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    x = mx.nd.ones((3, 4))
    with mx.autograd.record():
        loss = net(x).sum()
    loss.backward()
    trainer.step(3)
    np.testing.assert_allclose(net.weight.data().asnumpy(), np.full((2, 4), 0.9), rtol=1e-6)


def test_trainer_errors():
    w = _param("w", [1.0])
    with pytest.raises(ValueError, match="list or dict of Parameters"):
        gluon.Trainer(w, "sgd")
    with pytest.raises(ValueError, match="got list of str"):
        gluon.Trainer(["w"], "sgd")
    with pytest.raises(ValueError, match="optimizer_params must be None"):
        gluon.Trainer([w], mx.optimizer.SGD(), {"learning_rate": 0.1})
    with pytest.raises(RuntimeError, match="has not been initialized"):      # MXNet's type
        gluon.Trainer([gluon.Parameter("raw", shape=(2,))], "sgd")
    with pytest.raises(ValueError, match="Cannot find optimizer"):
        gluon.Trainer([w], "nosuch")


def test_trainer_learning_rate_and_optimizer_instance():
    w = _param("w", [1.0])
    opt = mx.optimizer.create("sgd", learning_rate=0.2)
    trainer = gluon.Trainer({"w": w}, opt)
    assert trainer.optimizer is opt and opt.param_dict == {0: w}
    assert trainer.learning_rate == 0.2
    trainer.set_learning_rate(0.05)
    assert trainer.learning_rate == 0.05 and opt.lr == 0.05


def test_trainer_save_and_load_states(tmp_path):
    def make():
        w = _param("w", [1.0, -1.0])
        return w, gluon.Trainer([w], "adam", {"learning_rate": 0.1, "wd": 0.01})

    grads = [[1.0, 2.0], [-0.5, 0.3], [0.2, 0.2], [2.0, -1.0]]
    w, trainer = make()
    for g in grads[:2]:
        _backward([w], [g])
        trainer.step(1)
    path = tmp_path / "trainer.states"
    trainer.save_states(str(path))
    assert path.exists() and [p.name for p in tmp_path.iterdir()] == ["trainer.states"]   # no temporary left

    w2, trainer2 = make()
    w2.set_data(w.data())
    trainer2.load_states(str(path))
    assert trainer2.optimizer.num_update == 2 and trainer2.optimizer.param_dict == {0: w2}
    for g in grads[2:]:
        for param, tr in ((w, trainer), (w2, trainer2)):
            _backward([param], [g])
            tr.step(1)
    np.testing.assert_array_equal(w2.data().asnumpy(), w.data().asnumpy())

    bad_trainer = gluon.Trainer([_param("w", [1.0, 2.0, 3.0])], "adam")
    with pytest.raises(ValueError, match="does not match Parameter w"):
        bad_trainer.load_states(str(path))
    assert isinstance(bad_trainer.optimizer, mx.optimizer.Adam) and bad_trainer.optimizer.num_update == 0
