"""`gluon.contrib.estimator`: the fit/evaluate loops, the event handlers, their order, logs and checkpoints.

Truth: MXNet 1.9.1 running the same estimator on the same weights and data (reference/layout_more_fixtures.py,
tests/fixtures/mxnet-1.9.1/layout_more/), and a hand-written autograd + Trainer loop for the trained parameters.
"""
import inspect
import io
import json
import logging
import os
import re
import warnings

import numpy as np
import pytest

import dataflow as mx
from dataflow import gluon
from dataflow.gluon.contrib import estimator as est_mod
from tests.paths import FIXTURES

HERE = os.path.join(FIXTURES, "layout_more")
with open(os.path.join(HERE, "behaviour.json")) as _f:
    MX = json.load(_f)["estimator"]
with open(os.path.join(HERE, "modules.json")) as _f:
    MODULES = json.load(_f)
ARRAYS = np.load(os.path.join(HERE, "arrays.npz"))
PARAM_KEYS = {"net_dense0_weight": "w0", "net_dense0_bias": "b0", "net_dense1_weight": "w1", "net_dense1_bias": "b1"}


def _net(hybridize=False):
    net = gluon.nn.HybridSequential(prefix="net_")
    with net.name_scope():
        net.add(gluon.nn.Dense(5, activation="relu", in_units=4, prefix="dense0_"))
        net.add(gluon.nn.Dense(3, in_units=5, prefix="dense1_"))
    net.initialize(mx.init.Zero(), ctx=mx.cpu())
    for name, param in net.collect_params().items():
        param.set_data(mx.nd.array(ARRAYS[PARAM_KEYS[name]]))
    if hybridize:
        net.hybridize()
    return net


def _loaders():
    train = gluon.data.DataLoader(gluon.data.ArrayDataset(ARRAYS["x"], ARRAYS["y"]), batch_size=4)
    val = gluon.data.DataLoader(gluon.data.ArrayDataset(ARRAYS["vx"], ARRAYS["vy"]), batch_size=4)
    return train, val


def _estimator(net, **kwargs):
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.5, "momentum": 0.9})
    est = est_mod.Estimator(net, gluon.loss.SoftmaxCrossEntropyLoss(), trainer=trainer, context=mx.cpu(), **kwargs)
    stream = io.StringIO()
    est.logger.handlers = [logging.StreamHandler(stream)]
    return est, stream


def _scrub(text):
    text = re.sub(r"Finished in [0-9.]+s", "Finished in Xs", text)
    text = re.sub(r"total [0-9]+s", "total Xs", text)
    return re.sub(r"time/interval: [0-9.]+s", "time/interval: Xs", text)


class Recorder(est_mod.TrainBegin, est_mod.EpochBegin, est_mod.BatchBegin, est_mod.BatchEnd, est_mod.EpochEnd,
               est_mod.TrainEnd):
    """Logs each event it sees (at batch end with the training metrics, to see the MetricHandler ran first)."""

    def __init__(self, log, priority):
        self.log, self.priority = log, priority

    def train_begin(self, estimator, *args, **kwargs):
        self.log.append("train_begin")

    def epoch_begin(self, estimator, *args, **kwargs):
        self.log.append("epoch_begin")

    def batch_begin(self, estimator, *args, **kwargs):
        self.log.append("batch_begin")

    def batch_end(self, estimator, *args, **kwargs):
        self.log.append("batch_end %s" % [round(float(m.get()[1]), 6) for m in estimator.train_metrics])
        return False

    def epoch_end(self, estimator, *args, **kwargs):
        self.log.append("epoch_end")
        return False

    def train_end(self, estimator, *args, **kwargs):
        self.log.append("train_end")


def _params(net):
    return {k: v.data().asnumpy() for k, v in net.collect_params().items()}


def _handler_list(handlers):
    return [[type(h).__name__, float(getattr(h, "priority", 0))] for h in handlers]


# -- the loops ---------------------------------------------------------------------------------------------------

