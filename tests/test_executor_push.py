"""Executor.forward/backward keep their engine pushes between calls and fill the head gradients with ones only when
out_grads changed them: the gradients must still be those of the out_grads of each call (numpy's formulas)."""
import numpy as np

import dataflow as mx


def _bound(batch=5, features=7, hidden=3, seed=0):
    x = mx.sym.Variable("x")
    y = mx.sym.FullyConnected(x, num_hidden=hidden, name="fc")
    rs = np.random.RandomState(seed)
    ex = y.simple_bind(mx.cpu(), x=(batch, features))
    values = {n: rs.uniform(-1, 1, a.shape).astype(np.float32) for n, a in ex.arg_dict.items()}
    for n, v in values.items():
        ex.arg_dict[n][:] = v
    return ex, values, rs


def _check(ex, values, head):
    """The gradients of y = x @ W.T + b for the head gradient `head`, against numpy."""
    np.testing.assert_allclose(ex.grad_dict["x"].asnumpy(), head @ values["fc_weight"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ex.grad_dict["fc_weight"].asnumpy(), head.T @ values["x"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ex.grad_dict["fc_bias"].asnumpy(), head.sum(axis=0), rtol=1e-5, atol=1e-5)


def test_default_head_gradient_is_ones_again_after_out_grads():
    ex, values, rs = _bound()
    ones = np.ones((5, 3), np.float32)
    for head in (None, rs.uniform(-1, 1, (5, 3)).astype(np.float32), None, None,
                 rs.uniform(-1, 1, (5, 3)).astype(np.float32), rs.uniform(-1, 1, (5, 3)).astype(np.float32), None):
        ex.forward(is_train=True)
        ex.backward(None if head is None else mx.nd.array(head))
        _check(ex, values, ones if head is None else head)


def test_forward_sees_new_argument_values_and_both_modes_between_calls():
    ex, values, rs = _bound(seed=1)
    for is_train in (False, True, False, True):
        values["x"] = rs.uniform(-1, 1, values["x"].shape).astype(np.float32)
        ex.forward(is_train=is_train, x=values["x"])
        want = values["x"] @ values["fc_weight"].T + values["fc_bias"]
        np.testing.assert_allclose(ex.outputs[0].asnumpy(), want, rtol=1e-5, atol=1e-5)
        ex.backward()
        _check(ex, values, np.ones((5, 3), np.float32))


def test_a_bad_out_grad_leaves_the_head_gradients_as_they_were():
    ex, values, _ = _bound(seed=2)
    ex.forward(is_train=True)
    try:
        ex.backward(mx.nd.ones((4, 3)))
    except mx.base.MXNetError:
        pass
    else:
        raise AssertionError("a wrong out_grad shape must raise")
    ex.backward()
    _check(ex, values, np.ones((5, 3), np.float32))
