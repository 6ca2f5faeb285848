"""The pieces Module, BucketingModule and SVRGModule share (dataflow/module/base_module.py, one_executor.py,
executor_group.grad_req_dict): checked against numpy and MXNet 1.9.1's documented behaviour."""
import logging
import warnings

import numpy as np
import pytest

import dataflow as mx
from dataflow.contrib.svrg_optimization.svrg_module import SVRGModule


def _fc_module(**kwargs):
    data = mx.sym.var("data")
    net = mx.sym.FullyConnected(data, num_hidden=2, name="fc")
    return mx.mod.Module(net, label_names=None, **kwargs)


def _set_weights(mod, rs):
    weight = rs.uniform(-1, 1, (2, 3)).astype(np.float32)
    bias = rs.uniform(-1, 1, (2,)).astype(np.float32)
    mod.init_params(arg_params={"fc_weight": mx.nd.array(weight), "fc_bias": mx.nd.array(bias)})
    return weight, bias


def test_predict_and_iter_predict_drop_padding_and_match_numpy():
    rs = np.random.RandomState(0)
    x = rs.uniform(-1, 1, (7, 3)).astype(np.float32)
    mod = _fc_module()
    mod.bind(data_shapes=[("data", (3, 3))], for_training=False)
    weight, bias = _set_weights(mod, rs)
    want = x @ weight.T + bias
    it = mx.io.NDArrayIter(x, batch_size=3, last_batch_handle="pad")
    np.testing.assert_allclose(mod.predict(it).asnumpy(), want, rtol=1e-5, atol=1e-6)
    rows = [(outputs[0].asnumpy(), nbatch, batch.pad) for outputs, nbatch, batch in mod.iter_predict(it)]
    assert [(r.shape[0], n, pad) for r, n, pad in rows] == [(3, 0, 0), (3, 1, 0), (1, 2, 2)]
    np.testing.assert_allclose(np.concatenate([r for r, _, _ in rows]), want, rtol=1e-5, atol=1e-6)
    assert len(mod.predict(it, num_batch=2, merge_batches=False)) == 2


@pytest.mark.parametrize("grad_req, exc, match", [(["write"], AssertionError, None),
                                                  (3, ValueError, "grad_req must be one of")])
def test_bad_grad_req_fails_as_mxnet(grad_req, exc, match):
    # MXNet's DataParallelExecutorGroup: a list must give one req per argument; other types are a ValueError
    mod = _fc_module()
    with pytest.raises(exc, match=match):
        mod.bind(data_shapes=[("data", (3, 3))], grad_req=grad_req)


def test_grad_req_rule_per_argument():
    mod = _fc_module(fixed_param_names=["fc_bias"])
    mod.bind(data_shapes=[("data", (3, 3))], inputs_need_grad=True, grad_req="add")
    # parameters get the given req, fixed ones 'null', data only with inputs_need_grad (MXNet's rule)
    assert mod._exec._grad_req == {"data": "add", "fc_weight": "add", "fc_bias": "null"}
    plain = _fc_module()
    plain.bind(data_shapes=[("data", (3, 3))])
    assert plain._exec._grad_req == {"data": "null", "fc_weight": "write", "fc_bias": "write"}


@pytest.mark.parametrize("bucketing", [False, True])
def test_set_params_allow_missing_keeps_the_others(bucketing):
    rs = np.random.RandomState(1)
    if bucketing:
        mod = mx.mod.BucketingModule(lambda key: (mx.sym.FullyConnected(mx.sym.var("data"), num_hidden=2, name="fc"),
                                                  ("data",), None), default_bucket_key=3)
    else:
        mod = _fc_module()
    mod.bind(data_shapes=[("data", (3, 3))], for_training=False)
    mod.init_params(initializer=mx.init.Zero())
    new_bias = rs.uniform(-1, 1, (2,)).astype(np.float32)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mod.set_params({"fc_bias": mx.nd.array(new_bias)}, {}, allow_missing=True, force_init=False)
    assert any("set_params call ignored" in str(w.message) for w in caught)
    mod.set_params({"fc_bias": mx.nd.array(new_bias)}, {}, allow_missing=True)
    args, _ = mod.get_params()
    np.testing.assert_array_equal(args["fc_bias"].asnumpy(), new_bias)
    np.testing.assert_array_equal(args["fc_weight"].asnumpy(), np.zeros((2, 3), np.float32))


def test_svrg_fit_logs_local_train_values_after_a_resetting_callback(caplog):
    # MXNet 1.9.1's SVRGModule.fit logs get_name_value() (the local values: here the last batch's, the callback
    # having reset the others); Module.fit logs the global ones (the mean over the epoch's batches)
    rs = np.random.RandomState(2)
    x = rs.uniform(-1, 1, (8, 3)).astype(np.float32)
    y = rs.uniform(-1, 1, (8, 1)).astype(np.float32)
    weight = rs.uniform(-1, 1, (1, 3)).astype(np.float32)
    bias = rs.uniform(-1, 1, (1,)).astype(np.float32)
    out = mx.sym.LinearRegressionOutput(mx.sym.FullyConnected(mx.sym.var("data"), num_hidden=1, name="fc"),
                                        name="lro")
    batch_mse = [float(((x[i:i + 4] @ weight.T + bias - y[i:i + 4]) ** 2).mean()) for i in (0, 4)]

    def logged_train_mse(mod):
        it = mx.io.NDArrayIter(x, y, batch_size=4, label_name="lro_label")
        caplog.clear()
        with caplog.at_level(logging.INFO):
            mod.fit(it, eval_metric="mse", num_epoch=1, optimizer_params=(("learning_rate", 0.0),),
                    arg_params={"fc_weight": mx.nd.array(weight), "fc_bias": mx.nd.array(bias)},
                    batch_end_callback=lambda params: params.eval_metric.reset_local())
        line = [r.getMessage() for r in caplog.records if "Train-mse" in r.getMessage()][0]
        return float(line.split("=")[1])

    svrg = SVRGModule(out, label_names=("lro_label",), update_freq=2)
    assert logged_train_mse(svrg) == pytest.approx(batch_mse[1], rel=1e-4)
    plain = mx.mod.Module(out, label_names=("lro_label",))
    assert logged_train_mse(plain) == pytest.approx(np.mean(batch_mse), rel=1e-4)