def test_fit_by_epochs_matches_mxnet_and_a_hand_written_loop():
    train, val = _loaders()
    est, stream = _estimator(_net())
    events = []
    est.fit(train, val_data=val, epochs=2, event_handlers=[Recorder(events, 0)])
    assert events == MX["fit_epochs_events"]
    assert _scrub(stream.getvalue()).splitlines() == MX["fit_epochs_log"]
    for got, want in zip(est.train_metrics + est.val_metrics, MX["fit_epochs_train_metrics"] +
                         MX["fit_epochs_val_metrics"]):
        assert got.get()[0] == want[0]
        np.testing.assert_allclose(got.get()[1], want[1], rtol=1e-5)
    trained = _params(est.net)
    for name, value in trained.items():
        np.testing.assert_allclose(value, ARRAYS["fit_epochs/" + name], rtol=1e-5, atol=1e-6)

    # the same training written out by hand: forward under record, backward, trainer.step(batch size)
    net = _net()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.5, "momentum": 0.9})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    for _ in range(2):
        for x, y in train:
            with mx.autograd.record():
                loss = loss_fn(net(x), y)
            loss.backward()
            trainer.step(x.shape[0])
    for name, value in _params(net).items():
        np.testing.assert_allclose(trained[name], value, rtol=1e-6, atol=1e-7)


def test_fit_on_two_contexts_matches_mxnet():
    train, _ = _loaders()
    net = _net()
    net.collect_params().reset_ctx([mx.cpu(0), mx.cpu(1)])
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.5, "momentum": 0.9})
    est = est_mod.Estimator(net, gluon.loss.SoftmaxCrossEntropyLoss(), trainer=trainer,
                            context=[mx.cpu(0), mx.cpu(1)])
    est.logger.handlers = []
    est.fit(train, epochs=2)
    for got, want in zip(est.train_metrics, MX["two_contexts_metrics"]):
        assert got.get()[0] == want[0]
        np.testing.assert_allclose(got.get()[1], want[1], rtol=1e-5)
    for name, param in est.net.collect_params().items():
        for ctx in (mx.cpu(0), mx.cpu(1)):
            np.testing.assert_allclose(param.data(ctx).asnumpy(), ARRAYS["two_contexts/" + name], rtol=1e-5,
                                       atol=1e-6)


def test_fit_by_batches_logs_every_batch_as_mxnet():
    train, _ = _loaders()
    est, stream = _estimator(_net())
    est.fit(train, batches=4, event_handlers=[est_mod.LoggingHandler(log_interval=1, metrics=est.train_metrics)])
    assert _scrub(stream.getvalue()).splitlines() == MX["fit_batches_log"]
    for name, value in _params(est.net).items():
        np.testing.assert_allclose(value, ARRAYS["fit_batches/" + name], rtol=1e-5, atol=1e-6)


def test_evaluate_matches_mxnet():
    _, val = _loaders()
    est, stream = _estimator(_net())
    est.evaluate(val)
    assert _scrub(stream.getvalue()).splitlines() == MX["evaluate_log"]
    for got, want in zip(est.val_metrics, MX["evaluate_metrics"]):
        assert got.get()[0] == want[0]
        np.testing.assert_allclose(got.get()[1], want[1], rtol=1e-5)


def test_default_metrics_and_handler_order_match_mxnet():
    train, val = _loaders()
    est, _ = _estimator(_net())
    assert [m.name for m in est.train_metrics] == MX["train_metric_names"]
    assert [m.name for m in est.val_metrics] == MX["val_metric_names"]
    est.max_epoch, est.max_batch = 2, None
    assert _handler_list(est._prepare_default_handlers(val, [])) == MX["default_handlers"]
    user = [Recorder([], 0)]
    assert _handler_list(est._prepare_default_handlers(val, user)) == MX["default_handlers_with_user"]
    assert len(user) == 1                           # the caller's list is not extended
    assert _handler_list(est._prepare_default_validation_handlers(None)) == MX["default_validation_handlers"]
    l2 = est_mod.Estimator(_net(), gluon.loss.L2Loss(), trainer=gluon.Trainer(_net().collect_params(), "sgd"))
    assert [m.name for m in l2.train_metrics] + [m.name for m in l2.val_metrics] == MX["l2_metric_names"]


def test_default_trainer_and_initialization():
    net = gluon.nn.Dense(2, in_units=3)
    with pytest.warns(UserWarning, match="default SGD optimizer with learning rate 0.001"):
        est = est_mod.Estimator(net, gluon.loss.L2Loss())
    assert est.context == [mx.cpu()] and type(est.trainer.optimizer).__name__ == "SGD"
    assert est.trainer.learning_rate == 0.001
    assert net.weight.list_ctx() == [mx.cpu()]          # initialised by the estimator
    with pytest.warns(UserWarning, match="Network already fully initialized"):
        est_mod.Estimator(net, gluon.loss.L2Loss(), initializer=mx.init.One(), trainer=est.trainer)
    with pytest.raises(ValueError, match="context must be a Context"):
        est_mod.Estimator(net, gluon.loss.L2Loss(), trainer=est.trainer, context="cpu")
    with pytest.raises(ValueError, match="Trainer must be a Gluon Trainer"):
        est_mod.Estimator(net, gluon.loss.L2Loss(), trainer="sgd")
    with pytest.raises(ValueError, match="must contain fit_batch"):
        est_mod.Estimator(net, gluon.loss.L2Loss(), trainer=est.trainer, batch_processor=object())


def test_errors_match_mxnet():
    train, _ = _loaders()
    calls = {
        "fit_both": lambda: _estimator(_net())[0].fit(train, epochs=1, batches=1),
        "fit_not_loader": lambda: _estimator(_net())[0].fit([1, 2], epochs=1),
        "bad_loss": lambda: est_mod.Estimator(_net(), "loss"),
        "bad_metric": lambda: est_mod.Estimator(_net(), gluon.loss.L2Loss(), train_metrics=["acc"]),
        "bad_handler": lambda: _estimator(_net())[0].fit(train, epochs=1, event_handlers=[1]),
        "foreign_metric": lambda: _estimator(_net())[0].fit(
            train, epochs=1, event_handlers=[est_mod.MetricHandler([mx.metric.Accuracy()])]),
        "bad_log_interval": lambda: est_mod.LoggingHandler(log_interval="batch"),
    }
    for key, call in calls.items():
        with pytest.raises(Exception) as caught:        # noqa: PT011 - the type is compared below
            call()
        assert [type(caught.value).__name__, str(caught.value)] == MX["errors"][key], key


# -- handlers ----------------------------------------------------------------------------------------------------

def test_early_stopping_matches_mxnet():
    train, _ = _loaders()
    est, _ = _estimator(_net())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stopper = est_mod.EarlyStoppingHandler(est.train_metrics[1], mode="min", patience=2, baseline=-1.0)
    est.fit(train, epochs=10, event_handlers=[stopper])
    assert {"stopped_epoch": stopper.stopped_epoch, "current_epoch": stopper.current_epoch,
            "wait": stopper.wait} == MX["early_stopping"]
    with pytest.raises(ValueError, match="CompositeEvalMetric is not supported"):
        est_mod.EarlyStoppingHandler(mx.metric.CompositeEvalMetric([mx.metric.Accuracy()]))


def test_checkpoints_and_resume_match_mxnet(tmp_path):
    train, _ = _loaders()
    model_dir = str(tmp_path)
    est, stream = _estimator(_net(hybridize=True))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        handler = est_mod.CheckpointHandler(model_dir, model_prefix="m", monitor=est.train_metrics[0],
                                            save_best=True, epoch_period=None, batch_period=2, max_checkpoints=2,
                                            verbose=1)
    assert [str(w.message) for w in caught] == MX["checkpoint_auto_mode_warning"]
    est.fit(train, batches=7, event_handlers=[handler])
    assert sorted(os.listdir(model_dir)) == MX["checkpoint_files"]
    assert mx.sym.load(os.path.join(model_dir, "m-symbol.json")).list_arguments() == MX["checkpoint_symbol_args"]
    assert [line.replace(model_dir, "DIR") for line in _scrub(stream.getvalue()).splitlines()
            if "Checkpoint" in line] == MX["checkpoint_log"]
    # the newest checkpoint is gluon's save_parameters file (structural names) of the net after 6 batches
    saved = mx.nd.load(os.path.join(model_dir, "m-epoch1batch5.params"))
    assert sorted(saved) == ["0.bias", "0.weight", "1.bias", "1.weight"]
    net = _net()
    net.load_parameters(os.path.join(model_dir, "m-epoch1batch5.params"))
    assert not np.array_equal(net[0].weight.data().asnumpy(), ARRAYS["w0"])

    est2, stream2 = _estimator(_net())
    resume = est_mod.CheckpointHandler(model_dir, model_prefix="m", epoch_period=None, batch_period=2,
                                       resume_from_checkpoint=True)
    est2.fit(train, batches=7, event_handlers=[resume])
    assert {"trained_epoch": resume.trained_epoch, "trained_batch": resume.trained_batch,
            "max_batch_after": est2.max_batch, "files": sorted(os.listdir(model_dir)),
            "log": [line for line in stream2.getvalue().splitlines() if "Checkpoint" in line]} == MX["resume"]
    # the resumed run started from the checkpoint's parameters: one more batch after them changes them
    assert not np.array_equal(est2.net.collect_params()["net_dense0_weight"].data().asnumpy(),
                              ARRAYS["w0"])


def test_validation_handler_periods_and_stopping_handler():
    train, val = _loaders()
    est, _ = _estimator(_net())
    calls = []
    handler = est_mod.ValidationHandler(val, lambda **kw: calls.append(sorted(kw)), epoch_period=2, batch_period=2)
    est.fit(train, epochs=3, event_handlers=[handler])
    # 9 batches: evaluated after batches 2, 4, 6, 8 and after epoch 2
    assert len(calls) == 5 and calls[0] == ["batch_axis", "event_handlers", "val_data"]
    stopper = est_mod.StoppingHandler(max_batch=2)
    est.fit(train, batches=2, event_handlers=[stopper])
    assert stopper.current_batch == 2 and stopper.stop_training


def test_gradient_update_handler_steps_with_the_summed_batch_size():
    class Trainer:
        def __init__(self):
            self.steps = []

        def step(self, batch_size):
            self.steps.append(batch_size)

    est = type("E", (), {"trainer": Trainer()})()
    est_mod.GradientUpdateHandler().batch_end(est, loss=[mx.nd.ones(3), mx.nd.ones(2)])
    est_mod.GradientUpdateHandler().batch_end(est, loss=mx.nd.ones(4))
    assert est.trainer.steps == [5, 4]


def test_custom_batch_processor_is_used():
    train, _ = _loaders()
    seen = []

    class Processor(est_mod.BatchProcessor):
        def fit_batch(self, estimator, train_batch, batch_axis=0):
            seen.append(train_batch[0].shape[0])
            return super().fit_batch(estimator, train_batch, batch_axis)

    est, _ = _estimator(_net(), batch_processor=Processor())
    est.fit(train, batches=3)
    assert seen == [4, 4, 2]


# -- names and signatures ----------------------------------------------------------------------------------------

ESTIMATOR_MODULES = [m for m in MODULES if m.startswith("gluon.contrib.estimator")]


@pytest.mark.parametrize("module", ESTIMATOR_MODULES)
def test_names_and_signatures_match_mxnet(module):
    from tests.test_modules_more import check_module_against_mxnet
    check_module_against_mxnet(module, MODULES[module])


def test_package_exports_mxnet_names():
    names = ["Estimator", "BatchProcessor", "TrainBegin", "TrainEnd", "EpochBegin", "EpochEnd", "BatchBegin",
             "BatchEnd", "StoppingHandler", "MetricHandler", "ValidationHandler", "LoggingHandler",
             "CheckpointHandler", "EarlyStoppingHandler", "GradientUpdateHandler"]
    assert all(inspect.isclass(getattr(est_mod, n)) for n in names)
    assert mx.gluon.contrib.estimator is est_mod
